// Package nativelib knows the pinned livekit-ffi release and everything about getting it onto a
// machine: the official `livekit` wheel on PyPI that carries it for each platform, the sha256 of
// each wheel and of the library inside it (pins.env, written by scripts/pin-ffi.sh), where the
// library is installed so that package ffi finds it, and the download, check and atomic install.
//
// It is pure Go: cmd/livekit-ffi, which users run with `go run` on machines without a C
// toolchain, is built on it.
package nativelib

import (
	_ "embed"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

//go:embed pins.env
var pinsEnv string

// Project is the PyPI project whose wheels carry the library.
const Project = "livekit"

// ModulePath is the Go module this package belongs to; CommandPath is the command users run.
const (
	ModulePath  = "github.com/livekit-ffi-go/sdk"
	CommandPath = ModulePath + "/cmd/livekit-ffi"
)

// Platform is one operating system and CPU the pinned release has a library for.
type Platform struct {
	GOOS, GOARCH string
	// Name is the install directory's name and the pins' key suffix: linux-x86_64,
	// linux-aarch64, macos-aarch64, macos-x86_64, windows-x86_64.
	Name string
	// LibFile is the library's file name: liblivekit_ffi.so, .dylib, livekit_ffi.dll.
	LibFile string
	// WheelFile is the pinned wheel's file name; its platform tag says what the library needs.
	WheelFile   string
	WheelSHA256 string
	LibSHA256   string
}

// platformTable lists what the wheels carry, in the order the README and errors name them.
// WheelTag tells pingen which wheel of a release is the platform's.
var platformTable = []struct {
	goos, goarch, osName, arch, lib string
	wheelTag                        func(tag string) bool
}{
	{"linux", "amd64", "linux", "x86_64", "liblivekit_ffi.so", manylinux("x86_64")},
	{"linux", "arm64", "linux", "aarch64", "liblivekit_ffi.so", manylinux("aarch64")},
	{"darwin", "arm64", "macos", "aarch64", "liblivekit_ffi.dylib", macosx("arm64")},
	{"darwin", "amd64", "macos", "x86_64", "liblivekit_ffi.dylib", macosx("x86_64")},
	{"windows", "amd64", "windows", "x86_64", "livekit_ffi.dll", func(tag string) bool { return tag == "win_amd64" }},
}

func manylinux(arch string) func(string) bool {
	return func(tag string) bool { return strings.HasPrefix(tag, "manylinux") && strings.HasSuffix(tag, "_"+arch) }
}

func macosx(arch string) func(string) bool {
	return func(tag string) bool { return strings.HasPrefix(tag, "macosx_") && strings.HasSuffix(tag, "_"+arch) }
}

// FFIVersion is the pinned livekit-ffi version; WheelVersion the livekit wheel that carries it.
var (
	FFIVersion   = pin("LIVEKIT_FFI_VERSION")
	WheelVersion = pin("LIVEKIT_WHEEL_VERSION")
)

func pin(key string) string {
	for line := range strings.Lines(pinsEnv) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && k == key {
			return v
		}
	}
	return ""
}

func pinKey(kind, name string) string {
	return "LIVEKIT_" + kind + "_" + strings.ReplaceAll(name, "-", "_")
}

// Platforms returns every platform the pins cover.
func Platforms() []Platform {
	var out []Platform
	for _, p := range Unpinned() {
		p.WheelFile = pin(pinKey("WHEEL_FILE", p.Name))
		p.WheelSHA256 = pin(pinKey("WHEEL_SHA256", p.Name))
		p.LibSHA256 = pin(pinKey("LIB_SHA256", p.Name))
		if p.WheelFile != "" && p.WheelSHA256 != "" && p.LibSHA256 != "" {
			out = append(out, p)
		}
	}
	return out
}

// Unpinned returns the platforms the wheels carry, without their pins (scripts/pin-ffi.sh
// fills them in).
func Unpinned() []Platform {
	out := make([]Platform, len(platformTable))
	for i, row := range platformTable {
		out[i] = Platform{GOOS: row.goos, GOARCH: row.goarch, Name: row.osName + "-" + row.arch, LibFile: row.lib}
	}
	return out
}

// TagFits reports whether a wheel's platform tag is this platform's.
func (p Platform) TagFits(tag string) bool {
	for _, row := range platformTable {
		if row.goos == p.GOOS && row.goarch == p.GOARCH {
			return row.wheelTag(tag)
		}
	}
	return false
}

// PinKeys returns the pins.env keys of a platform: wheel file, wheel sha256, library sha256.
func (p Platform) PinKeys() (wheelFile, wheelSHA, libSHA string) {
	return pinKey("WHEEL_FILE", p.Name), pinKey("WHEEL_SHA256", p.Name), pinKey("LIB_SHA256", p.Name)
}

// UnsupportedError says that the pinned release has no library for a platform.
type UnsupportedError struct{ GOOS, GOARCH string }

func (e *UnsupportedError) Error() string {
	var have []string
	for _, p := range Platforms() {
		have = append(have, p.GOOS+"/"+p.GOARCH)
	}
	return fmt.Sprintf("livekit-ffi %s has no build for %s/%s (there is one for %s); "+
		"build livekit-ffi %s yourself and set LIVEKIT_LIB_PATH to it",
		FFIVersion, e.GOOS, e.GOARCH, strings.Join(have, ", "), FFIVersion)
}

// Lookup returns the platform for an OS and CPU, each given as Go names them (linux, darwin,
// windows; amd64, arm64) or as the wheels do (macos; x86_64, aarch64).
func Lookup(goos, goarch string) (Platform, error) {
	if g, ok := map[string]string{"macos": "darwin", "osx": "darwin"}[goos]; ok {
		goos = g
	}
	if a, ok := map[string]string{"x86_64": "amd64", "x64": "amd64", "aarch64": "arm64"}[goarch]; ok {
		goarch = a
	}
	for _, p := range Platforms() {
		if p.GOOS == goos && p.GOARCH == goarch {
			return p, nil
		}
	}
	return Platform{}, &UnsupportedError{GOOS: goos, GOARCH: goarch}
}

// Host returns the platform this program runs on.
func Host() (Platform, error) { return Lookup(runtime.GOOS, runtime.GOARCH) }

// WheelTag is the platform tag of the pinned wheel (manylinux_2_28_x86_64, macosx_11_0_arm64,
// win_amd64).
func (p Platform) WheelTag() string {
	name := strings.TrimSuffix(p.WheelFile, ".whl")
	parts := strings.Split(name, "-")
	return parts[len(parts)-1]
}

// MinGlibc is the oldest glibc the library runs on, from the wheel's manylinux tag ("2.28"),
// or "" where the library does not use glibc.
func (p Platform) MinGlibc() string {
	tag, ok := strings.CutPrefix(p.WheelTag(), "manylinux_")
	if !ok {
		return ""
	}
	f := strings.SplitN(tag, "_", 3)
	if len(f) < 3 {
		return ""
	}
	return f[0] + "." + f[1]
}

// CompareVersions compares dotted numeric versions ("2.28" < "2.36"): -1, 0 or +1.
func CompareVersions(a, b string) int {
	num := func(s string) []int {
		var out []int
		for f := range strings.SplitSeq(s, ".") {
			n, _ := strconv.Atoi(f)
			out = append(out, n)
		}
		return out
	}
	return slices.Compare(num(a), num(b))
}
