package faults

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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

func TestInjector_RejectsInvalidFaults(t *testing.T) {
	in := &Injector{}
	for _, f := range []Fault{{}, {Status: 200}, {Status: 500, Count: -1}} {
		if _, err := in.Add(f); err == nil {
			t.Errorf("Add(%+v) accepted", f)
		}
	}
}
