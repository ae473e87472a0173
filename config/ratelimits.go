package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/viper"

	"github.com/dcrflow/dcrflow/ratelimit"
)

// RateLimits are the request budgets that all workers on the task queue share, in
// requests per minute; 0 (the default) is no budget:
//
//	rate_limits: {okta_management_rpm: 600, okta_dcr_rpm: 50, konnect_rpm: 600}
//	# or DCRFLOW_RATE_LIMITS_OKTA_MANAGEMENT_RPM, _OKTA_DCR_RPM, _KONNECT_RPM
//
// Give every worker the same values: each takes the budget divided by the live
// workers.
type RateLimits struct {
	OktaManagementRPM int `mapstructure:"okta_management_rpm"`
	OktaDCRRPM        int `mapstructure:"okta_dcr_rpm"`
	KonnectRPM        int `mapstructure:"konnect_rpm"`
}

// Budgets is the configuration as ratelimit.Config.Budgets.
func (r RateLimits) Budgets() map[ratelimit.System]int {
	return map[ratelimit.System]int{
		ratelimit.OktaManagement: r.OktaManagementRPM,
		ratelimit.OktaDCR:        r.OktaDCRRPM,
		ratelimit.Konnect:        r.KonnectRPM,
	}
}

// maxRPM is far above any org's limit: a larger number is a typo.
const maxRPM = 1_000_000

// rateLimitKeys are the settings under rate_limits, each with what it budgets.
var rateLimitKeys = []struct{ key, what string }{
	{"okta_management_rpm", "Okta management API calls"},
	{"okta_dcr_rpm", "Okta DCR endpoint calls"},
	{"konnect_rpm", "Konnect calls"},
}

// checkRateLimits refuses, before decoding, what decoding would take badly: a
// value that is not a whole number (decoding would fail obscurely, or cut 1.5 to
// 1), a negative or absurd one, and an unknown key under rate_limits.
func checkRateLimits(v *viper.Viper, src string) []error {
	var errs []error
	known := make([]string, 0, len(rateLimitKeys))
	for _, k := range rateLimitKeys {
		known = append(known, k.key)
	}
	switch sub := v.Get("rate_limits").(type) {
	case nil:
	case map[string]any:
		for key := range sub {
			if !slices.Contains(known, key) {
				errs = append(errs, fmt.Errorf("config %s: rate_limits.%s is not a setting; use %s", src, key, strings.Join(known, ", ")))
			}
		}
	default:
		errs = append(errs, fmt.Errorf("config %s: rate_limits must be a mapping, e.g. rate_limits: {okta_management_rpm: 600}", src))
		v.Set("rate_limits", map[string]any{})
	}
	for _, k := range rateLimitKeys {
		key := "rate_limits." + k.key
		env := EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		raw := v.Get(key)
		if raw == nil {
			continue
		}
		n, ok := wholeNumber(raw)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("config %s: %s (%s) %q is not a whole number; set the %s per minute that all workers together may make, or 0 for no budget (e.g. 600)",
				src, key, env, fmt.Sprint(raw), k.what))
		case n < 0 || n > maxRPM:
			errs = append(errs, fmt.Errorf("config %s: %s (%s) %d is out of range; set 0 (no budget) up to %d %s per minute",
				src, key, env, n, maxRPM, k.what))
		default:
			v.Set(key, n) // as read here: the environment's " 300 " too
			continue
		}
		v.Set(key, 0) // decoding goes on, so that every problem is reported at once
	}
	// A budget so small that a step needs more slots at once than it may wait for
	// would defer that step on every attempt: refuse it, with the arithmetic.
	budgets := map[ratelimit.System]int{}
	for _, k := range rateLimitKeys {
		budgets[systemOf(k.key)] = v.GetInt("rate_limits." + k.key)
	}
	refused := ratelimit.Check(budgets, 0)
	for _, k := range rateLimitKeys {
		if err := refused[systemOf(k.key)]; err != nil {
			key := "rate_limits." + k.key
			env := EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
			errs = append(errs, fmt.Errorf("config %s: %s (%s) %d %v", src, key, env, budgets[systemOf(k.key)], err))
		}
	}
	return errs
}

// systemOf is the budget a rate_limits key sets: okta_dcr_rpm → okta_dcr.
func systemOf(key string) ratelimit.System { return ratelimit.System(strings.TrimSuffix(key, "_rpm")) }

// wholeNumber reads an integer from YAML (int, float) or the environment (string).
func wholeNumber(raw any) (int, bool) {
	switch x := raw.(type) {
	case int:
		return x, true
	case int64:
		return int(x), x >= math.MinInt32 && x <= math.MaxInt32
	case uint64:
		return int(x), x <= math.MaxInt32
	case float64:
		return int(x), x == math.Trunc(x) && math.Abs(x) <= math.MaxInt32
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	return 0, false
}
