package unstick

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	tlog "go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/dcrflow/dcrflow/internal/logging"
)

// bugLine is the SDK's line for a task that failed with temporalio/temporal#7741.
func bugLine(wf, run string) []any {
	return []any{"WorkflowType", "UsageRecord", keyWorkflow, wf, keyRun, run, "Attempt", 1,
		keyError, errors.New("history_events: premature end of stream, expectedLastEventID=12 but no more events after eventID=9")}
}

type resets struct {
	mu   sync.Mutex
	runs []string
}

func (r *resets) reset(_ context.Context, wf, run string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, wf+"/"+run)
	return nil
}

func (r *resets) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.runs...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func observed() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	return zap.New(core, zap.AddCaller()), logs
}

func TestLogger_TheBugsFailureClearsThatWorkflowOnceAndOtherLinesDoNot(t *testing.T) {
	zl, logs := observed()
	u := New(logging.Temporal(zl))
	u.Every = time.Hour
	cleared := 0
	var mu sync.Mutex
	u.Cleared = func() { mu.Lock(); cleared++; mu.Unlock() }
	l := u.Logger(logging.Temporal(zl))
	r := &resets{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go u.Run(ctx, r.reset)

	l.Warn(failedTask, bugLine("rec/1", "run-a")...)
	l.Warn(failedTask, bugLine("rec/1", "run-a")...) // within Every: no second clear
	l.Warn(failedTask, keyWorkflow, "portal-1", keyRun, "r", keyError, errors.New("nondeterministic workflow definition"))
	l.Warn("Task processing failed with error", bugLine("rec/2", "run-b")...)
	l.Info(failedTask, bugLine("rec/3", "run-c")...)
	l.Warn(failedTask, bugLine("rec/4", "run-d")...)

	waitFor(t, "two clears", func() bool { return len(r.seen()) == 2 })
	waitFor(t, "the clears reported", func() bool { mu.Lock(); defer mu.Unlock(); return cleared == 2 })
	if got := r.seen(); got[0] != "rec/1/run-a" || got[1] != "rec/4/run-d" {
		t.Fatalf("cleared %v, want rec/1/run-a then rec/4/run-d", got)
	}
	// Every line went through, as it came.
	if n := logs.FilterMessage(failedTask).Len(); n != 5 {
		t.Fatalf("%d failed-task lines reached the log, want 5", n)
	}
	waitFor(t, "the clear logged", func() bool {
		return logs.FilterMessageSnippet("cleared a workflow's stickiness").FilterField(zap.String(keyWorkflow, "rec/4")).Len() == 1
	})
}

func TestLogger_LinesNameTheirCallerNotTheWrapper(t *testing.T) {
	zl, logs := observed()
	u := New(logging.Temporal(zl))
	l := u.Logger(logging.Temporal(zl))
	l.Debug("d")
	l.Info("i")
	l.Warn("w")
	l.Error("e")
	tlog.With(l, "k", "v").Warn("with")
	for _, e := range logs.All() {
		if !e.Caller.Defined {
			t.Fatalf("%q names no caller", e.Message)
		}
		if file := e.Caller.File; !(len(file) > 15 && file[len(file)-15:] == "unstick_test.go") {
			t.Errorf("%q names %s as its caller, want this test", e.Message, e.Caller.String())
		}
	}
	if n := logs.FilterField(zap.String("k", "v")).Len(); n != 1 {
		t.Fatalf("With's fields on %d lines, want 1", n)
	}
}

func TestLogger_AFullQueueDropsTheClearAndTheNextFailureAsksAgain(t *testing.T) {
	zl, _ := observed()
	u := New(logging.Temporal(zl))
	u.Pending, u.Every = 1, time.Hour
	l := u.Logger(logging.Temporal(zl))
	for i := range 3 {
		l.Warn(failedTask, bugLine(fmt.Sprintf("rec/%d", i), "r")...) // nobody runs the queue yet: rec/1 and rec/2 are dropped
	}
	l.Warn(failedTask, bugLine("rec/1", "r")...) // dropped again, still not due-blocked
	r := &resets{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go u.Run(ctx, r.reset)
	waitFor(t, "the queued clear", func() bool { return len(r.seen()) == 1 })
	l.Warn(failedTask, bugLine("rec/2", "r")...)
	waitFor(t, "rec/2's clear on its next failure", func() bool { return len(r.seen()) == 2 })
	if got := r.seen(); got[0] != "rec/0/r" || got[1] != "rec/2/r" {
		t.Fatalf("cleared %v", got)
	}
}

func TestDue_OncePerEveryPerWorkflowAndTheMapIsSwept(t *testing.T) {
	u := New(nil)
	u.Every, u.Pending = time.Second, 1
	t0 := time.Now()
	if !u.due("a", t0) || u.due("a", t0.Add(500*time.Millisecond)) || !u.due("a", t0.Add(time.Second)) {
		t.Fatal("a workflow is due once a second")
	}
	for i := range 10 {
		u.due(fmt.Sprint("w", i), t0.Add(time.Duration(i)*time.Second))
	}
	if n := len(u.last); n > 4*u.Pending+1 {
		t.Fatalf("%d workflows remembered, want at most %d", n, 4*u.Pending+1)
	}
}
