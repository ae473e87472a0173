package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
)

func TestError_Predicates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                                      string
		e                                         *Error
		notFound, dup, limited, unauth, temporary bool
	}{
		{"404", &Error{StatusCode: 404, Code: CodeNotFound}, true, false, false, false, false},
		{"dup by summary", &Error{StatusCode: 400, Code: CodeValidation, Summary: "Api validation failed: name"}, false, true, false, false, false},
		{"dup by cause", &Error{StatusCode: 400, Code: CodeValidation, Summary: "Api validation failed: x", Causes: []string{"name: taken"}}, false, true, false, false, false},
		{"other validation", &Error{StatusCode: 400, Code: CodeValidation, Summary: "Api validation failed: value", Causes: []string{"value: blank"}}, false, false, false, false, false},
		{"429", &Error{StatusCode: 429, Code: CodeRateLimited}, false, false, true, false, true},
		{"401 token", &Error{StatusCode: 401, Code: CodeInvalidToken}, false, false, false, true, false},
		{"401 client", &Error{StatusCode: 401, Code: CodeInvalidClient}, false, false, false, true, false},
		{"401 no policy", &Error{StatusCode: 401, Code: CodeAccessDenied}, false, false, false, false, false},
		{"500", &Error{StatusCode: 500}, false, false, false, false, true},
		{"transport", &Error{Err: errors.New("connection refused"), transport: true}, false, false, false, false, true},
		{"timeout", &Error{Err: context.DeadlineExceeded, transport: true}, false, false, false, false, true},
		{"canceled", &Error{Err: context.Canceled, transport: true}, false, false, false, false, false},
		{"invalid argument", &Error{Err: ErrInvalidArgument}, false, false, false, false, false},
	} {
		err := fmt.Errorf("wrapped: %w", tc.e)
		got := []bool{IsNotFound(err), IsDuplicate(err), IsRateLimited(err), IsUnauthorized(err), tc.e.Temporary()}
		want := []bool{tc.notFound, tc.dup, tc.limited, tc.unauth, tc.temporary}
		for i, name := range []string{"IsNotFound", "IsDuplicate", "IsRateLimited", "IsUnauthorized", "Temporary"} {
			if got[i] != want[i] {
				t.Errorf("%s: %s = %v", tc.name, name, got[i])
			}
		}
	}
	if IsNotFound(errors.New("404")) || IsNotFound(nil) {
		t.Error("predicates must need an *Error")
	}
}

func TestError_MessageNamesTheFailure(t *testing.T) {
	t.Parallel()
	e := &Error{Op: "CreateScope", StatusCode: 400, Code: "E0000001", Summary: "Api validation failed: name",
		Causes: []string{"name: taken"}, RetryAfter: 0}
	if got := e.Error(); got != "okta: CreateScope: HTTP 400 E0000001: Api validation failed: name (name: taken)" {
		t.Errorf("message %q", got)
	}
	e = &Error{Op: "GetAuthServer", Err: errors.New("dial tcp: refused"), transport: true}
	if got := e.Error(); got != "okta: GetAuthServer: no response: dial tcp: refused" {
		t.Errorf("message %q", got)
	}
	e = &Error{Op: "ListScopes", StatusCode: 429, Code: "E0000047", RetryAfter: 7 * time.Second}
	if !strings.Contains(e.Error(), "retry after 7s") {
		t.Errorf("message %q", e.Error())
	}
}

// The SDK returns no *okta.Response for a 429 it gave up on, or one without a
// usable reset header, and for transport failures; the exchange fills the gap.
func TestFailure_WithoutSDKResponse(t *testing.T) {
	t.Parallel()
	ex := &exchange{op: "ListScopes"}
	ex.record(429, http.Header{"X-Okta-Request-Id": {"req1"}},
		[]byte(`{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorCauses":[]}`), nil)
	err := failure("ListScopes", ex, nil, errors.New("X-Rate-Limit-Reset header is missing or invalid: x"))
	e := asErr(t, err)
	if e.StatusCode != 429 || e.Code != CodeRateLimited || e.RequestID != "req1" || !e.Temporary() {
		t.Errorf("429 without reset: %+v", e)
	}
	if _, ok := RetryAfter(err); ok {
		t.Error("a wait was invented without a reset header")
	}

	ex = &exchange{op: "GetAuthServer"}
	cause := &connectionLost{msg: "EOF"}
	ex.record(0, nil, nil, cause)
	e = asErr(t, failure("GetAuthServer", ex, nil, fmt.Errorf("Get x: %w", cause)))
	if e.StatusCode != 0 || !e.Temporary() || !strings.Contains(e.Error(), "no response") {
		t.Errorf("transport: %+v", e)
	}

	ex = &exchange{op: "CreateScope"}
	ex.record(500, http.Header{"X-Okta-Request-Id": {"r5"}}, nil, nil)
	e = asErr(t, failure("CreateScope", ex, nil, &oktasdk.Error{ErrorCode: "E0000009",
		ErrorSummary: "Internal Server Error, x-okta-request-id=r5"}))
	if e.Summary != "Internal Server Error" || e.RequestID != "r5" || !e.Temporary() {
		t.Errorf("500: %+v", e)
	}
}

func TestScrub_HidesSecretsEverywhere(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-value"
	e := &Error{Op: "x", Summary: "bad " + secret, Causes: []string{"c " + secret}, Err: errors.New("wrapped " + secret)}
	inner := e.Err
	scrub(e, []string{secret, ""})
	if strings.Contains(e.Error(), secret) || strings.Contains(e.Causes[0], secret) || strings.Contains(e.Err.Error(), secret) {
		t.Errorf("secret left: %v / %v", e, e.Err)
	}
	if !errors.Is(e, inner) {
		t.Error("scrubbing broke the error chain")
	}
}
