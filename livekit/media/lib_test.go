package media

import (
	"os"
	"testing"

	"github.com/livekit-ffi-go/sdk/ffi"
)

// needLib returns the process-wide client, or skips the test when the native library cannot be
// loaded, unless LIVEKIT_REQUIRE_LIB=1 says a missing library is a failure (CI sets it).
func needLib(tb testing.TB) *ffi.Client {
	tb.Helper()
	c, err := ffi.Default()
	if err != nil {
		if os.Getenv("LIVEKIT_REQUIRE_LIB") == "1" {
			tb.Fatalf("native library required (LIVEKIT_REQUIRE_LIB=1) but not loadable: %v", err)
		}
		tb.Skipf("native library not available (run scripts/build-ffi.sh and set LIVEKIT_LIB_PATH): %v", err)
	}
	return c
}
