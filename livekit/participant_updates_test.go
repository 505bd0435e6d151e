package livekit_test

import (
	"errors"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// Name, metadata and attribute changes of the local participant reach the other participant,
// come back as refreshed tokens with the new claims, and the refreshed token reaches a cache
// the room was joined through.
func TestSetNameMetadataAttributes(t *testing.T) {
	needEnv(t)
	name := roomName(t)
	evB := newEvents()
	b, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, name, "watcher"), livekit.WithEventHandler(evB.handle))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	upstream, _ := countingSource(t)
	cache := tokensource.NewCache(upstream)
	opts := tokensource.Options{RoomName: name, ParticipantIdentity: "changer"}
	evA := newEvents()
	a, err := livekit.ConnectWith(ctxFor(t, 30*time.Second), tokensource.Bind(cache, opts), livekit.WithEventHandler(evA.handle))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	waitFor(t, evB, 15*time.Second, func(e livekit.ParticipantConnected) bool { return e.Info.Identity == "changer" })
	lp := a.LocalParticipant()
	ctx := ctxFor(t, 30*time.Second)

	if err := lp.SetMetadata(ctx, "md-1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evA, 10*time.Second, func(e livekit.TokenRefreshed) bool { return e.Claims != nil && e.Claims.Metadata == "md-1" })
	waitFor(t, evB, 10*time.Second, func(e livekit.ParticipantMetadataChanged) bool {
		return e.Identity == "changer" && e.Metadata == "md-1"
	})

	if err := lp.SetName(ctx, "Changer Name"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evA, 10*time.Second, func(e livekit.TokenRefreshed) bool { return e.Claims != nil && e.Claims.Name == "Changer Name" })
	waitFor(t, evB, 10*time.Second, func(e livekit.ParticipantNameChanged) bool {
		return e.Identity == "changer" && e.Name == "Changer Name"
	})

	if err := lp.SetAttributes(ctx, map[string]string{"k1": "v1", "k2": "v2"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evA, 10*time.Second, func(e livekit.TokenRefreshed) bool {
		return e.Claims != nil && e.Claims.Attributes["k1"] == "v1" && e.Claims.Attributes["k2"] == "v2"
	})
	waitFor(t, evB, 10*time.Second, func(e livekit.ParticipantAttributesChanged) bool {
		return e.Identity == "changer" && e.Changed["k1"] == "v1"
	})
	// Partial update: k1 is deleted by its empty value, k2 stays.
	if err := lp.SetAttributes(ctx, map[string]string{"k1": ""}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evA, 10*time.Second, func(e livekit.TokenRefreshed) bool {
		if e.Claims == nil {
			return false
		}
		_, has := e.Claims.Attributes["k1"]
		return !has && e.Claims.Attributes["k2"] == "v2"
	})
	waitFor(t, evB, 10*time.Second, func(e livekit.ParticipantAttributesChanged) bool {
		v, has := e.Changed["k1"]
		return e.Identity == "changer" && has && v == ""
	})
	if got := b.RemoteParticipant("changer").Info(); got.Attributes["k2"] != "v2" || got.Attributes["k1"] != "" || got.Metadata != "md-1" {
		t.Fatalf("watcher sees %+v", got)
	}

	cached, ok := cache.Cached(opts)
	if !ok {
		t.Fatal("nothing cached")
	}
	claims, err := tokensource.Parse(cached.ParticipantToken)
	if err != nil {
		t.Fatal(err)
	}
	if claims.Metadata != "md-1" || claims.Name != "Changer Name" || claims.Attributes["k2"] != "v2" {
		t.Fatalf("cached token claims: %+v", claims)
	}
}

// Without canUpdateOwnMetadata the server refuses, and the refusal is returned.
func TestSetMetadataRefusedWithoutGrant(t *testing.T) {
	needEnv(t)
	no := false
	tok, err := env.Minter.MintWithGrant("readonly", tokensource.VideoGrant{RoomJoin: true, Room: roomName(t), CanUpdateOwnMetadata: &no})
	if err != nil {
		t.Fatal(err)
	}
	r, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), tok)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	start := time.Now()
	err = r.LocalParticipant().SetMetadata(ctxFor(t, 30*time.Second), "nope")
	var re *livekit.RequestError
	if !errors.As(err, &re) || re.Message == "" {
		t.Fatalf("SetMetadata without the grant: %v", err)
	}
	t.Logf("refused after %v: %v", time.Since(start).Round(time.Millisecond), err)
}
