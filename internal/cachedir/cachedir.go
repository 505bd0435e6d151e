// Package cachedir is the one rule for where the project caches what its scripts install (the
// native library, livekit-server, the pinned wheel): ${XDG_CACHE_HOME:-$HOME/.cache}/livekit-ffi-go,
// the same rule scripts/build-ffi.sh and scripts/install-livekit-server.sh follow.
package cachedir

import (
	"os"
	"path/filepath"
)

// Root returns the cache root; without XDG_CACHE_HOME and HOME, the OS's user cache directory
// (Windows), else "".
func Root() string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home := os.Getenv("HOME")
		if home == "" {
			// Windows has no HOME: its per-user cache (%LocalAppData%).
			dir, err := os.UserCacheDir()
			if err != nil {
				return ""
			}
			return filepath.Join(dir, "livekit-ffi-go")
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "livekit-ffi-go")
}
