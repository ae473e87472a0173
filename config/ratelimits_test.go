package config

import (
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow/ratelimit"
)

func TestLoadWorker_RateLimitsOffByDefault(t *testing.T) {
	workerEnv(t)
	w, err := LoadWorker("")
	if err != nil {
		t.Fatal(err)
	}
	if w.RateLimits != (RateLimits{}) {
		t.Fatalf("rate_limits default to %+v, want none", w.RateLimits)
	}
	if ratelimit.New(ratelimit.Config{Budgets: w.RateLimits.Budgets()}).Active() {
		t.Fatal("a budget without rate_limits")
	}
}

func TestLoadWorker_RateLimitsFromFileThenEnvironment(t *testing.T) {
	workerEnv(t)
	path := writeFile(t, "worker.yaml", "rate_limits: {okta_management_rpm: 600, okta_dcr_rpm: 50}\n")
	t.Setenv("DCRFLOW_RATE_LIMITS_OKTA_DCR_RPM", "40")
	t.Setenv("DCRFLOW_RATE_LIMITS_KONNECT_RPM", " 300 ")
	w, err := LoadWorker(path)
	if err != nil {
		t.Fatal(err)
	}
	want := RateLimits{OktaManagementRPM: 600, OktaDCRRPM: 40, KonnectRPM: 300}
	if w.RateLimits != want {
		t.Fatalf("rate_limits = %+v, want %+v", w.RateLimits, want)
	}
	b := w.RateLimits.Budgets()
	if b[ratelimit.OktaManagement] != 600 || b[ratelimit.OktaDCR] != 40 || b[ratelimit.Konnect] != 300 {
		t.Fatalf("budgets = %v", b)
	}
}

// Every bad value is named with its variable and a fix, all at once.
func TestLoadWorker_RateLimitsRefusedClearly(t *testing.T) {
	workerEnv(t)
	path := writeFile(t, "worker.yaml", "rate_limits: {okta_management_rpm: 1.5, okta_dcr_rpm: -1, okta_mgmt_rpm: 5}\n")
	t.Setenv("DCRFLOW_RATE_LIMITS_KONNECT_RPM", "fast")
	_, err := LoadWorker(path)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`worker.yaml: rate_limits.okta_management_rpm (DCRFLOW_RATE_LIMITS_OKTA_MANAGEMENT_RPM) "1.5" is not a whole number; set the Okta management API calls per minute`,
		`rate_limits.okta_dcr_rpm (DCRFLOW_RATE_LIMITS_OKTA_DCR_RPM) -1 is out of range; set 0 (no budget) up to 1000000`,
		`rate_limits.konnect_rpm (DCRFLOW_RATE_LIMITS_KONNECT_RPM) "fast" is not a whole number`,
		`rate_limits.okta_mgmt_rpm is not a setting; use okta_management_rpm, okta_dcr_rpm, konnect_rpm`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	path = writeFile(t, "w2.yaml", "rate_limits: 600\n")
	t.Setenv("DCRFLOW_RATE_LIMITS_KONNECT_RPM", "")
	if _, err := LoadWorker(path); err == nil || !strings.Contains(err.Error(), "rate_limits must be a mapping") {
		t.Errorf("rate_limits: 600 gave %v", err)
	}
}

// A DCR budget so small that verifying a DCR provider (two DCR slots at once) could
// never fit in a step is refused at start, with the arithmetic and the least value
// that works; the README's example (50) is accepted.
func TestLoadWorker_ABudgetThatCannotRunAStepIsRefusedWithItsArithmetic(t *testing.T) {
	workerEnv(t)
	t.Setenv("DCRFLOW_RATE_LIMITS_OKTA_DCR_RPM", "8")
	_, err := LoadWorker("")
	if err == nil {
		t.Fatal("okta_dcr_rpm 8 accepted")
	}
	for _, want := range []string{
		"rate_limits.okta_dcr_rpm (DCRFLOW_RATE_LIMITS_OKTA_DCR_RPM) 8 cannot run a step at all",
		"verifying a DCR provider", "takes 2 slots of it at once",
		"60 s ÷ (8 × 0.98) = 7.7s", "more than the 7.5s a step may wait", "set at least 9",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	t.Setenv("DCRFLOW_RATE_LIMITS_OKTA_DCR_RPM", "50")
	if _, err := LoadWorker(""); err != nil {
		t.Errorf("okta_dcr_rpm 50 refused: %v", err)
	}
}
