package okta

import (
	"net/http"
	"strings"
	"testing"
)

func TestNew_ChecksConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, url, token, wantErr, wantURL string
	}{
		{"https", "https://acme.okta.com/", "t", "", "https://acme.okta.com"},
		{"loopback ipv4", "http://127.0.0.1:8080", "t", "", "http://127.0.0.1:8080"},
		{"loopback 127/8", "http://127.3.4.5:1", "t", "", "http://127.3.4.5:1"},
		{"loopback ipv6", "http://[::1]:9000", "t", "", "http://[::1]:9000"},
		{"localhost", "http://localhost:9000", "t", "", "http://localhost:9000"},
		{"plain http elsewhere", "http://acme.okta.com", "t", "https is required", ""},
		{"plain http private ip", "http://10.0.0.1", "t", "https is required", ""},
		{"other scheme", "ftp://acme.okta.com", "t", "want an https URL", ""},
		{"no host", "https://", "t", "want https://host", ""},
		{"query", "https://acme.okta.com?x=1", "t", "want https://host", ""},
		{"no token", "https://acme.okta.com", " ", "Token is required", ""},
	} {
		c, err := New(Config{OrgURL: tc.url, Token: tc.token})
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.orgURL != tc.wantURL {
			t.Errorf("%s: org URL %q, want %q", tc.name, c.orgURL, tc.wantURL)
		}
		cfg := c.sdk.GetConfig()
		if cfg.Okta.Testing.DisableHttpsCheck != strings.HasPrefix(tc.wantURL, "http://") {
			t.Errorf("%s: https check lifted = %v", tc.name, cfg.Okta.Testing.DisableHttpsCheck)
		}
	}
}

func TestNew_DoesNotModifyTheCallersHTTPClient(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	if _, err := New(Config{OrgURL: "https://acme.okta.com", Token: "t", HTTPClient: hc}); err != nil {
		t.Fatal(err)
	}
	if hc.Transport != nil {
		t.Error("New replaced the transport of the caller's client")
	}
}

func TestObserver_SeesEveryExchange(t *testing.T) {
	t.Parallel()
	h := start(t)
	if _, err := h.c.GetAuthServer(ctx(t), "default"); err != nil {
		t.Fatal(err)
	}
	infos := h.observed("GetAuthServer")
	if len(infos) != 1 {
		t.Fatalf("observed %d exchanges", len(infos))
	}
	i := infos[0]
	if i.Method != http.MethodGet || i.StatusCode != http.StatusOK || i.RateLimit.Limit <= 0 || i.RateLimit.Reset.IsZero() || i.Duration <= 0 {
		t.Errorf("info %+v", i)
	}
	if _, err := h.c.GetAuthServer(ctx(t), ""); err == nil || !strings.Contains(err.Error(), "not sent") {
		t.Errorf("empty id: %v", err)
	}
	if n := len(h.observed("GetAuthServer")); n != 1 {
		t.Errorf("an invalid call reached the wire (%d exchanges)", n)
	}
}
