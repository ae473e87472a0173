//go:build race

package costtest

// Race is true when the race detector is on.
const Race = true
