package livekit_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
)

// BenchmarkConnect measures joining the local server (connect until Connect returns), and
// reports the median and 90th percentile. Run with -benchtime=20x or more.
func BenchmarkConnect(b *testing.B) {
	needEnv(b)
	name := roomName(b)
	var took []time.Duration
	i := 0
	for b.Loop() {
		tok := mint(b, name, fmt.Sprintf("bench-%d", i))
		i++
		start := time.Now()
		r, err := livekit.Connect(context.Background(), env.Server.URL(), tok)
		took = append(took, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		r.Close()
		b.StartTimer()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*9/10].Microseconds())/1000, "p90-ms")
}

// BenchmarkDataRoundTrip measures a reliable packet from A to B and B's echo back to A, both
// participants in one process on the local server.
func BenchmarkDataRoundTrip(b *testing.B) {
	needEnv(b)
	name := roomName(b)
	ctx := context.Background()
	var bob *livekit.Room
	ready := make(chan struct{})
	bob, err := livekit.Connect(ctx, env.Server.URL(), mint(b, name, "echo"), livekit.WithEventHandler(func(ev livekit.Event) {
		if d, ok := ev.(livekit.DataReceived); ok {
			<-ready
			bob.LocalParticipant().PublishData(ctx, d.Data, livekit.DataOptions{Topic: "echo"})
		}
	}))
	if err != nil {
		b.Fatal(err)
	}
	close(ready)
	defer bob.Close()
	back := make(chan []byte, 1)
	alice, err := livekit.Connect(ctx, env.Server.URL(), mint(b, name, "pinger"), livekit.WithEventHandler(func(ev livekit.Event) {
		if d, ok := ev.(livekit.DataReceived); ok && d.Topic == "echo" {
			back <- d.Data
		}
	}))
	if err != nil {
		b.Fatal(err)
	}
	defer alice.Close()
	// Wait until each side knows the other, so packets have a route.
	for len(alice.RemoteParticipants()) == 0 || len(bob.RemoteParticipants()) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	payload := make([]byte, 256)
	var rtts []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := alice.LocalParticipant().PublishData(ctx, payload, livekit.DataOptions{Topic: "ping"}); err != nil {
			b.Fatal(err)
		}
		select {
		case <-back:
		case <-time.After(10 * time.Second):
			b.Fatal("echo did not come back")
		}
		rtts = append(rtts, time.Since(start))
	}
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(rtts[len(rtts)*9/10].Microseconds())/1000, "p90-ms")
}
