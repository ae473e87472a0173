package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/sandbox/faults"
)

// cliResult is one run of the dcrflow binary.
type cliResult struct {
	stdout, stderr string
	code           int
}

// cliRunner runs the dcrflow binary from the module root with env (and nothing else
// of dcrflow's or Temporal's settings), bounded by two minutes.
func cliRunner(t *testing.T, bin string) func(env []string, args ...string) cliResult {
	return func(env []string, args ...string) cliResult {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = ".."
		cmd.Env = env
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if ctx.Err() != nil {
			t.Fatalf("dcrflow %v: still running after 2 min\n%s%s", args, stdout.String(), stderr.String())
		}
		if _, ok := err.(*exec.ExitError); err != nil && !ok {
			t.Fatalf("dcrflow %v: %v", args, err)
		}
		return cliResult{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
	}
}

// cliEnv is the test's environment without any DCRFLOW_ or TEMPORAL_ setting (but the
// dev server's binary), with HOME in dir so that no temporal.toml of the machine counts.
func cliEnv(dir string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if (strings.HasPrefix(k, "DCRFLOW_") || strings.HasPrefix(k, "TEMPORAL_") || k == "HOME" || k == "XDG_CONFIG_HOME") && k != devserver.EnvBinary {
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, ".config")), extra...)
}

// jsonLines parses every line of out as one JSON object; anything else fails the test.
func jsonLines(t *testing.T, what, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%s: a line of -o json is not a JSON object: %q (%v)\n%s", what, l, err, out)
		}
		lines = append(lines, m)
	}
	return lines
}

func ofType(lines []map[string]any, typ string) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["type"] == typ {
			out = append(out, l)
		}
	}
	return out
}

const cliFleetFile = `defaults: {auth_server: default, dcr_token: default}
portals:
  - name: partners
    auth_server: partners
    scopes: ["partners:read"]
    apis: [orders-api, inventory-api]
  - name: public
    scopes: ["public:read"]
    apis: [customers-api, notifications-api]
`

const cliHeldFile = `portals:
  - name: heldp
    portal: europe
    scopes: ["held:read"]
    apis: [invoices-api]
    on_failure: hold
`

