// Package sandboxtest starts a sandbox for a test: free loopback ports, default
// fixture, stopped when the test ends, and an HTTP client that checks every exchange
// against the official OpenAPI specs.
package sandboxtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/internal/contract"
	"github.com/dcrflow/dcrflow/sandbox"
)

// Env is a running sandbox and the clients to reach it.
type Env struct {
	Sandbox    *sandbox.Sandbox
	OktaURL    string
	KonnectURL string
	// HTTPClient validates every request and response against the specs.
	HTTPClient *http.Client
	// Control reaches the control API over HTTP, as another process would.
	Control sandbox.Control
}

// Option adjusts the fixture before the sandbox starts.
type Option func(*sandbox.Fixture)

// WithFixture lets a test change the default fixture.
func WithFixture(f func(*sandbox.Fixture)) Option { return Option(f) }

// Start runs a sandbox until the test ends.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	fx := sandbox.DefaultFixture()
	for _, o := range opts {
		o(&fx)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: contract.Transport(t, http.DefaultTransport.(*http.Transport).Clone())}
	sb, err := sandbox.Start(sandbox.Options{Fixture: fx, OutboundClient: hc})
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("stop sandbox: %v", err)
		}
	})
	return &Env{
		Sandbox:    sb,
		OktaURL:    sb.OktaURL(),
		KonnectURL: sb.KonnectURL(),
		HTTPClient: hc,
		Control:    sandbox.Control{BaseURL: sb.KonnectURL()},
	}
}
