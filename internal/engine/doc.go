// Package engine loads LiveKit's native engine (liblivekit_ffi, the livekit-ffi Rust crate) and
// speaks its protobuf protocol. It is the module's only cgo package; package ffi is its small
// public face (loading, options, errors, version, memory trim) and packages livekit and
// livekit/media are its users.
//
// One Client exists per process (Load). It
//   - finds the library (Options.LibraryPath, LIVEKIT_LIB_PATH, beside the executable, the
//     scripts/build-ffi.sh install dir, the system search) and refuses one of another version;
//   - sends synchronous requests (Request) and asynchronous ones (Start, Do) whose completion
//     is matched by a request_async_id registered before the request is sent (Wrap puts a
//     request message in its envelope; the nine requests whose completion has another name
//     are mapped explicitly); calls can be grouped by owner and failed together (FailOwner)
//     when the object they belong to goes away; a Flight repeats one such request (an audio
//     capture) without allocating: its completion is read in place in the C callback;
//   - pumps the library's callback: the C callback only copies the bytes into an unbounded
//     queue; one dispatcher goroutine routes completions to their waiters, every event that
//     concerns one object (room events, audio and video stream frames, stream reader chunks,
//     RPC invocations, data track frames) by its (EventKind, handle) to that object's
//     Subscription, in order, log records to log/slog (filtered by level, errors only by
//     default) and panics to every pending waiter. Subscribers run on the dispatcher and only
//     enqueue, so each consumer reads its own queue at its own pace; a raw subscriber
//     (SubscribeRaw) may take its hottest events (stream frames) in place in the callback
//     instead, leaving the rest to the dispatcher in order;
//   - tracks owned handles (Own, Handle.Close) with a GC safety net and a count of what is
//     outstanding.
//
// Built with CGO_ENABLED=0 the package still compiles; every call returns ErrNoCgo.
//
// The API follows the pinned livekit-ffi schema (package proto) and changes with it; being
// internal, it makes no compatibility promise.
package engine
