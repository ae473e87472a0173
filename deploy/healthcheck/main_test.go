package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRun_ExitStatus(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(ok.Close)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	t.Cleanup(down.Close)
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(stuck.Close)

	cases := []struct {
		name string
		args []string
		want int
		says string
	}{
		{"all healthy", []string{ok.URL, ok.URL}, 0, ""},
		{"one unhealthy", []string{ok.URL, down.URL}, 1, "503"},
		{"too slow", []string{"-timeout", "200ms", stuck.URL}, 1, "deadline"},
		{"nothing listening", []string{"http://127.0.0.1:1/"}, 1, "refused"},
		{"no URL", nil, 2, "at least one URL"},
		{"unknown flag", []string{"-x", ok.URL}, 2, "not defined"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var out strings.Builder
			if got := run(c.args, &out); got != c.want || !strings.Contains(out.String(), c.says) {
				t.Errorf("run(%q) = %d, %q; want %d saying %q", c.args, got, out.String(), c.want, c.says)
			}
		})
	}
}
