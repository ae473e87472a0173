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
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// DefaultRequestTimeout bounds one operation, all pages included.
const DefaultRequestTimeout = 30 * time.Second

// Config configures a Client.
type Config struct {
	// OrgURL is the org, e.g. https://acme.okta.com. https is required except for
	// loopback hosts (127.0.0.0/8, ::1, localhost).
	OrgURL string
	// AuthMode is AuthSSWS (the default when empty) or AuthPrivateKey.
	AuthMode string
	// Token is the SSWS API token for the management API (AuthSSWS only).
	Token string
	// OAuth is the service app of AuthPrivateKey mode.
	OAuth OAuthConfig
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
	plainHTTP bool   // http on a loopback host: the SDK's https check is lifted
	token     string // SSWS mode only
	timeout   time.Duration
	http      *http.Client
	sdk       *oktasdk.Client
	mode      string
	scopes    []string    // OAuth mode: requested for every access token
	tokenEx   *exchange   // OAuth mode: the SDK's latest access-token request
	signer    jose.Signer // OAuth mode

	mu  sync.Mutex
	dcr map[string]*oktasdk.Client // by SHA-256 of the DCR token
}

// New checks cfg and builds the client; it makes no request.
func New(cfg Config) (*Client, error) {
	u, err := checkURL("OrgURL", cfg.OrgURL)
	if err != nil {
		return nil, err
	}
	c := &Client{orgURL: u.String(), plainHTTP: u.Scheme == "http", timeout: cfg.RequestTimeout,
		dcr: map[string]*oktasdk.Client{}, tokenEx: &exchange{op: "OAuthToken"}}
	switch cfg.AuthMode {
	case "", AuthSSWS:
		if strings.TrimSpace(cfg.Token) == "" {
			return nil, fmt.Errorf("okta: Config.Token is required")
		}
		c.mode, c.token = AuthSSWS, cfg.Token
	case AuthPrivateKey:
		o := cfg.OAuth
		if strings.TrimSpace(o.ClientID) == "" {
			return nil, fmt.Errorf("okta: Config.OAuth.ClientID is required in %s mode", AuthPrivateKey)
		}
		if c.signer, err = newAssertionSigner(o.PrivateKey, o.KeyID); err != nil {
			return nil, fmt.Errorf("okta: Config.OAuth.PrivateKey: %v", err) // never the key itself
		}
		c.mode, c.scopes = AuthPrivateKey, slices.Clone(o.Scopes)
		if len(c.scopes) == 0 {
			c.scopes = slices.Clone(DefaultOAuthScopes)
		}
	default:
		return nil, fmt.Errorf("okta: Config.AuthMode %q: want %q or %q", cfg.AuthMode, AuthSSWS, AuthPrivateKey)
	}
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
	hc.Transport = &recorder{base: rt, observe: cfg.Observer, token: c.tokenEx, timeout: c.timeout}
	c.http = &hc
	if c.mode == AuthPrivateKey {
		c.sdk, err = c.newSDK(oktasdk.WithAuthorizationMode("PrivateKey"),
			oktasdk.WithClientId(cfg.OAuth.ClientID), oktasdk.WithScopes(c.scopes),
			oktasdk.WithPrivateKeySigner(c.signer))
	} else {
		c.sdk, err = c.newSDK(oktasdk.WithToken(cfg.Token), oktasdk.WithAuthorizationMode("SSWS"))
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AuthMode is the management client's mode: AuthSSWS or AuthPrivateKey.
func (c *Client) AuthMode() string { return c.mode }

// OAuthScopes are the scopes requested for access tokens in AuthPrivateKey mode.
func (c *Client) OAuthScopes() []string { return slices.Clone(c.scopes) }

// newSDK builds an SDK client with every option set, so that defaults,
// ~/.okta/okta.yaml and OKTA_* variables (read first by the SDK) lose; auth sets
// the authorization mode and its credentials.
func (c *Client) newSDK(auth ...oktasdk.ConfigSetter) (*oktasdk.Client, error) {
	secs := int64(math.Ceil(c.timeout.Seconds()))
	opts := append([]oktasdk.ConfigSetter{
		oktasdk.WithOrgUrl(c.orgURL),
		// An OKTA_CLIENT_PRIVATEKEY in the environment must not stand in for a
		// missing signer, nor a token for a key: clear what this mode does not use.
		oktasdk.WithToken(""), oktasdk.WithPrivateKey(""), oktasdk.WithClientId(""),
	}, auth...)
	_, sdk, err := oktasdk.NewClient(context.Background(), append(opts,
		oktasdk.WithCache(false),
		oktasdk.WithRateLimitMaxRetries(0),
		oktasdk.WithRateLimitMaxBackOff(1),
		oktasdk.WithRequestTimeout(secs),
		oktasdk.WithConnectionTimeout(secs),
		oktasdk.WithHttpClientPtr(c.http),
		oktasdk.WithTestingDisableHttpsCheck(c.plainHTTP),
		oktasdk.WithUserAgentExtra("dcrflow"),
	)...)
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
	// DCR stays an SSWS API token in every mode: Konnect's provider needs one.
	sdk, err := c.newSDK(oktasdk.WithToken(token), oktasdk.WithAuthorizationMode("SSWS"))
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
	if c.mode == AuthPrivateKey {
		ex.token, ex.tokenScopes = c.tokenEx, c.scopes
	}
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
