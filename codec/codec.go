// Package codec encrypts what dcrflow writes into Temporal: workflow and activity
// inputs and results, signals, queries, heartbeat details, memos and summaries (and,
// through NewFailureConverter, error messages and stack traces). It is a
// converter.PayloadCodec doing AES-256-GCM with a random nonce per payload; the id of
// the key that encrypted a payload travels in the payload's metadata, so keys rotate:
// Encode always uses the current key, Decode whichever configured key the payload names.
//
// The same codec, served over HTTP by Handler, lets the Temporal UI and CLI show the
// decrypted payloads (see README, "Encrypted payloads").
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

const (
	// MetadataEncodingEncrypted is the metadata "encoding" of an encrypted payload.
	MetadataEncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key that encrypted a payload (its id, never the key).
	MetadataKeyID = "encryption-key-id"
	// KeySize is the length of an AES-256 key in bytes.
	KeySize = 32
)

// keyIDPattern is what a key id may look like: it ends up in environment variable
// names (DCRFLOW_CODEC_KEY_<ID>) and in every payload's metadata.
var keyIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// Codec is an AES-256-GCM converter.PayloadCodec with named, rotatable keys.
type Codec struct {
	current string
	aeads   map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec encrypting with the key named current and decrypting with any of
// keys (id → 32-byte key). The error never contains key material.
func New(current string, keys map[string][]byte) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("codec: no keys")
	}
	c := &Codec{current: current, aeads: make(map[string]cipher.AEAD, len(keys))}
	for id, key := range keys {
		if err := CheckKeyID(id); err != nil {
			return nil, err
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("codec: key %q is %d bytes, want %d (AES-256)", id, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %v", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %v", id, err)
		}
		c.aeads[id] = aead
	}
	if _, ok := c.aeads[current]; !ok {
		return nil, fmt.Errorf("codec: the current key id %q is not among the keys (%s)", current, strings.Join(c.KeyIDs(), ", "))
	}
	return c, nil
}

// CheckKeyID accepts lowercase letters, digits and '-', at most 64 characters, not "id".
func CheckKeyID(id string) error {
	if !keyIDPattern.MatchString(id) {
		return fmt.Errorf("codec: key id %q: use lowercase letters, digits and '-' (at most 64)", id)
	}
	if id == "id" {
		return errors.New(`codec: key id "id" is reserved (DCRFLOW_CODEC_KEY_ID names the current key)`)
	}
	return nil
}

// ParseKey decodes a base64 (standard or URL alphabet, padded or not) AES-256 key. The
// error says what is wrong with it without repeating it.
func ParseKey(b64 string) ([]byte, error) {
	s := strings.TrimSpace(b64)
	if s == "" {
		return nil, errors.New("is empty; want 32 random bytes in base64 (openssl rand -base64 32)")
	}
	var key []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, errors.New("is not valid base64; want 32 random bytes in base64 (openssl rand -base64 32)")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("decodes to %d bytes, want %d (AES-256); generate one with: openssl rand -base64 32", len(key), KeySize)
	}
	return key, nil
}

// KeyID is the id of the key Encode uses.
func (c *Codec) KeyID() string { return c.current }

// KeyIDs lists the ids of every key Decode knows, sorted.
func (c *Codec) KeyIDs() []string {
	ids := make([]string, 0, len(c.aeads))
	for id := range c.aeads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Encode encrypts each payload (its data and metadata) with the current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: marshal payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("codec: random nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(MetadataEncodingEncrypted),
				MetadataKeyID:              []byte(c.current),
			},
			// The key id is authenticated too: a payload relabelled with another id fails.
			Data: aead.Seal(nonce, nonce, plain, []byte(c.current)),
		}
	}
	return out, nil
}

// Decode decrypts each encrypted payload with the key it names; payloads that are not
// encrypted (written before encryption was turned on) pass through unchanged.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != MetadataEncodingEncrypted {
			out[i] = p
			continue
		}
		raw, ok := p.GetMetadata()[MetadataKeyID]
		if !ok {
			return nil, fmt.Errorf("codec: encrypted payload without %q metadata", MetadataKeyID)
		}
		id := string(raw)
		aead, ok := c.aeads[id]
		if !ok {
			return nil, fmt.Errorf("codec: payload encrypted with key id %q, which is not configured (configured: %s); add that key to codec.keys or DCRFLOW_CODEC_KEY_%s",
				id, strings.Join(c.KeyIDs(), ", "), envName(id))
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return nil, fmt.Errorf("codec: encrypted payload (key id %q) is truncated", id)
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], raw)
		if err != nil {
			return nil, fmt.Errorf("codec: payload does not decrypt with key id %q: it was altered, or encrypted with another key under that id", id)
		}
		dec := &commonpb.Payload{}
		if err := proto.Unmarshal(plain, dec); err != nil {
			return nil, fmt.Errorf("codec: decrypted payload (key id %q): %w", id, err)
		}
		out[i] = dec
	}
	return out, nil
}

// envName is the environment variable suffix for a key id: k-2 → K_2.
func envName(id string) string {
	return strings.ToUpper(strings.ReplaceAll(id, "-", "_"))
}

// NewDataConverter is Temporal's default data converter with c applied to every payload.
func NewDataConverter(c converter.PayloadCodec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// NewFailureConverter serialises errors through dc with EncodeCommonAttributes, so an
// error's message and stack trace are encrypted in history too (the UI shows
// "Encoded failure" until it is pointed at the codec endpoint). Every client reading
// those failures — worker and starter alike — needs it, or it sees only that text.
func NewFailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
}
