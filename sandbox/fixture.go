package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/dcrflow/dcrflow/sandbox/konnect"
	"github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/ratelimit"
)

// Fixture seeds a sandbox: the two orgs and their request budgets.
type Fixture struct {
	Okta       okta.Seed    `json:"okta"`
	Konnect    konnect.Seed `json:"konnect"`
	RateLimits RateLimits   `json:"rate_limits"`
}

// RateLimits are the per-minute budgets of each bucket; zero means unlimited.
type RateLimits struct {
	OktaManagement ratelimit.Settings `json:"okta_management"`
	OktaDCR        ratelimit.Settings `json:"okta_dcr"`
	OktaToken      ratelimit.Settings `json:"okta_token,omitempty"` // the authorization servers' token endpoints
	Konnect        ratelimit.Settings `json:"konnect"`
}

// DefaultFixture is each emulator's default seed, with no rate limits.
func DefaultFixture() Fixture {
	return Fixture{Okta: okta.DefaultSeed(), Konnect: konnect.DefaultSeed()}
}

// LoadFixture reads a JSON fixture strictly: an unknown field is an error, so a typo
// cannot silently seed less than intended. Sections left out keep their defaults.
func LoadFixture(path string) (Fixture, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Fixture{}, fmt.Errorf("fixture: %w", err)
	}
	fx := DefaultFixture()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fx); err != nil {
		return Fixture{}, fmt.Errorf("fixture %s: %w", path, err)
	}
	return fx, nil
}
