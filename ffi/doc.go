// Package ffi loads LiveKit's native engine (liblivekit_ffi, the livekit-ffi Rust crate) that
// package livekit runs on, and lets an application choose how it is loaded.
//
// Nothing here is needed for an ordinary program: the first livekit.Connect (or anything in
// livekit/media that needs the engine) loads the library with the zero Options. Call Load
// first to choose the library file, the slog logger and level for the library's log records,
// or a hook for a library panic. Where the library is looked for: Options.LibraryPath,
// LIVEKIT_LIB_PATH, beside the executable, the directory scripts/build-ffi.sh installs it in,
// then the system search; a library of another version than PinnedVersion is refused.
//
// The engine's machinery (requests, the event pump, handles) is internal to this module, so
// a livekit-ffi upgrade changes nothing here but PinnedVersion.
//
// Built with CGO_ENABLED=0 the package still compiles; Load returns ErrNoCgo.
package ffi
