package main

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dcrflow/dcrflow/sandbox"
)

// Buckets of the sandbox's request budgets, and the calls no budget covers.
const (
	bucketOktaMgmt = "okta_management" // /api/v1/...
	bucketOktaDCR  = "okta_dcr"        // /oauth2/v1/clients...
	bucketOktaAuth = "okta_oauth"      // token, keys, metadata: not budgeted
	bucketKonnect  = "konnect"
)

var buckets = []string{bucketOktaMgmt, bucketOktaDCR, bucketOktaAuth, bucketKonnect}

// bucketOf is the budget a logged call counts against, as the sandbox routes them.
func bucketOf(r sandbox.Request) string {
	switch {
	case r.System == "konnect":
		return bucketKonnect
	case strings.HasPrefix(r.Path, "/api/v1/"):
		return bucketOktaMgmt
	case r.Path == "/oauth2/v1/clients" || strings.HasPrefix(r.Path, "/oauth2/v1/clients/"):
		return bucketOktaDCR
	default:
		return bucketOktaAuth
	}
}

// bucketStats counts one bucket's calls by outcome.
type bucketStats struct {
	Calls    int `json:"calls"`    // every call received
	Limited  int `json:"limited"`  // answered 429
	Errors   int `json:"errors"`   // 5xx or dropped
	Rejected int `json:"rejected"` // other 4xx (lookups that find nothing are normal)
}

// Accepted are the calls that used the budget: a 429 does not.
func (b bucketStats) Accepted() int { return b.Calls - b.Limited }

// countRequests tallies the log per bucket.
func countRequests(log []sandbox.Request) map[string]bucketStats {
	out := map[string]bucketStats{}
	for _, r := range log {
		b := out[bucketOf(r)]
		b.Calls++
		switch {
		case r.Status == http.StatusTooManyRequests:
			b.Limited++
		case r.Status == 0 || r.Status >= 500:
			b.Errors++
		case r.Status >= 400:
			b.Rejected++
		}
		out[bucketOf(r)] = b
	}
	return out
}

// times are the arrival times of the bucket's calls, sorted; accepted only when
// acceptedOnly (what the budget counted).
func times(log []sandbox.Request, bucket string, acceptedOnly bool) []time.Time {
	var ts []time.Time
	for _, r := range log {
		if bucketOf(r) == bucket && (!acceptedOnly || r.Status != http.StatusTooManyRequests) {
			ts = append(ts, r.Time)
		}
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	return ts
}

// maxInWindow is the most calls in any window of length w (sliding, starting at a call).
func maxInWindow(ts []time.Time, w time.Duration) int {
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// perSecond buckets calls into whole seconds from start: calls in [k s, k+1 s).
func perSecond(ts []time.Time, start time.Time) []int {
	var out []int
	for _, t := range ts {
		k := int(t.Sub(start) / time.Second)
		if k < 0 {
			continue
		}
		for len(out) <= k {
			out = append(out, 0)
		}
		out[k]++
	}
	return out
}

// idSegment tells a path segment that names one resource (UUIDs, Okta ids) from the
// fixed ones, so that calls to different resources group together.
func idSegment(seg string) bool {
	digits := 0
	for _, r := range seg {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return len(seg) >= 12 && digits > 0
}

// shape is a call's method and path with resource ids as *, e.g. GET /v3/apis/*/publications/*.
func shape(r sandbox.Request) string {
	segs := strings.Split(r.Path, "/")
	for i, s := range segs {
		if idSegment(s) {
			segs[i] = "*"
		}
	}
	return r.Method + " " + strings.Join(segs, "/")
}

// kindCount is how often one kind of answer came.
type kindCount struct {
	Kind  string
	Count int
}

// rejectedKinds groups the 4xx answers other than 429 by status and call shape, most
// frequent first: lookups that find nothing are part of every onboarding.
func rejectedKinds(log []sandbox.Request) []kindCount {
	n := map[string]int{}
	for _, r := range log {
		if r.Status >= 400 && r.Status < 500 && r.Status != http.StatusTooManyRequests {
			n[fmt.Sprintf("%d %s", r.Status, shape(r))]++
		}
	}
	out := make([]kindCount, 0, len(n))
	for k, c := range n {
		out = append(out, kindCount{k, c})
	}
	slices.SortFunc(out, func(a, b kindCount) int { return cmp.Or(b.Count-a.Count, strings.Compare(a.Kind, b.Kind)) })
	return out
}
