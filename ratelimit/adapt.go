package ratelimit

import (
	"net/http"
	"time"

	"github.com/dcrflow/dcrflow/internal/httpwait"
)

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
	info, ok := httpwait.ParseWindow(h, now)
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.buckets[system]
	if bk == nil {
		return
	}
	if status == http.StatusTooManyRequests && (!ok || info.Limit > 0) {
		// The org's window is spent: nothing goes until it resets. (Okta's concurrency
		// 429s say limit 0; they are about requests in flight, not the window.)
		until := now.Add(httpwait.RetryAfter(h, now))
		if ok && info.Reset.After(until) {
			until = info.Reset
		}
		if until.After(bk.next) {
			bk.next = until
		}
	}
	if !ok || info.Limit <= 0 {
		return
	}
	if info.Remaining == 0 && info.Reset.After(bk.next) {
		bk.next = info.Reset // the next request would be refused
	}
	b.adaptLocked(bk, now, info)
	b.recomputeLocked()
}

// adaptLocked caps the fleet's rate when the org spends its window faster than this
// fleet alone can: others use it too. The cap lets what remains, less what the
// others are expected to take, last until the reset.
func (b *Budget) adaptLocked(bk *bucket, now time.Time, info httpwait.Window) {
	w := &bk.win
	switch {
	case w.reset.IsZero() || info.Reset.After(w.reset.Add(sameWindow)):
		// A new window: remember the others, at half weight, so the rate recovers over
		// the next windows if they have gone.
		w.carry = max(w.seen, w.carry) / 2
		w.seen = 0
		w.reset = info.Reset
	case info.Reset.Before(w.reset.Add(-sameWindow)):
		return // a late answer from an earlier window
	}
	window := b.cfg.Window
	left := info.Reset.Sub(now)
	if left <= 0 {
		return
	}
	elapsed := min(max(window-left, 0), window)
	// The most this fleet can have used so far: its budget since the window opened,
	// a header's rounding worth more, and the requests in flight.
	ours := bk.budget*float64(elapsed+headerGrain)/float64(window) + 2*float64(b.workers)
	others := float64(info.Limit-info.Remaining) - ours
	// A window's first sixth is too short to tell a burst from a rate.
	w.seen = max(others, 0) / max(elapsed, window/6).Seconds()
	rate := max(w.seen, w.carry) // others' requests per second
	spare := (float64(info.Remaining) - rate*left.Seconds()) / left.Seconds() * window.Seconds()
	bk.capped, bk.cap = spare < bk.budget, max(spare, 0)
}
