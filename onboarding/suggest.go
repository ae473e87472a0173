package onboarding

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// firstNonZero is the first of vals that is not the zero value (the zero value when none is).
func firstNonZero[T comparable](vals ...T) T {
	var zero T
	for _, v := range vals {
		if v != zero {
			return v
		}
	}
	return zero
}

func firstBool(p, d flag, def bool) bool {
	if p.set && !p.bad {
		return p.val
	}
	if d.set && !d.bad {
		return d.val
	}
	return def
}

func eg(s string) string {
	if s == "" {
		return ""
	}
	return ", e.g. " + quote(s)
}

var nonKey = regexp.MustCompile(`[^a-z0-9]+`)

// suggestKey turns s into a valid key, or "".
func suggestKey(s string) string {
	k := strings.Trim(nonKey.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(k) > maxKeyLen {
		k = strings.TrimRight(k[:maxKeyLen], "-")
	}
	if !keyPattern.MatchString(k) {
		return ""
	}
	return k
}

var nonTokenName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

func suggestTokenName(s string) string {
	return strings.Trim(nonTokenName.ReplaceAllString(s, "-"), "-")
}

var nonLabel = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func suggestLabelValue(s string) string {
	v := nonLabel.ReplaceAllString(s, "-")
	if len(v) > maxLabelLen {
		v = v[:maxLabelLen]
	}
	v = strings.TrimFunc(v, func(r rune) bool { return !isAlnum(r) })
	if !labelValuePattern.MatchString(v) {
		return ""
	}
	return v
}

func isAlnum(r rune) bool { return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) }
