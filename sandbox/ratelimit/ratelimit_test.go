package ratelimit

import (
	"testing"
	"time"
)

func TestWindow_RefusesPastLimitUntilReset(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	w := New(Settings{PerMinute: 2})
	w.now = func() time.Time { return now }

	for i, wantRemaining := range []int{1, 0} {
		d := w.Take()
		if !d.Allowed || d.Remaining != wantRemaining || d.Limit != 2 {
			t.Fatalf("take %d: got %+v", i, d)
		}
	}
	d := w.Take()
	if d.Allowed {
		t.Fatalf("third take allowed: %+v", d)
	}
	if got := d.RetryAfter(now); got != time.Minute {
		t.Fatalf("retry after = %v, want 1m", got)
	}
	now = now.Add(time.Minute)
	if d := w.Take(); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("after reset: %+v", d)
	}
}

func TestWindow_ZeroIsUnlimitedAndSetRestarts(t *testing.T) {
	w := New(Settings{})
	for range 1000 {
		if !w.Take().Allowed {
			t.Fatal("unlimited window refused a request")
		}
	}
	w.Set(Settings{PerMinute: 1, WindowSeconds: 2})
	d := w.Take()
	if !d.Allowed || d.Limit != 1 {
		t.Fatalf("after Set: %+v", d)
	}
	if w.Take().Allowed {
		t.Fatal("second request allowed with limit 1")
	}
	if got := d.Reset.Sub(time.Now()); got > 2*time.Second || got <= 0 {
		t.Fatalf("window length not applied: reset in %v", got)
	}
}
