package wiring

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/config"
	"github.com/dcrflow/dcrflow/internal/testpki"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// fakeFrontend is a Temporal frontend over mTLS that records the authorization header,
// refuses a wrong API key and knows one namespace.
type fakeFrontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	mu   sync.Mutex
	auth []string
}

func (f *fakeFrontend) GetSystemInfo(context.Context, *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{}, nil
}

func (f *fakeFrontend) DescribeNamespace(_ context.Context, r *workflowservice.DescribeNamespaceRequest) (*workflowservice.DescribeNamespaceResponse, error) {
	if r.GetNamespace() != "prod.acct" {
		return nil, serviceerror.ToStatus(serviceerror.NewNamespaceNotFound(r.GetNamespace())).Err()
	}
	return &workflowservice.DescribeNamespaceResponse{}, nil
}

func (f *fakeFrontend) intercept(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.auth = append(f.auth, md.Get("authorization")...)
	f.mu.Unlock()
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer right-key" {
		return nil, status.Error(codes.Unauthenticated, "invalid API key")
	}
	return h(ctx, req)
}

func TestDial_TLSAndAPIKeyAgainstAFakeFrontend(t *testing.T) {
	p := testpki.New(t)
	f := &fakeFrontend{}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{p.Server},
		ClientCAs: p.CAPool, ClientAuth: tls.RequireAndVerifyClientCert})), grpc.UnaryInterceptor(f.intercept))
	workflowservice.RegisterWorkflowServiceServer(srv, f)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Stop()

	base := config.Temporal{Address: ln.Addr().String(), Namespace: "prod.acct", TaskQueue: "dcrflow", APIKey: "right-key",
		TLS: config.TLS{CAFile: p.CAFile, CertFile: p.CertFile, KeyFile: p.KeyFile, ServerName: "temporal.test"}}
	ctx := context.Background()
	c, err := DialTemporal(ctx, base, nil, nil)
	if err != nil {
		t.Fatalf("mTLS + API key: %v", err)
	}
	c.Close()
	f.mu.Lock()
	if len(f.auth) == 0 || f.auth[0] != "Bearer right-key" {
		t.Errorf("the server saw authorization %v", f.auth)
	}
	f.mu.Unlock()

	for name, tc := range map[string]struct {
		mod  func(*config.Temporal)
		want []string
	}{
		"wrong api key":     {func(t *config.Temporal) { t.APIKey = "wrong" }, []string{"refused dcrflow's credentials", "temporal.api_key (DCRFLOW_TEMPORAL_API_KEY)", base.Address}},
		"unknown namespace": {func(t *config.Temporal) { t.Namespace = "nope" }, []string{`has no namespace "nope"`, "temporal.namespace (DCRFLOW_TEMPORAL_NAMESPACE)"}},
		"no client cert":    {func(t *config.Temporal) { t.TLS.CertFile, t.TLS.KeyFile = "", "" }, []string{base.Address, "temporal.tls.*", "cert_file/key_file"}},
		"wrong server name": {func(t *config.Temporal) { t.TLS.ServerName = "other.test" }, []string{"TLS with Temporal at " + base.Address + " failed", "temporal.tls", "x509"}},
		"plaintext":         {func(t *config.Temporal) { t.TLS = config.TLS{}; t.APIKey = "" }, []string{base.Address, "DCRFLOW_TEMPORAL_ADDRESS", "requires TLS (temporal.tls.enabled, temporal.api_key)"}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := base
			tc.mod(&cfg)
			start := time.Now()
			c, err := DialTemporal(ctx, cfg, nil, nil)
			if err == nil {
				c.Close()
				t.Fatal("connected")
			}
			if d := time.Since(start); d > DialTimeout+5*time.Second {
				t.Errorf("took %v", d)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("several lines: %q", err)
			}
		})
	}
}

// The options carry the API key and the TLS roots of the settings.
func TestTemporalOptions_TLSAndAPIKey(t *testing.T) {
	p := testpki.New(t)
	s := config.Temporal{Address: "prod.acct.tmprl.cloud:7233", Namespace: "prod.acct", APIKey: "key-from-file",
		TLS: config.TLS{CAFile: p.CAFile, ServerName: "temporal.test"}}
	opts, err := TemporalOptions(s, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if opts.HostPort != "prod.acct.tmprl.cloud:7233" || opts.Namespace != "prod.acct" || opts.Credentials == nil ||
		opts.ConnectionOptions.TLS == nil || opts.ConnectionOptions.TLS.RootCAs == nil {
		t.Fatalf("options = %+v", opts)
	}

}
