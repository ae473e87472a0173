package onboarding

import (
	"github.com/dcrflow/dcrflow/internal/textsafe"
	"strings"
)

// closest returns the known name nearest to s (edit distance at most 2), or "".
func closest(s string, known []string) string {
	if len(s) > 64 {
		return ""
	}
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(s), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// quote quotes a value for a message: shortened when long, secrets hidden.
func quote(s string) string { return textsafe.Quote(s) }

// clip is quote without the quotes.
func clip(s string) string { return textsafe.Clip(s) }
