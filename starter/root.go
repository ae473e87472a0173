package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"
	"golang.org/x/term"

	"github.com/dcrflow/dcrflow/config"
	"github.com/dcrflow/dcrflow/internal/logging"
	"github.com/dcrflow/dcrflow/internal/textsafe"
	"github.com/dcrflow/dcrflow/internal/wiring"
)

// Exit codes, the same for every command.
const (
	exitOK      = 0 // done: everything went through
	exitFailed  = 1 // something failed: a portal, the connection, the configuration
	exitUsage   = 2 // bad usage or input: an unknown word or flag, a wrong onboarding file
	exitChanges = 3 // plan --detailed-exitcode: no problems, but a run would change something
)

const exitCodesHelp = `Exit codes:
  0  done
  1  something failed (a portal, an offboarding, the configuration, the connection)
  2  bad usage or input: an unknown command, word or flag, a wrong onboarding file;
     nothing was started
  3  plan --detailed-exitcode: no problems, but a run would change something`

// cliError carries the exit code of a failed command.
type cliError struct {
	code int
	err  error
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &cliError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

func failed(err error) error {
	if err == nil {
		return nil
	}
	var ce *cliError
	if errors.As(err, &ce) {
		return err
	}
	return &cliError{code: exitFailed, err: err}
}

func withCode(code int, err error) error { return &cliError{code: code, err: err} }

// app is one invocation: where it writes and its global flags.
type app struct {
	stdout, stderr io.Writer
	stdoutTTY      bool
	stdoutFD       int // -1 when stdout is not a file

	configPath, profile, temporalConfig string
	output, ui                          string
	jsonOut                             bool
}

// execute runs the command line args and returns the exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, stdoutFD: -1}
	if f, ok := stdout.(*os.File); ok {
		a.stdoutFD = int(f.Fd())
		a.stdoutTTY = term.IsTerminal(a.stdoutFD)
	}
	root := a.rootCommand()
	if cmd, err := singleDashLongFlag(root, args); err != nil {
		a.printError(cmd, err, exitUsage)
		return exitUsage
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	code := exitUsage // what cobra itself refuses (unknown command, missing flag) is usage
	var ce *cliError
	if errors.As(err, &ce) {
		code = ce.code
	}
	a.printError(cmd, err, code)
	return code
}

// printError writes the error to stderr: one JSON object with -o json, else text and,
// for usage errors, where to find help.
func (a *app) printError(cmd *cobra.Command, err error, code int) {
	if a.jsonOut || wantsJSON(cmd) {
		b, _ := json.Marshal(map[string]any{"type": "error", "error": err.Error(), "exit_code": code})
		fmt.Fprintln(a.stderr, string(b))
		return
	}
	fmt.Fprintln(a.stderr, "dcrflow:", err)
	if code == exitUsage && cmd != nil {
		fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
}

// wantsJSON reads -o from a command whose flags may not have been validated.
func wantsJSON(cmd *cobra.Command) bool {
	if cmd == nil {
		return false
	}
	f := cmd.Flags().Lookup("output")
	return f != nil && f.Value.String() == "json"
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "dcrflow",
		Short: "Onboard Kong Konnect Dev Portals to Okta DCR, as durable Temporal workflows",
		Long: `dcrflow onboards Kong Konnect Dev Portals to Okta Dynamic Client Registration: it reads
an onboarding file, checks all of it before anything starts, and starts (or attaches
to), plans, watches and offboards its portals' workflows on Temporal. A dcrflow worker,
which alone holds the Okta and Konnect tokens, runs them.

How to reach Temporal, lowest layer first: built-in defaults (127.0.0.1:7233,
namespace default, task queue dcrflow); the Temporal CLI's configuration
(temporal.toml profile --profile or TEMPORAL_PROFILE; TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*); dcrflow's --config file; DCRFLOW_*
variables; the flags below.

` + exitCodesHelp,
		Example: `  dcrflow plan -f portals.yaml                 # what a run would do; writes nothing
  dcrflow onboard -f portals.yaml --wait       # onboard every portal, watch, then a table
  dcrflow status -f portals.yaml -o json       # where the runs stand, as JSON lines
  dcrflow decide retry --portal payments       # a held portal: run its failed step again`,
		SilenceErrors:              true,
		SilenceUsage:               true,
		SuggestionsMinimumDistance: 2,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			switch a.output {
			case "text":
			case "json":
				a.jsonOut = true
			default:
				return usageErr("-o/--output %q: want text or json", a.output)
			}
			return nil
		},
	}
	root.CompletionOptions.HiddenDefaultCmd = false
	pf := root.PersistentFlags()
	pf.StringVarP(&a.output, "output", "o", "text", "output format: text, or json (one JSON object per line; live progress too)")
	pf.StringVar(&a.configPath, "config", "", "dcrflow's config file (YAML): temporal.*, codec.*, log.*; DCRFLOW_* variables override it")
	pf.StringVar(&a.profile, "profile", "", "profile of the Temporal CLI's configuration (temporal.toml) to connect with (default: $TEMPORAL_PROFILE, else default)")
	pf.StringVar(&a.temporalConfig, "temporal-config", "", "the Temporal CLI's configuration file (default: $TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml)")
	pf.String("address", "", "Temporal frontend host:port (temporal.address; default 127.0.0.1:7233)")
	pf.StringP("namespace", "n", "", "Temporal namespace (temporal.namespace; default default)")
	pf.String("task-queue", "", "the dcrflow workers' task queue (temporal.task_queue; default dcrflow)")
	pf.String("api-key", "", "Temporal Cloud API key (temporal.api_key); better: TEMPORAL_API_KEY or DCRFLOW_TEMPORAL_API_KEY_FILE")
	pf.Bool("tls", false, "connect to Temporal with TLS (temporal.tls.enabled)")
	pf.String("tls-cert-path", "", "client certificate for mTLS, PEM (temporal.tls.cert_file)")
	pf.String("tls-key-path", "", "client private key for mTLS, PEM (temporal.tls.key_file)")
	pf.String("tls-ca-path", "", "CA certificates to trust, PEM (temporal.tls.ca_file)")
	pf.String("tls-server-name", "", "the server name to verify (temporal.tls.server_name)")
	pf.String("log-level", "", "debug, info, warn or error (log.level; default warn)")
	pf.String("log-format", "", "auto (console on a terminal, else JSON), console or json (log.format)")
	pf.StringVar(&a.ui, "ui", "http://localhost:8233", "Temporal UI base URL for links in reports (empty: none)")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = root.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"auto", "console", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = root.RegisterFlagCompletionFunc("log-level", cobra.FixedCompletions(config.LogLevels, cobra.ShellCompDirectiveNoFileComp))
	_ = root.MarkPersistentFlagFilename("config", "yaml", "yml")
	_ = root.MarkPersistentFlagFilename("temporal-config", "toml")
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(a.onboardCommand(), a.planCommand(), a.offboardCommand(), a.statusCommand(),
		a.decideCommand(), a.versionCommand(), a.doctorCommand(), a.checkCommand(), a.scheduleCommand(), a.rotateCommand())
	return root
}

