package codec

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/protojson"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

type secret struct {
	Portal string   `json:"portal"`
	Scopes []string `json:"scopes"`
}

var sample = secret{Portal: "payments-portal", Scopes: []string{"payments:read"}}

func encodeSample(t *testing.T, dc converter.DataConverter) *commonpb.Payload {
	t.Helper()
	p, err := dc.ToPayload(sample)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCodec_RoundTripHidesThePayload(t *testing.T) {
	c, err := New("k1", map[string][]byte{"k1": newKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	dc := NewDataConverter(c)
	p := encodeSample(t, dc)
	if got := string(p.Metadata[converter.MetadataEncoding]); got != MetadataEncodingEncrypted {
		t.Errorf("encoding = %q, want %q", got, MetadataEncodingEncrypted)
	}
	if got := string(p.Metadata[MetadataKeyID]); got != "k1" {
		t.Errorf("key id = %q, want k1", got)
	}
	if len(p.Metadata) != 2 {
		t.Errorf("metadata %v carries more than the encoding and the key id", p.Metadata)
	}
	if bytes.Contains(p.Data, []byte("payments")) || bytes.Contains(p.Data, []byte("json/plain")) {
		t.Error("the encrypted payload shows its content")
	}
	var back secret
	if err := dc.FromPayload(p, &back); err != nil {
		t.Fatal(err)
	}
	if back.Portal != sample.Portal || len(back.Scopes) != 1 || back.Scopes[0] != sample.Scopes[0] {
		t.Errorf("round trip = %+v", back)
	}
	// A fresh nonce per payload: the same value never encrypts to the same bytes.
	if again := encodeSample(t, dc); bytes.Equal(again.Data, p.Data) {
		t.Error("two encodings of one value are identical: the nonce is not random")
	}
}

func TestCodec_RotationDecodesPayloadsOfOlderKeys(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	before, err := New("k1", map[string][]byte{"k1": k1})
	if err != nil {
		t.Fatal(err)
	}
	old := encodeSample(t, NewDataConverter(before))

	after, err := New("k2", map[string][]byte{"k1": k1, "k2": k2})
	if err != nil {
		t.Fatal(err)
	}
	dc := NewDataConverter(after)
	var back secret
	if err := dc.FromPayload(old, &back); err != nil || back.Portal != sample.Portal {
		t.Fatalf("a k1 payload after rotating to k2: %+v, %v", back, err)
	}
	if id := string(encodeSample(t, dc).Metadata[MetadataKeyID]); id != "k2" {
		t.Errorf("new payloads use key %q, want the current k2", id)
	}

	// Once k1 is dropped, its payloads fail with an error naming the id, never a key.
	only2, err := New("k2", map[string][]byte{"k2": k2})
	if err != nil {
		t.Fatal(err)
	}
	_, err = only2.Decode([]*commonpb.Payload{old})
	if err == nil {
		t.Fatal("a payload of an unknown key decoded")
	}
	for _, want := range []string{`key id "k1"`, "not configured", "k2", "DCRFLOW_CODEC_KEY_K1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	for _, k := range [][]byte{k1, k2} {
		if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(k)) || strings.Contains(err.Error(), string(k)) {
			t.Error("the error shows a key")
		}
	}
}

func TestCodec_TamperedPayloadsFail(t *testing.T) {
	key := newKey(t)
	c, err := New("k1", map[string][]byte{"k1": key, "k2": newKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(p *commonpb.Payload){
		"flipped ciphertext bit": func(p *commonpb.Payload) { p.Data[len(p.Data)-20] ^= 1 },
		"flipped nonce bit":      func(p *commonpb.Payload) { p.Data[0] ^= 1 },
		"truncated":              func(p *commonpb.Payload) { p.Data = p.Data[:10] },
		"relabelled key id":      func(p *commonpb.Payload) { p.Metadata[MetadataKeyID] = []byte("k2") },
		"no key id":              func(p *commonpb.Payload) { delete(p.Metadata, MetadataKeyID) },
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			p := encodeSample(t, NewDataConverter(c))
			tamper(p)
			out, err := c.Decode([]*commonpb.Payload{p})
			if err == nil {
				t.Fatalf("a tampered payload decoded: %v", out)
			}
			if strings.Contains(err.Error(), string(key)) {
				t.Error("the error shows the key")
			}
		})
	}
}

func TestCodec_PlainPayloadsPassThrough(t *testing.T) {
	c, err := New("k1", map[string][]byte{"k1": newKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	plain := encodeSample(t, converter.GetDefaultDataConverter())
	out, err := c.Decode([]*commonpb.Payload{plain})
	if err != nil || out[0] != plain {
		t.Fatalf("an unencrypted payload (written before encryption was on) = %v, %v", out, err)
	}
}

func TestNew_RefusesBadKeys(t *testing.T) {
	for name, tc := range map[string]struct {
		current string
		keys    map[string][]byte
		want    string
	}{
		"short key":       {"k1", map[string][]byte{"k1": make([]byte, 16)}, "16 bytes, want 32"},
		"current missing": {"k3", map[string][]byte{"k1": newKey(t)}, `"k3" is not among the keys (k1)`},
		"bad id":          {"K 1", map[string][]byte{"K 1": newKey(t)}, "lowercase letters"},
		"reserved id":     {"id", map[string][]byte{"id": newKey(t)}, "reserved"},
		"no keys":         {"k1", nil, "no keys"},
	} {
		if _, err := New(tc.current, tc.keys); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}

func TestParseKey(t *testing.T) {
	key := newKey(t)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		got, err := ParseKey(" " + enc.EncodeToString(key) + "\n")
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("ParseKey(%v) = %v", enc, err)
		}
	}
	for in, want := range map[string]string{
		"":                   "is empty",
		"not base64 at all!": "not valid base64",
		base64.StdEncoding.EncodeToString(key[:8]): "decodes to 8 bytes, want 32",
	} {
		_, err := ParseKey(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseKey(%q) = %v, want %q", in, err, want)
		}
		if in != "" && err != nil && strings.Contains(err.Error(), in) {
			t.Errorf("the error repeats the key: %v", err)
		}
	}
}

func TestFailureConverter_EncryptsMessages(t *testing.T) {
	c, err := New("k1", map[string][]byte{"k1": newKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	fc := NewFailureConverter(NewDataConverter(c))
	f := fc.ErrorToFailure(temporal.NewApplicationError("portal payments-portal: no such API", "Conflict"))
	if strings.Contains(f.GetMessage(), "payments") || f.GetEncodedAttributes() == nil {
		t.Fatalf("failure message in the clear: %q", f.GetMessage())
	}
	if string(f.GetEncodedAttributes().GetMetadata()[converter.MetadataEncoding]) != MetadataEncodingEncrypted {
		t.Errorf("encoded attributes are not encrypted: %v", f.GetEncodedAttributes().GetMetadata())
	}
	back := fc.FailureToError(f)
	var app *temporal.ApplicationError
	if !errors.As(back, &app) || !strings.Contains(app.Error(), "payments-portal: no such API") || app.Type() != "Conflict" {
		t.Errorf("decoded failure = %v", back)
	}
}

func TestHandler_CORSAuthAndDecode(t *testing.T) {
	c, err := New("k1", map[string][]byte{"k1": newKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(c, HandlerOptions{AllowedOrigins: []string{"http://localhost:8233", "https://ui.example.com"}, AuthToken: "s3cret"}))
	defer srv.Close()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{encodeSample(t, NewDataConverter(c))}})
	if err != nil {
		t.Fatal(err)
	}
	post := func(path, auth, origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	// Preflight: answered without a token, with the UI's CORS headers.
	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/default/decode", nil)
	req.Header.Set("Origin", "https://ui.example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusOK || h.Get("Access-Control-Allow-Origin") != "https://ui.example.com" ||
		h.Get("Access-Control-Allow-Credentials") != "true" || h.Get("Access-Control-Allow-Headers") != "Authorization,Content-Type,X-Namespace" {
		t.Errorf("OPTIONS: %d %v", resp.StatusCode, h)
	}

	for _, auth := range []string{"", "Bearer wrong", "s3cret"} {
		if r := post("/decode", auth, ""); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("auth %q: status %d, want 401", auth, r.StatusCode)
		}
	}
	for _, path := range []string{"/decode", "/default/decode"} {
		r := post(path, "Bearer s3cret", "http://localhost:8233")
		var out commonpb.Payloads
		buf := new(bytes.Buffer)
		buf.ReadFrom(r.Body)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", path, r.StatusCode, buf)
		}
		if err := protojson.Unmarshal(buf.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Payloads) != 1 || !strings.Contains(string(out.Payloads[0].Data), "payments-portal") ||
			string(out.Payloads[0].Metadata[converter.MetadataEncoding]) != "json/plain" {
			t.Errorf("%s decoded to %v", path, out.Payloads)
		}
		if r.Header.Get("Access-Control-Allow-Origin") != "http://localhost:8233" {
			t.Errorf("%s: Access-Control-Allow-Origin = %q", path, r.Header.Get("Access-Control-Allow-Origin"))
		}
	}
}

func TestHandler_NoTokenConfiguredIsOpen(t *testing.T) {
	c, err := New("k1", map[string][]byte{"k1": newKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{encodeSample(t, NewDataConverter(c))}})
	Handler(c, HandlerOptions{}).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/decode", bytes.NewReader(body)))
	if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != DefaultUIOrigin {
		t.Fatalf("status %d, origin %q: %s", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"), rec.Body)
	}
}
