package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/dcrflow/dcrflow/sandbox/faults"
)

// ControlPrefix is where the control API lives on both listeners.
const ControlPrefix = "/_sandbox/"

// control mounts the control API:
//
//	GET    /_sandbox/health      both base URLs
//	GET    /_sandbox/state       every resource of both emulators (no secrets)
//	POST   /_sandbox/reset       back to the fixture; clears faults and the request log
//	GET    /_sandbox/faults      active and spent faults, with their hit counts
//	POST   /_sandbox/faults      add a fault (faults.Fault as JSON); answers it with its id
//	DELETE /_sandbox/faults      remove every fault
//	GET    /_sandbox/ratelimits  the budgets in force
//	PUT    /_sandbox/ratelimits  replace them (RateLimits as JSON)
//	GET    /_sandbox/requests    received calls; ?since=SEQ for the newer ones only
//	...    /_sandbox/okta/...    the Okta DCR tokens' life (control_tokens.go)
func (s *Sandbox) control(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sandbox/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"okta_url": s.oktaURL, "konnect_url": s.konURL})
	})
	mux.HandleFunc("GET /_sandbox/state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.State())
	})
	mux.HandleFunc("POST /_sandbox/reset", func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults.List())
	})
	mux.HandleFunc("POST /_sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		var f faults.Fault
		if err := decodeStrict(r, &f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		added, err := s.Faults.Add(f)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusCreated, added)
	})
	mux.HandleFunc("DELETE /_sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		s.Faults.Clear()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sandbox/ratelimits", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.RateLimits())
	})
	mux.HandleFunc("PUT /_sandbox/ratelimits", func(w http.ResponseWriter, r *http.Request) {
		var rl RateLimits
		if err := decodeStrict(r, &rl); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		s.SetRateLimits(rl)
		writeJSON(w, http.StatusOK, s.RateLimits())
	})
	mux.HandleFunc("GET /_sandbox/requests", func(w http.ResponseWriter, r *http.Request) {
		since := 0
		if v := r.URL.Query().Get("since"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "since: want a sequence number"})
				return
			}
			since = n
		}
		writeJSON(w, http.StatusOK, s.Requests(since))
	})
	s.controlTokens(mux)
}

func decodeStrict(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid body: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
