package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/workflow"
)

// saga records how to undo what a run did. Undo steps are recorded as soon as the
// step reports what it created, and run in reverse on a disconnected context, so they
// also run after the workflow is cancelled.
type saga struct {
	undos []undo
}

// undo runs one compensation; note, when not empty, says why it changed nothing
// (e.g. a shared resource kept because something else still uses it).
type undo struct {
	name string
	run  func(ctx workflow.Context) (note string, err error)
}

func (s *saga) add(name string, run func(ctx workflow.Context) (string, error)) {
	s.undos = append(s.undos, undo{name: name, run: run})
}

// has tells whether an undo of that name is recorded.
func (s *saga) has(name string) bool {
	for _, u := range s.undos {
		if u.name == name {
			return true
		}
	}
	return false
}

// undoWithoutNote adapts an undo that has nothing to note.
func undoWithoutNote(f func(ctx workflow.Context) error) func(ctx workflow.Context) (string, error) {
	return func(ctx workflow.Context) (string, error) { return "", f(ctx) }
}

// compensate runs every undo, last first, and reports which succeeded and which
// failed; one failure does not stop the others.
func (s *saga) compensate(ctx workflow.Context) (done []string, failed []string, err error) {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	dctx = workflow.WithActivityOptions(dctx, undoOptions)
	for i := len(s.undos) - 1; i >= 0; i-- {
		u := s.undos[i]
		note, uerr := u.run(dctx)
		if uerr != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", u.name, uerr))
			err = errors.Join(err, fmt.Errorf("undo %s: %w", u.name, uerr))
			continue
		}
		if note != "" {
			done = append(done, u.name+" (kept: "+note+")")
			continue
		}
		done = append(done, u.name)
	}
	return done, failed, err
}
