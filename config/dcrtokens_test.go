package config

import (
	"reflect"
	"strings"
	"testing"
)

// The worker keys its DCR tokens by the one normal form onboarding files are read in
// (dcrflow.DCRTokenName): uppercase and '_' from the file or the environment name
// the same token as the file's lowercase, '-' spelling.
func TestLoadWorker_DCRTokenNamesHaveOneNormalForm(t *testing.T) {
	workerEnv(t)
	path := writeFile(t, "worker.yaml", "dcr_tokens: {Partners_EU: p1}\n")
	t.Setenv("DCRFLOW_DCR_TOKEN_EXTRA_ONE", "x1")
	w, err := LoadWorker(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"default": "dcr", "partners-eu": "p1", "extra-one": "x1"}
	if !reflect.DeepEqual(w.DCRTokens, want) {
		t.Fatalf("tokens = %v, want %v", w.DCRTokens, want)
	}
	path = writeFile(t, "w2.yaml", "dcr_tokens: {a_b: one, a-b: two}\n")
	if _, err := LoadWorker(path); err == nil || !strings.Contains(err.Error(), "are one token name (a-b)") {
		t.Errorf("two spellings of one name: %v", err)
	}
}
