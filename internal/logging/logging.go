// Package logging builds dcrflow's zap logger and hands the same core to the Temporal
// SDK, so the SDK's own logs come out in one format with the rest.
package logging

import (
	"log/slog"

	tlog "go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
	"go.uber.org/zap/zapcore"
)

// New returns a JSON logger at level ("debug", "info", "warn", "error").
func New(level string) (*zap.Logger, error) {
	cfg := zap.NewProductionConfig()
	if err := cfg.Level.UnmarshalText([]byte(level)); err != nil {
		return nil, err
	}
	cfg.Sampling = nil // every line matters when diagnosing one portal
	cfg.EncoderConfig.TimeKey = "time"
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	return cfg.Build()
}

// Temporal adapts l for client.Options.Logger.
func Temporal(l *zap.Logger) tlog.Logger {
	return tlog.NewStructuredLogger(slog.New(zapslog.NewHandler(l.Core(), zapslog.WithCaller(true))))
}
