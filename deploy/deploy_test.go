package deploy_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.yaml.in/yaml/v3"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/config"
	"github.com/dcrflow/dcrflow/internal/devserver"
	"github.com/dcrflow/dcrflow/internal/flagscan"
	sbkonnect "github.com/dcrflow/dcrflow/sandbox/konnect"
	sbokta "github.com/dcrflow/dcrflow/sandbox/okta"
	"github.com/dcrflow/dcrflow/sandbox/sandboxtest"
)

// The deployment files (Dockerfile, docker-compose.yml, deploy/) are checked here
// without a Docker engine: everything they reference exists, images are pinned, the
// flags they pass exist on the binaries built from this tree, the configuration they
// give the worker and the starter is one those binaries accept, nothing secret is built
// in, and the namespace job really registers dcrflow's search attributes (run against a
// dev server with the same temporal CLI). What needs Docker itself is listed in the
// README ("Three ways to run").

const (
	deployCompose    = "../docker-compose.yml"
	deployDockerfile = "../Dockerfile"
	deployBinDir     = "/usr/local/bin/"
)

// The binary each Dockerfile target runs, and its package.
var deployTargets = map[string]string{"worker": "./worker", "dcrflow": "./starter", "sandbox": "./sandbox/cmd/sandbox"}

// --- docker-compose.yml, as much of the compose format as this file uses -------------

type deployComposeFile struct {
	Name     string                           `yaml:"name"`
	Services map[string]deployService         `yaml:"services"`
	Secrets  map[string]struct{ File string } `yaml:"secrets"`
	Volumes  map[string]any                   `yaml:"volumes"`
}

type deployService struct {
	Image         string                                `yaml:"image"`
	Build         *deployBuild                          `yaml:"build"`
	ContainerName string                                `yaml:"container_name"`
	Profiles      []string                              `yaml:"profiles"`
	Entrypoint    deployArgs                            `yaml:"entrypoint"`
	Command       deployArgs                            `yaml:"command"`
	Environment   deployEnv                             `yaml:"environment"`
	EnvFile       deployEnvFiles                        `yaml:"env_file"`
	Secrets       []string                              `yaml:"secrets"`
	Volumes       []string                              `yaml:"volumes"`
	Ports         []string                              `yaml:"ports"`
	NetworkMode   string                                `yaml:"network_mode"`
	DependsOn     map[string]struct{ Condition string } `yaml:"depends_on"`
	Healthcheck   *struct{ Test deployArgs }            `yaml:"healthcheck"`
	Restart       string                                `yaml:"restart"`
	ReadOnly      bool                                  `yaml:"read_only"`
	CapDrop       []string                              `yaml:"cap_drop"`
}

type deployBuild struct{ Context, Dockerfile, Target string }

func (b *deployBuild) UnmarshalYAML(n *yaml.Node) error {
	n = deployDeref(n)
	if n.Kind == yaml.ScalarNode {
		b.Context = n.Value
		return nil
	}
	type plain deployBuild
	return n.Decode((*plain)(b))
}

// deployArgs is a command: a list, or a string split on spaces (as compose does).
type deployArgs []string

func (a *deployArgs) UnmarshalYAML(n *yaml.Node) error {
	n = deployDeref(n)
	if n.Kind == yaml.ScalarNode {
		*a = strings.Fields(n.Value)
		return nil
	}
	return n.Decode((*[]string)(a))
}

// deployEnv is environment: a map (merge keys and aliases resolved) or KEY=VALUE items.
type deployEnv map[string]string

func (e *deployEnv) UnmarshalYAML(n *yaml.Node) error {
	n = deployDeref(n)
	*e = deployEnv{}
	if n.Kind == yaml.SequenceNode {
		var items []string
		if err := n.Decode(&items); err != nil {
			return err
		}
		for _, it := range items {
			k, v, _ := strings.Cut(it, "=")
			(*e)[k] = v
		}
		return nil
	}
	return n.Decode((*map[string]string)(e))
}

type deployEnvFile struct {
	Path     string
	Required *bool
}

type deployEnvFiles []deployEnvFile

func (f *deployEnvFiles) UnmarshalYAML(n *yaml.Node) error {
	n = deployDeref(n)
	if n.Kind == yaml.ScalarNode {
		*f = deployEnvFiles{{Path: n.Value}}
		return nil
	}
	for _, it := range n.Content {
		it = deployDeref(it)
		if it.Kind == yaml.ScalarNode {
			*f = append(*f, deployEnvFile{Path: it.Value})
			continue
		}
		var ef deployEnvFile
		if err := it.Decode(&ef); err != nil {
			return err
		}
		*f = append(*f, ef)
	}
	return nil
}

func (f deployEnvFile) required() bool { return f.Required == nil || *f.Required }

