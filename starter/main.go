// Command starter validates an onboarding file and starts one onboarding workflow per
// portal (attaching to any already running), optionally waiting for the outcomes;
// sends an operator's decision to held portals; plans a file without writing; or
// offboards its portals.
//
//	starter -f portals.yaml [-wait] [-max-concurrent 10]    one fleet workflow, a child per portal
//	starter -f portals.yaml -portal payments,partners [-wait]  one workflow per named portal
//	starter -f portals.yaml -status                           where a file's runs stand
//	starter -decide retry|abandon -portal payments [-wait]
//	starter plan -f portals.yaml [-json] [-portal payments] [-detailed-exitcode]   what a run would do; writes nothing
//	starter offboard -f portals.yaml [-portal payments] [-wait]  remove what dcrflow made for them
//	starter doctor -config worker.yaml [-f portals.yaml] [-o json]   read-only checks against the real orgs
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/config"
	"github.com/dcrflow/dcrflow/internal/logging"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/onboarding"
)

func main() {
	code, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starter:", err)
	}
	os.Exit(code)
}

func run() (int, error) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "plan":
			return planFile(os.Args[2:])
		case "offboard":
			return offboardFile(os.Args[2:])
		case "doctor":
			return doctorCmd(os.Args[2:])
		}
	}
	file := flag.String("f", "", "onboarding file (YAML), required")
	only := flag.String("portal", "", "comma-separated portal names: start only these")
	wait := flag.Bool("wait", false, "wait for every portal and print its outcome")
	configPath := flag.String("config", "", "config file (YAML) with temporal.* (address, namespace, task_queue, tls, api_key) and codec keys; DCRFLOW_* override it")
	uiURL := flag.String("ui", "http://localhost:8233", "Temporal UI base URL for links in the report (empty: none)")
	decide := flag.String("decide", "", "retry or abandon: the decision for held portals named by -portal")
	maxConcurrent := flag.Int("max-concurrent", 10, "fleet: portals onboarded at once")
	fleetName := flag.String("fleet", "", "fleet name (default: the file's base name)")
	status := flag.Bool("status", false, "show where the runs of the file (or -portal) stand, then exit")
	flag.Parse()
	if *decide != "" {
		return decideHeld(*configPath, *decide, *only, *wait, *uiURL)
	}
	if *file == "" {
		return 2, fmt.Errorf("-f is required: the onboarding file to apply")
	}

	specs, err := onboarding.Load(*file)
	if err != nil {
		return 2, err
	}
	if specs, err = pick(specs, *only); err != nil {
		return 2, err
	}
	c, cfg, err := dial(*configPath)
	if err != nil {
		return 1, err
	}
	defer c.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ui := uiBase(*uiURL, cfg.Temporal.Namespace)
	name := *fleetName
	if name == "" {
		name = launcher.FleetName(*file)
	}
	if *status {
		return 0, launcher.Status(ctx, c, os.Stdout, name, keys(specs), *only == "")
	}
	if *only == "" {
		// A fleet asks the worker in its own first step (no workflow of its own).
		if err := launcher.CheckOffboarding(ctx, c, *file, specs); err != nil {
			return 2, err
		}
	} else if err := launcher.Preflight(ctx, c, cfg.Temporal.TaskQueue, *file, specs); err != nil {
		return 2, err
	}
	sa, err := launcher.SearchAttributesRegistered(ctx, c, cfg.Temporal.Namespace)
	if err != nil {
		return 1, err
	}
	specs = launcher.WithSearchAttributes(specs, sa)
	if *only == "" {
		return runFleet(ctx, c, cfg.Temporal.TaskQueue, *file, dcrflow.FleetInput{Name: name, Portals: specs, MaxConcurrent: *maxConcurrent}, *wait, ui)
	}
	runs, err := launcher.Start(ctx, c, cfg.Temporal.TaskQueue, specs)
	for _, r := range runs {
		fmt.Printf("started %s: workflow %s (run %s)\n", r.Portal, r.WorkflowID, r.RunID)
	}
	if err != nil {
		return 1, err
	}
	if !*wait {
		return 0, nil
	}
	return report(ctx, runs, ui)
}

