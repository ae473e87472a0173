package config

import (
	"fmt"
	"maps"
	"slices"

	"github.com/dcrflow/dcrflow/internal/textsafe"
)

// plainSetting is a setting that names or addresses something, and so must never
// hold a secret: it is echoed in messages, logs and the Temporal UI.
type plainSetting struct {
	key, env, val string
	url           bool // a password in it is checkURL's to refuse
}

func (t Temporal) plain() []plainSetting {
	return []plainSetting{
		{key: "temporal.address", env: "TEMPORAL_ADDRESS", val: t.Address},
		{key: "temporal.namespace", env: "TEMPORAL_NAMESPACE", val: t.Namespace},
		{key: "temporal.task_queue", env: "TEMPORAL_TASK_QUEUE", val: t.TaskQueue},
		{key: "temporal.tls.server_name", env: "TEMPORAL_TLS_SERVER_NAME", val: t.TLS.ServerName},
		{key: "temporal.tls.ca_file", env: "TEMPORAL_TLS_CA_FILE", val: t.TLS.CAFile},
		{key: "temporal.tls.cert_file", env: "TEMPORAL_TLS_CERT_FILE", val: t.TLS.CertFile},
		{key: "temporal.tls.key_file", env: "TEMPORAL_TLS_KEY_FILE", val: t.TLS.KeyFile},
	}
}

func (c Codec) plain() []plainSetting {
	out := []plainSetting{{key: "codec.key_id", env: "CODEC_KEY_ID", val: c.KeyID}}
	for _, id := range slices.Sorted(maps.Keys(c.Keys)) {
		out = append(out, plainSetting{key: "codec.keys (a key id)", val: id})
	}
	return out
}

func (w Worker) plain() []plainSetting {
	out := append(w.Temporal.plain(), w.Codec.plain()...)
	out = append(out,
		plainSetting{key: "okta.org_url", env: "OKTA_ORG_URL", val: w.Okta.OrgURL, url: true},
		plainSetting{key: "konnect.region", env: "KONNECT_REGION", val: w.Konnect.Region},
		plainSetting{key: "konnect.base_url", env: "KONNECT_BASE_URL", val: w.Konnect.BaseURL, url: true},
		plainSetting{key: "codec.listen", env: "CODEC_LISTEN", val: w.Codec.Listen},
		plainSetting{key: "codec.cors_origin", env: "CODEC_CORS_ORIGIN", val: w.Codec.CORSOrigin},
		plainSetting{key: "metrics.listen", env: "METRICS_LISTEN", val: w.Metrics.Listen},
	)
	return out
}

// tokenNames are the DCR tokens' names as given, checked before they are brought to
// their normal form (which would lowercase a token pasted as a name beyond recognition).
func (w Worker) tokenNames(fromEnv map[string]string) []plainSetting {
	var out []plainSetting
	for _, name := range w.DCRTokenNames() {
		out = append(out, plainSetting{key: "dcr_tokens (a token's name)", val: name})
	}
	for _, name := range slices.Sorted(maps.Keys(fromEnv)) {
		out = append(out, plainSetting{key: "dcr_tokens (a token's name)", val: name})
	}
	return out
}

// outOfPlace refuses a secret pasted into a setting that is not one, naming the
// setting and the kind of secret, showing a few characters of it at most.
func outOfPlace(src string, settings ...plainSetting) []error {
	var errs []error
	for _, s := range settings {
		sec, found := textsafe.FindSecret(s.val)
		if !found || s.url && sec.Kind == "a password in a URL" {
			continue
		}
		where := s.key
		if s.env != "" {
			where += " (" + EnvPrefix + "_" + s.env + ")"
		}
		errs = append(errs, fmt.Errorf("config %s: %s holds what looks like %s (%s); a secret belongs only in its own setting (okta.token, konnect.token, dcr_tokens.<name>, temporal.api_key, codec.keys.<id>, codec.auth_token): move it there, and revoke it if others have seen it",
			src, where, sec.Kind, sec.Shown(s.val)))
	}
	return errs
}
