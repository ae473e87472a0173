package config

import (
	"fmt"
	"net"

	"github.com/dcrflow/dcrflow/internal/metrics"
)

// Metrics is where the worker serves Prometheus metrics:
//
//	metrics: {listen: "127.0.0.1:9090"}   # or DCRFLOW_METRICS_LISTEN, or worker -metrics-addr
//
// Empty (the default): no metrics endpoint.
type Metrics struct {
	Listen string `mapstructure:"listen"`
}

func (m Metrics) check() error {
	if m.Listen == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(m.Listen); err != nil {
		return fmt.Errorf("metrics.listen (-metrics-addr, %s_METRICS_LISTEN) %s: want host:port (e.g. 127.0.0.1:9090)", EnvPrefix, show(m.Listen))
	}
	return nil
}

// Serve starts the metrics endpoint on Listen; nil, nil when Listen is empty (a nil
// *metrics.Metrics records nothing). onError hears metrics that could not be
// registered and a failing endpoint.
func (m Metrics) Serve(onError func(error)) (*metrics.Metrics, error) {
	if m.Listen == "" {
		return nil, nil
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	s, err := metrics.Serve(m.Listen, onError)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen (-metrics-addr, %s_METRICS_LISTEN) %s: %s", EnvPrefix, m.Listen, oneLine(err.Error()))
	}
	return s, nil
}
