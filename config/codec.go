package config

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/dcrflow/dcrflow/codec"
	"github.com/dcrflow/dcrflow/internal/textsafe"
)

// codecKeyEnv prefixes one payload key: DCRFLOW_CODEC_KEY_<ID>=base64 (or _FILE).
const codecKeyEnv = EnvPrefix + "_CODEC_KEY_"

// Codec are the payload encryption keys, shared by worker and starter:
//
//	codec: {key_id: k2, keys: {k1: <base64 32 bytes>, k2: <base64 32 bytes>}}
//
// key_id names the key new payloads are encrypted with; every listed key decrypts.
// Without keys, payloads are not encrypted.
type Codec struct {
	KeyID string            `mapstructure:"key_id"`
	Keys  map[string]string `mapstructure:"keys"` // key id → base64 AES-256 key

	codec *codec.Codec
}

// PayloadCodec is the codec these keys make, nil when no keys are configured.
func (c Codec) PayloadCodec() *codec.Codec { return c.codec }

// load merges DCRFLOW_CODEC_KEY_<ID>[_FILE] into the file's keys and builds the codec.
func (c *Codec) load(src string) []error {
	if c.Keys == nil {
		c.Keys = map[string]string{}
	}
	env, errs := envSecrets(codecKeyEnv, "ID", "ID_FILE")
	if len(errs) > 0 {
		return errs
	}
	for id, v := range env {
		c.Keys[id] = v
	}
	c.KeyID = strings.ToLower(strings.TrimSpace(c.KeyID))
	if len(c.Keys) == 0 {
		if c.KeyID != "" {
			errs = append(errs, fmt.Errorf("config %s: codec.key_id is %s but no key is configured; add codec.keys.%s or %s%s", src, show(c.KeyID), textsafe.Clip(c.KeyID), codecKeyEnv, envID(textsafe.Clip(c.KeyID))))
		}
		return errs
	}
	ids := make([]string, 0, len(c.Keys))
	for id := range c.Keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	keys := map[string][]byte{}
	for _, id := range ids {
		if err := codec.CheckKeyID(id); err != nil {
			errs = append(errs, fmt.Errorf("config %s: codec.keys: %v", src, oneLine(strings.TrimPrefix(err.Error(), "codec: "))))
			continue
		}
		key, err := codec.ParseKey(c.Keys[id])
		if err != nil {
			errs = append(errs, fmt.Errorf("config %s: codec.keys.%s (%s%s) %v", src, textsafe.Clip(id), codecKeyEnv, envID(textsafe.Clip(id)), err))
			continue
		}
		keys[id] = key
	}
	shown := make([]string, len(ids))
	for i, id := range ids {
		shown[i] = textsafe.Clip(id)
	}
	shownIDs := strings.Join(shown, ", ")
	switch {
	case c.KeyID == "":
		errs = append(errs, fmt.Errorf("config %s: codec.key_id (%s_CODEC_KEY_ID) is not set; name the key new payloads are encrypted with (one of %s)", src, EnvPrefix, shownIDs))
	case !slices.Contains(ids, c.KeyID):
		errs = append(errs, fmt.Errorf("config %s: codec.key_id (%s_CODEC_KEY_ID) %s is not among codec.keys (%s); add it or %s%s", src, EnvPrefix, show(c.KeyID), shownIDs, codecKeyEnv, envID(textsafe.Clip(c.KeyID))))
	}
	if len(errs) > 0 {
		return errs
	}
	cc, err := codec.New(c.KeyID, keys)
	if err != nil {
		return []error{fmt.Errorf("config %s: codec: %v", src, err)}
	}
	c.codec = cc
	return nil
}

// CodecServer is the worker's view of codec: the keys, and the optional HTTP codec
// endpoint the Temporal UI and CLI decode payloads through.
type CodecServer struct {
	Codec `mapstructure:",squash"`
	// Listen is the endpoint's address (host:port); empty: no endpoint.
	Listen string `mapstructure:"listen"`
	// AuthToken, when set, must come as "Authorization: Bearer <token>".
	AuthToken string `mapstructure:"auth_token"`
	// CORSOrigin is the UI origin (or a comma-separated list) browsers may call from.
	CORSOrigin string `mapstructure:"cors_origin"`
}

func (c *CodecServer) load(src string) []error {
	errs := c.Codec.load(src)
	if err := fromFile(EnvPrefix+"_CODEC_AUTH_TOKEN_FILE", &c.AuthToken); err != nil {
		errs = append(errs, err)
	}
	if c.CORSOrigin == "" {
		c.CORSOrigin = codec.DefaultUIOrigin
	}
	if c.Listen != "" {
		if err := c.Check(); err != nil {
			errs = append(errs, fmt.Errorf("config %s: %v", src, err))
		}
	}
	return errs
}

// Check says whether the endpoint can be served: a host:port, and the keys it needs.
func (c CodecServer) Check() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("codec.listen (-codec-addr, %s_CODEC_LISTEN) %s: want host:port (e.g. 127.0.0.1:8081)", EnvPrefix, show(c.Listen))
	}
	if c.codec == nil {
		return fmt.Errorf("codec.listen (-codec-addr, %s_CODEC_LISTEN) serves the codec endpoint, which needs the payload keys: set codec.key_id and codec.keys (or %s_CODEC_KEY_ID and %s<ID>)", EnvPrefix, EnvPrefix, codecKeyEnv)
	}
	return nil
}

// OpenToAll says the endpoint listens beyond loopback with no token: whoever reaches
// it can decrypt every payload.
func (c CodecServer) OpenToAll() bool {
	if c.Listen == "" || c.AuthToken != "" {
		return false
	}
	host, _, _ := net.SplitHostPort(c.Listen)
	return !isLoopback(host)
}

func envID(id string) string { return strings.ToUpper(strings.ReplaceAll(id, "-", "_")) }
