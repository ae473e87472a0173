package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// rotationFile: six portals behind three DCR providers, all on DCR token "default".
const rotationFile = `defaults:
  auth_server: default
  claim: client_id
  dcr_token: default
  auth_methods: [client_credentials, bearer]
  visibility: public
  validate: true
portals:
  - {name: payments, scopes: ["payments:read"], dcr_provider: {name: rot-okta-a}, apis: [payments-api]}
  - {name: public, scopes: ["public:read"], dcr_provider: {name: rot-okta-a}, apis: [customers-api]}
  - {name: europe, scopes: ["europe:read"], dcr_provider: {name: rot-okta-b}, apis: [accounts-api]}
  - {name: sandbox, scopes: ["sandbox:read"], dcr_provider: {name: rot-okta-b}, apis: [shipping-api]}
  - name: internal
    scopes: ["internal:read"]
    dcr_provider: {name: rot-okta-c}
    apis: [{api: reporting-api, visibility: private}]
    validate: konnect
    validation_owner: {type: developer, id: e1a031aa-50bb-42da-a065-543d9ebd766f}
  - {name: partners, scopes: ["partners:read"], dcr_provider: {name: rot-okta-c}, apis: [orders-api]}
`

const rotationNextToken = "00sbxRotatedDefaultTokenAbCdEfGhIjKlMnOpQ"

