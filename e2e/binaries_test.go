package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow/internal/devserver"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

func TestBinaries_WorkerAndStarterFromConfigToOutcome(t *testing.T) {
	dir := t.TempDir()
	workerBin, starterBin := build(t, dir, "./worker"), buildDcrflow(t, dir)
	srv := devserver.Start(t)
	sb := sandboxtest.Start(t)
	temporalEnv := []string{"DCRFLOW_TEMPORAL_ADDRESS=" + srv.FrontendHostPort(), "DCRFLOW_TEMPORAL_TASK_QUEUE=binaries"}
	secrets := []string{sbokta.DefaultManagementToken, sbokta.DefaultDCRToken, sbkonnect.DefaultToken}

	w := startWorkerProc(t, workerBin, srv, sb, "binaries")
	workerOut := w.out

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

	out, code := starter("onboard", "-f", "examples/portals.yaml", "--portal", "payments,partners", "--wait")
	if code != 0 || strings.Count(out, "onboarded") != 2 || !strings.Contains(out, "passed") {
		t.Fatalf("starter exit %d:\n%s", code, out)
	}

	// A broken file is refused with its line and field before anything starts.
	const onboardedHere = "TaskQueue = 'binaries' AND WorkflowType = 'OnboardPortal'"
	before := countWorkflows(t, srv.Client(), onboardedHere)
	if before < 2 {
		t.Fatalf("the count sees %d workflows after two started: it would prove nothing", before)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("portals:\n  - name: x\n    scopes: [openid]\n"), 0o644)
	out, code = starter("onboard", "-f", bad, "--wait")
	if code != 2 || !strings.Contains(out, "bad.yaml:3") || !strings.Contains(out, "scopes") {
		t.Fatalf("broken file: exit %d:\n%s", code, out)
	}
	if after := countWorkflows(t, srv.Client(), onboardedHere); after != before {
		t.Fatalf("a broken file started %d workflow(s)", after-before)
	}

	// A DCR token name the worker does not hold is refused before anything starts.
	unknown := filepath.Join(dir, "unknown-token.yaml")
	os.WriteFile(unknown, []byte("portals:\n  - name: payments\n    scopes: [payments:read]\n    dcr_provider: {dcr_token: partners}\n"), 0o644)
	out, code = starter("onboard", "-f", unknown, "--wait")
	if code != 2 || !strings.Contains(out, `no DCR token named "partners"`) || !strings.Contains(out, "DCRFLOW_DCR_TOKEN_PARTNERS") {
		t.Fatalf("unknown DCR token: exit %d:\n%s", code, out)
	}
	if after := countWorkflows(t, srv.Client(), onboardedHere); after != before {
		t.Fatalf("an unknown DCR token started %d workflow(s)", after-before)
	}

	// A portal that fails makes the starter exit non-zero, naming the step.
	failing := filepath.Join(dir, "failing.yaml")
	os.WriteFile(failing, []byte("portals:\n  - name: payments\n    scopes: [payments:read]\n    apis: [no-such-api]\n"), 0o644)
	out, code = starter("onboard", "-f", failing, "--wait")
	if code != 1 || !strings.Contains(out, "FAILED") || !strings.Contains(out, "step resolve") || !strings.Contains(out, "no-such-api") {
		t.Fatalf("failing portal: exit %d:\n%s", code, out)
	}

	// SIGTERM stops the worker cleanly.
	w.terminate(t)
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
