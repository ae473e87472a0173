// Package testenv decides what a test does when its set-up is missing (the Temporal
// CLI, the ../shared/specs folder, a pseudo-terminal): on a user's checkout it skips
// with the reason; where DCRFLOW_TEST_STRICT=1 (.ci/run sets it) it fails, so a broken
// set-up can never pass green.
package testenv

import (
	"fmt"
	"os"
)

// EnvStrict turns missing set-up from a skip into a failure.
const EnvStrict = "DCRFLOW_TEST_STRICT"

// T is the part of testing.TB used here.
type T interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Strict says whether missing set-up fails the test.
func Strict() bool { return os.Getenv(EnvStrict) == "1" }

// Missing reports set-up the test needs and does not have: a skip, or under
// EnvStrict a failure naming it.
func Missing(t T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Strict() {
		t.Fatalf("%s (%s=1: missing set-up fails the test)", msg, EnvStrict)
		return
	}
	t.Skipf("%s", msg)
}

// MissingMessage is Missing for code that only logs (a Reporter with no Skip): under
// EnvStrict report it as an error, else as a note.
func MissingMessage(errorf, logf func(format string, args ...any), format string, args ...any) {
	if Strict() {
		errorf(format+" (%s=1: missing set-up fails the test)", append(args, EnvStrict)...)
		return
	}
	logf(format, args...)
}
