// Package sandbox runs local emulators of the Okta and Konnect APIs on two loopback
// listeners, with a control API (/_sandbox/...) on both for tests and benchmarks:
// state, reset, fault injection, rate limits and the log of received requests.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/dcrflow/dcrflow/sandbox/faults"
	"github.com/dcrflow/dcrflow/sandbox/konnect"
	"github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/ratelimit"
)

// Options configure Start.
type Options struct {
	OktaAddr    string // listen address for the Okta org, e.g. "127.0.0.1:0"
	KonnectAddr string // listen address for the Konnect region
	Fixture     Fixture
	// OutboundClient is what the Konnect emulator uses to call Okta (DCR provider
	// verification). Optional.
	OutboundClient *http.Client
}

// Sandbox is a running pair of emulators.
type Sandbox struct {
	Faults *faults.Injector

	fixture  Fixture
	okta     *okta.Emulator
	konnect  *konnect.Emulator
	limits   struct{ oktaMgmt, oktaDCR, oktaToken, konnect *ratelimit.Window }
	log      requestLog
	oktaURL  string
	konURL   string
	servers  []*http.Server
	serveErr chan error
	closing  sync.Once
}

// Start listens on both addresses and serves until Close.
func Start(opts Options) (*Sandbox, error) {
	oktaLn, err := net.Listen("tcp", orDefault(opts.OktaAddr, "127.0.0.1:0"))
	if err != nil {
		return nil, fmt.Errorf("sandbox: okta listener: %w", err)
	}
	konLn, err := net.Listen("tcp", orDefault(opts.KonnectAddr, "127.0.0.1:0"))
	if err != nil {
		_ = oktaLn.Close()
		return nil, fmt.Errorf("sandbox: konnect listener: %w", err)
	}
	s := &Sandbox{
		Faults:   &faults.Injector{},
		fixture:  opts.Fixture,
		oktaURL:  "http://" + oktaLn.Addr().String(),
		konURL:   "http://" + konLn.Addr().String(),
		serveErr: make(chan error, 2),
	}
	s.limits.oktaMgmt = ratelimit.New(opts.Fixture.RateLimits.OktaManagement)
	s.limits.oktaDCR = ratelimit.New(opts.Fixture.RateLimits.OktaDCR)
	s.limits.oktaToken = ratelimit.New(opts.Fixture.RateLimits.OktaToken)
	s.limits.konnect = ratelimit.New(opts.Fixture.RateLimits.Konnect)

	s.okta, err = okta.New(opts.Fixture.Okta, okta.Options{BaseURL: s.oktaURL, Management: s.limits.oktaMgmt, DCR: s.limits.oktaDCR, Token: s.limits.oktaToken})
	if err == nil {
		s.konnect, err = konnect.New(opts.Fixture.Konnect, konnect.Options{Limiter: s.limits.konnect, HTTPClient: opts.OutboundClient})
	}
	if err != nil {
		_ = oktaLn.Close()
		_ = konLn.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}

	s.serve(oktaLn, s.system("okta", s.okta, okta.WriteError))
	s.serve(konLn, s.system("konnect", s.konnect, konnect.WriteError))
	return s, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// system mounts the control API beside an emulator wrapped in logging and faults.
func (s *Sandbox) system(name string, emulator http.Handler, writeError faults.ErrorWriter) http.Handler {
	mux := http.NewServeMux()
	s.control(mux)
	mux.Handle("/", s.log.logged(name, s.Faults.Wrap(emulator, writeError)))
	return mux
}

func (s *Sandbox) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.serveErr <- err
		}
	}()
}

// OktaURL is the Okta org's base URL, e.g. http://127.0.0.1:41234.
func (s *Sandbox) OktaURL() string { return s.oktaURL }

// KonnectURL is the Konnect region's base URL.
func (s *Sandbox) KonnectURL() string { return s.konURL }

// State is every resource of both emulators, without secrets.
func (s *Sandbox) State() map[string]any {
	return map[string]any{"okta": s.okta.State(), "konnect": s.konnect.State()}
}

// Reset returns both emulators to the fixture, clears faults and the request log,
// and restores the fixture's rate limits.
func (s *Sandbox) Reset() {
	s.okta.Reset()
	s.konnect.Reset()
	s.Faults.Clear()
	s.log.clear()
	s.SetRateLimits(s.fixture.RateLimits)
}

// SetRateLimits replaces every bucket's budget and starts fresh windows.
func (s *Sandbox) SetRateLimits(r RateLimits) {
	s.limits.oktaMgmt.Set(r.OktaManagement)
	s.limits.oktaDCR.Set(r.OktaDCR)
	s.limits.oktaToken.Set(r.OktaToken)
	s.limits.konnect.Set(r.Konnect)
}

// RateLimits returns the budgets in force.
func (s *Sandbox) RateLimits() RateLimits {
	return RateLimits{
		OktaManagement: s.limits.oktaMgmt.Settings(),
		OktaDCR:        s.limits.oktaDCR.Settings(),
		OktaToken:      s.limits.oktaToken.Settings(),
		Konnect:        s.limits.konnect.Settings(),
	}
}

// Requests returns the logged calls with a sequence number above since.
func (s *Sandbox) Requests(since int) []Request { return s.log.since(since) }

// Close stops both listeners, waiting up to five seconds for calls in flight, then
// closes what is left: net/http counts a connection opened but still without a
// request (clients open spare ones under load) as busy for five seconds, and such a
// connection is no call of anyone's.
func (s *Sandbox) Close() error {
	var err error
	s.closing.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, srv := range s.servers {
			serr := srv.Shutdown(ctx)
			if errors.Is(serr, context.DeadlineExceeded) {
				serr = srv.Close()
			}
			err = errors.Join(err, serr)
		}
		select {
		case e := <-s.serveErr:
			err = errors.Join(err, e)
		default:
		}
	})
	return err
}
