// Package activities holds one Temporal activity per onboarding step and per undo.
// Activities are thin: they call a client, decide adopt / create / conflict, and turn
// client errors into Temporal errors (retryable or not, with the server's rate-limit
// wait). Every activity is idempotent: a retry finds what an earlier attempt did.
package activities

import (
	"context"

	"go.temporal.io/sdk/activity"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/ratelimit"
	"github.com/dcrflow/dcrflow/usage"
)

// Activities carries the clients and the worker's named DCR tokens. The worker
// registers one instance; workflows call its methods through a nil pointer.
type Activities struct {
	Okta    *okta.Client
	Konnect Konnect
	// DCRTokens maps a secret name (as onboarding files name it) to an Okta DCR token.
	DCRTokens map[string]string
	// Usage is the record of which portals use which shared resources.
	Usage usage.Record
}

// Konnect groups the Konnect services the activities use.
type Konnect struct {
	DCRProviders   *konnect.DCRProvidersService
	AuthStrategies *konnect.AuthStrategiesService
	Portals        *konnect.PortalsService
	APIs           *konnect.APIsService
	Publications   *konnect.PublicationsService
	Applications   *konnect.ApplicationsService
}

// KonnectFrom takes the services of a Konnect client.
func KonnectFrom(c *konnect.Client) Konnect {
	return Konnect{DCRProviders: c.DCRProviders, AuthStrategies: c.AuthStrategies, Portals: c.Portals,
		APIs: c.APIs, Publications: c.Publications, Applications: c.Applications}
}

// WorkerInfo reports the names (never the values) of the worker's DCR tokens.
func (a *Activities) WorkerInfo(context.Context) (dcrflow.WorkerInfo, error) {
	return dcrflow.WorkerInfo{DCRTokenNames: sortedKeys(a.DCRTokens)}, nil
}

// Ownership labels put on the Konnect resources dcrflow creates.
const (
	LabelManagedBy = "managed-by"
	LabelPortal    = "dcrflow-portal"
	LabelRun       = "dcrflow-run"
	managedBy      = "dcrflow"
)

// ownerLabels are the portal's own labels (from the onboarding file) plus dcrflow's
// ownership labels, which win on a clash.
func ownerLabels(labels map[string]string, portalKey, runID string) map[string]string {
	out := make(map[string]string, len(labels)+3)
	for k, v := range labels {
		out[k] = v
	}
	out[LabelManagedBy], out[LabelPortal], out[LabelRun] = managedBy, portalKey, runID
	return out
}

// createdByRun tells whether labels mark a resource this workflow run created: a
// retry after a crash between "created" and "recorded" must not take it for adopted.
func createdByRun(labels map[string]string, runID string) bool {
	return runID != "" && labels[LabelManagedBy] == managedBy && labels[LabelRun] == runID
}

// patient lets the activity's requests wait their turn in the worker's budget
// beyond its MaxWait, heartbeating (ratelimit.Patient): for the steps that spend the
// Okta DCR budget, the one that binds first on a real org. Deferred, such a step
// would lose its place in line and come back after its slot went unused; and a
// validation deferred halfway costs DCR calls again (its retry lists and deletes
// what the attempt registered). The step's heartbeat timeout watches the wait.
func patient(ctx context.Context) context.Context {
	return ratelimit.Patient(ctx, func() { activity.RecordHeartbeat(ctx) })
}
