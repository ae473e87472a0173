// Package workflows holds dcrflow's Temporal workflows. Workflow code is replayed, so
// it stays deterministic: no I/O, no time.Now, no rand, no goroutines, no clients —
// everything that touches the world is an activity (package activities). Changing
// the order or number of activities of a released workflow needs workflow.GetVersion.
package workflows
