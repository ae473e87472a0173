// Package textsafe keeps what users type from hurting when it is echoed or compared:
// it clips long values, recognises token-shaped secrets (and shows a few characters
// of them at most), finds invisible format characters, and folds names the way Okta
// and Konnect compare them.
package textsafe

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// MaxShown is how many characters of a value a message shows.
const MaxShown = 60

// Clip shortens s to MaxShown characters (then "…") and hides any secret in what it
// shows. It reads little further into s than it shows (a secret that starts in view is
// read whole), so a value of megabytes costs no more than a short one.
func Clip(s string) string {
	const window = MaxShown*utf8.UTFMax + 1024
	if len(s) > window {
		s = strings.ToValidUTF8(s[:window], "") + "…" // cut again below
	}
	s = Redact(s)
	n := 0
	for i := range s {
		if n == MaxShown {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// Quote is Clip in double quotes, escapes and all, for messages.
func Quote(s string) string { return strconv.Quote(Clip(s)) }

// shownOfSecret is how many characters of a secret a message keeps.
const shownOfSecret = 7

const passwordInURL = "a password in a URL"

// Secret is a token-shaped part of a value.
type Secret struct {
	Start, End int    // byte offsets in the value
	Kind       string // e.g. "a Konnect access token"
}

// Shown is the secret as a message may show it: its first characters, then "…".
func (s Secret) Shown(val string) string {
	if s.Kind == passwordInURL { // what comes before it, not a character of it
		return val[max(0, s.Start-16):s.Start] + "…"
	}
	v := val[s.Start:s.End]
	if len(v) > shownOfSecret {
		v = v[:shownOfSecret]
	}
	return v + "…"
}

// FindSecret returns the first token-shaped part of s: a Konnect personal or system
// access token (kpat_…, spat_…), an Okta API token (00 and 40 more characters), a
// JWT, an SSWS or Bearer authorization, or the password of a URL's user:password@.
func FindSecret(s string) (Secret, bool) {
	if len(s) < 10 {
		return Secret{}, false
	}
	if i := strings.Index(s, "://"); i >= 0 {
		if sec, ok := urlPassword(s, i+3); ok {
			return sec, true
		}
	}
	for i := 0; i < len(s); {
		if !tokenByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && (tokenByte(s[j]) || s[j] == '.') {
			j++
		}
		if kind := tokenKind(s[i:j]); kind != "" {
			return Secret{Start: i, End: j, Kind: kind}, true
		}
		if w := s[i:j]; (w == "SSWS" || strings.EqualFold(w, "bearer")) && j+1 < len(s) && s[j] == ' ' {
			k := j + 1
			for k < len(s) && (tokenByte(s[k]) || s[k] == '.' || s[k] == '~' || s[k] == '+' || s[k] == '/' || s[k] == '=') {
				k++
			}
			if k-(j+1) >= 16 {
				kind := "a Bearer authorization"
				if w == "SSWS" {
					kind = "an SSWS authorization"
				}
				return Secret{Start: j + 1, End: k, Kind: kind}, true
			}
		}
		i = j
	}
	return Secret{}, false
}

func tokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// tokenKind names the kind of token w is, or "".
func tokenKind(w string) string {
	switch {
	case (strings.HasPrefix(w, "kpat_") || strings.HasPrefix(w, "spat_")) && len(w) >= 5+16 && !strings.Contains(w, "."):
		return "a Konnect access token"
	case strings.HasPrefix(w, "00") && !strings.Contains(w, ".") && len(w) >= 40 && len(w) <= 48 && mixed(w):
		return "an Okta API token"
	case strings.HasPrefix(w, "eyJ") && strings.Count(w, ".") == 2 && len(w) >= 30:
		return "a JWT"
	}
	return ""
}

// mixed says w (after its "00") looks generated rather than written: upper- and
// lower-case letters and a digit, and few separators (a name such as
// 00-orders-service-for-the-payments-team-v2 has many).
func mixed(w string) bool {
	var upper, lower, digit, sep int
	for _, c := range []byte(w[2:]) {
		switch {
		case c >= 'A' && c <= 'Z':
			upper++
		case c >= 'a' && c <= 'z':
			lower++
		case c >= '0' && c <= '9':
			digit++
		default:
			sep++
		}
	}
	return upper >= 2 && lower >= 2 && digit >= 1 && sep <= 4
}

// urlPassword finds the password of scheme://user:password@host, from just after "://".
func urlPassword(s string, from int) (Secret, bool) {
	end := from
	for end < len(s) && !strings.ContainsRune("/?# \t\n", rune(s[end])) {
		end++
	}
	auth := s[from:end]
	at := strings.LastIndexByte(auth, '@')
	if at < 0 {
		return Secret{}, false
	}
	colon := strings.IndexByte(auth[:at], ':')
	if colon < 0 || colon+1 == at {
		return Secret{}, false
	}
	return Secret{Start: from + colon + 1, End: from + at, Kind: passwordInURL}, true
}

// Redact replaces every secret in s by its first characters and "…".
func Redact(s string) string {
	sec, ok := FindSecret(s)
	if !ok {
		return s
	}
	var b strings.Builder
	for ok {
		b.WriteString(s[:sec.Start])
		if sec.Kind == passwordInURL {
			b.WriteString("…")
		} else {
			b.WriteString(sec.Shown(s))
		}
		s = s[sec.End:]
		sec, ok = FindSecret(s)
	}
	b.WriteString(s)
	return b.String()
}

// Invisible reports the first character of s that a reader cannot see or that
// changes how the text around it reads: format characters (bidi controls, zero-width
// characters, the byte-order mark, soft hyphen, tag characters), NEL and the
// Unicode line and paragraph separators.
func Invisible(s string) (rune, int, bool) {
	for i, r := range s {
		if IsInvisible(r) {
			return r, i, true
		}
	}
	return 0, -1, false
}

// IsInvisible is the test Invisible applies to one character.
func IsInvisible(r rune) bool {
	return r == 0x85 || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

var runeNames = map[rune]string{
	0x85: "NEXT LINE", 0xAD: "SOFT HYPHEN", 0x061C: "ARABIC LETTER MARK",
	0x200B: "ZERO WIDTH SPACE", 0x200C: "ZERO WIDTH NON-JOINER", 0x200D: "ZERO WIDTH JOINER",
	0x200E: "LEFT-TO-RIGHT MARK", 0x200F: "RIGHT-TO-LEFT MARK",
	0x2028: "LINE SEPARATOR", 0x2029: "PARAGRAPH SEPARATOR",
	0x202A: "LEFT-TO-RIGHT EMBEDDING", 0x202B: "RIGHT-TO-LEFT EMBEDDING", 0x202C: "POP DIRECTIONAL FORMATTING",
	0x202D: "LEFT-TO-RIGHT OVERRIDE", 0x202E: "RIGHT-TO-LEFT OVERRIDE",
	0x2060: "WORD JOINER", 0x2066: "LEFT-TO-RIGHT ISOLATE", 0x2067: "RIGHT-TO-LEFT ISOLATE",
	0x2068: "FIRST STRONG ISOLATE", 0x2069: "POP DIRECTIONAL ISOLATE", 0xFEFF: "ZERO WIDTH NO-BREAK SPACE (byte-order mark)",
}

// RuneName writes a character for a message: U+202E (RIGHT-TO-LEFT OVERRIDE).
func RuneName(r rune) string {
	s := "U+" + strings.ToUpper(strconv.FormatInt(int64(r), 16))
	for len(s) < 6 {
		s = "U+0" + s[2:]
	}
	if n, ok := runeNames[r]; ok {
		return s + " (" + n + ")"
	}
	return s
}

// Fold is the form in which two names are one to a system that ignores case and
// Unicode compatibility differences: NFKC, case-folded, NFKC again. (A Caser is not
// safe for concurrent use: one is made per call.)
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] < utf8.RuneSelf
	}
	if ascii {
		return strings.ToLower(s) // NFKC leaves ASCII as it is
	}
	return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(s)))
}

// LookAlike says a and b are the same text in other code points (composed or not),
// which a message must then show as escapes to tell apart.
func LookAlike(a, b string) bool { return a != b && norm.NFC.String(a) == norm.NFC.String(b) }

// EditDistance is the Levenshtein distance of a and b, in bytes: how far a typo is
// from the name meant.
func EditDistance(a, b string) int {
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

// OneLine keeps a message of a library on one line of stderr, hides any secret it
// quotes and cuts it short.
func OneLine(s string) string {
	s = Redact(strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " "))
	if len(s) > maxLibraryMessage {
		s = strings.ToValidUTF8(s[:maxLibraryMessage], "") + "…"
	}
	return s
}

// maxLibraryMessage bounds what a message quotes of another library's error.
const maxLibraryMessage = 400
