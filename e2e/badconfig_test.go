package e2e

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/config"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/internal/wiring"
)

// badcfgEnv is the test's environment without any DCRFLOW_ setting, so a case sees
// only its own.
func badcfgEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, config.EnvPrefix+"_") {
			env = append(env, kv)
		}
	}
	return env
}

// Each bad setting makes the worker or the starter exit non-zero at once with one line
// on stderr naming the setting (and its variable) — no stack trace, no log noise, and a
// dial to an unreachable Temporal bounded by wiring.DialTimeout.
func TestBadConfig_OneClearLineAndANonZeroExit(t *testing.T) {
	dir := t.TempDir()
	bins := map[string]string{"worker": build(t, dir, "./worker"), "dcrflow": buildDcrflow(t, dir)}
	srv := devserver.Start(t)
	up := srv.FrontendHostPort()
	down := freeAddr(t)

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() }) // the parallel cases run after this function returns
	// A "server" that accepts connections and never says a word: only the dial
	// timeout ends the wait.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	brokenYAML := filepath.Join(dir, "broken.yaml")
	os.WriteFile(brokenYAML, []byte("temporal:\n  address: [unclosed\n okta: {\n"), 0o600)
	key := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes of base64
	workerOK := map[string]string{"DCRFLOW_TEMPORAL_ADDRESS": up, "DCRFLOW_OKTA_ORG_URL": "http://127.0.0.1:1", "DCRFLOW_OKTA_TOKEN": "ssws-x",
		"DCRFLOW_KONNECT_BASE_URL": "http://127.0.0.1:2", "DCRFLOW_KONNECT_TOKEN": "kpat_x", "DCRFLOW_DCR_TOKEN_DEFAULT": "dcr-x"}
	starterOK := map[string]string{"DCRFLOW_TEMPORAL_ADDRESS": up}

	type tc struct {
		name, bin string
		args      []string
		env       map[string]string // over the binary's valid settings; "" unsets
		want      []string
		dial      bool // bounded by the dial timeout rather than immediate
	}
	cases := []tc{
		{name: "unreachable temporal", bin: "worker", env: map[string]string{"DCRFLOW_TEMPORAL_ADDRESS": down}, dial: true,
			want: []string{"cannot reach Temporal at " + down, "temporal.address", "DCRFLOW_TEMPORAL_ADDRESS"}},
		{name: "temporal that never answers", bin: "worker", env: map[string]string{"DCRFLOW_TEMPORAL_ADDRESS": silent.Addr().String()}, dial: true,
			want: []string{"cannot reach Temporal at " + silent.Addr().String() + " within 10s", "DCRFLOW_TEMPORAL_ADDRESS"}},
		{name: "unknown namespace", bin: "worker", env: map[string]string{"DCRFLOW_TEMPORAL_NAMESPACE": "no-such-ns"}, dial: true,
			want: []string{`Temporal at ` + up + ` has no namespace "no-such-ns"`, "temporal.namespace", "DCRFLOW_TEMPORAL_NAMESPACE"}},
		{name: "malformed okta url", bin: "worker", env: map[string]string{"DCRFLOW_OKTA_ORG_URL": "acme.okta.com"},
			want: []string{"okta.org_url", "DCRFLOW_OKTA_ORG_URL", "not an absolute https URL"}},
		{name: "plain http konnect url", bin: "worker", env: map[string]string{"DCRFLOW_KONNECT_BASE_URL": "http://eu.api.konghq.com"},
			want: []string{"konnect.base_url", "DCRFLOW_KONNECT_BASE_URL", "plain http is allowed only to a loopback host"}},
		{name: "missing okta token", bin: "worker", env: map[string]string{"DCRFLOW_OKTA_TOKEN": ""},
			want: []string{"okta.token is not set", "DCRFLOW_OKTA_TOKEN"}},
		{name: "missing konnect token file", bin: "worker", env: map[string]string{"DCRFLOW_KONNECT_TOKEN": "", "DCRFLOW_KONNECT_TOKEN_FILE": filepath.Join(dir, "nope")},
			want: []string{"DCRFLOW_KONNECT_TOKEN_FILE", "no such file"}},
		{name: "malformed codec key", bin: "worker", env: map[string]string{"DCRFLOW_CODEC_KEY_ID": "k1", "DCRFLOW_CODEC_KEY_K1": "dG9vIHNob3J0"},
			want: []string{"codec.keys.k1", "DCRFLOW_CODEC_KEY_K1", "want 32"}},
		{name: "broken config file", bin: "worker", args: []string{"-config", brokenYAML},
			want: []string{"config file " + brokenYAML}},
		{name: "codec endpoint address busy", bin: "worker", args: []string{"-codec-addr", busy.Addr().String()}, dial: true,
			env:  map[string]string{"DCRFLOW_CODEC_KEY_ID": "k1", "DCRFLOW_CODEC_KEY_K1": key},
			want: []string{"codec.listen (-codec-addr, DCRFLOW_CODEC_LISTEN) " + busy.Addr().String(), "address already in use"}},
		{name: "unreachable temporal", bin: "dcrflow", env: map[string]string{"DCRFLOW_TEMPORAL_ADDRESS": down}, dial: true,
			want: []string{"cannot reach Temporal at " + down, "temporal.address", "DCRFLOW_TEMPORAL_ADDRESS"}},
		{name: "unknown namespace", bin: "dcrflow", env: map[string]string{"DCRFLOW_TEMPORAL_NAMESPACE": "no-such-ns"}, dial: true,
			want: []string{`has no namespace "no-such-ns"`, "DCRFLOW_TEMPORAL_NAMESPACE"}},
		{name: "malformed codec key", bin: "dcrflow", env: map[string]string{"DCRFLOW_CODEC_KEY_ID": "k1", "DCRFLOW_CODEC_KEY_K1": "not base64!"},
			want: []string{"codec.keys.k1", "DCRFLOW_CODEC_KEY_K1", "not valid base64"}},
		{name: "codec key id not among the keys", bin: "dcrflow", env: map[string]string{"DCRFLOW_CODEC_KEY_ID": "k2", "DCRFLOW_CODEC_KEY_K1": key},
			want: []string{`codec.key_id (DCRFLOW_CODEC_KEY_ID) "k2" is not among codec.keys (k1)`}},
		{name: "tls cert without key", bin: "dcrflow", env: map[string]string{"DCRFLOW_TEMPORAL_TLS_CERT_FILE": brokenYAML},
			want: []string{"temporal.tls.cert_file is set but temporal.tls.key_file", "DCRFLOW_TEMPORAL_TLS_KEY_FILE"}},
	}
	for _, c := range cases {
		t.Run(c.bin+"/"+c.name, func(t *testing.T) {
			t.Parallel()
			settings := map[string]string{}
			base := workerOK
			args := c.args
			if c.bin == "dcrflow" {
				base = starterOK
				args = append([]string{"onboard", "-f", "examples/portals.yaml", "--portal", "payments"}, args...)
			}
			for k, v := range base {
				settings[k] = v
			}
			for k, v := range c.env {
				settings[k] = v
			}
			env := badcfgEnv()
			for k, v := range settings {
				if v != "" {
					env = append(env, k+"="+v)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), wiring.DialTimeout+20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bins[c.bin], args...)
			cmd.Dir = ".."
			cmd.Env = env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() <= 0 {
				t.Fatalf("exit: %v (want a non-zero exit code)\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
			}
			limit := 5 * time.Second
			if c.dial {
				limit = wiring.DialTimeout + 5*time.Second
			}
			if took > limit {
				t.Errorf("took %v, want at most %v", took, limit)
			}
			msg := strings.TrimRight(stderr.String(), "\n")
			t.Logf("exit %d after %v: %s", exit.ExitCode(), took.Round(time.Millisecond), msg)
			if msg == "" || strings.Contains(msg, "\n") {
				t.Errorf("stderr is not exactly one line:\n%s", stderr.String())
			}
			if !strings.HasPrefix(msg, c.bin+": ") {
				t.Errorf("stderr does not start with %q: %s", c.bin+": ", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("stderr lacks %q: %s", w, msg)
				}
			}
			all := stdout.String() + stderr.String()
			for _, bad := range []string{"goroutine ", "panic", ".go:", `"level"`} {
				if strings.Contains(all, bad) {
					t.Errorf("output contains %q:\n%s", bad, all)
				}
			}
			for k, v := range settings {
				if strings.Contains(k, "TOKEN") && v != "" && !strings.HasSuffix(k, "_FILE") && strings.Contains(all, v) {
					t.Errorf("%s's value appears in the output", k)
				}
			}
			if strings.Contains(all, key) {
				t.Error("a codec key appears in the output")
			}
		})
	}
}
