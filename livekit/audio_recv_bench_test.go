package livekit

import (
	"context"
	"runtime"
	"testing"
	"unsafe"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/queue"
	"github.com/livekit-ffi-go/sdk/livekit/media"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// BenchmarkAudioReceive is the Go side of one received 10 ms 48 kHz mono frame, from the
// bytes the library's callback hands over to the frame Recv returns. "raw" is the path frames
// take: read in place on the callback's thread, copied out, queued, returned by Recv. The
// others are the dispatcher's path, which the end of a stream and anything unexpected still
// take: its unmarshal ("proto"), then this package's copy-out, queue and Recv ("ours"), and
// both ("total"). The frame's samples live in pinned Go memory standing in for the library's
// buffer; the handle drop (one cgo call) is left out, since it has no handle to drop.
func BenchmarkAudioReceive(b *testing.B) {
	samples := make([]int16, 480)
	var pin runtime.Pinner
	pin.Pin(&samples[0])
	defer pin.Unpin()
	addr := uint64(uintptr(unsafe.Pointer(&samples[0])))
	raw, err := proto.Marshal(&pb.FfiEvent{Message: &pb.FfiEvent_AudioStreamEvent{AudioStreamEvent: &pb.AudioStreamEvent{
		StreamHandle: proto.Uint64(42),
		Message: &pb.AudioStreamEvent_FrameReceived{FrameReceived: &pb.AudioFrameReceived{Frame: &pb.OwnedAudioFrameBuffer{
			Handle: &pb.FfiOwnedHandle{Id: proto.Uint64(0)},
			Info: &pb.AudioFrameBufferInfo{DataPtr: proto.Uint64(addr), NumChannels: proto.Uint32(1),
				SampleRate: proto.Uint32(48000), SamplesPerChannel: proto.Uint32(480)}}}}}}})
	if err != nil {
		b.Fatal(err)
	}
	var ev pb.FfiEvent
	if err := proto.Unmarshal(raw, &ev); err != nil {
		b.Fatal(err)
	}
	decode := decodeAudio(nil)
	ctx := context.Background()
	s := &mediaStream[*media.AudioFrame]{q: queue.NewBounded[*media.AudioFrame](DefaultAudioStreamCapacity)}
	ours := func(ev *pb.FfiEvent) {
		f, ok, _ := decode(ev)
		if !ok {
			b.Fatal("no frame")
		}
		s.q.PushEvict(f)
		if _, err := s.recv(ctx); err != nil {
			b.Fatal(err)
		}
	}
	take := rawAudio(nil)
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f, ok := take(raw)
			if !ok {
				b.Fatal("no frame")
			}
			s.push(f)
			if _, err := s.recv(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proto", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e pb.FfiEvent
			if err := proto.Unmarshal(raw, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ours", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ours(&ev)
		}
	})
	b.Run("total", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e pb.FfiEvent
			if err := proto.Unmarshal(raw, &e); err != nil {
				b.Fatal(err)
			}
			ours(&e)
		}
	})
}
