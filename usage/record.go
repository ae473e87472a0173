package usage

import (
	"context"
	"sync"
	"time"
)

// Record is how activities reach a domain's record. Every call is idempotent:
// joining or leaving again answers as the first time, so a retried activity is safe.
type Record interface {
	Join(ctx context.Context, j Join) (Joined, error)
	Note(ctx context.Context, n Note) error
	Leave(ctx context.Context, l Leave) (Left, error)
	Release(ctx context.Context, r Release) error
}

// KonnectDomain is the record of the Konnect org the worker talks to.
const KonnectDomain = "konnect"

// OktaDomain is the record of one Okta authorization server.
func OktaDomain(authServerID string) string { return oktaPrefix + authServerID }

const oktaPrefix = "okta-"

// The entity workflow's type and its updates.
const (
	WorkflowType  = "UsageRecord"
	UpdateJoin    = "join"
	UpdateNote    = "note"
	UpdateLeave   = "leave"
	UpdateRelease = "release"
	// QueryEntries returns the record's entries.
	QueryEntries = "entries"
)

// Memory is a Record held in this process: for tests of the activities without a
// Temporal server. It applies exactly what the entity workflow applies.
type Memory struct {
	mu    sync.Mutex
	books map[string]*Book
	// Now is the clock for leases (time.Now when nil).
	Now func() time.Time
}

var _ Record = (*Memory)(nil)

func (m *Memory) book(domain string) *Book {
	if m.books == nil {
		m.books = map[string]*Book{}
	}
	b := m.books[domain]
	if b == nil {
		b = NewBook(nil)
		m.books[domain] = b
	}
	return b
}

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Join implements Record.
func (m *Memory) Join(_ context.Context, j Join) (Joined, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.book(j.Domain).Join(j, m.now()), nil
}

// Note implements Record.
func (m *Memory) Note(_ context.Context, n Note) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.book(n.Domain).Note(n)
	return nil
}

// Leave implements Record.
func (m *Memory) Leave(_ context.Context, l Leave) (Left, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.book(l.Domain).Leave(l, m.now()), nil
}

// Release implements Record.
func (m *Memory) Release(_ context.Context, r Release) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.book(r.Domain).Release(r)
	return nil
}

// Users of a resource in a domain.
func (m *Memory) Users(domain string, k Key) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.book(domain).Users(k)
}
