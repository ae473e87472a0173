package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/codec"
	"github.com/dcrflow/dcrflow/config"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/internal/wiring"
	"github.com/dcrflow/dcrflow/launcher"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// codecPortal is the examples' payments portal; codecBrokenPortal fails at resolve on
// an API that does not exist, so its failure message names it.
func codecPortal() dcrflow.PortalSpec {
	return dcrflow.PortalSpec{Key: "payments", Portal: "payments", AuthServer: "default", ClaimName: "client_id",
		Scopes:      []dcrflow.ScopeSpec{{Name: "payments:read", Description: "Read payments"}, {Name: "payments:write", Description: "Create payments"}},
		DCRProvider: "dcrflow-payments", DCRTokenName: "default",
		Strategy: dcrflow.StrategySpec{Name: "dcrflow-payments", DisplayName: "Okta DCR (payments)", AuthMethods: []string{"client_credentials", "bearer"}},
		APIs:     []dcrflow.APISpec{{API: "payments-api", Visibility: "public"}, {API: "refunds-api", Visibility: "private", AutoApprove: true}},
		Validate: true, OnFailure: dcrflow.OnFailureCompensate}
}

func codecBrokenPortal() dcrflow.PortalSpec {
	p := codecPortal()
	p.Key, p.DCRProvider, p.Strategy.Name = "codec-broken", "dcrflow-codec-broken", "dcrflow-codec-broken"
	p.APIs = []dcrflow.APISpec{{API: "no-such-api", Visibility: "public"}}
	return p
}

// Text that must never be readable in a history without the key: scope names and
// descriptions, API names, the failure's message. (The portal key itself is in the
// workflow id, which is not a payload.)
var codecCleartext = []string{"payments:read", "Read payments", "payments-api", "refunds-api", "no-such-api", "Okta DCR (payments)"}

func codecKeys(t *testing.T, ids ...string) map[string][]byte {
	t.Helper()
	keys := map[string][]byte{}
	for _, id := range ids {
		k := make([]byte, codec.KeySize)
		if _, err := rand.Read(k); err != nil {
			t.Fatal(err)
		}
		keys[id] = k
	}
	return keys
}

// The worker and the launcher (the starter's engine) on a client with the codec: one
// portal onboards, one fails. Read without the codec, every payload of both histories
// is encrypted with the current key and no scope, API or error text is readable; read
// with it, the input and result decode. The codec endpoint decodes a payload for a
// caller with the token and refuses one without.
func TestCodec_HistoryIsEncryptedAndTheEndpointDecodesIt(t *testing.T) {
	srv := devserver.Start(t)
	sb := sandboxtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	keys := codecKeys(t, "k1", "k2")
	pc, err := codec.New("k2", keys)
	if err != nil {
		t.Fatal(err)
	}
	tq := "e2e-codec"
	tcfg := config.Temporal{Address: srv.FrontendHostPort(), Namespace: "default", TaskQueue: tq}
	c, err := wiring.DialTemporal(ctx, tcfg, quietTemporalLogger(), pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)        // after the worker's stop
	startWorker(t, c, sb, tq) // stops at the end of the test

	runs, err := launcher.Start(ctx, c, tq, []dcrflow.PortalSpec{codecPortal(), codecBrokenPortal()})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := launcher.Wait(ctx, runs)
	ok, broken := outcomes[0], outcomes[1]
	if !ok.Succeeded || ok.Result == nil || ok.Result.Validation == nil || !ok.Result.Validation.Passed {
		t.Fatalf("payments through the codec: %+v %v", ok.Result, ok.Err)
	}
	// The failure's message was encrypted by the worker and decrypted by this client.
	if broken.Succeeded || broken.Err == nil || !strings.Contains(broken.Err.Error(), "no-such-api") {
		t.Fatalf("broken portal: succeeded=%v err=%v", broken.Succeeded, broken.Err)
	}

	// Without the codec: nothing readable.
	plain := srv.Client()
	var started *commonpb.Payload
	for _, r := range runs {
		events := history(t, ctx, plain, r.WorkflowID, r.RunID)
		n := 0
		for _, e := range events {
			raw, err := proto.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range codecCleartext {
				if bytes.Contains(raw, []byte(s)) {
					t.Errorf("%s: event %d (%s) shows %q in the clear", r.Portal, e.GetEventId(), e.GetEventType(), s)
				}
			}
			codecVisit(e.ProtoReflect(), e.GetEventType().String(), func(path string, p *commonpb.Payload) {
				n++
				if enc := string(p.GetMetadata()[converter.MetadataEncoding]); enc != codec.MetadataEncodingEncrypted {
					t.Errorf("%s: %s: payload encoding %q, want %s", r.Portal, path, enc, codec.MetadataEncodingEncrypted)
				}
				if id := string(p.GetMetadata()[codec.MetadataKeyID]); id != "k2" {
					t.Errorf("%s: %s: key id %q, want the current k2", r.Portal, path, id)
				}
			}, func(path string, f *failurepb.Failure) {
				if f.GetEncodedAttributes() == nil || f.GetStackTrace() != "" {
					t.Errorf("%s: %s: failure message %q / stack trace not encrypted", r.Portal, path, f.GetMessage())
				}
			})
			if r.Portal == "payments" && e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED {
				started = e.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0]
			}
		}
		if n < 5 {
			t.Errorf("%s: only %d payloads in the history: the walk proves nothing", r.Portal, n)
		}
	}
	if started == nil {
		t.Fatal("no started event")
	}
	var spec dcrflow.PortalSpec
	if err := converter.GetDefaultDataConverter().FromPayload(started, &spec); err == nil {
		t.Error("the default data converter reads the encrypted input")
	}

	// With the codec: the input decodes to the spec, the result to the outcome.
	dc := codec.NewDataConverter(pc)
	if err := dc.FromPayload(started, &spec); err != nil || spec.Key != "payments" || spec.Scopes[0].Name != "payments:read" {
		t.Fatalf("decoded input = %+v, %v", spec, err)
	}
	var result dcrflow.OnboardResult
	if err := dc.FromPayload(codecResult(t, ctx, plain, runs[0]), &result); err != nil || result.Portal != "payments" || len(result.Resources) == 0 {
		t.Fatalf("decoded result = %+v, %v", result, err)
	}

	// The HTTP codec endpoint, as the worker serves it.
	ep, err := codec.Listen("127.0.0.1:0", codec.Handler(pc, codec.HandlerOptions{AuthToken: "ui-t0ken"}))
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Shutdown(context.Background())
	codecCheckEndpoint(t, ep.URL(), "ui-t0ken", started, "payments:read")
}

