package launcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/workflows"
)

// TokenUsers finds the DCR providers that hold the token of name, and the portals
// behind each, from the onboarding records Temporal keeps: the latest completed
// OnboardPortal run of every portal (not offboarded since) whose input names the
// token. Its input (the PortalSpec) names the token and the provider; its result
// (the OnboardResult) the provider's id, the issuer, portal and strategy.
//
// Why the records and not the providers' labels in Konnect: labels mark only the
// providers dcrflow created (an adopted provider carries none), they do not name the
// token, and anyone may edit them in Konnect; the records cover created and adopted
// providers alike, name the token, and cannot be edited. Their limit: Temporal keeps
// them for the namespace's retention period; a portal onboarded before that is found
// again by onboarding it once more (an unchanged portal's run only adopts).
//
// dc decodes the runs' inputs (the client's own data converter, encrypting or not).
func TokenUsers(ctx context.Context, c client.Client, dc converter.DataConverter, name string) ([]dcrflow.RotateProvider, error) {
	name = dcrflow.DCRTokenName(name)
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	latest, err := latestOnboardings(ctx, c)
	if err != nil {
		return nil, err
	}
	byProvider := map[string]*dcrflow.RotateProvider{}
	keys := slices.Sorted(maps.Keys(latest))
	for _, key := range keys {
		run := latest[key]
		if offboardedSince(ctx, c, key, run.GetCloseTime().AsTime()) {
			continue
		}
		spec, err := onboardInput(ctx, c, dc, run)
		if err != nil {
			return nil, fmt.Errorf("portal %s: read its onboarding (run %s): %w", key, run.GetExecution().GetRunId(), err)
		}
		if dcrflow.DCRTokenName(spec.DCRTokenName) != name {
			continue
		}
		var res dcrflow.OnboardResult
		if err := c.GetWorkflow(ctx, run.GetExecution().GetWorkflowId(), run.GetExecution().GetRunId()).Get(ctx, &res); err != nil {
			return nil, fmt.Errorf("portal %s: result of its onboarding: %w", key, err)
		}
		pt := dcrflow.RotatePortal{Spec: spec, Issuer: res.Issuer, PortalID: res.PortalID}
		var providerID string
		for _, r := range res.Resources {
			switch r.Kind {
			case dcrflow.KindDCRProvider:
				providerID = r.ID
			case dcrflow.KindAuthStrategy:
				pt.StrategyID = r.ID
			}
		}
		p := byProvider[spec.DCRProvider]
		if p == nil {
			p = &dcrflow.RotateProvider{Name: spec.DCRProvider, ID: providerID}
			byProvider[spec.DCRProvider] = p
		} else {
			// Only the first portal is validated: the others go by key, so that the
			// rotation's input stays small however many portals share a provider.
			pt = dcrflow.RotatePortal{Spec: dcrflow.PortalSpec{Key: spec.Key}}
		}
		p.Portals = append(p.Portals, pt)
	}
	out := make([]dcrflow.RotateProvider, 0, len(byProvider))
	for _, n := range slices.Sorted(maps.Keys(byProvider)) {
		out = append(out, *byProvider[n])
	}
	return out, nil
}

