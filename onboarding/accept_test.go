package onboarding

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow/activities"
)

func TestParse_AcceptsSharedResourcesWithTheSameSettings(t *testing.T) {
	// Two portals on one Konnect portal and one auth server, each with its own
	// strategy; and two portals sharing a provider and a strategy with equal settings.
	specs, err := Parse("f.yaml", []byte(`
portals:
  - name: a
    portal: shop
    scopes: [shop:read]
    apis: [orders]
  - name: b
    portal: shop
    scopes: [shop:write]
    apis: [invoices]
  - name: c
    scopes: [x, y]
    dcr_provider: {name: shared}
    auth_strategy: {name: shared, display_name: Shared}
  - name: d
    scopes: [y, x]
    dcr_provider: {name: shared}
    auth_strategy: {name: shared, display_name: Shared}
`))
	if err != nil || len(specs) != 4 {
		t.Fatalf("specs = %d, err = %v", len(specs), err)
	}
}

func TestParse_Labels(t *testing.T) {
	specs, err := Parse("f.yaml", []byte(`
defaults:
  labels: {team: platform, env: prod}
portals:
  - name: a
    scopes: [x]
    labels: {team: payments, cost-center: "4711", version: 1.2}
  - name: b
    scopes: [x]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"team": "payments", "env": "prod", "cost-center": "4711", "version": "1.2"}
	if got := specs[0].Labels; len(got) != len(want) || got["team"] != "payments" || got["env"] != "prod" || got["cost-center"] != "4711" || got["version"] != "1.2" {
		t.Errorf("a: labels = %v, want %v (the portal's win over the defaults')", got, want)
	}
	if got := specs[1].Labels; len(got) != 2 || got["team"] != "platform" {
		t.Errorf("b: labels = %v, want the defaults'", got)
	}
	specs, err = Parse("f.yaml", []byte("portals:\n  - name: a\n    scopes: [x]\n"))
	if err != nil || specs[0].Labels != nil {
		t.Errorf("no labels: %v, %v", specs[0].Labels, err)
	}
}

func TestParse_AliasesAndMerges(t *testing.T) {
	specs, err := Parse("f.yaml", []byte(`
portals:
  - &base
    name: a
    auth_server: partners
    scopes: &scopes [x:read, x:write]
    apis: [orders]
  - <<: *base
    name: b
    portal: b
    apis: [invoices]
  - name: c
    scopes: *scopes
`))
	if err != nil {
		t.Fatal(err)
	}
	if b := specs[1]; b.Key != "b" || b.AuthServer != "partners" || len(b.Scopes) != 2 || len(b.APIs) != 1 || b.APIs[0].API != "invoices" {
		t.Errorf("b = %+v, want a's fields merged in, its own winning", b)
	}
	if c := specs[2]; len(c.Scopes) != 2 || c.Scopes[1].Name != "x:write" {
		t.Errorf("c = %+v", c)
	}
}

func TestParse_AliasesCannotBlowUp(t *testing.T) {
	// 2,000 aliases to a portal with 2,000 scopes: four million values from a 30 kB file.
	big := "portals:\n  - &p\n    name: p\n    scopes: [" + manyScopes(2000) + "]\n" + strings.Repeat("  - *p\n", 2000)
	_, err := Parse("f.yaml", []byte(big))
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) > maxProblems+1 {
		t.Fatalf("err = %.300v", err)
	}
	if !strings.Contains(err.Error(), "f.yaml: the file's aliases (*name) expand to more than 1000000 values; write the values out") {
		t.Errorf("err = %.600v", err)
	}
}

func TestParse_KeepsBoolCompatibility(t *testing.T) {
	// yaml.v3 read unquoted yes/no/on/off as booleans; files written that way still load.
	specs, err := Parse("f.yaml", []byte("defaults: {validate: no}\nportals:\n  - name: a\n    scopes: [x]\n    apis: [{api: x, auto_approve: yes}]\n"))
	if err != nil || specs[0].Validate || !specs[0].APIs[0].AutoApprove {
		t.Fatalf("specs = %+v, err = %v", specs, err)
	}
}

func TestReservedLabelsAreTheActivities(t *testing.T) {
	// dcrflowLabels must name exactly the labels activities put on what they create.
	want := []string{activities.LabelManagedBy, activities.LabelPortal, activities.LabelRun}
	if !slices.Equal(dcrflowLabels, want) || maxUserLabels != 50-len(want) {
		t.Fatalf("dcrflowLabels = %v, maxUserLabels = %d; activities use %v", dcrflowLabels, maxUserLabels, want)
	}
}