func deployDeref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// deployInterpolate resolves ${VAR:-default} and ${VAR} as compose does with none of
// the variables set, so every default is what gets checked.
var deployVarRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}`)

func deployInterpolate(s string) string {
	return strings.ReplaceAll(deployVarRef.ReplaceAllString(s, "$2"), "$$", "$")
}

func deployLoadCompose(t *testing.T) deployComposeFile {
	t.Helper()
	raw, err := os.ReadFile(deployCompose)
	if err != nil {
		t.Fatal(err)
	}
	var cf deployComposeFile
	if err := yaml.Unmarshal([]byte(deployInterpolate(string(raw))), &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	if len(cf.Services) == 0 {
		t.Fatal("docker-compose.yml has no services")
	}
	return cf
}

// target is the Dockerfile target a service builds ("" for an image).
func (s deployService) target() string {
	if s.Build == nil {
		return ""
	}
	return s.Build.Target
}

// args is what the service's container runs after its binary: the compose entrypoint's
// arguments (its first word must be the image's binary) and the command.
func (s deployService) args(t *testing.T, name string) []string {
	var out []string
	if len(s.Entrypoint) > 0 {
		if s.target() != "" && s.Entrypoint[0] != deployBinDir+s.target() {
			t.Errorf("service %s: entrypoint %v does not run %s%s", name, s.Entrypoint, deployBinDir, s.target())
		}
		out = append(out, s.Entrypoint[1:]...)
	}
	return append(out, s.Command...)
}

// mounts maps container paths to host paths (relative to the repository) for bind mounts.
func (s deployService) mounts() map[string]string {
	m := map[string]string{}
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && (strings.HasPrefix(parts[0], ".") || strings.HasPrefix(parts[0], "/")) {
			m[parts[1]] = parts[0]
		}
	}
	return m
}

func deployHostPath(rel string) string { return filepath.Join("..", filepath.FromSlash(rel)) }

// deployUserCreated says whether a file the compose file needs but the repository does
// not hold is one the user makes: a .example beside it, and git ignores the file.
func deployUserCreated(t *testing.T, rel string) bool {
	t.Helper()
	if _, err := os.Stat(deployHostPath(rel) + ".example"); err != nil {
		return false
	}
	cmd := exec.Command("git", "check-ignore", "-q", filepath.Clean(rel))
	cmd.Dir = ".."
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 1 {
			t.Errorf("%s is the user's to create, but git would not ignore it: a secret could be committed", rel)
			return true
		}
		t.Logf("git check-ignore %s: %v (not checked)", rel, err)
	}
	return true
}

func TestDeploy_ComposeReferencesExistAndImagesArePinned(t *testing.T) {
	t.Parallel()
	cf := deployLoadCompose(t)
	for name, s := range cf.Services {
		if s.Build != nil {
			ctx := deployHostPath(s.Build.Context)
			if fi, err := os.Stat(ctx); err != nil || !fi.IsDir() {
				t.Errorf("service %s: build context %q is not a directory", name, s.Build.Context)
			}
			df := s.Build.Dockerfile
			if df == "" {
				df = "Dockerfile"
			}
			if _, err := os.Stat(filepath.Join(ctx, df)); err != nil {
				t.Errorf("service %s: %v", name, err)
			}
			if _, ok := deployTargets[s.Build.Target]; !ok {
				t.Errorf("service %s: build target %q is none of the Dockerfile's %v", name, s.Build.Target, slices.Sorted(maps.Keys(deployTargets)))
			}
			if s.Image != "" {
				t.Errorf("service %s: builds and names an image (%s): the build target is its name", name, s.Image)
			}
			if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") {
				t.Errorf("service %s: a dcrflow container writes nothing and needs no capability: read_only: true, cap_drop: [ALL]", name)
			}
		} else {
			if _, tag, ok := deployImageTag(s.Image); !ok || tag == "" || tag == "latest" {
				t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
			}
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			switch {
			case strings.HasPrefix(src, "."):
				if _, err := os.Stat(deployHostPath(src)); err != nil {
					t.Errorf("service %s: mounts %s, which is not in the repository", name, src)
				}
			case strings.HasPrefix(src, "/"):
				t.Errorf("service %s: mounts the host's %s: keep mounts inside the repository", name, src)
			default:
				if _, ok := cf.Volumes[src]; !ok {
					t.Errorf("service %s: named volume %s is not declared", name, src)
				}
			}
		}
		for _, ef := range s.EnvFile {
			if _, err := os.Stat(deployHostPath(ef.Path)); err != nil {
				if ef.required() || !deployUserCreated(t, ef.Path) {
					t.Errorf("service %s: env_file %s does not exist (an optional one needs a .example beside it)", name, ef.Path)
				}
			}
		}
		for _, sec := range s.Secrets {
			if _, ok := cf.Secrets[sec]; !ok {
				t.Errorf("service %s: secret %s is not declared", name, sec)
			}
		}
		for dep := range s.DependsOn {
			if _, ok := cf.Services[dep]; !ok {
				t.Errorf("service %s: depends on %s, which is no service", name, dep)
			}
		}
		if s.NetworkMode != "" {
			other, ok := strings.CutPrefix(s.NetworkMode, "service:")
			if _, dep := s.DependsOn[other]; !ok || !dep {
				t.Errorf("service %s: network_mode %q: want service:<a service it depends on>", name, s.NetworkMode)
			}
		}
	}
	for name, sec := range cf.Secrets {
		if !strings.HasPrefix(sec.File, "./deploy/secrets/") {
			t.Errorf("secret %s: file %q: keep secrets in deploy/secrets/ (git- and docker-ignored)", name, sec.File)
		}
		if _, err := os.Stat(deployHostPath(sec.File)); err != nil && !deployUserCreated(t, sec.File) {
			t.Errorf("secret %s: %s does not exist and has no .example beside it", name, sec.File)
		}
	}
}

// deployImageTag splits repo[:tag][@digest], a registry port aside.
func deployImageTag(image string) (repo, tag string, ok bool) {
	if image == "" {
		return "", "", false
	}
	image, _, _ = strings.Cut(image, "@")
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return image, "", true
	}
	return image[:i], image[i+1:], true
}

// The Temporal pieces are the current layout (temporalio/samples-server compose/), on
// versions that go together.
func TestDeploy_ComposeTemporalLayoutHealthAndRestarts(t *testing.T) {
	t.Parallel()
	cf := deployLoadCompose(t)
	byRepo := map[string][]string{} // image repository → services
	versions := map[string]string{}
	for name, s := range cf.Services {
		if s.Image != "" {
			repo, tag, _ := deployImageTag(s.Image)
			byRepo[repo] = append(byRepo[repo], name)
			if prev, ok := versions[repo]; ok && prev != tag {
				t.Errorf("%s is used in two versions: %s and %s", repo, prev, tag)
			}
			versions[repo] = tag
		}
	}
	for _, repo := range []string{"postgres", "temporalio/admin-tools", "temporalio/server", "temporalio/ui"} {
		if len(byRepo[repo]) == 0 {
			t.Errorf("no service runs %s", repo)
		}
	}
	if len(byRepo["temporalio/auto-setup"]) > 0 {
		t.Error("temporalio/auto-setup is deprecated: use the admin-tools schema job and temporalio/server")
	}
	if v := versions["temporalio/server"]; v != versions["temporalio/admin-tools"] {
		t.Errorf("temporalio/server %s and temporalio/admin-tools %s: the schema job must match the server", v, versions["temporalio/admin-tools"])
	}
	if v := versions["temporalio/server"]; !strings.HasPrefix(v, "1.29.") && !strings.HasPrefix(v, "1.30.") {
		t.Errorf("temporalio/server %s: want 1.29.x or 1.30.x", v)
	}
	if v := versions["temporalio/ui"]; deployVersionLess(v, "2.42.0") {
		t.Errorf("temporalio/ui %s: want 2.42 or later (user metadata, current details)", v)
	}
	if v := versions["postgres"]; !strings.HasPrefix(v, "16") {
		t.Errorf("postgres %s: want 16", v)
	}

	health := func(name string) string {
		s := cf.Services[name]
		if s.Healthcheck == nil || len(s.Healthcheck.Test) < 2 {
			t.Errorf("service %s has no health check", name)
			return ""
		}
		return strings.Join(s.Healthcheck.Test, " ")
	}
	for _, name := range byRepo["postgres"] {
		if h := health(name); !strings.Contains(h, "pg_isready") {
			t.Errorf("service %s: health check %q: want pg_isready", name, h)
		}
	}
	for _, name := range byRepo["temporalio/server"] {
		if h := health(name); !strings.Contains(h, "7233") {
			t.Errorf("service %s: health check %q does not probe the frontend port 7233", name, h)
		}
	}
	for _, name := range byRepo["temporalio/ui"] {
		if h := health(name); !strings.Contains(h, "8080") {
			t.Errorf("service %s: health check %q does not probe the UI port 8080", name, h)
		}
	}
	for name, s := range cf.Services {
		if s.target() == "sandbox" {
			if h := health(name); !strings.Contains(h, "/_sandbox/health") {
				t.Errorf("service %s: health check %q: want GET /_sandbox/health", name, h)
			}
		}
	}

	// One-shot jobs finish; everything else comes back after a crash. A dependency on a
	// health state needs a health check; on completion, a job.
	oneShot := func(s deployService) bool { return strings.HasPrefix(s.Restart, "on-failure") }
	for name, s := range cf.Services {
		if s.Restart == "" || s.Restart == "no" {
			if !slices.Contains(s.Profiles, "tools") { // run with docker compose run --rm
				t.Errorf("service %s has no restart policy", name)
			}
		}
		for dep, d := range s.DependsOn {
			switch d.Condition {
			case "service_healthy":
				if cf.Services[dep].Healthcheck == nil {
					t.Errorf("service %s waits for %s to be healthy, which has no health check", name, dep)
				}
			case "service_completed_successfully":
				if !oneShot(cf.Services[dep]) {
					t.Errorf("service %s waits for %s to complete, which is no one-shot job (restart: on-failure)", name, dep)
				}
			case "service_started":
			default:
				t.Errorf("service %s: depends_on %s without a condition", name, dep)
			}
		}
	}
	// The schema job runs before the server, the namespace job after it, the workers after that.
	deployWants(t, cf, "temporal", byRepo["temporalio/admin-tools"], "service_completed_successfully")
	deployWants(t, cf, "worker", []string{"temporal-setup"}, "service_completed_successfully")
	deployWants(t, cf, "temporal-setup", []string{"temporal"}, "service_healthy")
}

// deployWants checks that service depends on one of deps with the condition.
func deployWants(t *testing.T, cf deployComposeFile, service string, deps []string, condition string) {
	t.Helper()
	for dep, d := range cf.Services[service].DependsOn {
		if slices.Contains(deps, dep) && d.Condition == condition {
			return
		}
	}
	t.Errorf("service %s does not wait (%s) for any of %v", service, condition, deps)
}

func deployVersionLess(v, min string) bool {
	parse := func(s string) []int {
		var out []int
		for _, p := range strings.Split(s, ".") {
			n, _ := strconv.Atoi(p)
			out = append(out, n)
		}
		return out
	}
	return slices.Compare(parse(v), parse(min)) < 0
}

// Workers scale: no fixed name, no host port; the namespace job registers exactly the
// search attributes the workflows set, with the script mounted into it.
func TestDeploy_ComposeWorkersScaleAndSearchAttributesMatch(t *testing.T) {
	t.Parallel()
	cf := deployLoadCompose(t)
	workers := 0
	for name, s := range cf.Services {
		if s.target() != "worker" {
			continue
		}
		workers++
		if s.ContainerName != "" {
			t.Errorf("service %s: container_name %q stops --scale %s=N", name, s.ContainerName, name)
		}
		if len(s.Ports) > 0 {
			t.Errorf("service %s: host ports %v clash as soon as it is scaled", name, s.Ports)
		}
	}
	if workers == 0 || cf.Services["worker"].target() != "worker" {
		t.Fatal("no service named worker builds the worker target")
	}
	if p := cf.Services["worker"].Profiles; len(p) > 0 {
		t.Errorf("the worker is in profiles %v: plain docker compose up would not start it", p)
	}

	setup := cf.Services["temporal-setup"]
	want := map[string]string{dcrflow.SearchAttrPortal: "Keyword", dcrflow.SearchAttrStep: "Keyword", dcrflow.SearchAttrOutcome: "Keyword", dcrflow.SearchAttrDrift: "Keyword"}
	got := deploySearchAttributes(t, setup)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("temporal-setup registers %v, want %v", got, want)
	}
	script := ""
	for ctr, host := range setup.mounts() {
		if slices.Contains(setup.args(t, "temporal-setup"), ctr) {
			script = host
		}
	}
	b, err := os.ReadFile(deployHostPath(script))
	if script == "" || err != nil || !strings.Contains(string(b), "$DCRFLOW_SEARCH_ATTRIBUTES") {
		t.Errorf("temporal-setup does not run a mounted script that reads DCRFLOW_SEARCH_ATTRIBUTES (%q, %v)", script, err)
	}
}

func deploySearchAttributes(t *testing.T, setup deployService) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, pair := range strings.Fields(setup.Environment["DCRFLOW_SEARCH_ATTRIBUTES"]) {
		name, typ, _ := strings.Cut(pair, "=")
		got[name] = typ
	}
	return got
}

// Every path a container is told to run or read is mounted into it, and every variable a
// mounted script requires (${VAR:?}) is set for it.
func TestDeploy_ComposeArgumentsAndScriptsHaveWhatTheyNeed(t *testing.T) {
	t.Parallel()
	cf := deployLoadCompose(t)
	required := regexp.MustCompile(`\$\{([A-Z_]+):\?`)
	for name, s := range cf.Services {
		mounts := s.mounts()
		mounted := func(p string) bool {
			for ctr := range mounts {
				if p == ctr || strings.HasPrefix(p, strings.TrimSuffix(ctr, "/")+"/") {
					return true
				}
			}
			return false
		}
		for _, a := range s.args(t, name) {
			if strings.HasPrefix(a, "/") && !strings.HasPrefix(a, "/bin/") && !strings.HasPrefix(a, deployBinDir) && !mounted(a) {
				t.Errorf("service %s: %s is not mounted into the container", name, a)
			}
		}
		for ctr, host := range mounts {
			if !strings.HasSuffix(host, ".sh") {
				continue
			}
			b, err := os.ReadFile(deployHostPath(host))
			if err != nil {
				t.Error(err)
				continue
			}
			if out, err := exec.Command("sh", "-n", deployHostPath(host)).CombinedOutput(); err != nil {
				t.Errorf("%s: sh -n: %v\n%s", host, err, out)
			}
			for _, m := range required.FindAllStringSubmatch(string(b), -1) {
				if _, ok := s.Environment[m[1]]; !ok {
					t.Errorf("service %s runs %s (%s), which requires %s: not in its environment", name, host, ctr, m[1])
				}
			}
		}
	}
}

// What the compose file gives each worker and starter is a configuration the real
// loader accepts: the variable names are right, the secrets reach the *_FILE variables,
// the demo worker reaches the sandbox on loopback. Not parallel: it sets DCRFLOW_*.
func TestDeploy_ComposeConfigurationIsAcceptedByTheBinaries(t *testing.T) {
	cf := deployLoadCompose(t)
	for _, name := range slices.Sorted(maps.Keys(cf.Services)) {
		s := cf.Services[name]
		if s.target() != "worker" && s.target() != "dcrflow" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			env := deployServiceEnv(t, cf, name)
			args := s.args(t, name)
			configPath := ""
			if i := slices.Index(args, "-config"); i >= 0 && i+1 < len(args) {
				host, ok := s.mounts()[args[i+1]]
				if !ok {
					t.Fatalf("-config %s is not mounted", args[i+1])
				}
				configPath = deployHostPath(host)
			}
			for _, kv := range os.Environ() {
				if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, config.EnvPrefix+"_") && k != devserver.EnvBinary {
					t.Setenv(k, "")
					os.Unsetenv(k)
				}
			}
			for k, v := range env {
				t.Setenv(k, v)
			}

			var temporal config.Temporal
			if s.target() == "worker" {
				w, err := config.LoadWorker(configPath)
				if err != nil {
					t.Fatalf("the worker refuses what compose gives it:\n%v", err)
				}
				temporal = w.Temporal
				if !slices.Contains(w.DCRTokenNames(), "default") {
					t.Errorf("no DCR token named default (the examples' dcr_token): %v", w.DCRTokenNames())
				}
				if s.NetworkMode == "service:sandbox" {
					deployCheckDemoURLs(t, cf, w)
				}
			} else {
				st, err := config.LoadStarter(configPath)
				if err != nil {
					t.Fatalf("dcrflow refuses what compose gives it:\n%v", err)
				}
				temporal = st.Temporal
			}
			host, port, _ := net.SplitHostPort(temporal.Address)
			if _, ok := cf.Services[host]; !ok || port != "7233" {
				t.Errorf("temporal.address %s is not the compose frontend (temporal:7233)", temporal.Address)
			}
			if ns := deployInterpolate(cf.Services["temporal-setup"].Environment["NAMESPACE"]); temporal.Namespace != ns {
				t.Errorf("namespace %q, but temporal-setup creates %q", temporal.Namespace, ns)
			}
		})
	}
}

// deployServiceEnv is a service's environment as its container sees it: its env files
// (a missing optional one: its .example), then environment over them; a secret's
// /run/secrets path becomes a file holding a fake of the right shape.
func deployServiceEnv(t *testing.T, cf deployComposeFile, name string) map[string]string {
	t.Helper()
	s := cf.Services[name]
	env := map[string]string{}
	for _, ef := range s.EnvFile {
		p := deployHostPath(ef.Path)
		if _, err := os.Stat(p); err != nil && !ef.required() {
			p += ".example"
		}
		for k, v := range deployReadEnvFile(t, p) {
			env[k] = v
		}
	}
	for k, v := range s.Environment {
		env[k] = v
	}
	dir := t.TempDir()
	for k, v := range env {
		sec, ok := strings.CutPrefix(v, "/run/secrets/")
		if !ok {
			continue
		}
		if !strings.HasSuffix(k, "_FILE") {
			t.Errorf("%s=%s: a mounted secret goes in a *_FILE variable", k, v)
		}
		if !slices.Contains(s.Secrets, sec) {
			t.Errorf("service %s: %s names secret %s, which the service does not mount", name, k, sec)
		}
		fake := "fake-" + sec
		if strings.Contains(k, "KONNECT") {
			fake = "kpat_fake" + sec
		}
		f := filepath.Join(dir, sec)
		if err := os.WriteFile(f, []byte(fake+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		env[k] = f
	}
	return env
}

func deployReadEnvFile(t *testing.T, p string) map[string]string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s: %q is not KEY=VALUE", p, line)
			continue
		}
		if i := strings.Index(v, " #"); i >= 0 {
			v = v[:i]
		}
		env[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return env
}

// deployCheckDemoURLs: the demo worker's Okta and Konnect URLs are the addresses the
// sandbox service listens on, which its health check probes.
func deployCheckDemoURLs(t *testing.T, cf deployComposeFile, w config.Worker) {
	t.Helper()
	sb := cf.Services["sandbox"]
	args := sb.args(t, "sandbox")
	listen := map[string]string{}
	for i := 0; i+1 < len(args); i++ {
		listen[args[i]] = args[i+1]
	}
	for flag, raw := range map[string]string{"-okta-addr": w.Okta.OrgURL, "-konnect-addr": w.Konnect.BaseURL} {
		u, err := url.Parse(raw)
		if err != nil || u.Host != listen[flag] {
			t.Errorf("the demo worker calls %s, the sandbox listens on %s %s", raw, flag, listen[flag])
		}
		if !strings.Contains(strings.Join(sb.Healthcheck.Test, " "), "http://"+listen[flag]+"/_sandbox/health") {
			t.Errorf("the sandbox's health check does not probe %s", listen[flag])
		}
	}
}

// Secrets reach the worker only as files: no DCRFLOW_ token or key is given a value in
// the compose file or its env files, and none of the sandbox's tokens is written there.
func TestDeploy_NoSecretValuesInComposeOrEnvFiles(t *testing.T) {
	t.Parallel()
	cf := deployLoadCompose(t)
	files := []string{deployCompose}
	for name, s := range cf.Services {
		for k, v := range s.Environment {
			if deploySecretName(k) && !strings.HasSuffix(k, "_FILE") && strings.HasPrefix(k, config.EnvPrefix+"_") {
				t.Errorf("service %s: %s is given a value (%d chars): use %s_FILE and a compose secret", name, k, len(v), k)
			}
		}
		for _, ef := range s.EnvFile {
			files = append(files, deployHostPath(ef.Path), deployHostPath(ef.Path)+".example")
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // a user's file that is not there
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if ok && !strings.HasPrefix(k, "#") && deploySecretName(k) && !strings.HasSuffix(k, "_FILE") && strings.TrimSpace(v) != "" {
				t.Errorf("%s: %s carries a value: secrets go in deploy/secrets/ through *_FILE", f, k)
			}
		}
		deployNoTokens(t, f, string(b))
	}
}

var deploySecretKey = regexp.MustCompile(`(?i)(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|CODEC_KEY_|PRIVATE)`)

func deploySecretName(k string) bool {
	return deploySecretKey.MatchString(k) && !strings.HasSuffix(k, "_KEY_ID")
}

// deployNoTokens fails on what looks like a credential: the sandbox's own tokens, an
// Okta API token, a Konnect token, a PEM block, a JWT, a long base64 string.
var deployTokenLike = []*regexp.Regexp{
	regexp.MustCompile(`\b00[A-Za-z0-9_-]{38,}\b`),
	regexp.MustCompile(`\b[ks]pat_[A-Za-z0-9]{16,}`),
	regexp.MustCompile(`-----BEGIN [A-Z ]+-----`),
	regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`),
	regexp.MustCompile(`[A-Za-z0-9+/]{43}=`),
}

