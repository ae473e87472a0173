package e2e

import (
	"github.com/dcrflow/dcrflow/internal/metrics/promtext"

	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/launcher"
	"github.com/dcrflow/dcrflow/onboarding"
	"github.com/dcrflow/dcrflow/ratelimit"
	"github.com/dcrflow/dcrflow/sandbox"
	sbrl "github.com/dcrflow/dcrflow/sandbox/ratelimit"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// TestBudget_TwoWorkerProcessesShareOneBudget runs two worker binaries with one Okta
// management budget equal to the sandbox's limit: each learns from Temporal that it
// has a peer and takes half, and the example fleet onboards without a single 429.
func TestBudget_TwoWorkerProcessesShareOneBudget(t *testing.T) {
	const rpm = 240
	bin := build(t, t.TempDir(), "./worker")
	srv := devserver.Start(t)
	sb := sandboxtest.Start(t, sandboxtest.WithFixture(func(f *sandbox.Fixture) {
		f.RateLimits.OktaManagement = sbrl.Settings{PerMinute: rpm}
	}))
	t.Setenv("DCRFLOW_RATE_LIMITS_OKTA_MANAGEMENT_RPM", strconv.Itoa(rpm))
	const queue = "budget"
	var addrs []string
	for range 2 {
		addr := freeAddr(t)
		startWorkerProc(t, bin, srv, sb, queue, "-metrics-addr", addr)
		addrs = append(addrs, addr)
	}
	scrape := func(addr string) string {
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get("http://" + addr + "/metrics")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	half := rpm * (1 - ratelimit.DefaultHeadroom) / 2
	waitFor(t, 30*time.Second, "both workers to take half the budget", func() bool {
		for _, addr := range addrs {
			text := scrape(addr)
			workers, _ := promtext.Value(text, "dcrflow_budget_workers", nil)
			rate, _ := promtext.Value(text, "dcrflow_budget_rate_per_minute", map[string]string{"budget": "okta_management"})
			if workers != 2 || rate != half {
				return false
			}
		}
		return true
	})

	specs, err := onboarding.Load("../examples/portals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	since := lastSeq(&stack{sb: sb})
	runs, err := launcher.Start(ctx, srv.Client(), queue, specs)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range launcher.Wait(ctx, runs) {
		if !o.Succeeded {
			t.Errorf("%s failed: %v", o.Portal, o.Err)
		}
	}
	calls, refused := 0, 0
	for _, r := range sb.Sandbox.Requests(since) {
		if r.System == "okta" && strings.HasPrefix(r.Path, "/api/v1/") {
			calls++
			if r.Status == http.StatusTooManyRequests {
				refused++
			}
		}
	}
	t.Logf("%d Okta management calls, %d refused", calls, refused)
	if calls == 0 || refused != 0 {
		t.Errorf("%d Okta management calls, %d refused with 429; want none refused", calls, refused)
	}
}
