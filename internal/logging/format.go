package logging

import (
	"fmt"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/term"
)

// NewFor returns a logger at level writing to out in format: "json", "console"
// (human-readable lines: time, level, message, fields) or "auto" (console when out is
// a terminal, JSON otherwise). Give the same logger to the Temporal SDK (Temporal) and
// its messages come out in the same format.
func NewFor(level, format string, out *os.File) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, err
	}
	switch format {
	case "", "auto", "console", "json":
	default:
		return nil, fmt.Errorf("log format %q: want auto, console or json", format)
	}
	if format == "" || format == "auto" {
		format = "json"
		if term.IsTerminal(int(out.Fd())) {
			format = "console"
		}
	}
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "time"
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	var encoder zapcore.Encoder
	if format == "console" {
		enc.EncodeLevel = zapcore.CapitalLevelEncoder
		enc.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
		enc.CallerKey = "" // a person reads the message, not the file
		encoder = zapcore.NewConsoleEncoder(enc)
	} else {
		encoder = zapcore.NewJSONEncoder(enc)
	}
	core := zapcore.NewCore(encoder, zapcore.Lock(out), lvl)
	return zap.New(core, zap.AddCaller(), zap.ErrorOutput(zapcore.Lock(os.Stderr))), nil
}