func deployNoTokens(t *testing.T, where, text string) {
	t.Helper()
	for _, tok := range []string{sbokta.DefaultManagementToken, sbokta.DefaultDCRToken, sbkonnect.DefaultToken} {
		if strings.Contains(text, tok) {
			t.Errorf("%s: carries one of the sandbox's tokens", where)
		}
	}
	for _, re := range deployTokenLike {
		if m := re.FindString(text); m != "" {
			t.Errorf("%s: %q looks like a credential", where, m)
		}
	}
}

// --- Dockerfile ---------------------------------------------------------------------

type deployInstr struct {
	cmd, args string
}

type deployStage struct {
	from, name string
	instrs     []deployInstr
}

// deployParseDockerfile reads instructions (continuations joined, comments dropped),
// the global ARG defaults, and the stages.
func deployParseDockerfile(t *testing.T) (map[string]string, []deployStage) {
	t.Helper()
	raw, err := os.ReadFile(deployDockerfile)
	if err != nil {
		t.Fatal(err)
	}
	var instrs []deployInstr
	cur := ""
	for _, line := range strings.Split(string(raw), "\n") {
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "#") || (trim == "" && cur == "") {
			continue
		}
		if strings.HasSuffix(trim, "\\") {
			cur += strings.TrimSuffix(trim, "\\") + " "
			continue
		}
		cur += trim
		cmd, args, _ := strings.Cut(cur, " ")
		instrs = append(instrs, deployInstr{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur = ""
	}
	global := map[string]string{}
	var stages []deployStage
	for _, in := range instrs {
		if in.cmd == "FROM" {
			var st deployStage
			fields := strings.Fields(in.args)
			for i := 0; i < len(fields); i++ {
				switch {
				case strings.HasPrefix(fields[i], "--"):
				case strings.EqualFold(fields[i], "AS") && i+1 < len(fields):
					st.name = fields[i+1]
					i++
				case st.from == "":
					st.from = os.Expand(fields[i], func(k string) string { return global[k] })
				}
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if in.cmd == "ARG" {
				k, v, _ := strings.Cut(in.args, "=")
				global[k] = v
			}
			continue
		}
		stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, in)
	}
	return global, stages
}

func deployStageNamed(stages []deployStage, name string) *deployStage {
	for i := range stages {
		if stages[i].name == name {
			return &stages[i]
		}
	}
	return nil
}

// deployLast is the last value of an instruction in the stage or, through FROM, the
// stages it builds on.
func deployLast(stages []deployStage, st *deployStage, cmd string) string {
	for st != nil {
		for i := len(st.instrs) - 1; i >= 0; i-- {
			if st.instrs[i].cmd == cmd {
				return st.instrs[i].args
			}
		}
		st = deployStageNamed(stages, st.from)
	}
	return ""
}

// deployExecForm parses an exec-form (JSON) ENTRYPOINT/CMD; shell form is refused: the
// binary must be PID 1 to get SIGTERM.
func deployExecForm(t *testing.T, what, args string) []string {
	t.Helper()
	if args == "" {
		return nil
	}
	var out []string
	if err := json.Unmarshal([]byte(args), &out); err != nil {
		t.Errorf("%s %s: not exec form (JSON): the binary would not get SIGTERM", what, args)
	}
	return out
}

func TestDeploy_DockerfileTargetsFlagsUserAndNoSecrets(t *testing.T) {
	t.Parallel()
	global, stages := deployParseDockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("the Dockerfile has %d stage(s): want a build stage and small runtime targets", len(stages))
	}
	raw, _ := os.ReadFile(deployDockerfile)
	deployNoTokens(t, "Dockerfile", string(raw))
	for k, v := range global {
		if deploySecretName(k) && v != "" {
			t.Errorf("Dockerfile: ARG %s has a default value", k)
		}
	}

	// One build stage compiles every binary statically.
	var buildStage *deployStage
	for i := range stages {
		for _, in := range stages[i].instrs {
			if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
				buildStage = &stages[i]
				for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w"`, "./deploy/healthcheck"} {
					if !strings.Contains(in.args, want) {
						t.Errorf("the go build lacks %s: %s", want, in.args)
					}
				}
				for _, pkg := range deployTargets {
					if !strings.Contains(in.args, pkg) {
						t.Errorf("the go build does not build %s", pkg)
					}
				}
			}
		}
	}
	if buildStage == nil || buildStage.name == "" {
		t.Fatal("no named stage runs go build")
	}
	if _, tag, _ := deployImageTag(buildStage.from); tag == "" || tag == "latest" {
		t.Errorf("build stage FROM %s: pin the Go version", buildStage.from)
	}

	// Every ARG and ENV in every stage: no credential.
	for _, st := range stages {
		for _, in := range st.instrs {
			if in.cmd != "ARG" && in.cmd != "ENV" {
				continue
			}
			for _, kv := range strings.Fields(in.args) {
				k, v, _ := strings.Cut(kv, "=")
				if deploySecretName(k) && v != "" {
					t.Errorf("stage %s: %s %s carries a value", st.name, in.cmd, k)
				}
			}
		}
	}

	// The built binaries, to check every flag the Dockerfile and compose pass.
	dir := t.TempDir()
	bins := map[string]string{"healthcheck": buildBinary(t, dir, "./deploy/healthcheck")}
	for target, pkg := range deployTargets {
		bins[target] = buildBinary(t, dir, pkg)
	}
	flags := map[string]map[string]bool{}
	for target, bin := range bins {
		flags[target] = flagscan.Flags(t, bin)
	}

	last := &stages[len(stages)-1]
	if last.name != "worker" {
		t.Errorf("the last (default) target is %q: want worker, so that docker build . builds the worker", last.name)
	}
	for target := range deployTargets {
		st := deployStageNamed(stages, target)
		if st == nil {
			t.Errorf("no Dockerfile target %s", target)
			continue
		}
		// The runtime image: distroless static or scratch, a non-root user set here.
		base := st
		for deployStageNamed(stages, base.from) != nil {
			base = deployStageNamed(stages, base.from)
		}
		if base == buildStage || (!strings.Contains(base.from, "distroless/static") && base.from != "scratch") {
			t.Errorf("target %s runs on %s: want distroless static or scratch", target, base.from)
		}
		if repo, tag, _ := deployImageTag(base.from); base.from != "scratch" && (tag == "" || tag == "latest") {
			t.Errorf("target %s: base %s is not pinned to a tag", target, repo)
		}
		user := deployLast(stages, st, "USER")
		uid, _, _ := strings.Cut(user, ":")
		if user == "" || uid == "0" || uid == "root" {
			t.Errorf("target %s runs as %q: want a non-root USER set in the Dockerfile", target, user)
		}
		for _, in := range st.instrs {
			if in.cmd == "RUN" {
				t.Errorf("target %s has RUN %s: the runtime image has no shell", target, in.args)
			}
		}
		entry := deployExecForm(t, target+" ENTRYPOINT", deployLast(stages, st, "ENTRYPOINT"))
		if len(entry) == 0 || entry[0] != deployBinDir+target {
			t.Errorf("target %s: ENTRYPOINT %v, want [%s%s]", target, entry, deployBinDir, target)
		}
		copied := ""
		for _, in := range st.instrs {
			if in.cmd == "COPY" && strings.Contains(in.args, "--from="+buildStage.name) {
				copied += " " + in.args
			}
		}
		if !strings.Contains(copied, "/out/"+target+" ") && !strings.HasSuffix(copied, "/out/"+target) {
			t.Errorf("target %s does not copy /out/%s from the build stage: %q", target, target, copied)
		}
		flagscan.Check(t, "Dockerfile target "+target+" ENTRYPOINT", entry[min(1, len(entry)):], flags[target])
		flagscan.Check(t, "Dockerfile target "+target+" CMD", deployExecForm(t, target+" CMD", deployLast(stages, st, "CMD")), flags[target])
		if hc := deployLast(stages, st, "HEALTHCHECK"); hc != "" {
			_, cmd, _ := strings.Cut(hc, "CMD ")
			probe := deployExecForm(t, target+" HEALTHCHECK", cmd)
			if len(probe) == 0 || probe[0] != deployBinDir+"healthcheck" || !strings.Contains(copied, "/out/healthcheck") {
				t.Errorf("target %s: HEALTHCHECK %v does not run the healthcheck it copies", target, probe)
			} else {
				flagscan.Check(t, "Dockerfile target "+target+" HEALTHCHECK", probe[1:], flags["healthcheck"])
			}
		}
	}

	// Every flag compose passes exists too, health probes included.
	cf := deployLoadCompose(t)
	for name, s := range cf.Services {
		if s.target() == "" {
			continue
		}
		flagscan.Check(t, "compose service "+name, s.args(t, name), flags[s.target()])
		if s.Healthcheck != nil && len(s.Healthcheck.Test) > 1 && s.Healthcheck.Test[1] == deployBinDir+"healthcheck" {
			flagscan.Check(t, "compose service "+name+" healthcheck", s.Healthcheck.Test[2:], flags["healthcheck"])
		}
	}
	t.Run("sandbox_health_probe_answers", func(t *testing.T) {
		deployProbeSandbox(t, bins["healthcheck"], cf)
	})
}

