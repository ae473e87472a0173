package launcher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/workflows"
)

// ScheduleSpec is a fleet's reconcile schedule as the starter asks for it.
type ScheduleSpec struct {
	Name          string
	TaskQueue     string
	Specs         []dcrflow.PortalSpec
	Every         time.Duration
	Heal          bool
	MaxConcurrent int
	// SearchAttr: the namespace has DcrflowDrift registered.
	SearchAttr bool
}

// DriftAttributeRegistered tells whether the namespace has the DcrflowDrift search
// attribute, so that a reconcile may set it.
func DriftAttributeRegistered(ctx context.Context, c client.Client, namespace string) (bool, error) {
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return false, fmt.Errorf("list search attributes: %w", err)
	}
	return resp.GetCustomAttributes()[dcrflow.SearchAttrDrift] == enumspb.INDEXED_VALUE_TYPE_KEYWORD, nil
}

// action is the schedule's action: the Reconcile workflow with the file packed in its
// input (names only: the file holds DCR token names, never tokens; no path).
func (s ScheduleSpec) action() (*client.ScheduleWorkflowAction, string, error) {
	packed, err := dcrflow.PackPortals(s.Specs)
	if err != nil {
		return nil, "", fmt.Errorf("schedule %s: pack portals: %w", s.Name, err)
	}
	sum := sha256.Sum256(packed)
	mode := "report only"
	if s.Heal {
		mode = "heal"
	}
	note := fmt.Sprintf("dcrflow reconcile of %s: %d portal(s), every %s, %s; file %s", s.Name, len(s.Specs), s.Every, mode, hex.EncodeToString(sum[:6]))
	return &client.ScheduleWorkflowAction{
		ID:        dcrflow.ReconcileWorkflowID(s.Name),
		Workflow:  workflows.Reconcile,
		TaskQueue: s.TaskQueue,
		Args: []any{dcrflow.ReconcileInput{Name: s.Name, Packed: packed, Heal: s.Heal, MaxConcurrent: s.MaxConcurrent,
			UpsertSearchAttributes: s.SearchAttr}},
		StaticSummary: fmt.Sprintf("Reconcile %s: drift of %d portal(s), %s", s.Name, len(s.Specs), mode),
	}, note, nil
}

// CreateSchedule creates the fleet's reconcile schedule (dcrflow.ScheduleID).
func CreateSchedule(ctx context.Context, c client.Client, s ScheduleSpec) (string, error) {
	act, note, err := s.action()
	if err != nil {
		return "", err
	}
	id := dcrflow.ScheduleID(s.Name)
	_, err = c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      id,
		Spec:    client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: s.Every}}},
		Action:  act,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Note:    note,
	})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) || isAlreadyExists(err) {
		return "", fmt.Errorf("schedule %s exists already; change it with `dcrflow schedule update` or remove it with `dcrflow schedule delete`", id)
	}
	if err != nil {
		return "", fmt.Errorf("create schedule %s: %w", id, err)
	}
	return id, nil
}

func isAlreadyExists(err error) bool {
	var ae *serviceerror.AlreadyExists
	return errors.As(err, &ae)
}

// UpdateSchedule replaces the schedule's file, interval and mode.
func UpdateSchedule(ctx context.Context, c client.Client, s ScheduleSpec) error {
	act, note, err := s.action()
	if err != nil {
		return err
	}
	h := c.ScheduleClient().GetHandle(ctx, dcrflow.ScheduleID(s.Name))
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		sch := in.Description.Schedule
		sch.Action = act
		sch.Spec = &client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: s.Every}}}
		if sch.State == nil {
			sch.State = &client.ScheduleState{}
		}
		sch.State.Note = note
		return &client.ScheduleUpdate{Schedule: &sch}, nil
	}})
	return scheduleErr("update", s.Name, err)
}

// DeleteSchedule removes the schedule (reconciles already running go on).
func DeleteSchedule(ctx context.Context, c client.Client, name string) error {
	return scheduleErr("delete", name, c.ScheduleClient().GetHandle(ctx, dcrflow.ScheduleID(name)).Delete(ctx))
}

// TriggerSchedule runs the schedule's reconcile now.
func TriggerSchedule(ctx context.Context, c client.Client, name string) error {
	return scheduleErr("trigger", name, c.ScheduleClient().GetHandle(ctx, dcrflow.ScheduleID(name)).Trigger(ctx, client.ScheduleTriggerOptions{}))
}

func scheduleErr(verb, name string, err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("no schedule %s (create it with `dcrflow schedule create -f FILE --every 1h`)", dcrflow.ScheduleID(name))
	}
	if err != nil {
		return fmt.Errorf("%s schedule %s: %w", verb, dcrflow.ScheduleID(name), err)
	}
	return nil
}

