// Package usage is dcrflow's record of who uses what: for every shared resource
// dcrflow may create (scope, claim, access policy, DCR provider, auth strategy) and
// every publication, the portals whose running, held or completed onboarding relies on
// it. A portal joins a resource before it relies on it and leaves when its
// compensation or offboarding runs; only the last one to leave may delete it, and
// only if dcrflow made it.
//
// Book is the record of one domain (an Okta authorization server, or the Konnect
// org) as plain, deterministic state: the UsageRecord entity workflow holds one and
// applies every change through Temporal updates, so joins and leaves are serialised
// and survive any worker's crash. Memory wraps a Book for tests without Temporal.
package usage

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/dcrflow/dcrflow"
)

// LeaseTTL bounds how long a last leaver may hold a resource for its deletion. A
// holder whose workflow vanished (terminated) cannot block the resource for longer.
const LeaseTTL = time.Hour

// Key names one resource within a domain: its kind and its name (a publication's
// name is "<api id>/<portal id>").
type Key struct {
	Kind dcrflow.Kind `json:"kind"`
	Name string       `json:"name"`
}

func (k Key) String() string { return string(k.Kind) + " " + k.Name }

// Entry is one resource's users and what the record knows about where it came from.
type Entry struct {
	Key
	// Users maps each portal that relies on the resource to the onboarding run that
	// joined first (a later run of the same portal keeps that membership).
	Users map[string]string `json:"users,omitempty"`
	// Created: a dcrflow run created the resource (or set out to, just before its
	// create call) and it was not deleted since.
	Created bool `json:"created,omitempty"`
	// Changed: for a publication, dcrflow changed it; Before is what it was then
	// (nil: not published).
	Changed bool                         `json:"changed,omitempty"`
	Before  *dcrflow.PublicationSettings `json:"before,omitempty"`
	// Lease is held by the last leaver while it deletes or restores the resource;
	// nobody may join meanwhile.
	Lease *Lease `json:"lease,omitempty"`
}

// Lease is a last leaver's hold on a resource.
type Lease struct {
	Portal string    `json:"portal"`
	Run    string    `json:"run,omitempty"`
	Until  time.Time `json:"until"`
}

// Join asks to become a user of a resource.
type Join struct {
	Domain string `json:"domain"`
	Key
	Portal string `json:"portal"`
	Run    string `json:"run"`
}

// Joined answers a Join.
type Joined struct {
	// Busy, when not empty, says who holds the resource for its deletion: the
	// caller did not join and must try again once it is gone.
	Busy string `json:"busy,omitempty"`
	// Earlier: the portal already relied on it through an earlier run.
	Earlier bool     `json:"earlier,omitempty"`
	Users   []string `json:"users"`
}

// Note records, before a write, what the write is about to do: create the resource
// (Creating) or change a publication from Before (Changing).
type Note struct {
	Domain string `json:"domain"`
	Key
	Portal   string                       `json:"portal"`
	Creating bool                         `json:"creating,omitempty"`
	Changing bool                         `json:"changing,omitempty"`
	Before   *dcrflow.PublicationSettings `json:"before,omitempty"`
}

// Leave gives up a portal's use of a resource. Run names the onboarding run that
// leaves (its compensation); empty for offboarding, which leaves for every run.
type Leave struct {
	Domain string `json:"domain"`
	Key
	Portal string `json:"portal"`
	Run    string `json:"run,omitempty"`
}

// Left answers a Leave. Last: nobody uses the resource any more and the caller
// holds it (a lease) until it calls Release; it may delete it if dcrflow made it
// (Created, or its labels and markers say so) or restore a publication (Changed,
// Before). Otherwise Users say who still relies on it (or Earlier: this portal does,
// through an earlier run).
type Left struct {
	Last    bool                         `json:"last,omitempty"`
	Earlier bool                         `json:"earlier,omitempty"`
	Users   []string                     `json:"users,omitempty"`
	Created bool                         `json:"created,omitempty"`
	Changed bool                         `json:"changed,omitempty"`
	Before  *dcrflow.PublicationSettings `json:"before,omitempty"`
}

// Release ends a last leaver's lease; Gone: the resource no longer exists (deleted,
// or a publication put back), so its entry is dropped.
type Release struct {
	Domain string `json:"domain"`
	Key
	Portal string `json:"portal"`
	Gone   bool   `json:"gone,omitempty"`
}

// Seed is one use found when the record is rebuilt from what exists (a portal
// onboarded before the record existed).
type Seed struct {
	Key
	Portal  string                       `json:"portal"`
	Run     string                       `json:"run"`
	Created bool                         `json:"created,omitempty"`
	Changed bool                         `json:"changed,omitempty"`
	Before  *dcrflow.PublicationSettings `json:"before,omitempty"`
}

// Book is one domain's record. Its zero value is empty and ready.
type Book struct {
	Entries map[Key]*Entry `json:"-"`
}

