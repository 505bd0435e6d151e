// Package testenv is the one gate for tests that need the native library or a livekit-server:
// without them a test skips, unless LIVEKIT_REQUIRE_LIB=1 or LIVEKIT_REQUIRE_SERVER=1
// (scripts/test.sh sets both) makes the absence a failure.
package testenv

import (
	"bufio"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/lkserver"
)

// Logger is the logger tests load the library with: quiet unless LIVEKIT_TEST_LOG=1. Tests
// share it because engine.Load refuses a second, different logger.
var Logger = func() *slog.Logger {
	if os.Getenv("LIVEKIT_TEST_LOG") == "1" {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}()

// RequireLib reports whether a missing native library is a failure.
func RequireLib() bool {
	return os.Getenv("LIVEKIT_REQUIRE_LIB") == "1" || os.Getenv("LIVEKIT_REQUIRE_SERVER") == "1"
}

// RequireServer reports whether a missing livekit-server is a failure.
func RequireServer() bool { return os.Getenv("LIVEKIT_REQUIRE_SERVER") == "1" }

// LoadLibrary loads the native library with Logger.
func LoadLibrary() (*engine.Client, error) { return engine.Load(engine.Options{Logger: Logger}) }

// Library returns the loaded native library, or skips (fails, if required) the test.
func Library(tb testing.TB) *engine.Client {
	tb.Helper()
	c, err := LoadLibrary()
	if err != nil {
		if RequireLib() {
			tb.Fatalf("the native library is required here: %v", err)
		}
		tb.Skipf("native library not available: %v", err)
	}
	return c
}

// Server makes sure a livekit-server binary is there (and the library), or skips (fails, if
// required) the test.
func Server(tb testing.TB) {
	tb.Helper()
	Library(tb)
	if _, err := lkserver.Find(); err != nil {
		if RequireServer() {
			tb.Fatalf("livekit-server is required here: %v", err)
		}
		tb.Skipf("livekit-server not available: %v", err)
	}
}

// Isolated reports whether this process has no route off the machine (no default route), as
// inside the private network namespace the test runner makes. Only then may a test do things
// that could send packets elsewhere, such as resolving an unknown host name.
func Isolated() bool {
	return !hasDefaultRoute("/proc/net/route", 1, "00000000") && !hasDefaultRoute("/proc/net/ipv6_route", 0, strings.Repeat("0", 32))
}

func hasDefaultRoute(file string, col int, zero string) bool {
	f, err := os.Open(file)
	if err != nil {
		return false // no such table: no routes of that family
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > col && fields[col] == zero && !strings.HasPrefix(fields[len(fields)-1], "lo") {
			if file == "/proc/net/ipv6_route" && (len(fields) < 2 || fields[1] != "00") {
				continue // ::/n with a prefix length other than 0 is not a default route
			}
			return true
		}
	}
	return false
}

// Redis makes sure a redis-server binary is there for cluster tests (and a livekit-server and
// the library), or skips (fails, if a server is required) the test.
func Redis(tb testing.TB) {
	tb.Helper()
	Server(tb)
	if _, err := lkserver.FindRedis(); err != nil {
		if RequireServer() {
			tb.Fatalf("redis-server is required here: %v", err)
		}
		tb.Skipf("redis-server not available: %v", err)
	}
}
