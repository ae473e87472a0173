package config

import (
	"net/http"
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
	m, err := w.Metrics.Serve(nil)
	if err != nil || m != nil {
		t.Fatalf("Serve without metrics.listen = %v, %v; want nil, nil", m, err)
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
	m, err := w.Metrics.Serve(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	resp, err := http.Get(m.URL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", m.URL(), resp.StatusCode)
	}

	// A busy address fails at start, naming the setting.
	busy := Metrics{Listen: strings.TrimSuffix(strings.TrimPrefix(m.URL(), "http://"), "/metrics")}
	if _, err := busy.Serve(nil); err == nil || !strings.Contains(err.Error(), "metrics.listen (-metrics-addr, DCRFLOW_METRICS_LISTEN)") {
		t.Fatalf("busy address: %v", err)
	}
}

func TestLoadWorker_MetricsListenMustBeHostPort(t *testing.T) {
	workerEnv(t)
	t.Setenv("DCRFLOW_METRICS_LISTEN", "9090")
	_, err := LoadWorker("")
	if err == nil || !strings.Contains(err.Error(), `metrics.listen (-metrics-addr, DCRFLOW_METRICS_LISTEN) "9090": want host:port`) {
		t.Fatalf("err = %v", err)
	}
	// The flag bypasses LoadWorker: Serve checks too.
	if _, err := (Metrics{Listen: "nope"}).Serve(nil); err == nil || !strings.Contains(err.Error(), "want host:port") {
		t.Fatalf("Serve(nope) = %v", err)
	}
}
