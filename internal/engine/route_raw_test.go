//go:build cgo

package engine

import (
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

func audioFrameEvent(stream, n uint64) []byte {
	ev, _ := proto.Marshal(&pb.FfiEvent{Message: &pb.FfiEvent_AudioStreamEvent{AudioStreamEvent: &pb.AudioStreamEvent{
		StreamHandle: proto.Uint64(stream),
		Message: &pb.AudioStreamEvent_FrameReceived{FrameReceived: &pb.AudioFrameReceived{Frame: &pb.OwnedAudioFrameBuffer{
			Handle: &pb.FfiOwnedHandle{Id: proto.Uint64(0)},
			Info:   &pb.AudioFrameBufferInfo{DataPtr: proto.Uint64(n), SamplesPerChannel: proto.Uint32(480)}}}}}}})
	return ev
}

func audioEOSEvent(stream uint64) []byte {
	ev, _ := proto.Marshal(&pb.FfiEvent{Message: &pb.FfiEvent_AudioStreamEvent{AudioStreamEvent: &pb.AudioStreamEvent{
		StreamHandle: proto.Uint64(stream), Message: &pb.AudioStreamEvent_Eos{Eos: &pb.AudioStreamEOS{}}}}})
	return ev
}

// A raw subscriber takes frames in place, in order, on the callback's thread; what it declines
// (the end of stream) reaches fn on the dispatcher, after the frames. Nothing is copied for
// the events it takes.
func TestRawSubscriberTakesFramesBeforeTheEnd(t *testing.T) {
	c := client(t)
	const stream = 1 << 45
	var frames []uint64 // appended on the emitting goroutine: nativeEmit calls back synchronously
	eos := make(chan int, 1)
	sub, err := c.SubscribeRaw(AudioStreamEvents, stream, func(ev []byte) bool {
		var e pb.FfiEvent
		if err := proto.Unmarshal(ev, &e); err != nil {
			t.Error(err)
			return false
		}
		if fr := e.GetAudioStreamEvent().GetFrameReceived(); fr != nil {
			frames = append(frames, fr.GetFrame().GetInfo().GetDataPtr())
			return true
		}
		return false
	}, func(e *pb.FfiEvent) {
		if e.GetAudioStreamEvent().GetEos() != nil {
			eos <- len(frames)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for i := range uint64(50) {
		nativeEmit(audioFrameEvent(stream, i+1), 1)
	}
	nativeEmit(audioEOSEvent(stream), 1)
	select {
	case n := <-eos:
		if n != 50 {
			t.Fatalf("end of stream reached fn after %d frames, want all 50 first", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the end of stream never reached fn")
	}
	for i, p := range frames {
		if p != uint64(i+1) {
			t.Fatalf("frame %d is %d: out of order", i, p)
		}
	}
	quiet := 0
	sub2, err := c.SubscribeRaw(AudioStreamEvents, stream+1, func([]byte) bool { quiet++; return true }, func(*pb.FfiEvent) {})
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Close()
	ev2 := audioFrameEvent(stream+1, 1)
	if a := testing.AllocsPerRun(500, func() { nativeEmit(ev2, 1) }); a != 0 {
		t.Fatalf("%.2f allocations per event a raw subscriber takes, want 0 (no copy, no queue)", a)
	}
	if quiet < 500 {
		t.Fatalf("the raw subscriber saw %d of 500+ events", quiet)
	}
}

// A raw subscriber that panics is logged, its event counts as taken (never handled twice),
// and the next event still arrives. After Close neither function runs.
func TestRawSubscriberPanicAndClose(t *testing.T) {
	h := &captureHandler{}
	c := reload(t, Options{Logger: slog.New(h), LogLevel: slog.LevelWarn})
	const stream = 1 << 45
	var calls, decoded atomic.Int64
	sub, err := c.SubscribeRaw(AudioStreamEvents, stream, func(ev []byte) bool {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return true
	}, func(*pb.FfiEvent) { decoded.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	nativeEmit(audioFrameEvent(stream, 1), 2)
	if calls.Load() != 2 {
		t.Fatalf("raw subscriber called %d times, want 2", calls.Load())
	}
	sub.Close()
	sub.Close()
	nativeEmit(audioFrameEvent(stream, 1), 1)
	if calls.Load() != 2 {
		t.Fatal("raw subscriber called after Close")
	}
	if c.raws.Load() != 0 {
		t.Fatalf("%d raw subscriptions counted after Close", c.raws.Load())
	}
	logged := func() bool {
		for _, r := range h.snapshot() {
			if strings.Contains(r.Message, "raw subscriber panicked") {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(5 * time.Second); !logged(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the panic was not logged")
		}
	}
	if decoded.Load() != 0 {
		t.Fatalf("fn got %d events the raw subscriber took or that came after Close", decoded.Load())
	}
}
