package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/dcrflow/dcrflow"
)

// xlRun is phase 5: one large fleet without limits (validation off, so that 10,000
// portals fit in a bench's time), and what its own workflow weighed in Temporal.
type xlRun struct {
	*fleetRun
	Fleet fleetWeight
}

// fleetWeight is the fleet workflow's footprint over all its runs (continue-as-new).
type fleetWeight struct {
	Runs            int
	MaxEvents       int    // the most events one run had
	MaxHistoryBytes int    // the largest history of one run
	TotalBytes      int    // all runs together
	MaxPayload      int    // the largest payload anywhere in the fleet's histories
	MaxPayloadAt    string // the event that carried it
}

// xlPhases are the -xl sizes: one phase 5 per size, smallest first (the first is the
// per-portal reference for the others).
func xlSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(f, "%d", &n); err != nil || n <= 0 {
			return nil, fmt.Errorf("-xl %q: want sizes like 1000,10000", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// xl runs one phase-5 fleet and weighs its workflow.
func (b *bench) xl(n int) (*xlRun, error) {
	prefix := fmt.Sprintf("x%d", n)
	r, err := b.fleet(phaseCfg{name: fmt.Sprintf("xl-%d", n), prefix: prefix, portals: n, workers: 1,
		maxConcurrent: b.o.maxConcurrent, noValidate: true, wait: 3 * time.Hour})
	if err != nil {
		return nil, err
	}
	out := &xlRun{fleetRun: r}
	out.Fleet, err = weigh(b.ctx, b, dcrflow.FleetWorkflowID("bench-"+r.Name))
	if err != nil {
		return nil, fmt.Errorf("weigh the fleet's histories: %w", err)
	}
	logf("phase %s: fleet workflow: %d runs, at most %d events and %d KB of history per run, largest payload %d KB (%s)",
		r.Name, out.Fleet.Runs, out.Fleet.MaxEvents, out.Fleet.MaxHistoryBytes>>10, out.Fleet.MaxPayload>>10, out.Fleet.MaxPayloadAt)
	return out, nil
}

// weigh reads every run of a workflow id and measures its histories and payloads.
func weigh(ctx context.Context, b *bench, id string) (fleetWeight, error) {
	var w fleetWeight
	var token []byte
	for {
		resp, err := b.c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("WorkflowId = '%s'", id), NextPageToken: token})
		if err != nil {
			return w, err
		}
		for _, e := range resp.GetExecutions() {
			w.Runs++
			events, bytes := 0, 0
			it := b.c.GetWorkflowHistory(ctx, id, e.GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					return w, err
				}
				events++
				bytes += proto.Size(ev)
				eachPayload(ev.ProtoReflect(), func(p *commonpb.Payload) {
					if s := proto.Size(p); s > w.MaxPayload {
						w.MaxPayload, w.MaxPayloadAt = s, ev.GetEventType().String()
					}
				})
			}
			w.MaxEvents, w.MaxHistoryBytes, w.TotalBytes = max(w.MaxEvents, events), max(w.MaxHistoryBytes, bytes), w.TotalBytes+bytes
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return w, nil
		}
	}
}

// eachPayload calls fn with every Payload inside m, however deep.
func eachPayload(m protoreflect.Message, fn func(*commonpb.Payload)) {
	if p, ok := m.Interface().(*commonpb.Payload); ok {
		fn(p)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				eachPayload(v.List().Get(i).Message(), fn)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				eachPayload(mv.Message(), fn)
				return true
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			eachPayload(v.Message(), fn)
		}
		return true
	})
}

// Targets of phase 5 (the issue's).
const (
	targetXLPeakMB    = 150
	targetXLPayloadKB = 256
)

