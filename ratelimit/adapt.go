package ratelimit

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// limitHeaders is what a server said of its current window.
type limitHeaders struct {
	limit, remaining int
	reset            time.Time
}

// headerSets are the rate-limit header names understood, in order: Okta's (reset in
// epoch seconds), the IETF draft's that Kong sends (reset in seconds from now), and
// the common X- variant.
var headerSets = [][3]string{
	{"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"},
	{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"},
	{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"},
}

// epochThreshold tells an epoch-seconds reset from a seconds-from-now one.
const epochThreshold = 1_000_000_000

func parseHeaders(h http.Header, now time.Time) (limitHeaders, bool) {
	for _, names := range headerSets {
		l, ok1 := leadingInt(h.Get(names[0]))
		r, ok2 := leadingInt(h.Get(names[1]))
		s, ok3 := leadingInt(h.Get(names[2]))
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		reset := now.Add(time.Duration(s) * time.Second)
		if s > epochThreshold {
			reset = time.Unix(int64(s), 0)
		}
		return limitHeaders{limit: l, remaining: r, reset: reset}, true
	}
	return limitHeaders{}, false
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

// retryAfter reads Retry-After as seconds or an HTTP date; 0 when absent.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// serverWindow is what the headers taught of the server's window and of the others
// who spend the same budget.
type serverWindow struct {
	reset time.Time // when the current window ends
	seen  float64   // others' requests per second, estimated in the current window
	carry float64   // the estimate from earlier windows, halved at each new one
}

// Tolerances of the window model.
const (
	// sameWindow: resets this close are one window (headers give whole seconds).
	sameWindow = 1500 * time.Millisecond
	// headerGrain is the resolution of the reset headers.
	headerGrain = time.Second
)

// observe adapts system's bucket to one answer of the server.
func (b *Budget) observe(system System, status int, h http.Header) {
	now := b.cfg.Clock.Now()
	info, ok := parseHeaders(h, now)
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.buckets[system]
	if bk == nil {
		return
	}
	if status == http.StatusTooManyRequests && (!ok || info.limit > 0) {
		// The org's window is spent: nothing goes until it resets. (Okta's concurrency
		// 429s say limit 0; they are about requests in flight, not the window.)
		until := now.Add(retryAfter(h, now))
		if ok && info.reset.After(until) {
			until = info.reset
		}
		if until.After(bk.next) {
			bk.next = until
		}
	}
	if !ok || info.limit <= 0 {
		return
	}
	if info.remaining == 0 && info.reset.After(bk.next) {
		bk.next = info.reset // the next request would be refused
	}
	b.adaptLocked(bk, now, info)
	b.recomputeLocked()
}

// adaptLocked caps the fleet's rate when the org spends its window faster than this
// fleet alone can: others use it too. The cap lets what remains, less what the
// others are expected to take, last until the reset.
func (b *Budget) adaptLocked(bk *bucket, now time.Time, info limitHeaders) {
	w := &bk.win
	switch {
	case w.reset.IsZero() || info.reset.After(w.reset.Add(sameWindow)):
		// A new window: remember the others, at half weight, so the rate recovers over
		// the next windows if they have gone.
		w.carry = max(w.seen, w.carry) / 2
		w.seen = 0
		w.reset = info.reset
	case info.reset.Before(w.reset.Add(-sameWindow)):
		return // a late answer from an earlier window
	}
	window := b.cfg.Window
	left := info.reset.Sub(now)
	if left <= 0 {
		return
	}
	elapsed := min(max(window-left, 0), window)
	// The most this fleet can have used so far: its budget since the window opened,
	// a header's rounding worth more, and the requests in flight.
	ours := bk.budget*float64(elapsed+headerGrain)/float64(window) + 2*float64(b.workers)
	others := float64(info.limit-info.remaining) - ours
	// A window's first sixth is too short to tell a burst from a rate.
	w.seen = max(others, 0) / max(elapsed, window/6).Seconds()
	rate := max(w.seen, w.carry) // others' requests per second
	spare := (float64(info.remaining) - rate*left.Seconds()) / left.Seconds() * window.Seconds()
	bk.capped, bk.cap = spare < bk.budget, max(spare, 0)
}
