package onboarding

import "testing"

// A file may spell a token name with '_' and uppercase; the spec carries the one
// normal form the worker keys its tokens by, so the lookup matches.
func TestParse_DCRTokenNameInItsNormalForm(t *testing.T) {
	specs, err := Parse("portals.yaml", []byte(`defaults: {dcr_token: Partners_EU}
portals:
  - {name: a, scopes: [a:read], apis: [x]}
  - {name: b, scopes: [b:read], apis: [x], dcr_provider: {dcr_token: OTHER_Token}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if specs[0].DCRTokenName != "partners-eu" || specs[1].DCRTokenName != "other-token" {
		t.Errorf("token names %q, %q; want partners-eu, other-token", specs[0].DCRTokenName, specs[1].DCRTokenName)
	}
}
