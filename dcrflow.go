// Package dcrflow is the contract shared by the workflows, the activities, the worker
// and the starter: what a portal's onboarding asks for and what it reports. It imports
// no SDK, so every part can depend on it.
package dcrflow

// TaskQueue is the default Temporal task queue of the worker.
const TaskQueue = "dcrflow"
