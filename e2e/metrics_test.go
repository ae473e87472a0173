package e2e

import (
	"github.com/dcrflow/dcrflow/internal/metrics/promtext"

	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// TestMetrics_WorkerServesSDKAndAPIMetrics runs the worker binary with -metrics-addr
// and scrapes /metrics as Prometheus would: the SDK's own metrics, dcrflow's API call
// counters for both systems after one portal, and the 429s and the waits they named
// after one rate-limit fault in each system.
func TestMetrics_WorkerServesSDKAndAPIMetrics(t *testing.T) {
	dir := t.TempDir()
	workerBin, starterBin := build(t, dir, "./worker"), buildDcrflow(t, dir)
	srv := devserver.Start(t)
	sb := sandboxtest.Start(t)
	temporalEnv := []string{"DCRFLOW_TEMPORAL_ADDRESS=" + srv.FrontendHostPort(), "DCRFLOW_TEMPORAL_TASK_QUEUE=metrics"}
	secrets := []string{sbokta.DefaultManagementToken, sbokta.DefaultDCRToken, sbkonnect.DefaultToken}
	addr := freeAddr(t)
	url := "http://" + addr + "/metrics"

	w := startWorkerProc(t, workerBin, srv, sb, "metrics", "-metrics-addr", addr)
	workerOut := w.out
	if !strings.Contains(workerOut.String(), `"metrics":"`+url+`"`) {
		t.Errorf("the worker's start line does not name %s:\n%s", url, workerOut.String())
	}

	starter := func(args ...string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // killed past it
		defer cancel()
		cmd := exec.CommandContext(ctx, starterBin, args...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), temporalEnv...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) || ctx.Err() != nil {
			t.Fatalf("starter %v: %v (%v)\n%s", args, err, ctx.Err(), out)
		}
		return string(out), cmd.ProcessState.ExitCode()
	}
	scrape := func() string {
		t.Helper()
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", url, resp.StatusCode, b)
		}
		return string(b)
	}

	// Up before any portal; no 429 yet.
	text := scrape()
	for _, sys := range []string{"okta", "konnect"} {
		if v, ok := promtext.Value(text, "dcrflow_rate_limited_total", map[string]string{"system": sys}); !ok || v != 0 {
			t.Errorf("dcrflow_rate_limited_total{system=%q} before any call = %v (present %v), want 0", sys, v, ok)
		}
	}

	out, code := starter("onboard", "-f", "examples/portals.yaml", "--portal", "payments", "--wait")
	if code != 0 || !strings.Contains(out, "onboarded") {
		t.Fatalf("starter exit %d:\n%s", code, out)
	}
	// The SDK's metrics reach the registry at tally's next report (every second).
	waitFor(t, 15*time.Second, "temporal_workflow_completed_total", func() bool {
		v, _ := promtext.Value(scrape(), "temporal_workflow_completed_total", map[string]string{"workflow_type": "OnboardPortal"})
		return v >= 1
	})
	text = scrape()
	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{"temporal_workflow_completed_total", map[string]string{"workflow_type": "OnboardPortal", "task_queue": "metrics", "namespace": "default"}},
		{"temporal_activity_execution_latency_seconds_count", map[string]string{"task_queue": "metrics"}},
		{"temporal_request_total", nil},
		{"dcrflow_api_requests_total", map[string]string{"system": "okta", "status": "200"}},
		{"dcrflow_api_requests_total", map[string]string{"system": "okta", "status": "201"}},
		{"dcrflow_api_requests_total", map[string]string{"system": "konnect", "status": "200"}},
		{"dcrflow_api_requests_total", map[string]string{"system": "konnect", "status": "201", "operation": "create-dcr-provider"}},
		{"dcrflow_api_request_duration_seconds_count", map[string]string{"system": "okta"}},
		{"dcrflow_api_request_duration_seconds_count", map[string]string{"system": "konnect"}},
	} {
		if v, _ := promtext.Value(text, c.name, c.labels); v <= 0 {
			t.Errorf("%s%v = %v, want > 0", c.name, c.labels, v)
		}
	}
	if v, _ := promtext.Value(text, "dcrflow_portals_total", map[string]string{"outcome": "succeeded"}); v < 1 {
		t.Errorf(`dcrflow_portals_total{outcome="succeeded"} = %v, want >= 1`, v)
	}

	// One 429 in each system; the portal still succeeds, after the wait each named.
	ctx := context.Background()
	oktaFault, err := sb.Control.AddFault(ctx, faults.Fault{Method: "GET", Path: "/api/v1/authorizationServers/**", Status: 429, RetryAfterSeconds: 1, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	konnectFault, err := sb.Control.AddFault(ctx, faults.Fault{Method: "POST", Path: "/v2/dcr-providers", Status: 429, RetryAfterSeconds: 1, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	out, code = starter("onboard", "-f", "examples/portals.yaml", "--portal", "partners", "--wait")
	if code != 0 || !strings.Contains(out, "onboarded") {
		t.Fatalf("starter after the 429s: exit %d:\n%s", code, out)
	}
	list, err := sb.Control.Faults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range list {
		if (f.ID == oktaFault.ID || f.ID == konnectFault.ID) && f.Hits != 1 {
			t.Fatalf("fault %s %s hit %d times, want 1: the test would prove nothing", f.Method, f.Path, f.Hits)
		}
	}
	text = scrape()
	for _, sys := range []string{"okta", "konnect"} {
		if v, _ := promtext.Value(text, "dcrflow_rate_limited_total", map[string]string{"system": sys}); v != 1 {
			t.Errorf("dcrflow_rate_limited_total{system=%q} = %v, want 1", sys, v)
		}
		if v, _ := promtext.Value(text, "dcrflow_api_requests_total", map[string]string{"system": sys, "status": "429"}); v != 1 {
			t.Errorf("dcrflow_api_requests_total{system=%q,status=\"429\"} = %v, want 1", sys, v)
		}
		if v, _ := promtext.Value(text, "dcrflow_rate_limit_wait_seconds_count", map[string]string{"system": sys}); v != 1 {
			t.Errorf("dcrflow_rate_limit_wait_seconds_count{system=%q} = %v, want 1", sys, v)
		}
		if v, _ := promtext.Value(text, "dcrflow_rate_limit_wait_seconds_sum", map[string]string{"system": sys}); v < 1 || v > 3 {
			t.Errorf("dcrflow_rate_limit_wait_seconds_sum{system=%q} = %v, want the ~1 s the answer named", sys, v)
		}
	}
	if v, _ := promtext.Value(text, "dcrflow_api_requests_total", map[string]string{"system": "konnect", "status": "429", "operation": "create-dcr-provider"}); v != 1 {
		t.Errorf("the Konnect 429 is not counted under its operation create-dcr-provider:\n%s", promtext.Lines(text, "dcrflow_api_requests_total"))
	}
	for _, s := range append(secrets, sb.OktaURL, sb.KonnectURL) {
		if strings.Contains(text, s) {
			t.Fatalf("/metrics carries a token or a URL: %q", s)
		}
	}

	// SIGTERM stops the worker and its metrics endpoint.
	w.terminate(t)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("the metrics endpoint still listens after the worker stopped")
	}
	if logs := workerOut.String(); strings.Contains(logs, `"msg":"metrics"`) {
		t.Errorf("the metrics endpoint reported errors:\n%s", logs)
	}
}
