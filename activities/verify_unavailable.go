package activities

import (
	"fmt"
	"regexp"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/dcrflow/dcrflow"
)

// oktaTrouble matches Konnect's account of a verify that failed because Okta, which
// Konnect calls with the provider's DCR token, answered 429 or 5xx, or could not be
// reached: that verdict says nothing about the token or the issuer, and a retry may
// pass (found by the soak, `make soak`, with faults on Okta's DCR endpoint).
var oktaTrouble = regexp.MustCompile(`answered (429|5\d\d)\b|could not be reached|\b(EOF|connection reset|connection refused|timeout|deadline exceeded)\b`)

// verifyUnavailable is a retryable error when Konnect's account of a failed verify
// says Okta was unavailable to it, nil otherwise (the verdict stands).
func verifyUnavailable(name string, account ...string) error {
	for _, a := range account {
		if oktaTrouble.MatchString(a) {
			return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("Konnect could not verify DCR provider %q: Okta was unavailable to it (%s); retried",
				name, strings.TrimSpace(a)), dcrflow.ErrTypeTransient, temporal.ApplicationErrorOptions{})
		}
	}
	return nil
}