// ScheduleView is what `dcrflow schedule describe` shows.
type ScheduleView struct {
	ID         string                    `json:"id"`
	Note       string                    `json:"note"`
	Every      []string                  `json:"every"`
	Paused     bool                      `json:"paused"`
	NextRuns   []time.Time               `json:"next_runs,omitempty"`
	Recent     []ScheduleRun             `json:"recent,omitempty"`
	LastResult *dcrflow.ReconcileSummary `json:"last_result,omitempty"`
}

// ScheduleRun is one reconcile a schedule started.
type ScheduleRun struct {
	WorkflowID string    `json:"workflow_id"`
	RunID      string    `json:"run_id"`
	Started    time.Time `json:"started"`
}

// DescribeSchedule reads the schedule and the result of its newest completed
// reconcile.
func DescribeSchedule(ctx context.Context, c client.Client, name string) (ScheduleView, error) {
	id := dcrflow.ScheduleID(name)
	d, err := c.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
	if err != nil {
		return ScheduleView{}, scheduleErr("describe", name, err)
	}
	v := ScheduleView{ID: id, NextRuns: d.Info.NextActionTimes}
	if st := d.Schedule.State; st != nil {
		v.Note, v.Paused = st.Note, st.Paused
	}
	if sp := d.Schedule.Spec; sp != nil {
		for _, iv := range sp.Intervals {
			v.Every = append(v.Every, iv.Every.String())
		}
	}
	for _, r := range d.Info.RecentActions {
		if r.StartWorkflowResult != nil {
			v.Recent = append(v.Recent, ScheduleRun{WorkflowID: r.StartWorkflowResult.WorkflowID, RunID: r.StartWorkflowResult.FirstExecutionRunID, Started: r.ActualTime})
		}
	}
	sort.Slice(v.Recent, func(i, j int) bool { return v.Recent[i].Started.After(v.Recent[j].Started) })
	v.LastResult = LastReconcile(ctx, c, v.Recent)
	return v, nil
}

// LastReconcile is the summary of the newest of runs that completed (nil: none).
func LastReconcile(ctx context.Context, c client.Client, runs []ScheduleRun) *dcrflow.ReconcileSummary {
	for _, r := range runs {
		d, err := c.DescribeWorkflowExecution(ctx, r.WorkflowID, "")
		if err != nil || d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			continue
		}
		var sum dcrflow.ReconcileSummary
		if err := c.GetWorkflow(ctx, r.WorkflowID, "").Get(ctx, &sum); err == nil {
			return &sum
		}
	}
	return nil
}

// LatestReconcile is the summary of the fleet's newest completed reconcile, found
// through its schedule (nil when there is none).
func LatestReconcile(ctx context.Context, c client.Client, name string) *dcrflow.ReconcileSummary {
	v, err := DescribeSchedule(ctx, c, name)
	if err != nil {
		return nil
	}
	return v.LastResult
}

// PrintSchedule writes a schedule's view.
func PrintSchedule(w io.Writer, v ScheduleView) {
	fmt.Fprintf(w, "schedule %s: every %s", v.ID, strings.Join(v.Every, ", "))
	if v.Paused {
		fmt.Fprint(w, " (paused)")
	}
	fmt.Fprintf(w, "\n  %s\n", v.Note)
	for _, t := range v.NextRuns {
		fmt.Fprintf(w, "  next run %s\n", t.UTC().Format(time.RFC3339))
	}
	for _, r := range v.Recent {
		fmt.Fprintf(w, "  ran %s: workflow %s (run %s)\n", r.Started.UTC().Format(time.RFC3339), r.WorkflowID, r.RunID)
	}
	if v.LastResult != nil {
		PrintReconcile(w, *v.LastResult)
	}
}

// PrintReconcile writes a reconcile's summary.
func PrintReconcile(w io.Writer, s dcrflow.ReconcileSummary) {
	fmt.Fprintf(w, "last reconcile: %d of %d portal(s) checked: %d ok, %d drifted, %d unknown", s.Checked, s.Total, s.OK, s.Drifted, s.Unknown)
	if s.Healed+s.HealFailed > 0 {
		fmt.Fprintf(w, "; %d healed, %d not healed", s.Healed, s.HealFailed)
	}
	fmt.Fprintln(w)
	for _, p := range s.Portals {
		fmt.Fprintf(w, "  portal %s: %s", p.Portal, p.State)
		if p.Heal != "" {
			fmt.Fprintf(w, " (%s)", p.Heal)
		}
		fmt.Fprintln(w)
		for _, it := range p.Items {
			if it.State != dcrflow.DriftOK {
				fmt.Fprintf(w, "    %s %s: %s %s\n", it.Kind, it.Name, it.State, strings.Join(it.Fields, "; "))
			}
		}
	}
	for _, t := range s.Tokens {
		fmt.Fprintf(w, "  DCR token %s: %s; breaks providers %s and portals %s\n", t.Name, strings.Join(t.Fields, "; "),
			strings.Join(t.Providers, ", "), strings.Join(t.Portals, ", "))
	}
}