// latestOnboardings is the latest completed OnboardPortal run of every portal, by
// portal key.
func latestOnboardings(ctx context.Context, c client.Client) (map[string]*workflowpb.WorkflowExecutionInfo, error) {
	out := map[string]*workflowpb.WorkflowExecutionInfo{}
	query := "WorkflowType = 'OnboardPortal' AND ExecutionStatus = 'Completed'"
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: 1000, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list onboarding records: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			key, ok := strings.CutPrefix(e.GetExecution().GetWorkflowId(), dcrflow.OnboardWorkflowID(""))
			if !ok {
				continue
			}
			if cur := out[key]; cur == nil || e.GetCloseTime().AsTime().After(cur.GetCloseTime().AsTime()) {
				out[key] = e
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}

// offboardedSince tells whether the portal's offboarding completed after t.
func offboardedSince(ctx context.Context, c client.Client, key string, t time.Time) bool {
	d, err := c.DescribeWorkflowExecution(ctx, dcrflow.OffboardWorkflowID(key), "")
	if err != nil {
		return false
	}
	info := d.GetWorkflowExecutionInfo()
	return info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED && info.GetCloseTime().AsTime().After(t)
}

// onboardInput decodes a run's PortalSpec from its first history event.
func onboardInput(ctx context.Context, c client.Client, dc converter.DataConverter, run *workflowpb.WorkflowExecutionInfo) (dcrflow.PortalSpec, error) {
	var spec dcrflow.PortalSpec
	it := c.GetWorkflowHistory(ctx, run.GetExecution().GetWorkflowId(), run.GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return spec, errors.New("empty history")
	}
	ev, err := it.Next()
	if err != nil {
		return spec, err
	}
	attrs := ev.GetWorkflowExecutionStartedEventAttributes()
	if attrs == nil {
		return spec, errors.New("history does not begin with the start")
	}
	if err := dc.FromPayloads(attrs.GetInput(), &spec); err != nil {
		return spec, fmt.Errorf("decode its input: %w", err)
	}
	return spec, nil
}

// Rotation is a started (or attached) rotation.
type Rotation struct {
	Name, WorkflowID, RunID string
	Started                 bool
	handle                  client.WorkflowRun
}

// StartRotation starts the rotation of in.Name, or attaches to the one running
// (one workflow id per token name: two rotations of one token never run at once).
func StartRotation(ctx context.Context, c client.Client, taskQueue string, in dcrflow.RotateInput) (Rotation, error) {
	in.Name = dcrflow.DCRTokenName(in.Name)
	id := dcrflow.RotateWorkflowID(in.Name)
	r := Rotation{Name: in.Name, WorkflowID: id, Started: true}
	h, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                taskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary: fmt.Sprintf("Rotate DCR token %s: %d provider(s) onto the new token (%s), %d at a time",
			in.Name, len(in.Providers), dcrflow.NextDCRTokenName(in.Name), max(in.MaxConcurrent, 1)),
	}, workflows.RotateDCRToken, in)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		h, r.Started, err = c.GetWorkflow(ctx, id, ""), false, nil
	}
	if err != nil {
		return Rotation{}, fmt.Errorf("start rotation of %s: %w", in.Name, err)
	}
	r.RunID, r.handle = h.GetRunID(), h
	return r, nil
}

