// Package konnect is a small typed client for the Kong Konnect endpoints dcrflow
// uses: DCR providers and application auth strategies (v2), portals, their
// applications, APIs and API publications (v3). It is shaped like go-github: a
// Client with one service per resource, problem+json answers decoded into *Error,
// page-number lists followed to the end. It never retries: retries belong to the
// caller (Temporal).
package konnect

import (
	"github.com/dcrflow/dcrflow/internal/httpwait"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DefaultTimeout bounds each call when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Regions are the Konnect regions with a regional API (https://{region}.api.konghq.com).
var Regions = []string{"us", "eu", "au", "me", "in", "sg"}

// maxAnswer caps a successful answer's body; lists of 100 items are far below it.
const maxAnswer = 16 << 20

// Config configures a Client.
type Config struct {
	// Region selects https://{region}.api.konghq.com; one of Regions.
	Region string
	// BaseURL is an explicit base (scheme://host[/prefix]); it overrides Region.
	// http is allowed only for loopback hosts.
	BaseURL string
	// Token is a personal (kpat_) or system account (spat_) access token.
	Token string
	// HTTPClient sends the requests. Optional: a plain http.Client.
	HTTPClient *http.Client
	// Timeout bounds each call. Optional: DefaultTimeout.
	Timeout time.Duration
	// Observer is called after each exchange (for metrics). Optional.
	Observer func(ResponseInfo)
}

// ResponseInfo describes one exchange for Config.Observer. StatusCode is 0 and Err
// is set when no answer arrived.
type ResponseInfo struct {
	Method     string
	Op         string // the spec's operationId, e.g. "create-dcr-provider"
	StatusCode int
	Header     http.Header
	Wait       time.Duration // what the answer asked for: Retry-After, or a 429's RateLimit-Reset
	Duration   time.Duration
	Err        error
}

// Client talks to one Konnect region. It is safe for concurrent use.
type Client struct {
	DCRProviders   *DCRProvidersService
	AuthStrategies *AuthStrategiesService
	Portals        *PortalsService
	APIs           *APIsService
	Publications   *PublicationsService
	Applications   *ApplicationsService

	base     string
	token    string
	hc       *http.Client
	timeout  time.Duration
	observer func(ResponseInfo)
}

type service struct{ client *Client }

// New validates cfg and returns a Client. It makes no network call.
func New(cfg Config) (*Client, error) {
	base, err := baseURL(cfg.Region, cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if err := checkToken(cfg.Token); err != nil {
		return nil, err
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("konnect: timeout must not be negative")
	}
	c := &Client{base: base, token: cfg.Token, hc: cfg.HTTPClient, timeout: cfg.Timeout, observer: cfg.Observer}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	c.DCRProviders = &DCRProvidersService{client: c}
	c.AuthStrategies = &AuthStrategiesService{client: c}
	c.Portals = &PortalsService{client: c}
	c.APIs = &APIsService{client: c}
	c.Publications = &PublicationsService{client: c}
	c.Applications = &ApplicationsService{client: c}
	return c, nil
}

// BaseURL is the base every path is appended to.
func (c *Client) BaseURL() string { return c.base }

func baseURL(region, explicit string) (string, error) {
	if explicit = strings.TrimSpace(explicit); explicit != "" {
		u, err := url.Parse(explicit)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return "", fmt.Errorf("konnect: base URL %q must be an absolute http(s) URL", explicit)
		}
		if u.Scheme == "http" && !loopback(u.Hostname()) {
			return "", fmt.Errorf("konnect: base URL %q: plain http is allowed only for loopback hosts", explicit)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return "", fmt.Errorf("konnect: base URL %q must not carry user info, a query or a fragment", explicit)
		}
		return strings.TrimRight(u.String(), "/"), nil
	}
	region = strings.ToLower(strings.TrimSpace(region))
	if region == "" {
		return "", fmt.Errorf("konnect: set Region (one of %s) or BaseURL", strings.Join(Regions, ", "))
	}
	if !slices.Contains(Regions, region) {
		return "", fmt.Errorf("konnect: unknown region %q (valid: %s)", region, strings.Join(Regions, ", "))
	}
	return "https://" + region + ".api.konghq.com", nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkToken checks the token's form; its value never appears in the error.
func checkToken(token string) error {
	if token == "" {
		return errors.New("konnect: token is required")
	}
	if !strings.HasPrefix(token, "kpat_") && !strings.HasPrefix(token, "spat_") {
		return errors.New("konnect: token must be a personal (kpat_) or system account (spat_) access token")
	}
	if len(token) == len("kpat_") || strings.ContainsAny(token, " \t\r\n") {
		return errors.New("konnect: token is malformed")
	}
	return nil
}

// call is one request: op names it, secrets are redacted from any error it returns.
type call struct {
	op      string
	method  string
	path    string // already escaped
	query   url.Values
	in      any // JSON body, nil for none
	out     any // decoded from a 2xx body, nil to discard it
	secrets []string
	// emptyOK: a 2xx without a body is success, out left as the caller filled it
	// (some Konnect versions answer the publication PUT so). Otherwise an empty
	// body where out wants one is ErrEmptyBody.
	emptyOK bool
}

// ErrEmptyBody is a 2xx answer without the body dcrflow needs from it (an id, a
// verdict). The *Error wrapping it carries the status; it is not retried.
var ErrEmptyBody = errors.New("the answer has no body, but dcrflow needs what it should say")

// do sends c and maps every failure to *Error.
func (c *Client) do(ctx context.Context, r call) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	target := c.base + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.in != nil {
		raw, err := json.Marshal(r.in)
		if err != nil {
			return &Error{Op: r.op, Err: fmt.Errorf("encode request: %v: %w", err, ErrInvalidArgument)}
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return &Error{Op: r.op, Err: fmt.Errorf("%v: %w", err, ErrInvalidArgument)}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("User-Agent", "dcrflow-konnect")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	secrets := append([]string{c.token}, r.secrets...)

	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.observe(ResponseInfo{Method: r.method, Op: r.op, Duration: time.Since(start), Err: err})
		return &Error{Op: r.op, Err: redactErr(err, secrets)}
	}
	defer resp.Body.Close()
	c.observe(ResponseInfo{Method: r.method, Op: r.op, StatusCode: resp.StatusCode, Header: resp.Header,
		Wait: httpwait.Wait(resp.StatusCode, resp.Header, time.Now()), Duration: time.Since(start)})

	if err := CheckResponse(resp); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Op = r.op
			e.redact(secrets)
		}
		return err
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil { // the connection broke mid-answer: as transient as no answer
		return &Error{Op: r.op, Err: redactErr(err, secrets)}
	}
	if r.out == nil || (resp.StatusCode == http.StatusNoContent && r.emptyOK) {
		return nil
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		if r.emptyOK {
			return nil
		}
		return &Error{Op: r.op, StatusCode: resp.StatusCode, Err: ErrEmptyBody}
	}
	if err := json.Unmarshal(raw, r.out); err != nil {
		return &Error{Op: r.op, StatusCode: resp.StatusCode, Err: fmt.Errorf("decode answer: %v: %w", err, ErrBadAnswer)}
	}
	return nil
}

func (c *Client) observe(info ResponseInfo) {
	if c.observer != nil {
		c.observer(info)
	}
}

// escape is one path segment.
func escape(s string) string { return url.PathEscape(s) }

// requireID refuses an empty id before it turns into a different path.
func requireID(op, what, v string) error {
	if strings.TrimSpace(v) == "" {
		return &Error{Op: op, Err: fmt.Errorf("%s is empty: %w", what, ErrInvalidArgument)}
	}
	return nil
}
