package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/internal/costtest"
	"github.com/dcrflow/dcrflow/internal/textsafe"
)

// Tokens as a careless user pastes them (made up, of the real shapes).
const (
	kpatToken = "kpat_abcdefghijklmnopqrstuvwxyz0123456789abcdefgh"
	oktaToken = "00AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"
)

const readme = `remove it or correct it (the settings are listed in README, "Pointing it at a real Okta org and Konnect region")`

// badConfigs are worker (or starter) configurations a careless or hostile user may
// write. Each is refused with exactly the errors listed (one per line, F standing for
// the file's path, D for the test's directory of odd files), within bounds on time and
// heap, without echoing a secret.
var badConfigs = []struct {
	name    string
	file    string            // the configuration file's content; "" with path: none
	path    string            // instead of a written file, e.g. D/zero
	env     map[string]string // besides workerEnv's
	starter bool
	want    []string
	secret  string
}{
	// Quietly ignored settings.
	{name: "a typo in temporal.address", file: "temporal:\n  adress: temporal.internal:7233\n", want: []string{
		"config F: temporal.adress is not a setting (did you mean temporal.address?); " + readme}},
	{name: "rate_limit for rate_limits", file: "rate_limit:\n  konnect_rpm: 600\n", want: []string{
		"config F: rate_limit.konnect_rpm is not a setting (did you mean rate_limits.konnect_rpm?); " + readme}},
	{name: "dcr_token for dcr_tokens", file: "dcr_token: {partners: x}\n", want: []string{
		"config F: dcr_token.partners is not a setting (did you mean dcr_tokens.partners?); " + readme}},
	{name: "a typo under codec and okta", file: "codec: {key_ids: k1}\nokta: {orgurl: https://acme.okta.com}\n", want: []string{
		"config F: codec.key_ids is not a setting (did you mean codec.key_id?); " + readme,
		"config F: okta.orgurl is not a setting (did you mean okta.org_url?); " + readme}},
	{name: "a setting of no kind", file: "verbose: true\n", want: []string{
		"config F: verbose is not a setting; " + readme}},
	{name: "a typo in the starter's file", starter: true, file: "temporal: {namespce: prod}\n", want: []string{
		"config F: temporal.namespce is not a setting (did you mean temporal.namespace?); " + readme}},
	{name: "a secret as an unknown key", file: kpatToken + ": 1\n", secret: kpatToken, want: []string{
		"config F: kpat_ab… is not a setting; " + readme}},
	{name: "unknown keys of 1,000 characters", file: strings.Repeat("a", 1000) + ": 1\n" + strings.Repeat("b", 1000) + ": 1\n", want: []string{
		"config F: " + strings.Repeat("a", 60) + "… is not a setting; " + readme,
		"config F: " + strings.Repeat("b", 60) + "… is not a setting; " + readme}},

	// Files that are not files, or too large.
	{name: "20 unknown keys of 1 MB", file: strings.Repeat(strings.Repeat("k", 1<<20)+": 1\n", 20), want: []string{
		"config file F: larger than 64 KiB, the limit for a configuration file; keep only dcrflow's settings in it"}},
	{name: "-config is a link to /dev/zero", path: "D/zero", want: []string{
		"config file D/zero: a character device (such as /dev/zero or /dev/urandom), not a regular file; a configuration file must be a regular file (of at most 64 KiB)"}},
	{name: "-config is a FIFO", path: "D/fifo", want: []string{
		"config file D/fifo: a named pipe (FIFO), not a regular file; a configuration file must be a regular file (of at most 64 KiB)"}},
	{name: "a token _FILE is a link to /dev/urandom", env: map[string]string{"DCRFLOW_OKTA_TOKEN_FILE": "D/random"}, want: []string{
		"DCRFLOW_OKTA_TOKEN_FILE D/random: a character device (such as /dev/zero or /dev/urandom), not a regular file; a secret file must be a regular file (of at most 64 KiB)"}},
	{name: "a DCR token _FILE is a FIFO", env: map[string]string{"DCRFLOW_DCR_TOKEN_PARTNERS_FILE": "D/fifo"}, want: []string{
		"DCRFLOW_DCR_TOKEN_PARTNERS_FILE D/fifo: a named pipe (FIFO), not a regular file; a secret file must be a regular file (of at most 64 KiB)"}},
	{name: "an API key _FILE of 1 GiB", env: map[string]string{"DCRFLOW_TEMPORAL_API_KEY_FILE": "D/big"}, want: []string{
		"DCRFLOW_TEMPORAL_API_KEY_FILE D/big: larger than 64 KiB, the limit for a secret file; the file should hold the token or key alone"}},
	{name: "a CA file that is /dev/zero", file: "temporal: {tls: {ca_file: D/zero}}\n", want: []string{
		"config F: temporal.tls.ca_file (DCRFLOW_TEMPORAL_TLS_CA_FILE) D/zero: a character device (such as /dev/zero or /dev/urandom), not a regular file; a PEM file must be a regular file (of at most 1 MiB)"}},
	{name: "an alias bomb", file: aliasBomb(), want: []string{
		"config file F: While parsing config: yaml: document contains excessive aliasing"}},

	// Secrets where they do not belong: refused, never echoed.
	{name: "a Konnect token as the namespace", file: "temporal: {namespace: " + kpatToken + "}\n", secret: kpatToken, want: []string{
		"config F: temporal.namespace (DCRFLOW_TEMPORAL_NAMESPACE) holds what looks like a Konnect access token (kpat_ab…); a secret belongs only in its own setting (okta.token, konnect.token, dcr_tokens.<name>, temporal.api_key, codec.keys.<id>, codec.auth_token): move it there, and revoke it if others have seen it"}},
	{name: "an Okta token as the Konnect region", env: map[string]string{"DCRFLOW_KONNECT_REGION": oktaToken}, secret: oktaToken, want: []string{
		`config (environment): konnect.region (DCRFLOW_KONNECT_REGION) "00AbCdE…" is not a Konnect region (one of us, eu, au, me, in, sg)`,
		"config (environment): konnect.region (DCRFLOW_KONNECT_REGION) holds what looks like an Okta API token (00AbCdE…); a secret belongs only in its own setting (okta.token, konnect.token, dcr_tokens.<name>, temporal.api_key, codec.keys.<id>, codec.auth_token): move it there, and revoke it if others have seen it"}},
	{name: "a Konnect token as the Temporal address", env: map[string]string{"DCRFLOW_TEMPORAL_ADDRESS": kpatToken}, secret: kpatToken, want: []string{
		`config (environment): temporal.address (DCRFLOW_TEMPORAL_ADDRESS) "kpat_ab…": want host:port (e.g. 127.0.0.1:7233, or <namespace>.<account>.tmprl.cloud:7233)`,
		"config (environment): temporal.address (DCRFLOW_TEMPORAL_ADDRESS) holds what looks like a Konnect access token (kpat_ab…); a secret belongs only in its own setting (okta.token, konnect.token, dcr_tokens.<name>, temporal.api_key, codec.keys.<id>, codec.auth_token): move it there, and revoke it if others have seen it"}},
	{name: "a token as a DCR token's name", file: "dcr_tokens: {" + kpatToken + ": x}\n", secret: kpatToken, want: []string{
		"config F: dcr_tokens (a token's name) holds what looks like a Konnect access token (kpat_ab…); a secret belongs only in its own setting (okta.token, konnect.token, dcr_tokens.<name>, temporal.api_key, codec.keys.<id>, codec.auth_token): move it there, and revoke it if others have seen it"}},
	{name: "an org URL with a password", env: map[string]string{"DCRFLOW_OKTA_ORG_URL": "https://bob:hunter2-secret@acme.okta.com"}, secret: "hunter2", want: []string{
		`config (environment): okta.org_url (DCRFLOW_OKTA_ORG_URL) "https://bob:…@acme.okta.com" must not carry user info, a query or a fragment (e.g. https://acme.okta.com)`}},
}