// xlMarkdown is phase 5's section of REPORT.md.
func (rep *report) xlMarkdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	ref := rep.XL[0]
	p("\n## 5. Large fleets (bounded state)\n\n")
	p("Without limits, validation off (step 8 registers a client per portal; the other seven steps run), MaxConcurrent %d, one worker. "+
		"The fleet workflow is weighed over all its runs (continue-as-new every 500 portals): events and history bytes per run, and the largest "+
		"payload in any of its events. CPU per portal is compared with the first size.\n\n", rep.Options.maxConcurrent)
	p("| portals | wall | succeeded / failed | worker peak (VmHWM) | worker CPU/portal | server CPU/portal (× first) | fleet runs | events/run (max) | history/run (max) | largest payload |\n")
	p("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rep.XL {
		ratio := r.perPortal(r.ServerCPU) / ref.perPortal(ref.ServerCPU)
		p("| %d | %s | %d / %d | %.0f MB (≤ %d: %s) | %.3f s | %.3f s (%.2f×) | %d | %d | %d KB | %.1f KB (≤ %d: %s, %s) |\n",
			r.Portals, dur(r.Wall), r.Succeeded, r.FailedCount, r.peakMB(), targetXLPeakMB, mark(r.peakMB() <= targetXLPeakMB),
			r.perPortal(r.workerCPU()), r.perPortal(r.ServerCPU), ratio, r.Fleet.Runs, r.Fleet.MaxEvents, r.Fleet.MaxHistoryBytes>>10,
			float64(r.Fleet.MaxPayload)/1024, targetXLPayloadKB, mark(r.Fleet.MaxPayload <= targetXLPayloadKB<<10), r.Fleet.MaxPayloadAt)
	}
	p("\nServer CPU per portal over slices of each fleet (the dev server's CPU time from /proc between the moments a tenth of the fleet had ended): " +
		"a ratio within one fleet does not depend on the machine's load, and a rise from the first slice to the last shows cost that grows with the fleet.\n\n")
	p("| portals | CPU s/portal per tenth of the fleet | last ÷ first tenth |\n|---|---|---|\n")
	for _, r := range rep.XL {
		sl := cpuSlices(r.Samples, r.Portals, 10)
		var cells []string
		for _, v := range sl {
			cells = append(cells, fmt.Sprintf("%.3f", v))
		}
		ratio := 0.0
		if len(sl) > 1 && sl[0] > 0 {
			ratio = sl[len(sl)-1] / sl[0]
		}
		p("| %d | %s | %.2f× |\n", r.Portals, strings.Join(cells, " · "), ratio)
	}
	p("\n")
	return b.String()
}

// cpuSlices is the server CPU per portal in each of n equal slices of the fleet's
// progress, from the samples (fewer when the samples do not cover a slice).
func cpuSlices(samples []sample, portals, n int) []float64 {
	var out []float64
	prevDone, prevCPU := 0, 0.0
	next := 1
	for _, s := range samples {
		if next > n {
			break
		}
		if s.Done >= portals*next/n && s.ServerCPU > 0 && s.Done > prevDone {
			out = append(out, (s.ServerCPU-prevCPU)/float64(s.Done-prevDone))
			prevDone, prevCPU = s.Done, s.ServerCPU
			for next <= n && s.Done >= portals*next/n {
				next++
			}
		}
	}
	return out
}

func (rep *report) xlSummary() string {
	var b strings.Builder
	for _, r := range rep.XL {
		fmt.Fprintf(&b, "5. xl:          %d portals in %s: %d succeeded, %d failed; worker peak %.0f MB, %.3f CPU s/portal; server %.3f CPU s/portal; fleet %d runs, max %d events / %d KB per run, largest payload %.1f KB\n",
			r.Portals, dur(r.Wall), r.Succeeded, r.FailedCount, r.peakMB(), r.perPortal(r.workerCPU()), r.perPortal(r.ServerCPU),
			r.Fleet.Runs, r.Fleet.MaxEvents, r.Fleet.MaxHistoryBytes>>10, float64(r.Fleet.MaxPayload)/1024)
	}
	return b.String()
}