// TestRotateDCRToken: a token used by 3 providers across 6 portals is rotated with
// the binaries. First one provider's verify fails with the new token: it goes back
// on the old one, the others move, the report names it, the old token is not safe
// to revoke. Then, run again, the worker is SIGKILLed right after a PATCH landed
// (its answer held back): a new worker resumes the run and every provider ends on
// the new token, verified. Each provider's stored token is read from the sandbox
// after each run: never anything but the old or the new, matching the report.
func TestRotateDCRToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	workerBin, bin := build(t, dir, "./worker"), buildDcrflow(t, dir)
	srv := devserver.Start(t)
	sb := sandboxtest.Start(t)
	ctx := context.Background()
	const tq = "rotate"
	if err := sb.Control.AddDCRToken(ctx, rotationNextToken); err != nil {
		t.Fatal(err)
	}
	workerEnv := []string{"DCRFLOW_DCR_TOKEN_DEFAULT_NEXT=" + rotationNextToken}
	worker := startWorkerProcEnv(t, workerBin, srv, sb, tq, workerEnv)
	file := filepath.Join(dir, "rotation.yaml")
	if err := os.WriteFile(file, []byte(rotationFile), 0o644); err != nil {
		t.Fatal(err)
	}
	env := cliEnv(dir, "DCRFLOW_TEMPORAL_ADDRESS="+srv.FrontendHostPort(), "DCRFLOW_TEMPORAL_TASK_QUEUE="+tq)
	run := cliRunner(t, bin)
	for _, args := range [][]string{{"rotate-dcr-token"}, {"rotate-dcr-token", "--name", "default_next"}, {"rotate-dcr-token", "--name", "default", "--max-concurrent", "0"}} {
		if r := run(env, args...); r.code != 2 {
			t.Errorf("dcrflow %v: exit %d, want 2 (bad usage)\n%s", args, r.code, r.stderr)
		}
	}
	if r := run(env, "onboard", "-f", file, "--wait"); r.code != 0 {
		t.Fatalf("onboard: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	waitFor(t, 30*time.Second, "the 6 onboarding records to be visible", func() bool {
		return countWorkflows(t, srv.Client(), "WorkflowType = 'OnboardPortal' AND ExecutionStatus = 'Completed'") == 6
	})
	ids := map[string]string{} // provider name → id
	var st state
	if err := sb.Control.State(ctx, &st); err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Konnect.DCRProviders {
		ids[p.Name] = p.ID
	}
	if len(ids) != 3 {
		t.Fatalf("providers after onboarding: %v", ids)
	}
	old, next := sbokta.Fingerprint(sbokta.DefaultDCRToken), sbokta.Fingerprint(rotationNextToken)
	holds := func() map[string]string {
		t.Helper()
		var st state
		if err := sb.Control.State(ctx, &st); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for name, id := range ids {
			switch st.Konnect.DCRTokenFingerprints[id] {
			case old:
				out[name] = "old"
			case next:
				out[name] = "new"
			default:
				out[name] = "other:" + st.Konnect.DCRTokenFingerprints[id]
			}
		}
		return out
	}

	// 1. rot-okta-b's verify fails with the new token (once: back on the old, it verifies).
	addFault(t, sb, faults.Fault{Method: "POST", Path: "/v2/dcr-providers/" + ids["rot-okta-b"] + "/verify", Status: 400, Count: 1})
	r := run(env, "rotate-dcr-token", "--name", "default", "--wait", "--continue-on-error", "--max-concurrent", "2")
	if r.code != 1 {
		t.Fatalf("rotation with a failing provider: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"rotated    rot-okta-a", "reverted   rot-okta-b", "rotated    rot-okta-c", "at verify with the new token",
		"Still on the old token: rot-okta-b", "Do NOT revoke the old token of default", "portals europe, sandbox"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := holds(); got["rot-okta-a"] != "new" || got["rot-okta-b"] != "old" || got["rot-okta-c"] != "new" {
		t.Fatalf("after the first rotation: %v", got)
	}
	t.Logf("first rotation:\n%s", r.stdout)

	// 2. Again, rot-okta-b's PATCH lands but its answer is held; the worker is killed.
	held := addFault(t, sb, faults.Fault{Method: "PATCH", Path: "/v2/dcr-providers/" + ids["rot-okta-b"], LatencyMS: 120_000, DelayResponse: true, Count: 1})
	rctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	rot := exec.CommandContext(rctx, bin, "rotate-dcr-token", "--name", "default", "--wait", "--max-concurrent", "1")
	rot.Dir, rot.Env = "..", env
	var out, errOut syncBuffer
	rot.Stdout, rot.Stderr = &out, &errOut
	if err := rot.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "rot-okta-b's PATCH to land", func() bool {
		return hitsOf(sb, held.ID) == 1 && holds()["rot-okta-b"] == "new"
	})
	// A second start while it runs attaches to it: one rotation per token at a time.
	if r := run(env, "rotate-dcr-token", "--name", "default"); r.code != 0 || !strings.Contains(r.stdout, "attached to running rotation of DCR token default") {
		t.Fatalf("second start during the rotation: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	worker.kill(t)
	killedAt := time.Now()
	startWorkerProcEnv(t, workerBin, srv, sb, tq, workerEnv)
	err := rot.Wait()
	t.Logf("rotation resumed after the kill: done %.1fs later\n%s%s", time.Since(killedAt).Seconds(), out.String(), errOut.String())
	if err != nil {
		t.Fatalf("second rotation: %v", err)
	}
	if !strings.Contains(out.String(), "safe to revoke") || strings.Contains(out.String(), "Still on the old token") {
		t.Fatalf("second rotation report:\n%s", out.String())
	}
	for name, h := range holds() {
		if h != "new" {
			t.Errorf("%s holds the %s token after the resumed rotation", name, h)
		}
	}
	// The old token can go: revoked, every provider still verifies.
	if err := sb.Control.RevokeDCRToken(ctx, sbokta.DefaultDCRToken); err != nil {
		t.Fatal(err)
	}
	for name, id := range ids {
		var v struct {
			Status string `json:"status"`
		}
		if err := konnectPost(sb, "/v2/dcr-providers/"+id+"/verify", &v); err != nil || v.Status != "success" {
			t.Errorf("%s: verify after revoking the old token: %+v %v", name, v, err)
		}
	}
	// Its history never held a token.
	for _, ev := range history(t, ctx, srv.Client(), dcrflow.RotateWorkflowID("default"), "") {
		if s := ev.String(); strings.Contains(s, rotationNextToken) || strings.Contains(s, sbokta.DefaultDCRToken) {
			t.Fatalf("a token is in the rotation's history: event %d", ev.GetEventId())
		}
	}
	// The UI finds both runs by outcome; the progress query answers for each provider.
	waitFor(t, 30*time.Second, "the rotations to be visible by outcome", func() bool {
		q := "WorkflowType = 'RotateDCRToken' AND DcrflowOutcome = "
		return countWorkflows(t, srv.Client(), q+"'failed'") == 1 && countWorkflows(t, srv.Client(), q+"'succeeded'") == 1
	})
	if p, err := launcher.RotationProgress(ctx, srv.Client(), "default"); err != nil || len(p.Done) != 3 || len(p.Running) != 0 {
		t.Fatalf("progress query of the finished rotation: %+v %v", p, err)
	}
	// An offboarded portal no longer counts as a user of the token.
	if r := run(env, "offboard", "-f", file, "--portal", "partners", "--wait"); r.code != 0 {
		t.Fatalf("offboard partners: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	users, err := launcher.TokenUsers(ctx, srv.Client(), nil, "default")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range users {
		for _, pt := range p.Portals {
			keys = append(keys, p.Name+"/"+pt.Spec.Key)
		}
	}
	if strings.Join(keys, ",") != "rot-okta-a/payments,rot-okta-a/public,rot-okta-b/europe,rot-okta-b/sandbox,rot-okta-c/internal" {
		t.Errorf("token users after offboarding partners: %v", keys)
	}
	// The last rotation is on record for doctor and check.
	var ages []launcher.TokenAge
	waitFor(t, 30*time.Second, "the rotation to be visible as the token's last", func() bool {
		ages, err = launcher.TokenAges(ctx, srv.Client(), []string{"default", "default-next"})
		return err == nil && len(ages) == 1 && !ages[0].LastRotated.IsZero()
	})
	if time.Since(ages[0].LastRotated) > 10*time.Minute {
		t.Fatalf("token ages: %+v", ages)
	}
	// doctor, with the new token promoted, says when the token was last rotated.
	denv := append(slices.Clone(env), "DCRFLOW_OKTA_ORG_URL="+sb.OktaURL, "DCRFLOW_OKTA_TOKEN="+sbokta.DefaultManagementToken,
		"DCRFLOW_DCR_TOKEN_DEFAULT="+rotationNextToken, "DCRFLOW_KONNECT_BASE_URL="+sb.KonnectURL, "DCRFLOW_KONNECT_TOKEN="+sbkonnect.DefaultToken,
		"DCRFLOW_ROTATION_MAX_TOKEN_AGE_DAYS=30")
	dr := run(denv, "doctor", "-o", "json")
	var rep struct {
		Checks []struct{ Name, Status, Detail string } `json:"checks"`
	}
	if err := json.Unmarshal([]byte(dr.stdout), &rep); err != nil {
		t.Fatalf("doctor -o json: %v\n%s%s", err, dr.stdout, dr.stderr)
	}
	found := false
	for _, c := range rep.Checks {
		if c.Name == "okta.dcr_token default age" {
			found = true
			if c.Status != "pass" || !strings.Contains(c.Detail, "last rotated through dcrflow ") || !strings.Contains(c.Detail, "(0 day(s) ago") || !strings.Contains(c.Detail, "limit 30") {
				t.Errorf("doctor's age check: %+v", c)
			}
		}
	}
	if !found {
		t.Errorf("doctor shows no age check for the token:\n%s", dr.stdout)
	}
}

// konnectPost POSTs to the sandbox's Konnect with its token and decodes the answer.
func konnectPost(sb *sandboxtest.Env, path string, out any) error {
	req, err := http.NewRequest(http.MethodPost, sb.KonnectURL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+sbkonnect.DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
