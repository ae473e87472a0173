// Package costtest measures, in tests, what a call costs: its time and the peak of
// the Go heap while it runs, so that bounds on hostile input are asserted, not hoped.
package costtest

import (
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"
)

// Cost is what one call took.
type Cost struct {
	Time time.Duration
	Peak uint64 // the heap's peak above what it held before, in bytes (sampled every millisecond)
}

// MB is the peak in MiB, for messages.
func (c Cost) MB() float64 { return float64(c.Peak) / (1 << 20) }

// measureGCPercent is the collector's target while fn runs. At Go's default (100)
// the heap's peak is what fn holds plus up to as much again of garbage, and how much
// depends on when the collector happens to run: after a large case, the same call
// peaked at 10 MiB alone and 20 MiB in CI. At 20 the peak follows what fn holds,
// which is what the bounds are about, to within a fifth.
const measureGCPercent = 20

// Measure runs fn and returns its cost. The test must not run in parallel with
// others, or their allocations count too.
func Measure(fn func()) Cost {
	defer debug.SetGCPercent(debug.SetGCPercent(measureGCPercent))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var (
		mu   sync.Mutex
		peak uint64
	)
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		mu.Lock()
		peak = max(peak, m.HeapAlloc)
		mu.Unlock()
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	start := time.Now()
	fn()
	elapsed := time.Since(start)
	sample()
	close(done)
	wg.Wait()
	c := Cost{Time: elapsed}
	if peak > base {
		c.Peak = peak - base
	}
	return c
}

// Within runs fn and fails t when it took longer than maxTime or its heap peaked
// above maxBytes. With the race detector, which slows code down 5 to 20 times and
// delays the collector, the bounds are 20 and 1.5 times as large.
func Within(t testing.TB, maxTime time.Duration, maxBytes uint64, fn func()) Cost {
	t.Helper()
	c := Measure(fn)
	limit := maxTime
	if Race {
		limit *= 20
		maxBytes += maxBytes / 2
	}
	if c.Time > limit {
		t.Errorf("took %v, more than %v", c.Time, limit)
	}
	if c.Peak > maxBytes {
		t.Errorf("heap peaked at %.1f MiB, more than %.1f MiB", c.MB(), float64(maxBytes)/(1<<20))
	}
	return c
}
