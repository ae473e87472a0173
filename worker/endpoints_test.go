package main

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow/codec"
	"github.com/dcrflow/dcrflow/config"
	"github.com/dcrflow/dcrflow/internal/wiring"
)

// workerSettings loads a minimal valid worker configuration, with env on top.
func workerSettings(t *testing.T, env map[string]string) config.Worker {
	t.Helper()
	for k, v := range map[string]string{"DCRFLOW_OKTA_ORG_URL": "https://acme.okta.com", "DCRFLOW_OKTA_TOKEN": "ssws",
		"DCRFLOW_KONNECT_REGION": "eu", "DCRFLOW_KONNECT_TOKEN": "kpat_x", "DCRFLOW_DCR_TOKEN_DEFAULT": "dcr"} {
		t.Setenv(k, v)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	w, err := config.LoadWorker("")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// No metrics.listen: no endpoint and no error; one: served at once; a busy or bad
// address fails at start, naming the setting.
func TestServeMetrics(t *testing.T) {
	if m, err := serveMetrics(workerSettings(t, nil).Metrics, nil); err != nil || m != nil {
		t.Fatalf("without metrics.listen = %v, %v; want nil, nil", m, err)
	}
	m, err := serveMetrics(workerSettings(t, map[string]string{"DCRFLOW_METRICS_LISTEN": "127.0.0.1:0"}).Metrics, nil)
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
	busy := config.Metrics{Listen: strings.TrimSuffix(strings.TrimPrefix(m.URL(), "http://"), "/metrics")}
	if _, err := serveMetrics(busy, nil); err == nil || !strings.Contains(err.Error(), "metrics.listen (-metrics-addr, DCRFLOW_METRICS_LISTEN)") {
		t.Fatalf("busy address: %v", err)
	}
	if _, err := serveMetrics(config.Metrics{Listen: "nope"}, nil); err == nil || !strings.Contains(err.Error(), "want host:port") {
		t.Fatalf("serveMetrics(nope) = %v", err)
	}
}

// Profiles are served beside the metrics only when metrics.pprof is on.
func TestServeMetrics_PprofOnlyWhenAsked(t *testing.T) {
	for _, on := range []bool{false, true} {
		env := map[string]string{"DCRFLOW_METRICS_LISTEN": "127.0.0.1:0"}
		if on {
			env["DCRFLOW_METRICS_PPROF"] = "true"
		}
		m, err := serveMetrics(workerSettings(t, env).Metrics, nil)
		if err != nil {
			t.Fatal(err)
		}
		heap := strings.TrimSuffix(m.URL(), "/metrics") + "/debug/pprof/heap?debug=1"
		resp, err := http.Get(heap)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m.Close()
		if served := resp.StatusCode == http.StatusOK && strings.Contains(string(body), "# HeapAlloc"); served != on {
			t.Errorf("pprof %v: GET %s = %d, heap profile served %v", on, heap, resp.StatusCode, served)
		}
	}
}

// The codec endpoint serves with the loaded keys; without a listen address there is
// none.
func TestServeCodec(t *testing.T) {
	k := make([]byte, codec.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	if s, err := serveCodec(workerSettings(t, nil).Codec); err != nil || s != nil {
		t.Fatalf("without codec.listen = %v, %v; want nil, nil", s, err)
	}
	w := workerSettings(t, map[string]string{"DCRFLOW_CODEC_KEY_ID": "k1", "DCRFLOW_CODEC_KEY_K1": base64.StdEncoding.EncodeToString(k),
		"DCRFLOW_CODEC_LISTEN": "127.0.0.1:0", "DCRFLOW_CODEC_AUTH_TOKEN": "tok3n"})
	srv, err := serveCodec(w.Codec)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(t.Context())
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
		t.Errorf("url = %s", srv.URL())
	}
	opts, err := wiring.TemporalOptions(w.Temporal, nil, w.Codec.PayloadCodec())
	if err != nil || opts.DataConverter == nil || opts.FailureConverter == nil {
		t.Fatalf("options with keys = %+v, %v", opts, err)
	}
	opts, err = wiring.TemporalOptions(w.Temporal, nil, nil)
	if err != nil || opts.DataConverter != nil || opts.FailureConverter != nil {
		t.Fatalf("options without keys = %+v, %v", opts, err)
	}
}
