package promtext

import "testing"

const exposition = `# HELP reqs_total Requests.
# TYPE reqs_total counter
reqs_total{op="a,b",status="200"} 2
reqs_total{op="a,b",status="429"} 1
reqs_total{op="c",status="200"} 5
# HELP lat_seconds Latency.
# TYPE lat_seconds histogram
lat_seconds_bucket{op="c",le="1"} 3
lat_seconds_bucket{op="c",le="+Inf"} 4
lat_seconds_sum{op="c"} 2.5
lat_seconds_count{op="c"} 4
# HELP up Up.
# TYPE up gauge
up 1
`

// A label value with a comma is read whole (a hand-split parser broke on it), and
// histograms answer for their _count and _sum.
func TestValue(t *testing.T) {
	for _, c := range []struct {
		name string
		want map[string]string
		sum  float64
		ok   bool
	}{
		{"reqs_total", map[string]string{"op": "a,b"}, 3, true},
		{"reqs_total", map[string]string{"op": "a,b", "status": "429"}, 1, true},
		{"reqs_total", nil, 8, true},
		{"reqs_total", map[string]string{"op": "a"}, 0, false},
		{"reqs_total", map[string]string{"missing": ""}, 0, false},
		{"lat_seconds_count", map[string]string{"op": "c"}, 4, true},
		{"lat_seconds_sum", nil, 2.5, true},
		{"up", nil, 1, true},
		{"absent", nil, 0, false},
	} {
		sum, ok := Value(exposition, c.name, c.want)
		if sum != c.sum || ok != c.ok {
			t.Errorf("Value(%s, %v) = %v, %v; want %v, %v", c.name, c.want, sum, ok, c.sum, c.ok)
		}
	}
	if _, ok := Value("reqs_total{op=\"x\" 1\n", "reqs_total", nil); ok {
		t.Error("a malformed exposition matched")
	}
}
