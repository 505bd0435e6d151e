package cachedir

import "testing"

func TestRoot(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if got := Root(); got != "/x/cache/livekit-ffi-go" {
		t.Fatalf("Root = %q", got)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if got := Root(); got != "/home/u/.cache/livekit-ffi-go" {
		t.Fatalf("Root = %q", got)
	}
	t.Setenv("HOME", "")
	if got := Root(); got != "" {
		t.Fatalf("Root without HOME = %q", got)
	}
}
