package livekit_test

import (
	"context"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/lkserver"
	"github.com/livekit-ffi-go/sdk/internal/testenv"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// A real two-node deployment: two livekit-server nodes sharing a Redis. What a client sees
// (measured against v1.13.5):
//   - participants that enter through different nodes share the room: the node that does
//     not host the room relays their signal connection to the one that does;
//   - both nodes refresh tokens;
//   - when the hosting node dies, a participant relayed through the other node reconnects
//     (Reconnecting, then Reconnected: the room is re-created on the survivor), while one
//     connected straight to the dead node gets Disconnected after the library's retries
//     (about 25 s); a new join through the survivor lands in the re-created room.

func startCluster(t *testing.T) *lkserver.Cluster {
	t.Helper()
	testenv.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := lkserver.StartCluster(ctx, lkserver.ClusterConfig{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func clusterToken(t *testing.T, c *lkserver.Cluster, node *lkserver.Server, room, identity string) string {
	t.Helper()
	m, err := tokensource.NewMinter(c.APIKey, c.APISecret, node.URL())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Mint(tokensource.Options{RoomName: room, ParticipantIdentity: identity})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestClusterParticipantsOnDifferentNodesShareARoom(t *testing.T) {
	needEnv(t)
	c := startCluster(t)
	name := roomName(t)
	via, host := c.Nodes[0], c.Nodes[1]
	if _, err := c.CreateRoom(ctxFor(t, 10*time.Second), via, name, host); err != nil {
		t.Fatal(err)
	}
	evA, evB := newEvents(), newEvents()
	// A through the node that does not host the room; B straight to the host.
	a, err := livekit.Connect(ctxFor(t, 30*time.Second), via.URL(), clusterToken(t, c, via, name, "a"), livekit.WithEventHandler(evA.handle))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := livekit.Connect(ctxFor(t, 30*time.Second), host.URL(), clusterToken(t, c, host, name, "b"), livekit.WithEventHandler(evB.handle))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.SID() == "" || a.SID() != b.SID() {
		t.Fatalf("room SIDs %q and %q", a.SID(), b.SID())
	}
	waitFor(t, evA, 15*time.Second, func(e livekit.ParticipantConnected) bool { return e.Info.Identity == "b" })
	if err := a.LocalParticipant().PublishData(ctxFor(t, 10*time.Second), []byte("via node 0"), livekit.DataOptions{Topic: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := b.LocalParticipant().PublishData(ctxFor(t, 10*time.Second), []byte("via node 1"), livekit.DataOptions{Topic: "x"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evB, 10*time.Second, func(e livekit.DataReceived) bool { return string(e.Data) == "via node 0" && e.From == "a" })
	waitFor(t, evA, 10*time.Second, func(e livekit.DataReceived) bool { return string(e.Data) == "via node 1" && e.From == "b" })
	// Audio crosses the nodes too: A (relayed) publishes a tone, B (on the host) hears it.
	publishTone(t, a, 440)
	sub := waitFor[livekit.TrackSubscribed](t, evB, 20*time.Second, nil)
	st, err := livekit.NewAudioStream(sub.Track, livekit.AudioStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hearTone(t, ctxFor(t, 20*time.Second), st, 440, time.Second)
	// Both nodes refresh tokens.
	for _, ev := range []*events{evA, evB} {
		ref := waitFor[livekit.TokenRefreshed](t, ev, 10*time.Second, nil)
		if ref.Claims == nil || ref.Claims.Issuer != c.APIKey {
			t.Fatalf("refresh %+v", ref.Claims)
		}
	}
}

func TestClusterHostNodeDies(t *testing.T) {
	needEnv(t)
	c := startCluster(t)
	name := roomName(t)
	survivor, host := c.Nodes[0], c.Nodes[1]
	if _, err := c.CreateRoom(ctxFor(t, 10*time.Second), survivor, name, host); err != nil {
		t.Fatal(err)
	}
	evA, evB := newEvents(), newEvents()
	a, err := livekit.Connect(ctxFor(t, 30*time.Second), survivor.URL(), clusterToken(t, c, survivor, name, "relayed"), livekit.WithEventHandler(evA.handle))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := livekit.Connect(ctxFor(t, 30*time.Second), host.URL(), clusterToken(t, c, host, name, "direct"), livekit.WithEventHandler(evB.handle))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	waitFor(t, evA, 15*time.Second, func(e livekit.ParticipantConnected) bool { return e.Info.Identity == "direct" })

	killed := time.Now()
	host.Kill()
	waitFor[livekit.Reconnecting](t, evA, 30*time.Second, nil)
	re := waitFor[livekit.Reconnected](t, evA, 30*time.Second, nil)
	t.Logf("relayed participant: Reconnected (rebuilt=%v) %v after the kill", re.Rebuilt, time.Since(killed).Round(100*time.Millisecond))
	d := waitFor[livekit.Disconnected](t, evB, 60*time.Second, nil)
	t.Logf("direct participant: Disconnected (%v) %v after the kill", d.Reason, time.Since(killed).Round(100*time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if node, err := c.RoomNode(ctx, name); err != nil || node != survivor {
		t.Fatalf("after the kill the room is on %v (%v), want the survivor", node, err)
	}
	evC := newEvents()
	late, err := livekit.Connect(ctxFor(t, 30*time.Second), survivor.URL(), clusterToken(t, c, survivor, name, "late"), livekit.WithEventHandler(evC.handle))
	if err != nil {
		t.Fatalf("a new join through the survivor: %v", err)
	}
	defer late.Close()
	if late.SID() != a.SID() && a.SID() != "" {
		t.Logf("room SID changed across the rebuild: %s -> %s (Room.SID reports the library's view)", a.SID(), late.SID())
	}
	if err := a.LocalParticipant().PublishData(ctxFor(t, 10*time.Second), []byte("still here"), livekit.DataOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evC, 15*time.Second, func(e livekit.DataReceived) bool { return string(e.Data) == "still here" })
}
