package okta

import (
	"github.com/dcrflow/dcrflow/internal/httpwait"

	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v3"
)

// Authorization modes of the management client (Config.AuthMode).
const (
	// AuthSSWS sends the SSWS API token of Config.Token. The token carries every
	// right of the admin who made it.
	AuthSSWS = "ssws"
	// AuthPrivateKey is OAuth 2.0 for Okta: an API service app authenticates with
	// private_key_jwt at the org authorization server ({org}/oauth2/v1/token) and
	// gets access tokens limited to Config.OAuth.Scopes. Okta's recommendation for
	// services; the SDK's "PrivateKey" mode does the token calls and caches the
	// token until two seconds before it expires.
	AuthPrivateKey = "private_key"
)

// Okta API scopes (OAuth 2.0 for Okta) dcrflow's management calls need.
const (
	// ScopeAuthServersRead covers every read: servers, scopes, claims, policies, rules.
	ScopeAuthServersRead = "okta.authorizationServers.read"
	// ScopeAuthServersManage covers the writes: scopes, claims, policies and rules
	// created and deleted (steps 2–4 and their undo, offboarding).
	ScopeAuthServersManage = "okta.authorizationServers.manage"
)

// DefaultOAuthScopes are what a worker needs: read for step 1, plan and doctor;
// manage for steps 2–4. A read-only tool (doctor, plan) needs only the first.
var DefaultOAuthScopes = []string{ScopeAuthServersRead, ScopeAuthServersManage}

// OAuthConfig is the service app of AuthPrivateKey mode.
type OAuthConfig struct {
	// ClientID is the API service app's client id.
	ClientID string
	// KeyID is the kid of the app's public key in Okta. Optional when the app has
	// one key; Okta needs it to pick among several.
	KeyID string
	// PrivateKey is the PEM private key: PKCS#1 ("RSA PRIVATE KEY") or PKCS#8
	// ("PRIVATE KEY", RSA or EC P-256/384/521, what the Admin Console generates).
	PrivateKey []byte
	// Scopes requested for every access token. Optional; default DefaultOAuthScopes.
	Scopes []string
}

// assertionTTL is how long a client assertion is valid. The SDK signs for an hour,
// the most Okta accepts; a few minutes is plenty for a token call made at once.
const assertionTTL = 5 * time.Minute

// newAssertionSigner parses the PEM key and returns a signer that also gives every
// assertion a fresh jti (Okta refuses a jti it has seen: a captured assertion
// cannot be replayed) and a short expiry. The SDK's own assertion has neither.
func newAssertionSigner(pemKey []byte, keyID string) (jose.Signer, error) {
	block, _ := pem.Decode(pemKey)
	if block == nil {
		return nil, errors.New("the private key is not PEM")
	}
	var key crypto.Signer
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("the RSA private key does not parse (PKCS#1)")
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("the private key does not parse (PKCS#8)")
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, errors.New("the private key is neither RSA nor EC")
		}
		key = s
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("the EC private key does not parse")
		}
		key = k
	default:
		return nil, fmt.Errorf("a PEM block of type %q is not a private key", block.Type)
	}
	alg := jose.RS256
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, errors.New("the RSA key is shorter than 2048 bits (Okta refuses it)")
		}
	case *ecdsa.PrivateKey:
		switch k.Curve.Params().BitSize {
		case 256:
			alg = jose.ES256
		case 384:
			alg = jose.ES384
		case 521:
			alg = jose.ES512
		}
	default:
		return nil, errors.New("the private key is neither RSA nor EC")
	}
	opts := &jose.SignerOptions{}
	opts = opts.WithType("JWT")
	if keyID != "" {
		opts = opts.WithHeader("kid", keyID)
	}
	inner, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return nil, fmt.Errorf("the private key cannot sign: %v", err)
	}
	return &assertionSigner{inner: inner, now: time.Now}, nil
}

// assertionSigner rewrites the SDK's assertion claims before signing them.
type assertionSigner struct {
	inner jose.Signer
	now   func() time.Time
}

