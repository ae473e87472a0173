package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"

	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/sandbox/faults"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// After a success, a compensated failure, and failures whose server errors quote the
// request (tokens in its headers and body), no token appears in any workflow history,
// in the worker's or starter's output, or in the sandbox's state.
func TestSecrets_NoTokenInHistoriesLogsErrorsOrState(t *testing.T) {
	dir := t.TempDir()
	workerBin, starterBin := build(t, dir, "./worker"), buildDcrflow(t, dir)
	srv := devserver.Start(t)
	sb := sandboxtest.Start(t)
	ctx := context.Background()
	secrets := map[string]string{"okta management": sbokta.DefaultManagementToken, "okta dcr": sbokta.DefaultDCRToken, "konnect": sbkonnect.DefaultToken}
	temporalEnv := []string{"DCRFLOW_TEMPORAL_ADDRESS=" + srv.FrontendHostPort(), "DCRFLOW_TEMPORAL_TASK_QUEUE=secrets"}

	workerOut := startWorkerProc(t, workerBin, srv, sb, "secrets", "-log-level", "debug").out

	var starterOut bytes.Buffer
	start := func(file string, wantExit int) {
		t.Helper()
		cmd := exec.Command(starterBin, "onboard", "-f", file, "--wait")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), temporalEnv...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		starterOut.Write(out)
		if code := cmd.ProcessState.ExitCode(); code != wantExit {
			t.Fatalf("starter %s: exit %d, want %d:\n%s", file, code, wantExit, out)
		}
	}
	portal := func(name, extra string) string {
		p := filepath.Join(dir, name+".yaml")
		os.WriteFile(p, []byte("portals:\n  - name: "+name+"\n    portal: payments\n    scopes: ["+name+":read]\n    apis: [payments-api]\n"+extra), 0o644)
		return p
	}

	// 1. Success.
	start("examples/portals.yaml", 0)
	// 2. Failure with compensation: the strategy name is taken by another strategy.
	kc, err := konnect.New(konnect.Config{BaseURL: sb.KonnectURL, Token: sbkonnect.DefaultToken, HTTPClient: sb.HTTPClient})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kc.AuthStrategies.CreateOIDC(ctx, konnect.CreateOIDCStrategy{Name: "dcrflow-taken", DisplayName: "Taken",
		Issuer: "https://elsewhere.example.com", CredentialClaim: []string{"sub"}, Scopes: []string{"x"}, AuthMethods: []string{"bearer"}}); err != nil {
		t.Fatal(err)
	}
	start(portal("taken", ""), 1)
	// 3. Servers quoting the request in their errors: the Konnect token and the DCR token
	// (provider create), the Okta management token (scope create), the DCR token (DCR).
	for i, f := range []faults.Fault{
		{Method: "POST", Path: "/v2/dcr-providers", Status: 400, EchoRequest: true},
		{Method: "POST", Path: "/api/v1/authorizationServers/*/scopes", Status: 400, EchoRequest: true},
		{Method: "POST", Path: "/oauth2/v1/clients", Status: 400, EchoRequest: true},
	} {
		added, err := sb.Control.AddFault(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		start(portal("echo"+string(rune('a'+i)), ""), 1)
		if fs, _ := sb.Control.Faults(ctx); fs[len(fs)-1].Hits == 0 {
			t.Fatalf("fault %s was never hit: the run proves nothing", added.ID)
		}
		if err := sb.Control.ClearFaults(ctx); err != nil {
			t.Fatal(err)
		}
	}

	histories := allHistories(t, srv.Client())
	var state bytes.Buffer
	if err := sb.Control.State(ctx, (*rawJSON)(&state)); err != nil {
		t.Fatal(err)
	}
	// Positive control: names from workflow inputs are found, so a token would be too.
	if !bytes.Contains(histories, []byte("echoa:read")) || !bytes.Contains(histories, []byte("could not process")) {
		t.Fatal("the history search does not see payloads or failure messages")
	}
	for name, secret := range secrets {
		for where, text := range map[string][]byte{"workflow histories": histories, "worker output": []byte(workerOut.String()),
			"starter output": starterOut.Bytes(), "sandbox state": state.Bytes()} {
			if bytes.Contains(text, []byte(secret)) {
				t.Errorf("the %s token appears in the %s", name, where)
			}
		}
	}
	// The echoed requests did reach the clients: their errors say what was refused.
	if !strings.Contains(starterOut.String(), "could not process") {
		t.Errorf("no echoed error reached the starter's report:\n%s", starterOut.String())
	}
}

// allHistories is every event of every workflow, as raw protobuf bytes, so that
// payload contents are searched as they are stored.
func allHistories(t *testing.T, c client.Client) []byte {
	t.Helper()
	ctx := context.Background()
	var out []byte
	var token []byte
	runs := 0
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{NextPageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range resp.Executions {
			runs++
			it := c.GetWorkflowHistory(ctx, e.Execution.WorkflowId, e.Execution.RunId, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					t.Fatal(err)
				}
				b, err := proto.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, b...)
			}
		}
		if token = resp.NextPageToken; len(token) == 0 {
			break
		}
	}
	if runs < 10 {
		t.Fatalf("only %d workflow runs found: the search would prove little", runs)
	}
	return out
}

// rawJSON keeps a JSON document as it came.
type rawJSON bytes.Buffer

func (r *rawJSON) UnmarshalJSON(b []byte) error {
	(*bytes.Buffer)(r).Write(b)
	return nil
}

var _ json.Unmarshaler = (*rawJSON)(nil)
