package okta

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// Seeded names of the default sandbox org.
const (
	mgmtToken = sbokta.DefaultManagementToken
	dcrToken  = sbokta.DefaultDCRToken
)

// harness is a sandbox and a client on env.HTTPClient, so every exchange is also
// checked against the official specs.
type harness struct {
	t     *testing.T
	env   *sandboxtest.Env
	c     *Client
	mu    sync.Mutex
	infos []ResponseInfo
}

func start(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, env: sandboxtest.Start(t)}
	h.c = h.client(mgmtToken, h.env.HTTPClient)
	return h
}

// client builds another client on the sandbox.
func (h *harness) client(token string, hc *http.Client) *Client {
	h.t.Helper()
	c, err := New(Config{OrgURL: h.env.OktaURL, Token: token, HTTPClient: hc, RequestTimeout: 10 * time.Second,
		Observer: func(info ResponseInfo) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.infos = append(h.infos, info)
		}})
	if err != nil {
		h.t.Fatalf("New: %v", err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// mark returns the request log position, to count the calls that follow.
func (h *harness) mark() int {
	reqs := h.env.Sandbox.Requests(0)
	if len(reqs) == 0 {
		return 0
	}
	return reqs[len(reqs)-1].Seq
}

// hits counts the Okta calls received after since whose path starts with prefix.
func (h *harness) hits(since int, method, prefix string) int {
	n := 0
	for _, r := range h.env.Sandbox.Requests(since) {
		if r.System == "okta" && r.Method == method && strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

func (h *harness) fault(f faults.Fault) {
	h.t.Helper()
	if _, err := h.env.Sandbox.Faults.Add(f); err != nil {
		h.t.Fatal(err)
	}
}

// observed returns the exchanges the observer saw for op.
func (h *harness) observed(op string) []ResponseInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []ResponseInfo
	for _, i := range h.infos {
		if i.Op == op {
			out = append(out, i)
		}
	}
	return out
}

// asErr asserts err is an *Error and returns it.
func asErr(t *testing.T, err error) *Error {
	t.Helper()
	e, ok := asError(err)
	if !ok {
		t.Fatalf("want *Error, got %T: %v", err, err)
	}
	return e
}

// noSecrets asserts that no rendering of err contains a secret.
func noSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("error text contains a secret: %s", text)
			}
		}
	}
}

func boolPtr(b bool) *bool { return &b }
