package livekit_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
)

// benchPair connects two participants and waits until each knows the other.
func benchPair(b *testing.B) (a, bob *livekit.Room) {
	needEnv(b)
	name := roomName(b)
	ctx := context.Background()
	var err error
	bob, err = livekit.Connect(ctx, env.Server.URL(), mint(b, name, "bob"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bob.Close() })
	a, err = livekit.Connect(ctx, env.Server.URL(), mint(b, name, "alice"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	for len(a.RemoteParticipants()) == 0 || len(bob.RemoteParticipants()) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	return a, bob
}

// BenchmarkRPCRoundTrip measures PerformRPC to an echo handler between two local
// participants through the server.
func BenchmarkRPCRoundTrip(b *testing.B) {
	a, bob := benchPair(b)
	if err := bob.LocalParticipant().RegisterRPCMethod("echo", func(_ context.Context, inv livekit.RPCInvocation) (string, error) {
		return inv.Payload, nil
	}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var rtts []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := a.LocalParticipant().PerformRPC(ctx, livekit.RPCParams{Destination: "bob", Method: "echo", Payload: "ping"}); err != nil {
			b.Fatal(err)
		}
		rtts = append(rtts, time.Since(start))
	}
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(rtts[len(rtts)*9/10].Microseconds())/1000, "p90-ms")
}

// BenchmarkByteStream20MiB measures sending a 20 MiB byte stream until the receiver has read
// all of it.
func BenchmarkByteStream20MiB(b *testing.B) {
	a, bob := benchPair(b)
	const size = 20 << 20
	done := make(chan int, 1)
	if err := bob.RegisterByteStreamHandler("bench", func(r *livekit.ByteStreamReader, _ string) {
		d, err := r.ReadAll(context.Background())
		if err != nil {
			b.Error(err)
		}
		done <- len(d)
	}); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	ctx := context.Background()
	b.SetBytes(size)
	for b.Loop() {
		if _, err := a.LocalParticipant().SendBytes(ctx, data, livekit.StreamBytesOptions{Topic: "bench"}); err != nil {
			b.Fatal(err)
		}
		if n := <-done; n != size {
			b.Fatalf("received %d bytes", n)
		}
	}
}
