package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// bin is the tokencheck binary under test, built once by TestMain (with
// -race when the tests run with -race).
var bin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tokencheck-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "tokencheck")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Dir = packageDir()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: go build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// packageDir is this package's source directory, so that a test binary run
// from elsewhere (go test -c) still builds the right command.
func packageDir() string {
	if _, file, _, ok := runtime.Caller(0); ok {
		if _, err := os.Stat(filepath.Join(filepath.Dir(file), "main.go")); err == nil {
			return filepath.Dir(file)
		}
	}
	return "."
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
	events         []map[string]any // stdout lines, with --json
}

// baseEnv is the test process's environment without the variables that
// would pick a token source, so a developer's shell cannot change results.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case envAPIKey, envAPISecret, envURL, envSandboxID:
			continue
		}
		env = append(env, kv)
	}
	// A -race binary sleeps 1 s at exit by default to let late races
	// report; a race still fails the run (exit code 66) with less.
	if raceEnabled && os.Getenv("GORACE") == "" {
		env = append(env, "GORACE=atexit_sleep_ms=100")
	}
	return env
}

// runTC runs the binary with args and extra environment variables and waits
// for it (at most two minutes).
func runTC(t *testing.T, extraEnv []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(baseEnv(), extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("run %v: %v", args, err)
	}
	if slices.Contains(args, "--json") {
		r.events = parseEvents(t, r.stdout)
	}
	t.Logf("tokencheck %s -> exit %d\nstdout:\n%sstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

// parseEvents checks that every stdout line is a JSON object with an
// "event" field and returns them.
func parseEvents(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		evs = append(evs, parseEvent(t, sc.Text()))
	}
	return evs
}

func parseEvent(t *testing.T, line string) map[string]any {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatalf("stdout line is not JSON: %q: %v", line, err)
	}
	if _, ok := ev["event"].(string); !ok {
		t.Fatalf("stdout line has no event field: %q", line)
	}
	return ev
}

// named returns the events called name.
func (r result) named(name string) []map[string]any {
	var out []map[string]any
	for _, ev := range r.events {
		if ev["event"] == name {
			out = append(out, ev)
		}
	}
	return out
}

// one returns the only event called name, failing otherwise.
func (r result) one(t *testing.T, name string) map[string]any {
	t.Helper()
	evs := r.named(name)
	if len(evs) != 1 {
		t.Fatalf("want exactly one %q event, got %d in:\n%s", name, len(evs), r.stdout)
	}
	return evs[0]
}

func (r result) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// wantAbsent fails when s appears in stdout or stderr.
func (r result) wantAbsent(t *testing.T, what, s string) {
	t.Helper()
	if s == "" {
		t.Fatalf("wantAbsent(%s): empty string", what)
	}
	if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
		t.Errorf("%s was printed:\nstdout:\n%s\nstderr:\n%s", what, r.stdout, r.stderr)
	}
}

// wantField checks a string field of an event.
func wantField(t *testing.T, ev map[string]any, key, want string) {
	t.Helper()
	if got, _ := ev[key].(string); got != want {
		t.Errorf("%v.%s = %q, want %q", ev["event"], key, got, want)
	}
}
