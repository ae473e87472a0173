package konnect

import (
	"sort"
	"strings"
)

// The schema lets configs.openid-connect carry more than its four required fields
// (additionalProperties: true): the rest of the OpenID Connect plugin's
// configuration. Konnect still checks them against the plugin's schema and refuses
// an unknown one with 400, e.g. (Kong/terraform-provider-konnect#193)
// {"field":"configs.openid-connect.labels","reason":"unknown field","rule":"invalid","source":"body"}.
// The sandbox knows the plugin fields below (names and name families of the OIDC
// plugin's schema); anything else is refused the same way.
var oidcPluginFields = map[string]bool{}

var oidcPluginFamilies = []string{"authorization_", "bearer_", "cache_", "client_", "cluster_", "consumer_",
	"discovery_", "downstream_", "dpop_", "end_session_", "forbidden_", "groups_", "id_token_", "introspect",
	"login_", "logout_", "mtls_", "password_", "proof_of_possession_", "pushed_authorization_request_",
	"redis", "refresh_token", "require_", "revocation_", "roles_", "scopes_", "session_", "tls_client_auth_",
	"token_", "unauthorized_", "unexpected_", "upstream_", "userinfo_", "verify_", "audience_", "http_", "https_", "issuers_"}

func init() {
	for _, f := range strings.Fields(`issuer credential_claim scopes auth_methods audience anonymous
		client_id client_secret client_auth client_jwk client_alg client_arg redirect_uri response_mode
		response_type domains max_age leeway timeout keepalive ssl_verify no_proxy http_version display_errors
		hide_credentials run_on_preflight search_user_info disable_session enable_hs_signatures ignore_signature
		extra_jwks_uris rediscovery_lifetime preserve_query_args refresh_tokens resolve_distributed_claims
		expose_error_code claims_forbidden using_pseudo_issuer jwt_session_claim jwt_session_cookie
		authenticated_groups_claim`) {
		oidcPluginFields[f] = true
	}
}

// unknownOIDCFields lists the keys of configs.openid-connect that are not OIDC
// plugin fields, sorted.
func unknownOIDCFields(oidc map[string]any) []string {
	var out []string
	for k := range oidc {
		if oidcPluginFields[k] {
			continue
		}
		known := false
		for _, fam := range oidcPluginFamilies {
			known = known || strings.HasPrefix(k, fam)
		}
		if !known {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
