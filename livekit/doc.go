// Package livekit joins LiveKit rooms through LiveKit's native engine (the livekit-ffi Rust
// library, loaded by package ffi).
//
// Join with a URL and token (Connect), or through a token source (ConnectWith); a configurable
// source takes its request options through tokensource.Bind:
//
//	src := tokensource.Bind(tokensource.NewCache(endpoint), tokensource.Options{RoomName: "demo"})
//	room, err := livekit.ConnectWith(ctx, src)
//	if err != nil { ... }
//	defer room.Close()
//	err = room.LocalParticipant().PublishData(ctx, []byte("hi"), livekit.DataOptions{Topic: "chat"})
//
// # Objects and snapshots
//
// *Room, *LocalParticipant and *RemoteParticipant are live objects: they own the library's
// handles and read their state under the room's lock. Info methods and events return values
// (ParticipantInfo, RoomInfo) that never change under you. Per-call parameters are structs
// whose zero value is useful (DataOptions); functional options configure only Connect.
//
// # Events
//
// Events of a room arrive in order, in one of two ways chosen at connect:
//   - push: WithEventHandler(fn) calls fn for every event on a goroutine of the room's own,
//     behind an unbounded queue, so a slow handler never holds up the library or another room;
//   - pull: without a handler, Room.Events(ctx) is a range-able sequence of the room's events.
//     Events wait for it in a buffer of WithEventBuffer events (DefaultEventBuffer); a room
//     whose events nobody reads drops the oldest and counts them (Room.DroppedEvents) instead
//     of growing without bound.
//
// The room's state (Token, RemoteParticipants, ...) is updated before the event is delivered.
// Disconnected is always the last event of a room, delivered exactly once, whoever ended it.
//
// # Errors
//
// Failed requests return a *RequestError (operation and the library's reason or the cause);
// a failed join returns a *ConnectError. Calls in flight when a room closes end with ErrClosed.
// Anything that looks like a token is redacted from both.
//
// # The native library
//
// The first connect loads the native library with ffi's default options; call ffi.Load first
// to choose the library, the logger for its records, or a panic hook.
//
// # Token refresh
//
// The server refreshes the participant's token right after join, every few minutes, and when
// the participant's claims change. The room keeps the newest token (Room.Token); a room joined
// through a source that implements tokensource.TokenUpdater (Bind over a tokensource.Cache
// does) also hands it to the source, so the next connect with the same options starts from it.
package livekit
