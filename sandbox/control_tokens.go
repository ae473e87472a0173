package sandbox

import (
	"net/http"
	"time"
)

// DCRTokenCall is the body of the DCR token control calls: the token itself (the
// sandbox's own, for tests; answers only ever show its fingerprint).
type DCRTokenCall struct {
	Token string `json:"token"`
}

// ClockAdvance is the body of POST /_sandbox/okta/clock: how far to move the Okta
// org's DCR token clock forward, as a Go duration ("721h").
type ClockAdvance struct {
	Advance string `json:"advance"`
}

// controlTokens mounts the Okta DCR token life cycle:
//
//	GET  /_sandbox/okta/dcr-tokens         every DCR token: fingerprint, state, last use
//	POST /_sandbox/okta/dcr-tokens         add one (DCRTokenCall), active
//	POST /_sandbox/okta/dcr-tokens/revoke  revoke one: later calls get 401 E0000011
//	POST /_sandbox/okta/dcr-tokens/expire  expire one now, as 30 days unused would
//	POST /_sandbox/okta/clock              advance the tokens' clock (ClockAdvance)
func (s *Sandbox) controlTokens(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sandbox/okta/dcr-tokens", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.okta.DCRTokens())
	})
	withToken := func(f func(token string) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var in DCRTokenCall
			if err := decodeStrict(r, &in); err != nil || in.Token == "" {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want {\"token\": \"...\"}"})
				return
			}
			if err := f(in.Token); err != nil {
				writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
				return
			}
			writeJSON(w, http.StatusOK, s.okta.DCRTokens())
		}
	}
	mux.HandleFunc("POST /_sandbox/okta/dcr-tokens", withToken(func(t string) error { s.okta.AddDCRToken(t); return nil }))
	mux.HandleFunc("POST /_sandbox/okta/dcr-tokens/revoke", withToken(s.okta.RevokeDCRToken))
	mux.HandleFunc("POST /_sandbox/okta/dcr-tokens/expire", withToken(s.okta.ExpireDCRToken))
	mux.HandleFunc("POST /_sandbox/okta/clock", func(w http.ResponseWriter, r *http.Request) {
		var in ClockAdvance
		err := decodeStrict(r, &in)
		var d time.Duration
		if err == nil {
			d, err = time.ParseDuration(in.Advance)
		}
		if err != nil || d < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want {\"advance\": \"<a positive Go duration, e.g. 721h>\"}"})
			return
		}
		s.okta.AdvanceClock(d)
		writeJSON(w, http.StatusOK, s.okta.DCRTokens())
	})
}