func codecResult(t *testing.T, ctx context.Context, c client.Client, r launcher.Run) *commonpb.Payload {
	t.Helper()
	for _, e := range history(t, ctx, c, r.WorkflowID, r.RunID) {
		if a := e.GetWorkflowExecutionCompletedEventAttributes(); a != nil {
			return a.GetResult().GetPayloads()[0]
		}
	}
	t.Fatalf("%s: no completion event", r.Portal)
	return nil
}

// codecVisit calls payload for every Payload and failure for every Failure in m, search
// attributes excepted (Temporal indexes them; they are never encoded).
func codecVisit(m protoreflect.Message, path string, payload func(string, *commonpb.Payload), failure func(string, *failurepb.Failure)) {
	switch v := m.Interface().(type) {
	case *commonpb.Payload:
		payload(path, v)
		return
	case *commonpb.SearchAttributes:
		return
	case *failurepb.Failure:
		failure(path, v)
	}
	m.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		p := path + "." + string(fd.Name())
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < val.List().Len(); i++ {
				codecVisit(val.List().Get(i).Message(), fmt.Sprintf("%s[%d]", p, i), payload, failure)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			val.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				codecVisit(mv.Message(), p+"["+k.String()+"]", payload, failure)
				return true
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			codecVisit(val.Message(), p, payload, failure)
		}
		return true
	})
}

// codecCheckEndpoint: CORS preflight without a token, 401 without or with a wrong
// token, and POST /{namespace}/decode turning p back into JSON containing want.
func codecCheckEndpoint(t *testing.T, base, token string, p *commonpb.Payload, want string) {
	t.Helper()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, auth string) (int, http.Header, string) {
		req, err := http.NewRequest(method, base+"/default/decode", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", codec.DefaultUIOrigin)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", "default")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	code, h, _ := call(http.MethodOptions, "")
	if code != http.StatusOK || h.Get("Access-Control-Allow-Origin") != codec.DefaultUIOrigin || h.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "X-Namespace") {
		t.Errorf("preflight: %d %v", code, h)
	}
	for _, auth := range []string{"", "Bearer not-" + token} {
		if code, _, b := call(http.MethodPost, auth); code != http.StatusUnauthorized || strings.Contains(b, want) {
			t.Errorf("decode with authorization %q: %d %s", auth, code, b)
		}
	}
	code, _, b := call(http.MethodPost, "Bearer "+token)
	if code != http.StatusOK {
		t.Fatalf("decode: %d %s", code, b)
	}
	var out commonpb.Payloads
	if err := protojson.Unmarshal([]byte(b), &out); err != nil {
		t.Fatalf("decode answer %s: %v", b, err)
	}
	if len(out.Payloads) != 1 || string(out.Payloads[0].GetMetadata()[converter.MetadataEncoding]) != "json/plain" ||
		!strings.Contains(string(out.Payloads[0].GetData()), want) {
		t.Errorf("decoded payloads = %v", out.Payloads)
	}
}

