// Package leakcheck finds goroutines of this module that are still running, for tests that
// must prove a shutdown leaves nothing behind.
package leakcheck

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

const module = "github.com/livekit-ffi-go/sdk/"

// Goroutines returns the stacks of goroutines running code of this module, other than the
// caller's own and those of the test framework's main goroutine. Threads the native library
// created show up as goroutines locked in syscalls with no frames of ours, and are not counted.
func Goroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 { // the calling goroutine comes first
			continue
		}
		if strings.Contains(g, module) && !strings.Contains(g, "internal/leakcheck.") &&
			!strings.Contains(g, "testing.tRunner") && !strings.Contains(g, "testing.(*M)") && !strings.Contains(g, "main.main()") {
			out = append(out, g)
		}
	}
	return out
}

// Wait polls until no goroutine of this module runs, or returns an error listing them after
// limit (goroutines end asynchronously after the call that stops them returns).
func Wait(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		left := Goroutines()
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d goroutines of this module still running:\n\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
