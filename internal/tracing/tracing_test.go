package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"go.temporal.io/sdk/client"
)

func TestSetup_OffWithoutTheEndpointOnWithIt(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	tr, err := Setup(context.Background(), "test")
	if err != nil || tr != nil {
		t.Fatalf("without OTEL_EXPORTER_OTLP_ENDPOINT: %v %v, want off", tr, err)
	}
	base := http.DefaultTransport
	if tr.Transport("okta", base) != base {
		t.Error("off: the transport is wrapped")
	}
	var o client.Options
	tr.ClientOption()(&o)
	if len(o.Interceptors) != 0 || tr.Shutdown(context.Background()) != nil {
		t.Error("off: an interceptor is added")
	}

	var exports atomic.Int32
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/traces" {
			exports.Add(1)
		}
	}))
	defer collector.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer api.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	tr, err = Setup(context.Background(), "test")
	if err != nil || tr == nil {
		t.Fatalf("with OTEL_EXPORTER_OTLP_ENDPOINT: %v", err)
	}
	tr.ClientOption()(&o)
	if len(o.Interceptors) != 1 {
		t.Errorf("on: %d interceptors, want the Temporal tracing interceptor", len(o.Interceptors))
	}
	resp, err := (&http.Client{Transport: tr.Transport("okta", nil)}).Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if exports.Load() == 0 {
		t.Error("on: no span exported to the endpoint")
	}
}
