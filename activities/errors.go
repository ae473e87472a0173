package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/ratelimit"
)

// apiError turns a client error into the Temporal error the retry policy acts on:
// 5xx, 429, dropped connections and timeouts are retried (429 after the server's
// reset, a request the worker's budget deferred after its slot); 400/401/403/404/409
// fail at once with the server's message, and so does every other error: a call
// refused before it was sent (an empty id), an answer that cannot be used (a body
// that does not decode, pages that never end) is refused the same way next time.
func apiError(op string, err error) error {
	if err == nil {
		return nil
	}
	status, temporary, wait := classify(err)
	msg := fmt.Sprintf("%s: %v", op, err)
	deferred, isDeferred := ratelimit.AsBudgetError(err)
	_, tooSmall := ratelimit.AsErrTooSmall(err)
	switch {
	case tooSmall: // no wait lets it through while the budget and the workers stay as they are
		return temporal.NewNonRetryableApplicationError(msg, dcrflow.ErrTypeConfig, nil)
	case errors.Is(err, konnect.ErrAmbiguous): // several resources share the name: no retry changes that
		return temporal.NewNonRetryableApplicationError(msg+"; rename one in Konnect or choose another name in the onboarding file", dcrflow.ErrTypeConflict, nil)
	case isDeferred: // not sent: retried when the budget has room, like a 429
		return temporal.NewApplicationErrorWithOptions(msg, dcrflow.ErrTypeRateLimited, temporal.ApplicationErrorOptions{
			NextRetryDelay: max(deferred.Wait, time.Millisecond), Category: temporal.ApplicationErrorCategoryBenign})
	case status == http.StatusTooManyRequests:
		return temporal.NewApplicationErrorWithOptions(msg, dcrflow.ErrTypeRateLimited, temporal.ApplicationErrorOptions{
			NextRetryDelay: wait, Category: temporal.ApplicationErrorCategoryBenign})
	case temporary:
		return temporal.NewApplicationErrorWithOptions(msg, dcrflow.ErrTypeTransient, temporal.ApplicationErrorOptions{})
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return temporal.NewNonRetryableApplicationError(msg, dcrflow.ErrTypeUnauthorized, nil)
	case status == http.StatusNotFound:
		return temporal.NewNonRetryableApplicationError(msg, dcrflow.ErrTypeNotFound, nil)
	case status == http.StatusConflict:
		return temporal.NewNonRetryableApplicationError(msg, dcrflow.ErrTypeConflict, nil)
	case status >= 400:
		return temporal.NewNonRetryableApplicationError(msg, dcrflow.ErrTypeInvalid, nil)
	case transportFault(err):
		return temporal.NewApplicationErrorWithOptions(msg, dcrflow.ErrTypeTransient, temporal.ApplicationErrorOptions{})
	default:
		return temporal.NewNonRetryableApplicationError(msg+" (a retry would meet the same refusal: not retried)", dcrflow.ErrTypeClient, nil)
	}
}

// transportFault tells a failure of the exchange itself (no answer, a connection
// dropped mid-answer, a timeout), which a retry may not meet again, from everything
// else a client reports.
func transportFault(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) // the worker stopping: another attempt goes on
}

// classify reads status, temporariness and the server's wait from either client's
// error type.
func classify(err error) (status int, temporary bool, wait time.Duration) {
	var oe *okta.Error
	var ke *konnect.Error
	switch {
	case errors.As(err, &oe):
		return oe.StatusCode, oe.Temporary(), oe.RetryAfter
	case errors.As(err, &ke):
		return ke.StatusCode, ke.Temporary(), ke.RetryAfter
	case errors.Is(err, context.DeadlineExceeded):
		return 0, true, 0
	}
	return 0, false, 0
}

// conflict fails a step because a resource exists and does not match the spec.
func conflict(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), dcrflow.ErrTypeConflict, nil)
}

// notFound fails a step because something the spec names does not exist.
func notFound(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), dcrflow.ErrTypeNotFound, nil)
}

// policyError fails step 4: no access policy would let the portal's clients get tokens.
func policyError(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), dcrflow.ErrTypeAccessPolicy, nil)
}

// configError fails a step because the worker lacks what the spec names.
func configError(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), dcrflow.ErrTypeConfig, nil)
}

// maxInvisibleAttempts is how many attempts a reference to a resource this run just
// created may read as missing (Konnect's and Okta's reads are eventually consistent)
// before it counts as really missing.
const maxInvisibleAttempts = 5

// freshRefError is apiError for a call that names a resource an earlier step of this
// run created or found: a 404, or a 400 "missing_reference", is retried for a few
// attempts instead of failing the portal.
func freshRefError(ctx context.Context, op string, err error) error {
	var ke *konnect.Error
	missing := konnect.IsNotFound(err) || okta.IsNotFound(err)
	if errors.As(err, &ke) {
		for _, p := range ke.InvalidParameters {
			missing = missing || p.Rule == "missing_reference"
		}
	}
	if missing && activity.GetInfo(ctx).Attempt <= maxInvisibleAttempts {
		return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("%s: %v (created moments ago: not visible yet, retrying)", op, err),
			dcrflow.ErrTypeTransient, temporal.ApplicationErrorOptions{})
	}
	return apiError(op, err)
}
