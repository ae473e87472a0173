package okta

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// signingKey is one server's RS256 key; kid is its RFC 7638 thumbprint.
type signingKey struct {
	kid    string
	signer jose.Signer
	public jose.JSONWebKey
}

// newSigningKeys makes one 2048-bit key per server, in parallel (each takes a
// noticeable moment).
func newSigningKeys(serverIDs []string) (map[string]*signingKey, error) {
	keys := make(map[string]*signingKey, len(serverIDs))
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
	)
	for _, id := range serverIDs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := newSigningKey()
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("signing key for %s: %w", id, err)
			}
			keys[id] = k
		}()
	}
	wg.Wait()
	return keys, firstErr
}

func newSigningKey() (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	pub := jose.JSONWebKey{Key: &priv.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256,
		Key: jose.JSONWebKey{Key: priv, KeyID: pub.KeyID}}, nil)
	if err != nil {
		return nil, err
	}
	return &signingKey{kid: pub.KeyID, signer: signer, public: pub}, nil
}

// sign serializes claims as a compact JWS.
func (k *signingKey) sign(claims map[string]any) (string, error) {
	return jwt.Signed(k.signer).Claims(claims).CompactSerialize()
}

// keysHandler serves GET /oauth2/{as}/v1/keys: the public keys only.
func (e *Emulator) keysHandler(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("as")
	e.mu.Lock()
	s := e.org.server(id)
	e.mu.Unlock()
	k := e.keys[id]
	if s == nil || k == nil {
		notFound(id, "AuthorizationServer").write(w)
		return
	}
	w.Header().Set("Cache-Control", "max-age=3832304, must-revalidate")
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.public}})
}
