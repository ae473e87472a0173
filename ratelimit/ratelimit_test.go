package ratelimit

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock stands still unless a Sleep moves it (advance) or the test does.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	advance bool // Sleep moves the clock by the time slept
	slept   []time.Duration
	fail    error // Sleep returns it (a context that ended)
}

func newClock() *fakeClock { return &fakeClock{now: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	if c.fail != nil {
		return c.fail
	}
	if c.advance {
		c.now = c.now.Add(d)
	}
	return nil
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// recorder observes a Budget.
type recorder struct {
	mu       sync.Mutex
	rates    map[System]float64
	workers  int
	waited   map[System]time.Duration
	deferred map[System]int
}

func newRecorder() *recorder {
	return &recorder{rates: map[System]float64{}, waited: map[System]time.Duration{}, deferred: map[System]int{}}
}

func (r *recorder) BudgetRate(s System, perMinute float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rates[s] = perMinute
}

func (r *recorder) BudgetWorkers(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.workers = n
}

func (r *recorder) BudgetWaited(s System, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waited[s] += d
}

func (r *recorder) BudgetDeferred(s System) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deferred[s]++
}

// server is a RoundTripper that answers every request with status and headers.
type server struct {
	mu      sync.Mutex
	status  int
	header  http.Header
	sent    []time.Time
	clock   *fakeClock
	lastReq *http.Request
}

func (s *server) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, s.clock.Now())
	s.lastReq = req
	status := s.status
	if status == 0 {
		status = http.StatusOK
	}
	return &http.Response{StatusCode: status, Header: s.header.Clone(), Body: io.NopCloser(strings.NewReader("{}")), Request: req}, nil
}

func (s *server) sentTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.sent...)
}

// rig is a Budget with a fake clock in front of a fake Okta org.
type rig struct {
	clock *fakeClock
	obs   *recorder
	b     *Budget
	srv   *server
	hc    *http.Client
}

const orgURL = "https://acme.okta.com"

func newRig(t *testing.T, cfg Config) *rig {
	t.Helper()
	r := &rig{clock: newClock(), obs: newRecorder()}
	cfg.Clock, cfg.Observer = r.clock, r.obs
	r.b = New(cfg)
	r.srv = &server{clock: r.clock, header: http.Header{}}
	r.hc = &http.Client{Transport: r.b.Transport(r.srv, OktaRoutes(orgURL))}
	return r
}

