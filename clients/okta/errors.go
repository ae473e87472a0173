package okta

import (
	"github.com/dcrflow/dcrflow/internal/httpwait"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// Codes Okta puts in Error.Code: management errorCodes and OAuth errors.
const (
	CodeValidation    = "E0000001" // "Api validation failed: <field>"; also duplicates
	CodeMalformed     = "E0000003"
	CodeForbidden     = "E0000006"
	CodeNotFound      = "E0000007"
	CodeInvalidToken  = "E0000011"
	CodeRateLimited   = "E0000047"
	CodeInvalidClient = "invalid_client"
	CodeInvalidScope  = "invalid_scope"
	CodeAccessDenied  = "access_denied" // e.g. no access policy matched
	CodeConsent       = "consent_required"
	CodeClientMeta    = "invalid_client_metadata"
)

// ErrInvalidArgument marks calls refused before any request was sent.
var ErrInvalidArgument = errors.New("invalid argument")

// ErrBadAnswer marks answers that cannot be used (a next link that repeats): asking
// again gets the same answer.
var ErrBadAnswer = errors.New("answer not usable")

// Error is every failure of this package. It never carries a token or secret.
type Error struct {
	Op         string        // the operation, e.g. "CreateScope"
	StatusCode int           // 0 = no response
	Code       string        // Okta errorCode, or the OAuth error
	Summary    string        // errorSummary or error_description
	Causes     []string      // errorCauses' summaries
	RequestID  string        // X-Okta-Request-Id, for Okta support
	RetryAfter time.Duration // on 429: X-Rate-Limit-Reset minus the answer's Date
	Err        error         // the underlying error, if any
	// MissingScope is the OAuth scope the call needed and the access token lacked
	// (Code CodeInsufficientScope).
	MissingScope string
	// TokenRequest marks a failure of the access-token request that precedes the
	// call in OAuth mode; StatusCode and Code are the token endpoint's.
	TokenRequest bool

	transport bool // the exchange failed below HTTP (connection, timeout, truncated body)
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "okta: %s: ", e.Op)
	if e.TokenRequest {
		b.WriteString("OAuth access token request: ")
	}
	switch {
	case e.StatusCode == 0 && e.transport:
		b.WriteString("no response")
	case e.StatusCode == 0:
		b.WriteString("not sent")
	default:
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	}
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Summary != "" {
		b.WriteString(": " + e.Summary)
	}
	if len(e.Causes) > 0 {
		b.WriteString(" (" + strings.Join(e.Causes, "; ") + ")")
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	if e.Code == "" && e.Summary == "" && e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether the same call may succeed later: 429, 5xx, and
// transport failures or timeouts (not a cancellation by the caller).
func (e *Error) Temporary() bool {
	switch {
	case e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500:
		return true
	case e.transport:
		return !errors.Is(e.Err, context.Canceled)
	}
	return false
}

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsNotFound reports a 404.
func IsNotFound(err error) bool {
	e, ok := asError(err)
	return ok && e.StatusCode == http.StatusNotFound
}

// IsDuplicate reports Okta's answer to a name already taken: 400 E0000001 about
// the name (Okta does not use 409 for scopes or claims). Okta words every
// refused name that way, an invalid one too, so confirm by looking the name up.
func IsDuplicate(err error) bool {
	e, ok := asError(err)
	if !ok || e.StatusCode != http.StatusBadRequest || e.Code != CodeValidation {
		return false
	}
	if e.Summary == "Api validation failed: name" {
		return true
	}
	for _, c := range e.Causes {
		if strings.HasPrefix(c, "name:") {
			return true
		}
	}
	return false
}

// IsRateLimited reports a 429.
func IsRateLimited(err error) bool {
	e, ok := asError(err)
	return ok && e.StatusCode == http.StatusTooManyRequests
}

// IsUnauthorized reports rejected credentials: a 401 for a bad API token
// (E0000011, E0000004) or bad client credentials (invalid_client). A 401
// access_denied (no access policy matched) is not one.
func IsUnauthorized(err error) bool {
	e, ok := asError(err)
	if !ok || e.StatusCode != http.StatusUnauthorized {
		return false
	}
	switch e.Code {
	case CodeInvalidToken, "E0000004", CodeInvalidClient, "":
		return true
	}
	return false
}

// RetryAfter returns the wait a 429 named, when it named one.
func RetryAfter(err error) (time.Duration, bool) {
	e, ok := asError(err)
	if !ok || e.RetryAfter <= 0 {
		return 0, false
	}
	return e.RetryAfter, true
}

func invalidArgument(op, msg string) error {
	return &Error{Op: op, Summary: msg, Err: ErrInvalidArgument}
}

// failure builds the Error for an operation from what the SDK returned and what
// the transport saw; secrets are scrubbed from every text taken from the answer.
func failure(op string, ex *exchange, resp *oktasdk.Response, err error, secrets ...string) error {
	status, header, body, received, transport := ex.last()
	e := &Error{Op: op, StatusCode: status, Err: err}
	if resp != nil && resp.Response != nil {
		e.StatusCode, header = resp.StatusCode, resp.Header
	}
	if e.StatusCode == 0 && transport != nil {
		e.transport = true
		if err == nil {
			e.Err = transport
		}
	}
	if errors.Is(err, context.DeadlineExceeded) && e.StatusCode < http.StatusBadRequest {
		e.transport = true // a timeout while reading a good answer
	}
	var oe *oktasdk.Error
	if !errors.As(err, &oe) && len(body) > 0 && e.StatusCode >= http.StatusBadRequest {
		oe = &oktasdk.Error{}
		if json.Unmarshal(body, oe) != nil {
			oe = nil
		}
	}
	if oe != nil {
		e.Code, e.Summary = oe.ErrorCode, oe.ErrorSummary
		if e.Code == "" {
			e.Code, e.Summary = oe.ErrorMessage, oe.ErrorDescription
		}
		// The SDK appends the request id to 500 summaries; it has its own field.
		e.Summary, _, _ = strings.Cut(e.Summary, ", x-okta-request-id=")
		for _, c := range oe.ErrorCauses {
			if s, ok := c["errorSummary"].(string); ok {
				e.Causes = append(e.Causes, s)
			}
		}
	}
	if e.StatusCode != 0 {
		e.RequestID = header.Get("X-Okta-Request-Id")
	}
	if e.StatusCode == http.StatusTooManyRequests {
		e.RetryAfter = httpwait.Wait(e.StatusCode, header, received)
	}
	insufficientScope(e, header, ex.lastMethod())
	if e.StatusCode == 0 && !e.transport && ex != nil && ex.token != nil {
		// Nothing of the call itself was sent: in OAuth mode the SDK's token request
		// failed first (the same client's latest one, made after this call began).
		if ts, th, tb, trec, tt := ex.token.last(); !trec.Before(ex.start) && (ts != 0 || tt != nil) {
			if ts == 0 {
				e.transport, e.Err = true, tt
			} else {
				tokenFailure(e, ts, th, tb, ex.tokenScopes)
				e.RequestID = th.Get("X-Okta-Request-Id")
			}
			e.TokenRequest = true
		}
	}
	scrub(e, secrets)
	return e
}

// scrub removes secrets from the texts of e, and hides an underlying error whose
// message holds one.
func scrub(e *Error, secrets []string) {
	clean := func(s string) string {
		s = scrubAssertion(s)
		for _, sec := range secrets {
			if sec != "" {
				s = strings.ReplaceAll(s, sec, "[redacted]")
			}
		}
		return s
	}
	e.Summary = clean(e.Summary)
	for i := range e.Causes {
		e.Causes[i] = clean(e.Causes[i])
	}
	if e.Err != nil {
		if msg := e.Err.Error(); clean(msg) != msg {
			e.Err = &redacted{msg: clean(msg), err: e.Err}
		}
	}
}

// redacted shows a scrubbed message but keeps the chain for errors.Is/As.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }
