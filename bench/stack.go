package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/sandbox"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
)

// cleanups runs registered stops in reverse order, once.
type cleanups struct {
	mu  sync.Mutex
	fns []func()
}

func (c *cleanups) add(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, f)
}

func (c *cleanups) run() {
	c.mu.Lock()
	fns := c.fns
	c.fns = nil
	c.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// buildBinaries builds the worker and the sandbox from this tree into dir.
func buildBinaries(ctx context.Context, root, dir string) (worker, sb string, err error) {
	for _, pkg := range []string{"./worker", "./sandbox/cmd/sandbox"} {
		out := filepath.Join(dir, filepath.Base(pkg))
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	return filepath.Join(dir, "worker"), filepath.Join(dir, "sandbox"), nil
}

// rootModule is the repository's main module; the bench is a module of its own
// inside it (bench/go.mod), so that its plotting dependencies stay out of dcrflow's.
const rootModule = "github.com/dcrflow/dcrflow"

// moduleRoot is the nearest directory above the working directory whose go.mod is
// dcrflow's main module (the repository root), whether the bench runs from there or
// from bench/.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && modulePath(b) == rootModule {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod of %s above %s", rootModule, wd)
		}
	}
}

// modulePath is the module directive of a go.mod.
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// temporalServer is a dev server the bench started, with its pid for CPU readings.
type temporalServer struct {
	srv *testsuite.DevServer
	pid int
}

// startTemporal starts the Temporal CLI's dev server on free ports with dcrflow's
// search attributes, as internal/devserver does for the tests (which needs a
// testing.TB, hence the same options here).
func startTemporal(ctx context.Context, bin, logPath string) (*temporalServer, error) {
	return startTemporalAt(ctx, bin, logPath, "", "")
}

// startTemporalAt starts the dev server on hostPort (a free port when empty) with its
// database in dbFile (in memory when empty): the soak stops and restarts it there,
// keeping its state. The log is appended to.
func startTemporalAt(ctx context.Context, bin, logPath, hostPort, dbFile string) (*temporalServer, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	before := childrenOf(os.Getpid())
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  bin,
		ClientOptions: &client.Options{HostPort: hostPort, Namespace: "default", Logger: quietLogger()},
		DBFilename:    dbFile,
		LogLevel:      "error",
		SearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(dcrflow.SearchAttrPortal).ValueSet(""),
			temporal.NewSearchAttributeKeyKeyword(dcrflow.SearchAttrStep).ValueSet(""),
			temporal.NewSearchAttributeKeyKeyword(dcrflow.SearchAttrOutcome).ValueSet(""),
		),
		// Activities of a workflow task go back with its answer to the worker that
		// asked for them (eager activities; Temporal Cloud has it on), instead of a
		// round trip through the task queue each.
		ExtraArgs: []string{"--dynamic-config-value", "system.enableActivityEagerExecution=true"},
		Stdout:    logf,
		Stderr:    logf,
	})
	if err != nil {
		return nil, fmt.Errorf("start Temporal dev server (%s): %w", bin, err)
	}
	// The SDK keeps the process to itself: it is the bench's one new child running bin.
	pid := 0
	for p := range childrenOf(os.Getpid()) {
		if !before[p] {
			if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p)); filepath.Base(exe) == filepath.Base(bin) {
				pid = p
			}
		}
	}
	if pid == 0 {
		_ = srv.Stop()
		return nil, errors.New("started the dev server but cannot find its process in /proc")
	}
	return &temporalServer{srv: srv, pid: pid}, nil
}

func (t *temporalServer) stop() {
	_ = t.srv.Stop()
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) map[int]bool {
	out := map[int]bool{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(p); err == nil && st.ppid == pid {
			out[p] = true
		}
	}
	return out
}

