package dcrflow

// OffboardResult reports a portal's offboarding: what was removed, restored or kept.
type OffboardResult struct {
	Portal    string     `json:"portal"`
	Resources []Resource `json:"resources"`
	Failure   *Failure   `json:"failure,omitempty"`
}

// OffboardInput is one portal's offboarding (the OffboardPortal workflow).
type OffboardInput struct {
	Spec PortalSpec `json:"spec"`
	// Onboarded are the results of the portal's completed onboarding runs since its
	// last offboarding, newest first, as the launcher read them from Temporal: what
	// each run adopted (never deleted) and what each publication was before. Empty
	// when none could be read: dcrflow's ownership marks alone decide then.
	Onboarded []OnboardResult `json:"onboarded,omitempty"`
	// CreatedByOthers are resources that the onboarding of other portals offboarded
	// together with this one created (the claim they share): this portal's runs may
	// have adopted them, yet they are dcrflow's.
	CreatedByOthers []Resource `json:"created_by_others,omitempty"`
}

// OffboardWorkflowID is the stable id of a portal's offboarding.
func OffboardWorkflowID(portalKey string) string { return "dcrflow-offboard-" + portalKey }
