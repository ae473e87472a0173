package config

import (
	"fmt"
	"slices"
	"strings"
)

// Log is how the binaries log:
//
//	log: {level: info, format: auto}   # or DCRFLOW_LOG_LEVEL, DCRFLOW_LOG_FORMAT
//
// Level is debug, info, warn or error (worker default info, dcrflow warn); Format is
// auto (human-readable console lines on a terminal, JSON otherwise), console or json.
// The Temporal SDK's own messages come out the same way.
type Log struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"`
}

// The log formats.
const (
	LogFormatAuto    = "auto"
	LogFormatConsole = "console"
	LogFormatJSON    = "json"
)

// LogLevels are the levels Log.Level takes.
var LogLevels = []string{"debug", "info", "warn", "error"}

func (l *Log) check(src string) []error {
	var errs []error
	l.Level = strings.ToLower(strings.TrimSpace(l.Level))
	l.Format = strings.ToLower(strings.TrimSpace(l.Format))
	if !slices.Contains(LogLevels, l.Level) {
		errs = append(errs, fmt.Errorf("config %s: log.level (%s_LOG_LEVEL) %q: want one of %s", src, EnvPrefix, l.Level, strings.Join(LogLevels, ", ")))
	}
	if l.Format != LogFormatAuto && l.Format != LogFormatConsole && l.Format != LogFormatJSON {
		errs = append(errs, fmt.Errorf("config %s: log.format (%s_LOG_FORMAT) %q: want auto, console or json", src, EnvPrefix, l.Format))
	}
	return errs
}
