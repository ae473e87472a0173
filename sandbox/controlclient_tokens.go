package sandbox

import (
	"context"
	"net/http"
	"time"

	"github.com/dcrflow/dcrflow/sandbox/okta"
)

// AddDCRToken makes token an active DCR token of the Okta org.
func (c Control) AddDCRToken(ctx context.Context, token string) error {
	return c.do(ctx, http.MethodPost, "okta/dcr-tokens", DCRTokenCall{Token: token}, nil)
}

// RevokeDCRToken revokes a DCR token of the Okta org.
func (c Control) RevokeDCRToken(ctx context.Context, token string) error {
	return c.do(ctx, http.MethodPost, "okta/dcr-tokens/revoke", DCRTokenCall{Token: token}, nil)
}

// ExpireDCRToken expires a DCR token of the Okta org now.
func (c Control) ExpireDCRToken(ctx context.Context, token string) error {
	return c.do(ctx, http.MethodPost, "okta/dcr-tokens/expire", DCRTokenCall{Token: token}, nil)
}

// AdvanceOktaClock moves the Okta org's DCR token clock forward by d.
func (c Control) AdvanceOktaClock(ctx context.Context, d time.Duration) error {
	return c.do(ctx, http.MethodPost, "okta/clock", ClockAdvance{Advance: d.String()}, nil)
}

// DCRTokens lists the Okta org's DCR tokens by fingerprint.
func (c Control) DCRTokens(ctx context.Context) ([]okta.DCRTokenState, error) {
	var out []okta.DCRTokenState
	err := c.do(ctx, http.MethodGet, "okta/dcr-tokens", nil, &out)
	return out, err
}
