// Package doctor checks, read-only, that dcrflow can work against real orgs: the
// Okta org and how dcrflow authenticates to it, each authorization server of an
// onboarding file and whether an access policy would issue client_credentials
// tokens, the DCR tokens, the Konnect token's region and read rights, the
// rate-limit headroom the answers report, and the Temporal namespace. Each check
// passes, warns or fails, and a failure says how to fix it.
//
// Doctor writes nothing anywhere: it only reads (GET), and in Okta's OAuth mode
// requests an access token, which changes no state.
package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/activities"
	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
)

// Status of a check.
type Status string

const (
	Pass Status = "pass"
	Warn Status = "warn" // works, but something deserves attention
	Fail Status = "fail"
)

// Check is one result.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Report is every check, in the order run.
type Report struct {
	Checks []Check `json:"checks"`
	OK     bool    `json:"ok"` // no check failed
}

// Deps is what doctor checks. Okta and Konnect are the worker's clients, built
// with Headroom's observers; Portals may be empty (no onboarding file).
type Deps struct {
	Okta      *okta.Client
	DCRTokens map[string]string
	Konnect   *konnect.Client
	// Region is konnect.region or konnect.base_url, for messages.
	Region string
	// KonnectRPM is rate_limits.konnect_rpm (0: unset).
	KonnectRPM int
	Portals    []dcrflow.PortalSpec
	// Temporal checks the connection and namespace and says what it found. Optional.
	Temporal func(ctx context.Context) (string, error)
	// Headroom collects the rate-limit headers the answers carried. Optional.
	Headroom *Headroom
	// TokenAges finds the DCR tokens' last rotation (token_age.go). Optional.
	TokenAges TokenAgeDeps
}

// Run runs every check.
func Run(ctx context.Context, d Deps) Report {
	var r Report
	add := func(c Check) { r.Checks = append(r.Checks, c) }
	oktaOK := checkOktaAuth(ctx, d, add)
	if oktaOK {
		checkServers(ctx, d, add)
	}
	checkDCRTokens(ctx, d, add)
	checkTokenAges(ctx, d, add)
	checkKonnect(ctx, d, add)
	checkHeadroom(d, add)
	if d.Temporal != nil {
		if what, err := d.Temporal(ctx); err != nil {
			add(Check{Name: "temporal", Status: Fail, Detail: err.Error(),
				Fix: "check temporal.address, temporal.namespace, TLS and API key settings (DCRFLOW_TEMPORAL_*)"})
		} else {
			add(Check{Name: "temporal", Status: Pass, Detail: what})
		}
	}
	r.OK = !slices.ContainsFunc(r.Checks, func(c Check) bool { return c.Status == Fail })
	return r
}

// servers lists the authorization servers the file names (default: "default"),
// each with its portals.
func servers(portals []dcrflow.PortalSpec) ([]string, map[string][]dcrflow.PortalSpec) {
	by := map[string][]dcrflow.PortalSpec{}
	for _, p := range portals {
		by[p.AuthServer] = append(by[p.AuthServer], p)
	}
	if len(by) == 0 {
		by["default"] = nil
	}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, by
}

// checkOktaAuth reads the first server: it proves the org URL, the credentials
// and (OAuth) that every requested scope is granted.
func checkOktaAuth(ctx context.Context, d Deps, add func(Check)) bool {
	names, _ := servers(d.Portals)
	_, err := resolveServer(ctx, d.Okta, names[0])
	var detail string
	mode := d.Okta.AuthMode()
	if mode == okta.AuthPrivateKey {
		detail = fmt.Sprintf("OAuth 2.0 for Okta (service app, private_key_jwt), scopes %s", strings.Join(d.Okta.OAuthScopes(), " "))
	} else {
		detail = "SSWS API token"
	}
	if err != nil && !okta.IsNotFound(err) {
		add(Check{Name: "okta.auth", Status: Fail, Detail: detail + ": " + err.Error(), Fix: oktaFix(err, mode)})
		return false
	}
	c := Check{Name: "okta.auth", Status: Pass, Detail: detail + ": the management API answers"}
	switch {
	case mode == okta.AuthPrivateKey && !slices.Contains(d.Okta.OAuthScopes(), okta.ScopeAuthServersManage):
		c.Status = Warn
		c.Detail += "; " + okta.ScopeAuthServersManage + " is not requested: onboarding fails at step 2 (doctor and plan need only " + okta.ScopeAuthServersRead + ")"
		c.Fix = "grant the service app " + okta.ScopeAuthServersManage + " and add it to okta.scopes on workers"
	case mode == okta.AuthPrivateKey:
		c.Detail += " (every requested scope is granted: Okta issued the token)"
	default:
		c.Status = Warn
		c.Detail += "; " + tokenRoles(ctx, d.Okta)
		c.Fix = "prefer okta.auth_mode: private_key (an API service app granted " + okta.ScopeAuthServersRead + " and " + okta.ScopeAuthServersManage + "); keep an SSWS token only from an admin with a role limited to authorization servers (" + roleAPIAccessManagement + ")"
	}
	add(c)
	return true
}

