package e2e

import (
	"compress/gzip"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
)

// otlpReceiver is an OTLP/HTTP trace endpoint (POST /v1/traces, protobuf) that keeps
// every span it is sent, as JSON text per span, by service.
type otlpReceiver struct {
	mu    sync.Mutex
	spans map[string][]string // service.name → spans (name + everything they carry)
	names map[string][]string // service.name → span names
	trace map[string]string   // service.name + " " + span name → its trace id (the last seen)
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = gz
	}
	b, _ := io.ReadAll(body)
	var req collectorpb.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(b, &req) != nil {
		http.Error(w, "not an OTLP trace export", 400)
		return
	}
	o.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				o.spans[service] = append(o.spans[service], protojson.Format(s))
				o.names[service] = append(o.names[service], s.GetName())
				o.trace[service+" "+s.GetName()] = hex.EncodeToString(s.GetTraceId())
			}
		}
	}
	o.mu.Unlock()
	out, _ := proto.Marshal(&collectorpb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func (o *otlpReceiver) has(service string, names ...string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, n := range names {
		found := false
		for _, got := range o.names[service] {
			if got == n {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, one portal's onboarding through the worker and
// dcrflow binaries produces spans — the command's start of the workflow, the worker's
// workflow and activities, and its HTTP calls to Okta and to Konnect — in one trace
// per service, and no span carries a token. Without the variable nothing is sent.
func TestTracing_OnePortalProducesSpansThatCarryNoSecret(t *testing.T) {
	recv := &otlpReceiver{spans: map[string][]string{}, names: map[string][]string{}, trace: map[string]string{}}
	collector := httptest.NewServer(recv)
	defer collector.Close()
	otelEnv := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + collector.URL, "OTEL_BSP_SCHEDULE_DELAY=100"}
	for _, kv := range otelEnv {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v) // the worker process inherits the test's environment
	}
	rig := startCLIRig(t, "tracing") // after the variables: the worker inherits them
	dir, bin, srv := rig.dir, rig.bin, rig.srv

	cmd := exec.Command(bin, "onboard", "-f", "examples/portals.yaml", "--portal", "payments", "--wait")
	cmd.Dir = ".."
	cmd.Env = cliEnv(dir, append(otelEnv, "DCRFLOW_TEMPORAL_ADDRESS="+srv.FrontendHostPort(), "DCRFLOW_TEMPORAL_TASK_QUEUE=tracing")...)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "onboarded") {
		t.Fatalf("dcrflow onboard: %v\n%s", err, out)
	}
	waitFor(t, 30*time.Second, "the spans of one portal", func() bool {
		return recv.has("dcrflow", "StartWorkflow:OnboardPortal") &&
			recv.has("dcrflow-worker", "RunWorkflow:OnboardPortal", "StartActivity:EnsureScopes", "RunActivity:EnsureScopes",
				"RunActivity:PublishAPI", "RunActivity:ValidateDCR", "okta GET", "okta POST", "konnect GET", "konnect POST")
	})
	recv.mu.Lock()
	defer recv.mu.Unlock()
	all := strings.Join(recv.spans["dcrflow"], "\n") + strings.Join(recv.spans["dcrflow-worker"], "\n")
	for name, secret := range map[string]string{"okta management": sbokta.DefaultManagementToken, "okta dcr": sbokta.DefaultDCRToken, "konnect": sbkonnect.DefaultToken} {
		if strings.Contains(all, secret) {
			t.Errorf("the %s token is in a span", name)
		}
	}
	for _, bad := range []string{"client_secret", "Authorization", "SSWS "} {
		if strings.Contains(all, bad) {
			t.Errorf("a span carries %q", bad)
		}
	}
	// One trace: the worker's spans continue the command's (propagated through Temporal).
	if a, b := recv.trace["dcrflow StartWorkflow:OnboardPortal"], recv.trace["dcrflow-worker RunWorkflow:OnboardPortal"]; a == "" || a != b {
		t.Errorf("the worker's workflow span is not in the command's trace: %s vs %s", a, b)
	}
	t.Logf("spans: dcrflow %d, dcrflow-worker %d", len(recv.spans["dcrflow"]), len(recv.spans["dcrflow-worker"]))
}
