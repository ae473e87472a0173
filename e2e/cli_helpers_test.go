package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/testsuite"

	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// buildDcrflow builds the dcrflow command (package ./starter) into dir as dir/dcrflow.
func buildDcrflow(t *testing.T, dir string) string {
	t.Helper()
	bin := build(t, dir, "./starter")
	out := filepath.Join(dir, "dcrflow")
	if err := os.Rename(bin, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// cliRig is a dev server, the sandbox, the worker binary polling taskQueue and the
// dcrflow binary, for tests that drive dcrflow as a user would.
type cliRig struct {
	dir, bin, workerBin, addr string
	srv                       *testsuite.DevServer
	sb                        *sandboxtest.Env
}

func startCLIRig(t *testing.T, taskQueue string, workerArgs ...string) *cliRig {
	t.Helper()
	r := &cliRig{dir: t.TempDir()}
	r.workerBin, r.bin = build(t, r.dir, "./worker"), buildDcrflow(t, r.dir)
	r.srv = devserver.Start(t)
	r.sb = sandboxtest.Start(t)
	startWorkerProc(t, r.workerBin, r.srv, r.sb, taskQueue, workerArgs...)
	r.addr = r.srv.FrontendHostPort()
	return r
}
