package konnect

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/sandbox"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// setup starts a sandbox and a client on it whose every exchange is checked
// against the specs (env.HTTPClient).
func setup(t *testing.T, opts ...sandboxtest.Option) (*Client, *sandboxtest.Env) {
	t.Helper()
	env := sandboxtest.Start(t, opts...)
	c, err := New(Config{BaseURL: env.KonnectURL, Token: sbkonnect.DefaultToken, HTTPClient: env.HTTPClient})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, env
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// withKonnect changes the Konnect seed of the default fixture.
func withKonnect(change func(*sbkonnect.Seed)) sandboxtest.Option {
	return sandboxtest.WithFixture(func(f *sandbox.Fixture) { change(&f.Konnect) })
}

// konnectState reads the emulator's state as JSON text.
func konnectState(t *testing.T, env *sandboxtest.Env) string {
	t.Helper()
	raw, err := json.Marshal(env.Sandbox.State())
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// recorder collects what the Observer sees.
type recorder struct {
	mu    sync.Mutex
	calls []ResponseInfo
}

func (r *recorder) observe(i ResponseInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, i)
}

func (r *recorder) ops() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.calls {
		out = append(out, c.Op)
	}
	return strings.Join(out, ",")
}

func mustNotContain(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Fatalf("%s contains a secret: %s", what, text)
		}
	}
}

func asError(err error, target **Error) bool { return errors.As(err, target) }
