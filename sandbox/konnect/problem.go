package konnect

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// InvalidParameter is one entry of a 400 answer's invalid_parameters, in the shapes
// the specs allow (standard, minimum, maximum, choice).
type InvalidParameter struct {
	Field   string   `json:"field"`
	Rule    string   `json:"rule,omitempty"`
	Minimum *int     `json:"minimum,omitempty"`
	Maximum *int     `json:"maximum,omitempty"`
	Choices []string `json:"choices,omitempty"`
	Source  string   `json:"source,omitempty"`
	Reason  string   `json:"reason"`
}

// problem is Konnect's BaseError (application/problem+json).
type problem struct {
	Status            int                `json:"status"`
	Title             string             `json:"title"`
	Instance          string             `json:"instance"`
	Detail            string             `json:"detail"`
	InvalidParameters []InvalidParameter `json:"invalid_parameters,omitempty"`
}

// traceSeq numbers the correlation ids ("kong:trace:<n>") of error answers; it starts
// at a random point so that ids from separate runs do not repeat.
var traceSeq atomic.Uint64

func init() { traceSeq.Store(rand.Uint64N(1 << 62)) }

func traceID() string { return "kong:trace:" + strconv.FormatUint(traceSeq.Add(1), 10) }

// titles are the problem titles Konnect uses per status.
var titles = map[int]string{
	http.StatusBadRequest:           "Invalid Request",
	http.StatusUnauthorized:         "Unauthorized",
	http.StatusForbidden:            "Forbidden",
	http.StatusNotFound:             "Not Found",
	http.StatusMethodNotAllowed:     "Method Not Allowed",
	http.StatusConflict:             "Conflict",
	http.StatusUnsupportedMediaType: "Unsupported Media Type",
	http.StatusTooManyRequests:      "Rate Limited",
}

// details are the default details for statuses written without a specific one.
var details = map[int]string{
	http.StatusBadRequest:       "Invalid Parameters",
	http.StatusUnauthorized:     "Unauthorized",
	http.StatusForbidden:        "You do not have permission to perform this action",
	http.StatusNotFound:         "Not Found",
	http.StatusConflict:         "Conflict",
	http.StatusTooManyRequests:  "Too many requests",
	http.StatusMethodNotAllowed: "Method Not Allowed",
}

func title(status int) string {
	if t, ok := titles[status]; ok {
		return t
	}
	return http.StatusText(status)
}

// writeProblem writes a problem+json answer; an empty detail takes the default.
func writeProblem(w http.ResponseWriter, status int, detail string, params []InvalidParameter) {
	if detail == "" {
		detail = details[status]
		if detail == "" {
			detail = http.StatusText(status)
		}
	}
	body, _ := json.Marshal(problem{
		Status: status, Title: title(status), Instance: traceID(), Detail: detail,
		InvalidParameters: params,
	})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeInvalid(w http.ResponseWriter, params []InvalidParameter) {
	writeProblem(w, http.StatusBadRequest, "", params)
}

func writeNotFound(w http.ResponseWriter, detail string) {
	writeProblem(w, http.StatusNotFound, detail, nil)
}

// WriteError writes Konnect's error answer for status. For 429 it adds Retry-After
// (whole seconds, at least one), the only rate-limit header Konnect documents; a 400 carries
// a generic invalid parameter because the spec requires at least one.
func WriteError(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration) {
	if status == http.StatusTooManyRequests {
		secs := ceilSeconds(retryAfter)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	var params []InvalidParameter
	if status == http.StatusBadRequest {
		params = []InvalidParameter{{Field: "body", Rule: "invalid", Source: "body", Reason: "the request was rejected"}}
	}
	writeProblem(w, status, "", params)
}

func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// param helpers build the entries the validators report.

func required(field string) InvalidParameter {
	return InvalidParameter{Field: field, Rule: "required", Source: "body", Reason: "is a required field"}
}

func wrongType(field, rule, what string) InvalidParameter {
	return InvalidParameter{Field: field, Rule: rule, Source: "body", Reason: "must be " + what}
}

func minLength(field string, n int) InvalidParameter {
	return InvalidParameter{Field: field, Rule: "min_length", Minimum: &n, Source: "body",
		Reason: fmt.Sprintf("must have at least %d characters", n)}
}

func maxLength(field string, n int) InvalidParameter {
	return InvalidParameter{Field: field, Rule: "max_length", Maximum: &n, Source: "body",
		Reason: fmt.Sprintf("must not have more than %d characters", n)}
}

func minItems(field string, n int) InvalidParameter {
	return InvalidParameter{Field: field, Rule: "min_items", Minimum: &n, Source: "body",
		Reason: fmt.Sprintf("must have at least %d items", n)}
}

func maxItems(field string, n int) InvalidParameter {
	return InvalidParameter{Field: field, Rule: "max_items", Maximum: &n, Source: "body",
		Reason: fmt.Sprintf("must not have more than %d items", n)}
}

func choice(field, source string, choices ...string) InvalidParameter {
	return InvalidParameter{Field: field, Rule: "enum", Choices: choices, Source: source,
		Reason: fmt.Sprintf("must be one of %v", choices)}
}

func unknownProperty(field string) InvalidParameter {
	return InvalidParameter{Field: field, Rule: "unknown_property", Source: "body", Reason: "is not a known property"}
}