// deployProbeSandbox runs the built health probe, with the sandbox service's health
// check arguments, against a real sandbox (its addresses swapped for free ports).
func deployProbeSandbox(t *testing.T, probe string, cf deployComposeFile) {
	sb := sandboxtest.Start(t)
	s := cf.Services["sandbox"]
	args := s.args(t, "sandbox")
	swap := map[string]string{}
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "-okta-addr":
			swap["http://"+args[i+1]] = sb.OktaURL
		case "-konnect-addr":
			swap["http://"+args[i+1]] = sb.KonnectURL
		}
	}
	if s.Healthcheck == nil || len(s.Healthcheck.Test) < 3 || len(swap) != 2 {
		t.Fatalf("sandbox service: health check %v, listen flags %v", s.Healthcheck, args)
	}
	var probeArgs []string
	for _, a := range s.Healthcheck.Test[2:] {
		for from, to := range swap {
			a = strings.Replace(a, from, to, 1)
		}
		probeArgs = append(probeArgs, a)
	}
	out, err := exec.Command(probe, probeArgs...).CombinedOutput()
	if err != nil {
		t.Fatalf("healthcheck %v: %v\n%s", probeArgs, err, out)
	}
	// And it does fail when the sandbox is not there.
	if err := sb.Sandbox.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(probe, probeArgs...).CombinedOutput(); err == nil {
		t.Fatalf("healthcheck passed against a stopped sandbox: %s", out)
	}
}

