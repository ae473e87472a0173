package dcrflow

// Error types carried by Temporal application errors, so workflows and the starter
// branch on the kind of failure, never on message text.
const (
	ErrTypeNotFound     = "NotFound"     // a named resource does not exist
	ErrTypeConflict     = "Conflict"     // a resource exists and does not match
	ErrTypeInvalid      = "Invalid"      // the server refused the request (400)
	ErrTypeUnauthorized = "Unauthorized" // 401/403: a token is wrong or lacks rights
	ErrTypeRateLimited  = "RateLimited"  // 429: retried after the server's reset
	ErrTypeTransient    = "Transient"    // 5xx, dropped connection, timeout: retried
	// ErrTypeClient is a refusal that will repeat without any answer from a server:
	// a call refused before it was sent (an empty id), an answer that cannot be used
	// (a body that does not decode, pages that never end). Not retried.
	ErrTypeClient        = "Client"
	ErrTypeConfig        = "Config"        // the worker lacks something the spec names
	ErrTypeValidation    = "Validation"    // the end-to-end check failed
	ErrTypeAccessPolicy  = "AccessPolicy"  // no access policy lets client_credentials get the scopes
	ErrTypeOnboardFailed = "OnboardFailed" // the workflow's own failure; details hold the OnboardResult
	// ErrTypeOffboardFailed is OffboardPortal's own failure; details hold the
	// OffboardResult so far (running it again goes on from there).
	ErrTypeOffboardFailed = "OffboardFailed"
)
