// Package tracing switches on OpenTelemetry tracing when OTEL_EXPORTER_OTLP_ENDPOINT
// (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, and is a no-op otherwise: spans of
// the Temporal client and worker (workflows and activities, through the SDK's
// contrib/opentelemetry interceptor) and of every HTTP request to Okta and Konnect
// (otelhttp), exported over OTLP/HTTP. The exporter honours the standard OTEL_*
// variables (headers, protocol details, OTEL_SERVICE_NAME, OTEL_BSP_*).
//
// What spans carry: operation names, workflow and activity types and ids, HTTP
// methods, URLs (no query strings with secrets are sent by dcrflow) and statuses —
// never a request header or body, so never a token.
package tracing

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Tracing is switched-on tracing; a nil *Tracing traces nothing.
type Tracing struct {
	provider    *sdktrace.TracerProvider
	interceptor interceptor.Interceptor
}

// Enabled tells whether the environment asks for tracing.
func Enabled() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup starts tracing for service (the default service.name; OTEL_SERVICE_NAME wins)
// when Enabled; nil, nil otherwise.
func Setup(ctx context.Context, service string) (*Tracing, error) {
	if !Enabled() {
		return nil, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing (OTEL_EXPORTER_OTLP_ENDPOINT): %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(service)))
	if err != nil {
		return nil, err
	}
	if env, _ := resource.New(ctx, resource.WithFromEnv()); env != nil { // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
		if merged, err := resource.Merge(res, env); err == nil {
			res = merged
		}
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(prop)
	in, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{Tracer: tp.Tracer("dcrflow"), TextMapPropagator: prop})
	if err != nil {
		_ = tp.Shutdown(ctx)
		return nil, fmt.Errorf("tracing: Temporal interceptor: %w", err)
	}
	return &Tracing{provider: tp, interceptor: in}, nil
}

// ClientOption adds the Temporal tracing interceptor to client options (and so to
// the workers built on the client); nothing when t is nil.
func (t *Tracing) ClientOption() func(*client.Options) {
	return func(o *client.Options) {
		if t != nil {
			o.Interceptors = append(o.Interceptors, t.interceptor)
		}
	}
}

// Transport wraps base (nil: http.DefaultTransport) so that every request is a span
// named "<system> <method>"; base itself when t is nil.
func (t *Tracing) Transport(system string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if t == nil {
		return base
	}
	return otelhttp.NewTransport(base, otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return system + " " + r.Method }))
}

// Shutdown exports what is left and stops.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}