// roleAPIAccessManagement is the Okta admin role limited to authorization servers:
// all that onboarding needs of an SSWS token's admin.
const roleAPIAccessManagement = "API_ACCESS_MANAGEMENT_ADMIN"

// tokenRoles says which admin roles an SSWS token carries, read from Okta.
func tokenRoles(ctx context.Context, c *okta.Client) string {
	roles, err := c.TokenRoles(ctx)
	switch {
	case err != nil:
		return "an SSWS token carries every right of the admin who made it; its admin's roles could not be read (" + err.Error() + ")"
	case len(roles) == 0:
		return "an SSWS token carries every right of the admin who made it; its admin has no admin role, so onboarding will be refused"
	case len(roles) == 1 && roles[0] == roleAPIAccessManagement:
		return "an SSWS token of an admin with the role " + roleAPIAccessManagement + " (authorization servers only), the least an API token can carry"
	}
	return "an SSWS token carries every right of its admin, whose roles are " + strings.Join(roles, ", ") + ": far more than onboarding needs"
}

func oktaFix(err error, mode string) string {
	var oe *okta.Error
	errors.As(err, &oe)
	switch {
	case oe != nil && oe.MissingScope != "":
		return "grant the service app the Okta API scope " + oe.MissingScope + " and list it in okta.scopes"
	case oe != nil && oe.TokenRequest && oe.Code == okta.CodeInvalidScope:
		return "grant the service app every scope in okta.scopes (Admin Console: Applications > the app > Okta API Scopes), or request fewer"
	case oe != nil && oe.TokenRequest:
		return "check okta.client_id, okta.key_id and that the app's public key matches okta.private_key_file"
	case okta.IsUnauthorized(err) && mode == okta.AuthSSWS:
		return "okta.token (DCRFLOW_OKTA_TOKEN) is not a valid API token of this org: create one under Security > API > Tokens"
	case oe != nil && oe.Temporary():
		return "check okta.org_url and the network; Okta did not answer"
	case oe != nil && oe.StatusCode == http.StatusForbidden:
		return "the credentials may not read authorization servers: with SSWS, use a token of an admin with the API Access Management role; or switch to okta.auth_mode private_key"
	}
	return "check okta.org_url and the credentials"
}

func resolveServer(ctx context.Context, o *okta.Client, nameOrID string) (*okta.AuthServer, error) {
	s, err := o.GetAuthServer(ctx, nameOrID)
	if err == nil || !okta.IsNotFound(err) {
		return s, err
	}
	byName, ferr := o.FindAuthServerByName(ctx, nameOrID)
	if ferr != nil {
		return nil, ferr
	}
	if byName == nil {
		return nil, err
	}
	return byName, nil
}

