package config

import (
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow"
)

// A rotation's new token sits beside the old one, from the file or the environment,
// under "<name>-next"; without the old one, or equal to it, it is refused, naming the
// settings and never the token.
func TestLoadWorker_NextTokenBesideTheOld(t *testing.T) {
	workerEnv(t)
	path := writeFile(t, "worker.yaml", "dcr_tokens: {partners: oldTokenValue123}\n")
	t.Setenv("DCRFLOW_DCR_TOKEN_PARTNERS_NEXT", "newTokenValue456")
	w, err := LoadWorker(path)
	if err != nil {
		t.Fatal(err)
	}
	if w.DCRTokens[dcrflow.NextDCRTokenName("partners")] != "newTokenValue456" || w.DCRTokens["partners"] != "oldTokenValue123" {
		t.Fatalf("tokens: %v", w.DCRTokenNames())
	}
	if w.Rotation.MaxTokenAgeDays != dcrflow.DefaultTokenMaxAgeDays {
		t.Fatalf("max age default %d", w.Rotation.MaxTokenAgeDays)
	}

	path = writeFile(t, "w2.yaml", "dcr_tokens: {partners: oldTokenValue123, orphan_next: secretValue789}\n")
	_, err = LoadWorker(path)
	if err == nil || !strings.Contains(err.Error(), "dcr_tokens.orphan_next (DCRFLOW_DCR_TOKEN_ORPHAN_NEXT) is the new token of a rotation of orphan, yet the worker holds no dcr_tokens.orphan") {
		t.Fatalf("next without the old: %v", err)
	}
	if strings.Contains(err.Error(), "secretValue789") {
		t.Fatalf("error shows the token: %v", err)
	}

	t.Setenv("DCRFLOW_DCR_TOKEN_PARTNERS_NEXT", "oldTokenValue123")
	path = writeFile(t, "w3.yaml", "dcr_tokens: {partners: oldTokenValue123}\n")
	_, err = LoadWorker(path)
	if err == nil || !strings.Contains(err.Error(), "holds the same token as dcr_tokens.partners") || strings.Contains(err.Error(), "oldTokenValue123") {
		t.Fatalf("next equal to the old: %v", err)
	}
}

func TestLoadWorker_TokenMaxAge(t *testing.T) {
	workerEnv(t)
	path := writeFile(t, "worker.yaml", "rotation: {max_token_age_days: 30}\n")
	w, err := LoadWorker(path)
	if err != nil || w.Rotation.MaxTokenAgeDays != 30 {
		t.Fatalf("max age: %+v %v", w.Rotation, err)
	}
	path = writeFile(t, "w2.yaml", "rotation: {max_token_age_days: -3}\n")
	if _, err := LoadWorker(path); err == nil || !strings.Contains(err.Error(), "rotation.max_token_age_days") {
		t.Fatalf("negative age: %v", err)
	}
	path = writeFile(t, "w3.yaml", "rotation: {max_token_age_dayz: 3}\n")
	if _, err := LoadWorker(path); err == nil || !strings.Contains(err.Error(), "did you mean rotation.max_token_age_days") {
		t.Fatalf("typo: %v", err)
	}
	path = writeFile(t, "w4.yaml", "dcr_token: {partners_next: x}\n")
	if _, err := LoadWorker(path); err == nil || !strings.Contains(err.Error(), "did you mean dcr_tokens.partners_next") {
		t.Fatalf("typo in dcr_tokens: %v", err)
	}
}
