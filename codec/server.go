package codec

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"
)

// DefaultUIOrigin is the Temporal UI of `temporal server start-dev`.
const DefaultUIOrigin = "http://localhost:8233"

// maxBody bounds a request to the codec endpoint (Temporal's own blob limit is 2 MB per
// payload; the UI sends a handful at a time).
const maxBody = 16 << 20

// HandlerOptions configure the codec endpoint.
type HandlerOptions struct {
	// AllowedOrigins are the UI origins a browser may call from (CORS); empty means
	// DefaultUIOrigin.
	AllowedOrigins []string
	// AuthToken, when set, must come as "Authorization: Bearer <AuthToken>".
	AuthToken string
}

// Handler serves c for the Temporal UI and CLI: POST [/{namespace}]/encode and
// [/{namespace}]/decode with protojson Payloads (converter.NewPayloadCodecHTTPHandler),
// behind CORS for the UI's origin and, when configured, a bearer-token check. Preflight
// OPTIONS requests are answered without the token (browsers never send one there).
func Handler(c converter.PayloadCodec, o HandlerOptions) http.Handler {
	origins := o.AllowedOrigins
	if len(origins) == 0 {
		origins = []string{DefaultUIOrigin}
	}
	inner := converter.NewPayloadCodecHTTPHandler(c)
	want := []byte("Bearer " + o.AuthToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if origin := r.Header.Get("Origin"); slices.Contains(origins, origin) {
			h.Set("Access-Control-Allow-Origin", origin)
		} else {
			h.Set("Access-Control-Allow-Origin", origins[0])
		}
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Allow-Headers", "Authorization,Content-Type,X-Namespace")
		h.Set("Access-Control-Allow-Methods", "POST,OPTIONS")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusOK)
			return
		}
		if o.AuthToken != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			h.Set("WWW-Authenticate", `Bearer realm="dcrflow codec"`)
			http.Error(w, "missing or wrong bearer token (codec.auth_token)", http.StatusUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		inner.ServeHTTP(w, r)
	})
}

// Server is a running codec endpoint.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Listen binds addr at once (so a bad or busy address fails at start) and serves h on
// it in the background until Shutdown.
func Listen(addr string, h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL is the endpoint's base URL, for the UI's codec endpoint setting.
func (s *Server) URL() string {
	host, port, _ := net.SplitHostPort(s.ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Shutdown stops the endpoint, letting requests in flight finish within ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("codec endpoint: %w", err)
	}
	return nil
}

// Close shuts the endpoint down, giving requests in flight up to 5 s.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Shutdown(ctx)
}

// SplitOrigins splits a comma-separated origin list, trimming blanks.
func SplitOrigins(s string) []string {
	var out []string
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(o), "/")); o != "" {
			out = append(out, o)
		}
	}
	return out
}
