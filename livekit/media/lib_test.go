package media

import (
	"github.com/livekit-ffi-go/sdk/internal/testenv"
	"testing"

	"github.com/livekit-ffi-go/sdk/internal/engine"
)

// needLib returns the process-wide client, or skips the test when the native library cannot be
// loaded, unless LIVEKIT_REQUIRE_LIB=1 says a missing library is a failure (CI sets it).
func needLib(tb testing.TB) *engine.Client { return testenv.Library(tb) }
