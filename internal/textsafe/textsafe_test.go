package textsafe

import (
	"strings"
	"testing"
)

const (
	kpat = "kpat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefgh"
	okta = "00AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"
	jwt  = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
)

func TestFindSecret(t *testing.T) {
	for _, tc := range []struct{ in, kind, shown string }{
		{kpat, "a Konnect access token", "kpat_Ab…"},
		{"spat_" + kpat[5:], "a Konnect access token", "spat_Ab…"},
		{"team " + okta + " x", "an Okta API token", "00AbCdE…"},
		{jwt, "a JWT", "eyJhbGc…"},
		{"SSWS " + okta[2:], "an SSWS authorization", "AbCdEfG…"},
		{"Bearer abcdefghijklmnopqrstuvwxyz", "a Bearer authorization", "abcdefg…"},
		{"https://bob:hunter2secret@acme.okta.com/x", "a password in a URL", "https://bob:…"},
	} {
		sec, ok := FindSecret(tc.in)
		if !ok || sec.Kind != tc.kind || sec.Shown(tc.in) != tc.shown {
			t.Errorf("%q: %+v %v, shown %q; want %s, %q", tc.in, sec, ok, sec.Shown(tc.in), tc.kind, tc.shown)
		}
	}
	for _, s := range []string{"payments", "dcrflow-payments", "kpat_short", "00000000-0000-0000-0000-000000000000", "https://acme.okta.com/oauth2/default",
		"https://user@acme.okta.com", "payments:read", "aus1abcdefghijklmnopq", strings.Repeat("0", 42),
		"00-orders-service-for-the-payments-team-v2", "00Orders-Service-For-The-Payments-Team-V2x"} {
		if sec, ok := FindSecret(s); ok {
			t.Errorf("%q: found %+v", s, sec)
		}
	}
}

func TestClip_HidesSecretsAndReadsNoFurtherThanItShows(t *testing.T) {
	if got := Clip("token " + kpat + " end"); got != "token kpat_Ab… end" {
		t.Errorf("Clip = %q", got)
	}
	long := strings.Repeat("é", 1<<20)
	if got := Clip(long); got != strings.Repeat("é", MaxShown)+"…" {
		t.Errorf("Clip(1 MiB) = %d bytes", len(got))
	}
	if got := Quote("a\u202eb"); got != `"a\u202eb"` {
		t.Errorf("Quote = %s", got)
	}
}

func TestInvisible(t *testing.T) {
	for _, r := range []rune{0x85, 0xAD, 0x200B, 0x200D, 0x200E, 0x202E, 0x2028, 0x2029, 0x2066, 0xFEFF, 0xE0041} {
		if _, _, ok := Invisible("a" + string(r) + "b"); !ok {
			t.Errorf("%s not found", RuneName(r))
		}
	}
	for _, s := range []string{"payments", "Zoë", "日本", "a b", "e\u0301"} {
		if r, _, ok := Invisible(s); ok {
			t.Errorf("%q: found %s", s, RuneName(r))
		}
	}
	if got := RuneName(0x202E); got != "U+202E (RIGHT-TO-LEFT OVERRIDE)" {
		t.Errorf("RuneName = %q", got)
	}
	if got := RuneName(0x85); got != "U+0085 (NEXT LINE)" {
		t.Errorf("RuneName = %q", got)
	}
}

func TestFold(t *testing.T) {
	for _, pair := range [][2]string{{"Shared", "shared"}, {"Zoë", "Zoe\u0308"}, {"ｓｈａｒｅｄ", "shared"}, {"STRASSE", "straße"}} {
		if Fold(pair[0]) != Fold(pair[1]) {
			t.Errorf("Fold(%q) = %q, Fold(%q) = %q", pair[0], Fold(pair[0]), pair[1], Fold(pair[1]))
		}
	}
	if Fold("shared") == Fold("shared-2") {
		t.Error("different names fold alike")
	}
}
