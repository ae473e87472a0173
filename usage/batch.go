package usage

import (
	"fmt"
	"time"
)

// UpdateBatch is the record's update that applies several changes in one go: a worker
// sends the joins, notes, leaves and releases its activities make of one record at the
// same time as one update (Temporal.apply), so a busy record takes one update, one
// workflow task and two events for what were as many of each. They are applied in
// order, as separate updates arriving together would be.
const UpdateBatch = "batch"

// MaxBatch bounds the changes in one batch (about 300 bytes each in history).
const MaxBatch = 64

// Op is one change in a batch: exactly one field is set.
type Op struct {
	Join    *Join    `json:"join,omitempty"`
	Note    *Note    `json:"note,omitempty"`
	Leave   *Leave   `json:"leave,omitempty"`
	Release *Release `json:"release,omitempty"`
}

// name is the update the change is on its own (for errors and the fallback).
func (o Op) name() string {
	switch {
	case o.Join != nil:
		return UpdateJoin
	case o.Note != nil:
		return UpdateNote
	case o.Leave != nil:
		return UpdateLeave
	case o.Release != nil:
		return UpdateRelease
	}
	return "empty change"
}

// valid says whether exactly one change is set.
func (o Op) valid() bool {
	n := 0
	for _, set := range []bool{o.Join != nil, o.Note != nil, o.Leave != nil, o.Release != nil} {
		if set {
			n++
		}
	}
	return n == 1
}

// OpResult answers one Op: Joined for a join, Left for a leave, nothing otherwise.
type OpResult struct {
	Joined *Joined `json:"joined,omitempty"`
	Left   *Left   `json:"left,omitempty"`
}

// ValidateBatch refuses a batch the record cannot apply (before it reaches history).
func ValidateBatch(ops []Op) error {
	if len(ops) == 0 || len(ops) > MaxBatch {
		return fmt.Errorf("a batch holds 1 to %d changes, not %d", MaxBatch, len(ops))
	}
	for i, o := range ops {
		if !o.valid() {
			return fmt.Errorf("change %d of the batch sets not exactly one of join, note, leave, release", i)
		}
	}
	return nil
}

// Apply applies the changes in order, as the separate updates would be.
func (b *Book) Apply(ops []Op, now time.Time) []OpResult {
	out := make([]OpResult, len(ops))
	for i, o := range ops {
		switch {
		case o.Join != nil:
			j := b.Join(*o.Join, now)
			out[i].Joined = &j
		case o.Note != nil:
			b.Note(*o.Note)
		case o.Leave != nil:
			l := b.Leave(*o.Leave, now)
			out[i].Left = &l
		case o.Release != nil:
			b.Release(*o.Release)
		}
	}
	return out
}
