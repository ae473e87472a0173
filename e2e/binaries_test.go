package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/dcrflow/dcrflow/internal/devserver"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

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

func TestBinaries_WorkerAndStarterFromConfigToOutcome(t *testing.T) {
	dir := t.TempDir()
	workerBin, starterBin := build(t, dir, "./worker"), build(t, dir, "./starter")
	srv := devserver.Start(t)
	sb := sandboxtest.Start(t)
	temporalEnv := []string{"DCRFLOW_TEMPORAL_ADDRESS=" + srv.FrontendHostPort(), "DCRFLOW_TEMPORAL_TASK_QUEUE=binaries"}
	secrets := []string{sbokta.DefaultManagementToken, sbokta.DefaultDCRToken, sbkonnect.DefaultToken}

	var workerOut syncBuffer
	w := exec.Command(workerBin)
	w.Env = append(os.Environ(), append(temporalEnv,
		"DCRFLOW_OKTA_ORG_URL="+sb.OktaURL, "DCRFLOW_OKTA_TOKEN="+secrets[0], "DCRFLOW_DCR_TOKEN_DEFAULT="+secrets[1],
		"DCRFLOW_KONNECT_BASE_URL="+sb.KonnectURL, "DCRFLOW_KONNECT_TOKEN="+secrets[2])...)
	w.Stdout, w.Stderr = &workerOut, &workerOut
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- w.Wait() }()
	t.Cleanup(func() {
		if w.ProcessState == nil {
			_ = w.Process.Kill()
			<-exited
		}
	})
	waitFor(t, 30*time.Second, "the worker to start", func() bool { return strings.Contains(workerOut.String(), "Started Worker") })

	starter := func(args ...string) (string, int) {
		cmd := exec.Command(starterBin, args...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), temporalEnv...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("starter: %v", err)
		}
		return string(out), cmd.ProcessState.ExitCode()
	}

	out, code := starter("-f", "examples/portals.yaml", "-portal", "payments,partners", "-wait")
	if code != 0 || strings.Count(out, "onboarded") != 2 || !strings.Contains(out, "passed") {
		t.Fatalf("starter exit %d:\n%s", code, out)
	}

	// A broken file is refused with its line and field before anything starts.
	before := countWorkflows(t, srv.Client())
	if before < 2 {
		t.Fatalf("the count sees %d workflows after two started: it would prove nothing", before)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("portals:\n  - name: x\n    scopes: [openid]\n"), 0o644)
	out, code = starter("-f", bad, "-wait")
	if code != 2 || !strings.Contains(out, "bad.yaml:3") || !strings.Contains(out, "scopes") {
		t.Fatalf("broken file: exit %d:\n%s", code, out)
	}
	if after := countWorkflows(t, srv.Client()); after != before {
		t.Fatalf("a broken file started %d workflow(s)", after-before)
	}

	// A DCR token name the worker does not hold is refused before anything starts.
	unknown := filepath.Join(dir, "unknown-token.yaml")
	os.WriteFile(unknown, []byte("portals:\n  - name: payments\n    scopes: [payments:read]\n    dcr_provider: {dcr_token: partners}\n"), 0o644)
	out, code = starter("-f", unknown, "-wait")
	if code != 2 || !strings.Contains(out, `no DCR token named "partners"`) || !strings.Contains(out, "DCRFLOW_DCR_TOKEN_PARTNERS") {
		t.Fatalf("unknown DCR token: exit %d:\n%s", code, out)
	}
	if after := countWorkflows(t, srv.Client()); after != before {
		t.Fatalf("an unknown DCR token started %d workflow(s)", after-before)
	}

	// A portal that fails makes the starter exit non-zero, naming the step.
	failing := filepath.Join(dir, "failing.yaml")
	os.WriteFile(failing, []byte("portals:\n  - name: payments\n    scopes: [payments:read]\n    apis: [no-such-api]\n"), 0o644)
	out, code = starter("-f", failing, "-wait")
	if code != 1 || !strings.Contains(out, "FAILED") || !strings.Contains(out, "step resolve") || !strings.Contains(out, "no-such-api") {
		t.Fatalf("failing portal: exit %d:\n%s", code, out)
	}

	// SIGTERM stops the worker cleanly.
	if err := w.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("worker exit after SIGTERM: %v\n%s", err, workerOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("worker did not stop within 20 s of SIGTERM")
	}
	logs := workerOut.String()
	if !strings.Contains(logs, `"msg":"worker stopped"`) {
		t.Errorf("worker log lacks a clean stop:\n%s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) || strings.Contains(out, s) {
			t.Fatal("a token appears in the worker's or starter's output")
		}
	}
}

func countWorkflows(t *testing.T, c client.Client) int64 {
	t.Helper()
	resp, err := c.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{Query: "TaskQueue = 'binaries' AND WorkflowType = 'OnboardPortal'"})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetCount()
}
