package config

import (
	"fmt"
	"time"
)

// Schedule is the default of `dcrflow schedule create|update` (its --every and --heal
// flags win): how often the reconcile runs, and whether it heals.
type Schedule struct {
	Every time.Duration `mapstructure:"every"`
	Heal  bool          `mapstructure:"heal"`
}

// MinScheduleEvery is the shortest interval a reconcile schedule may have.
const MinScheduleEvery = time.Minute

func (s *Schedule) check(src string) []error {
	if s.Every != 0 && s.Every < MinScheduleEvery {
		return []error{fmt.Errorf("config %s: schedule.every (%s_SCHEDULE_EVERY) %s: want at least %s (e.g. 1h), or leave it out", src, EnvPrefix, s.Every, MinScheduleEvery)}
	}
	return nil
}
