package ratelimit_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/ratelimit"
	"github.com/dcrflow/dcrflow/sandbox"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	sbrl "github.com/dcrflow/dcrflow/sandbox/ratelimit"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// The sandbox's windows are shortened to three seconds, and the budgets with them,
// so that a few windows pass in a few seconds.
const (
	window    = 3 * time.Second
	perWindow = 90
)

func oktaClient(t *testing.T, env *sandboxtest.Env, b *ratelimit.Budget) *okta.Client {
	t.Helper()
	hc := &http.Client{Transport: b.Transport(env.HTTPClient.Transport, ratelimit.OktaRoutes(env.OktaURL))}
	c, err := okta.New(okta.Config{OrgURL: env.OktaURL, Token: sbokta.DefaultManagementToken, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func konnectClient(t *testing.T, env *sandboxtest.Env, b *ratelimit.Budget) *konnect.Client {
	t.Helper()
	hc := &http.Client{Transport: b.Transport(env.HTTPClient.Transport, ratelimit.KonnectRoutes(env.KonnectURL))}
	c, err := konnect.New(konnect.Config{BaseURL: env.KonnectURL, Token: sbkonnect.DefaultToken, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// hammer runs callers goroutines that call until total calls are done; every error
// fails the test.
func hammer(t *testing.T, callers, total int, call func(context.Context) error) time.Duration {
	t.Helper()
	var done atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range callers {
		wg.Go(func() {
			for done.Add(1) <= int64(total) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := call(ctx)
				cancel()
				if err != nil {
					t.Errorf("call: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// count429 counts the system's refused calls in the sandbox's log after since.
func count429(env *sandboxtest.Env, system string, since int) (calls, refused int) {
	for _, r := range env.Sandbox.Requests(since) {
		if r.System == system {
			calls++
			if r.Status == http.StatusTooManyRequests {
				refused++
			}
		}
	}
	return calls, refused
}

func lastSeq(env *sandboxtest.Env) int {
	reqs := env.Sandbox.Requests(0)
	if len(reqs) == 0 {
		return 0
	}
	return reqs[len(reqs)-1].Seq
}

// Concurrent callers under a budget equal to the sandbox's limit are never refused,
// with one worker and with two sharing the budget.
func TestTransport_NoRefusalsFromASandboxLimitEqualToTheBudget(t *testing.T) {
	limit := sbrl.Settings{PerMinute: perWindow, WindowSeconds: int(window / time.Second)}
	env := sandboxtest.Start(t, sandboxtest.WithFixture(func(f *sandbox.Fixture) {
		f.RateLimits.OktaManagement, f.RateLimits.Konnect = limit, limit
	}))
	cfg := func(s ratelimit.System) ratelimit.Config {
		// A fifth kept back: a stall of the machine running the tests bunches requests
		// up, and 0.6 s of a 3 s window is what a minute's default 2 % allows for.
		return ratelimit.Config{Budgets: map[ratelimit.System]int{s: perWindow}, Window: window, Headroom: 0.2}
	}
	const total = 5 * perWindow / 3 // a little more than two windows at the budget's pace

	t.Run("one worker, Okta management", func(t *testing.T) {
		c := oktaClient(t, env, ratelimit.New(cfg(ratelimit.OktaManagement)))
		since := lastSeq(env)
		took := hammer(t, 8, total, func(ctx context.Context) error {
			_, err := c.ListScopes(ctx, "default")
			return err
		})
		calls, refused := count429(env, "okta", since)
		t.Logf("%d calls in %v: %.0f%% of the budget's pace", calls, took, 100*float64(calls)/(took.Seconds()*perWindow/window.Seconds()))
		if calls != total || refused != 0 {
			t.Errorf("%d calls, %d refused with 429; want %d calls and none refused", calls, refused, total)
		}
	})

	t.Run("two workers, Konnect", func(t *testing.T) {
		var clients []*konnect.Client
		for range 2 {
			b := ratelimit.New(cfg(ratelimit.Konnect))
			b.SetWorkers(2)
			clients = append(clients, konnectClient(t, env, b))
		}
		since := lastSeq(env)
		var n atomic.Int64
		took := hammer(t, 8, total, func(ctx context.Context) error {
			_, err := clients[n.Add(1)%2].Portals.FindByName(ctx, "payments")
			return err
		})
		calls, refused := count429(env, "konnect", since)
		t.Logf("%d calls in %v: %.0f%% of the budget's pace", calls, took, 100*float64(calls)/(took.Seconds()*perWindow/window.Seconds()))
		if calls != total || refused != 0 {
			t.Errorf("%d calls, %d refused with 429; want %d calls and none refused", calls, refused, total)
		}
	})
}

// A deferred request reaches the caller through either client as *BudgetError, and
// no request was sent.
func TestTransport_ErrBudgetThroughTheClients(t *testing.T) {
	env := sandboxtest.Start(t)
	budgets := map[ratelimit.System]int{ratelimit.OktaManagement: 1, ratelimit.OktaDCR: 1, ratelimit.Konnect: 1}
	b := ratelimit.New(ratelimit.Config{Budgets: budgets, MaxWait: time.Second})
	oc, kc := oktaClient(t, env, b), konnectClient(t, env, b)
	ctx := context.Background()
	if _, err := oc.GetAuthServer(ctx, "default"); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.Portals.FindByName(ctx, "payments"); err != nil {
		t.Fatal(err)
	}
	since := lastSeq(env)
	_, oerr := oc.GetAuthServer(ctx, "default")
	_, kerr := kc.Portals.FindByName(ctx, "payments")
	_, derr := oc.ListClients(ctx, sbokta.DefaultDCRToken, "dcrflow-") // the DCR budget's first call goes
	_, derr2 := oc.ListClients(ctx, sbokta.DefaultDCRToken, "dcrflow-")
	if derr != nil {
		t.Fatal(derr)
	}
	for _, tc := range []struct {
		err  error
		want ratelimit.System
	}{{oerr, ratelimit.OktaManagement}, {kerr, ratelimit.Konnect}, {derr2, ratelimit.OktaDCR}} {
		eb, ok := ratelimit.AsBudgetError(tc.err)
		if !ok || eb.System != tc.want || eb.Wait < 50*time.Second {
			t.Errorf("%v: want *BudgetError for %s waiting about a minute", tc.err, tc.want)
		}
	}
	if calls, _ := count429(env, "okta", since); calls != 1 {
		t.Errorf("%d Okta calls reached the sandbox, want only the first DCR list", calls)
	}
	if calls, _ := count429(env, "konnect", since); calls != 0 {
		t.Errorf("%d deferred Konnect calls reached the sandbox", calls)
	}
}
