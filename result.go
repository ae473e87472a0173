package dcrflow

// Action is what a run did to one resource, as its result records it.
type Action string

// Resource actions recorded in a result.
const (
	ActionCreated   Action = "created"   // this run created it; compensation deletes it
	ActionAdopted   Action = "adopted"   // it existed and matched; never deleted
	ActionPublished Action = "published" // the API was not published on the portal before
	ActionUpdated   Action = "updated"   // the publication existed and was changed; compensation restores it
	ActionUnchanged Action = "unchanged" // the publication already was as asked

	// Offboarding.
	ActionDeleted     Action = "deleted"     // dcrflow owned it and nothing else used it
	ActionUnpublished Action = "unpublished" // the publication was dcrflow's; it is gone
	ActionRestored    Action = "restored"    // the publication is back as it was before onboarding
	ActionKept        Action = "kept"        // not dcrflow's, or still used: untouched (see Reason)
	ActionAbsent      Action = "absent"      // nothing there (already gone): nothing to do
)

// Kind is the kind of a resource dcrflow looks after.
type Kind string

// Resource kinds.
const (
	KindScope        Kind = "scope"
	KindClaim        Kind = "claim"
	KindDCRProvider  Kind = "dcr_provider"
	KindAuthStrategy Kind = "auth_strategy"
	KindPublication  Kind = "publication"
	KindAccessPolicy Kind = "access_policy"
)

// Resource is what one step did to one resource.
type Resource struct {
	Kind   Kind   `json:"kind"`
	Name   string `json:"name"`
	ID     string `json:"id"`
	Action Action `json:"action"`
	// Reason says why offboarding kept it, or, in a plan, what differs.
	Reason string `json:"reason,omitempty"`
	// Previous is, for a publication the run changed (ActionUpdated), its settings
	// before the change: what offboarding restores.
	Previous *PublicationSettings `json:"previous,omitempty"`
}

// PublicationSettings are an API publication's settings on a portal.
type PublicationSettings struct {
	AuthStrategyIDs []string `json:"auth_strategy_ids"`
	Visibility      string   `json:"visibility"`
	AutoApprove     bool     `json:"auto_approve"`
}

// Validation is the outcome of the end-to-end check (step 8).
type Validation struct {
	Passed   bool     `json:"passed"`
	ClientID string   `json:"client_id,omitempty"` // the throw-away client, deleted afterwards
	Scopes   []string `json:"scopes,omitempty"`    // scopes granted in the token
	Problems []string `json:"problems,omitempty"`  // why it failed
	// Konnect is the check through a throw-away Konnect application (validate: konnect).
	Konnect *Validation `json:"konnect,omitempty"`
}

// Failure names the step that failed for good and the server's message.
type Failure struct {
	Step    string `json:"step"`
	Message string `json:"message"`
}

// OnboardResult reports one portal's onboarding.
type OnboardResult struct {
	Portal       string      `json:"portal"`
	AuthServerID string      `json:"auth_server_id,omitempty"`
	Issuer       string      `json:"issuer,omitempty"`
	PortalID     string      `json:"portal_id,omitempty"`
	Resources    []Resource  `json:"resources"`
	Validation   *Validation `json:"validation,omitempty"`
	Failure      *Failure    `json:"failure,omitempty"`
	// Compensated lists what was undone after a failure, in order.
	Compensated []string `json:"compensated,omitempty"`
	// CompensationErrors lists undo steps that failed: what may be left behind.
	CompensationErrors []string `json:"compensation_errors,omitempty"`
}