// State is a Book as it travels (continue-as-new, tests): entries in key order.
type State struct {
	Domain string `json:"domain"`
	// Shard is which of the domain's records this is (see ShardOf).
	Shard   int     `json:"shard,omitempty"`
	Entries []Entry `json:"entries,omitempty"`
	// Packed holds the entries gzipped instead (see Pack).
	Packed []byte `json:"packed,omitempty"`
	// Rebuilt: the record was rebuilt from what existed when it was first made.
	Rebuilt bool `json:"rebuilt,omitempty"`
}

// NewBook holds the entries of a state.
func NewBook(entries []Entry) *Book {
	b := &Book{Entries: map[Key]*Entry{}}
	for i := range entries {
		e := entries[i]
		b.Entries[e.Key] = &e
	}
	return b
}

// Snapshot is the book's entries in a stable order.
func (b *Book) Snapshot() []Entry {
	out := make([]Entry, 0, len(b.Entries))
	for _, e := range b.Entries {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func (b *Book) entry(k Key) *Entry {
	if b.Entries == nil {
		b.Entries = map[Key]*Entry{}
	}
	e := b.Entries[k]
	if e == nil {
		e = &Entry{Key: k}
		b.Entries[k] = e
	}
	return e
}

// leased reports a lease still in force at now (an expired one is dropped).
func (e *Entry) leased(now time.Time) bool {
	if e.Lease != nil && !now.Before(e.Lease.Until) {
		e.Lease = nil
	}
	return e.Lease != nil
}

func (e *Entry) users() []string {
	out := make([]string, 0, len(e.Users))
	for p := range e.Users {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Join adds the portal to the resource's users, unless its last leaver holds it for
// deletion. Joining again is a no-op.
func (b *Book) Join(j Join, now time.Time) Joined {
	e := b.entry(j.Key)
	if e.leased(now) && e.Lease.Portal != j.Portal {
		return Joined{Busy: fmt.Sprintf("%s is being removed by the offboarding or undo of portal %s", j.Key, e.Lease.Portal), Users: e.users()}
	}
	e.Lease = nil // the holder itself joins again: it no longer deletes
	if e.Users == nil {
		e.Users = map[string]string{}
	}
	run, ok := e.Users[j.Portal]
	if !ok {
		e.Users[j.Portal] = j.Run
	}
	return Joined{Earlier: ok && run != j.Run, Users: e.users()}
}

// Note records what a write is about to do. The first Before wins: it is the
// publication as it was before dcrflow first changed it.
func (b *Book) Note(n Note) {
	e := b.entry(n.Key)
	if n.Creating {
		e.Created = true
	}
	if n.Changing && !e.Changed {
		e.Changed, e.Before = true, n.Before
	}
}

// Leave removes the portal from the resource's users. The last one to leave gets a
// lease on it until now+LeaseTTL. Leaving again (a retry) answers as the first time.
func (b *Book) Leave(l Leave, now time.Time) Left {
	e := b.entry(l.Key)
	if e.leased(now) {
		if e.Lease.Portal == l.Portal {
			return e.last()
		}
		// Someone else is deleting it; this portal is no user (any more).
		return Left{Users: []string{e.Lease.Portal}}
	}
	if run, ok := e.Users[l.Portal]; ok && l.Run != "" && run != l.Run {
		return Left{Earlier: true, Users: e.users()}
	}
	delete(e.Users, l.Portal)
	if len(e.Users) > 0 {
		return Left{Users: e.users()}
	}
	e.Lease = &Lease{Portal: l.Portal, Run: l.Run, Until: now.Add(LeaseTTL)}
	return e.last()
}

func (e *Entry) last() Left {
	return Left{Last: true, Created: e.Created, Changed: e.Changed, Before: e.Before}
}

// Release ends the portal's lease. When the resource is gone its entry goes too; a
// kept one (still in use elsewhere, or not dcrflow's) keeps what is known of it.
func (b *Book) Release(r Release) {
	e := b.Entries[r.Key]
	if e == nil || e.Lease == nil || e.Lease.Portal != r.Portal {
		return
	}
	e.Lease = nil
	if r.Gone && len(e.Users) == 0 {
		delete(b.Entries, r.Key)
	}
}

// Add seeds a use found while rebuilding the record.
func (b *Book) Add(s Seed) {
	e := b.entry(s.Key)
	if e.Users == nil {
		e.Users = map[string]string{}
	}
	if _, ok := e.Users[s.Portal]; !ok {
		e.Users[s.Portal] = s.Run
	}
	e.Created = e.Created || s.Created
	if s.Changed && !e.Changed {
		e.Changed, e.Before = true, s.Before
	}
}

// Users of a resource, sorted (nil when nobody uses it).
func (b *Book) Users(k Key) []string {
	if e := b.Entries[k]; e != nil && len(e.Users) > 0 {
		return e.users()
	}
	return nil
}
