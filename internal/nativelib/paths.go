package nativelib

import (
	"os"
	"path/filepath"

	"github.com/livekit-ffi-go/sdk/internal/cachedir"
)

// CacheRoot is where the library and the wheels are cached: LIVEKIT_FFI_CACHE, else the
// project's cache root (internal/cachedir). "" when there is no home directory.
func CacheRoot() string {
	if dir := os.Getenv("LIVEKIT_FFI_CACHE"); dir != "" {
		return dir
	}
	return cachedir.Root()
}

// InstallDir is where `livekit-ffi install` puts the platform's library and where package ffi
// looks for it: <cache>/livekit-ffi/<version>/<platform>. "" without a cache root.
func InstallDir(p Platform) string {
	root := CacheRoot()
	if root == "" {
		return ""
	}
	return filepath.Join(root, "livekit-ffi", FFIVersion, p.Name)
}

// WheelDir is where verified wheels are kept, so that a second install needs no network.
func WheelDir() string {
	root := CacheRoot()
	if root == "" {
		return ""
	}
	return filepath.Join(root, "wheels")
}

// InstallHint is the command that installs the library, for error messages. Inside a module
// that requires this one, `go run` without a version uses the required version, whose pins
// match the code that asks.
func InstallHint() string { return "go run " + CommandPath + " install" }
