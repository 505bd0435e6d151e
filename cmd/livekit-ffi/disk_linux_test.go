package main

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// mountTmpfs mounts a small tmpfs for the test (root only; skipped elsewhere).
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("cannot mount a tmpfs here (%v); scripts/test.sh runs this as root", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

func TestFullDiskIsAClearErrorAndLeavesNoPartialFile(t *testing.T) {
	isolate(t)
	p := host(t)
	ix := newIndex(t, p)
	full := mountTmpfs(t, "size=1m") // the library is tens of MB
	dir := filepath.Join(full, "lib")
	r := runCLI(t, nil, "install", "--dir", dir, "--index", ix.URL())
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	for _, want := range []string{"cannot write to " + dir, "no space left on device", "--dir"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error does not say %q", want)
		}
	}
	if got := entries(t, dir); len(got) > 0 {
		t.Errorf("full disk holds %v after the failed install", got)
	}
}

func TestReadOnlyDirIsAClearError(t *testing.T) {
	isolate(t)
	p := host(t)
	ix := newIndex(t, p)
	ro := mountTmpfs(t, "ro")
	r := runCLI(t, nil, "install", "--dir", filepath.Join(ro, "lib"), "--index", ix.URL())
	if r.code != 1 || !strings.Contains(r.stderr, "read-only file system") || !strings.Contains(r.stderr, "choose a writable directory") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := ix.fileHits.Load(); n != 0 {
		t.Fatalf("downloaded %d times into an unwritable place", n)
	}
}
