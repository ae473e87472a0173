package konnect

import (
	"github.com/dcrflow/dcrflow/internal/httpwait"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxErrorBody caps how much of an error answer is read.
const maxErrorBody = 1 << 20

// ErrNotFound is wrapped by lookups that find nothing (Resolve); IsNotFound accepts
// it as well as a 404 answer.
var ErrNotFound = errors.New("not found")

// ErrAmbiguous is wrapped when a name matches more than one resource.
var ErrAmbiguous = errors.New("name matches more than one resource")

// ErrInvalidArgument is wrapped by calls refused before any request was sent (an
// empty id): the same call is refused again.
var ErrInvalidArgument = errors.New("invalid argument")

// ErrBadAnswer is wrapped when an answer cannot be used (a body that does not
// decode, pages that never end): asking again gets the same answer.
var ErrBadAnswer = errors.New("answer not usable")

// InvalidParameter is one entry of a 400 answer's invalid_parameters.
type InvalidParameter struct {
	Field   string `json:"field"`
	Rule    string `json:"rule,omitempty"`
	Source  string `json:"source,omitempty"`
	Reason  string `json:"reason"`
	Minimum *int   `json:"minimum,omitempty"`
	Maximum *int   `json:"maximum,omitempty"`
	Choices []any  `json:"choices,omitempty"`
}

// Error is a failed call: a non-2xx answer (StatusCode set, with the problem+json
// fields), or no usable answer at all (StatusCode 0, Err set).
type Error struct {
	Op                string // the spec's operationId
	StatusCode        int
	Title             string
	Detail            string
	Instance          string // Konnect's correlation id, kong:trace:<n>
	InvalidParameters []InvalidParameter
	RetryAfter        time.Duration // from Retry-After (seconds or HTTP-date)
	Err               error         // transport or decoding failure
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("konnect: ")
	b.WriteString(e.Op)
	if e.StatusCode == 0 {
		b.WriteString(": ")
		if e.Err != nil {
			b.WriteString(e.Err.Error())
		} else {
			b.WriteString("no answer")
		}
		return b.String()
	}
	fmt.Fprintf(&b, ": %d", e.StatusCode)
	if e.Title != "" {
		b.WriteString(" " + e.Title)
	}
	if e.Detail != "" && e.Detail != e.Title {
		b.WriteString(": " + e.Detail)
	}
	for i, p := range e.InvalidParameters {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.Field)
		if p.Rule != "" {
			b.WriteString(" [" + p.Rule + "]")
		}
		b.WriteString(" " + p.Reason)
		if i == len(e.InvalidParameters)-1 {
			b.WriteString(")")
		}
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether the same call may succeed later: 5xx, 429, 408, and
// failures without an answer (dropped connections, timeouts), except the caller's
// own cancellation and a call refused before it was sent.
func (e *Error) Temporary() bool {
	switch {
	case e.StatusCode == 0:
		return e.Err != nil && !errors.Is(e.Err, context.Canceled) && !errors.Is(e.Err, ErrInvalidArgument) && !errors.Is(e.Err, ErrBadAnswer)
	case e.StatusCode == http.StatusTooManyRequests, e.StatusCode == http.StatusRequestTimeout:
		return true
	default:
		return e.StatusCode >= 500
	}
}

// CheckResponse returns nil for a 2xx answer, else an *Error decoded from the
// problem+json body (read up to 1 MiB). Op is left for the caller to set.
func CheckResponse(r *http.Response) error {
	if r.StatusCode >= 200 && r.StatusCode <= 299 {
		return nil
	}
	e := &Error{StatusCode: r.StatusCode, RetryAfter: httpwait.Wait(r.StatusCode, r.Header, time.Now())}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	var p struct {
		Title             string             `json:"title"`
		Detail            string             `json:"detail"`
		Instance          string             `json:"instance"`
		InvalidParameters []InvalidParameter `json:"invalid_parameters"`
	}
	if err == nil && json.Unmarshal(raw, &p) == nil {
		e.Title, e.Detail, e.Instance, e.InvalidParameters = p.Title, p.Detail, p.Instance, p.InvalidParameters
	}
	if e.Title == "" {
		e.Title = http.StatusText(r.StatusCode)
	}
	return e
}

// redact removes secrets from everything the server said.
func (e *Error) redact(secrets []string) {
	e.Title = scrub(e.Title, secrets)
	e.Detail = scrub(e.Detail, secrets)
	e.Instance = scrub(e.Instance, secrets)
	for i := range e.InvalidParameters {
		e.InvalidParameters[i].Field = scrub(e.InvalidParameters[i].Field, secrets)
		e.InvalidParameters[i].Reason = scrub(e.InvalidParameters[i].Reason, secrets)
	}
}

func scrub(s string, secrets []string) string {
	for _, x := range secrets {
		if x != "" {
			s = strings.ReplaceAll(s, x, "[REDACTED]")
		}
	}
	return s
}

// redactErr hides secrets in an error's text while keeping it unwrappable.
func redactErr(err error, secrets []string) error {
	if msg := err.Error(); scrub(msg, secrets) != msg {
		return &redacted{msg: scrub(msg, secrets), err: err}
	}
	return err
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

func status(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// IsNotFound reports a 404 answer or a lookup that found nothing.
func IsNotFound(err error) bool {
	return status(err) == http.StatusNotFound || errors.Is(err, ErrNotFound)
}

// IsConflict reports a 409 answer (name taken, resource in use).
func IsConflict(err error) bool { return status(err) == http.StatusConflict }

// IsRateLimited reports a 429 answer.
func IsRateLimited(err error) bool { return status(err) == http.StatusTooManyRequests }

// IsUnauthorized reports a 401 answer (bad or expired token).
func IsUnauthorized(err error) bool { return status(err) == http.StatusUnauthorized }

// IsTemporary reports whether err is an *Error whose call may succeed later.
func IsTemporary(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Temporary()
}

// RetryAfter is the wait the server asked for, or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
