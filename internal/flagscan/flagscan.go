// Package flagscan reads the flags a built binary offers from its -h output, for
// tests that check the flags the deployment files and the docs pass to it.
package flagscan

import (
	"maps"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Flags runs bin -h and returns the flags it lists: a Go flag set's (-name) or,
// for a command with subcommands (dcrflow), those of the root and of every subcommand
// (-f, --file).
func Flags(t *testing.T, bin string, sub ...string) map[string]bool {
	t.Helper()
	out, _ := exec.Command(bin, append(sub, "-h")...).CombinedOutput() // -h exits 0 or 2 depending on the flag set
	flags := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "-") {
			l, _, _ = strings.Cut(strings.ReplaceAll(l, "\t", "  "), "  ")
			for _, m := range regexp.MustCompile(`--?([A-Za-z0-9][A-Za-z0-9_.-]*)`).FindAllStringSubmatch(l, -1) {
				flags[m[1]] = true
			}
		}
	}
	if len(sub) == 0 {
		if _, cmds, ok := strings.Cut(string(out), "Available Commands:\n"); ok {
			cmds, _, _ = strings.Cut(cmds, "\n\n")
			for _, line := range strings.Split(cmds, "\n") {
				if f := strings.Fields(line); len(f) > 0 && f[0] != "help" && f[0] != "completion" {
					maps.Copy(flags, Flags(t, bin, f[0]))
				}
			}
		}
	}
	if len(flags) == 0 {
		t.Fatalf("%s -h lists no flags:\n%s", bin, out)
	}
	return flags
}

// Check: every -flag in args exists on the binary.
func Check(t *testing.T, where string, args []string, flags map[string]bool) {
	t.Helper()
	for _, a := range args {
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !flags[name] {
			t.Errorf("%s passes %s, which the binary does not have (it has %v)", where, a, slices.Sorted(maps.Keys(flags)))
		}
	}
}
