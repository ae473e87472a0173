package doctor

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
)

// Headroom keeps the lowest remaining share of each rate-limit bucket that the
// answers reported. Give its observers to the clients doctor uses.
type Headroom struct {
	mu      sync.Mutex
	buckets map[string]bucket // by name
	konnect int               // Konnect answers seen
}

type bucket struct{ limit, remaining int }

// NewHeadroom returns an empty Headroom.
func NewHeadroom() *Headroom { return &Headroom{buckets: map[string]bucket{}} }

func (h *Headroom) note(name string, limit, remaining int) {
	if limit <= 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if b, ok := h.buckets[name]; !ok || remaining*b.limit < b.remaining*limit {
		h.buckets[name] = bucket{limit, remaining}
	}
}

// ObserveOkta is an okta.Config Observer: Okta's X-Rate-Limit-* per bucket
// (management calls and the DCR endpoint are separate buckets).
func (h *Headroom) ObserveOkta(info okta.ResponseInfo) {
	name := "okta management (/api/v1)"
	if strings.HasPrefix(info.Op, "ListClients") || strings.HasPrefix(info.Op, "GetClient") {
		name = "okta DCR (/oauth2/v1/clients)"
	}
	h.note(name, info.RateLimit.Limit, info.RateLimit.Remaining)
}

// ObserveKonnect is a konnect.Config Observer. Konnect documents no rate-limit
// headers; RateLimit-* (IETF draft) or X-RateLimit-* are read when present.
func (h *Headroom) ObserveKonnect(info konnect.ResponseInfo) {
	if info.StatusCode == 0 {
		return
	}
	h.mu.Lock()
	h.konnect++
	h.mu.Unlock()
	for _, p := range []string{"RateLimit-", "X-RateLimit-"} {
		limit, _ := strconv.Atoi(info.Header.Get(p + "Limit"))
		remaining, err := strconv.Atoi(info.Header.Get(p + "Remaining"))
		if err == nil {
			h.note("konnect", limit, remaining)
			return
		}
	}
}

// lowShare is the remaining share under which a bucket is a warning.
const lowShare = 0.2

func checkHeadroom(d Deps, add func(Check)) {
	h := d.Headroom
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, name := range []string{"okta management (/api/v1)", "okta DCR (/oauth2/v1/clients)"} {
		b, ok := h.buckets[name]
		if !ok {
			continue
		}
		c := Check{Name: "rate_limit " + name, Status: Pass, Detail: fmt.Sprintf("%d of %d left in the current window", b.remaining, b.limit)}
		if float64(b.remaining) < lowShare*float64(b.limit) {
			c.Status, c.Fix = Warn, "little headroom: another client spends this bucket; lower rate_limits.* or wait for the window to reset"
		}
		add(c)
	}
	if b, ok := h.buckets["konnect"]; ok {
		c := Check{Name: "rate_limit konnect", Status: Pass, Detail: fmt.Sprintf("%d of %d left in the current window", b.remaining, b.limit)}
		if float64(b.remaining) < lowShare*float64(b.limit) {
			c.Status, c.Fix = Warn, "little headroom: lower rate_limits.konnect_rpm"
		}
		add(c)
	} else if h.konnect > 0 {
		c := Check{Name: "rate_limit konnect", Status: Pass,
			Detail: fmt.Sprintf("Konnect sends no rate-limit headers (it documents only Retry-After on 429): dcrflow keeps to rate_limits.konnect_rpm = %d", d.KonnectRPM)}
		if d.KonnectRPM <= 0 {
			c.Status, c.Detail = Warn, "Konnect sends no rate-limit headers and rate_limits.konnect_rpm is not set: a large fleet learns the limit only from 429s"
			c.Fix = "set rate_limits.konnect_rpm (DCRFLOW_RATE_LIMITS_KONNECT_RPM) to your org's limit"
		}
		add(c)
	}
}
