// Package ratelimit is the sandbox's per-minute request budget: a fixed window that
// opens on the first request after the previous one closed, as Okta's windows do
// (about 60 s, not aligned to wall-clock minutes).
package ratelimit

import (
	"sync"
	"time"
)

// Unlimited is the limit reported when no limit is configured: the headers stay
// realistic while nothing is refused.
const Unlimited = 1_000_000

// Decision is the outcome of one Take.
type Decision struct {
	Allowed   bool
	Limit     int
	Remaining int
	Reset     time.Time // when the current window closes
}

// RetryAfter is how long a refused caller should wait, at least one second.
func (d Decision) RetryAfter(now time.Time) time.Duration {
	wait := d.Reset.Sub(now)
	if wait < time.Second {
		return time.Second
	}
	return wait
}

// Settings configure a Window. PerMinute 0 means unlimited.
type Settings struct {
	PerMinute     int `json:"per_minute"`
	WindowSeconds int `json:"window_seconds,omitempty"` // default 60
}

// Window counts requests in the current window.
type Window struct {
	mu       sync.Mutex
	settings Settings
	start    time.Time
	used     int
	now      func() time.Time
}

// New returns a window with the given settings.
func New(s Settings) *Window {
	return &Window{settings: s, now: time.Now}
}

// Set replaces the settings and starts a fresh window.
func (w *Window) Set(s Settings) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.settings = s
	w.start = time.Time{}
	w.used = 0
}

// Settings returns the current settings.
func (w *Window) Settings() Settings {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.settings
}

// Take counts one request and says whether it fits the budget.
func (w *Window) Take() Decision {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	length := time.Duration(w.settings.WindowSeconds) * time.Second
	if length <= 0 {
		length = time.Minute
	}
	if w.start.IsZero() || !now.Before(w.start.Add(length)) {
		w.start, w.used = now, 0
	}
	limit := w.settings.PerMinute
	if limit <= 0 {
		limit = Unlimited
	}
	d := Decision{Limit: limit, Reset: w.start.Add(length)}
	if w.used >= limit {
		return d
	}
	w.used++
	d.Allowed = true
	d.Remaining = limit - w.used
	return d
}
