package livekit_test

import (
	"context"
	"log"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// Join with a token you already have and send a message to everyone.
func ExampleConnect() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>", livekit.WithConnectTimeout(10*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	if err := room.LocalParticipant().PublishData(ctx, []byte("hello"), livekit.DataOptions{Topic: "chat"}); err != nil {
		log.Fatal(err)
	}
}

// Join through a caching token endpoint. Bind fixes the request options; the cache receives
// every token the server refreshes, so the next connect with the same options reuses it.
func ExampleConnectWith() {
	ctx := context.Background()
	endpoint, err := tokensource.NewEndpoint("https://example.com/api/token")
	if err != nil {
		log.Fatal(err)
	}
	cache := tokensource.NewCache(endpoint)
	src := tokensource.Bind(cache, tokensource.Options{RoomName: "support", ParticipantIdentity: "bot-1"})
	room, err := livekit.ConnectWith(ctx, src)
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	log.Printf("joined %s as %s", room.Name(), room.LocalParticipant().Identity())
}

// Push: a handler receives every event of the room, in order, on a goroutine of the room's own.
func ExampleWithEventHandler() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>",
		livekit.WithEventHandler(func(ev livekit.Event) {
			switch e := ev.(type) {
			case livekit.ParticipantConnected:
				log.Printf("%s joined", e.Info.Identity)
			case livekit.DataReceived:
				log.Printf("%s says %q", e.From, e.Data)
			case livekit.Disconnected:
				log.Printf("disconnected: %s", e.Reason)
			}
		}))
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	<-room.Done()
}

// Pull: range over the room's events, for example to combine them with a deadline. The loop
// ends after Disconnected, or when the context ends.
func ExampleRoom_Events() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>")
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	stay, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for ev := range room.Events(stay) {
		if t, ok := ev.(livekit.TokenRefreshed); ok {
			log.Printf("token refreshed, valid until %s", t.ExpiresAt.Format(time.RFC3339))
		}
	}
}

// Follow the server's token refreshes: the room keeps the newest token for its reconnects.
func ExampleTokenRefreshed() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>",
		livekit.WithEventHandler(func(ev livekit.Event) {
			if t, ok := ev.(livekit.TokenRefreshed); ok {
				log.Printf("new token for %s, valid until %s", t.Identity, t.ExpiresAt)
			}
		}))
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	<-room.Done()
	log.Printf("the last token is %d bytes", len(room.Token()))
}

// Send a packet to one participant, unreliably, with a topic.
func ExampleLocalParticipant_PublishData() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>")
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	err = room.LocalParticipant().PublishData(ctx, []byte(`{"x":1,"y":2}`), livekit.DataOptions{
		Topic:        "cursor",
		Destinations: []string{"alice"},
		Lossy:        true,
	})
	if err != nil {
		log.Fatal(err)
	}
}

// Resend what matters after a reconnect: the library does not say which reliable packets
// published while the connection was failing were lost. Rebuilt says the whole session was
// rebuilt (participants dropped and re-added, tracks republished).
func ExampleReconnected() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>")
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	for ev := range room.Events(ctx) {
		if r, ok := ev.(livekit.Reconnected); ok {
			log.Printf("reconnected (session rebuilt: %v); resending the last state", r.Rebuilt)
			room.LocalParticipant().PublishData(ctx, []byte(`{"state":"..."}`), livekit.DataOptions{Topic: "state"})
		}
	}
}

// Per-participant keys: connect without a shared key, set your own key to send with and each
// publisher's key (exchanged out of band) to receive with.
func ExampleE2EE_SetKey() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>", livekit.WithEncryption(livekit.EncryptionOptions{}))
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	keys := map[string][]byte{"me": []byte("my key"), "alice": []byte("alice's key")}
	for identity, key := range keys {
		if err := room.E2EE().SetKey(identity, key, 0); err != nil {
			log.Fatal(err)
		}
	}
}

// Correct a chat message just sent.
func ExampleLocalParticipant_EditChatMessage() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>")
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	lp := room.LocalParticipant()
	sent, err := lp.SendChatMessage(ctx, "see you at 3", nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := lp.EditChatMessage(ctx, sent, "see you at 4", nil); err != nil {
		log.Fatal(err)
	}
}

// Publish robot poses as JSON frames that follow a JSON Schema subscribers can fetch.
func ExampleLocalParticipant_DefineSchema() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>")
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	lp := room.LocalParticipant()
	pose := livekit.DataTrackSchemaID{Name: "pose", Encoding: livekit.SchemaEncodingJSONSchema}
	if err := lp.DefineSchema(ctx, pose, `{"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"}}}`); err != nil {
		log.Fatal(err)
	}
	track, err := lp.PublishDataTrack(ctx, "pose", livekit.DataTrackOptions{Schema: pose, FrameEncoding: livekit.FrameEncodingJSON})
	if err != nil {
		log.Fatal(err)
	}
	defer track.Unpublish()
	if err := track.TryPush(livekit.DataTrackFrame{Payload: []byte(`{"x":1.5,"y":-0.25}`)}); err != nil {
		log.Print(err) // frames are lossy: a full queue drops this one
	}
}
