package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/dcrflow/dcrflow/sandbox/faults"
)

// Targets, reported beside the figures and never asserted.
const (
	targetEfficiency = 0.90
	targetLimitedPct = 1.0
	targetGain       = 8.0
	targetPeakMB     = 200.0
)

const chartFile = "fleet.png"

// report is everything one bench run measured.
type report struct {
	Options    options
	Started    time.Time
	Elapsed    time.Duration
	CPUs       int
	GoVersion  string
	Load       [2]string // /proc/loadavg's 1-minute figure before and after: other work on the machine skews the figures
	Latency    []faults.Fault
	Budget     *fleetRun // phase 1
	Unlimited  *fleetRun // phase 2, the fleet
	Loop       *loopRun  // phase 2, the loop
	Large      *fleetRun // phase 3
	XL         []*xlRun  // phase 5
	TwoWorkers *fleetRun // phase 4
	Org        *orgRun   // phase 6
}

// rate is the Okta management limit per second.
func (r *fleetRun) rate() float64 { return float64(r.Limits.OktaManagement.PerMinute) / 60 }

// mgmtCalls are the Okta management calls the budget counted (429s use none).
func (r *fleetRun) mgmtCalls() int { return r.Requests[bucketOktaMgmt].Accepted() }

// lowerBound is the shortest time the limit allows for those calls.
func (r *fleetRun) lowerBound() time.Duration {
	if r.rate() == 0 {
		return 0
	}
	return time.Duration(float64(r.mgmtCalls()) / r.rate() * float64(time.Second))
}

// efficiency is lower bound ÷ wall time: 1 means the fleet went as fast as the limit allows.
func (r *fleetRun) efficiency() float64 { return r.lowerBound().Seconds() / r.Wall.Seconds() }

// limited is every 429 of the run, and the share of all calls it is.
func (r *fleetRun) limited() (n, calls int) {
	for _, b := range r.Requests {
		n += b.Limited
		calls += b.Calls
	}
	return n, calls
}

func (r *fleetRun) limitedPct() float64 {
	n, calls := r.limited()
	if calls == 0 {
		return 0
	}
	return 100 * float64(n) / float64(calls)
}

// serverErrors are the calls answered 5xx or dropped.
func (r *fleetRun) serverErrors() int {
	n := 0
	for _, b := range r.Requests {
		n += b.Errors
	}
	return n
}

// firstDone is when the first portal ended, in seconds.
func (r *fleetRun) firstDone() float64 {
	for _, s := range r.Samples {
		if s.Done > 0 {
			return s.T
		}
	}
	return r.Wall.Seconds()
}

func (r *fleetRun) throughput() float64 { return float64(r.Portals) / r.Wall.Seconds() }

func (r *fleetRun) workerCPU() time.Duration {
	var d time.Duration
	for _, w := range r.Workers {
		d += w.CPU
	}
	return d
}

func (r *fleetRun) peakMB() float64 {
	var p int64
	for _, w := range r.Workers {
		p = max(p, w.PeakRSS)
	}
	return float64(p) / (1 << 20)
}

// perPortal is d spread over the fleet's portals, in seconds.
func (r *fleetRun) perPortal(d time.Duration) float64 { return d.Seconds() / float64(r.Portals) }

// maxWindow is the most Okta management calls in any 60 s (all, and those accepted).
func (r *fleetRun) maxWindow() (all, accepted int) {
	return maxInWindow(times(r.Log, bucketOktaMgmt, false), time.Minute),
		maxInWindow(times(r.Log, bucketOktaMgmt, true), time.Minute)
}

// peakSecond is the most Okta management calls in one second of the run.
func (r *fleetRun) peakSecond() int {
	best := 0
	for _, n := range perSecond(times(r.Log, bucketOktaMgmt, false), r.Start) {
		best = max(best, n)
	}
	return best
}

func (r *fleetRun) callsPerPortal() float64 {
	n := 0
	for _, b := range r.Requests {
		n += b.Accepted()
	}
	return float64(n) / float64(r.Portals)
}

func (l *loopRun) throughput() float64 { return float64(l.Portals) / l.Wall.Seconds() }

func (l *loopRun) callsPerPortal() float64 {
	n := 0
	for _, b := range l.Requests {
		n += b.Accepted()
	}
	return float64(n) / float64(l.Portals)
}

// gain is the fleet's throughput over the loop's.
func (rep *report) gain() float64 {
	if rep.Unlimited == nil || rep.Loop == nil {
		return 0
	}
	return rep.Unlimited.throughput() / rep.Loop.throughput()
}

func mark(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func dur(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

// summary is the few lines printed at the end of a run.
func (rep *report) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dcrflow bench (%d CPUs, %s)\n", rep.CPUs, rep.Elapsed.Round(time.Second))
	if r := rep.Budget; r != nil {
		n, calls := r.limited()
		fmt.Fprintf(&b, "1. budget:      %d portals in %s, lower bound %s (%d Okta management calls at %d/min): efficiency %.2f; 429s %d of %d calls (%.2f %%); %d failed\n",
			r.Portals, dur(r.Wall), dur(r.lowerBound()), r.mgmtCalls(), r.Limits.OktaManagement.PerMinute, r.efficiency(), n, calls, r.limitedPct(), r.FailedCount)
	}
	if rep.Unlimited != nil && rep.Loop != nil {
		fmt.Fprintf(&b, "2. gain:        fleet %.2f portals/s (%d in %s) vs sequential loop %.3f portals/s (%d in %s): %.1f×\n",
			rep.Unlimited.throughput(), rep.Unlimited.Portals, dur(rep.Unlimited.Wall), rep.Loop.throughput(), rep.Loop.Portals, dur(rep.Loop.Wall), rep.gain())
	}
	if r := rep.Large; r != nil {
		fmt.Fprintf(&b, "3. cost:        %d portals in %s: worker %.3f CPU s/portal, server %.3f CPU s/portal, worker peak %.0f MB\n",
			r.Portals, dur(r.Wall), r.perPortal(r.workerCPU()), r.perPortal(r.ServerCPU), r.peakMB())
	}
	if r := rep.TwoWorkers; r != nil {
		all, acc := r.maxWindow()
		n, calls := r.limited()
		fmt.Fprintf(&b, "4. two workers: %d portals in %s (efficiency %.2f); most Okta management calls in any 60 s: %d sent, %d accepted, budget %d; 429s %d of %d calls; %d failed\n",
			r.Portals, dur(r.Wall), r.efficiency(), all, acc, r.Budget.OktaManagement, n, calls, r.FailedCount)
	}
	if o := rep.Org; o != nil {
		bound, which := o.bound()
		limited := 0
		for _, s := range o.Buckets {
			limited += s.Limited
		}
		fmt.Fprintf(&b, "6. real org:    %d portals in %s (%d succeeded): efficiency %.2f against %s (lower bound %s); 429s %d; Temporal %.1f actions and %.1f events per portal",
			o.Portals, dur(o.Wall), o.Succeeded, bound.Seconds()/o.Wall.Seconds(), which, dur(bound), limited,
			float64(o.Temporal.actions())/float64(o.Portals), float64(o.Temporal.Events)/float64(o.Portals))
		if l := o.Latency; l != nil {
			fmt.Fprintf(&b, "; one portal %s vs critical path %s (%.2f×)", dur(l.Wall), dur(l.Critical), l.Wall.Seconds()/l.Critical.Seconds())
		}
		b.WriteString("\n")
	}
	b.WriteString(rep.xlSummary())
	return b.String()
}