// get sends one request to path on the fake org.
func (r *rig) get(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, orgURL+path, nil)
	if err != nil {
		return err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func near(got, want float64) bool { return math.Abs(got-want) < 1e-6*math.Max(1, math.Abs(want)) }

func TestBudget_SpacesRequestsEvenlyAtTheBudget(t *testing.T) {
	r := newRig(t, Config{Budgets: map[System]int{OktaManagement: 120}, Headroom: 0.5})
	r.clock.advance = true
	start := r.clock.Now()
	for range 4 {
		if err := r.get(context.Background(), "/api/v1/authorizationServers/default"); err != nil {
			t.Fatal(err)
		}
	}
	// 120 a minute less half headroom: one a second, the first at once.
	for i, at := range r.srv.sentTimes() {
		if got := at.Sub(start); got != time.Duration(i)*time.Second {
			t.Errorf("request %d sent at +%v, want +%ds", i, got, i)
		}
	}
	if got := r.b.Rate(OktaManagement); got != 60 {
		t.Errorf("Rate = %v, want 60", got)
	}
	if r.obs.rates[OktaManagement] != 60 || r.obs.workers != 1 || r.obs.waited[OktaManagement] != 3*time.Second {
		t.Errorf("observed rates %v, workers %d, waited %v", r.obs.rates, r.obs.workers, r.obs.waited)
	}
}

func TestBudget_SystemsWithoutABudgetAndUnlimitedEndpointsPassAtOnce(t *testing.T) {
	r := newRig(t, Config{Budgets: map[System]int{OktaManagement: 1}})
	for _, path := range []string{"/oauth2/default/v1/token", "/oauth2/default/v1/keys", "/oauth2/v1/clients", "/oauth2/v1/clients/0oa1"} {
		for range 3 {
			if err := r.get(context.Background(), path); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
	}
	if len(r.clock.slept) != 0 {
		t.Errorf("unbudgeted requests waited %v", r.clock.slept)
	}
	base := http.DefaultTransport
	if got := New(Config{}).Transport(base, OktaRoutes(orgURL)); got != base {
		t.Errorf("Transport without budgets = %T, want the base itself", got)
	}
}

func TestBudget_ShareIsTheBudgetDividedByTheLiveWorkers(t *testing.T) {
	r := newRig(t, Config{Budgets: map[System]int{OktaManagement: 120, Konnect: 600}, Headroom: 0.5})
	count := func(n int) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { return n, nil }
	}
	for _, tc := range []struct{ workers, want int }{{3, 3}, {0, 1}, {-2, 1}, {2, 2}} {
		if err := r.b.Refresh(context.Background(), count(tc.workers)); err != nil {
			t.Fatal(err)
		}
		if r.b.Workers() != tc.want || r.obs.workers != tc.want {
			t.Fatalf("count %d: Workers = %d (observed %d), want %d", tc.workers, r.b.Workers(), r.obs.workers, tc.want)
		}
		if got, want := r.b.Rate(OktaManagement), 60/float64(tc.want); !near(got, want) {
			t.Errorf("count %d: okta rate %v, want %v", tc.workers, got, want)
		}
		if got, want := r.b.Rate(Konnect), 300/float64(tc.want); !near(got, want) {
			t.Errorf("count %d: konnect rate %v, want %v", tc.workers, got, want)
		}
	}
	// A failed count keeps the last one.
	if err := r.b.Refresh(context.Background(), func(context.Context) (int, error) { return 0, errors.New("down") }); err == nil || r.b.Workers() != 2 {
		t.Errorf("failed count: err %v, workers %d, want an error and 2", err, r.b.Workers())
	}
}

// Two workers that both count two live workers send, together, no more than the
// budget in any window, however their slots fall.
func TestBudget_TwoWorkersTogetherStayWithinTheBudget(t *testing.T) {
	const budget = 60
	clock := newClock()
	clock.advance = true
	twoLive := func(context.Context) (int, error) { return 2, nil }
	var sent []time.Time
	for i := range 2 {
		b := New(Config{Budgets: map[System]int{OktaDCR: budget}, Clock: clock})
		if err := b.Refresh(context.Background(), twoLive); err != nil {
			t.Fatal(err)
		}
		if got, want := b.Rate(OktaDCR), budget*(1-DefaultHeadroom)/2; !near(got, want) {
			t.Fatalf("worker %d: rate %v, want %v", i, got, want)
		}
		// Each worker sends as fast as its share allows for three minutes, the second
		// starting at an odd offset.
		now := clock.Now().Add(time.Duration(i) * 777 * time.Millisecond)
		end := now.Add(3 * time.Minute)
		for now.Before(end) {
			taken, wait, err := b.reserve(now, []System{OktaDCR}, time.Hour)
			if err != nil || len(taken) != 1 {
				t.Fatalf("reserve: %v", err)
			}
			now = now.Add(wait)
			sent = append(sent, now)
		}
	}
	if most := mostInAnyWindow(sent, time.Minute); most > budget {
		t.Errorf("two workers sent %d requests in one minute, budget %d", most, budget)
	} else if most < budget*9/10 {
		t.Errorf("two workers sent at most %d requests in a minute: far below the budget %d", most, budget)
	}
}

// mostInAnyWindow is the largest number of times in any half-open stretch of length w.
func mostInAnyWindow(times []time.Time, w time.Duration) int {
	most := 0
	for _, from := range times {
		n := 0
		for _, t := range times {
			if !t.Before(from) && t.Before(from.Add(w)) {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

func TestBudget_ErrBudgetWhenTheWaitExceedsWhatTheContextAllows(t *testing.T) {
	// 60 a minute at half headroom: a slot every 2 s.
	r := newRig(t, Config{Budgets: map[System]int{OktaManagement: 60}, Headroom: 0.5, MaxWait: time.Minute})
	ctx, cancel := context.WithDeadline(context.Background(), r.clock.Now().Add(10*time.Second))
	defer cancel()
	// The clock stands still: requests queue up 2 s apart. 3/4 of 10 s allows 7.5 s,
	// so the slots at 0, 2, 4 and 6 s are granted and the one at 8 s is not.
	for i := range 4 {
		if err := r.get(ctx, "/api/v1/authorizationServers"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	err := r.get(ctx, "/api/v1/authorizationServers")
	eb, ok := AsBudgetError(err)
	if !ok || eb.System != OktaManagement || eb.Wait != 8*time.Second {
		t.Fatalf("fifth request: %v, want *BudgetError{okta_management, 8s}", err)
	}
	if !strings.Contains(err.Error(), "okta_management request budget") {
		t.Errorf("message: %v", err)
	}
	if r.obs.deferred[OktaManagement] != 1 || len(r.srv.sentTimes()) != 4 {
		t.Errorf("deferred %v, sent %d; want 1 deferral and 4 requests", r.obs.deferred, len(r.srv.sentTimes()))
	}
	// The deferred request took no slot: once the clock reaches 8 s, the next one goes at once.
	r.clock.Add(8 * time.Second)
	slept := len(r.clock.slept)
	if err := r.get(ctx, "/api/v1/authorizationServers"); err != nil {
		t.Fatal(err)
	}
	if len(r.clock.slept) != slept {
		t.Errorf("the slot a deferred request left was not free: waited %v", r.clock.slept[slept:])
	}

	// MaxWait bounds the wait even under a distant deadline.
	r2 := newRig(t, Config{Budgets: map[System]int{OktaManagement: 60}, Headroom: 0.5, MaxWait: 3 * time.Second})
	for i, want := range []bool{true, true, false} {
		err := r2.get(context.Background(), "/api/v1/x")
		if _, deferred := AsBudgetError(err); deferred == want {
			t.Errorf("MaxWait: request %d deferred = %v (%v)", i, deferred, err)
		}
	}
}

// A caller that heartbeats takes its place in line beyond MaxWait (within ¾ of
// what its context has left) and beats every second while it waits; one that does
// not is deferred at MaxWait as before.
func TestBudget_APatientRequestKeepsItsPlaceInLineAndBeats(t *testing.T) {
	// 60 a minute at half headroom: a slot every 2 s; MaxWait 3 s.
	r := newRig(t, Config{Budgets: map[System]int{OktaDCR: 60}, Headroom: 0.5, MaxWait: 3 * time.Second})
	ctx, cancel := context.WithDeadline(context.Background(), r.clock.Now().Add(20*time.Second))
	defer cancel()
	beats := 0
	patient := Patient(ctx, func() { beats++ })
	// The clock stands still: slots at 0, 2, 4, 6, 8 s. ¾ of 20 s allows 15 s.
	for i := range 5 {
		if err := r.get(patient, "/oauth2/v1/clients"); err != nil {
			t.Fatalf("patient request %d: %v", i, err)
		}
	}
	if got := r.clock.slept; len(got) != 2+4+6+8 || beats != 1+3+5+7 {
		t.Errorf("slept %v with %d beats, want 1 s steps (20) and a beat between two (16)", got, beats)
	}
	if err := r.get(ctx, "/oauth2/v1/clients"); err == nil {
		t.Error("an impatient request 10 s back in line went, want *BudgetError beyond MaxWait")
	} else if eb, ok := AsBudgetError(err); !ok || eb.Wait != 10*time.Second {
		t.Errorf("impatient request: %v, want *BudgetError with a 10 s wait", err)
	}
	for range 3 { // 10, 12, 14 s: within 15 s
		if err := r.get(patient, "/oauth2/v1/clients"); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := AsBudgetError(r.get(patient, "/oauth2/v1/clients")); !ok {
		t.Error("a patient request 16 s back in line went, want *BudgetError beyond ¾ of its 20 s")
	}
	if n := len(r.srv.sentTimes()); n != 8 {
		t.Errorf("sent %d requests, want 8", n)
	}
}

func TestBudget_ACanceledWaitGivesItsSlotBack(t *testing.T) {
	r := newRig(t, Config{Budgets: map[System]int{OktaManagement: 60}, Headroom: 0.5})
	if err := r.get(context.Background(), "/api/v1/a"); err != nil { // takes the slot at 0 s
		t.Fatal(err)
	}
	r.clock.fail = context.Canceled // the next request's wait (2 s) is cut short
	if err := r.get(context.Background(), "/api/v1/b"); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled wait: %v", err)
	}
	r.clock.fail = nil
	if err := r.get(context.Background(), "/api/v1/c"); err != nil {
		t.Fatal(err)
	}
	if got := r.clock.slept[len(r.clock.slept)-1]; got != 2*time.Second {
		t.Errorf("after a canceled wait the next request waited %v, want the freed 2 s slot", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.get(ctx, "/api/v1/d"); !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: %v", err)
	}
}

func TestRoutes(t *testing.T) {
	okta := OktaRoutes("https://acme.okta.com/")
	kon := KonnectRoutes("https://eu.api.konghq.com")
	for _, tc := range []struct {
		route  Router
		method string
		url    string
		want   []System
	}{
		{okta, "GET", "https://acme.okta.com/api/v1/authorizationServers/default/scopes?q=x", toOktaManagement},
		{okta, "POST", "https://acme.okta.com/api/v1/authorizationServers/default/claims", toOktaManagement},
		{okta, "POST", "https://acme.okta.com/oauth2/v1/clients", toOktaDCR},
		{okta, "DELETE", "https://acme.okta.com/oauth2/v1/clients/0oa1", toOktaDCR},
		{okta, "GET", "https://acme.okta.com/oauth2/v1/clients?q=dcrflow", toOktaDCR},
		{okta, "POST", "https://acme.okta.com/oauth2/default/v1/token", nil},
		{okta, "POST", "https://acme.okta.com/oauth2/v1/token?grant_type=client_credentials", toOktaManagement}, // OAuth for Okta
		{kon, "POST", "https://eu.api.konghq.com/v3/portals/p1/applications", toKonnectAppDCR},
		{kon, "DELETE", "https://eu.api.konghq.com/v3/portals/p1/applications/a1", toKonnectAppDCR},
		{kon, "GET", "https://eu.api.konghq.com/v3/portals/p1/applications/a1", toKonnect},
		{kon, "POST", "https://eu.api.konghq.com/v3/portals/p1/applications/a1/registrations", toKonnect},
		{okta, "POST", "https://acme.okta.com/oauth2/api/v1/token", nil}, // an auth server named api
		{okta, "GET", "https://acme.okta.com/oauth2/default/v1/keys", nil},
		{okta, "GET", "https://acme.okta.com/oauth2/default/.well-known/oauth-authorization-server", nil},
		{okta, "GET", "https://login.acme.com/api/v1/users", nil}, // another host
		{kon, "GET", "https://eu.api.konghq.com/v3/portals?filter[name][eq]=x", toKonnect},
		{kon, "POST", "https://eu.api.konghq.com/v2/dcr-providers/abc/verify", toKonnectVerify},
		{kon, "GET", "https://us.api.konghq.com/v3/portals", nil},
	} {
		req, err := http.NewRequest(tc.method, tc.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := tc.route(req); !slicesEqual(got, tc.want) {
			t.Errorf("%s %s: %v, want %v", tc.method, tc.url, got, tc.want)
		}
	}
}

func slicesEqual(a, b []System) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Verifying a DCR provider takes one Konnect slot and two Okta DCR slots.
func TestBudget_KonnectVerifyAlsoSpendsTheOktaDCRBudget(t *testing.T) {
	clock := newClock()
	b := New(Config{Budgets: map[System]int{Konnect: 600, OktaDCR: 60}, Headroom: 0.5, Clock: clock})
	srv := &server{clock: clock, header: http.Header{}}
	hc := &http.Client{Transport: b.Transport(srv, KonnectRoutes("https://eu.api.konghq.com"))}
	resp, err := hc.Post("https://eu.api.konghq.com/v2/dcr-providers/p1/verify", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The DCR budget's two slots were 0 and 2 s: the verify went at 2 s.
	if len(clock.slept) != 1 || clock.slept[0] != 2*time.Second {
		t.Errorf("verify waited %v, want 2s (the second DCR slot)", clock.slept)
	}
	taken, wait, err := b.reserve(clock.Now(), toOktaDCR, time.Hour)
	if err != nil || len(taken) != 1 || wait != 4*time.Second {
		t.Errorf("next DCR slot in %v (%v), want 4s", wait, err)
	}
}

// oktaHeaders are Okta's rate-limit headers for a window ending at reset.
func oktaHeaders(limit, remaining int, reset time.Time) http.Header {
	h := http.Header{}
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
	return h
}

func TestBudget_KeepsItsRateWhileTheHeadersShowOnlyThisFleet(t *testing.T) {
	r := newRig(t, Config{Budgets: map[System]int{OktaManagement: 600}})
	full := r.b.Rate(OktaManagement)
	reset := r.clock.Now().Add(time.Minute)
	// Half-way through the window this fleet has used its budget's half.
	r.clock.Add(30 * time.Second)
	r.b.observe(OktaManagement, http.StatusOK, oktaHeaders(600, 600-294, reset))
	if got := r.b.Rate(OktaManagement); got != full {
		t.Errorf("rate %v after headers matching the fleet's own use, want %v", got, full)
	}
}

func TestBudget_AdaptsDownWhenOthersUseTheOrgAndRecoversOverTheNextWindows(t *testing.T) {
	const budget = 600
	r := newRig(t, Config{Budgets: map[System]int{OktaManagement: budget}})
	full := r.b.Rate(OktaManagement)
	start := r.clock.Now()
	reset := start.Add(time.Minute)
	r.b.observe(OktaManagement, http.StatusOK, oktaHeaders(budget, budget-1, reset))

	// 30 s in, 400 of 600 are gone: at most 312 can be this fleet's.
	r.clock.Add(30 * time.Second)
	remaining := 200
	r.b.observe(OktaManagement, http.StatusOK, oktaHeaders(budget, remaining, reset))
	lowered := r.b.Rate(OktaManagement)
	if lowered >= full {
		t.Fatalf("rate %v not lowered from %v", lowered, full)
	}
	// What this fleet sends until the reset, plus what the others keep sending at the
	// pace they showed, fits in what remains.
	others := (400.0 - (budget*31/60.0 + 2)) / 30 // per second
	if use := lowered/60*30 + others*30; use > float64(remaining)+1e-9 {
		t.Errorf("rate %v/min: %.1f requests until the reset, %d remain", lowered, use, remaining)
	}
	if lowered < budget*DefaultFloor {
		t.Errorf("rate %v below the floor %v", lowered, budget*DefaultFloor)
	}

	// Nothing left: the floor, and no request before the reset.
	r.clock.Add(10 * time.Second)
	r.b.observe(OktaManagement, http.StatusOK, oktaHeaders(budget, 0, reset))
	if got := r.b.Rate(OktaManagement); !near(got, budget*DefaultFloor) {
		t.Errorf("rate %v with nothing remaining, want the floor %v", got, budget*DefaultFloor)
	}
	err := r.get(context.Background(), "/api/v1/authorizationServers")
	if eb, ok := AsBudgetError(err); !ok || eb.Wait != reset.Sub(r.clock.Now()) {
		t.Fatalf("request in a spent window: %v, want *BudgetError waiting until the reset (%v)", err, reset.Sub(r.clock.Now()))
	}

	// The next windows show no others: the rate climbs back, not all at once.
	prev := r.b.Rate(OktaManagement)
	var rates []float64
	for w := 1; w <= 6; w++ {
		r.clock.Add(reset.Sub(r.clock.Now()) + time.Second)
		reset = r.clock.Now().Add(time.Minute)
		r.b.observe(OktaManagement, http.StatusOK, oktaHeaders(budget, budget-1, reset))
		got := r.b.Rate(OktaManagement)
		rates = append(rates, got)
		if got < prev {
			t.Errorf("window %d: rate fell to %v from %v with no others", w, got, prev)
		}
		prev = got
	}
	if rates[0] >= full {
		t.Errorf("rate back to %v in the first quiet window, want a gradual recovery", rates[0])
	}
	if last := rates[len(rates)-1]; last != full {
		t.Errorf("rates over quiet windows %v, want back to %v", rates, full)
	}
}

func TestBudget_A429HoldsTheSystemUntilTheReset(t *testing.T) {
	r := newRig(t, Config{Budgets: map[System]int{OktaManagement: 600, OktaDCR: 600}})
	reset := r.clock.Now().Add(20 * time.Second)
	r.srv.status, r.srv.header = http.StatusTooManyRequests, oktaHeaders(600, 0, reset)
	if err := r.get(context.Background(), "/api/v1/authorizationServers"); err != nil {
		t.Fatal(err)
	}
	r.srv.status, r.srv.header = http.StatusOK, http.Header{}
	err := r.get(context.Background(), "/api/v1/authorizationServers")
	if eb, ok := AsBudgetError(err); !ok || eb.Wait != 20*time.Second {
		t.Errorf("after a 429: %v, want *BudgetError until the reset in 20s", err)
	}
	if err := r.get(context.Background(), "/oauth2/v1/clients"); err != nil {
		t.Errorf("another system is held too: %v", err)
	}

	// Okta's concurrency 429 (limit 0) is about requests in flight: no hold.
	r2 := newRig(t, Config{Budgets: map[System]int{OktaManagement: 600}})
	r2.srv.status, r2.srv.header = http.StatusTooManyRequests, oktaHeaders(0, 0, r2.clock.Now().Add(20*time.Second))
	_ = r2.get(context.Background(), "/api/v1/a")
	r2.srv.status = http.StatusOK
	r2.clock.Add(time.Second)
	if err := r2.get(context.Background(), "/api/v1/a"); err != nil {
		t.Errorf("after a concurrency 429: %v", err)
	}
}

// The README's example: okta_dcr_rpm 50 shared by 5 workers gives each a DCR slot
// every 6.1 s. Verifying a DCR provider takes two of them, so it waits one gap even
// on an idle budget: beyond MaxWait (5 s), yet within what a step allows (7.5 s), it
// waits and goes instead of being deferred on every attempt.
func TestBudget_AVerifyWaitsForTheSlotsItNeedsWithinTheStep(t *testing.T) {
	clock := newClock()
	b := New(Config{Budgets: map[System]int{OktaDCR: 50}, MaxWait: 5 * time.Second, Clock: clock})
	b.SetWorkers(5)
	srv := &server{clock: clock, header: http.Header{}}
	hc := &http.Client{Transport: b.Transport(srv, KonnectRoutes("https://eu.api.konghq.com"))}
	ctx, cancel := context.WithDeadline(context.Background(), clock.Now().Add(10*time.Second)) // a step's attempt
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://eu.api.konghq.com/v2/dcr-providers/p1/verify", strings.NewReader("{}"))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("verify on an idle budget: %v", err)
	}
	resp.Body.Close()
	perWorker := 50 * 0.98 / 5
	gap := time.Duration(float64(time.Minute) / perWorker)
	if len(clock.slept) != 1 || clock.slept[0] != gap {
		t.Errorf("verify waited %v, want one gap (%v)", clock.slept, gap)
	}
}

// With 8 workers the share spaces two DCR slots 9.8 s apart: no wait within a step
// lets a verify through. It fails at once with the arithmetic (not deferred, retried
// and failed after ten minutes), naming the budget and the worker count that work.
func TestBudget_ARequestNoShareCanRunIsTooSmallWithItsArithmetic(t *testing.T) {
	clock := newClock()
	b := New(Config{Budgets: map[System]int{OktaDCR: 50}, Clock: clock})
	b.SetWorkers(8)
	err := b.wait(context.Background(), toKonnectVerify)
	small, ok := AsErrTooSmall(err)
	if !ok {
		t.Fatalf("err = %v, want *ErrTooSmall", err)
	}
	if _, deferred := AsBudgetError(err); deferred {
		t.Error("an impossible request reads as deferred: it would be retried")
	}
	if small.MinBudget != 66 || small.MaxWorkers != 6 {
		t.Errorf("min budget %d, max workers %d; want 66 and 6", small.MinBudget, small.MaxWorkers)
	}
	for _, want := range []string{"okta_dcr budget of 50/min shared by 8 worker(s)", "6.1/min", "one slot every 9.8s", "takes 2 slots at once",
		"more than the 7.5s a step may wait", "raise rate_limits.okta_dcr_rpm to at least 66 or run at most 6 worker(s)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
	if MaxWorkers(map[System]int{OktaDCR: 50}, 0) != 6 || MaxWorkers(map[System]int{OktaManagement: 600}, 0) != -1 {
		t.Error("MaxWorkers")
	}
}

// A cap that only rationed what this fleet's own bunched requests left of a window
// lapses once the window has ended; one that others' use set stays until the next
// headers.
func TestBudget_ACapFromThisFleetsOwnUseLapsesWithItsWindow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		used   int
		lapses bool
	}{{"own use", 53, true}, {"others seen", 80, false}} {
		r := newRig(t, Config{Budgets: map[System]int{OktaDCR: 100}})
		full := r.b.Rate(OktaDCR)
		reset := r.clock.Now().Add(time.Minute)
		r.clock.Add(30 * time.Second) // half-way through the window
		r.b.observe(OktaDCR, http.StatusOK, oktaHeaders(100, 100-tc.used, reset))
		if capped := r.b.Rate(OktaDCR); capped >= full {
			t.Fatalf("%s: rate %v not capped", tc.name, capped)
		}
		r.clock.Add(31 * time.Second) // the window is over
		if err := r.get(context.Background(), "/oauth2/v1/clients"); err != nil {
			t.Fatal(err)
		}
		if got := r.b.Rate(OktaDCR); (got == full) != tc.lapses {
			t.Errorf("%s: rate %v after the window ended (full %v), want lapsed %v", tc.name, got, full, tc.lapses)
		}
	}
}

// Slots reserved under a cap that rations what this fleet's own use left of a
// window do not reach into the next window at the capped rate.
func TestBudget_SlotsUnderAnOwnUseCapEndWithItsWindow(t *testing.T) {
	r := newRig(t, Config{Budgets: map[System]int{OktaDCR: 100}})
	reset := r.clock.Now().Add(time.Minute)
	r.clock.Add(58 * time.Second) // 2 s left, 1 request remains: 30/min, all this fleet's own
	r.b.observe(OktaDCR, http.StatusOK, oktaHeaders(100, 1, reset))
	now := r.clock.Now()
	rate := 100 * (1 - DefaultHeadroom)
	full := time.Duration(float64(time.Minute) / rate)
	var ends []time.Duration
	for range 3 {
		sl, _, err := r.b.reserve(now, toOktaDCR, time.Hour)
		if err != nil || len(sl) != 1 {
			t.Fatalf("reserve: %v %v", sl, err)
		}
		ends = append(ends, sl[0].end.Sub(now))
	}
	// The capped gap is 2 s: spaced so, the slots would end at 2, 4 and 6 s, reaching
	// into the next window; instead the next request goes a full gap after the reset
	// (not right on it: the header's reset is rounded), and the full rate follows.
	want := []time.Duration{2*time.Second + full, 2*time.Second + 2*full, 2*time.Second + 3*full}
	if !slices.Equal(ends, want) {
		t.Errorf("slot ends %v, want %v", ends, want)
	}
}