// Every subcommand of the dcrflow binary, end to end on a dev server with the worker
// binary and the sandbox: wrong words and flags refused (exit 2) with nothing started;
// help and exit codes; -o json parsed; onboard (portals and fleet), plan, status,
// decide, offboard, version, completion; Temporal's own settings (TEMPORAL_*,
// temporal.toml profiles) beneath dcrflow's.
func TestCLI_EverySubcommandThroughTheBinary(t *testing.T) {
	const tq = "cli"
	rig := startCLIRig(t, tq)
	dir, bin, srv, sb, addr := rig.dir, rig.bin, rig.srv, rig.sb, rig.addr
	env := cliEnv(dir, "DCRFLOW_TEMPORAL_ADDRESS="+addr, "DCRFLOW_TEMPORAL_TASK_QUEUE="+tq)
	run := cliRunner(t, bin)
	dcrflow := func(args ...string) cliResult { t.Helper(); return run(env, args...) }
	const here = "TaskQueue = '" + tq + "'"
	fleetFile, heldFile := filepath.Join(dir, "fleet.yaml"), filepath.Join(dir, "held.yaml")
	os.WriteFile(fleetFile, []byte(cliFleetFile), 0o644)
	os.WriteFile(heldFile, []byte(cliHeldFile), 0o644)

	// Wrong usage: exit 2, a message with what was probably meant, nothing started.
	usage := []struct {
		args []string
		want string
	}{
		{[]string{"onboard", "-f", "examples/portals.yaml", "plan"}, `"plan" is a command of its own`},
		{[]string{"onboard", "-f", "examples/portals.yaml", "--wait", "status"}, `"status" is a command of its own`},
		{[]string{"onboard", "examples/portals.yaml"}, "did you mean -f examples/portals.yaml?"},
		{[]string{"onboard", "-f", "examples/portals.yaml", "-wait"}, "long flags take two dashes: --wait"},
		{[]string{"onboard", "-f", "examples/portals.yaml", "-portal", "payments"}, "long flags take two dashes: --portal"},
		{[]string{"onboard", "-f", "examples/portals.yaml", "--wiat"}, "did you mean --wait?"},
		{[]string{"onboard", "--wait"}, "-f/--file is required"},
		{[]string{"onboard", "-f", "examples/portals.yaml", "--portal", "nope"}, `"nope" is not in the onboarding file`},
		{[]string{"onboard", "-f", "e2e/no-such-file.yaml"}, "no-such-file.yaml"},
		{[]string{"onboard", "-f", "examples/portals.yaml", "--max-concurrent", "0"}, "want a number above 0"},
		{[]string{"onboard", "-f", "examples/portals.yaml", "--start-interval", "-1s"}, "--start-interval -1s: want a duration from 0 to 10m0s, e.g. 1s"},
		{[]string{"onboard", "-f", "examples/portals.yaml", "--start-interval", "1s", "--portal", "payments"}, "with --portal every named portal starts at once"},
		{[]string{"onboard", "-f", "examples/portals.yaml", "--start-interval", "soon"}, `invalid argument "soon" for "--start-interval"`},
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"statsu"}, "Did you mean this?\n\tstatus"},
		{[]string{"status"}, "give -f FILE or --portal"},
		{[]string{"version", "now"}, `unexpected "now"`},
		{[]string{"decide", "retyr", "--portal", "payments"}, "did you mean retry?"},
		{[]string{"decide", "retry"}, "needs --portal"},
		{[]string{"-o", "yaml", "version"}, `-o/--output "yaml": want text or json`},
		{[]string{"plan", "-f", "examples/portals.yaml", "offboard"}, `"offboard" is a command of its own`},
	}
	for _, u := range usage {
		r := dcrflow(u.args...)
		if r.code != 2 || !strings.Contains(r.stderr, u.want) || r.stdout != "" {
			t.Errorf("dcrflow %v: exit %d, want 2 and %q on stderr:\nstdout: %s\nstderr: %s", u.args, r.code, u.want, r.stdout, r.stderr)
		}
	}
	// -o json: the error too is one JSON object, with the exit code.
	r := dcrflow("onboard", "-f", "examples/portals.yaml", "-o", "json", "plan")
	if e := jsonLines(t, "stray word, -o json", r.stderr); r.code != 2 || len(e) != 1 || e[0]["type"] != "error" || e[0]["exit_code"] != 2.0 {
		t.Errorf("stray word with -o json: exit %d: %s", r.code, r.stderr)
	}
	if n := countWorkflows(t, srv.Client(), here); n != 0 {
		t.Fatalf("wrong usage started %d workflow(s) (preflight included)", n)
	}

	// Help: every command, with examples and the exit codes.
	if r := dcrflow(); r.code != 0 || !strings.Contains(r.stdout, "Available Commands") {
		t.Errorf("dcrflow alone: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	root := dcrflow("--help")
	for _, c := range []string{"onboard", "plan", "offboard", "status", "decide", "version", "completion"} {
		if !strings.Contains(root.stdout, "\n  "+c+" ") {
			t.Errorf("dcrflow --help does not list %s:\n%s", c, root.stdout)
		}
		h := dcrflow(c, "--help")
		if h.code != 0 || !strings.Contains(h.stdout, "Usage:") {
			t.Errorf("dcrflow %s --help: exit %d:\n%s%s", c, h.code, h.stdout, h.stderr)
		}
		if c != "completion" && (!strings.Contains(h.stdout, "Examples:") || !strings.Contains(h.stdout, "dcrflow "+c)) {
			t.Errorf("dcrflow %s --help has no examples:\n%s", c, h.stdout)
		}
		if c != "completion" && c != "version" && !strings.Contains(h.stdout, "3  plan --detailed-exitcode") {
			t.Errorf("dcrflow %s --help does not document the exit codes:\n%s", c, h.stdout)
		}
	}
	if r := dcrflow("completion", "bash"); r.code != 0 || !strings.Contains(r.stdout, "__start_dcrflow") {
		t.Errorf("completion bash: exit %d: %.200s", r.code, r.stdout)
	}
	r = dcrflow("version", "-o", "json")
	if v := jsonLines(t, "version", r.stdout); r.code != 0 || len(v) != 1 || v[0]["type"] != "version" || v[0]["temporal_sdk"] != "v1.51.0" || v[0]["version"] == "" {
		t.Errorf("version -o json: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}

	// plan: exit 3 with --detailed-exitcode while a run would change something.
	r = dcrflow("plan", "-f", "examples/portals.yaml", "--portal", "payments", "--detailed-exitcode", "-o", "json", "--max-concurrent", "1")
	p := jsonLines(t, "plan", r.stdout)
	if r.code != 3 || len(p) != 1 || p[0]["type"] != "plan" || p[0]["with_changes"] != 1.0 || p[0]["with_problems"] != 0.0 {
		t.Fatalf("plan before the run: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}

	// onboard --portal: started, then the result, as JSON lines.
	r = dcrflow("onboard", "-f", "examples/portals.yaml", "--portal", "payments", "--wait", "-o", "json")
	lines := jsonLines(t, "onboard --portal", r.stdout)
	if res := ofType(lines, "result"); r.code != 0 || len(ofType(lines, "started")) != 1 || len(res) != 1 || res[0]["succeeded"] != true ||
		res[0]["workflow_id"] != "dcrflow-onboard-payments" || lines[0]["type"] != "started" {
		t.Fatalf("onboard --portal payments: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := dcrflow("plan", "-f", "examples/portals.yaml", "--portal", "payments", "--detailed-exitcode", "--max-concurrent", "1"); r.code != 0 ||
		!strings.Contains(r.stdout, "portal payments") {
		t.Errorf("plan right after the run: exit %d, want 0:\n%s%s", r.code, r.stdout, r.stderr)
	}

	// onboard a fleet: started, progress while it runs, then the fleet's result.
	r = dcrflow("onboard", "-f", fleetFile, "--wait", "-o", "json")
	lines = jsonLines(t, "onboard fleet", r.stdout)
	fr := ofType(lines, "fleet_result")
	if r.code != 0 || lines[0]["type"] != "started" || lines[0]["kind"] != "fleet" || lines[0]["workflow_id"] != "dcrflow-fleet-fleet" ||
		len(ofType(lines, "progress")) == 0 || len(fr) != 1 {
		t.Fatalf("onboard fleet: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if sum := fr[0]["summary"].(map[string]any); sum["succeeded_count"] != float64(2) {
		t.Errorf("fleet summary: %v", sum)
	}

	// status: text and JSON.
	r = dcrflow("status", "-f", fleetFile, "-o", "json")
	st := jsonLines(t, "status", r.stdout)
	if r.code != 0 || len(st) != 1 || st[0]["type"] != "status" || st[0]["fleet"] == nil {
		t.Fatalf("status -o json: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, row := range st[0]["portals"].([]any) {
		if row := row.(map[string]any); row["outcome"] != "succeeded" || row["started"] != true {
			t.Errorf("status row %v", row)
		}
	}
	if r := dcrflow("status", "--portal", "payments,nobody"); r.code != 0 || !regexpMatch(`payments\s+succeeded`, r.stdout) || !regexpMatch(`nobody\s+not started`, r.stdout) {
		t.Errorf("status --portal: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}

	// decide: refused on a portal that is not held; a held one retried to success.
	if r := dcrflow("decide", "retry", "--portal", "payments"); r.code != 1 || !strings.Contains(r.stderr, "is not held") {
		t.Errorf("decide on a portal not held: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	addFault(t, sb, faults.Fault{Method: "POST", Path: "/v2/application-auth-strategies", Status: 403, Count: 1})
	if r := dcrflow("onboard", "-f", heldFile, "--portal", "heldp"); r.code != 0 {
		t.Fatalf("onboard heldp: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	waitFor(t, 60*time.Second, "heldp to hold", func() bool {
		p, err := launcher.PortalProgress(context.Background(), srv.Client(), "heldp")
		return err == nil && p.Held != nil
	})
	r = dcrflow("decide", "retry", "--portal", "heldp", "--wait", "-o", "json")
	lines = jsonLines(t, "decide", r.stdout)
	if res := ofType(lines, "result"); r.code != 0 || len(ofType(lines, "decided")) != 1 || len(res) != 1 || res[0]["succeeded"] != true {
		t.Fatalf("decide retry --wait: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}

	// offboard: one result per portal.
	r = dcrflow("offboard", "-f", fleetFile, "--wait", "-o", "json")
	lines = jsonLines(t, "offboard", r.stdout)
	if res := ofType(lines, "offboard_result"); r.code != 0 || len(res) != 2 || res[0]["succeeded"] != true || res[1]["succeeded"] != true {
		t.Fatalf("offboard: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Temporal's own settings, beneath dcrflow's: TEMPORAL_* variables and the
	// temporal CLI's profiles; dcrflow's variables, then flags, win over them.
	toml := filepath.Join(dir, "temporal.toml")
	os.WriteFile(toml, []byte("[profile.default]\naddress = \""+addr+"\"\nnamespace = \"nosuchns\"\n\n[profile.dev]\naddress = \""+addr+"\"\nnamespace = \"default\"\n"), 0o600)
	status := func(env []string, args ...string) cliResult {
		t.Helper()
		return run(env, append([]string{"status", "--portal", "payments", "-o", "json"}, args...)...)
	}
	ok := func(what string, r cliResult) {
		t.Helper()
		if rows := jsonLines(t, what, r.stdout); r.code != 0 || !strings.Contains(r.stdout, `"outcome":"succeeded"`) || len(rows) != 1 {
			t.Errorf("%s: exit %d, want the status of payments:\n%s%s", what, r.code, r.stdout, r.stderr)
		}
	}
	refused := func(what string, r cliResult, want string) {
		t.Helper()
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("%s: exit %d, want 1 and %q:\n%s%s", what, r.code, want, r.stdout, r.stderr)
		}
	}
	ok("TEMPORAL_ADDRESS", status(cliEnv(dir, "TEMPORAL_ADDRESS="+addr)))
	refused("TEMPORAL_NAMESPACE", status(cliEnv(dir, "TEMPORAL_ADDRESS="+addr, "TEMPORAL_NAMESPACE=fromenv")), `no namespace \"fromenv\"`)
	ok("DCRFLOW_TEMPORAL_NAMESPACE over TEMPORAL_NAMESPACE", status(cliEnv(dir, "TEMPORAL_ADDRESS="+addr, "TEMPORAL_NAMESPACE=fromenv", "DCRFLOW_TEMPORAL_NAMESPACE=default")))
	refused("--namespace over DCRFLOW_TEMPORAL_NAMESPACE", status(cliEnv(dir, "TEMPORAL_ADDRESS="+addr, "DCRFLOW_TEMPORAL_NAMESPACE=default"), "--namespace", "fromflag"), `no namespace \"fromflag\"`)
	refused("the default profile", status(cliEnv(dir, "TEMPORAL_CONFIG_FILE="+toml)), `no namespace \"nosuchns\"`)
	ok("--profile dev", status(cliEnv(dir, "TEMPORAL_CONFIG_FILE="+toml), "--profile", "dev"))
	ok("TEMPORAL_PROFILE=dev", status(cliEnv(dir, "TEMPORAL_CONFIG_FILE="+toml, "TEMPORAL_PROFILE=dev")))
	ok("--temporal-config and --profile", status(cliEnv(dir), "--temporal-config", toml, "--profile", "dev"))
	refused("--profile missing", status(cliEnv(dir, "TEMPORAL_CONFIG_FILE="+toml), "--profile", "missing"), "unable to find profile missing")
	os.MkdirAll(filepath.Join(dir, ".config", "temporalio"), 0o700)
	os.WriteFile(filepath.Join(dir, ".config", "temporalio", "temporal.toml"), []byte("[profile.dev]\naddress = \""+addr+"\"\n"), 0o600)
	ok("~/.config/temporalio/temporal.toml", status(cliEnv(dir), "--profile", "dev"))

	// Wrong usage still starts nothing once workflows exist (the count sees them).
	before := countWorkflows(t, srv.Client(), here)
	if before == 0 {
		t.Fatal("the count sees no workflow after onboarding: it would prove nothing")
	}
	if r := dcrflow("onboard", "-f", fleetFile, "plan"); r.code != 2 {
		t.Errorf("stray word: exit %d", r.code)
	}
	time.Sleep(time.Second)
	if after := countWorkflows(t, srv.Client(), here); after != before {
		t.Errorf("a stray word started %d workflow(s)", after-before)
	}
}
