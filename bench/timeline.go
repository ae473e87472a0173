package main

import (
	"context"
	"sort"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// timeline splits one portal's wall time by what its workflow was doing, from its
// history: until its first workflow task, activities running, activities waiting to
// be picked up, between activities (workflow tasks: the worker deciding the next
// step), and from its completion until the launcher had the result.
type timeline struct {
	Start, Running, Dispatch, Between, End time.Duration
	Activities                             int
	Steps                                  []stepSpan `json:"-"`
}

// stepSpan is one activity's attempt that completed: from its start to its completion.
type stepSpan struct {
	Name       string
	Start, End time.Time
}

// timelineOf reads the run's history; t0 and t1 are when the launcher started it and
// had its result.
func timelineOf(ctx context.Context, c client.Client, id, run string, t0, t1 time.Time) (timeline, error) {
	type mark struct {
		at    time.Time
		delta [2]int // scheduled, running
	}
	var marks []mark
	var first, done time.Time
	scheduled := map[int64]string{} // activity type by scheduled event
	started := map[int64]time.Time{}
	var out timeline
	it := c.GetWorkflowHistory(ctx, id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return out, err
		}
		at := ev.GetEventTime().AsTime()
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			if first.IsZero() {
				first = at
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			out.Activities++
			scheduled[ev.GetEventId()] = ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
			marks = append(marks, mark{at, [2]int{1, 0}})
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			// Written with its completion (retries are not events): the attempt began
			// at its started time all the same.
			marks = append(marks, mark{at, [2]int{-1, 1}})
			started[ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId()] = at
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED,
			enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
			marks = append(marks, mark{at, [2]int{0, -1}})
			if c := ev.GetActivityTaskCompletedEventAttributes(); c != nil {
				out.Steps = append(out.Steps, stepSpan{scheduled[c.GetScheduledEventId()], started[c.GetScheduledEventId()], at})
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
			done = at
		}
	}
	if first.IsZero() || done.IsZero() {
		return out, nil
	}
	sort.SliceStable(marks, func(i, j int) bool { return marks[i].at.Before(marks[j].at) })
	out.Start, out.End = max(0, first.Sub(t0)), max(0, t1.Sub(done))
	at, waiting, running := first, 0, 0
	for _, m := range append(marks, mark{at: done}) {
		d := m.at.Sub(at)
		switch {
		case running > 0:
			out.Running += d
		case waiting > 0:
			out.Dispatch += d
		default:
			out.Between += d
		}
		at, waiting, running = m.at, waiting+m.delta[0], running+m.delta[1]
	}
	return out, nil
}
