package engine

import (
	"errors"
	"fmt"
)

var (
	// ErrNoCgo is returned by every call that needs the native library when the module was
	// built with CGO_ENABLED=0.
	ErrNoCgo = errors.New("livekit ffi: built without cgo (CGO_ENABLED=0); the native library needs cgo")

	// ErrLibrary is the class of errors about finding or loading liblivekit_ffi.
	ErrLibrary = errors.New("livekit ffi: native library")

	// ErrDisposed is returned after Dispose, and fails requests still waiting then.
	ErrDisposed = errors.New("livekit ffi: client disposed")

	// ErrRequestFailed means the library refused a request (it returns no reason; the reason,
	// if any, is in its log at error level).
	ErrRequestFailed = errors.New("livekit ffi: request failed")
)

// LoadError says which library could not be loaded, why, and what to do.
type LoadError struct {
	Path   string // what was tried (a path, or a bare name for the system search)
	Reason string
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("livekit ffi: cannot load %s: %s (run scripts/build-ffi.sh, or set LIVEKIT_LIB_PATH to liblivekit_ffi %s)",
		e.Path, e.Reason, PinnedVersion())
}

func (e *LoadError) Unwrap() error { return ErrLibrary }

// VersionError is returned when the library is not the pinned livekit-ffi version.
type VersionError struct {
	Path, Got, Want string
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("livekit ffi: %s is livekit-ffi %s, but this SDK speaks the protocol of %s (run scripts/build-ffi.sh, or set LIVEKIT_LIB_PATH to a %s library)",
		e.Path, e.Got, e.Want, e.Want)
}

func (e *VersionError) Unwrap() error { return ErrLibrary }

// PanicError carries the message of a panic inside the native library. The library's own
// advice is to end the process; the client fails every pending and later request with it.
type PanicError struct {
	Message string
}

func (e *PanicError) Error() string { return "livekit ffi: native library panicked: " + e.Message }