// checkServers resolves each server and judges its access policies for each
// portal's scopes, as step 4 would.
func checkServers(ctx context.Context, d Deps, add func(Check)) {
	names, by := servers(d.Portals)
	for _, name := range names {
		s, err := resolveServer(ctx, d.Okta, name)
		if err != nil {
			fix := oktaFix(err, d.Okta.AuthMode())
			if okta.IsNotFound(err) {
				fix = "no authorization server has this id or name in the org: fix auth_server in the onboarding file (custom servers need API Access Management)"
			}
			add(Check{Name: "okta.auth_server " + name, Status: Fail, Detail: err.Error(), Fix: fix})
			continue
		}
		add(Check{Name: "okta.auth_server " + name, Status: Pass, Detail: fmt.Sprintf("id %s, issuer %s", s.ID, s.Issuer)})
		for _, p := range by[name] {
			scopes := make([]string, 0, len(p.Scopes))
			for _, sc := range p.Scopes {
				scopes = append(scopes, sc.Name)
			}
			cn := "okta.access_policy " + name + " (portal " + p.Key + ")"
			covering, missing, err := activities.AccessPolicyCover(ctx, d.Okta, s.ID, name, scopes, p.Key)
			switch {
			case err != nil:
				add(Check{Name: cn, Status: Fail, Detail: err.Error(), Fix: oktaFix(errors.Unwrap(err), d.Okta.AuthMode())})
			case covering != "":
				add(Check{Name: cn, Status: Pass, Detail: fmt.Sprintf("policy %q issues client_credentials tokens for %v", covering, scopes)})
			case p.AccessPolicy == dcrflow.AccessPolicyEnsure:
				add(Check{Name: cn, Status: Warn, Detail: "no access policy covers the scopes yet; onboarding will create dcrflow-" + p.Key + " (access_policy: ensure)"})
			default:
				add(Check{Name: cn, Status: Fail, Detail: missing,
					Fix: "add a rule for Everyone granting Client Credentials these scopes to a policy for All clients, or set access_policy: ensure"})
			}
		}
	}
}

// checkDCRTokens lists the clients each DCR token sees: GET /oauth2/v1/clients.
func checkDCRTokens(ctx context.Context, d Deps, add func(Check)) {
	names := make([]string, 0, len(d.DCRTokens))
	for n := range d.DCRTokens {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		cn := "okta.dcr_token " + n
		_, err := d.Okta.ListClients(ctx, d.DCRTokens[n], "dcrflow-doctor-")
		switch {
		case err == nil:
			add(Check{Name: cn, Status: Pass, Detail: "valid for /oauth2/v1/clients (SSWS API token, as Konnect's provider needs)"})
		case okta.IsUnauthorized(err):
			env := "DCRFLOW_DCR_TOKEN_" + strings.ToUpper(strings.ReplaceAll(n, "-", "_"))
			add(Check{Name: cn, Status: Fail, Detail: err.Error(),
				Fix: "Okta refuses this DCR token: create an API token (Security > API > Tokens) of an admin who may manage apps and set " + env})
		default:
			add(Check{Name: cn, Status: Fail, Detail: err.Error(), Fix: "check okta.org_url and that the token may register OAuth clients"})
		}
	}
}

// probeName is a name no resource has: a list filtered on it proves read rights.
const probeName = "dcrflow-doctor-probe-0"

// konnectRoles names, per resource, the Konnect roles onboarding needs.
var konnectRoles = map[string]string{
	"dcr_providers":   "DCR Provider Creator (or Maintainer)",
	"auth_strategies": "Application Auth Strategy Creator (or Maintainer)",
	"portals":         "Portal Creator (or Portal Maintainer of the file's portals)",
	"apis":            "API Creator and API Publisher (or API Maintainer of the file's APIs)",
	"publications":    "API Publisher",
}

