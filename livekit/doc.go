// Package livekit joins LiveKit rooms through LiveKit's native engine (the livekit-ffi Rust
// library, loaded by package ffi).
//
// Join with a URL and token (Connect), with a fixed token source (ConnectSource), or with a
// configurable source and request options (ConnectConfigurable):
//
//	src := tokensource.NewCache(endpoint)
//	room, err := livekit.ConnectConfigurable(ctx, src, tokensource.Options{RoomName: "demo"},
//		livekit.WithEventHandler(func(ev livekit.Event) {
//			if t, ok := ev.(livekit.TokenRefreshed); ok {
//				log.Printf("new token for %s, valid until %s", t.Identity, t.ExpiresAt)
//			}
//		}))
//	if err != nil { ... }
//	defer room.Close()
//
// Events of a room are delivered in order on a goroutine of the room's own, behind an
// unbounded queue: a slow handler never holds up the library, another room, or a pending
// request, and the room's state (Token, RemoteParticipants, ...) is already updated when the
// handler sees the event.
//
// The first connect loads the native library with ffi's default options; call ffi.Load
// first to choose the library, the logger for its records, or a panic hook.
//
// The server refreshes the participant's token right after join, every few minutes, and when
// the participant's claims change. The room keeps the newest token (Room.Token); a room joined
// through a tokensource.Cache also hands it to the cache, so the next connect with the same
// options starts from it.
package livekit
