package ffi

import "github.com/livekit-ffi-go/sdk/internal/engine"

// The errors are the engine's own values and types, so errors.Is and errors.As match them
// wherever they surface: from Load, or wrapped in an error of package livekit.
var (
	// ErrNoCgo is returned by everything that needs the native library when the module was
	// built with CGO_ENABLED=0.
	ErrNoCgo = engine.ErrNoCgo

	// ErrLibrary is the class of errors about finding or loading liblivekit_ffi: every
	// *LoadError and *VersionError matches it.
	ErrLibrary = engine.ErrLibrary

	// ErrDisposed is returned after Dispose, and fails calls still waiting then.
	ErrDisposed = engine.ErrDisposed
)

// LoadError says which library could not be loaded (Path: a file, or a bare name for the
// system search), why (Reason), and what to do (in Error).
type LoadError = engine.LoadError

// VersionError says that the library at Path reports livekit-ffi Got, not the pinned Want.
type VersionError = engine.VersionError

// PanicError carries the Message of a panic inside the native library. The library's own
// advice is to end the process; every pending and later call fails with it.
type PanicError = engine.PanicError
