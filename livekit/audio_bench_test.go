package livekit_test

import (
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// The benchmarks capture into a source with a 10 s queue and no track: the library accepts
// captures without one and plays them out in real time, so the queue never fills while b.N
// stays under ~1000 per second of benchmark (run with -benchtime=500x, as the Python anchor
// does).

// BenchmarkAudioCapture is what a producer pays per 10 ms frame in steady state: the time
// inside CaptureFrame (ns/op), when the library has taken the frame before (a real-time
// producer captures every 10 ms, the library takes a frame in tens of µs). Between captures
// the benchmark waits, untimed, with Flush. allocs/op counts the whole process: the capture,
// the source's goroutine, the library's callback. take-ns is the full cycle per frame,
// CaptureFrame plus the wait until the library has the frame.
func BenchmarkAudioCapture(b *testing.B) {
	src := sourceWithQueue(b, 10*time.Second)
	f := media.NewAudioFrame(48000, 1, 480)
	ctx := b.Context()
	var inCapture time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		if err := src.CaptureFrame(ctx, f); err != nil {
			b.Fatal(err)
		}
		inCapture += time.Since(t0)
		if err := src.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "take-ns")
	b.ReportMetric(float64(inCapture.Nanoseconds())/float64(b.N), "ns/op")
}

// BenchmarkAudioCaptureBackToBack captures as fast as the library takes frames: ns/op is
// the throughput bound, the library's cost per frame plus the hand-over.
func BenchmarkAudioCaptureBackToBack(b *testing.B) {
	src := sourceWithQueue(b, 10*time.Second)
	f := media.NewAudioFrame(48000, 1, 480)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := src.CaptureFrame(ctx, f); err != nil {
			b.Fatal(err)
		}
	}
	if err := src.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}
