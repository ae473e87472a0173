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
	"strings"
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
	Earlier bool `json:"earlier,omitempty"`
	// Users names the first users by name (at most usersShown) of UsersTotal.
	Users      []string `json:"users"`
	UsersTotal int      `json:"users_total,omitempty"`
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
	Last    bool     `json:"last,omitempty"`
	Earlier bool     `json:"earlier,omitempty"`
	Users   []string `json:"users,omitempty"` // the first, by name, of UsersTotal
	// UsersTotal counts the users (0 from a record older than the count).
	UsersTotal int                          `json:"users_total,omitempty"`
	Created    bool                         `json:"created,omitempty"`
	Changed    bool                         `json:"changed,omitempty"`
	Before     *dcrflow.PublicationSettings `json:"before,omitempty"`
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
//
// A worker holds the books of every record it runs, for fleets of tens of thousands
// of portals, so a book keeps each resource compactly (entry) and becomes Entries only
// when it is packed or queried.
type Book struct {
	entries map[Key]*entry
}

// entry is what the book keeps of one resource; see Entry.
type entry struct {
	users            []use // by portal
	created, changed bool
	before           *dcrflow.PublicationSettings
	lease            *Lease
}

// use is one user: the portal and the onboarding run that joined first.
type use struct{ portal, run string }

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
	// UpdatesPerRun is how many updates a run of the record takes before it continues
	// as new; records started before it was said decide by a version marker.
	UpdatesPerRun int `json:"updates_per_run,omitempty"`
	// EventsPerRun is how long a run's history grows before it continues as new (0:
	// no bound, records started before it was said).
	EventsPerRun int `json:"events_per_run,omitempty"`
}

// UpdatesPerRun bounds the updates one run of a record takes (Temporal allows 2,000
// per execution): a worker that replays a record reads its whole history and book.
const UpdatesPerRun = 200

// EventsPerRun keeps a run's history within the first page of a poll (the server's
// matching.historyMaxPageSize, 256 events by default), with room for one task's
// burst of updates (2 events each). A worker that has not got the record cached reads
// its history whole; while an update's workflow task is speculative, servers before
// 1.31 leave that task's events out of the pages after the first
// (temporalio/temporal#7741): the task fails, and fails again on every retry while
// updates keep coming. A 10,000-portal fleet saw one Konnect record fail 935 times in
// two minutes so (its history was 745 events), blocking its joins. Within one page,
// the retry has them all and goes through.
const EventsPerRun = 120

// NewBook holds the entries of a state.
func NewBook(entries []Entry) *Book {
	b := &Book{entries: make(map[Key]*entry, len(entries))}
	for _, e := range entries {
		b.put(e)
	}
	return b
}

// put keeps an entry, in place of any of its key.
func (b *Book) put(e Entry) {
	kept := &entry{created: e.Created, changed: e.Changed, before: e.Before, lease: e.Lease}
	for p, run := range e.Users {
		kept.users = append(kept.users, use{p, run})
	}
	slices.SortFunc(kept.users, func(a, b use) int { return strings.Compare(a.portal, b.portal) })
	if b.entries == nil {
		b.entries = map[Key]*entry{}
	}
	b.entries[e.Key] = kept
}

// Len is how many resources the book knows.
func (b *Book) Len() int { return len(b.entries) }

// Snapshot is the book's entries in a stable order.
func (b *Book) Snapshot() []Entry {
	out := make([]Entry, 0, len(b.entries))
	for _, k := range b.keys() {
		e := b.entries[k]
		x := Entry{Key: k, Created: e.created, Changed: e.changed, Before: e.before, Lease: e.lease}
		if len(e.users) > 0 {
			x.Users = make(map[string]string, len(e.users))
			for _, u := range e.users {
				x.Users[u.portal] = u.run
			}
		}
		out = append(out, x)
	}
	return out
}

func (b *Book) entry(k Key) *entry {
	if b.entries == nil {
		b.entries = map[Key]*entry{}
	}
	e := b.entries[k]
	if e == nil {
		e = &entry{}
		if kind, ok := kinds[k.Kind]; ok {
			k.Kind = kind // the one copy: a decoded update brings its own
		}
		b.entries[k] = e
	}
	return e
}

var kinds = map[dcrflow.Kind]dcrflow.Kind{}

func init() {
	for _, k := range []dcrflow.Kind{dcrflow.KindScope, dcrflow.KindClaim, dcrflow.KindAccessPolicy, dcrflow.KindDCRProvider,
		dcrflow.KindAuthStrategy, dcrflow.KindPublication} {
		kinds[k] = k
	}
}

