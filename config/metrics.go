package config

import (
	"fmt"
	"net"
)

// Metrics is where the worker serves Prometheus metrics:
//
//	metrics: {listen: "127.0.0.1:9090"}   # or DCRFLOW_METRICS_LISTEN, or worker -metrics-addr
//
// Empty (the default): no metrics endpoint.
type Metrics struct {
	Listen string `mapstructure:"listen"`
}

// Check says whether Listen is a host:port (empty: no endpoint, fine).
func (m Metrics) Check() error {
	if m.Listen == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(m.Listen); err != nil {
		return fmt.Errorf("metrics.listen (-metrics-addr, %s_METRICS_LISTEN) %s: want host:port (e.g. 127.0.0.1:9090)", EnvPrefix, show(m.Listen))
	}
	return nil
}
