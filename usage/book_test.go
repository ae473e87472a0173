package usage_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/usage"
)

var (
	t0    = time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	claim = usage.Key{Kind: dcrflow.KindClaim, Name: "client_id"}
	scope = usage.Key{Kind: dcrflow.KindScope, Name: "pay:read"}
	pub   = usage.Key{Kind: dcrflow.KindPublication, Name: "api1/portal1"}
)

func join(b *usage.Book, k usage.Key, portal, run string) usage.Joined {
	return b.Join(usage.Join{Key: k, Portal: portal, Run: run}, t0)
}

func leave(b *usage.Book, k usage.Key, portal, run string) usage.Left {
	return b.Leave(usage.Leave{Key: k, Portal: portal, Run: run}, t0)
}

// A creates the claim, B adopts it, A fails and leaves: B still uses it, so A may not
// delete it; B's leave later is the last, with the record that dcrflow created it.
func TestBook_AdopterKeepsWhatTheCreatorUndoes(t *testing.T) {
	b := usage.NewBook(nil)
	join(b, claim, "a", "ra")
	b.Note(usage.Note{Key: claim, Portal: "a", Creating: true})
	join(b, claim, "b", "rb")
	if l := leave(b, claim, "a", "ra"); l.Last || !slices.Equal(l.Users, []string{"b"}) {
		t.Fatalf("A's leave = %+v, want kept for b", l)
	}
	l := leave(b, claim, "b", "rb")
	if !l.Last || !l.Created {
		t.Fatalf("B's leave = %+v, want last, created by dcrflow", l)
	}
}

// While the last leaver holds the resource for deletion, nobody joins (a join would
// adopt what is about to go): the joiner is told to come back; after the release the
// entry is gone and the joiner starts afresh (and creates it again).
func TestBook_JoinWaitsWhileTheLastLeaverDeletes(t *testing.T) {
	b := usage.NewBook(nil)
	join(b, scope, "a", "ra")
	if l := leave(b, scope, "a", "ra"); !l.Last {
		t.Fatalf("leave = %+v", l)
	}
	if j := join(b, scope, "b", "rb"); j.Busy == "" {
		t.Fatalf("join during deletion = %+v, want busy", j)
	}
	// The leaver's retry of its leave answers as before (it still holds it).
	if l := leave(b, scope, "a", "ra"); !l.Last {
		t.Fatalf("leave again = %+v", l)
	}
	b.Release(usage.Release{Key: scope, Portal: "a", Gone: true})
	if j := join(b, scope, "b", "rb"); j.Busy != "" || !slices.Equal(j.Users, []string{"b"}) {
		t.Fatalf("join after deletion = %+v", j)
	}
	if e := b.Snapshot(); len(e) != 1 || e[0].Created {
		t.Fatalf("the deleted resource's record survived: %+v", e)
	}
}

// A lease whose holder vanished (terminated) expires.
func TestBook_LeaseExpires(t *testing.T) {
	b := usage.NewBook(nil)
	leave(b, scope, "a", "ra")
	if j := b.Join(usage.Join{Key: scope, Portal: "b", Run: "rb"}, t0.Add(usage.LeaseTTL-time.Second)); j.Busy == "" {
		t.Fatal("joined before the lease expired")
	}
	if j := b.Join(usage.Join{Key: scope, Portal: "b", Run: "rb"}, t0.Add(usage.LeaseTTL)); j.Busy != "" {
		t.Fatalf("still busy after the lease expired: %+v", j)
	}
}

// A later run of a portal that already relies on a resource (an earlier, completed
// run) does not take that away when it fails: its leave keeps it.
func TestBook_LaterRunKeepsAnEarlierRunsMembership(t *testing.T) {
	b := usage.NewBook(nil)
	join(b, scope, "a", "run1")
	if j := join(b, scope, "a", "run2"); !j.Earlier {
		t.Fatalf("join by a later run = %+v, want earlier", j)
	}
	if l := leave(b, scope, "a", "run2"); l.Last || !l.Earlier {
		t.Fatalf("leave by the later run = %+v, want kept", l)
	}
	// Offboarding leaves for every run.
	if l := leave(b, scope, "a", ""); !l.Last {
		t.Fatalf("offboarding's leave = %+v", l)
	}
}

// Offboarding A while B holds (B joined, its run waits for a decision): kept for B;
// B's later compensation is the last leave.
func TestBook_OffboardWhileAnotherHolds(t *testing.T) {
	b := usage.NewBook(nil)
	join(b, scope, "a", "ra")
	join(b, scope, "b", "rb") // b is held after this
	if l := leave(b, scope, "a", ""); l.Last {
		t.Fatalf("offboarding A = %+v, want kept for b", l)
	}
	if l := leave(b, scope, "b", "rb"); !l.Last {
		t.Fatalf("B's compensation = %+v", l)
	}
}

