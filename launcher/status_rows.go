package launcher

import (
	"context"

	"go.temporal.io/sdk/client"

	"github.com/dcrflow/dcrflow"
)

// StatusRow is where one portal's run stands, as Status prints it, for machines.
type StatusRow struct {
	Portal  string          `json:"portal"`
	Started bool            `json:"started"`
	Outcome dcrflow.Outcome `json:"outcome,omitempty"`
	Step    string          `json:"step,omitempty"`
	// Held is set while the run waits for an operator's decision.
	Held *dcrflow.Failure `json:"held,omitempty"`
	// Retrying describes a step being retried: its attempt and last error.
	Retrying string `json:"retrying,omitempty"`
}

// StatusRows reads where each portal's current (or last) run stands; a portal never
// started has Started false.
func StatusRows(ctx context.Context, c client.Client, portals []string) []StatusRow {
	rows := make([]StatusRow, 0, len(portals))
	for _, portal := range portals {
		p, err := PortalProgress(ctx, c, portal)
		if err != nil {
			rows = append(rows, StatusRow{Portal: portal})
			continue
		}
		r := StatusRow{Portal: portal, Started: true, Outcome: p.Outcome, Step: p.Step, Held: p.Held}
		if p.Held == nil {
			r.Retrying = retrying(ctx, c, portal)
		}
		rows = append(rows, r)
	}
	return rows
}
