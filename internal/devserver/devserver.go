// Package devserver starts a real Temporal dev server (the Temporal CLI pinned in
// tools/go.mod, built into bin/temporal by `make`) for a test, on free ports.
package devserver

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/testenv"
)

// EnvBinary names the temporal CLI to use; `make test` sets it.
const EnvBinary = "DCRFLOW_TEMPORAL_BIN"

// binary finds the CLI: $DCRFLOW_TEMPORAL_BIN, else bin/temporal at the module root.
func binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v (run `make bin/temporal`)", EnvBinary, p, err)
		}
		return p
	}
	wd, _ := os.Getwd()
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(d, "bin", "temporal")
			if _, err := os.Stat(p); err != nil {
				testenv.Missing(t, "no Temporal CLI at %s: run `make test` (it builds bin/temporal) or set %s", p, EnvBinary)
			}
			return p
		}
		if filepath.Dir(d) == d {
			testenv.Missing(t, "no module root above %s", wd)
		}
	}
}

// Start runs a dev server until the test ends and returns it; srv.Client() is a
// client on the default namespace.
func Start(t testing.TB) *testsuite.DevServer {
	t.Helper()
	quiet := tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv, err := testsuite.StartDevServer(context.Background(), testsuite.DevServerOptions{
		ExistingPath:  binary(t),
		ClientOptions: &client.Options{Namespace: "default", Logger: quiet},
		LogLevel:      "error",
		// dcrflow's custom search attributes, as a deployment registers them.
		SearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(dcrflow.SearchAttrPortal).ValueSet(""),
			temporal.NewSearchAttributeKeyKeyword(dcrflow.SearchAttrStep).ValueSet(""),
			temporal.NewSearchAttributeKeyKeyword(dcrflow.SearchAttrOutcome).ValueSet(""),
			temporal.NewSearchAttributeKeyKeyword(dcrflow.SearchAttrDrift).ValueSet(""),
		),
		Stdout: io.Discard,
		Stderr: io.Discard,
	})
	if err != nil {
		t.Fatalf("start Temporal dev server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Logf("stop dev server: %v", err)
		}
	})
	return srv
}
