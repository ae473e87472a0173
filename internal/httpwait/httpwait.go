// Package httpwait reads what an HTTP answer says about waiting: Retry-After
// (seconds or an HTTP date) and the rate-limit headers of Okta (X-Rate-Limit-*,
// reset in epoch seconds), of the IETF draft that Kong sends (RateLimit-*, reset in
// seconds from now) and their common X-RateLimit-* variant. It is the one parser the
// clients, the request budget and the metrics share.
package httpwait

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Window is what a server said of its current rate-limit window.
type Window struct {
	Limit, Remaining int
	Reset            time.Time
}

// headerSets are the rate-limit header names understood, in order.
var headerSets = [][3]string{
	{"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"},
	{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"},
	{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"},
}

// epochThreshold tells an epoch-seconds reset from a seconds-from-now one.
const epochThreshold = 1_000_000_000

// ParseWindow reads the first complete set of limit, remaining and reset; now is
// the answer's time, against which a seconds-from-now reset counts.
func ParseWindow(h http.Header, now time.Time) (Window, bool) {
	for _, names := range headerSets {
		l, ok1 := leadingInt(h.Get(names[0]))
		r, ok2 := leadingInt(h.Get(names[1]))
		s, ok3 := leadingInt(h.Get(names[2]))
		if ok1 && ok2 && ok3 {
			return Window{Limit: l, Remaining: r, Reset: reset(s, now)}, true
		}
	}
	return Window{}, false
}

// RetryAfter reads Retry-After as seconds or an HTTP date; 0 when absent, past or
// unreadable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

// Wait is how long an answer asks the client to wait before trying again: its
// Retry-After, else on a 429 the time until the window resets, at least a second
// (headers speak in whole seconds). received is when the answer came; its Date
// header, when present, is the clock a reset is read against, so a skewed local
// clock does not matter. 0: the answer names no wait.
func Wait(status int, h http.Header, received time.Time) time.Duration {
	now := received
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		now = d
	}
	if d := RetryAfter(h, now); d > 0 {
		return d
	}
	if status != http.StatusTooManyRequests {
		return 0
	}
	for _, names := range headerSets {
		if s, ok := leadingInt(h.Get(names[2])); ok {
			return max(reset(s, now).Sub(now), time.Second)
		}
	}
	return 0
}

func reset(s int, now time.Time) time.Time {
	if s > epochThreshold {
		return time.Unix(int64(s), 0)
	}
	return now.Add(time.Duration(s) * time.Second)
}

// leadingInt reads "100" and the first number of "100, 100;w=60".
func leadingInt(v string) (int, bool) {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, ",;"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}
