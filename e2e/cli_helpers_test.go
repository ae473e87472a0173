package e2e

import (
	"os"
	"path/filepath"
	"testing"
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
