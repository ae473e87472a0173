// Package ratelimit holds dcrflow's request budgets: for each system (the Okta
// management API, the Okta DCR endpoint, Konnect) a number of requests per minute
// that all workers together stay within.
//
// Each worker takes its share, the budget divided by the number of live workers (a
// count the caller supplies and refreshes), and spaces its requests evenly at that
// rate through an http.RoundTripper in front of a client (Transport). When the
// server's rate-limit headers show that the org is busier than this fleet alone
// makes it, others use the same budget: the share is lowered so that what remains
// lasts until the server's window resets, and recovers over the next windows.
//
// A request never waits longer than its context allows: when its slot lies beyond
// that, it is not sent and fails with *BudgetError, which carries the wait, so that
// whoever owns retries (Temporal, in dcrflow) retries it then. The package knows
// nothing of Temporal.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// System names a budget.
type System string

// The budgets dcrflow keeps.
const (
	OktaManagement System = "okta_management" // /api/v1/... of the Okta org
	OktaDCR        System = "okta_dcr"        // /oauth2/v1/clients... of the Okta org
	Konnect        System = "konnect"         // every Konnect call
)

// Systems lists every System.
var Systems = []System{OktaManagement, OktaDCR, Konnect}

// BudgetError is a request that was not sent because its slot in the budget lies
// further ahead than its context allows waiting. Retry it after Wait.
type BudgetError struct {
	System System
	Wait   time.Duration
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("ratelimit: %s request budget in use; next free slot in %s", e.System, e.Wait.Round(time.Millisecond))
}

// AsBudgetError finds an *BudgetError in err's chain.
func AsBudgetError(err error) (*BudgetError, bool) {
	var e *BudgetError
	ok := errors.As(err, &e)
	return e, ok
}

// Observer hears how the budgets are used (for metrics). Its methods must be quick.
type Observer interface {
	// BudgetRate: this worker's current rate for system, in requests per minute.
	BudgetRate(system System, perMinute float64)
	// BudgetWorkers: the live workers the budgets are shared by.
	BudgetWorkers(n int)
	// BudgetWaited: a request waited d for its slot.
	BudgetWaited(system System, d time.Duration)
	// BudgetDeferred: a request failed with *BudgetError.
	BudgetDeferred(system System)
}

