package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadStarter_ScheduleDefaults(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "dcrflow.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	s, err := LoadStarter(write("schedule:\n  every: 30m\n  heal: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Schedule.Every != 30*time.Minute || !s.Schedule.Heal {
		t.Errorf("schedule %+v, want every 30m, heal", s.Schedule)
	}
	_, err = LoadStarter(write("schedule:\n  every: 10s\n"))
	if err == nil || !strings.Contains(err.Error(), "schedule.every") || !strings.Contains(err.Error(), "at least 1m0s") {
		t.Errorf("every 10s: %v", err)
	}
	t.Setenv("DCRFLOW_SCHEDULE_EVERY", "2h")
	s, err = LoadStarter("")
	if err != nil || s.Schedule.Every != 2*time.Hour || s.Schedule.Heal {
		t.Errorf("from the environment: %+v %v", s.Schedule, err)
	}
}
