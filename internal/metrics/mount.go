package metrics

import "net/http"

// Mount serves h at pattern beside the metrics (e.g. the worker's /healthz and
// /readyz); nothing on a nil or unserved *Metrics.
func (m *Metrics) Mount(pattern string, h http.Handler) {
	if m == nil || m.mux == nil {
		return
	}
	m.mux.Handle(pattern, h)
}
