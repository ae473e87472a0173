package okta

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dcrflow/dcrflow/sandbox/ratelimit"
)

// setRateHeaders writes Okta's rate-limit headers; Reset is in epoch seconds,
// rounded up so that a client waiting until then is never early.
func setRateHeaders(w http.ResponseWriter, limit, remaining int, reset time.Time) {
	h := w.Header()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(ceilUnix(reset), 10))
}

func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// take counts the call in win and answers 429 when the budget is spent.
func take(w http.ResponseWriter, win *ratelimit.Window) bool {
	d := win.Take()
	setRateHeaders(w, d.Limit, d.Remaining, d.Reset)
	if !d.Allowed {
		rateLimited().write(w)
		return false
	}
	return true
}

// hasToken reports whether the request carries "SSWS <one of tokens>".
func hasToken(r *http.Request, tokens map[string]bool) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "SSWS") && tokens[strings.TrimSpace(token)]
}

// managementGuard is guarded for /api/v1: an SSWS management token, or an OAuth
// access token of a service app carrying the endpoint's scope.
func (e *Emulator) managementGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !take(w, e.opts.Management) {
			return
		}
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if strings.EqualFold(scheme, "Bearer") {
			if p := e.oauth.bearerAccess(w, r, strings.TrimSpace(token), e.opts.BaseURL, e.opts.Now()); p != nil {
				p.write(w)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if !hasToken(r, e.mgmtTokens) {
			invalidToken().write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// dcrGuarded puts the DCR bucket and the DCR tokens in front of next, as Okta does
// for /oauth2/v1/clients: a revoked, expired or unknown token gets 401 E0000011.
func (e *Emulator) dcrGuarded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !take(w, e.opts.DCR) {
			return
		}
		if !e.dcrTokens.guard(r) {
			invalidToken().write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limited puts a bucket in front of next (no credentials checked here: next does).
func limited(win *ratelimit.Window, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if take(w, win) {
			next.ServeHTTP(w, r)
		}
	})
}
