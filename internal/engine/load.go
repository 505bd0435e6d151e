package engine

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/livekit-ffi-go/sdk/internal/cachedir"
)

// This file is the library's whole load path: where to look, in which order, and the version
// check. Nothing else in the module decides where the library comes from.

// libraryFile is the library's file name on this OS.
func libraryFile() string {
	switch runtime.GOOS {
	case "darwin":
		return "liblivekit_ffi.dylib"
	case "windows":
		return "livekit_ffi.dll"
	default:
		return "liblivekit_ffi.so"
	}
}

// installDir is where scripts/build-ffi.sh installs the pinned library.
func installDir() string {
	base := os.Getenv("LIVEKIT_FFI_CACHE")
	if base == "" {
		if base = cachedir.Root(); base == "" {
			return ""
		}
	}
	osName := map[string]string{"darwin": "macos"}[runtime.GOOS]
	if osName == "" {
		osName = runtime.GOOS
	}
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	if arch == "" {
		arch = runtime.GOARCH
	}
	return filepath.Join(base, "livekit-ffi", PinnedVersion(), osName+"-"+arch)
}

// A source is one place the library may come from when nobody named a file. path returns
// what to hand to dlopen (a file path, or a bare name for the system search), or "" if the
// source has nothing to offer. where describes it in the error for "found nowhere".
type source struct {
	where string
	path  func() string
}

// sources are tried in order after the explicit choices (Options.LibraryPath, then
// LIVEKIT_LIB_PATH), which are never second-guessed. A source whose file is absent is
// skipped; one whose file does not load is skipped too, and its error is reported if no
// later source loads. The system search is last and is always tried.
//
// A new source plugs in here as one more entry before the system search: a library embedded
// in the executable, say, written to a memfd whose /proc/self/fd/N path dlopen loads like any
// file. Its path func does the work (and caches it); the version check below applies to it as
// to every other source.
var sources = []source{
	{"beside the executable", func() string {
		exe, err := os.Executable()
		if err != nil {
			return ""
		}
		return filepath.Join(filepath.Dir(exe), libraryFile())
	}},
	{"in the scripts/build-ffi.sh install dir", func() string {
		if dir := installDir(); dir != "" {
			return filepath.Join(dir, libraryFile())
		}
		return ""
	}},
}

// openLibrary loads the library and checks its version before anything in it runs. explicit
// (Options.LibraryPath) or else LIVEKIT_LIB_PATH is the only candidate when set: if it is
// wrong, that is the error. A library that cannot say its version (livekit-ffi before 0.13)
// is refused unless skipVersionCheck: its protocol may not be the one this module was
// generated from.
func openLibrary(explicit string, skipVersionCheck bool) (path, version string, err error) {
	if !cgoEnabled {
		return "", "", ErrNoCgo
	}
	if explicit == "" {
		explicit = os.Getenv("LIVEKIT_LIB_PATH")
	}
	if explicit != "" {
		if strings.ContainsRune(explicit, os.PathSeparator) {
			if _, err := os.Stat(explicit); err != nil {
				return "", "", &LoadError{Path: explicit, Reason: "no such file"}
			}
		}
		if err := openNative(explicit); err != nil {
			return "", "", err
		}
		return checkVersion(explicit, skipVersionCheck)
	}
	var lastErr error
	var looked []string
	for _, s := range sources {
		looked = append(looked, s.where)
		p := s.path()
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if err := openNative(p); err != nil {
			lastErr = err
			continue
		}
		return checkVersion(p, skipVersionCheck)
	}
	if err := openNative(libraryFile()); err != nil {
		if lastErr != nil {
			return "", "", lastErr
		}
		if le, ok := err.(*LoadError); ok && le.Path == libraryFile() {
			// Nothing found anywhere: say where we looked.
			return "", "", &LoadError{Path: libraryFile(), Reason: "not found " + strings.Join(looked, ", ") + " (" + installDir() + "), or on the system library path"}
		}
		return "", "", err
	}
	return checkVersion(libraryFile(), skipVersionCheck)
}

// checkVersion asks the library just loaded from path for its version.
func checkVersion(path string, skipVersionCheck bool) (string, string, error) {
	got := libraryVersion()
	if !skipVersionCheck && got != PinnedVersion() {
		if got == "" {
			got = "a version it cannot report (no build_version call)"
		}
		return path, "", &VersionError{Path: path, Got: got, Want: PinnedVersion()}
	}
	return path, got, nil
}

// libraryVersion asks the loaded library for its version; a variable so tests can play a
// library that has no version call.
var libraryVersion = nativeVersion
