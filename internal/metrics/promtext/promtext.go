// Package promtext reads the Prometheus text format for tests, through Prometheus's
// own parser (expfmt), so label values with commas or quotes read right.
package promtext

import (
	"fmt"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families parses text; a malformed exposition is an error.
func Families(text string) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(strings.NewReader(text))
}

// Value sums the samples of name whose labels include want; ok says whether any
// matched. name is a family (a counter's or gauge's) or a histogram's or summary's
// name_count or name_sum. A malformed exposition matches nothing.
func Value(text, name string, want map[string]string) (sum float64, ok bool) {
	families, err := Families(text)
	if err != nil {
		return 0, false
	}
	family, part := families[name], ""
	if family == nil {
		for _, suffix := range []string{"_count", "_sum"} {
			if base, cut := strings.CutSuffix(name, suffix); cut && families[base] != nil {
				family, part = families[base], suffix
			}
		}
	}
	if family == nil {
		return 0, false
	}
	for _, m := range family.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		v, known := sample(m, part)
		if known {
			sum, ok = sum+v, true
		}
	}
	return sum, ok
}

// Lines is the samples of name (and of its _count and _sum), one a line, for
// failure messages.
func Lines(text, name string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, name) {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got, present := have[k]; !present || got != v {
			return false
		}
	}
	return true
}

func sample(m *dto.Metric, part string) (float64, bool) {
	switch {
	case m.Counter != nil && part == "":
		return m.Counter.GetValue(), true
	case m.Gauge != nil && part == "":
		return m.Gauge.GetValue(), true
	case m.Untyped != nil && part == "":
		return m.Untyped.GetValue(), true
	case m.Histogram != nil && part == "_count":
		return float64(m.Histogram.GetSampleCount()), true
	case m.Histogram != nil && part == "_sum":
		return m.Histogram.GetSampleSum(), true
	case m.Summary != nil && part == "_count":
		return float64(m.Summary.GetSampleCount()), true
	case m.Summary != nil && part == "_sum":
		return m.Summary.GetSampleSum(), true
	}
	return 0, false
}

// Describe says what a wanted sample was and what the text held, for t.Errorf.
func Describe(text, name string, want map[string]string) string {
	return fmt.Sprintf("%s%v; the text has:\n%s", name, want, Lines(text, name))
}