// The binaries: a worker with two keys (current k2) serving the codec endpoint on
// -codec-addr with a token, and a starter with the same keys, onboard a portal; the
// history is encrypted with k2 and the worker's endpoint decodes it.
func TestCodec_BinariesEncryptAndServeTheEndpoint(t *testing.T) {
	dir := t.TempDir()
	workerBin, starterBin := build(t, dir, "./worker"), buildDcrflow(t, dir)
	srv := devserver.Start(t)
	sb := sandboxtest.Start(t)
	keys := codecKeys(t, "k1", "k2")
	keyFile := dir + "/k1.key"
	if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(keys["k1"])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	shared := []string{"DCRFLOW_TEMPORAL_ADDRESS=" + srv.FrontendHostPort(), "DCRFLOW_TEMPORAL_TASK_QUEUE=codec-binaries",
		"DCRFLOW_CODEC_KEY_ID=k2", "DCRFLOW_CODEC_KEY_K1_FILE=" + keyFile, "DCRFLOW_CODEC_KEY_K2=" + base64.StdEncoding.EncodeToString(keys["k2"])}
	addr := freeAddr(t)

	var out syncBuffer
	w := exec.Command(workerBin, "-codec-addr", addr)
	w.Env = append(badcfgEnv(), append(shared, "DCRFLOW_OKTA_ORG_URL="+sb.OktaURL, "DCRFLOW_OKTA_TOKEN="+sbokta.DefaultManagementToken,
		"DCRFLOW_DCR_TOKEN_DEFAULT="+sbokta.DefaultDCRToken, "DCRFLOW_KONNECT_BASE_URL="+sb.KonnectURL,
		"DCRFLOW_KONNECT_TOKEN="+sbkonnect.DefaultToken, "DCRFLOW_CODEC_AUTH_TOKEN=bin-t0ken")...)
	w.Stdout, w.Stderr = &out, &out
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- w.Wait() }()
	t.Cleanup(func() {
		_ = w.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "Started Worker") {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("worker exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker did not start:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "codec endpoint for the Temporal UI") || !strings.Contains(out.String(), `"encryption_key_id":"k2"`) {
		t.Errorf("worker log lacks the codec endpoint or key id:\n%s", out.String())
	}

	st := exec.Command(starterBin, "onboard", "-f", "examples/portals.yaml", "--portal", "payments", "--wait")
	st.Dir = ".."
	st.Env = append(badcfgEnv(), shared...)
	so, err := st.CombinedOutput()
	if err != nil || !strings.Contains(string(so), "onboarded") {
		t.Fatalf("starter: %v\n%s\nworker:\n%s", err, so, out.String())
	}

	ctx := context.Background()
	events := history(t, ctx, srv.Client(), dcrflow.OnboardWorkflowID("payments"), "")
	input := events[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0]
	if id := string(input.GetMetadata()[codec.MetadataKeyID]); id != "k2" || bytes.Contains(input.GetData(), []byte("payments:read")) {
		t.Fatalf("the starter's input: key id %q, readable=%v", id, bytes.Contains(input.GetData(), []byte("payments:read")))
	}
	last := events[len(events)-1].GetWorkflowExecutionCompletedEventAttributes().GetResult().GetPayloads()[0]
	if id := string(last.GetMetadata()[codec.MetadataKeyID]); id != "k2" {
		t.Fatalf("the worker's result: key id %q", id)
	}
	codecCheckEndpoint(t, "http://"+addr, "bin-t0ken", input, "payments:read")
	codecCheckEndpoint(t, "http://"+addr, "bin-t0ken", last, `"portal":"payments"`)
	// The documented CLI use: temporal workflow show through the worker's endpoint.
	if cli := os.Getenv(devserver.EnvBinary); cli != "" {
		b, _ := exec.Command(cli, "workflow", "show", "-w", dcrflow.OnboardWorkflowID("payments"), "--address", srv.FrontendHostPort(),
			"--codec-endpoint", "http://"+addr, "--codec-auth", "Bearer bin-t0ken", "-o", "json").CombinedOutput()
		// -o json prints metadata and data in base64.
		plainEnc, encEnc := base64.StdEncoding.EncodeToString([]byte("json/plain")), base64.StdEncoding.EncodeToString([]byte(codec.MetadataEncodingEncrypted))
		if got := string(b); !strings.Contains(got, plainEnc) || strings.Contains(got, encEnc) {
			t.Errorf("temporal workflow show --codec-endpoint --codec-auth did not decode every payload:\n%.3000s", got)
		}
	}
	for _, s := range []string{"bin-t0ken", base64.StdEncoding.EncodeToString(keys["k2"]), base64.StdEncoding.EncodeToString(keys["k1"])} {
		if strings.Contains(out.String(), s) || strings.Contains(string(so), s) {
			t.Fatal("a key or the codec token appears in the worker's or starter's output")
		}
	}
}
