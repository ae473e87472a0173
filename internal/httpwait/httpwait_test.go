package httpwait

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestParseWindow_AndRetryAfter(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name string
		h    map[string]string
		want Window
		ok   bool
	}{
		{"okta", map[string]string{"X-Rate-Limit-Limit": "600", "X-Rate-Limit-Remaining": "599", "X-Rate-Limit-Reset": "1800000042"},
			Window{600, 599, now.Add(42 * time.Second)}, true},
		{"ietf draft, seconds from now", map[string]string{"RateLimit-Limit": "100", "RateLimit-Remaining": "7", "RateLimit-Reset": "13"},
			Window{100, 7, now.Add(13 * time.Second)}, true},
		{"ietf with policy", map[string]string{"RateLimit-Limit": "100, 100;w=60", "RateLimit-Remaining": "50", "RateLimit-Reset": "30"},
			Window{100, 50, now.Add(30 * time.Second)}, true},
		{"x-ratelimit", map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "5"},
			Window{10, 1, now.Add(5 * time.Second)}, true},
		{"incomplete", map[string]string{"X-Rate-Limit-Limit": "600"}, Window{}, false},
		{"garbage", map[string]string{"RateLimit-Limit": "lots", "RateLimit-Remaining": "1", "RateLimit-Reset": "1"}, Window{}, false},
	} {
		h := http.Header{}
		for k, v := range tc.h {
			h.Set(k, v)
		}
		got, ok := ParseWindow(h, now)
		if ok != tc.ok || got.Limit != tc.want.Limit || got.Remaining != tc.want.Remaining || !got.Reset.Equal(tc.want.Reset) {
			t.Errorf("%s: %+v %v, want %+v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	h := http.Header{}
	h.Set("Retry-After", "7")
	if got := RetryAfter(h, now); got != 7*time.Second {
		t.Errorf("Retry-After 7 = %v", got)
	}
	h.Set("Retry-After", now.Add(9*time.Second).UTC().Format(http.TimeFormat))
	if got := RetryAfter(h, now); got != 9*time.Second {
		t.Errorf("Retry-After date = %v", got)
	}
}

func TestWait_OktaResetAgainstTheAnswersDate(t *testing.T) {
	t.Parallel()
	date := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := http.Header{}
	h.Set("Date", date.Format(http.TimeFormat))
	h.Set("X-Rate-Limit-Reset", fmt.Sprint(date.Add(42*time.Second).Unix()))
	if got := Wait(429, h, time.Now()); got != 42*time.Second {
		t.Errorf("with Date: %v", got)
	}
	h.Del("Date")
	if got := Wait(429, h, date.Add(40*time.Second)); got != 2*time.Second {
		t.Errorf("without Date: %v", got)
	}
	if got := Wait(429, h, date.Add(time.Hour)); got != time.Second {
		t.Errorf("reset passed: %v, want the 1s floor", got)
	}
	if got := Wait(429, http.Header{}, date); got != 0 {
		t.Errorf("no reset header: %v", got)
	}
}

func TestWait_RetryAfterAndTheIETFReset(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		status int
		header http.Header
		want   time.Duration
	}{
		{"seconds", 429, http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{"http date", 503, http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{"past date", 429, http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{"garbage", 429, http.Header{"Retry-After": {"soon"}}, 0},
		{"negative", 429, http.Header{"Retry-After": {"-3"}}, 0},
		{"ratelimit reset fallback on 429", 429, http.Header{"Ratelimit-Reset": {"12"}}, 12 * time.Second},
		{"no fallback on other statuses", 404, http.Header{"Ratelimit-Reset": {"12"}}, 0},
		{"retry-after wins", 429, http.Header{"Retry-After": {"3"}, "Ratelimit-Reset": {"12"}}, 3 * time.Second},
		{"none", 429, http.Header{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Wait(tt.status, tt.header, now); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
