//go:build !cgo

package ffi

import (
	"errors"
	"testing"
)

func TestWithoutCgoLoadSaysWhy(t *testing.T) {
	if _, err := Load(Options{}); !errors.Is(err, ErrNoCgo) {
		t.Fatalf("Load = %v, want ErrNoCgo", err)
	}
	if PinnedVersion() == "" {
		t.Fatal("no pinned version")
	}
	if TrimNativeMemory() {
		t.Fatal("TrimNativeMemory released memory without cgo")
	}
}