func quietLogger() tlog.Logger {
	return tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// proc is a child process the bench started (sandbox or worker).
type proc struct {
	name   string
	cmd    *exec.Cmd
	log    *os.File
	exited chan struct{}
}

// startProc runs bin with args and env; it dies with the bench (Pdeathsig) even if
// the bench is killed before its cleanup runs.
func startProc(name, bin, logPath string, env []string, args ...string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logf, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM, waits up to 10 s, then SIGKILLs.
func (p *proc) stop() {
	if p.alive() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
	p.log.Close()
}

// tail is the end of the process's log, for error messages.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log.Name())
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// waitLog waits until the process's log contains s.
func (p *proc) waitLog(ctx context.Context, s string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		b, _ := os.ReadFile(p.log.Name())
		if bytes.Contains(b, []byte(s)) {
			return nil
		}
		if !p.alive() {
			return fmt.Errorf("%s exited:\n%s", p.name, p.tail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v:\n%s", p.name, d, p.tail())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// sandboxProc is the sandbox binary serving the generated fixture.
type sandboxProc struct {
	*proc
	oktaURL, konnectURL string
	control             sandbox.Control
}

func startSandbox(ctx context.Context, bin, dir, fixture string) (*sandboxProc, error) {
	urls := filepath.Join(dir, "sandbox-urls.json")
	p, err := startProc("sandbox", bin, filepath.Join(dir, "sandbox.log"), nil,
		"-okta-addr", "127.0.0.1:0", "-konnect-addr", "127.0.0.1:0", "-fixture", fixture, "-urls-file", urls)
	if err != nil {
		return nil, err
	}
	if err := p.waitLog(ctx, "sandbox ready", 60*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	var u struct {
		Okta    string `json:"okta_url"`
		Konnect string `json:"konnect_url"`
	}
	b, err := os.ReadFile(urls)
	if err == nil {
		err = json.Unmarshal(b, &u)
	}
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("sandbox urls: %w", err)
	}
	hc := &http.Client{Timeout: 60 * time.Second}
	return &sandboxProc{proc: p, oktaURL: u.Okta, konnectURL: u.Konnect, control: sandbox.Control{BaseURL: u.Okta, HTTPClient: hc}}, nil
}

// workerEnv configures a worker process for the dev server and the sandbox, with the
// sandbox's tokens and, when budget is set, dcrflow's request budget.
func workerEnv(temporalAddr, taskQueue string, sb *sandboxProc, metricsAddr string, budget budget) []string {
	env := []string{
		"DCRFLOW_TEMPORAL_ADDRESS=" + temporalAddr, "DCRFLOW_TEMPORAL_TASK_QUEUE=" + taskQueue,
		"DCRFLOW_OKTA_ORG_URL=" + sb.oktaURL, "DCRFLOW_OKTA_TOKEN=" + sbokta.DefaultManagementToken,
		"DCRFLOW_DCR_TOKEN_DEFAULT=" + sbokta.DefaultDCRToken,
		"DCRFLOW_KONNECT_BASE_URL=" + sb.konnectURL, "DCRFLOW_KONNECT_TOKEN=" + sbkonnect.DefaultToken,
		"DCRFLOW_METRICS_LISTEN=" + metricsAddr,
	}
	return append(env,
		"DCRFLOW_RATE_LIMITS_OKTA_MANAGEMENT_RPM="+strconv.Itoa(budget.OktaManagement),
		"DCRFLOW_RATE_LIMITS_OKTA_DCR_RPM="+strconv.Itoa(budget.OktaDCR),
		"DCRFLOW_RATE_LIMITS_KONNECT_RPM="+strconv.Itoa(budget.Konnect))
}

// startWorker starts one worker process and waits until it polls.
func startWorker(ctx context.Context, bin, logPath string, env []string) (*proc, error) {
	p, err := startProc(filepath.Base(logPath), bin, logPath, env)
	if err != nil {
		return nil, err
	}
	if err := p.waitLog(ctx, "Started Worker", 60*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// freeAddr is a loopback host:port nothing listens on right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// procStat is what the bench reads of a process in /proc.
type procStat struct {
	ppid int
	cpu  time.Duration // user + system
}

// clockTick is USER_HZ, which Linux fixes at 100 for /proc/<pid>/stat.
const clockTick = 10 * time.Millisecond

// readStat reads the parent and the CPU time (utime + stime) of pid.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name may hold spaces and parentheses: fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	// f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
	ppid, _ := strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return procStat{ppid: ppid, cpu: time.Duration(ut+st) * clockTick}, nil
}

// cpuOf is the process's CPU time so far (0 once it is gone).
func cpuOf(pid int) time.Duration {
	st, err := readStat(pid)
	if err != nil {
		return 0
	}
	return st.cpu
}

// peakRSS is VmHWM of pid in bytes: the most resident memory it ever had.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
}
