package livekit_test

import (
	"context"
	"log"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// Join through a caching token endpoint and follow the server's token refreshes. The cache
// receives every refreshed token, so the next connect with the same options reuses it.
func ExampleConnectConfigurable() {
	ctx := context.Background()
	endpoint, err := tokensource.NewEndpoint("https://example.com/api/token")
	if err != nil {
		log.Fatal(err)
	}
	cache := tokensource.NewCache(endpoint)
	room, err := livekit.ConnectConfigurable(ctx, cache, tokensource.Options{RoomName: "support", ParticipantIdentity: "bot-1"},
		livekit.WithEventHandler(func(ev livekit.Event) {
			switch e := ev.(type) {
			case livekit.TokenRefreshed:
				log.Printf("token refreshed for %s, valid until %s", e.Identity, e.ExpiresAt.Format(time.RFC3339))
			case livekit.ParticipantConnected:
				log.Printf("%s joined", e.Participant.Identity)
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

// Join with a token you already have and send a message to everyone.
func ExampleConnect() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>", livekit.WithConnectTimeout(10*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	if err := room.PublishData(ctx, []byte("hello"), livekit.WithTopic("chat")); err != nil {
		log.Fatal(err)
	}
}
