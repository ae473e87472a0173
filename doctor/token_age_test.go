package doctor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/launcher"
)

func TestCheckTokenAges_WarnsPastTheLimit(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	ages := []launcher.TokenAge{
		{Name: "fresh", LastRotated: now.AddDate(0, 0, -10)},
		{Name: "stale", LastRotated: now.AddDate(0, 0, -31)},
		{Name: "legacy", FirstSeen: now.AddDate(0, 0, -200)},
	}
	var asked []string
	d := Deps{DCRTokens: map[string]string{"fresh": "a", "stale": "b", "legacy": "c", "legacy-next": "d"},
		TokenAges: TokenAgeDeps{MaxDays: 30, Now: func() time.Time { return now },
			Ages: func(_ context.Context, names []string) ([]launcher.TokenAge, error) { asked = names; return ages, nil }}}
	var got []Check
	checkTokenAges(context.Background(), d, func(c Check) { got = append(got, c) })
	if len(asked) != 4 || len(got) != 3 {
		t.Fatalf("asked %v, checks %+v", asked, got)
	}
	if got[0].Status != Pass || !strings.Contains(got[0].Detail, "10 day(s) ago") {
		t.Errorf("fresh: %+v", got[0])
	}
	if got[1].Status != Warn || !strings.Contains(got[1].Fix, "dcrflow rotate-dcr-token --name stale") || !strings.Contains(got[1].Fix, "DCRFLOW_DCR_TOKEN_STALE_NEXT") {
		t.Errorf("stale: %+v", got[1])
	}
	if got[2].Status != Warn || !strings.Contains(got[2].Detail, "never rotated through dcrflow (first seen 2026-05-19") {
		t.Errorf("legacy: %+v", got[2])
	}
	d.TokenAges.Ages = func(context.Context, []string) ([]launcher.TokenAge, error) { return nil, errors.New("no temporal") }
	got = nil
	checkTokenAges(context.Background(), d, func(c Check) { got = append(got, c) })
	if len(got) != 1 || got[0].Status != Warn {
		t.Errorf("no temporal: %+v", got)
	}
}
