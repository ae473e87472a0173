// Package okta is dcrflow's client for the Okta side of Dynamic Client
// Registration: custom authorization servers, their scopes, claims and access
// policies (through okta-sdk-golang v2, with its cache and retries off and every
// setting explicit so that no environment variable or okta.yaml can change it),
// the DCR endpoint, and the OAuth token, metadata and JWKS endpoints.
//
// The client never retries: every failure is an *Error whose Temporary method and
// RetryAfter field tell the caller (Temporal) whether and when to try again.
package okta

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// DefaultRequestTimeout bounds one operation, all pages included.
const DefaultRequestTimeout = 30 * time.Second

// Config configures a Client.
type Config struct {
	// OrgURL is the org, e.g. https://acme.okta.com. https is required except for
	// loopback hosts (127.0.0.0/8, ::1, localhost).
	OrgURL string
	// Token is the SSWS API token for the management API.
	Token string
	// RequestTimeout bounds each operation. Optional; default 30s.
	RequestTimeout time.Duration
	// HTTPClient carries every request, token and metadata calls included.
	// Optional; it is not modified.
	HTTPClient *http.Client
	// Observer is called after every HTTP exchange. Optional.
	Observer func(ResponseInfo)
}

// Client talks to one Okta org. It is safe for concurrent use.
type Client struct {
	orgURL    string
	plainHTTP bool // http on a loopback host: the SDK's https check is lifted
	token     string
	timeout   time.Duration
	http      *http.Client
	sdk       *oktasdk.Client

	mu  sync.Mutex
	dcr map[string]*oktasdk.Client // by SHA-256 of the DCR token
}

// New checks cfg and builds the client; it makes no request.
func New(cfg Config) (*Client, error) {
	u, err := checkURL("OrgURL", cfg.OrgURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, fmt.Errorf("okta: Config.Token is required")
	}
	c := &Client{orgURL: u.String(), plainHTTP: u.Scheme == "http", token: cfg.Token,
		timeout: cfg.RequestTimeout, dcr: map[string]*oktasdk.Client{}}
	if c.timeout <= 0 {
		c.timeout = DefaultRequestTimeout
	}
	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{}
	}
	hc := *base
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc.Transport = &recorder{base: rt, observe: cfg.Observer}
	c.http = &hc
	if c.sdk, err = c.newSDK(cfg.Token); err != nil {
		return nil, err
	}
	return c, nil
}

// newSDK builds an SDK client for token with every option set, so that defaults,
// ~/.okta/okta.yaml and OKTA_* variables (read first by the SDK) lose.
func (c *Client) newSDK(token string) (*oktasdk.Client, error) {
	secs := int64(math.Ceil(c.timeout.Seconds()))
	_, sdk, err := oktasdk.NewClient(context.Background(),
		oktasdk.WithOrgUrl(c.orgURL),
		oktasdk.WithToken(token),
		oktasdk.WithAuthorizationMode("SSWS"),
		oktasdk.WithCache(false),
		oktasdk.WithRateLimitMaxRetries(0),
		oktasdk.WithRateLimitMaxBackOff(1),
		oktasdk.WithRequestTimeout(secs),
		oktasdk.WithConnectionTimeout(secs),
		oktasdk.WithHttpClientPtr(c.http),
		oktasdk.WithTestingDisableHttpsCheck(c.plainHTTP),
		oktasdk.WithUserAgentExtra("dcrflow"),
	)
	if err != nil {
		return nil, fmt.Errorf("okta: configure SDK: %w", err)
	}
	return sdk, nil
}

// dcrSDK returns the SDK client for a DCR token, building it once.
func (c *Client) dcrSDK(token string) (*oktasdk.Client, error) {
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if sdk, ok := c.dcr[key]; ok {
		return sdk, nil
	}
	sdk, err := c.newSDK(token)
	if err != nil {
		return nil, err
	}
	c.dcr[key] = sdk
	return sdk, nil
}

// start opens an operation: its timeout and the exchange the transport fills.
func (c *Client) start(ctx context.Context, op string) (context.Context, context.CancelFunc, *exchange) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	ctx, ex := withExchange(ctx, op)
	return ctx, cancel, ex
}

// checkURL accepts https URLs, and http only on loopback hosts.
func checkURL(field, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(raw), "/"))
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("okta: %s %q: want https://host[/path]", field, raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, fmt.Errorf("okta: %s %q: https is required (plain http only for loopback hosts)", field, raw)
	default:
		return nil, fmt.Errorf("okta: %s %q: want an https URL", field, raw)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
