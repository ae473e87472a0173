package testenv

import (
	"fmt"
	"strings"
	"testing"
)

type fakeT struct{ skipped, failed string }

func (f *fakeT) Helper()                       {}
func (f *fakeT) Skipf(format string, a ...any) { f.skipped = fmt.Sprintf(format, a...) }
func (f *fakeT) Fatalf(format string, a ...any) {
	f.failed = fmt.Sprintf(format, a...)
}

func TestMissing_SkipsOnACheckoutAndFailsWhenStrict(t *testing.T) {
	t.Setenv(EnvStrict, "")
	var f fakeT
	Missing(&f, "no CLI at %s", "bin/temporal")
	if f.skipped != "no CLI at bin/temporal" || f.failed != "" {
		t.Fatalf("not strict: %+v", f)
	}
	t.Setenv(EnvStrict, "1")
	f = fakeT{}
	Missing(&f, "no CLI at %s", "bin/temporal")
	if f.skipped != "" || !strings.Contains(f.failed, "no CLI at bin/temporal") || !strings.Contains(f.failed, EnvStrict) {
		t.Fatalf("strict: %+v", f)
	}
	var errs, logs []string
	MissingMessage(func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) },
		func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }, "specs %s not found", "dir")
	if len(errs) != 1 || len(logs) != 0 || !strings.Contains(errs[0], "specs dir not found") {
		t.Fatalf("strict message: errors %v, logs %v", errs, logs)
	}
}
