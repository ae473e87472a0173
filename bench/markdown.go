package main

import (
	"fmt"
	"strings"
	"time"
)

// markdown is REPORT.md: the figures against their targets, then each phase in detail.
func (rep *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# dcrflow benchmark\n\n")
	p("`make bench`, %s, took %s on %d CPUs (%s). Everything ran on this machine: the Temporal dev server, the sandbox "+
		"and the workers each as their own process (load average %s before the run, %s after: other work on the machine slows every figure). "+
		"Figures are measured, not asserted; targets are the issue's.\n\n",
		rep.Started.UTC().Format("2006-01-02 15:04 UTC"), rep.Elapsed.Round(time.Second), rep.CPUs, rep.GoVersion, rep.Load[0], rep.Load[1])
	p("![portals done over time](%s)\n\n", chartFile)

	if rep.Budget != nil || rep.Unlimited != nil || rep.Large != nil || rep.TwoWorkers != nil {
		p("| figure | value | target |\n|---|---|---|\n")
	}
	if r := rep.Budget; r != nil {
		p("| 1. budget efficiency (lower bound ÷ wall time) | %.2f (%s vs %s) | ≥ %.2f: %s |\n", r.efficiency(), dur(r.lowerBound()), dur(r.Wall), targetEfficiency, mark(r.efficiency() >= targetEfficiency))
		n, calls := r.limited()
		p("| 1. 429 answers | %d of %d calls (%.2f %%) | ≤ %.0f %%: %s |\n", n, calls, r.limitedPct(), targetLimitedPct, mark(r.limitedPct() <= targetLimitedPct))
		p("| 1. failed portals (calls answered 5xx or dropped) | %d of %d (%d) | 0: %s |\n", r.FailedCount, r.Portals, r.serverErrors(), mark(r.FailedCount == 0))
	}
	if rep.Unlimited != nil && rep.Loop != nil {
		p("| 2. orchestration gain (fleet ÷ sequential loop, portals/s) | %.1f× (%.2f vs %.3f) | ≥ %.0f×: %s |\n", rep.gain(), rep.Unlimited.throughput(), rep.Loop.throughput(), targetGain, mark(rep.gain() >= targetGain))
	}
	if r := rep.Large; r != nil {
		p("| 3. worker CPU per portal (%d portals) | %.3f s | — |\n", r.Portals, r.perPortal(r.workerCPU()))
		p("| 3. Temporal server CPU per portal | %.3f s | — |\n", r.perPortal(r.ServerCPU))
		p("| 3. worker peak memory (VmHWM) | %.0f MB | ≤ %.0f MB: %s |\n", r.peakMB(), targetPeakMB, mark(r.peakMB() <= targetPeakMB))
	}
	if r := rep.TwoWorkers; r != nil {
		all, _ := r.maxWindow()
		p("| 4. two workers: most Okta management calls in any 60 s | %d (budget %d) | ≤ budget: %s |\n", all, r.Budget.OktaManagement, mark(all <= r.Budget.OktaManagement))
	}
	p("\n")

	p("## Setup\n\n")
	p("- **Fleet**: portal *i* onboards Konnect portal `bench-i` onto Okta authorization server *i* mod %d with %d scopes of its own, "+
		"the `client_id` claim (shared per server: created once, then adopted) and %d APIs out of %d; every step runs, validation included (but in phase 5) "+
		"(`bench/fixture.go` generates the sandbox fixture and the specs).\n", authServers, scopesPerPortal, apisPerPortal, apiPool)
	p("- **Latency** on every sandbox call (`sandbox` faults, first match wins):")
	for i, f := range rep.Latency {
		sep := ","
		if i == len(rep.Latency)-1 {
			sep = "."
		}
		method := f.Method
		if method == "" {
			method = "other"
		}
		p(" %s `%s` %d ms%s", method, f.Path, f.LatencyMS, sep)
	}
	p("\n- **Fleets** run as `OnboardFleet` with MaxConcurrent %d under the budget and %d without, started through `launcher.StartFleet`; "+
		"progress is the fleet's `progress` query twice a second. Each phase starts with a reset sandbox and fresh worker processes (the real binary).\n",
		rep.Options.budgetConc, rep.Options.maxConcurrent)
	p("- **Limits**: the sandbox's Okta management window (%d/min, fixed 60 s windows like Okta's) and the workers' own budget "+
		"(`DCRFLOW_RATE_LIMITS_OKTA_MANAGEMENT_RPM`, the same number) in phases 1 and 4; none in phases 2 and 3.\n", rep.Options.oktaRPM)
	p("- **Counting**: calls and 429s come from the sandbox's request log (`/_sandbox/requests`), CPU from `/proc/<pid>/stat` " +
		"(utime + stime) of the worker, the dev server and the sandbox, peak memory from `VmHWM` in `/proc/<pid>/status`.\n\n")

	if r := rep.Budget; r != nil {
		p("## 1. Budget efficiency\n\n")
		p("%d portals, one worker, Okta management limit %d/min. The fleet made %d Okta management calls the limit counted "+
			"(%.1f per portal); at %.0f per second they need at least **%s**. The fleet took **%s**: efficiency **%.2f**.\n\n",
			r.Portals, r.Limits.OktaManagement.PerMinute, r.mgmtCalls(), float64(r.mgmtCalls())/float64(r.Portals), r.rate(), dur(r.lowerBound()), dur(r.Wall), r.efficiency())
		p("The first portal ended after %.1f s — one portal's whole way through the steps, while the budget already served the others; "+
			"from then on the fleet keeps pace with the budget line. The %s between wall time and lower bound is mostly that start.\n\n",
			r.firstDone(), dur(r.Wall-r.lowerBound()))
		rep.fleetDetails(&b, r)
	}
	if rep.Unlimited != nil && rep.Loop != nil {
		u, l := rep.Unlimited, rep.Loop
		p("## 2. Orchestration gain\n\n")
		p("Without limits, the same fleet of %d portals on one worker took %s: **%.2f portals/s**. The sequential loop — the same activities "+
			"with the same clients, called one after another in this process with no Temporal server, no workflow and no concurrency "+
			"(`bench/loop.go`) — onboarded %d of them (a subset: its throughput is per portal) in %s, %s per portal: **%.3f portals/s**. "+
			"Gain: **%.1f×**.\n\n", u.Portals, dur(u.Wall), u.throughput(), l.Portals, dur(l.Wall), l.PerPortal.Round(time.Millisecond), l.throughput(), rep.gain())
		p("Both made the same calls: %.1f per portal in the fleet, %.1f in the loop. The loop failed %d portal(s) and spent %.3f CPU s per portal "+
			"(the fleet's worker %.3f, plus %.3f in the dev server).\n\n", u.callsPerPortal(), l.callsPerPortal(), len(l.Failures),
			l.BenchCPU.Seconds()/float64(l.Portals), u.perPortal(u.workerCPU()), u.perPortal(u.ServerCPU))
		for _, f := range l.Failures {
			p("- loop failure: %s\n", f)
		}
		rep.fleetDetails(&b, u)
	}
	if r := rep.Large; r != nil {
		p("## 3. Cost\n\n")
		p("%d portals, one worker, no limits: %s (%.2f portals/s). Worker CPU %s (**%.3f s per portal**), Temporal dev server CPU %s "+
			"(**%.3f s per portal**), sandbox CPU %s (%.3f s per portal). Worker peak memory (VmHWM) **%.0f MB**.\n\n",
			r.Portals, dur(r.Wall), r.throughput(), dur(r.workerCPU()), r.perPortal(r.workerCPU()), dur(r.ServerCPU), r.perPortal(r.ServerCPU),
			dur(r.SandboxCPU), r.perPortal(r.SandboxCPU), r.peakMB())
		rep.fleetDetails(&b, r)
	}
	if r := rep.TwoWorkers; r != nil {
		all, acc := r.maxWindow()
		p("## 4. Two workers, one budget\n\n")
		p("%d portals on two worker processes, each given the budget %d/min, which they hold together; the sandbox enforces the same "+
			"limit. The most Okta management calls in any 60 s were **%d** sent (%d accepted) against the budget of %d; the busiest "+
			"second had %d (budget %.0f per second on average). Wall time %s, lower bound %s: efficiency %.2f.\n\n",
			r.Portals, r.Budget.OktaManagement, all, acc, r.Budget.OktaManagement, r.peakSecond(), r.rate(), dur(r.Wall), dur(r.lowerBound()), r.efficiency())
		for i, w := range r.Workers {
			p("- worker %d: %.0f Okta calls, %.0f answered 429 (its metrics), CPU %s, peak %.0f MB\n", i+1, w.OktaCalls, w.Limited, dur(w.CPU), float64(w.PeakRSS)/(1<<20))
		}
		p("\n")
		rep.fleetDetails(&b, r)
	}
	p("## Reproduce\n\n```sh\nmake bench      # or, in bench/: go run . -h for the sizes and the limits\n```\n")
	if rep.Org != nil {
		b.WriteString(rep.orgMarkdown())
	}
	if len(rep.XL) > 0 {
		b.WriteString(rep.xlMarkdown())
	}
	return b.String()
}

