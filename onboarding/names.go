package onboarding

import (
	"strings"

	"github.com/dcrflow/dcrflow/internal/textsafe"
)

// closest returns the known name nearest to s (edit distance at most 2), or "".
func closest(s string, known []string) string {
	if len(s) > 64 {
		return ""
	}
	best, bestD := "", 3
	for _, k := range known {
		if d := textsafe.EditDistance(strings.ToLower(s), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// quote quotes a value for a message: shortened when long, secrets hidden.
func quote(s string) string { return textsafe.Quote(s) }

// clip is quote without the quotes.
func clip(s string) string { return textsafe.Clip(s) }
