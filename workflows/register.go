package workflows

import "go.temporal.io/sdk/worker"

// Register adds every dcrflow workflow to a worker.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflow(OnboardPortal)
	r.RegisterWorkflow(WorkerInfo)
	r.RegisterWorkflow(WorkerDesk)
	r.RegisterWorkflow(OnboardFleet)
	r.RegisterWorkflow(PlanPortals)
	r.RegisterWorkflow(OffboardPortal)
	r.RegisterWorkflow(UsageRecord)
	r.RegisterWorkflow(CheckPortals)
	r.RegisterWorkflow(Reconcile)
	r.RegisterWorkflow(RotateDCRToken)
}
