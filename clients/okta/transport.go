package okta

import (
	"github.com/dcrflow/dcrflow/internal/httpwait"

	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ResponseInfo describes one HTTP exchange, for metrics. Observers get one per
// round trip, so a list that spans pages reports every page.
type ResponseInfo struct {
	Op         string // the client operation, e.g. "ListScopes"
	Method     string
	StatusCode int // 0 when no response arrived
	RateLimit  RateLimit
	Wait       time.Duration // what a 429 asked for: until its X-Rate-Limit-Reset, at least 1s
	Duration   time.Duration
	Err        error // the transport failure when StatusCode is 0
}

// RateLimit is what Okta's X-Rate-Limit-* headers said; zero when absent.
type RateLimit struct {
	Limit, Remaining int
	Reset            time.Time
}

func parseRateLimit(h http.Header, received time.Time) RateLimit {
	w, _ := httpwait.ParseWindow(h, received)
	return RateLimit(w)
}

// exchange holds what the transport saw of an operation's latest round trip. The
// SDK drops 429 answers (and with retries off returns a bare "too many requests"),
// so the status, headers and error body are taken here, below it.
type exchange struct {
	op          string
	token       *exchange // the client's access-token exchange (OAuth mode), for failure
	tokenScopes []string  // the scopes that token request asked for
	start       time.Time

	mu        sync.Mutex
	status    int
	method    string
	header    http.Header
	body      []byte // error answers only, capped
	received  time.Time
	transport error // the latest round trip failed without an answer
}

type exchangeKey struct{}

func withExchange(ctx context.Context, op string) (context.Context, *exchange) {
	ex := &exchange{op: op, start: time.Now()}
	return context.WithValue(ctx, exchangeKey{}, ex), ex
}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

func (ex *exchange) record(status int, header http.Header, body []byte, transport error) {
	if ex == nil {
		return
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.status, ex.header, ex.body, ex.transport, ex.received = status, header, body, transport, time.Now()
}

func (ex *exchange) setMethod(m string) {
	if ex == nil {
		return
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.method = m
}

// lastMethod is the method of the latest round trip.
func (ex *exchange) lastMethod() string {
	if ex == nil {
		return ""
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return ex.method
}

// cancelOnClose ends a token request's own deadline once its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// last returns the latest round trip.
func (ex *exchange) last() (status int, header http.Header, body []byte, received time.Time, transport error) {
	if ex == nil {
		return 0, http.Header{}, nil, time.Now(), nil
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	h := ex.header
	if h == nil {
		h = http.Header{}
	}
	return ex.status, h, ex.body, ex.received, ex.transport
}

// maxErrorBody caps how much of an error answer is kept.
const maxErrorBody = 64 << 10

// recorder is the transport under the SDK and the plain OAuth calls.
type recorder struct {
	base    http.RoundTripper
	observe func(ResponseInfo)
	// token receives the SDK's access-token requests (OAuth mode): the SDK sends
	// them without the operation's context, so they are recognised by path and
	// bounded here by timeout.
	token   *exchange
	timeout time.Duration
}

// isOrgTokenRequest reports the SDK's own token call: POST {org}/oauth2/v1/token
// (the org authorization server) outside any operation.
func isOrgTokenRequest(req *http.Request) bool {
	return req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/oauth2/v1/token")
}

func (t *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	ex := exchangeFrom(req.Context())
	var cancel context.CancelFunc
	if ex == nil && isOrgTokenRequest(req) && t.token != nil {
		ex = t.token
		if _, ok := req.Context().Deadline(); !ok && t.timeout > 0 {
			var ctx context.Context
			ctx, cancel = context.WithTimeout(req.Context(), t.timeout)
			req = req.WithContext(ctx)
		}
	}
	info := ResponseInfo{Method: req.Method}
	if ex != nil {
		info.Op = ex.op
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	info.Duration = time.Since(start)
	if err != nil {
		if cancel != nil {
			cancel()
		}
		err = detachEOF(err)
		if cancel != nil { // a token request: its URL carries the client assertion
			err = scrubbedError(err)
		}
		ex.record(0, nil, nil, err)
		ex.setMethod(req.Method)
		info.Err = err
		t.notify(info)
		return nil, err
	}
	if cancel != nil {
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	}
	var body []byte
	if resp.StatusCode >= http.StatusBadRequest {
		body, resp.Body = keepPrefix(resp.Body)
	}
	ex.record(resp.StatusCode, resp.Header.Clone(), body, nil)
	ex.setMethod(req.Method)
	info.StatusCode = resp.StatusCode
	info.RateLimit = parseRateLimit(resp.Header, time.Now())
	info.Wait = httpwait.Wait(resp.StatusCode, resp.Header, time.Now())
	t.notify(info)
	return resp, nil
}

func (t *recorder) notify(info ResponseInfo) {
	if t.observe != nil {
		t.observe(info)
	}
}

// keepPrefix reads up to maxErrorBody bytes and returns them with a body that
// still yields the whole stream.
func keepPrefix(body io.ReadCloser) ([]byte, io.ReadCloser) {
	b, _ := io.ReadAll(io.LimitReader(body, maxErrorBody))
	return b, struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), body), body}
}

// connectionLost replaces io.EOF transport errors: the SDK retries those at once
// and without bound, and retries belong to the caller.
type connectionLost struct{ msg string }

func (e *connectionLost) Error() string { return "connection closed without a response: " + e.msg }

func detachEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return &connectionLost{msg: err.Error()}
	}
	return err
}

// scrubbed is a transport error whose text had the client assertion removed; it
// still answers errors.Is for a cancellation or a timeout.
type scrubbed struct {
	msg              string
	canceled, expiry bool
}

func scrubbedError(err error) error {
	return &scrubbed{msg: scrubAssertion(err.Error()), canceled: errors.Is(err, context.Canceled),
		expiry: errors.Is(err, context.DeadlineExceeded)}
}

func (s *scrubbed) Error() string { return s.msg }

func (s *scrubbed) Is(target error) bool {
	return (target == context.Canceled && s.canceled) || (target == context.DeadlineExceeded && s.expiry)
}
