package ffi

import (
	"github.com/livekit-ffi-go/sdk/internal/cachedir"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

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

// candidates lists where to look for the library, in order: explicit option, LIVEKIT_LIB_PATH,
// beside the executable, the build-ffi.sh install dir, then the system search by bare name.
// An explicit choice (option or env) is the only candidate: if it is wrong, that is the error.
func candidates(explicit string) []string {
	if explicit != "" {
		return []string{explicit}
	}
	if env := os.Getenv("LIVEKIT_LIB_PATH"); env != "" {
		return []string{env}
	}
	var out []string
	if exe, err := os.Executable(); err == nil {
		out = append(out, filepath.Join(filepath.Dir(exe), libraryFile()))
	}
	if dir := installDir(); dir != "" {
		out = append(out, filepath.Join(dir, libraryFile()))
	}
	return append(out, libraryFile())
}

// openLibrary loads the first usable candidate and checks its version before anything in
// it runs. A library that cannot say its version (livekit-ffi before 0.13) is refused unless
// skipVersionCheck: its protocol may not be the one this module was generated from.
func openLibrary(explicit string, skipVersionCheck bool) (path, version string, err error) {
	if !cgoEnabled {
		return "", "", ErrNoCgo
	}
	list := candidates(explicit)
	var lastErr error
	for i, path := range list {
		last := i == len(list)-1
		if strings.ContainsRune(path, os.PathSeparator) {
			if _, err := os.Stat(path); err != nil {
				if i == 0 && (explicit != "" || os.Getenv("LIVEKIT_LIB_PATH") != "") {
					return "", "", &LoadError{Path: path, Reason: "no such file"}
				}
				if !last {
					continue // an automatic candidate that is not there: try the next
				}
			}
		}
		if err := openNative(path); err != nil {
			lastErr = err
			if explicit != "" || os.Getenv("LIVEKIT_LIB_PATH") != "" {
				return "", "", err
			}
			continue
		}
		got := libraryVersion()
		if !skipVersionCheck && got != PinnedVersion() {
			if got == "" {
				got = "a version it cannot report (no build_version call)"
			}
			return path, "", &VersionError{Path: path, Got: got, Want: PinnedVersion()}
		}
		return path, got, nil
	}
	if le, ok := lastErr.(*LoadError); ok && le.Path == libraryFile() {
		// Nothing found anywhere: say where we looked.
		return "", "", &LoadError{Path: libraryFile(), Reason: "not found beside the executable, in " + installDir() + ", or on the system library path"}
	}
	return "", "", lastErr
}

// libraryVersion asks the loaded library for its version; a variable so tests can play a
// library that has no version call.
var libraryVersion = nativeVersion