// aliasBomb is the billion laughs.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("x0: &x0 [a, a, a, a, a, a, a, a, a]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "x%d: &x%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*x%d, ", i-1), 9), ", "))
	}
	return b.String()
}

// oddFiles makes, in a new directory, what D/… names: links to /dev/zero and
// /dev/urandom, a FIFO nobody writes to, and a sparse file of 1 GiB.
func oddFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, target := range map[string]string{"zero": "/dev/zero", "random": "/dev/urandom"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Create(filepath.Join(dir, "big")); err != nil || f.Truncate(1<<30) != nil || f.Close() != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoad_RefusesBadConfigs(t *testing.T) {
	if len(badConfigs) < 21 {
		t.Fatalf("only %d bad configurations", len(badConfigs))
	}
	for _, c := range badConfigs {
		t.Run(c.name, func(t *testing.T) {
			dir := oddFiles(t)
			subst := strings.NewReplacer("D/", dir+"/")
			workerEnv(t)
			for k, v := range c.env {
				t.Setenv(k, subst.Replace(v))
			}
			path := subst.Replace(c.path)
			if c.file != "" {
				path = writeFile(t, "w.yaml", subst.Replace(c.file))
			}
			var err error
			cost := costtest.Within(t, 2*time.Second, 32<<20, func() {
				if c.starter {
					_, err = LoadStarter(path)
				} else {
					_, err = LoadWorker(path)
				}
			})
			t.Logf("%v, heap peak %.1f MiB", cost.Time, cost.MB())
			if err == nil {
				t.Fatal("accepted")
			}
			got := strings.Split(err.Error(), "\n")
			subst = strings.NewReplacer("D/", dir+"/", "config F", "config "+path, "config file F", "config file "+path)
			for _, w := range c.want {
				if w = subst.Replace(w); !slices.Contains(got, w) {
					t.Errorf("no error is\n  %s\nin:\n  %.3000s", w, strings.Join(got, "\n  "))
				}
			}
			if len(got) != len(c.want) {
				t.Errorf("%d errors, want %d:\n  %.3000s", len(got), len(c.want), strings.Join(got, "\n  "))
			}
			if msg := err.Error(); len(msg) > 16<<10 || c.secret != "" && strings.Contains(msg, c.secret) {
				t.Errorf("the error is %d bytes long or echoes the secret: %.3000s", len(msg), msg)
			}
		})
	}
}

// A typo nobody catches leaves a default in place: with the keys checked, every
// setting named anywhere in this package's documentation is known, in any case.
func TestLoad_AcceptsEverySettingInAnyCase(t *testing.T) {
	workerEnv(t)
	path := writeFile(t, "w.yaml", `
Temporal: {Address: "127.0.0.1:7233", namespace: default, task_queue: dcrflow, api_key: k, tls: {enabled: true, server_name: t}}
okta: {org_url: "https://acme.okta.com", token: t}
konnect: {region: eu, base_url: "https://eu.api.konghq.com", token: kpat_x}
dcr_tokens: {default: d, partners: p}
codec: {listen: "", auth_token: a, cors_origin: "http://localhost:8233"}
metrics: {listen: ""}
rate_limits: {okta_management_rpm: 0, okta_dcr_rpm: 0, konnect_rpm: 0}
`)
	w, err := LoadWorker(path)
	if err != nil || w.Temporal.TLS.ServerName != "t" || len(w.Warnings) != 0 {
		t.Fatalf("w = %+v, err = %v", w.Temporal, err)
	}
	// The starter ignores the worker's settings: one file may serve both.
	if _, err := LoadStarter(path); err != nil {
		t.Fatalf("starter: %v", err)
	}
}

func TestLoad_WarnsWhenSecurityIsWeakened(t *testing.T) {
	workerEnv(t)
	path := writeFile(t, "w.yaml", "temporal: {tls: {insecure_skip_verify: true}}\n")
	want := []string{"temporal.tls.insecure_skip_verify is on: the Temporal server's certificate is not checked, so whoever sits between the worker and Temporal can read and change everything sent; use it for tests only"}
	w, err := LoadWorker(path)
	if err != nil || !slices.Equal(w.Warnings, want) {
		t.Fatalf("warnings = %q, err = %v", w.Warnings, err)
	}
	s, err := LoadStarter(path)
	if err != nil || !slices.Equal(s.Warnings, want) {
		t.Fatalf("starter warnings = %q, err = %v", s.Warnings, err)
	}
}

// The environment is shared with scripts, so a DCRFLOW_ variable that is not a setting
// is only a warning, and only when it is a near miss of one.
func TestLoad_WarnsAboutMisspeltVariables(t *testing.T) {
	workerEnv(t)
	t.Setenv("DCRFLOW_TEMPORAL_ADRESS", "temporal.internal:7233")
	t.Setenv("DCRFLOW_RATE_LIMIT_KONNECT_RPM", "600")
	t.Setenv("DCRFLOW_SEARCH_ATTRIBUTES", "DcrflowPortal=Keyword") // a script's own
	w, err := LoadWorker("")
	want := []string{
		"DCRFLOW_RATE_LIMIT_KONNECT_RPM is not a setting (did you mean DCRFLOW_RATE_LIMITS_KONNECT_RPM?); it is ignored",
		"DCRFLOW_TEMPORAL_ADRESS is not a setting (did you mean DCRFLOW_TEMPORAL_ADDRESS?); it is ignored",
	}
	if err != nil || !slices.Equal(w.Warnings, want) {
		t.Fatalf("warnings = %q, err = %v", w.Warnings, err)
	}
}

// FuzzLoadWorker feeds LoadWorker arbitrary configuration files: it must never panic
// or hang, every error line must name where the problem is, and no token-shaped
// value of the file may come back whole in the error.
//
//	go test -fuzz=FuzzLoadWorker -fuzztime=60s ./config/
func FuzzLoadWorker(f *testing.F) {
	for _, c := range badConfigs {
		if c.file != "" && len(c.file) < 4096 {
			f.Add([]byte(c.file))
		}
	}
	sandbox, err := os.ReadFile("../examples/worker-sandbox.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sandbox)
	f.Add([]byte("temporal: {tls: {ca_file: /dev/zero, cert_file: /dev/stdin, key_file: /proc/self/mem}}\n"))
	f.Add([]byte("rate_limits: 5\ncodec: {keys: {'': x, kpat_abcdefghijklmnopqrstu: y}}\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		path := filepath.Join(t.TempDir(), "w.yaml")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		w, err := LoadWorker(path)
		if err == nil {
			if w.Temporal.Address == "" || len(w.DCRTokens) == 0 || w.Okta.Token == "" || w.Konnect.Token == "" {
				t.Fatalf("accepted an incomplete configuration: %+v", w.Temporal)
			}
			return
		}
		msg := err.Error()
		for _, line := range strings.Split(msg, "\n") {
			if !strings.HasPrefix(line, "config ") && !strings.HasPrefix(line, "DCRFLOW_") {
				t.Fatalf("error line %q does not say where", line)
			}
		}
		if errors.Is(err, os.ErrNotExist) && !strings.Contains(msg, "no such file") {
			t.Fatalf("error %q", msg)
		}
		for _, in := range []string{string(raw), strings.ToLower(string(raw))} {
			for rest := in; ; {
				sec, found := textsafe.FindSecret(rest)
				if !found {
					break
				}
				if whole := rest[sec.Start:sec.End]; len(whole) > 12 && strings.Contains(msg, whole) {
					t.Fatalf("the error echoes %s %q:\n%s", sec.Kind, whole, msg)
				}
				rest = rest[sec.End:]
			}
		}
	})
}
