// Package faults injects failures into the sandbox's HTTP handlers: a status for the
// next N matching calls (or a random share of them), added latency (before the call, or after it: the side effect
// happens and the answer is late), or a dropped connection. Tests and benchmarks
// drive it through the sandbox's control API.
package faults

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"
)

// HeaderInjected marks a response produced by an injected fault, so that contract
// checks can tell it from the emulator's own answers, and the request log names the
// fault. A held-back answer (DelayResponse) carries it too.
const HeaderInjected = "X-Sandbox-Fault"

// Fault is one injection rule. A request matches when its method equals Method (or
// Method is empty or "*") and its path matches Path, where "*" stands for one path
// segment and a trailing "**" for any rest (an empty Path matches everything).
//
// LatencyMS alone delays the call before the emulator sees it. With DelayResponse the
// emulator handles the call first — its side effect happens — and the answer is held
// back for LatencyMS, or until the client gives up: a timeout after the side effect.
type Fault struct {
	ID                string `json:"id"`
	Method            string `json:"method,omitempty"`
	Path              string `json:"path,omitempty"`
	Status            int    `json:"status,omitempty"`              // answer with this status instead of the emulator
	Count             int    `json:"count,omitempty"`               // how many matching calls; 0 = until cleared
	LatencyMS         int    `json:"latency_ms,omitempty"`          // delay before answering
	Drop              bool   `json:"drop,omitempty"`                // close the connection without an answer
	RetryAfterSeconds int    `json:"retry_after_seconds,omitempty"` // for Status 429: the reset the answer names
	DelayResponse     bool   `json:"delay_response,omitempty"`      // with LatencyMS: handle the call first, then hold the answer back
	EchoRequest       bool   `json:"echo_request,omitempty"`        // with Status: the error body quotes the whole request, headers included
	// Rate, when set (0 < Rate ≤ 1), is the chance that a matching call is affected:
	// random faults at a chosen rate (a call it spares goes on to the next fault).
	Rate float64 `json:"rate,omitempty"`
	Hits int     `json:"hits"` // how many calls it has affected
}

func (f Fault) validate() error {
	if f.Status == 0 && f.LatencyMS == 0 && !f.Drop {
		return fmt.Errorf("fault needs one of status, latency_ms or drop")
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		return fmt.Errorf("fault status %d: want 400-599", f.Status)
	}
	if f.Rate < 0 || f.Rate > 1 {
		return fmt.Errorf("fault rate %g: want a share of the matching calls, 0 < rate <= 1 (or none: every call)", f.Rate)
	}
	if f.Count < 0 || f.LatencyMS < 0 || f.RetryAfterSeconds < 0 {
		return fmt.Errorf("fault count, latency_ms and retry_after_seconds must not be negative")
	}
	if f.EchoRequest && f.Status == 0 {
		return fmt.Errorf("fault echo_request needs a status: the error whose body quotes the request")
	}
	if f.DelayResponse && f.LatencyMS == 0 {
		return fmt.Errorf("fault delay_response needs latency_ms: how long to hold the answer")
	}
	if f.DelayResponse && (f.Drop || f.Status != 0) {
		return fmt.Errorf("fault delay_response holds the emulator's own answer: it cannot go with drop or status")
	}
	return nil
}

func (f Fault) exhausted() bool { return f.Count > 0 && f.Hits >= f.Count }

func (f Fault) matches(r *http.Request) bool {
	if f.Method != "" && f.Method != "*" && !strings.EqualFold(f.Method, r.Method) {
		return false
	}
	return matchPath(f.Path, r.URL.Path)
}

func matchPath(pattern, path string) bool {
	if pattern == "" || pattern == "**" {
		return true
	}
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range ps {
		if p == "**" && i == len(ps)-1 {
			return true
		}
		if i >= len(xs) || (p != "*" && p != xs[i]) {
			return false
		}
	}
	return len(ps) == len(xs)
}

// ErrorWriter writes a system's own error body for an injected status. retryAfter is
// set for 429s.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration)

// Injector holds the active faults.
type Injector struct {
	mu     sync.Mutex
	faults []*Fault
	nextID int
}

// Add validates and activates a fault, returning it with its id.
func (in *Injector) Add(f Fault) (Fault, error) {
	if err := f.validate(); err != nil {
		return Fault{}, err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.nextID++
	f.ID = fmt.Sprintf("fault-%d", in.nextID)
	f.Hits = 0
	in.faults = append(in.faults, &f)
	return f, nil
}

// List returns the faults, exhausted ones included (their Hits tell what happened).
func (in *Injector) List() []Fault {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]Fault, 0, len(in.faults))
	for _, f := range in.faults {
		out = append(out, *f)
	}
	return out
}

// Clear removes every fault.
func (in *Injector) Clear() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.faults = nil
}

// take finds the first live fault for r and counts the hit.
func (in *Injector) take(r *http.Request) (Fault, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, f := range in.faults {
		if !f.exhausted() && f.matches(r) {
			if f.Rate > 0 && rand.Float64() >= f.Rate {
				continue // spared this time
			}
			f.Hits++
			return *f, true
		}
	}
	return Fault{}, false
}

// Wrap applies the faults to next; writeError formats injected statuses.
func (in *Injector) Wrap(next http.Handler, writeError ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := in.take(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if f.DelayResponse {
			delayed(w, r, next, f)
			return
		}
		if f.LatencyMS > 0 {
			select {
			case <-time.After(time.Duration(f.LatencyMS) * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case f.Drop:
			drop(w)
		case f.Status != 0 && f.EchoRequest:
			w.Header().Set(HeaderInjected, f.ID)
			echo(w, r, f.Status)
		case f.Status != 0:
			w.Header().Set(HeaderInjected, f.ID)
			writeError(w, r, f.Status, time.Duration(f.RetryAfterSeconds)*time.Second)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// delayed lets next handle r into a buffer, then holds the answer for the fault's
// latency or until the client goes away, and writes it (marked with the fault's id,
// so the request log names it). A client that went away gets nothing, but the call's
// side effect has happened and the log shows the status it would have had.
func delayed(w http.ResponseWriter, r *http.Request, next http.Handler, f Fault) {
	rec := &recorder{header: http.Header{}}
	next.ServeHTTP(rec, r)
	t := time.NewTimer(time.Duration(f.LatencyMS) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
	h := w.Header()
	for k, v := range rec.header {
		h[k] = v
	}
	h.Set(HeaderInjected, f.ID)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())
}

// recorder buffers a handler's answer (what httptest.ResponseRecorder does, without
// importing a test package into the sandbox).
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// drop closes the client's connection without writing a response.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: net/http resets the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// echo answers like a careless server or proxy that quotes the request in its error:
// the request line, every header (credentials too) and the body, in the fields both
// Okta's (errorSummary) and Konnect's (detail) error readers show.
func echo(w http.ResponseWriter, r *http.Request, status int) {
	dump, err := httputil.DumpRequest(r, true)
	if err != nil {
		dump = []byte(err.Error())
	}
	quoted := "could not process: " + string(dump)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errorCode": "E0000001", "errorSummary": quoted, "errorCauses": []map[string]string{{"errorSummary": quoted}},
		"status": status, "title": http.StatusText(status), "detail": quoted, "instance": "kong:trace:echo",
	})
}