func (s *assertionSigner) Sign(payload []byte) (*jose.JSONWebSignature, error) {
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, err
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return nil, err
	}
	now := s.now()
	claims["jti"] = hex.EncodeToString(jti[:])
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(assertionTTL).Unix()
	b, err := json.Marshal(claims)
	if err != nil {
		return nil, err
	}
	return s.inner.Sign(b)
}

func (s *assertionSigner) Options() jose.SignerOptions { return s.inner.Options() }

// CodeInsufficientScope is the OAuth error of a management call whose access token
// lacks the scope the endpoint needs (403, WWW-Authenticate: Bearer error=...).
const CodeInsufficientScope = "insufficient_scope"

// IsInsufficientScope reports a call refused for a missing OAuth scope; the
// Error's MissingScope names it.
func IsInsufficientScope(err error) bool {
	e, ok := asError(err)
	return ok && e.Code == CodeInsufficientScope
}

// wwwAuthParam reads one parameter of a WWW-Authenticate: Bearer challenge.
func wwwAuthParam(h, name string) string {
	m := regexp.MustCompile(`(?:^|[ ,])` + regexp.QuoteMeta(name) + `="([^"]*)"`).FindStringSubmatch(h)
	if m == nil {
		return ""
	}
	return m[1]
}

// scopeNeeded is the scope the management endpoint called with method needs: the
// spec's security requirement (read for GET, manage for the rest; a manage token
// reads too). Used when Okta's challenge does not name the scope.
func scopeNeeded(method string) string {
	if method == http.MethodGet || method == "" {
		return ScopeAuthServersRead
	}
	return ScopeAuthServersManage
}

// insufficientScope fills e from a 401/403 whose challenge says
// error="insufficient_scope": the message names the scope and how to grant it.
func insufficientScope(e *Error, header http.Header, method string) bool {
	if e.StatusCode != http.StatusForbidden && e.StatusCode != http.StatusUnauthorized {
		return false
	}
	ch := header.Get("WWW-Authenticate")
	if wwwAuthParam(ch, "error") != CodeInsufficientScope {
		return false
	}
	need := wwwAuthParam(ch, "scope")
	if need == "" {
		need = scopeNeeded(method)
	}
	e.Code, e.MissingScope = CodeInsufficientScope, need
	e.Summary = fmt.Sprintf("the OAuth access token lacks the scope %s; grant it to the service app "+
		"(Admin Console: Applications > the app > Okta API Scopes) and list it in okta.scopes", need)
	e.Causes = nil
	return true
}

// tokenFailure fills e from the failed access-token request the SDK made before
// the call itself (OAuth mode): its status and OAuth error, with what to check.
func tokenFailure(e *Error, status int, header http.Header, body []byte, scopes []string) {
	e.TokenRequest = true
	e.StatusCode = status
	var oe struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Code        string `json:"errorCode"`
		Summary     string `json:"errorSummary"`
	}
	_ = json.Unmarshal(body, &oe)
	e.Code, e.Summary = oe.Error, oe.Description
	if e.Code == "" {
		e.Code, e.Summary = oe.Code, oe.Summary
	}
	e.Causes = nil
	hint := ""
	switch e.Code {
	case CodeInvalidScope:
		hint = "requested scopes " + strings.Join(scopes, " ") + ": each must be granted to the service app (Okta API Scopes)"
	case CodeInvalidClient:
		hint = "check okta.client_id, okta.key_id and that the app's public key matches okta.private_key_file"
	}
	if hint != "" {
		e.Causes = []string{hint}
	}
	if status == http.StatusTooManyRequests {
		e.RetryAfter = httpwait.Wait(status, header, time.Now())
	}
}

// assertionInURL matches the client assertion the SDK puts in the token request's
// query: a transport error quotes the URL, and the assertion must not travel on.
var assertionInURL = regexp.MustCompile(`client_assertion=[^&\s"]*`)

func scrubAssertion(s string) string {
	return assertionInURL.ReplaceAllString(s, "client_assertion=[redacted]")
}
