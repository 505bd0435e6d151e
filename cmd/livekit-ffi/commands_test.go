package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livekit-ffi-go/sdk/ffi"
	"github.com/livekit-ffi-go/sdk/internal/nativelib"
)

// The command must build and run where there is no C toolchain: no package of this module
// (nor any other non-standard one) that it imports may use cgo.
func TestCommandIsPureGo(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH")
	}
	out, err := exec.Command(gobin, "list", "-deps", "-f", "{{if and (not .Standard) .CgoFiles}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Fatalf("cmd/livekit-ffi depends on cgo packages:\n%s", s)
	}
}

// What install puts in place is what ffi.Load finds with no path given, and the library it
// loads answers its version call with the pinned version.
func TestInstalledLibraryIsWhatFFILoadFinds(t *testing.T) {
	isolate(t)
	p := host(t)
	ix := newIndex(t, p)
	r := runCLI(t, nil, "install", "--index", ix.URL())
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	if want := filepath.Join(nativelib.InstallDir(p), p.LibFile); r.lastLine() != want {
		t.Fatalf("installed at %s, want %s", r.lastLine(), want)
	}
	if pr := runCLI(t, nil, "path"); pr.code != 0 || pr.lastLine() != r.lastLine() {
		t.Fatalf("path: exit %d %q, want %q", pr.code, pr.lastLine(), r.lastLine())
	}
	c, err := ffi.Load(ffi.Options{})
	if err != nil {
		t.Fatalf("ffi.Load after install: %v", err)
	}
	if c.LibraryPath() != r.lastLine() {
		t.Fatalf("ffi loaded %s, install put it at %s", c.LibraryPath(), r.lastLine())
	}
	if c.LibraryVersion() != nativelib.FFIVersion {
		t.Fatalf("library reports %q, pinned %s", c.LibraryVersion(), nativelib.FFIVersion)
	}
}

func TestVerifyNamesAChangedLibrary(t *testing.T) {
	isolate(t)
	p := host(t)
	ix := newIndex(t, p)
	r := runCLI(t, nil, "install", "--index", ix.URL())
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	if v := runCLI(t, nil, "verify"); v.code != 0 || v.lastLine() != r.lastLine() {
		t.Fatalf("verify of a fresh install: exit %d", v.code)
	}
	b, err := os.ReadFile(r.lastLine())
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 1
	if err := os.WriteFile(r.lastLine(), b, 0o755); err != nil {
		t.Fatal(err)
	}
	v := runCLI(t, nil, "verify")
	if v.code != 1 || !strings.Contains(v.stderr, r.lastLine()) || !strings.Contains(v.stderr, "--force") {
		t.Fatalf("verify of a changed library: exit %d: %s", v.code, v.stderr)
	}
	if pr := runCLI(t, nil, "path"); pr.code != 1 {
		t.Fatalf("path accepted a changed library")
	}
	if v := runCLI(t, nil, "verify", filepath.Join(t.TempDir(), "missing.so")); v.code != 1 || !strings.Contains(v.stderr, "not installed") {
		t.Fatalf("verify of a missing file: exit %d: %s", v.code, v.stderr)
	}
}

func TestPathSaysWhyNot(t *testing.T) {
	isolate(t)
	p := host(t)
	r := runCLI(t, nil, "path")
	if r.code != 1 || !strings.Contains(r.stderr, "not installed in "+nativelib.InstallDir(p)) || !strings.Contains(r.stderr, "livekit-ffi install") {
		t.Fatalf("path with nothing installed: exit %d: %s", r.code, r.stderr)
	}
	missing := filepath.Join(t.TempDir(), "nope.so")
	t.Setenv("LIVEKIT_LIB_PATH", missing)
	if r := runCLI(t, nil, "path"); r.code != 1 || !strings.Contains(r.stderr, "LIVEKIT_LIB_PATH="+missing) {
		t.Fatalf("path with a missing LIVEKIT_LIB_PATH: exit %d: %s", r.code, r.stderr)
	}
	chosen := filepath.Join(t.TempDir(), "custom.so")
	if err := os.WriteFile(chosen, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LIVEKIT_LIB_PATH", chosen)
	if r := runCLI(t, nil, "path"); r.code != 0 || r.lastLine() != chosen {
		t.Fatalf("path with LIVEKIT_LIB_PATH: exit %d %q", r.code, r.lastLine())
	}
}

func TestUsageErrors(t *testing.T) {
	isolate(t)
	for _, args := range [][]string{{}, {"frobnicate"}, {"install", "--bogus"}, {"download", "--all", "--os", "linux"}} {
		if r := runCLI(t, nil, args...); r.code == 0 {
			t.Errorf("%q: exit 0", args)
		}
	}
	if r := runCLI(t, nil, "version"); r.code != 0 || !strings.Contains(r.stdout, nativelib.FFIVersion) || strings.Count(r.stdout, ".whl") != 5 {
		t.Errorf("version: %q", r.stdout)
	}
}

func TestDownloadAllFetchesEveryWheelOnce(t *testing.T) {
	cache := isolate(t)
	ix := newIndex(t, nativelib.Platforms()...)
	r := runCLI(t, nil, "download", "--all", "--index", ix.URL())
	if r.code != 0 || strings.Count(r.stdout, "\n") != 5 {
		t.Fatalf("download --all: exit %d %q", r.code, r.stdout)
	}
	for _, p := range nativelib.Platforms() {
		if fileSHA(t, filepath.Join(cache, "wheels", p.WheelFile)) != p.WheelSHA256 {
			t.Errorf("%s not cached", p.WheelFile)
		}
	}
	before := ix.fileHits.Load()
	if r := runCLI(t, nil, "download", "--all", "--index", ix.URL()); r.code != 0 || ix.fileHits.Load() != before {
		t.Fatalf("second download --all: exit %d, %d more downloads", r.code, ix.fileHits.Load()-before)
	}
}