// The build context never carries secrets, env files or local state.
func TestDeploy_DockerignoreKeepsSecretsOut(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(b))
	for _, want := range []string{"deploy/secrets", "**/*.env", ".git", ".run", "bin"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
	cf := deployLoadCompose(t)
	for name, sec := range cf.Secrets {
		if !strings.HasPrefix(strings.TrimPrefix(sec.File, "./"), "deploy/secrets/") {
			t.Errorf("secret %s lives outside deploy/secrets/, which .dockerignore excludes", name)
		}
	}
}

// The namespace job's script, run with the temporal CLI against a dev server, creates the
// namespace, registers the compose file's search attributes, runs again harmlessly, and
// stops at once on an attribute that exists with another type.
func TestDeploy_NamespaceJobRegistersTheSearchAttributes(t *testing.T) {
	t.Parallel()
	srv := devserver.Start(t) // skips without the CLI
	cli := os.Getenv(devserver.EnvBinary)
	if cli == "" {
		cli = "../bin/temporal"
	}
	cli, err := filepath.Abs(cli)
	if err != nil {
		t.Fatal(err)
	}
	pathDir := t.TempDir()
	if err := os.Symlink(cli, filepath.Join(pathDir, "temporal")); err != nil {
		t.Fatal(err)
	}
	cf := deployLoadCompose(t)
	setup := cf.Services["temporal-setup"]
	script := ""
	for ctr, host := range setup.mounts() {
		if slices.Contains(setup.args(t, "temporal-setup"), ctr) {
			script = deployHostPath(host)
		}
	}
	if script == "" {
		t.Fatal("temporal-setup runs no mounted script")
	}
	const ns = "dcrflow-deploy-test"
	run := func(attrs string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", script)
		cmd.Env = append(os.Environ(), "PATH="+pathDir+string(os.PathListSeparator)+os.Getenv("PATH"),
			"TEMPORAL_ADDRESS="+srv.FrontendHostPort(), "NAMESPACE="+ns,
			"NAMESPACE_RETENTION="+setup.Environment["NAMESPACE_RETENTION"],
			"DCRFLOW_SEARCH_ATTRIBUTES="+attrs, "WAIT_SECONDS=60")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	attrs := setup.Environment["DCRFLOW_SEARCH_ATTRIBUTES"]
	if out, err := run(attrs); err != nil {
		t.Fatalf("setup-namespace.sh: %v\n%s", err, out)
	}
	ctx := context.Background()
	resp, err := srv.Client().OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range deploySearchAttributes(t, setup) {
		want := enumspb.IndexedValueType(enumspb.IndexedValueType_value["INDEXED_VALUE_TYPE_"+strings.ToUpper(typ)])
		if got := resp.GetCustomAttributes()[name]; got != want || want == enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED {
			t.Errorf("search attribute %s on %s: %v, want %v", name, ns, got, want)
		}
	}
	desc, err := srv.Client().WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	retention, _ := time.ParseDuration(setup.Environment["NAMESPACE_RETENTION"])
	if got := desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(); got != retention {
		t.Errorf("retention %v, want %v", got, retention)
	}

	if out, err := run(attrs); err != nil || !strings.Contains(out, "namespace "+ns+" exists") {
		t.Errorf("a second run: %v\n%s", err, out)
	}
	started := time.Now()
	out, err := run(dcrflow.SearchAttrPortal + "=Text")
	if err == nil || !strings.Contains(out, "different type") {
		t.Errorf("an attribute with another type: %v\n%s", err, out)
	}
	if d := time.Since(started); d > 30*time.Second {
		t.Errorf("a type conflict took %v to report: it is not worth waiting for", d)
	}
}

// docker compose config -q, where a Docker client with the compose plugin exists.
func TestDeploy_DockerComposeConfig(t *testing.T) {
	t.Parallel()
	if err := exec.Command("docker", "compose", "version").Run(); err != nil {
		t.Logf("docker compose config skipped: `docker compose version` fails here (%v)", err)
		return
	}
	cmd := exec.Command("docker", "compose", "--profile", "demo", "--profile", "tools", "config", "-q")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("docker compose config -q: %v\n%s", err, out)
	}
}

// buildBinary builds pkg (a path from the repository's root) into dir.
func buildBinary(t *testing.T, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}
