package livekit_test

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/faultnet"
	"github.com/livekit-ffi-go/sdk/internal/lkserver"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// Packet loss and delay between client and server. netem is not in this kernel, so the server
// runs in a namespace of its own and every byte crosses a userspace proxy (internal/faultnet)
// that drops and delays ICE/UDP datagrams. Measured: reliable data arrives complete and in
// order at 5 % and 20 % loss each way (the data channel retransmits; it gets slower), lossy
// data loses roughly the loss rate of two hops, and no reconnect happens.
func TestPacketLossAndDelay(t *testing.T) {
	needEnv(t)
	if ok, why := faultnet.Supported(); !ok {
		t.Skip(why)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := lkserver.Start(ctx, lkserver.Config{BehindProxy: true})
	if err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs last: the rooms close while the server still answers.
	t.Cleanup(func() { s.Stop() })
	m, err := tokensource.NewMinter(s.APIKey, s.APISecret, s.URL())
	if err != nil {
		t.Fatal(err)
	}
	name := roomName(t)
	join := func(id string, ev *events) *livekit.Room {
		tok, err := m.Mint(tokensource.Options{RoomName: name, ParticipantIdentity: id})
		if err != nil {
			t.Fatal(err)
		}
		var opts []livekit.ConnectOption
		if ev != nil {
			opts = append(opts, livekit.WithEventHandler(ev.handle))
		}
		r, err := livekit.Connect(ctxFor(t, 30*time.Second), s.URL(), tok, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	evA, evB := newEvents(), newEvents()
	b := join("b", evB)
	a := join("a", evA)
	_ = b
	waitFor(t, evB, 15*time.Second, func(e livekit.ParticipantConnected) bool { return e.Info.Identity == "a" })

	for _, loss := range []float64{0.05, 0.20} {
		s.Proxy.SetFaults(lkserver.RouteRTCUDP, faultnet.Faults{Drop: loss, Delay: 20 * time.Millisecond})
		before := s.Proxy.Stats(lkserver.RouteRTCUDP)
		topic := "loss"
		if loss > 0.1 {
			topic = "loss20"
		}
		const n = 100
		start := time.Now()
		for i := range n {
			var p [4]byte
			binary.BigEndian.PutUint32(p[:], uint32(i))
			if err := a.LocalParticipant().PublishData(ctxFor(t, 30*time.Second), p[:], livekit.DataOptions{Topic: topic}); err != nil {
				t.Fatalf("loss %.0f%%: publish %d: %v", loss*100, i, err)
			}
			if err := a.LocalParticipant().PublishData(ctxFor(t, 30*time.Second), p[:], livekit.DataOptions{Topic: topic + "-lossy", Lossy: true}); err != nil {
				t.Fatalf("loss %.0f%%: lossy publish %d: %v", loss*100, i, err)
			}
		}
		var seqs []int
		lossy := 0
		deadline := time.Now().Add(45 * time.Second)
		for len(seqs) < n && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			seqs, lossy = seqs[:0], 0
			for _, ev := range evB.snapshot() {
				if d, ok := ev.(livekit.DataReceived); ok {
					switch d.Topic {
					case topic:
						seqs = append(seqs, int(binary.BigEndian.Uint32(d.Data)))
					case topic + "-lossy":
						lossy++
					}
				}
			}
		}
		after := s.Proxy.Stats(lkserver.RouteRTCUDP)
		t.Logf("loss %.0f%% each way, +20 ms: reliable %d/%d in %v, lossy %d/%d; proxy %+v -> %+v", loss*100, len(seqs), n,
			time.Since(start).Round(10*time.Millisecond), lossy, n, before, after)
		if len(seqs) != n {
			t.Fatalf("loss %.0f%%: %d of %d reliable packets arrived", loss*100, len(seqs), n)
		}
		for i, v := range seqs {
			if v != i {
				t.Fatalf("loss %.0f%%: reliable packet %d arrived at position %d", loss*100, v, i)
			}
		}
	}
	for _, ev := range append(evA.snapshot(), evB.snapshot()...) {
		if _, ok := ev.(livekit.Reconnecting); ok {
			t.Fatal("packet loss caused a reconnect")
		}
	}
}
