package main

import (
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

// buildInfo is what version reports.
type buildInfo struct {
	Type        string `json:"type"`
	Version     string `json:"version"`
	Commit      string `json:"commit,omitempty"`
	Modified    bool   `json:"modified,omitempty"`
	Go          string `json:"go"`
	TemporalSDK string `json:"temporal_sdk,omitempty"`
}

func readBuildInfo() buildInfo {
	b := buildInfo{Type: "version", Version: version, Go: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	for _, d := range info.Deps {
		if d.Path == "go.temporal.io/sdk" {
			b.TemporalSDK = d.Version
		}
	}
	return b
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print dcrflow's version, commit, Go and Temporal SDK versions",
		Example: "  dcrflow version\n  dcrflow version -o json",
		Args:    noStrayArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := readBuildInfo()
			if a.jsonOut {
				return a.emit(b)
			}
			commit := b.Commit
			if commit == "" {
				commit = "unknown"
			}
			if b.Modified {
				commit += " (modified)"
			}
			a.printf("dcrflow %s\n  commit:       %s\n  go:           %s\n  temporal sdk: %s\n", b.Version, commit, b.Go, b.TemporalSDK)
			return nil
		},
	}
}
