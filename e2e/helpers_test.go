package e2e

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/dcrflow/dcrflow/activities"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
	"github.com/dcrflow/dcrflow/usage"
	"github.com/dcrflow/dcrflow/workflows"
)

// The helpers every e2e test file shares.

// build builds the binary of pkg (relative to the module root) into dir and returns
// its path.
func build(t *testing.T, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond every 50 ms for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeAddr is a loopback host:port nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// countWorkflows is how many workflow executions the visibility query matches.
func countWorkflows(t *testing.T, c client.Client, query string) int64 {
	t.Helper()
	resp, err := c.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{Query: query})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetCount()
}

// history is a run's whole history (so far).
func history(t *testing.T, ctx context.Context, c client.Client, id, runID string) []*historypb.HistoryEvent {
	t.Helper()
	var events []*historypb.HistoryEvent
	it := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		events = append(events, e)
	}
	return events
}

// quietTemporalLogger is a Temporal SDK logger that writes nothing.
func quietTemporalLogger() tlog.Logger {
	return tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// startWorker runs an in-process worker on c's task queue tq with the real clients,
// pointed at sb, until the test ends; it returns the clients.
func startWorker(t *testing.T, c client.Client, sb *sandboxtest.Env, tq string) (*okta.Client, *konnect.Client) {
	t.Helper()
	w, oc, kc := startWorkerWith(t, c, sb, tq, worker.Options{})
	t.Cleanup(w.Stop)
	return oc, kc
}

// startWorkerWith runs an in-process worker like startWorker's, with opts, until the
// caller stops it.
func startWorkerWith(t *testing.T, c client.Client, sb *sandboxtest.Env, tq string, opts worker.Options) (worker.Worker, *okta.Client, *konnect.Client) {
	t.Helper()
	oc, err := okta.New(okta.Config{OrgURL: sb.OktaURL, Token: sbokta.DefaultManagementToken, HTTPClient: sb.HTTPClient})
	if err != nil {
		t.Fatal(err)
	}
	kc, err := konnect.New(konnect.Config{BaseURL: sb.KonnectURL, Token: sbkonnect.DefaultToken, HTTPClient: sb.HTTPClient})
	if err != nil {
		t.Fatal(err)
	}
	w := worker.New(c, tq, opts)
	workflows.Register(w)
	w.RegisterActivity(&activities.Activities{Okta: oc, Konnect: activities.KonnectFrom(kc),
		DCRTokens: map[string]string{"default": sbokta.DefaultDCRToken}, Usage: &usage.Temporal{Client: c, TaskQueue: tq, OktaOrg: usage.OrgOf(sb.OktaURL), KonnectOrg: usage.OrgOf(sb.KonnectURL)}})
	w.RegisterActivity(&activities.Fleet{Temporal: c})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	return w, oc, kc
}

// addFault adds f to the sandbox and returns it as added (with its ID).
func addFault(t *testing.T, sb *sandboxtest.Env, f faults.Fault) faults.Fault {
	t.Helper()
	added, err := sb.Control.AddFault(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return added
}

// hitsOf is how many calls the fault has affected so far (-1: no such fault): the
// sandbox counts a call when it receives it, the request log only once it is answered.
func hitsOf(sb *sandboxtest.Env, id string) int {
	for _, f := range sb.Sandbox.Faults.List() {
		if f.ID == id {
			return f.Hits
		}
	}
	return -1
}

// workerProc is a worker binary running against a dev server and a sandbox.
type workerProc struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan error // receives the process's Wait result once
}

// startWorkerProc starts the worker binary with args on taskQueue, configured for srv
// and sb with the sandbox's tokens, and waits until it has started; it is killed at
// the end of the test if it still runs.
func startWorkerProc(t *testing.T, bin string, srv *testsuite.DevServer, sb *sandboxtest.Env, taskQueue string, args ...string) *workerProc {
	t.Helper()
	return startWorkerProcEnv(t, bin, srv, sb, taskQueue, nil, args...)
}

// startWorkerProcEnv is startWorkerProc with more environment variables, which win
// over the defaults (an empty value unsets one).
func startWorkerProcEnv(t *testing.T, bin string, srv *testsuite.DevServer, sb *sandboxtest.Env, taskQueue string, env []string, args ...string) *workerProc {
	t.Helper()
	p := &workerProc{cmd: exec.Command(bin, args...), out: &syncBuffer{}, exited: make(chan error, 1)}
	p.cmd.Env = append(append(os.Environ(),
		"DCRFLOW_TEMPORAL_ADDRESS="+srv.FrontendHostPort(), "DCRFLOW_TEMPORAL_TASK_QUEUE="+taskQueue,
		"DCRFLOW_OKTA_ORG_URL="+sb.OktaURL, "DCRFLOW_OKTA_TOKEN="+sbokta.DefaultManagementToken,
		"DCRFLOW_DCR_TOKEN_DEFAULT="+sbokta.DefaultDCRToken,
		"DCRFLOW_KONNECT_BASE_URL="+sb.KonnectURL, "DCRFLOW_KONNECT_TOKEN="+sbkonnect.DefaultToken), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() { p.kill(t) })
	waitFor(t, 30*time.Second, "the worker to start", func() bool { return strings.Contains(p.out.String(), "Started Worker") })
	return p
}

// kill SIGKILLs the worker (if it still runs) and reaps it.
func (p *workerProc) kill(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Errorf("worker %d did not exit within 10 s of SIGKILL", p.cmd.Process.Pid)
	}
}

// terminate SIGTERMs the worker and fails the test unless it exits cleanly within 20 s.
func (p *workerProc) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("worker exit after SIGTERM: %v\n%s", err, p.out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("worker did not stop within 20 s of SIGTERM")
	}
}
