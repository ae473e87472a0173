package config

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/dcrflow/dcrflow/clients/okta"
)

// The Okta management client's authorization (okta.auth_mode):
//
//	ssws        okta.token: an SSWS API token (every right of the admin who made it)
//	private_key OAuth 2.0 for Okta: an API service app (okta.client_id), its key
//	            (okta.key_id, okta.private_key_file or the secret okta.private_key)
//	            and the Okta API scopes requested (okta.scopes, default
//	            okta.authorizationServers.read okta.authorizationServers.manage)
//
// Environment: DCRFLOW_OKTA_AUTH_MODE, DCRFLOW_OKTA_CLIENT_ID, DCRFLOW_OKTA_KEY_ID,
// DCRFLOW_OKTA_PRIVATE_KEY_FILE, DCRFLOW_OKTA_PRIVATE_KEY, DCRFLOW_OKTA_SCOPES
// (space- or comma-separated). DCR tokens stay SSWS API tokens in both modes.
var oktaAuthKeys = []string{"okta.auth_mode", "okta.client_id", "okta.key_id", "okta.private_key_file",
	"okta.private_key", "okta.scopes"}

// maxKeyFile bounds the private key file read: a PEM key is a few KiB.
const maxKeyFile = 64 << 10

// authMode is the configured mode, ssws when unset.
func (o Okta) authMode() string {
	m := strings.ToLower(strings.TrimSpace(o.AuthMode))
	if m == "" {
		return okta.AuthSSWS
	}
	return m
}

// loadAuth normalises the OAuth settings and reads the key file; it never puts
// the key's content in an error.
func (o *Okta) loadAuth(src string) []error {
	var errs []error
	var scopes []string
	for _, s := range o.Scopes {
		scopes = append(scopes, strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })...)
	}
	o.Scopes = scopes
	if o.authMode() != okta.AuthPrivateKey {
		return nil
	}
	if o.PrivateKeyFile != "" {
		f, err := os.Open(o.PrivateKeyFile)
		if err != nil {
			return []error{fmt.Errorf("config %s: okta.private_key_file (%s_OKTA_PRIVATE_KEY_FILE): %s", src, EnvPrefix, oneLine(err.Error()))}
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
		if err != nil {
			return []error{fmt.Errorf("config %s: okta.private_key_file %s: %s", src, o.PrivateKeyFile, oneLine(err.Error()))}
		}
		n := len(b)
		if n > maxKeyFile {
			return []error{fmt.Errorf("config %s: okta.private_key_file %s is larger than %d bytes: not a PEM private key", src, o.PrivateKeyFile, maxKeyFile)}
		}
		o.PrivateKey = string(b[:n])
	}
	return errs
}

// checkOAuth says what private_key mode lacks.
func (o Okta) checkOAuth(src string) []error {
	var errs []error
	switch o.authMode() {
	case okta.AuthSSWS:
		return nil
	case okta.AuthPrivateKey:
	default:
		return []error{fmt.Errorf("config %s: okta.auth_mode (%s_OKTA_AUTH_MODE) %q: want %s or %s", src, EnvPrefix, o.AuthMode, okta.AuthSSWS, okta.AuthPrivateKey)}
	}
	if o.ClientID == "" {
		errs = append(errs, fmt.Errorf("config %s: okta.client_id (%s_OKTA_CLIENT_ID) is required with okta.auth_mode %s: the API service app's client id", src, EnvPrefix, okta.AuthPrivateKey))
	}
	if strings.TrimSpace(o.PrivateKey) == "" {
		errs = append(errs, fmt.Errorf("config %s: okta.private_key_file (%s_OKTA_PRIVATE_KEY_FILE) or the secret %s_OKTA_PRIVATE_KEY is required with okta.auth_mode %s", src, EnvPrefix, EnvPrefix, okta.AuthPrivateKey))
	}
	if o.Token != "" {
		errs = append(errs, fmt.Errorf("config %s: okta.token is set but okta.auth_mode is %s: remove the SSWS token so that it cannot be used by mistake", src, okta.AuthPrivateKey))
	}
	for _, s := range o.Scopes {
		if !strings.HasPrefix(s, "okta.") {
			errs = append(errs, fmt.Errorf("config %s: okta.scopes: %q is not an Okta API scope (okta.*)", src, s))
		}
	}
	return errs
}

// ClientConfig is the Okta client's authorization from these settings; the caller
// adds the HTTP client and observer.
func (o Okta) ClientConfig() okta.Config {
	c := okta.Config{OrgURL: o.OrgURL, AuthMode: o.authMode()}
	if c.AuthMode == okta.AuthPrivateKey {
		c.OAuth = okta.OAuthConfig{ClientID: o.ClientID, KeyID: o.KeyID, PrivateKey: []byte(o.PrivateKey), Scopes: slices.Clone(o.Scopes)}
	} else {
		c.Token = o.Token
	}
	return c
}
