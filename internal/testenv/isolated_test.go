package testenv

import (
	"os"
	"testing"
)

// Inside the runner's namespace (which names itself in LIVEKIT_NETNS_NAME) there is no way
// out; on an ordinary host there usually is. Only the first half can be asserted everywhere.
func TestIsolatedInsideTheNamespace(t *testing.T) {
	if os.Getenv("LIVEKIT_NETNS_NAME") == "" {
		t.Skip("not inside the runner's namespace")
	}
	if !Isolated() {
		t.Fatal("inside the private namespace, Isolated reports a route off the machine")
	}
}
