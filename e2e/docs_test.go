package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dcrflow/dcrflow/internal/flagscan"
)

// docCommand is one command line of a shell block in the docs.
type docCommand struct {
	file string
	line int
	env  []string // VAR=value before the command
	args []string // the command, its name first
}

// docCommands are the command lines of every ```sh block of README.md and docs/*.md,
// comments and leading VAR=value assignments split off.
func docCommands(t *testing.T) []docCommand {
	t.Helper()
	files, _ := filepath.Glob("../docs/*.md")
	files = append([]string{"../README.md"}, files...)
	var out []docCommand
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in := false
		for i, l := range strings.Split(string(b), "\n") {
			trim := strings.TrimSpace(l)
			switch {
			case strings.HasPrefix(trim, "```sh"):
				in = true
				continue
			case strings.HasPrefix(trim, "```"):
				in = false
				continue
			case !in:
				continue
			}
			if j := strings.Index(trim, " #"); j >= 0 {
				trim = trim[:j]
			}
			fields := strings.Fields(trim)
			c := docCommand{file: filepath.Base(f), line: i + 1}
			for len(fields) > 0 && regexp.MustCompile(`^[A-Z_]+=`).MatchString(fields[0]) {
				c.env, fields = append(c.env, fields[0]), fields[1:]
			}
			if len(fields) > 0 {
				c.args = fields
				out = append(out, c)
			}
		}
	}
	return out
}

// Every dcrflow command shown in README.md and docs/ runs against a dev server, a
// worker and the sandbox, in the order shown, and none is refused as bad usage (exit
// 2): a renamed command or flag, or a file the docs name that does not exist, fails
// here. `docker compose run --rm dcrflow …` lines run the same binary. Every worker
// command's flags exist on the worker. Every repository path the README's tables name
// exists.
func TestDocs_EveryCommandShownRuns(t *testing.T) {
	const tq = "docs"
	rig := startCLIRig(t, tq)
	dir, bin, workerBin, addr := rig.dir, rig.bin, rig.workerBin, rig.addr
	// The docs' files: portals.yaml, examples/portals.yaml and the compose mount /portals.
	work := filepath.Join(dir, "work")
	example, err := os.ReadFile("../examples/portals.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"portals.yaml", "examples/portals.yaml", "portals/portals.yaml"} {
		os.MkdirAll(filepath.Dir(filepath.Join(work, p)), 0o755)
		os.WriteFile(filepath.Join(work, p), example, 0o644)
	}
	// The temporal.toml the docs show, as the default file (HOME is dir).
	toml := docBlocks(t, "../docs/configuration.md", "toml")
	if len(toml) == 0 {
		t.Fatal("docs/configuration.md shows no temporal.toml")
	}
	os.MkdirAll(filepath.Join(dir, ".config", "temporalio"), 0o700)
	os.WriteFile(filepath.Join(dir, ".config", "temporalio", "temporal.toml"), []byte(strings.ReplaceAll(toml[0], "127.0.0.1:7233", addr)), 0o600)
	// Only these may exit non-zero here: a decision needs a held portal; check exits 4
	// when it finds drift (the docs' earlier commands offboard portals); a rotation, a
	// worker holding the token's replacement (dcr_tokens.<name>_next).
	mayFail := []string{"decide retry", "decide abandon", "check -f", "rotate-dcr-token --name"}
	workerFlags := flagscan.Flags(t, workerBin)
	ran := map[string]int{}
	for _, c := range docCommands(t) {
		where := c.file + ":" + itoa(c.line)
		args := c.args
		if len(args) > 4 && strings.Join(args[:4], " ") == "docker compose run --rm" && args[4] == "dcrflow" {
			args = append([]string{"dcrflow", "--ui", "http://localhost:8080"}, args[5:]...) // the service's entrypoint
		}
		switch filepath.Base(args[0]) {
		case "worker":
			flagscan.Check(t, where+" "+strings.Join(args, " "), args[1:], workerFlags)
			continue
		case "dcrflow":
		default:
			continue
		}
		for i, a := range args {
			a = strings.ReplaceAll(a, "127.0.0.1:7233", addr)
			args[i] = strings.ReplaceAll(a, "/portals/", filepath.Join(work, "portals")+"/")
		}
		env := cliEnv(dir, "DCRFLOW_TEMPORAL_TASK_QUEUE="+tq)
		if !strings.Contains(strings.Join(c.env, " "), "TEMPORAL_ADDRESS") {
			env = append(env, "DCRFLOW_TEMPORAL_ADDRESS="+addr)
		}
		for _, kv := range c.env {
			env = append(env, strings.ReplaceAll(kv, "127.0.0.1:7233", addr))
		}
		cmd := exec.Command(bin, args[1:]...)
		cmd.Dir, cmd.Env = work, env
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if _, ok := err.(*exec.ExitError); err != nil && !ok {
			t.Fatalf("%s: %v", where, err)
		}
		code := cmd.ProcessState.ExitCode()
		t.Logf("%s: dcrflow %s: exit %d", where, strings.Join(args[1:], " "), code)
		if code == 2 || strings.Contains(stderr.String(), "Run 'dcrflow") || strings.Contains(stderr.String(), "unknown") {
			t.Errorf("%s: %s is refused as bad usage (exit %d):\n%s%s", where, strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
		if code != 0 && !slices.Contains(mayFail, strings.Join(args[1:min(3, len(args))], " ")) {
			t.Errorf("%s: %s: exit %d:\n%s%s", where, strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
		ran[c.file]++
	}
	for _, f := range []string{"README.md", "operations.md", "configuration.md", "deployment.md"} {
		if ran[f] == 0 {
			t.Errorf("no dcrflow command found in %s: the extraction is broken", f)
		}
	}
	t.Logf("commands run per file: %v", ran)

	readme, _ := os.ReadFile("../README.md")
	for _, m := range regexp.MustCompile("`((?:activities|clients|sandbox|workflows|starter|e2e|docs|bench|examples)/[^` ]+)`").FindAllStringSubmatch(string(readme), -1) {
		if _, err := os.Stat(filepath.Join("..", m[1])); err != nil {
			t.Errorf("README names %s, which does not exist", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`\]\(((?:docs|bench)/[^)#]+)`).FindAllStringSubmatch(string(readme), -1) {
		if _, err := os.Stat(filepath.Join("..", m[1])); err != nil {
			t.Errorf("README links %s, which does not exist", m[1])
		}
	}
}

// docBlocks are the bodies of the ```lang blocks of file.
func docBlocks(t *testing.T, file, lang string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, part := range strings.Split(string(b), "```"+lang+"\n")[1:] {
		body, _, _ := strings.Cut(part, "```")
		out = append(out, body)
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
