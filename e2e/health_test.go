package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// The worker binary serves /healthz and /readyz beside /metrics: ready once Temporal
// sees it poll for workflow and activity tasks, not ready once Temporal is gone; the
// image's health probe (deploy/healthcheck, as compose runs it) agrees. With
// log.format console the worker logs console lines, the SDK's included.
func TestHealth_WorkerReadyWhilePollingNotWhenTemporalIsGone(t *testing.T) {
	t.Setenv("DCRFLOW_LOG_FORMAT", "console") // the worker inherits it
	dir := t.TempDir()
	workerBin, probe := build(t, dir, "./worker"), build(t, dir, "./deploy/healthcheck")
	srv := devserver.Start(t)
	sb := sandboxtest.Start(t)
	addr := freeAddr(t)
	w := startWorkerProc(t, workerBin, srv, sb, "health", "-metrics-addr", addr)
	for _, l := range strings.Split(strings.TrimSpace(w.out.String()), "\n") {
		if strings.HasPrefix(l, "{") {
			t.Errorf("a JSON line with log.format console: %s", l)
		}
	}
	for _, want := range []string{"\tINFO\tworker started\t", "\tINFO\tStarted Worker\t"} { // dcrflow's and the SDK's
		if !strings.Contains(w.out.String(), want) {
			t.Errorf("console log lacks %q:\n%s", want, w.out.String())
		}
	}
	get := func(path string) (int, string) {
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	waitFor(t, 30*time.Second, "/readyz to answer 200", func() bool { code, _ := get("/readyz"); return code == 200 })
	_, body := get("/readyz")
	var s struct {
		Ready    bool
		Temporal string
		Polling  []string
	}
	if err := json.Unmarshal([]byte(body), &s); err != nil || !s.Ready || s.Temporal != "ok" || strings.Join(s.Polling, ",") != "workflow,activity" {
		t.Fatalf("/readyz: %s (%v)", body, err)
	}
	if out, err := exec.Command(probe, "http://"+addr+"/readyz").CombinedOutput(); err != nil {
		t.Fatalf("healthcheck on a ready worker: %v %s", err, out)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "dcrflow_") {
		t.Fatalf("/metrics beside them: %d", code)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "/readyz to answer 503 without Temporal", func() bool { code, _ := get("/readyz"); return code == 503 })
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz without Temporal: %d, want 200 (the process still serves)", code)
	}
	if out, err := exec.Command(probe, "http://"+addr+"/readyz").CombinedOutput(); err == nil {
		t.Errorf("healthcheck passed on a worker without Temporal: %s", out)
	}
}
