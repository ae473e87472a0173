package config

import (
	"fmt"
	"net"
)

// Metrics is where the worker serves Prometheus metrics:
//
//	metrics: {listen: "127.0.0.1:9090"}   # or DCRFLOW_METRICS_LISTEN, or worker -metrics-addr
//
// Empty (the default): no metrics endpoint. Pprof (DCRFLOW_METRICS_PPROF) also serves
// Go's profiles under /debug/pprof/ on that endpoint, to find where a worker's memory
// or CPU goes; off by default, since profiles show the process's internals.
type Metrics struct {
	Listen string `mapstructure:"listen"`
	Pprof  bool   `mapstructure:"pprof"`
}

// Check says whether Listen is a host:port (empty: no endpoint, fine).
func (m Metrics) Check() error {
	if m.Listen == "" {
		if m.Pprof {
			return fmt.Errorf("metrics.pprof (%s_METRICS_PPROF) is on but metrics.listen is empty: profiles are served on the metrics endpoint; set metrics.listen (e.g. 127.0.0.1:9090) or turn pprof off", EnvPrefix)
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(m.Listen); err != nil {
		return fmt.Errorf("metrics.listen (-metrics-addr, %s_METRICS_LISTEN) %s: want host:port (e.g. 127.0.0.1:9090)", EnvPrefix, show(m.Listen))
	}
	return nil
}

// warnings: profiles show the worker's internals (goroutines, what its heap holds) to
// whoever reaches the endpoint.
func (m Metrics) warnings() []string {
	if !m.Pprof {
		return nil
	}
	return []string{"metrics.pprof is on: whoever reaches " + show(m.Listen) + " can read the worker's profiles (its goroutines and what its memory holds); serve it on a loopback or private address only, and turn it off when done"}
}
