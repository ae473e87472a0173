package konnect

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// emptyAnswers answers every call with status and no body.
func emptyAnswers(t *testing.T, status int) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Token: "kpat_test"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The publication PUT answers without a body in some Konnect versions: success,
// and the result is what was sent.
func TestPublicationsService_PutEmptyAnswerIsSuccess(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusCreated, http.StatusNoContent} {
		c := emptyAnswers(t, status)
		p, err := c.Publications.Put(ctx(t), "api", "portal", Publication{AuthStrategyIDs: []string{"s1"}, Visibility: VisibilityPublic, AutoApproveRegistrations: true})
		if err != nil || len(p.AuthStrategyIDs) != 1 || p.AuthStrategyIDs[0] != "s1" || p.Visibility != VisibilityPublic || !p.AutoApproveRegistrations {
			t.Errorf("HTTP %d without a body: %+v %v", status, p, err)
		}
	}
}

// Where dcrflow needs the body (the id of what it created, verify's verdict), an
// empty 2xx is a clear, final error, not a zero value taken for an answer.
func TestClient_EmptyAnswerWhereTheBodyIsNeeded(t *testing.T) {
	c := emptyAnswers(t, http.StatusCreated)
	_, err := c.DCRProviders.CreateOkta(ctx(t), CreateOktaProvider{Name: "p", Issuer: "https://acme.okta.com/oauth2/default", DCRToken: "00secret"})
	var e *Error
	if !errors.Is(err, ErrEmptyBody) || !errors.As(err, &e) || e.StatusCode != http.StatusCreated || e.Temporary() {
		t.Fatalf("create with an empty answer: %v", err)
	}
	c = emptyAnswers(t, http.StatusOK)
	if _, err := c.DCRProviders.Verify(ctx(t), "id"); !errors.Is(err, ErrEmptyBody) {
		t.Fatalf("verify with an empty answer: %v", err)
	}
}
