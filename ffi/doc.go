// Package ffi loads LiveKit's native engine (liblivekit_ffi, the livekit-ffi Rust crate) and
// speaks its protobuf protocol. It is the module's only cgo package.
//
// One Client exists per process (Load). It
//   - finds the library (Options.LibraryPath, LIVEKIT_LIB_PATH, beside the executable, the
//     scripts/build-ffi.sh install dir, the system search) and refuses one of another version;
//   - sends synchronous requests (Request) and asynchronous ones (Start, Do) whose completion
//     is matched by a request_async_id registered before the request is sent;
//   - pumps the library's callback: the C callback only copies the bytes into an unbounded
//     queue; one dispatcher goroutine routes completions to their waiters, room events to their
//     room's Subscription (each on its own goroutine, in order), log records to log/slog
//     (filtered by level, errors only by default) and panics to every pending waiter;
//   - tracks owned handles (Own, Handle.Close) with a GC safety net and a count of what is
//     outstanding.
//
// Built with CGO_ENABLED=0 the package still compiles; every call returns ErrNoCgo.
package ffi
