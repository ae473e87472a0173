package main

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/dcrflow/dcrflow/internal/tracing"
	"github.com/dcrflow/dcrflow/internal/wiring"
)

// tracingClientOptions: OpenTelemetry for the Temporal client when
// OTEL_EXPORTER_OTLP_ENDPOINT is set (none otherwise); the returned func exports what
// is left and stops it.
func tracingClientOptions(ctx context.Context, log *zap.Logger) ([]wiring.ClientOption, func()) {
	tr, err := tracing.Setup(ctx, "dcrflow")
	if err != nil {
		log.Warn("tracing is off", zap.Error(err))
		return nil, func() {}
	}
	if tr == nil {
		return nil, func() {}
	}
	return []wiring.ClientOption{tr.ClientOption()}, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tr.Shutdown(ctx)
	}
}
