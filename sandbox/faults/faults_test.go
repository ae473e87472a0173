package faults

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestMatchPath(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"", "/api/v1/x", true},
		{"/api/v1/authorizationServers/*/scopes", "/api/v1/authorizationServers/aus1/scopes", true},
		{"/api/v1/authorizationServers/*/scopes", "/api/v1/authorizationServers/aus1/claims", false},
		{"/api/v1/authorizationServers/*", "/api/v1/authorizationServers/aus1/scopes", false},
		{"/v2/**", "/v2/dcr-providers/abc/verify", true},
		{"/v2/**", "/v3/apis", false},
	}
	for _, tt := range tests {
		if got := matchPath(tt.pattern, tt.path); got != tt.want {
			t.Errorf("matchPath(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func newServer(t *testing.T, in *Injector) *httptest.Server {
	t.Helper()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "real") })
	srv := httptest.NewServer(in.Wrap(ok, func(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration) {
		w.Header().Set("Retry-After", retryAfter.String())
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestInjector_StatusForNextNCalls(t *testing.T) {
	in := &Injector{}
	srv := newServer(t, in)
	f, err := in.Add(Fault{Method: "GET", Path: "/a", Status: 503, Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for range 3 {
		resp, err := http.Get(srv.URL + "/a")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.StatusCode)
		if resp.StatusCode == 503 && resp.Header.Get(HeaderInjected) != f.ID {
			t.Errorf("injected answer lacks %s header", HeaderInjected)
		}
	}
	if got[0] != 503 || got[1] != 503 || got[2] != 200 {
		t.Fatalf("statuses = %v, want [503 503 200]", got)
	}
	if hits := in.List()[0].Hits; hits != 2 {
		t.Fatalf("hits = %d, want 2", hits)
	}
	// Other methods and paths are untouched.
	resp, err := http.Post(srv.URL+"/a", "text/plain", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /a: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestInjector_DropClosesConnection(t *testing.T) {
	in := &Injector{}
	srv := newServer(t, in)
	if _, err := in.Add(Fault{Path: "/a", Drop: true, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := http.Get(srv.URL + "/a")
	if err == nil {
		t.Fatal("dropped call returned a response")
	}
	var ue interface{ Timeout() bool }
	if errors.As(err, &ue) && ue.Timeout() {
		t.Fatalf("drop looked like a timeout: %v", err)
	}
	resp, err := http.Get(srv.URL + "/a")
	if err != nil {
		t.Fatalf("call after the drop: %v", err)
	}
	resp.Body.Close()
}

func TestInjector_LatencyThenReal(t *testing.T) {
	in := &Injector{}
	srv := newServer(t, in)
	if _, err := in.Add(Fault{Path: "/a", LatencyMS: 50, Count: 1}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := http.Get(srv.URL + "/a")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "real" || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("latency fault: body %q after %v", body, time.Since(start))
	}
}

// A fault with a rate affects about that share of the matching calls, and the calls
// it spares go on to the next fault (here a 429 for every one).
func TestInjector_RateAffectsAShareAndSparesTheRest(t *testing.T) {
	in := &Injector{}
	srv := newServer(t, in)
	if _, err := in.Add(Fault{Path: "/a", Status: 503, Rate: 0.25}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Add(Fault{Path: "/a", Status: 429}); err != nil {
		t.Fatal(err)
	}
	const n = 400
	got := map[int]int{}
	for range n {
		resp, err := http.Get(srv.URL + "/a")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got[resp.StatusCode]++
	}
	// 100 expected; [60, 140] is over five standard deviations (sd ≈ 8.7) either side.
	if got[503] < 60 || got[503] > 140 || got[503]+got[429] != n {
		t.Fatalf("statuses %v over %d calls: want about a quarter 503 and the rest 429", got, n)
	}
	if f := in.List(); f[0].Hits != got[503] || f[1].Hits != got[429] {
		t.Fatalf("hits %d and %d, want %d and %d", f[0].Hits, f[1].Hits, got[503], got[429])
	}
}

func TestInjector_RejectsInvalidFaults(t *testing.T) {
	in := &Injector{}
	for _, f := range []Fault{{}, {Status: 200}, {Status: 500, Count: -1},
		{DelayResponse: true},                               // nothing to hold the answer for
		{DelayResponse: true, LatencyMS: 100, Drop: true},   // no answer to hold
		{DelayResponse: true, LatencyMS: 100, Status: 503},  // not the emulator's answer
		{DelayResponse: true, LatencyMS: -1},                // negative latency
		{Status: 503, Rate: 1.5}, {Status: 503, Rate: -0.1}, // not a share of the calls
	} {
		if _, err := in.Add(f); err == nil {
			t.Errorf("Add(%+v) accepted", f)
		}
	}
}

// sideEffect is an emulator stand-in that counts the calls it handled and answers 201
// with a header and a body, and says when each call's handling (fault included) ended.
type sideEffect struct {
	handled atomic.Int32
	ended   chan struct{}
}

func newSideEffectServer(t *testing.T, in *Injector) (*httptest.Server, *sideEffect) {
	t.Helper()
	se := &sideEffect{ended: make(chan struct{}, 10)}
	create := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		se.handled.Add(1)
		w.Header().Set("Location", "/things/1")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"id":"1"}`)
	})
	wrapped := in.Wrap(create, func(w http.ResponseWriter, r *http.Request, status int, _ time.Duration) { w.WriteHeader(status) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { se.ended <- struct{}{} }()
		wrapped.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, se
}

func TestInjector_DelayResponseHandlesFirstThenAnswersLate(t *testing.T) {
	in := &Injector{}
	srv, se := newSideEffectServer(t, in)
	// Long enough that a loaded CI machine still handles the call in the first half.
	const latency = 2 * time.Second
	f, err := in.Add(Fault{Method: "POST", Path: "/things", LatencyMS: int(latency / time.Millisecond), DelayResponse: true, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		resp *http.Response
		body string
		err  error
		at   time.Time
	}
	start := time.Now()
	done := make(chan answer, 1)
	go func() {
		resp, err := http.Post(srv.URL+"/things", "application/json", nil)
		a := answer{resp: resp, err: err, at: time.Now()}
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			a.body = string(b)
		}
		done <- a
	}()
	// The side effect happens while the answer is still held back.
	deadline := time.Now().Add(latency / 2)
	for se.handled.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the emulator had not handled the call halfway through the latency")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-done:
		t.Fatal("the answer came before the latency")
	default:
	}
	a := <-done
	if a.err != nil {
		t.Fatal(a.err)
	}
	if took := a.at.Sub(start); took < latency {
		t.Errorf("answer after %v, want at least %v", took, latency)
	}
	if a.resp.StatusCode != http.StatusCreated || a.body != `{"id":"1"}` || a.resp.Header.Get("Location") != "/things/1" {
		t.Errorf("held answer = %d %q Location %q, want the emulator's own", a.resp.StatusCode, a.body, a.resp.Header.Get("Location"))
	}
	if a.resp.Header.Get(HeaderInjected) != f.ID {
		t.Errorf("held answer lacks %s: %q", HeaderInjected, a.resp.Header.Get(HeaderInjected))
	}
	if n := se.handled.Load(); n != 1 {
		t.Errorf("handled %d times, want 1", n)
	}
}

func TestInjector_DelayResponseEndsWhenTheClientGivesUp(t *testing.T) {
	in := &Injector{}
	srv, se := newSideEffectServer(t, in)
	if _, err := in.Add(Fault{Path: "/things", LatencyMS: 60_000, DelayResponse: true, Count: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/things", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the client got an answer (%d) before its timeout", resp.StatusCode)
	}
	// The call was handled (a timeout after the side effect) and the handler let go
	// once the client left, not after the minute of latency.
	select {
	case <-se.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the held call still runs 5 s after the client gave up")
	}
	if n := se.handled.Load(); n != 1 {
		t.Fatalf("handled %d times, want 1", n)
	}
	// The fault is spent: the next call is answered at once.
	resp, err := http.Post(srv.URL+"/things", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get(HeaderInjected) != "" {
		t.Errorf("call after the spent fault = %d %q", resp.StatusCode, resp.Header.Get(HeaderInjected))
	}
}

func TestInjector_EchoQuotesTheWholeRequest(t *testing.T) {
	in := &Injector{}
	srv := newServer(t, in)
	if _, err := in.Add(Fault{Path: "/a", Status: 400, EchoRequest: true, Count: 1}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/a", strings.NewReader(`{"dcr_token":"s3cret-body"}`))
	req.Header.Set("Authorization", "SSWS s3cret-header")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "s3cret-body") || !strings.Contains(string(body), "s3cret-header") {
		t.Fatalf("echo: %d %s", resp.StatusCode, body)
	}
	if _, err := in.Add(Fault{Path: "/a", EchoRequest: true, LatencyMS: 1}); err == nil {
		t.Fatal("echo without a status accepted")
	}
}
