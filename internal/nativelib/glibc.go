package nativelib

import (
	"bufio"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// ErrNoGlibc means this Linux system's C library is not glibc (musl, as on Alpine, has no
// GLIBC_ symbol versions, and the wheels' library needs them).
var ErrNoGlibc = errors.New("the C library is not glibc")

// HostGlibc returns the glibc version of this system ("2.36"): the newest GLIBC_x.y symbol
// version libc.so.6 defines, which is what the dynamic loader checks a library's needs
// against. It reads the libc mapped into this process when there is one (a cgo program),
// else the first libc.so.6 in the usual places. It returns ErrNoGlibc when the system has a
// musl loader and no glibc, and another error when it cannot tell.
func HostGlibc() (string, error) {
	if runtime.GOOS != "linux" {
		return "", fmt.Errorf("glibc: not Linux")
	}
	path := mappedLibc()
	if path == "" {
		for _, dir := range libDirs() {
			if p := filepath.Join(dir, "libc.so.6"); fileExists(p) {
				path = p
				break
			}
		}
	}
	if path == "" {
		if musl, _ := filepath.Glob("/lib/ld-musl-*.so.1"); len(musl) > 0 {
			return "", fmt.Errorf("%w (found %s)", ErrNoGlibc, musl[0])
		}
		return "", fmt.Errorf("glibc: no libc.so.6 in %s", strings.Join(libDirs(), ", "))
	}
	return GlibcDefined(path)
}

// GlibcDefined returns the newest GLIBC_x.y version an ELF object (libc.so.6) defines.
func GlibcDefined(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("glibc: %w", err)
	}
	defer f.Close()
	defs, err := f.DynamicVersions()
	if err != nil {
		return "", fmt.Errorf("glibc: %s: %w", path, err)
	}
	var names []string
	for _, d := range defs {
		names = append(names, d.Name)
	}
	if v := newestGlibc(names); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("glibc: %s defines no GLIBC_ version", path)
}

// GlibcNeeded returns the newest GLIBC_x.y version an ELF object (the library) needs.
func GlibcNeeded(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	needs, err := f.DynamicVersionNeeds()
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	var names []string
	for _, n := range needs {
		for _, v := range n.Needs {
			names = append(names, v.Dep)
		}
	}
	return newestGlibc(names), nil
}

func newestGlibc(names []string) string {
	best := ""
	for _, n := range names {
		v, ok := strings.CutPrefix(n, "GLIBC_")
		if !ok || v == "" || (v[0] < '0' || v[0] > '9') {
			continue
		}
		if best == "" || CompareVersions(v, best) > 0 {
			best = v
		}
	}
	return best
}

// CheckGlibc says, in words a user can act on, why a library that needs glibc min cannot run
// on a system whose glibc is host. nil when it can.
func CheckGlibc(p Platform, host string, hostErr error) error {
	need := p.MinGlibc()
	if need == "" {
		return nil
	}
	switch {
	case errors.Is(hostErr, ErrNoGlibc):
		return fmt.Errorf("this system's C library is not glibc (%v); livekit-ffi %s for %s needs glibc >= %s "+
			"(wheel %s): use a glibc-based system or image (Debian, Ubuntu, distroless/cc)", hostErr, FFIVersion, p.Name, need, p.WheelTag())
	case hostErr != nil:
		return nil // cannot tell: let the loader decide
	case CompareVersions(host, need) < 0:
		return fmt.Errorf("this system has glibc %s, older than the %s that livekit-ffi %s for %s needs (wheel %s): "+
			"run on a newer system (Debian 10+, Ubuntu 18.10+, RHEL 8+)", host, need, FFIVersion, p.Name, p.WheelTag())
	}
	return nil
}

// mappedLibc finds libc.so.6 among this process's mappings.
func mappedLibc() string {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '/'); i >= 0 && filepath.Base(line[i:]) == "libc.so.6" {
			return line[i:]
		}
	}
	return ""
}

func libDirs() []string {
	triplet := map[string]string{"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}[runtime.GOARCH]
	return []string{"/lib/" + triplet, "/usr/lib/" + triplet, "/lib64", "/usr/lib64", "/lib", "/usr/lib"}
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
