package e2e

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/ratelimit"
	"github.com/dcrflow/dcrflow/sandbox"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbrl "github.com/dcrflow/dcrflow/sandbox/ratelimit"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// headerSpy notes any rate-limit header an answer carries.
type headerSpy struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (s *headerSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(r)
	if err == nil {
		for k := range resp.Header {
			if strings.Contains(strings.ToLower(k), "ratelimit") {
				s.mu.Lock()
				s.seen = append(s.seen, k)
				s.mu.Unlock()
			}
		}
	}
	return resp, err
}

// TestKonnectBudget_HoldsWithoutRateLimitHeaders: real Konnect sends no RateLimit-*
// headers (nor does the sandbox by default), so nothing adapts the budget; the
// configured budget alone must keep a burst of concurrent calls under the limit,
// without a single 429.
func TestKonnectBudget_HoldsWithoutRateLimitHeaders(t *testing.T) {
	// Not parallel: it runs before the parallel tests load the machine.
	const perWindow, window, calls = 20, 3 * time.Second, 50
	sb := sandboxtest.Start(t, sandboxtest.WithFixture(func(f *sandbox.Fixture) {
		f.RateLimits.Konnect = sbrl.Settings{PerMinute: perWindow, WindowSeconds: int(window / time.Second)}
	}))
	// Half kept back: under the race detector beside the other e2e tests, timers of
	// calls spread over a window can fire together in the next one; the point here is
	// that the budget alone paces the calls, without any header to adapt from.
	budget := ratelimit.New(ratelimit.Config{Budgets: map[ratelimit.System]int{ratelimit.Konnect: perWindow / 2}, Window: window, MaxWait: 2 * time.Minute})
	spy := &headerSpy{base: sb.HTTPClient.Transport}
	hc := &http.Client{}
	kc, err := konnect.New(konnect.Config{BaseURL: sb.KonnectURL, Token: sbkonnect.DefaultToken, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	hc.Transport = budget.Transport(spy, ratelimit.KonnectRoutes(kc.BaseURL()))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	since := lastSeq(&stack{sb: sb})
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := kc.Portals.FindByName(ctx, "payments"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("call failed: %v", err)
	}
	n, refused := 0, 0
	for _, r := range sb.Sandbox.Requests(since) {
		if r.System == "konnect" {
			n++
			if r.Status == http.StatusTooManyRequests {
				refused++
			}
		}
	}
	if n != calls || refused != 0 {
		t.Errorf("%d Konnect calls, %d refused with 429; want %d and 0", n, refused, calls)
	}
	if len(spy.seen) != 0 {
		t.Errorf("rate-limit headers seen: %v", spy.seen[:1])
	}
}
