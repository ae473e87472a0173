package okta

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// TokenIdleLimit is how long Okta keeps an API token that is not used: a token
// unused for 30 days expires.
const TokenIdleLimit = 30 * 24 * time.Hour

// DCR token states, as DCRTokenState reports them.
const (
	TokenActive  = "active"
	TokenRevoked = "revoked" // revoked by an admin (or its admin was deactivated)
	TokenExpired = "expired" // expired, by a control call or after TokenIdleLimit unused
)

// tokenBook is the org's DCR (SSWS) tokens with their life: when each was last
// used, whether it was revoked or expired. Its clock is the emulator's plus an
// offset the control API advances (so that 30 days of disuse take no time).
type tokenBook struct {
	now func() time.Time

	mu     sync.Mutex
	skew   time.Duration
	seed   []string
	tokens map[string]*tokenLife
}

type tokenLife struct {
	created, lastUsed time.Time
	state             string
}

func newTokenBook(seed []string, now func() time.Time) *tokenBook {
	b := &tokenBook{now: now, seed: seed}
	b.reset()
	return b
}

// reset returns the book to the seed's tokens, all active, used now.
func (b *tokenBook) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.skew = 0
	b.tokens = map[string]*tokenLife{}
	t := b.now()
	for _, s := range b.seed {
		if s != "" {
			b.tokens[s] = &tokenLife{created: t, lastUsed: t, state: TokenActive}
		}
	}
}

func (b *tokenBook) clock() time.Time { return b.now().Add(b.skew) }

// use accepts token when it is active (noting the use), and refuses it when
// unknown, revoked or expired (a token idle for TokenIdleLimit expires on its
// next use, as Okta's cleanup would have removed it).
func (b *tokenBook) use(token string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.tokens[token]
	if !ok {
		return false
	}
	now := b.clock()
	if l.state == TokenActive && now.Sub(l.lastUsed) >= TokenIdleLimit {
		l.state = TokenExpired
	}
	if l.state != TokenActive {
		return false
	}
	l.lastUsed = now
	return true
}

// add makes token an active DCR token (again active when it was added before).
func (b *tokenBook) add(token string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock()
	b.tokens[token] = &tokenLife{created: now, lastUsed: now, state: TokenActive}
}

// set puts a known token in state; an unknown one is an error.
func (b *tokenBook) set(token, state string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.tokens[token]
	if !ok {
		return fmt.Errorf("no DCR token %s in the org", Fingerprint(token))
	}
	l.state = state
	return nil
}

// advance moves the book's clock forward by d.
func (b *tokenBook) advance(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.skew += d
}

// DCRTokenState is one DCR token as the control API shows it: its fingerprint,
// never the token.
type DCRTokenState struct {
	Fingerprint string    `json:"fingerprint"`
	State       string    `json:"state"`
	Created     time.Time `json:"created"`
	LastUsed    time.Time `json:"last_used"`
}

func (b *tokenBook) list() []DCRTokenState {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock()
	out := make([]DCRTokenState, 0, len(b.tokens))
	for t, l := range b.tokens {
		st := l.state
		if st == TokenActive && now.Sub(l.lastUsed) >= TokenIdleLimit {
			st = TokenExpired
		}
		out = append(out, DCRTokenState{Fingerprint: Fingerprint(t), State: st, Created: l.created, LastUsed: l.lastUsed})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Fingerprint < out[j].Fingerprint })
	return out
}

// Fingerprint names a token without showing it: the first 12 hex digits of its
// SHA-256.
func Fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:6])
}

// dcrGuard accepts "SSWS <an active DCR token>" and answers Okta's 401 E0000011
// "Invalid token provided" otherwise (unknown, revoked or expired alike).
func (b *tokenBook) guard(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "SSWS") && b.use(strings.TrimSpace(token))
}

// AddDCRToken makes token an active DCR token of the org.
func (e *Emulator) AddDCRToken(token string) { e.dcrTokens.add(token) }

// RevokeDCRToken revokes a DCR token: every later call with it gets 401 E0000011.
func (e *Emulator) RevokeDCRToken(token string) error { return e.dcrTokens.set(token, TokenRevoked) }

// ExpireDCRToken expires a DCR token now, as 30 days of disuse would.
func (e *Emulator) ExpireDCRToken(token string) error { return e.dcrTokens.set(token, TokenExpired) }

// AdvanceClock moves the DCR tokens' clock forward (for their 30-day idle expiry).
func (e *Emulator) AdvanceClock(d time.Duration) { e.dcrTokens.advance(d) }

// DCRTokens lists the org's DCR tokens by fingerprint, with their state.
func (e *Emulator) DCRTokens() []DCRTokenState { return e.dcrTokens.list() }