// flagBindings are the flags that set configuration keys.
var flagBindings = map[string]string{
	"temporal.address": "address", "temporal.namespace": "namespace", "temporal.task_queue": "task-queue",
	"temporal.api_key": "api-key", "temporal.tls.enabled": "tls", "temporal.tls.cert_file": "tls-cert-path",
	"temporal.tls.key_file": "tls-key-path", "temporal.tls.ca_file": "tls-ca-path",
	"temporal.tls.server_name": "tls-server-name", "log.level": "log-level", "log.format": "log-format",
	"schedule.every": "every", "schedule.heal": "heal",
}

// loadConfig reads the layered configuration of cmd's invocation.
func (a *app) loadConfig(cmd *cobra.Command) (config.Starter, error) {
	flags := map[string]*pflag.Flag{}
	for key, name := range flagBindings {
		flags[key] = cmd.Flags().Lookup(name)
	}
	cfg, err := config.LoadStarter(a.configPath, config.WithTemporalProfile(a.profile, a.temporalConfig), config.WithFlags(flags))
	if err != nil {
		return cfg, failed(err)
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(a.stderr, "dcrflow: warning:", w)
	}
	return cfg, nil
}

// connect reads the configuration and connects to Temporal.
func (a *app) connect(cmd *cobra.Command) (client.Client, config.Starter, error) {
	cfg, err := a.loadConfig(cmd)
	if err != nil {
		return nil, cfg, err
	}
	log, err := logging.NewFor(cfg.Log.Level, cfg.Log.Format, os.Stderr)
	if err != nil {
		return nil, cfg, failed(err)
	}
	opts, shutdown := tracingClientOptions(cmd.Context(), log)
	c, err := wiring.DialTemporal(cmd.Context(), cfg.Temporal, logging.Temporal(log), cfg.Codec.PayloadCodec(), opts...)
	if err != nil {
		shutdown()
		return nil, cfg, failed(err)
	}
	return &closingClient{Client: c, after: shutdown}, cfg, nil
}

