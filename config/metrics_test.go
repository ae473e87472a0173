package config

import (
	"strings"
	"testing"
)

func TestLoadWorker_MetricsOffByDefault(t *testing.T) {
	workerEnv(t)
	w, err := LoadWorker("")
	if err != nil {
		t.Fatal(err)
	}
	if w.Metrics.Listen != "" {
		t.Fatalf("metrics.listen defaults to %q, want off", w.Metrics.Listen)
	}
}

func TestLoadWorker_MetricsListenFromFileThenEnvironment(t *testing.T) {
	workerEnv(t)
	path := writeFile(t, "worker.yaml", "metrics: {listen: \"0.0.0.0:9090\"}\n")
	w, err := LoadWorker(path)
	if err != nil {
		t.Fatal(err)
	}
	if w.Metrics.Listen != "0.0.0.0:9090" {
		t.Fatalf("metrics.listen = %q", w.Metrics.Listen)
	}
	t.Setenv("DCRFLOW_METRICS_LISTEN", "127.0.0.1:0")
	if w, err = LoadWorker(path); err != nil {
		t.Fatal(err)
	}
	if w.Metrics.Listen != "127.0.0.1:0" {
		t.Fatalf("the environment did not win: metrics.listen = %q", w.Metrics.Listen)
	}
}

func TestLoadWorker_MetricsListenMustBeHostPort(t *testing.T) {
	workerEnv(t)
	t.Setenv("DCRFLOW_METRICS_LISTEN", "9090")
	_, err := LoadWorker("")
	if err == nil || !strings.Contains(err.Error(), `metrics.listen (-metrics-addr, DCRFLOW_METRICS_LISTEN) "9090": want host:port`) {
		t.Fatalf("err = %v", err)
	}
	// The flag bypasses LoadWorker: Check says so too.
	if err := (Metrics{Listen: "nope"}).Check(); err == nil || !strings.Contains(err.Error(), "want host:port") {
		t.Fatalf("Check(nope) = %v", err)
	}
}

// Profiles need the endpoint, and serving them is warned about.
func TestLoadWorker_MetricsPprof(t *testing.T) {
	workerEnv(t)
	t.Setenv("DCRFLOW_METRICS_PPROF", "true")
	if _, err := LoadWorker(""); err == nil || !strings.Contains(err.Error(), "metrics.pprof (DCRFLOW_METRICS_PPROF) is on but metrics.listen is empty") {
		t.Fatalf("pprof without listen: err = %v", err)
	}
	path := writeFile(t, "worker.yaml", "metrics: {listen: \"127.0.0.1:9090\", pprof: true}\n")
	w, err := LoadWorker(path)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Metrics.Pprof || len(w.Warnings) != 1 || !strings.Contains(w.Warnings[0], `metrics.pprof is on: whoever reaches "127.0.0.1:9090" can read the worker's profiles`) {
		t.Fatalf("pprof %v, warnings %q", w.Metrics.Pprof, w.Warnings)
	}
}
