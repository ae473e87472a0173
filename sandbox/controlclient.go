package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/dcrflow/dcrflow/sandbox/faults"
)

// Control drives a sandbox in another process through its control API.
type Control struct {
	BaseURL    string // either listener's base URL
	HTTPClient *http.Client
}

// State decodes /_sandbox/state into v.
func (c Control) State(ctx context.Context, v any) error {
	return c.do(ctx, http.MethodGet, "state", nil, v)
}

// Reset returns the sandbox to its fixture.
func (c Control) Reset(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "reset", nil, nil)
}

// AddFault activates a fault and returns it with its id.
func (c Control) AddFault(ctx context.Context, f faults.Fault) (faults.Fault, error) {
	var out faults.Fault
	err := c.do(ctx, http.MethodPost, "faults", f, &out)
	return out, err
}

// Faults lists the faults with their hit counts.
func (c Control) Faults(ctx context.Context) ([]faults.Fault, error) {
	var out []faults.Fault
	err := c.do(ctx, http.MethodGet, "faults", nil, &out)
	return out, err
}

// ClearFaults removes every fault.
func (c Control) ClearFaults(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "faults", nil, nil)
}

// SetRateLimits replaces the budgets.
func (c Control) SetRateLimits(ctx context.Context, r RateLimits) error {
	return c.do(ctx, http.MethodPut, "ratelimits", r, nil)
}

// Requests lists the calls received after sequence number since.
func (c Control) Requests(ctx context.Context, since int) ([]Request, error) {
	var out []Request
	err := c.do(ctx, http.MethodGet, fmt.Sprintf("requests?since=%d", since), nil, &out)
	return out, err
}

func (c Control) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+ControlPrefix+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox control %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("sandbox control %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(msg))
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