// closingClient also flushes tracing when closed.
type closingClient struct {
	client.Client
	after func()
}

func (c *closingClient) Close() {
	c.Client.Close()
	c.after()
}

// noStrayArgs refuses any word after a command that takes none, suggesting what was
// probably meant: a stray word must never be ignored (it may be a command the user
// thought would run instead).
func noStrayArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	word := args[0]
	msg := fmt.Sprintf("%s takes no arguments, only flags; unexpected %q", cmd.CommandPath(), word)
	switch root := cmd.Root(); {
	case findCommand(root, word) != nil:
		msg += fmt.Sprintf(": %q is a command of its own; run 'dcrflow %s ...' instead (nothing was started)", word, word)
	case strings.HasSuffix(word, ".yaml") || strings.HasSuffix(word, ".yml"):
		msg += fmt.Sprintf(": did you mean -f %s?", word)
	default:
		if s := root.SuggestionsFor(word); len(s) > 0 {
			msg += fmt.Sprintf(": did you mean the command %q?", s[0])
		}
	}
	return usageErr("%s", msg)
}

func findCommand(root *cobra.Command, name string) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}

// flagError turns pflag's errors into usage errors with a suggestion: -wait (one dash)
// is --wait; --wiat is probably --wait.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	var name string
	switch {
	case strings.HasPrefix(msg, "unknown shorthand flag: "):
		// "unknown shorthand flag: 'w' in -wait"
		if i := strings.LastIndex(msg, " in -"); i >= 0 {
			name = msg[i+len(" in -"):]
			name, _, _ = strings.Cut(name, "=")
			if f := cmd.Flags().Lookup(name); f != nil {
				return usageErr("%s: long flags take two dashes: --%s", msg, name)
			}
		}
	case strings.HasPrefix(msg, "unknown flag: --"):
		name = strings.TrimPrefix(msg, "unknown flag: --")
	}
	if name != "" {
		best, dist := "", 3
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if d := textsafe.EditDistance(name, f.Name); d < dist {
				best, dist = f.Name, d
			}
		})
		if best != "" {
			return usageErr("%s: did you mean --%s?", msg, best)
		}
	}
	return usageErr("%s", msg)
}

// singleDashLongFlag refuses -file, -wait, -portal (the old starter's style): pflag
// would read -portal as -p ortal, or fail on the letters of -wait one by one.
func singleDashLongFlag(root *cobra.Command, args []string) (*cobra.Command, error) {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		cmd = root
	}
	for _, arg := range args {
		if arg == "--" {
			break
		}
		if len(arg) < 3 || arg[0] != '-' || arg[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(arg[1:], "=")
		if f := cmd.Flags().Lookup(name); f != nil || cmd.InheritedFlags().Lookup(name) != nil {
			return cmd, fmt.Errorf("%s: long flags take two dashes: --%s", arg, arg[1:])
		}
	}
	return cmd, nil
}

// emit writes v as one JSON line on stdout.
func (a *app) emit(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return failed(err)
	}
	_, err = fmt.Fprintln(a.stdout, string(b))
	return err
}

// printf writes text output.
func (a *app) printf(format string, args ...any) {
	fmt.Fprintf(a.stdout, format, args...)
}
