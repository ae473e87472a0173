package doctor

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/launcher"
)

// TokenAgeDeps finds when each DCR token was last rotated (launcher.TokenAges over
// a Temporal client) and how old it may get.
type TokenAgeDeps struct {
	Ages    func(ctx context.Context, names []string) ([]launcher.TokenAge, error)
	MaxDays int
	Now     func() time.Time
}

// checkTokenAges warns about a DCR token not rotated through dcrflow for
// MaxDays or longer: Okta API tokens are long-lived secrets that every provider
// holding them shares.
func checkTokenAges(ctx context.Context, d Deps, add func(Check)) {
	if d.TokenAges.Ages == nil || len(d.DCRTokens) == 0 {
		return
	}
	maxDays, now := d.TokenAges.MaxDays, time.Now
	if maxDays <= 0 {
		maxDays = dcrflow.DefaultTokenMaxAgeDays
	}
	if d.TokenAges.Now != nil {
		now = d.TokenAges.Now
	}
	names := make([]string, 0, len(d.DCRTokens))
	for n := range d.DCRTokens {
		names = append(names, n)
	}
	sort.Strings(names)
	ages, err := d.TokenAges.Ages(ctx, names)
	if err != nil {
		add(Check{Name: "dcr token age", Status: Warn, Detail: "cannot read the rotation records from Temporal: " + err.Error(),
			Fix: "check the temporal settings; the age of the DCR tokens is not known"})
		return
	}
	for _, a := range ages {
		text, old := a.Describe(now(), maxDays)
		c := Check{Name: "okta.dcr_token " + a.Name + " age", Status: Pass, Detail: text}
		if old {
			c.Status = Warn
			c.Fix = fmt.Sprintf("create a new Okta API token, give the workers %s, then run: dcrflow rotate-dcr-token --name %s --wait (limit: rotation.max_token_age_days)",
				dcrflow.DCRTokenEnv(dcrflow.NextDCRTokenName(a.Name)), a.Name)
		}
		add(c)
	}
}
