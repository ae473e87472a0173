package config

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"

	"github.com/dcrflow/dcrflow/codec"
)

func b64Key(t *testing.T) string {
	t.Helper()
	k := make([]byte, codec.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(k)
}

func TestLoadStarter_CodecKeysFromFileAndEnvironment(t *testing.T) {
	k1, k2, k3 := b64Key(t), b64Key(t), b64Key(t)
	path := writeFile(t, "starter.yaml", "codec: {key_id: k1, keys: {k1: \""+k1+"\", k2: \"bm90IHRoZSBrZXk=\"}}\n")
	t.Setenv("DCRFLOW_CODEC_KEY_ID", "K2")                                   // env wins; ids are lowercase
	t.Setenv("DCRFLOW_CODEC_KEY_K2", k2)                                     // env wins over the file's k2
	t.Setenv("DCRFLOW_CODEC_KEY_OLD_2024_FILE", writeFile(t, "k3", k3+"\n")) // a mounted secret
	t.Setenv("DCRFLOW_OKTA_TOKEN", "never-read-by-the-starter")
	s, err := LoadStarter(path)
	if err != nil {
		t.Fatal(err)
	}
	pc := s.Codec.PayloadCodec()
	if pc == nil || pc.KeyID() != "k2" || strings.Join(pc.KeyIDs(), ",") != "k1,k2,old-2024" {
		t.Fatalf("codec = %+v", pc)
	}
	// Encrypting with k2 and decrypting works with the loaded keys.
	enc, err := pc.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	if dec, err := pc.Decode(enc); err != nil || string(dec[0].Data) != "x" {
		t.Fatalf("decode = %v, %v", dec, err)
	}
}

func TestLoad_NoKeysNoEncryption(t *testing.T) {
	s, err := LoadStarter("")
	if err != nil {
		t.Fatal(err)
	}
	if s.Codec.PayloadCodec() != nil {
		t.Fatal("a codec without keys")
	}
}

func TestLoad_CodecErrorsNameTheSetting(t *testing.T) {
	good := b64Key(t)
	for name, tc := range map[string]struct {
		env  map[string]string
		want []string
	}{
		"short key":      {map[string]string{"DCRFLOW_CODEC_KEY_ID": "k1", "DCRFLOW_CODEC_KEY_K1": "c2hvcnQ="}, []string{"codec.keys.k1", "DCRFLOW_CODEC_KEY_K1", "decodes to 5 bytes, want 32"}},
		"not base64":     {map[string]string{"DCRFLOW_CODEC_KEY_ID": "k1", "DCRFLOW_CODEC_KEY_K1": "%%%not-a-key%%%"}, []string{"codec.keys.k1", "not valid base64"}},
		"no key_id":      {map[string]string{"DCRFLOW_CODEC_KEY_K1": good}, []string{"codec.key_id", "DCRFLOW_CODEC_KEY_ID", "is not set", "k1"}},
		"unknown key_id": {map[string]string{"DCRFLOW_CODEC_KEY_ID": "k9", "DCRFLOW_CODEC_KEY_K1": good}, []string{`codec.key_id (DCRFLOW_CODEC_KEY_ID) "k9" is not among codec.keys (k1)`, "DCRFLOW_CODEC_KEY_K9"}},
		"key_id only":    {map[string]string{"DCRFLOW_CODEC_KEY_ID": "k1"}, []string{`codec.key_id is "k1" but no key is configured`, "DCRFLOW_CODEC_KEY_K1"}},
		"missing file":   {map[string]string{"DCRFLOW_CODEC_KEY_ID": "k1", "DCRFLOW_CODEC_KEY_K1_FILE": "/nonexistent/k1"}, []string{"DCRFLOW_CODEC_KEY_K1_FILE", "/nonexistent/k1"}},
	} {
		t.Run(name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := LoadStarter("")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if v := tc.env["DCRFLOW_CODEC_KEY_K1"]; v != "" && strings.Contains(err.Error(), v) {
				t.Errorf("the error repeats the key: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("one problem, several lines: %q", err)
			}
		})
	}
}

func TestLoadWorker_CodecEndpointSettings(t *testing.T) {
	workerEnv(t)
	tokenFile := writeFile(t, "codec-token", "tok3n\n")
	t.Setenv("DCRFLOW_CODEC_KEY_ID", "k1")
	t.Setenv("DCRFLOW_CODEC_KEY_K1", b64Key(t))
	t.Setenv("DCRFLOW_CODEC_LISTEN", "127.0.0.1:0")
	t.Setenv("DCRFLOW_CODEC_AUTH_TOKEN_FILE", tokenFile)
	w, err := LoadWorker("")
	if err != nil {
		t.Fatal(err)
	}
	if w.Codec.Listen != "127.0.0.1:0" || w.Codec.AuthToken != "tok3n" || w.Codec.CORSOrigin != codec.DefaultUIOrigin || w.Codec.PayloadCodec() == nil {
		t.Fatalf("codec = %+v", w.Codec)
	}
	if w.Codec.OpenToAll() {
		t.Error("loopback with a token is reported open to all")
	}

	// An endpoint without keys cannot decode anything: refused, naming the settings.
	t.Setenv("DCRFLOW_CODEC_KEY_ID", "")
	t.Setenv("DCRFLOW_CODEC_KEY_K1", "")
	_, err = LoadWorker("")
	if err == nil || !strings.Contains(err.Error(), "codec.listen (-codec-addr, DCRFLOW_CODEC_LISTEN)") || !strings.Contains(err.Error(), "codec.keys.k1") {
		t.Fatalf("listen without keys: %v", err)
	}
}

// workerEnv sets a minimal valid worker configuration in the environment.
func workerEnv(t *testing.T) {
	t.Helper()
	for k, v := range map[string]string{"DCRFLOW_OKTA_ORG_URL": "https://acme.okta.com", "DCRFLOW_OKTA_TOKEN": "ssws",
		"DCRFLOW_KONNECT_REGION": "eu", "DCRFLOW_KONNECT_TOKEN": "kpat_x", "DCRFLOW_DCR_TOKEN_DEFAULT": "dcr"} {
		t.Setenv(k, v)
	}
}