// planFile is `starter plan`: the dry run of a file (or some of its portals) on a
// worker, printed as a table per portal or as JSON. Exit 0: the run would go
// through; 1: some portal has problems (a conflict, something missing) or the plan
// could not be made; 2: the file or the flags are wrong; with -detailed-exitcode, 3:
// no problems, but a run would change something (create, publish, republish) — so a
// plan right after a run is an audit: 0 for every portal that is fully onboarded.
func planFile(args []string) (int, error) {
	cmd := newFileCommand("plan", "onboarding file (YAML), required", "plan only these", "plan name, in its workflow id (default: the file's base name)")
	asJSON := cmd.fs.Bool("json", false, "print the plans as JSON")
	detailed := cmd.fs.Bool("detailed-exitcode", false, fmt.Sprintf("exit %d when a run would change something (and there are no problems)", exitPlanChanges))
	maxConcurrent := cmd.fs.Int("max-concurrent", 10, "portals looked up at once")
	s, code, err := cmd.open(args, "the onboarding file to plan")
	if err != nil {
		return code, err
	}
	defer s.close()
	ctx, c, cfg, specs, name := s.ctx, s.c, s.cfg, s.specs, s.name
	// A worker must answer (it alone can read Okta and Konnect); the DCR tokens it
	// lacks are problems of the plan, not a refusal.
	if err := launcher.Preflight(ctx, c, cfg.Temporal.TaskQueue, s.file, nil); err != nil {
		return 1, err
	}
	plans, err := launcher.Plan(ctx, c, cfg.Temporal.TaskQueue, name, specs, *maxConcurrent)
	if err != nil {
		return 1, err
	}
	if *asJSON {
		if err := launcher.PrintPlanJSON(os.Stdout, plans); err != nil {
			return 1, err
		}
	} else {
		launcher.PrintPlan(os.Stdout, plans)
	}
	if n := launcher.PlanProblems(plans); n > 0 {
		return 1, fmt.Errorf("plan: %d of %d portal(s) would fail", n, len(plans))
	}
	if n := launcher.PlanChanges(plans); n > 0 && *detailed {
		return exitPlanChanges, fmt.Errorf("plan: %d of %d portal(s) would change", n, len(plans))
	}
	return 0, nil
}

// exitPlanChanges is plan's exit code, with -detailed-exitcode, when a run would
// change something.
const exitPlanChanges = 3

// offboardFile is `starter offboard`: one OffboardPortal workflow per portal of the
// file (or -portal), refused while any of them is being onboarded. With -wait it
// offboards at most -max-concurrent at once, waits and prints what was deleted,
// unpublished, restored or kept and why; exit 1 when an offboarding failed. Without
// -wait it starts them all and exits.
func offboardFile(args []string) (int, error) {
	cmd := newFileCommand("offboard", "onboarding file (YAML), required: the portals to offboard", "offboard only these",
		"the file's fleet name (default: the file's base name), refused while it runs")
	wait := cmd.fs.Bool("wait", false, "wait for every portal and print what was removed and kept")
	maxConcurrent := cmd.fs.Int("max-concurrent", 10, "with -wait: portals offboarded at once")
	uiURL := cmd.fs.String("ui", "http://localhost:8233", "Temporal UI base URL for links in the report (empty: none)")
	s, code, err := cmd.open(args, "the onboarding file whose portals to offboard")
	if err != nil {
		return code, err
	}
	defer s.close()
	ctx, c, cfg, specs, name := s.ctx, s.c, s.cfg, s.specs, s.name
	inputs, err := launcher.PrepareOffboard(ctx, c, name, specs)
	if err != nil {
		return 1, err
	}
	if !*wait {
		for _, in := range inputs {
			r, err := launcher.StartOffboard(ctx, c, cfg.Temporal.TaskQueue, in)
			if err != nil {
				return 1, err
			}
			fmt.Printf("started offboarding of %s: workflow %s (run %s)\n", r.Portal, r.WorkflowID, r.RunID)
		}
		return 0, nil
	}
	outcomes := launcher.Offboard(ctx, c, cfg.Temporal.TaskQueue, inputs, *maxConcurrent)
	launcher.PrintOffboard(os.Stdout, outcomes, uiBase(*uiURL, cfg.Temporal.Namespace))
	if n := launcher.OffboardFailed(outcomes); n > 0 {
		return 1, fmt.Errorf("offboard: %d of %d portal(s) failed", n, len(outcomes))
	}
	return 0, nil
}

// runFleet starts (or attaches to) a fleet and, when asked, watches it to the end.
func runFleet(ctx context.Context, c client.Client, taskQueue, file string, in dcrflow.FleetInput, wait bool, ui string) (int, error) {
	specs := in.Portals
	f, err := launcher.StartFleet(ctx, c, taskQueue, in)
	if err != nil {
		return 1, err
	}
	if err := f.AwaitPreflight(ctx, file, specs); err != nil {
		return 2, err
	}
	verb := "started"
	if !f.Started {
		verb = "attached to running"
	}
	fmt.Printf("%s fleet %s: %d portal(s), workflow %s (run %s)\n", verb, in.Name, len(specs), f.WorkflowID, f.RunID)
	if !wait {
		return 0, nil
	}
	wctx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		launcher.Watch(wctx, c, in.Name, os.Stdout, isTerminal(os.Stdout), time.Second)
	}()
	sum, err := f.Wait(ctx)
	stopWatch()
	<-watched
	if err != nil {
		return 1, fmt.Errorf("fleet %s: %w", in.Name, err)
	}
	launcher.PrintFleet(os.Stdout, sum, ui, f.WorkflowID)
	if sum.Failed > 0 {
		return 1, fmt.Errorf("%d of %d portal(s) failed", sum.Failed, sum.Total)
	}
	return 0, nil
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func uiBase(uiURL, namespace string) string {
	if uiURL == "" {
		return ""
	}
	return strings.TrimSuffix(uiURL, "/") + "/namespaces/" + url.PathEscape(namespace)
}

