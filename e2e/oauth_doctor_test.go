package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/doctor"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/sandbox"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// Two API service apps of the sandbox org: one granted what a worker needs, one
// granted reads only.
const (
	fullApp     = "0oaSvcE2eFull000001"
	readOnlyApp = "0oaSvcE2eRead000001"
)

// TestOAuth_WorkerAndDoctor runs worker processes in OAuth 2.0 for Okta mode and
// the starter's doctor against the sandbox and a real Temporal dev server:
//   - a worker with a service app key granted both scopes onboards a portal, with one
//     access token for all its management calls;
//   - a worker whose app is granted only okta.authorizationServers.read fails at
//     step 2 (scopes) with a message naming okta.authorizationServers.manage;
//   - `starter doctor -o json` passes on the healthy setup and fails (exit 1) with a
//     wrong SSWS token, writing nothing in either case;
//   - no key material, assertion or access token appears in histories or outputs.
func TestOAuth_WorkerAndDoctor(t *testing.T) {
	dir := t.TempDir()
	workerBin, starterBin := build(t, dir, "./worker"), build(t, dir, "./starter")
	keys := map[string][]byte{}
	sb := sandboxtest.Start(t, sandboxtest.WithFixture(func(fx *sandbox.Fixture) {
		for app, scopes := range map[string][]string{fullApp: {okta.ScopeAuthServersRead, okta.ScopeAuthServersManage}, readOnlyApp: {okta.ScopeAuthServersRead}} {
			pemKey, jwks, err := sbokta.NewServiceAppKey("kid-" + app)
			if err != nil {
				t.Fatal(err)
			}
			keys[app] = pemKey
			fx.Okta.ServiceApps = append(fx.Okta.ServiceApps, sbokta.SeedServiceApp{ClientID: app, JWKS: jwks, GrantedScopes: scopes})
		}
	}))
	srv := devserver.Start(t)
	oauthEnv := func(app string, scopes ...string) []string {
		keyFile := filepath.Join(dir, app+".pem")
		if err := os.WriteFile(keyFile, keys[app], 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{"DCRFLOW_OKTA_TOKEN=", "DCRFLOW_OKTA_AUTH_MODE=private_key", "DCRFLOW_OKTA_CLIENT_ID=" + app,
			"DCRFLOW_OKTA_KEY_ID=kid-" + app, "DCRFLOW_OKTA_PRIVATE_KEY_FILE=" + keyFile, "DCRFLOW_OKTA_SCOPES=" + strings.Join(scopes, " ")}
	}
	portal := func(name string) string {
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, []byte("portals:\n  - name: "+name+"\n    portal: payments\n    scopes: ["+name+":read]\n    apis: [payments-api]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var outputs bytes.Buffer
	starter := func(queue string, env []string, wantExit int, args ...string) string {
		t.Helper()
		cmd := exec.Command(starterBin, args...)
		cmd.Env = append(append(os.Environ(), "DCRFLOW_TEMPORAL_ADDRESS="+srv.FrontendHostPort(), "DCRFLOW_TEMPORAL_TASK_QUEUE="+queue), env...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		outputs.Write(out)
		if code := cmd.ProcessState.ExitCode(); code != wantExit {
			t.Fatalf("starter %v: exit %d, want %d:\n%s", args, code, wantExit, out)
		}
		return string(out)
	}
	tokenRequests := func(since int) (tokens, mgmt int) {
		for _, r := range sb.Sandbox.Requests(since) {
			switch {
			case r.System == "okta" && r.Method == http.MethodPost && r.Path == "/oauth2/v1/token":
				tokens++
			case r.System == "okta" && strings.HasPrefix(r.Path, "/api/v1/"):
				mgmt++
			}
		}
		return tokens, mgmt
	}

	// 1. The worker with the full app onboards; one token serves every management call.
	full := startWorkerProcEnv(t, workerBin, srv, sb, "oauth-full", oauthEnv(fullApp, okta.DefaultOAuthScopes...), "-log-level", "debug")
	since := lastSeq(&stack{sb: sb})
	starter("oauth-full", nil, 0, "onboard", "-f", portal("oauthok"), "--wait")
	starter("oauth-full", nil, 0, "onboard", "-f", portal("oauthok2"), "--wait")
	tokens, mgmt := tokenRequests(since)
	if tokens != 1 || mgmt < 10 {
		t.Errorf("%d token requests for %d management calls; want 1 (cached) and many", tokens, mgmt)
	}

	// 2. The read-only app (requesting only what it was granted) fails at step 2,
	// naming the missing scope.
	ro := startWorkerProcEnv(t, workerBin, srv, sb, "oauth-ro", oauthEnv(readOnlyApp, okta.ScopeAuthServersRead), "-log-level", "debug")
	out := starter("oauth-ro", nil, 1, "onboard", "-f", portal("oauthro"), "--wait")
	if !strings.Contains(out, "scopes") || !strings.Contains(out, "lacks the scope okta.authorizationServers.manage") {
		t.Errorf("the read-only run's report does not name step 2 and the scope:\n%s", out)
	}

	// 3. doctor: healthy with the full app, then broken with a wrong SSWS token; no write.
	workerEnv := []string{"DCRFLOW_OKTA_ORG_URL=" + sb.OktaURL, "DCRFLOW_DCR_TOKEN_DEFAULT=" + sbokta.DefaultDCRToken,
		"DCRFLOW_KONNECT_BASE_URL=" + sb.KonnectURL, "DCRFLOW_KONNECT_TOKEN=" + sbkonnect.DefaultToken}
	since = lastSeq(&stack{sb: sb})
	js := starter("oauth-full", append(workerEnv, oauthEnv(fullApp, okta.DefaultOAuthScopes...)...), 0, "doctor", "-f", portal("oauthok"), "-o", "json")
	var rep doctor.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil || !rep.OK {
		t.Fatalf("doctor report %v:\n%s", err, js)
	}
	checks := map[string]doctor.Check{}
	for _, c := range rep.Checks {
		checks[c.Name] = c
	}
	if c := checks["temporal"]; c.Status != doctor.Pass || !strings.Contains(c.Detail, "namespace default") {
		t.Errorf("temporal check %+v", c)
	}
	if c := checks["okta.auth"]; c.Status != doctor.Pass || !strings.Contains(c.Detail, "OAuth 2.0 for Okta") {
		t.Errorf("okta.auth check %+v", c)
	}
	text := starter("oauth-full", append(workerEnv, "DCRFLOW_OKTA_TOKEN=00sbxWrongToken"), 1, "doctor", "-f", portal("oauthok"))
	if !strings.Contains(text, "FAIL  okta.auth") || !strings.Contains(text, "okta.token (DCRFLOW_OKTA_TOKEN) is not a valid API token of this org") {
		t.Errorf("doctor with a wrong token:\n%s", text)
	}
	for _, r := range sb.Sandbox.Requests(since) {
		if r.Method != http.MethodGet && !(r.Method == http.MethodPost && r.Path == "/oauth2/v1/token") {
			t.Errorf("doctor wrote: %s %s %s", r.System, r.Method, r.Path)
		}
	}

	// 4. No key material, assertion or access token anywhere.
	histories := allHistories(t, srv.Client())
	if !bytes.Contains(histories, []byte("oauthro:read")) {
		t.Fatal("the history search does not see payloads")
	}
	for app, pemKey := range keys {
		body := strings.Split(string(pemKey), "\n")[1]
		for where, text := range map[string][]byte{"histories": histories, "worker output": []byte(full.out.String() + ro.out.String()),
			"starter output": outputs.Bytes()} {
			for _, bad := range []string{body, "PRIVATE KEY", "client_assertion=", "sbxoat."} {
				if bytes.Contains(text, []byte(bad)) {
					t.Errorf("%s: %q of %s's key or tokens appears in the %s", app, bad[:min(len(bad), 12)], app, where)
				}
			}
		}
	}
}
