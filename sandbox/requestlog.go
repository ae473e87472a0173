package sandbox

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/dcrflow/dcrflow/sandbox/faults"
)

// Request is one call the emulators received, as the control API lists it.
type Request struct {
	Seq    int       `json:"seq"`
	Time   time.Time `json:"time"`
	System string    `json:"system"` // "okta" or "konnect"
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Status int       `json:"status"` // 0 when the connection was dropped
	Fault  string    `json:"fault,omitempty"`
}

// maxLogged bounds the log's memory; benchmarks read it in pages with ?since=.
const maxLogged = 200_000

type requestLog struct {
	mu      sync.Mutex
	entries []Request
	seq     int
}

func (l *requestLog) add(r Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	r.Seq = l.seq
	if len(l.entries) >= maxLogged {
		l.entries = append(l.entries[:0], l.entries[len(l.entries)/2:]...)
	}
	l.entries = append(l.entries, r)
}

// since returns the entries with Seq > seq.
func (l *requestLog) since(seq int) []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []Request{}
	for _, e := range l.entries {
		if e.Seq > seq {
			out = append(out, e)
		}
	}
	return out
}

func (l *requestLog) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = nil
}

// logged records every call to next under system.
func (l *requestLog) logged(system string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		defer func() {
			l.add(Request{Time: start, System: system, Method: r.Method, Path: r.URL.Path,
				Status: sw.status, Fault: sw.Header().Get(faults.HeaderInjected)})
		}()
		next.ServeHTTP(sw, r)
		if sw.status == 0 && !sw.hijacked {
			sw.status = http.StatusOK // the handler wrote nothing
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Hijack lets the faults package drop connections through the logger.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	w.hijacked = true
	return hj.Hijack()
}