// fleetDetails is a phase's calls per bucket, its cost and any failures.
func (rep *report) fleetDetails(b *strings.Builder, r *fleetRun) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("| calls (%s) | received | 429 | 5xx or dropped | other 4xx |\n|---|---|---|---|---|\n", r.Name)
	for _, k := range buckets {
		s := r.Requests[k]
		p("| %s | %d | %d | %d | %d |\n", k, s.Calls, s.Limited, s.Errors, s.Rejected)
	}
	if kinds := rejectedKinds(r.Log); len(kinds) > 0 {
		p("\nOther 4xx, the normal answers of lookups and of concurrent creation (then adopted):")
		for i, k := range kinds {
			if i == 4 {
				p(" …")
				break
			}
			p(" `%s` ×%d", k.Kind, k.Count)
		}
		p(".\n")
	}
	p("\nSucceeded %d of %d, failed %d. Worker CPU %.3f s/portal, server %.3f s/portal, worker peak %.0f MB. ",
		r.Succeeded, r.Portals, r.FailedCount, r.perPortal(r.workerCPU()), r.perPortal(r.ServerCPU), r.peakMB())
	p("\n\n")
	for i, w := range r.Workers {
		p("- worker %d: tasks waited in the queue %s per activity, %s per workflow task on average", i+1,
			w.ActivityWait.Round(time.Millisecond), w.WorkflowTaskWait.Round(time.Millisecond))
		switch {
		case w.Budgeted && r.Budget.OktaManagement > 0:
			p("; Okta management budget: its share at the end %.0f/min among %.0f worker(s), %.0f s waited for slots in all, %.0f requests deferred to a later retry",
				w.BudgetRate, w.BudgetWorkers, w.BudgetWait, w.Deferred)
		case r.Budget.OktaManagement > 0:
			p("; it exports no budget metrics: it kept no budget of its own, only the sandbox's 429s slowed it")
		}
		p("\n")
	}
	p("\n")
	for i, f := range r.Failed {
		if i == 10 {
			p("- … and %d more\n", r.FailedCount-10)
			break
		}
		p("- %s failed at %s: %s\n", f.Portal, f.Step, f.Message)
	}
	if len(r.Failed) > 0 {
		p("\n")
	}
}