func checkKonnect(ctx context.Context, d Deps, add func(Check)) {
	k := d.Konnect
	// The token first: a 401 says nothing else can work.
	if _, err := k.DCRProviders.FindByName(ctx, probeName); err != nil {
		if konnect.IsUnauthorized(err) {
			add(Check{Name: "konnect.token", Status: Fail, Detail: err.Error(),
				Fix: "konnect.token (DCRFLOW_KONNECT_TOKEN) is not a valid personal (kpat_) or system account (spat_) token, or has expired"})
			return
		}
	}
	add(Check{Name: "konnect.token", Status: Pass, Detail: "accepted in region " + d.Region})
	read := func(resource string, f func() error) {
		cn := "konnect.rights " + resource
		err := f()
		switch {
		case err == nil:
			add(Check{Name: cn, Status: Pass, Detail: "may read; writing needs the role " + konnectRoles[resource] + " (not provable without writing)"})
		case isForbidden(err):
			add(Check{Name: cn, Status: Fail, Detail: err.Error(), Fix: "give the token's user or system account the role " + konnectRoles[resource]})
		default:
			add(Check{Name: cn, Status: Fail, Detail: err.Error(), Fix: "check konnect.region / konnect.base_url and the network"})
		}
	}
	read("dcr_providers", func() error { _, err := k.DCRProviders.FindByName(ctx, probeName); return err })
	read("auth_strategies", func() error { _, err := k.AuthStrategies.FindByName(ctx, probeName); return err })
	read("apis", func() error { _, err := k.APIs.FindByName(ctx, probeName); return err })
	read("portals", func() error { _, err := k.Portals.FindByName(ctx, probeName); return err })
	checkRegion(ctx, d, add)
}

// checkRegion looks for the file's portals: Konnect keeps portals, APIs and DCR
// providers per region, so a token of the right org in the wrong region sees none.
func checkRegion(ctx context.Context, d Deps, add func(Check)) {
	if len(d.Portals) == 0 {
		return
	}
	var missing, found []string
	var pubErr error
	for _, p := range d.Portals {
		portal, err := d.Konnect.Portals.Resolve(ctx, p.Portal)
		if err != nil && !konnect.IsNotFound(err) {
			add(Check{Name: "konnect.region", Status: Fail, Detail: err.Error(), Fix: "check konnect.region and the token's rights on portals"})
			return
		}
		if portal == nil || err != nil {
			missing = append(missing, p.Portal)
			continue
		}
		found = append(found, p.Portal)
		if pubErr == nil && len(p.APIs) > 0 {
			if api, err := d.Konnect.APIs.Resolve(ctx, p.APIs[0].API); err == nil && api != nil {
				if _, err := d.Konnect.Publications.Get(ctx, api.ID, portal.ID); err != nil && !konnect.IsNotFound(err) {
					pubErr = err
				}
			}
		}
	}
	missing = slices.Compact(missing)
	switch {
	case len(found) == 0:
		add(Check{Name: "konnect.region", Status: Fail,
			Detail: fmt.Sprintf("none of the file's portals (%s) is in region %s", strings.Join(missing, ", "), d.Region),
			Fix:    "Konnect keeps portals, APIs and DCR providers per region: set konnect.region (DCRFLOW_KONNECT_REGION) to the region of your org's portals"})
	case len(missing) > 0:
		add(Check{Name: "konnect.region", Status: Fail, Detail: fmt.Sprintf("portal(s) %s not found in region %s (found: %s)", strings.Join(missing, ", "), d.Region, strings.Join(found, ", ")),
			Fix: "fix portal in the onboarding file, or create the portal in Konnect"})
	default:
		add(Check{Name: "konnect.region", Status: Pass, Detail: fmt.Sprintf("the file's portals are in region %s", d.Region)})
	}
	if pubErr != nil {
		c := Check{Name: "konnect.rights publications", Status: Fail, Detail: pubErr.Error(), Fix: "check the token's rights on API publications"}
		if isForbidden(pubErr) {
			c.Fix = "give the token the role " + konnectRoles["publications"]
		}
		add(c)
	} else if len(found) > 0 {
		add(Check{Name: "konnect.rights publications", Status: Pass, Detail: "may read publications; publishing needs the role " + konnectRoles["publications"]})
	}
}

// Print writes the report as a table (text) or JSON.
func (r Report) Print(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", strings.ToUpper(string(c.Status)), c.Name, c.Detail)
		if c.Fix != "" && c.Status != Pass {
			fmt.Fprintf(tw, "\t\tfix: %s\n", c.Fix)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verdict := "all checks passed"
	if !r.OK {
		verdict = "some checks failed"
	}
	_, err := fmt.Fprintln(w, verdict)
	return err
}

func isForbidden(err error) bool {
	var e *konnect.Error
	return errors.As(err, &e) && e.StatusCode == http.StatusForbidden
}
