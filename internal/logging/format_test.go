package logging

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/dcrflow/dcrflow/internal/ptytest"
)

func TestNewFor_AutoIsConsoleOnATerminalAndJSONElsewhere(t *testing.T) {
	// A file: JSON, and the SDK's lines through Temporal(l) too.
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewFor("info", "auto", f)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("from dcrflow", zapString("k", "v"))
	Temporal(l).Warn("from the SDK", "Namespace", "default")
	l.Debug("below the level")
	_ = l.Sync()
	b, _ := os.ReadFile(f.Name())
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got:\n%s", b)
	}
	for _, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || m["msg"] == nil || m["level"] == nil || m["time"] == nil {
			t.Errorf("not a JSON log line: %s", line)
		}
	}

	// A terminal: console lines.
	term := ptytest.Open(t)
	l, err = NewFor("info", "auto", term.Slave)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("from dcrflow", zapString("k", "v"))
	Temporal(l).Warn("from the SDK", "Namespace", "default")
	out := term.ReadUntil(t, "from the SDK")
	if strings.Contains(out, "{\"level\"") || !strings.Contains(out, "INFO\tfrom dcrflow\t{\"k\": \"v\"}") || !strings.Contains(out, "WARN\tfrom the SDK") {
		t.Errorf("on a terminal, want console lines:\n%q", out)
	}

	// Forced formats, and refusals.
	if l, err := NewFor("warn", "json", term.Slave); err != nil || l == nil {
		t.Errorf("json on a terminal: %v", err)
	}
	if _, err := NewFor("info", "yaml", f); err == nil {
		t.Error("format yaml accepted")
	}
	if _, err := NewFor("loud", "json", f); err == nil {
		t.Error("level loud accepted")
	}
}

func zapString(k, v string) zap.Field { return zap.String(k, v) }
