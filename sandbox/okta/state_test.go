package okta

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReset_RestoresSeedAndKeepsKeys(t *testing.T) {
	t.Parallel()
	h := start(t)
	fresh := h.em.Snapshot()
	kid := h.em.keys["default"].kid
	h.createScope("default", map[string]any{"name": "temp"})
	h.mgmtCall(http.MethodPost, claimsPath, clientIDClaim("client_id"))
	id, secret := h.register("svc")
	if r := h.tokenCall("default", ccForm("temp"), id, secret); r.status != http.StatusOK {
		t.Fatalf("token: %d", r.status)
	}
	if reflect.DeepEqual(fresh, h.em.Snapshot()) {
		t.Fatal("state did not change")
	}
	h.em.Reset()
	if got := h.em.Snapshot(); !reflect.DeepEqual(fresh, got) {
		t.Errorf("after Reset:\n got %+v\nwant %+v", got, fresh)
	}
	if h.em.keys["default"].kid != kid {
		t.Error("Reset changed the signing key")
	}
}

func TestState_HoldsNoSecrets(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.createScope("default", map[string]any{"name": "s"})
	id, secret := h.register("svc")
	r := h.tokenCall("default", ccForm("s"), id, secret)
	var tok tokenResponse
	r.decode(t, &tok)
	raw, err := json.Marshal(h.em.State())
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"client secret": secret, "access token": tok.AccessToken,
		"management token": DefaultManagementToken, "DCR token": DefaultDCRToken} {
		if secret == "" || strings.Contains(string(raw), secret) {
			t.Errorf("state contains the %s (or it is empty)", name)
		}
	}
	if !strings.Contains(string(raw), id) || !strings.Contains(string(raw), `"tokens_issued":1`) {
		t.Errorf("state misses the client or the token count: %s", raw)
	}
}

func TestNew_RejectsBadSeedAndBaseURL(t *testing.T) {
	t.Parallel()
	if _, err := New(DefaultSeed(), Options{BaseURL: "not a url"}); err == nil {
		t.Error("accepted a bad base URL")
	}
	bad := DefaultSeed()
	bad.AuthorizationServers[1].Scopes = append(bad.AuthorizationServers[1].Scopes, SeedScope{Name: "okta.bad"})
	if _, err := New(bad, Options{BaseURL: "http://127.0.0.1:1"}); err == nil || !strings.Contains(err.Error(), "okta.bad") {
		t.Errorf("bad seed scope: %v", err)
	}
	dup := DefaultSeed()
	dup.AuthorizationServers = append(dup.AuthorizationServers, dup.AuthorizationServers[0])
	if _, err := New(dup, Options{BaseURL: "http://127.0.0.1:1"}); err == nil {
		t.Error("accepted a server seeded twice")
	}
}

func TestDefaultSeed_MatchesExportedNames(t *testing.T) {
	t.Parallel()
	s := DefaultSeed()
	if s.ManagementTokens[0] != DefaultManagementToken || s.DCRTokens[0] != DefaultDCRToken {
		t.Error("token constants differ from the seed")
	}
	var ids []string
	for _, as := range s.AuthorizationServers {
		ids = append(ids, as.ID)
	}
	if strings.Join(ids, ",") != strings.Join([]string{DefaultServerID, PartnersServerID, NoPolicyServerID}, ",") {
		t.Errorf("server ids %v", ids)
	}
	if len(s.AuthorizationServers[2].Policies) != 0 {
		t.Error("the free-plan server has a policy")
	}
}

func TestEmulator_ConcurrentUseIsSafe(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.createScope("default", map[string]any{"name": "c"})
	type creds struct{ id, secret string }
	var clients []creds
	for i := range 8 {
		id, secret := h.register(fmt.Sprintf("svc%d", i))
		clients = append(clients, creds{id, secret})
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				name := fmt.Sprintf("w%d-%d", i, j)
				if r := h.mgmtCall(http.MethodPost, scopesPath, map[string]any{"name": name}); r.status != http.StatusCreated {
					errs <- fmt.Sprintf("create %s: %d", name, r.status)
				}
				if r := h.mgmtCall(http.MethodGet, scopesPath+"?q=w", nil); r.status != http.StatusOK {
					errs <- fmt.Sprintf("list: %d", r.status)
				}
			}
			if r := h.tokenCall("default", ccForm("c"), clients[i].id, clients[i].secret); r.status != http.StatusOK {
				errs <- fmt.Sprintf("token: %d", r.status)
			}
			_ = h.em.State()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("concurrent calls did not finish")
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	st := h.em.Snapshot()
	if len(st.Clients) != 8 || st.TokensIssued != 8 || len(st.AuthorizationServers[0].Scopes) != 6+1+40 {
		t.Errorf("clients %d tokens %d scopes %d", len(st.Clients), st.TokensIssued, len(st.AuthorizationServers[0].Scopes))
	}
}
