package onboarding

import (
	"strings"
	"testing"
)

func TestParse_AppliesDefaults(t *testing.T) {
	specs, err := Parse("portals.yaml", []byte(`
defaults:
  dcr_token: okta-prod
  visibility: public
  on_failure: hold
portals:
  - name: payments
    scopes: [payments:read, {name: payments:write, description: Write}]
    apis: [payments-api, {api: refunds, visibility: private, auto_approve: true}]
  - portal: partners
    auth_server: partners
    claim: app_id # not cid: Okta sets that one itself
    scopes: [partners:read]
    dcr_provider: {name: shared-okta, dcr_token: okta-partners}
    auth_strategy: {auth_methods: [client_credentials]}
    validate: false
    on_failure: compensate
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 {
		t.Fatalf("got %d portals", len(specs))
	}
	p := specs[0]
	if p.Key != "payments" || p.Portal != "payments" || p.AuthServer != DefaultAuthServer || p.ClaimName != DefaultClaim ||
		p.DCRProvider != "dcrflow-payments" || p.DCRTokenName != "okta-prod" || p.Strategy.Name != "dcrflow-payments" || !p.Validate ||
		p.OnFailure != "hold" {
		t.Fatalf("payments = %+v", p)
	}
	if len(p.Scopes) != 2 || p.Scopes[1].Description != "Write" {
		t.Fatalf("scopes = %+v", p.Scopes)
	}
	if p.APIs[0].Visibility != "public" || p.APIs[0].AutoApprove || p.APIs[1].Visibility != "private" || !p.APIs[1].AutoApprove {
		t.Fatalf("apis = %+v", p.APIs)
	}
	q := specs[1]
	if q.Key != "partners" || q.AuthServer != "partners" || q.ClaimName != "app_id" || q.DCRProvider != "shared-okta" ||
		q.DCRTokenName != "okta-partners" || len(q.Strategy.AuthMethods) != 1 || q.Validate || q.OnFailure != "compensate" {
		t.Fatalf("partners = %+v", q)
	}
}

func TestParse_ReportsEveryProblemWithLineAndField(t *testing.T) {
	_, err := Parse("bad.yaml", []byte(`portals:
  - name: payments
    scopes: [openid]
  - name: payments
    scopes: [ok]
    auth_strategy: {auth_methods: [password]}
    apis: [{api: x, visibility: secret}]
  - name: Bad Name
    on_failure: pause
`))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		// Each problem points at the line of the value at fault, not the portal's first line.
		`bad.yaml:3: portal "payments": scopes: ` + "`openid`",
		`bad.yaml:4: portal "payments": name: duplicate portal (first at line 2)`,
		`bad.yaml:6: portal "payments": auth_strategy.auth_methods: "password"`,
		`bad.yaml:7: portal "payments": apis.visibility: "secret"`,
		`bad.yaml:8: portal "Bad Name": name: "Bad Name": use lowercase`,
		`bad.yaml:8: portal "Bad Name": scopes: list at least one`,
		`bad.yaml:9: portal "Bad Name": on_failure: "pause"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
}

func TestParse_RefusesUnknownFieldsAtEveryLevel(t *testing.T) {
	for name, c := range map[string]struct{ doc, want string }{
		"top":      {"portal: []\n", "f.yaml:1: portal: unknown field"},
		"portal":   {"portals:\n  - name: a\n    scope: [x]\n", `f.yaml:3: portal "a": scope: unknown field`},
		"scope":    {"portals:\n  - name: a\n    scopes:\n      - {name: x, descr: y}\n", `f.yaml:4: portal "a": scopes.descr: unknown field`},
		"api":      {"portals:\n  - name: a\n    scopes: [x]\n    apis:\n      - {api: x, visible: public}\n", `f.yaml:5: portal "a": apis.visible: unknown field`},
		"provider": {"portals:\n  - name: a\n    scopes: [x]\n    dcr_provider: {token: x}\n", `f.yaml:4: portal "a": dcr_provider.token: unknown field`},
		"strategy": {"portals:\n  - name: a\n    scopes: [x]\n    auth_strategy: {methods: [bearer]}\n", `f.yaml:4: portal "a": auth_strategy.methods: unknown field`},
		"defaults": {"defaults: {token: x}\nportals:\n  - name: a\n    scopes: [x]\n", `f.yaml:1: defaults.token: unknown field`},
	} {
		// The file and line are written file:line, as compilers do, rather than "line N".
		if _, err := Parse("f.yaml", []byte(c.doc)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}

func TestParse_AccessPolicyAndValidationModes(t *testing.T) {
	specs, err := Parse("portals.yaml", []byte(`
defaults:
  access_policy: ensure
  validate: konnect
portals:
  - name: payments
    scopes: [payments:read]
    validation_owner: {type: developer, id: 5B3C7A10-2D4E-4F60-8A9B-0C1D2E3F4A5B}
  - name: partners
    scopes: [partners:read]
    access_policy: check
    validate: true
  - name: quiet
    scopes: [quiet:read]
    validate: false
`))
	if err != nil {
		t.Fatal(err)
	}
	p, q, r := specs[0], specs[1], specs[2]
	if p.AccessPolicy != "ensure" || !p.Validate || p.ValidateVia != "konnect" || p.ValidationOwner == nil ||
		p.ValidationOwner.Type != "developer" || p.ValidationOwner.ID != "5b3c7a10-2d4e-4f60-8a9b-0c1d2e3f4a5b" {
		t.Fatalf("payments = %+v owner %+v", p, p.ValidationOwner)
	}
	if q.AccessPolicy != "check" || !q.Validate || q.ValidateVia != "okta" || q.ValidationOwner != nil {
		t.Fatalf("partners = %+v", q)
	}
	if r.Validate || r.ValidateVia != "" || r.AccessPolicy != "ensure" {
		t.Fatalf("quiet = %+v", r)
	}
	plain, err := Parse("p.yaml", []byte("portals:\n  - name: a\n    scopes: [a:read]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if plain[0].AccessPolicy != "check" || plain[0].ValidateVia != "okta" {
		t.Fatalf("defaults = %+v", plain[0])
	}
}
