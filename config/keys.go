package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/viper"

	"github.com/dcrflow/dcrflow/internal/textsafe"
)

// settings are the keys a configuration file may hold. A setting ending in ".*" takes
// any name under it (a DCR token's, a payload key's). The starter accepts the
// worker's settings too, and ignores them, so that one file may serve both.
var settings = append(slices.Clone(workerKeys), "codec.keys.*", "dcr_tokens.*",
	"temporal.tls.ca_data", "temporal.tls.cert_data", "temporal.tls.key_data")

// unknownKeys refuses every key of the file that is not a setting, with the setting
// most likely meant: a typo must not leave a default (or no budget) in place
// silently. Keys under rate_limits are checkRateLimits'.
func unknownKeys(file *viper.Viper, known []string, src string) []error {
	var errs []error
	keys := file.AllKeys() // lowercased, as viper matches them
	sort.Strings(keys)
	for _, k := range keys {
		if isSetting(k, known) || strings.HasPrefix(k, "rate_limits.") {
			continue
		}
		hint := ""
		if s := closestSetting(k, known); s != "" {
			hint = " (did you mean " + s + "?)"
		}
		errs = append(errs, fmt.Errorf("config %s: %s is not a setting%s; remove it or correct it (the settings are listed in README, \"Pointing it at a real Okta org and Konnect region\")",
			src, textsafe.Clip(k), hint))
	}
	return errs
}

// isSetting says k is a setting, a name under a ".*" setting, or a section of
// settings given as a whole (decoding then says what is wrong with its value).
func isSetting(k string, known []string) bool {
	for _, s := range known {
		if pre, ok := strings.CutSuffix(s, "*"); ok && strings.HasPrefix(k, pre) || k == s || strings.HasPrefix(s, k+".") {
			return true
		}
	}
	return false
}

// closestSetting is the setting nearest to k (at most 3 edits), or "". Under a ".*"
// setting the name is kept: dcr_token.partners → dcr_tokens.partners.
func closestSetting(k string, known []string) string {
	if len(k) > 80 {
		return ""
	}
	best, bestD := "", 4
	for _, s := range known {
		if pre, ok := strings.CutSuffix(s, ".*"); ok {
			segs := strings.SplitN(k, ".", strings.Count(pre, ".")+2)
			if len(segs) < strings.Count(pre, ".")+2 {
				continue
			}
			s = pre + "." + segs[len(segs)-1]
		}
		if d := textsafe.EditDistance(k, s); d < bestD {
			best, bestD = s, d
		}
	}
	return best
}

// envNearMisses warns about DCRFLOW_* variables that are not settings but within two
// edits of one (DCRFLOW_TEMPORAL_ADRESS): they are ignored. Others are left alone, for
// scripts use DCRFLOW_* variables of their own.
func envNearMisses(environ []string) []string {
	known := []string{}
	for _, k := range workerKeys {
		known = append(known, EnvPrefix+"_"+strings.ToUpper(strings.ReplaceAll(k, ".", "_")))
	}
	for _, s := range []string{"OKTA_TOKEN", "KONNECT_TOKEN", "TEMPORAL_API_KEY", "CODEC_AUTH_TOKEN"} {
		known = append(known, EnvPrefix+"_"+s+"_FILE")
	}
	var out []string
	for _, kv := range environ {
		env, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(env, EnvPrefix+"_") || slices.Contains(known, env) || strings.HasPrefix(env, dcrTokenEnv) || strings.HasPrefix(env, codecKeyEnv) || len(env) > 80 {
			continue
		}
		for _, k := range known {
			if textsafe.EditDistance(env, k) <= 2 {
				out = append(out, fmt.Sprintf("%s is not a setting (did you mean %s?); it is ignored", env, k))
				break
			}
		}
	}
	sort.Strings(out)
	return out
}