// leased reports a lease still in force at now (an expired one is dropped).
func (e *entry) leased(now time.Time) bool {
	if e.lease != nil && !now.Before(e.lease.Until) {
		e.lease = nil
	}
	return e.lease != nil
}

// find is where the portal's use is, or would go, and whether it is there.
func (e *entry) find(portal string) (int, bool) {
	return slices.BinarySearchFunc(e.users, portal, func(u use, p string) int { return strings.Compare(u.portal, p) })
}

// add makes the portal a user through run, unless it is one already; the run that
// joined first is the one kept.
func (e *entry) add(portal, run string) (earlier string, ok bool) {
	i, found := e.find(portal)
	if found {
		return e.users[i].run, true
	}
	e.users = slices.Insert(e.users, i, use{portal, run})
	return "", false
}

// usersShown bounds the users an answer names: a claim shared by thousands of portals
// would otherwise put every name in each join's and leave's answer (and history).
const usersShown = 20

// named names the first users (by name) and counts them all.
func (e *entry) named() ([]string, int) {
	out := make([]string, 0, min(len(e.users), usersShown))
	for _, u := range e.users[:min(len(e.users), usersShown)] {
		out = append(out, u.portal)
	}
	return out, len(e.users)
}

// Join adds the portal to the resource's users, unless its last leaver holds it for
// deletion. Joining again is a no-op.
func (b *Book) Join(j Join, now time.Time) Joined {
	e := b.entry(j.Key)
	if e.leased(now) && e.lease.Portal != j.Portal {
		users, all := e.named()
		return Joined{Busy: fmt.Sprintf("%s is being removed by the offboarding or undo of portal %s", j.Key, e.lease.Portal), Users: users, UsersTotal: all}
	}
	e.lease = nil // the holder itself joins again: it no longer deletes
	run, ok := e.add(j.Portal, j.Run)
	users, all := e.named()
	return Joined{Earlier: ok && run != j.Run, Users: users, UsersTotal: all}
}

// Note records what a write is about to do. The first Before wins: it is the
// publication as it was before dcrflow first changed it.
func (b *Book) Note(n Note) {
	e := b.entry(n.Key)
	if n.Creating {
		e.created = true
	}
	if n.Changing && !e.changed {
		e.changed, e.before = true, n.Before
	}
}

// Leave removes the portal from the resource's users. The last one to leave gets a
// lease on it until now+LeaseTTL. Leaving again (a retry) answers as the first time.
func (b *Book) Leave(l Leave, now time.Time) Left {
	e := b.entry(l.Key)
	if e.leased(now) {
		if e.lease.Portal == l.Portal {
			return e.last()
		}
		// Someone else is deleting it; this portal is no user (any more).
		return Left{Users: []string{e.lease.Portal}, UsersTotal: 1}
	}
	i, found := e.find(l.Portal)
	if found && l.Run != "" && e.users[i].run != l.Run {
		users, all := e.named()
		return Left{Earlier: true, Users: users, UsersTotal: all}
	}
	if found {
		e.users = slices.Delete(e.users, i, i+1)
	}
	if len(e.users) > 0 {
		users, all := e.named()
		return Left{Users: users, UsersTotal: all}
	}
	e.users = nil
	e.lease = &Lease{Portal: l.Portal, Run: l.Run, Until: now.Add(LeaseTTL)}
	return e.last()
}

// Named lists the users, saying how many more there are than it names.
func (l Left) Named() string {
	s := strings.Join(l.Users, ", ")
	if more := l.UsersTotal - len(l.Users); more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

func (e *entry) last() Left {
	return Left{Last: true, Created: e.created, Changed: e.changed, Before: e.before}
}

// Release ends the portal's lease. When the resource is gone its entry goes too; a
// kept one (still in use elsewhere, or not dcrflow's) keeps what is known of it.
func (b *Book) Release(r Release) {
	e := b.entries[r.Key]
	if e == nil || e.lease == nil || e.lease.Portal != r.Portal {
		return
	}
	e.lease = nil
	if r.Gone && len(e.users) == 0 {
		delete(b.entries, r.Key)
	}
}

// Add seeds a use found while rebuilding the record.
func (b *Book) Add(s Seed) {
	e := b.entry(s.Key)
	e.add(s.Portal, s.Run)
	e.created = e.created || s.Created
	if s.Changed && !e.changed {
		e.changed, e.before = true, s.Before
	}
}

// Users of a resource, sorted (nil when nobody uses it).
func (b *Book) Users(k Key) []string {
	e := b.entries[k]
	if e == nil || len(e.users) == 0 {
		return nil
	}
	out := make([]string, len(e.users))
	for i, u := range e.users {
		out[i] = u.portal
	}
	return out
}