// Clock is the time source; tests use a fake one.
type Clock interface {
	Now() time.Time
	// Sleep waits d, or returns ctx.Err() when ctx ends first.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Defaults of Config.
const (
	DefaultWindow   = time.Minute
	DefaultHeadroom = 0.02
	DefaultFloor    = 0.1
	DefaultMaxWait  = 5 * time.Second
	// DefaultStepWait is ¾ of a step's 10 s attempt.
	DefaultStepWait = 7500 * time.Millisecond
)

// Config configures a Budget. Only Budgets is required.
type Config struct {
	// Budgets is each system's budget in requests per Window, for all workers
	// together. A system missing or at 0 has no budget: its requests pass at once.
	Budgets map[System]int
	// Window is the period budgets are counted in. Optional: DefaultWindow, the unit
	// of Okta's and Konnect's limits.
	Window time.Duration
	// Headroom is the fraction of each budget left unused, so that the jitter of
	// network latency never puts more than the budget in one of the server's windows.
	// Optional: DefaultHeadroom.
	Headroom float64
	// Floor is the fraction of each budget that adaptation to the server's headers
	// never goes below. Optional: DefaultFloor.
	Floor float64
	// MaxWait bounds the wait for a slot (also bounded by 3/4 of what the request's
	// context has left); a longer one fails with *BudgetError. Keep it below whatever
	// watches the caller's progress (an activity's heartbeat timeout). Optional:
	// DefaultMaxWait.
	MaxWait time.Duration
	// StepWait is the longest a request may wait for the slots it needs at the
	// least: a request taking k slots of one budget waits k-1 of its gaps even when
	// the budget is idle. A share that makes that longer cannot run the request at
	// all: it fails with *ErrTooSmall, with the arithmetic, instead of being
	// deferred forever. Set it to what a step's attempt allows (¾ of it).
	// Optional: DefaultStepWait.
	StepWait time.Duration
	// Observer hears rates, waits and deferrals. Optional.
	Observer Observer
	// Clock is for tests. Optional: the real clock.
	Clock Clock
}

// Budget is one worker's view of the budgets. It is safe for concurrent use.
type Budget struct {
	cfg Config

	mu      sync.Mutex
	workers int
	buckets map[System]*bucket
}

// New builds a Budget for one worker, which counts as the only one until
// SetWorkers or Refresh says otherwise.
func New(cfg Config) *Budget {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Headroom <= 0 || cfg.Headroom >= 1 {
		cfg.Headroom = DefaultHeadroom
	}
	if cfg.Floor <= 0 || cfg.Floor > 1 {
		cfg.Floor = DefaultFloor
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.StepWait <= 0 {
		cfg.StepWait = DefaultStepWait
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	b := &Budget{cfg: cfg, workers: 1, buckets: map[System]*bucket{}}
	for _, s := range Systems {
		if n := cfg.Budgets[s]; n > 0 {
			b.buckets[s] = &bucket{system: s, budget: float64(n)}
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recomputeLocked()
	if o := cfg.Observer; o != nil {
		o.BudgetWorkers(1)
	}
	return b
}

// Active reports whether any system has a budget.
func (b *Budget) Active() bool { return len(b.buckets) > 0 }

// SetWorkers sets how many live workers share the budgets, this one included; less
// than 1 counts as 1.
func (b *Budget) SetWorkers(n int) {
	n = max(n, 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if n == b.workers {
		return
	}
	b.workers = n
	b.recomputeLocked()
	if o := b.cfg.Observer; o != nil {
		o.BudgetWorkers(n)
	}
}

// Workers is the count the budgets are divided by.
func (b *Budget) Workers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.workers
}

// Rate is this worker's current rate for s, in requests per minute; 0 when s has
// no budget.
func (b *Budget) Rate(s System) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bk := b.buckets[s]; bk != nil {
		return bk.rate * float64(time.Minute) / float64(b.cfg.Window)
	}
	return 0
}

// Refresh sets the worker count from count (live workers, this one included).
func (b *Budget) Refresh(ctx context.Context, count func(context.Context) (int, error)) error {
	n, err := count(ctx)
	if err != nil {
		return err
	}
	b.SetWorkers(n)
	return nil
}

// Follow refreshes the worker count every interval until ctx ends; a failed count
// keeps the last one and goes to onError (optional).
func (b *Budget) Follow(ctx context.Context, count func(context.Context) (int, error), every time.Duration, onError func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := b.Refresh(ctx, count); err != nil && onError != nil && ctx.Err() == nil {
				onError(err)
			}
		}
	}
}

// bucket is one system's budget as this worker spends it: slots spaced gap apart,
// at most one of them unused at any time (a token bucket of depth one), so that no
// stretch of a window's length holds more than the rate.
type bucket struct {
	system System
	budget float64       // requests per window, all workers together
	rate   float64       // this worker's requests per window
	gap    time.Duration // between two of this worker's slots
	// fullGap is gap without the headers' cap.
	fullGap time.Duration
	next    time.Time // the earliest free slot
	capped  bool      // the server's headers leave the fleet less than its budget:
	cap     float64   // this many requests per window
	win     serverWindow
}

// recomputeLocked derives every bucket's rate from the budget, the worker count and
// the headers' cap.
func (b *Budget) recomputeLocked() {
	for _, s := range Systems {
		bk := b.buckets[s]
		if bk == nil {
			continue
		}
		fleet := bk.budget * (1 - b.cfg.Headroom)
		bk.fullGap = time.Duration(float64(b.cfg.Window) / (fleet / float64(b.workers)))
		if bk.capped && bk.cap < fleet {
			fleet = max(bk.cap, bk.budget*b.cfg.Floor)
		}
		rate := fleet / float64(b.workers)
		if rate == bk.rate {
			continue
		}
		bk.rate = rate
		bk.gap = time.Duration(float64(b.cfg.Window) / rate)
		if o := b.cfg.Observer; o != nil {
			o.BudgetRate(s, rate*float64(time.Minute)/float64(b.cfg.Window))
		}
	}
}

// slot is a reservation in one bucket, kept to give it back.
type slot struct {
	bk        *bucket
	prev, end time.Time // bk.next before and after
	wait      time.Duration
}

// reserve takes a slot in each system's bucket (a system may be named twice) and
// returns them with the longest wait. Beyond maxWait it takes nothing and returns
// *BudgetError.
func (b *Budget) reserve(now time.Time, systems []System, maxWait time.Duration) ([]slot, time.Duration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// The slots a request needs cost it their gaps even on an idle budget: that
	// wait is granted beyond maxWait, as long as a step can afford it at all.
	if need, sys, slots := b.needLocked(systems); need > 0 {
		if need > b.cfg.StepWait {
			bk := b.buckets[sys]
			return nil, 0, &ErrTooSmall{System: sys, Slots: slots, Budget: int(bk.budget), Workers: b.workers,
				Rate: bk.rate * float64(time.Minute) / float64(b.cfg.Window), Need: need, StepWait: b.cfg.StepWait,
				MinBudget: minBudget(slots, b.workers, b.cfg), MaxWorkers: maxWorkers(slots, bk.budget, b.cfg)}
		}
		maxWait += need
	}
	b.lapseCapsLocked(now, systems)
	var taken []slot
	var wait time.Duration
	var worst System
	for _, s := range systems {
		bk := b.buckets[s]
		if bk == nil {
			continue
		}
		at := bk.next
		if at.Before(now) {
			at = now
		}
		sl := slot{bk: bk, prev: bk.next, end: bk.slotEnd(at), wait: at.Sub(now)}
		bk.next = sl.end
		taken = append(taken, sl)
		if sl.wait > wait || worst == "" {
			wait, worst = max(wait, sl.wait), s
		}
	}
	if wait > maxWait {
		for i := len(taken) - 1; i >= 0; i-- {
			taken[i].bk.next = taken[i].prev
		}
		return nil, 0, &BudgetError{System: worst, Wait: wait}
	}
	return taken, wait, nil
}

// slotEnd is when the slot taken at at ends: a gap later, except that a cap which
// only rations what the server's window has left (nobody else seen) ends with that
// window: the next slot is then a full gap after the window's reset at the latest,
// at the full rate after it. Spaced at the capped rate, slots reserved near a window's end would
// reach seconds into the next one (a verify takes two) while the budget sat idle.
func (bk *bucket) slotEnd(at time.Time) time.Time {
	end := at.Add(bk.gap)
	if !bk.capped || bk.win.reset.IsZero() || max(bk.win.seen, bk.win.carry) > 0 || end.Before(bk.win.reset) {
		return end
	}
	// One full gap after the reset at the earliest: the header's reset is rounded to
	// the second, and a slot right on it may still fall in the old window.
	if at.Before(bk.win.reset) {
		at = bk.win.reset
	}
	return at.Add(bk.fullGap)
}

// lapseCapsLocked lifts the cap of a system whose server window has ended when
// nobody else was seen using it: the cap only rationed what that window had left
// (this fleet's own requests came bunched: a verify's two DCR calls go together),
// and a request waiting for the next answer's headers would wait at the lowered rate
// into a fresh window. A cap for others' use stays until the headers say otherwise.
func (b *Budget) lapseCapsLocked(now time.Time, systems []System) {
	lapsed := false
	for _, s := range systems {
		bk := b.buckets[s]
		if bk == nil || !bk.capped || bk.win.reset.IsZero() || !now.After(bk.win.reset) || max(bk.win.seen, bk.win.carry) > 0 {
			continue
		}
		bk.capped, lapsed = false, true
	}
	if lapsed {
		b.recomputeLocked()
	}
}

// release gives back slots a request will not use, where no later one was taken.
func (b *Budget) release(taken []slot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(taken) - 1; i >= 0; i-- {
		if sl := taken[i]; sl.bk.next.Equal(sl.end) {
			sl.bk.next = sl.prev
		}
	}
}

// wait blocks until the request may go: a slot in each of systems.
func (b *Budget) wait(ctx context.Context, systems []System) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := b.cfg.Clock.Now()
	maxWait := b.cfg.MaxWait
	beat := patienceOf(ctx)
	if dl, ok := ctx.Deadline(); ok && beat != nil {
		maxWait = max(maxWait, dl.Sub(now)*3/4)
	}
	taken, wait, err := b.reserve(now, systems, maxWait)
	if dl, ok := ctx.Deadline(); ok && err == nil && wait > max(dl.Sub(now)*3/4, 0) {
		// Past what the step has left: give the slots back, retry when they are free.
		b.release(taken)
		worst := taken[0]
		for _, sl := range taken {
			if sl.wait > worst.wait {
				worst = sl
			}
		}
		err = &BudgetError{System: worst.bk.system, Wait: wait}
	}
	o := b.cfg.Observer
	if err != nil {
		if eb, ok := AsBudgetError(err); ok && o != nil {
			o.BudgetDeferred(eb.System)
		}
		return err
	}
	if o != nil {
		for _, sl := range taken {
			if sl.wait > 0 {
				o.BudgetWaited(sl.bk.system, sl.wait)
			}
		}
	}
	if err := b.sleep(ctx, wait, beat); err != nil {
		b.release(taken)
		return err
	}
	return nil
}

// sleep waits d, calling beat (when given) every patientBeat on the way.
func (b *Budget) sleep(ctx context.Context, d time.Duration, beat func()) error {
	for d > 0 {
		step := d
		if beat != nil {
			step = min(d, patientBeat)
		}
		if err := b.cfg.Clock.Sleep(ctx, step); err != nil {
			return err
		}
		if d -= step; d > 0 {
			beat()
		}
	}
	return nil
}

// patientBeat is how often a patient request reports that it is alive while it waits.
const patientBeat = time.Second

type patienceKey struct{}

// Patient marks ctx as the context of a caller that reports its liveness (an
// activity that heartbeats): its requests take their place in line however far
// ahead it lies — within ¾ of what ctx has left, as every request — instead of
// failing with *BudgetError beyond MaxWait, and beat is called every second while
// they wait. A request deferred loses its place: on the binding budget, a caller
// that can wait keeps the budget busy instead of coming back after its slot went
// to nobody.
func Patient(ctx context.Context, beat func()) context.Context {
	return context.WithValue(ctx, patienceKey{}, beat)
}

func patienceOf(ctx context.Context) func() {
	beat, _ := ctx.Value(patienceKey{}).(func())
	return beat
}

// needLocked is the shortest wait of a request for systems on idle budgets: k slots
// of one budget are k-1 gaps apart. It names the budget that makes it and its slots.
func (b *Budget) needLocked(systems []System) (time.Duration, System, int) {
	var need time.Duration
	var worst System
	slots := 0
	for _, s := range systems {
		bk := b.buckets[s]
		if bk == nil {
			continue
		}
		n := slotsOf(systems, s)
		if d := time.Duration(n-1) * bk.gap; d > need {
			need, worst, slots = d, s, n
		}
	}
	return need, worst, slots
}

// ErrTooSmall is a request that no wait lets through: it takes Slots slots of one
// budget at once, and this worker's share of the budget spaces them further apart
// than a step may wait. It will not go through until the budget is raised or fewer
// workers share it: not worth a retry.
type ErrTooSmall struct {
	System     System
	Slots      int
	Budget     int           // requests per minute, all workers together
	Workers    int           // the live workers sharing it
	Rate       float64       // this worker's share, per minute
	Need       time.Duration // the wait the slots take on an idle budget
	StepWait   time.Duration // the longest wait a step allows
	MinBudget  int           // the smallest budget that lets this many workers through
	MaxWorkers int           // the most workers this budget lets through (0: none)
}

func (e *ErrTooSmall) Error() string {
	fix := fmt.Sprintf("raise rate_limits.%s_rpm to at least %d", e.System, e.MinBudget)
	if e.MaxWorkers > 0 && e.MaxWorkers < e.Workers {
		fix += fmt.Sprintf(" or run at most %d worker(s)", e.MaxWorkers)
	}
	return fmt.Sprintf("ratelimit: the %s budget of %d/min shared by %d worker(s) gives this worker %.1f/min, one slot every %s; this request takes %d slots at once, a wait of %s, more than the %s a step may wait: it can never go; %s",
		e.System, e.Budget, e.Workers, e.Rate, (e.Need / time.Duration(e.Slots-1)).Round(100*time.Millisecond), e.Slots,
		e.Need.Round(100*time.Millisecond), e.StepWait.Round(100*time.Millisecond), fix)
}

// AsErrTooSmall finds an *ErrTooSmall in err's chain.
func AsErrTooSmall(err error) (*ErrTooSmall, bool) {
	var e *ErrTooSmall
	ok := errors.As(err, &e)
	return e, ok
}

// minBudget is the smallest budget per minute under which workers workers can each
// take slots slots within cfg.StepWait: (slots-1) gaps of window·workers ÷
// (budget·(1-headroom)) each.
func minBudget(slots, workers int, cfg Config) int {
	perWindow := float64(slots-1) * float64(workers) * float64(cfg.Window) / (float64(cfg.StepWait) * (1 - cfg.Headroom))
	return int(math.Ceil(perWindow*float64(time.Minute)/float64(cfg.Window) - 1e-9))
}

// maxWorkers is the most workers that can each take slots slots of budget within
// cfg.StepWait.
func maxWorkers(slots int, budget float64, cfg Config) int {
	return int(math.Floor(budget * (1 - cfg.Headroom) * float64(cfg.StepWait) / (float64(slots-1) * float64(cfg.Window))))
}

// MultiSlot names the requests that take several slots of one budget at once.
var MultiSlot = []struct {
	What    string
	Systems []System
}{
	{"verifying a DCR provider (Konnect registers and deletes a client at Okta's DCR endpoint)", toKonnectVerify},
}

// Check refuses budgets (requests per minute, all workers together) under which
// even one worker could not make a request of MultiSlot within stepWait (0:
// DefaultStepWait): each system's error gives the arithmetic and the least budget
// that works. 0 means no budget: always fine.
func Check(budgets map[System]int, stepWait time.Duration) map[System]error {
	cfg := Config{Window: DefaultWindow, Headroom: DefaultHeadroom, StepWait: stepWait}
	if cfg.StepWait <= 0 {
		cfg.StepWait = DefaultStepWait
	}
	errs := map[System]error{}
	for _, m := range MultiSlot {
		for _, s := range Systems {
			n := slotsOf(m.Systems, s)
			budget := budgets[s]
			if n < 2 || budget <= 0 {
				continue
			}
			gap := time.Duration(float64(time.Minute) / (float64(budget) * (1 - cfg.Headroom)))
			if need := time.Duration(n-1) * gap; need > cfg.StepWait {
				errs[s] = fmt.Errorf("cannot run a step at all: %s takes %d slots of it at once, so it waits %d gap(s) of 60 s ÷ (%d × %.2f) = %s, more than the %s a step may wait (¾ of its attempt); set at least %d (or 0 for no budget), and %d more for each further worker sharing it",
					m.What, n, n-1, budget, 1-cfg.Headroom, need.Round(100*time.Millisecond), cfg.StepWait.Round(100*time.Millisecond),
					minBudget(n, 1, cfg), minBudget(n, 2, cfg)-minBudget(n, 1, cfg))
			}
		}
	}
	return errs
}

// slotsOf counts s in systems.
func slotsOf(systems []System, s System) int {
	n := 0
	for _, o := range systems {
		if o == s {
			n++
		}
	}
	return n
}

// MaxWorkers is how many workers may share budgets and still make every request of
// MultiSlot within stepWait (0: DefaultStepWait); -1 when no budget limits it.
func MaxWorkers(budgets map[System]int, stepWait time.Duration) int {
	cfg := Config{Window: DefaultWindow, Headroom: DefaultHeadroom, StepWait: stepWait}
	if cfg.StepWait <= 0 {
		cfg.StepWait = DefaultStepWait
	}
	most := -1
	for _, m := range MultiSlot {
		for _, s := range Systems {
			n := slotsOf(m.Systems, s)
			if n < 2 || budgets[s] <= 0 {
				continue
			}
			if w := maxWorkers(n, float64(budgets[s]), cfg); most < 0 || w < most {
				most = w
			}
		}
	}
	return most
}