// A publication remembers what it was before dcrflow first changed it; a second
// portal's note (made after the first change) does not overwrite it.
func TestBook_PublicationKeepsTheFirstBefore(t *testing.T) {
	b := usage.NewBook(nil)
	orig := &dcrflow.PublicationSettings{AuthStrategyIDs: []string{"theirs"}, Visibility: "public"}
	join(b, pub, "a", "ra")
	b.Note(usage.Note{Key: pub, Portal: "a", Changing: true, Before: orig})
	join(b, pub, "b", "rb")
	b.Note(usage.Note{Key: pub, Portal: "b", Changing: true, Before: &dcrflow.PublicationSettings{AuthStrategyIDs: []string{"dcrflow"}}})
	leave(b, pub, "a", "ra")
	l := leave(b, pub, "b", "rb")
	if !l.Last || !l.Changed || l.Before == nil || l.Before.AuthStrategyIDs[0] != "theirs" {
		t.Fatalf("last leave = %+v, want the original settings", l)
	}
	// Unpublished before: Changed with no Before.
	b2 := usage.NewBook(nil)
	b2.Note(usage.Note{Key: pub, Portal: "a", Changing: true})
	if l := leave(b2, pub, "a", "ra"); !l.Changed || l.Before != nil {
		t.Fatalf("leave = %+v", l)
	}
}

// A kept resource (not deleted: in use elsewhere) keeps its record, so a later last
// leaver still knows dcrflow made it.
func TestBook_KeptResourceKeepsItsRecord(t *testing.T) {
	b := usage.NewBook(nil)
	join(b, claim, "a", "ra")
	b.Note(usage.Note{Key: claim, Portal: "a", Creating: true})
	leave(b, claim, "a", "ra")
	b.Release(usage.Release{Key: claim, Portal: "a", Gone: false})
	join(b, claim, "b", "rb")
	if l := leave(b, claim, "b", "rb"); !l.Last || !l.Created {
		t.Fatalf("later leave = %+v, want created", l)
	}
}

// The state travels packed (continue-as-new) and comes back the same.
func TestState_PackRoundTrip(t *testing.T) {
	b := usage.NewBook(nil)
	for i := range 2000 {
		join(b, claim, "portal-"+string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('0'+i/676)), "run")
	}
	b.Note(usage.Note{Key: claim, Creating: true})
	s := usage.State{Domain: "okta-aus1"}
	if err := s.Pack(b); err != nil {
		t.Fatal(err)
	}
	back, err := s.Book()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := back.Users(claim), b.Users(claim); !slices.Equal(got, want) || len(got) != 2000 {
		t.Fatalf("users after the round trip: %d, want %d", len(got), len(want))
	}
	if len(s.Packed) > 64*1024 {
		t.Errorf("2,000 users pack to %d bytes", len(s.Packed))
	}
}

// Seeds from an onboarding result: each resource in its domain, created ones marked,
// publications with what they were before.
func TestSeedsFrom(t *testing.T) {
	prev := &dcrflow.PublicationSettings{AuthStrategyIDs: []string{"x"}}
	res := []dcrflow.Resource{
		{Kind: dcrflow.KindScope, Name: "pay:read", ID: "s1", Action: dcrflow.ActionCreated},
		{Kind: dcrflow.KindClaim, Name: "client_id", ID: "c1", Action: dcrflow.ActionAdopted},
		{Kind: dcrflow.KindDCRProvider, Name: "p", ID: "d1", Action: dcrflow.ActionCreated},
		{Kind: dcrflow.KindPublication, Name: "pay-api", ID: "api1/portal1", Action: dcrflow.ActionUpdated, Previous: prev},
	}
	okta := usage.SeedsFrom(usage.OktaDomain("aus1"), "a", "r", "aus1", res)
	if len(okta) != 2 || !okta[0].Created || okta[1].Created {
		t.Fatalf("okta seeds = %+v", okta)
	}
	if other := usage.SeedsFrom(usage.OktaDomain("aus2"), "a", "r", "aus1", res); len(other) != 0 {
		t.Fatalf("another server's seeds = %+v", other)
	}
	if unknown := usage.SeedsFrom(usage.OktaDomain("aus2"), "a", "r", "", res); len(unknown) != 2 {
		t.Fatalf("a run whose server is unknown counts for every server: %+v", unknown)
	}
	kon := usage.SeedsFrom(usage.KonnectDomain, "a", "r", "aus1", res)
	if len(kon) != 2 || kon[1].Key != pub || !kon[1].Changed || kon[1].Before != prev {
		t.Fatalf("konnect seeds = %+v", kon)
	}
}

// A claim shared by many portals answers each join and leave with a few names and the
// count, not every user (the answers go into every portal's history).
func TestBook_AnswersNameAFewUsersAndCountAll(t *testing.T) {
	b := usage.NewBook(nil)
	for i := range 30 {
		join(b, claim, fmt.Sprintf("p%02d", i), "r")
	}
	j := join(b, claim, "p00", "r")
	if len(j.Users) != 20 || j.UsersTotal != 30 || j.Users[0] != "p00" || j.Users[19] != "p19" {
		t.Fatalf("join = %d users %v, total %d; want the first 20 of 30", len(j.Users), j.Users, j.UsersTotal)
	}
	l := leave(b, claim, "p05", "r")
	if l.Last || l.UsersTotal != 29 || !strings.HasSuffix(l.Named(), "p20 and 9 more") {
		t.Fatalf("leave = %+v (%q), want 29 users named as the first 20 and 9 more", l, l.Named())
	}
	if got := b.Users(claim); len(got) != 29 || slices.Contains(got, "p05") {
		t.Fatalf("users = %v", got)
	}
}