// Wait waits for the rotation's end: its result, also when it failed with one
// (providers left on the old token), and the failure.
func (r Rotation) Wait(ctx context.Context) (*dcrflow.RotateResult, error) {
	var res dcrflow.RotateResult
	err := r.handle.Get(ctx, &res)
	if err == nil {
		return &res, nil
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.Type() == dcrflow.ErrTypeRotateFailed && ae.HasDetails() && ae.Details(&res) == nil {
		return &res, err
	}
	var ce *temporal.CanceledError
	if errors.As(err, &ce) && ce.HasDetails() && ce.Details(&res) == nil {
		return &res, err
	}
	return nil, err
}

// RotationProgress queries a rotation's progress.
func RotationProgress(ctx context.Context, c client.Client, name string) (dcrflow.RotateProgress, error) {
	return query[dcrflow.RotateProgress](ctx, c, dcrflow.RotateWorkflowID(name), dcrflow.QueryProgress)
}

// WatchRotation shows a rotation's progress until ctx ends, as Watch does a fleet's:
// on a terminal a block redrawn in place, else a line whenever it changes.
func WatchRotation(ctx context.Context, c client.Client, name string, out io.Writer, tty bool, every time.Duration) {
	redraw(ctx, out, tty, every, func() (block, line string, ok bool) {
		p, err := RotationProgress(ctx, c, name)
		if err != nil {
			return "", "", false
		}
		block = renderRotation(p)
		return block, strings.SplitN(block, "\n", 2)[0], true
	})
}

func renderRotation(p dcrflow.RotateProgress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s rotate %s: %d/%d provider(s) done, %d running", bar(len(p.Done), p.Total, 40), p.Name, len(p.Done), p.Total, len(p.Running))
	if p.Stopped {
		b.WriteString(", stopped at a failure")
	}
	b.WriteString("\n")
	for _, n := range slices.Sorted(maps.Keys(p.Running)) {
		fmt.Fprintf(&b, "  %-24s %s\n", n, p.Running[n])
	}
	return b.String()
}

// PrintRotation writes a rotation's report: each provider's outcome, which stayed
// on the old token and why, and whether the old token may be revoked.
func PrintRotation(w io.Writer, res *dcrflow.RotateResult) {
	fmt.Fprintf(w, "Rotation of DCR token %s:\n", res.Name)
	for _, p := range res.Providers {
		line := fmt.Sprintf("  %-10s %s", p.Outcome, p.Provider)
		if p.Validated != "" && p.Outcome == dcrflow.RotationRotated {
			line += " (verified; portal " + p.Validated + " validated end to end)"
		}
		if len(p.Portals) > 0 {
			line += " — portals " + strings.Join(p.Portals, ", ")
		}
		fmt.Fprintln(w, line)
		if p.Reason != "" {
			at := ""
			if p.Step != "" {
				at = "at " + p.Step + ": "
			}
			fmt.Fprintf(w, "             %s%s\n", at, p.Reason)
		}
	}
	if res.SafeToRevoke {
		fmt.Fprintf(w, "Every provider is on the new token: the old token of %s is safe to revoke in Okta.\nThen give the workers the new token as dcr_tokens.%s (%s) and remove %s.\n",
			res.Name, res.Name, dcrflow.DCRTokenEnv(res.Name), dcrflow.DCRTokenEnv(dcrflow.NextDCRTokenName(res.Name)))
		return
	}
	fmt.Fprintf(w, "Still on the old token: %s. Do NOT revoke the old token of %s; fix the cause and run the rotation again (rotated providers stay as they are).\n",
		strings.Join(res.OnOldToken(), ", "), res.Name)
}

// TokenAge is when a DCR token was last rotated through dcrflow.
type TokenAge struct {
	Name string `json:"name"`
	// LastRotated is when its latest successful rotation completed; zero: never.
	LastRotated time.Time `json:"last_rotated,omitempty"`
	// FirstSeen, for a token never rotated, is when dcrflow's oldest onboarding record
	// in the namespace began (zero when there is none): a lower bound of its age.
	FirstSeen time.Time `json:"first_seen,omitempty"`
}

// Age is how long since the last rotation (or since first seen); ok false when
// neither is known.
func (a TokenAge) Age(now time.Time) (time.Duration, bool) {
	switch {
	case !a.LastRotated.IsZero():
		return now.Sub(a.LastRotated), true
	case !a.FirstSeen.IsZero():
		return now.Sub(a.FirstSeen), true
	}
	return 0, false
}

// Describe says the token's age in words, with a warning when it is older than
// maxDays.
func (a TokenAge) Describe(now time.Time, maxDays int) (string, bool) {
	age, known := a.Age(now)
	days := int(age.Hours() / 24)
	old := known && days >= maxDays
	switch {
	case !a.LastRotated.IsZero():
		return fmt.Sprintf("last rotated through dcrflow %s (%d day(s) ago; limit %d)", a.LastRotated.UTC().Format(time.DateOnly), days, maxDays), old
	case !a.FirstSeen.IsZero():
		return fmt.Sprintf("never rotated through dcrflow (first seen %s, %d day(s) ago; limit %d)", a.FirstSeen.UTC().Format(time.DateOnly), days, maxDays), old
	}
	return "never rotated through dcrflow (no onboarding record either)", false
}

// TokenAges finds, per DCR token name, its last successful rotation (the latest
// completed dcrflow-rotate/<name> run), or when dcrflow first appears in the
// namespace's records. Names ending in "-next" are skipped (a rotation's new token).
func TokenAges(ctx context.Context, c client.Client, names []string) ([]TokenAge, error) {
	var out []TokenAge
	var first *time.Time
	for _, n := range names {
		n = dcrflow.DCRTokenName(n)
		if _, next := dcrflow.IsNextDCRTokenName(n); next {
			continue
		}
		a := TokenAge{Name: n}
		q := fmt.Sprintf("WorkflowId = '%s' AND ExecutionStatus = 'Completed'", dcrflow.RotateWorkflowID(n))
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 100})
		if err != nil {
			return nil, fmt.Errorf("token %s: list its rotations: %w", n, err)
		}
		for _, e := range resp.GetExecutions() {
			if t := e.GetCloseTime().AsTime(); t.After(a.LastRotated) {
				a.LastRotated = t
			}
		}
		if a.LastRotated.IsZero() {
			if first == nil {
				t, err := oldestRecord(ctx, c)
				if err != nil {
					return nil, err
				}
				first = &t
			}
			a.FirstSeen = *first
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// oldestRecord is the start of the oldest OnboardPortal run the namespace keeps.
func oldestRecord(ctx context.Context, c client.Client) (time.Time, error) {
	var oldest time.Time
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: "WorkflowType = 'OnboardPortal'", PageSize: 1000, NextPageToken: token})
		if err != nil {
			return time.Time{}, fmt.Errorf("list onboarding records: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			if t := e.GetStartTime().AsTime(); oldest.IsZero() || t.Before(oldest) {
				oldest = t
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return oldest, nil
		}
	}
}
