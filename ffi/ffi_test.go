//go:build cgo

package ffi

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/testenv"
)

// The face loads the same engine that package livekit uses: its errors are the engine's, its
// client is the engine's one client, and Dispose goes through to it.
func TestLoadThroughTheFace(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "liblivekit_ffi.so")
	_, err := Load(Options{LibraryPath: missing})
	var le *LoadError
	if !errors.As(err, &le) || le.Path != missing || !errors.Is(err, ErrLibrary) {
		t.Fatalf("Load(missing) = %v, want a *LoadError for %s that is ErrLibrary", err, missing)
	}

	testenv.Library(t) // skips, or fails when the library is required, if there is none
	c, err := Load(Options{Logger: testenv.Logger})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.LibraryVersion(); got != PinnedVersion() {
		t.Fatalf("LibraryVersion = %q, want %q", got, PinnedVersion())
	}
	e, _ := engine.Default()
	if c.LibraryPath() != e.LibraryPath() || c.Err() != nil {
		t.Fatalf("face: path %q err %v; engine: path %q", c.LibraryPath(), c.Err(), e.LibraryPath())
	}
	again, err := Load(Options{})
	if err != nil || again != c {
		t.Fatalf("second Load = %p, %v; want the same client %p", again, err, c)
	}
	if _, err := Load(Options{LogLevel: LevelTrace}); err == nil {
		t.Fatal("Load with another level than the loaded one succeeded")
	}

	if err := c.Dispose(); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(c.Err(), ErrDisposed) || !errors.Is(e.Err(), ErrDisposed) {
		t.Fatalf("after Dispose: face Err %v, engine Err %v; want ErrDisposed", c.Err(), e.Err())
	}
	fresh, err := Load(Options{Logger: testenv.Logger})
	if err != nil || fresh == c || fresh.Err() != nil {
		t.Fatalf("Load after Dispose = %p (err %v, client err %v); want a new, working client", fresh, err, fresh.Err())
	}
}
