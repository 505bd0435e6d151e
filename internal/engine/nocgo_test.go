//go:build !cgo

package engine

import (
	"errors"
	"testing"
)

func TestWithoutCgoEveryEntryPointSaysWhy(t *testing.T) {
	if _, err := Load(Options{}); !errors.Is(err, ErrNoCgo) {
		t.Fatalf("Load = %v, want ErrNoCgo", err)
	}
	if _, err := Default(); !errors.Is(err, ErrNoCgo) {
		t.Fatalf("Default = %v, want ErrNoCgo", err)
	}
	if PinnedVersion() == "" {
		t.Fatal("pinned version missing from the embedded version.env")
	}
}
