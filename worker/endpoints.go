package main

import (
	"fmt"
	"net/http"
	"net/http/pprof"

	"github.com/dcrflow/dcrflow/codec"
	"github.com/dcrflow/dcrflow/config"
	"github.com/dcrflow/dcrflow/internal/metrics"
	"github.com/dcrflow/dcrflow/internal/textsafe"
)

// serveMetrics starts the metrics endpoint on m.Listen; nil, nil when Listen is
// empty (a nil *metrics.Metrics records nothing). onError hears metrics that could
// not be registered and a failing endpoint.
func serveMetrics(m config.Metrics, onError func(error)) (*metrics.Metrics, error) {
	if m.Listen == "" {
		return nil, nil
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	s, err := metrics.Serve(m.Listen, onError)
	if err != nil {
		return nil, fmt.Errorf("metrics.listen (-metrics-addr, %s_METRICS_LISTEN) %s: %s", config.EnvPrefix, m.Listen, textsafe.OneLine(err.Error()))
	}
	if m.Pprof {
		s.Mount("/debug/pprof/", http.HandlerFunc(pprof.Index))
		s.Mount("/debug/pprof/profile", http.HandlerFunc(pprof.Profile))
	}
	return s, nil
}

// serveCodec starts the codec endpoint on c.Listen; nil, nil when Listen is empty.
func serveCodec(c config.CodecServer) (*codec.Server, error) {
	if c.Listen == "" {
		return nil, nil
	}
	if err := c.Check(); err != nil {
		return nil, err
	}
	h := codec.Handler(c.PayloadCodec(), codec.HandlerOptions{AllowedOrigins: codec.SplitOrigins(c.CORSOrigin), AuthToken: c.AuthToken})
	s, err := codec.Listen(c.Listen, h)
	if err != nil {
		return nil, fmt.Errorf("codec.listen (-codec-addr, %s_CODEC_LISTEN) %s: %s", config.EnvPrefix, c.Listen, textsafe.OneLine(err.Error()))
	}
	return s, nil
}
