package config

import (
	"fmt"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/textsafe"
)

// Rotation is how dcrflow watches its DCR tokens' age (doctor, check).
type Rotation struct {
	// MaxTokenAgeDays: doctor and check warn about a DCR token not rotated through
	// dcrflow for longer (default dcrflow.DefaultTokenMaxAgeDays).
	MaxTokenAgeDays int `mapstructure:"max_token_age_days"`
}

// rotationKeys are Rotation's settings. Not under dcr_token_*: DCRFLOW_DCR_TOKEN_*
// variables are tokens.
var rotationKeys = []string{"rotation.max_token_age_days"}

func (r *Rotation) check(src string) []error {
	if r.MaxTokenAgeDays == 0 {
		r.MaxTokenAgeDays = dcrflow.DefaultTokenMaxAgeDays
	}
	if r.MaxTokenAgeDays < 1 {
		return []error{fmt.Errorf("config %s: rotation.max_token_age_days (%s_ROTATION_MAX_TOKEN_AGE_DAYS) is %d; want a number of days above 0 (default %d)",
			src, EnvPrefix, r.MaxTokenAgeDays, dcrflow.DefaultTokenMaxAgeDays)}
	}
	return nil
}

// checkNextTokens refuses a rotation's new token (dcr_tokens.<name>_next, normalized
// to "<name>-next") without the token it replaces, or equal to it. Messages name
// settings, never values.
func checkNextTokens(tokens map[string]string, src string) []error {
	var errs []error
	for _, name := range sortedNames(tokens) {
		base, ok := dcrflow.IsNextDCRTokenName(name)
		if !ok {
			continue
		}
		cur, has := tokens[base]
		switch {
		case !has:
			errs = append(errs, fmt.Errorf("config %s: dcr_tokens.%s_next (%s) is the new token of a rotation of %s, yet the worker holds no dcr_tokens.%s (%s); add the token in use as dcr_tokens.%s, or correct the name",
				src, textsafe.Clip(base), dcrflow.DCRTokenEnv(name), textsafe.Clip(base), textsafe.Clip(base), dcrflow.DCRTokenEnv(base), textsafe.Clip(base)))
		case cur != "" && cur == tokens[name]:
			errs = append(errs, fmt.Errorf("config %s: dcr_tokens.%s_next (%s) holds the same token as dcr_tokens.%s; put the new token (a new Okta API token) there",
				src, textsafe.Clip(base), dcrflow.DCRTokenEnv(name), textsafe.Clip(base)))
		}
	}
	return errs
}

func sortedNames(m map[string]string) []string {
	w := Worker{DCRTokens: m}
	return w.DCRTokenNames()
}