func keys(specs []dcrflow.PortalSpec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Key
	}
	return out
}

// report waits for the runs and prints their outcome; exit 1 when any failed.
func report(ctx context.Context, runs []launcher.Run, ui string) (int, error) {
	outcomes := launcher.Wait(ctx, runs)
	fmt.Println()
	launcher.Print(os.Stdout, outcomes, ui)
	if n := launcher.Failed(outcomes); n > 0 {
		return 1, fmt.Errorf("%d of %d portal(s) failed", n, len(outcomes))
	}
	return 0, nil
}

// decideHeld sends a decision to each named held portal.
func decideHeld(configPath, decision, portals string, wait bool, uiURL string) (int, error) {
	if portals == "" {
		return 2, fmt.Errorf("-decide needs -portal: the held portal(s) to decide on")
	}
	c, cfg, err := dial(configPath)
	if err != nil {
		return 1, err
	}
	defer c.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var keys []string
	for _, k := range strings.Split(portals, ",") {
		k = strings.TrimSpace(k)
		if err := launcher.Decide(ctx, c, k, decision); err != nil {
			return 1, err
		}
		fmt.Printf("sent %s to %s\n", decision, k)
		keys = append(keys, k)
	}
	if !wait {
		return 0, nil
	}
	return report(ctx, launcher.Attach(c, keys), uiBase(uiURL, cfg.Temporal.Namespace))
}

// dial reads the starter's configuration and connects to Temporal.
func dial(configPath string) (client.Client, config.Starter, error) {
	cfg, err := config.LoadStarter(configPath)
	if err != nil {
		return nil, cfg, err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(os.Stderr, "starter: warning:", w)
	}
	log, err := logging.New("warn")
	if err != nil {
		return nil, cfg, err
	}
	c, err := cfg.Temporal.Dial(context.Background(), logging.Temporal(log), cfg.Codec.PayloadCodec())
	if err != nil {
		return nil, cfg, err
	}
	return c, cfg, nil
}

// pick keeps the portals named in a comma-separated list (all when empty).
func pick(specs []dcrflow.PortalSpec, only string) ([]dcrflow.PortalSpec, error) {
	if only == "" {
		return specs, nil
	}
	names := strings.Split(only, ",")
	var out []dcrflow.PortalSpec
	for _, n := range names {
		i := slices.IndexFunc(specs, func(s dcrflow.PortalSpec) bool { return s.Key == strings.TrimSpace(n) })
		if i < 0 {
			return nil, fmt.Errorf("-portal: %q is not in the onboarding file", n)
		}
		out = append(out, specs[i])
	}
	return out, nil
}

// fileCommand is what the subcommands share: -f (read and checked before anything
// else), -portal, -config and -fleet, then a Temporal connection.
type fileCommand struct {
	name                              string
	fs                                *flag.FlagSet
	file, only, configPath, fleetName *string
}

func newFileCommand(name, fileHelp, onlyHelp, fleetHelp string) *fileCommand {
	fs := flag.NewFlagSet("starter "+name, flag.ContinueOnError)
	return &fileCommand{name: name, fs: fs,
		file:       fs.String("f", "", fileHelp),
		only:       fs.String("portal", "", "comma-separated portal names: "+onlyHelp),
		configPath: fs.String("config", "", "config file (YAML), as for onboarding"),
		fleetName:  fs.String("fleet", "", fleetHelp),
	}
}

// session is an opened subcommand: its portals, connection and signal context.
type session struct {
	file, name string
	specs      []dcrflow.PortalSpec
	c          client.Client
	cfg        config.Starter
	ctx        context.Context
	close      func()
}

// open parses args, reads the file and connects. The exit code on failure: 2 for
// flags or the file, 1 for the connection.
func (fc *fileCommand) open(args []string, fileWhat string) (*session, int, error) {
	if err := fc.fs.Parse(args); err != nil {
		return nil, 2, err
	}
	if *fc.file == "" {
		return nil, 2, fmt.Errorf("%s: -f is required: %s", fc.name, fileWhat)
	}
	specs, err := onboarding.Load(*fc.file)
	if err != nil {
		return nil, 2, err
	}
	if specs, err = pick(specs, *fc.only); err != nil {
		return nil, 2, err
	}
	c, cfg, err := dial(*fc.configPath)
	if err != nil {
		return nil, 1, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	name := *fc.fleetName
	if name == "" {
		name = launcher.FleetName(*fc.file)
	}
	return &session{file: *fc.file, name: name, specs: specs, c: c, cfg: cfg, ctx: ctx,
		close: func() { stop(); c.Close() }}, 0, nil
}
