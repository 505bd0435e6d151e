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

// frameEvent is a FrameReceived event as the library sends it for a w x h I420 frame in buf
// (components as the library reports them; handle 0, so nothing is dropped).
func frameEvent(buf []byte, w, h int) *pb.FfiEvent {
	base := uint64(uintptr(unsafe.Pointer(&buf[0])))
	cw, ch := (w+1)/2, (h+1)/2
	comp := func(off, stride, rows int) *pb.VideoBufferInfo_ComponentInfo {
		return &pb.VideoBufferInfo_ComponentInfo{DataPtr: proto.Uint64(base + uint64(off)), Stride: proto.Uint32(uint32(stride)), Size: proto.Uint32(uint32(stride * rows))}
	}
	return &pb.FfiEvent{Message: &pb.FfiEvent_VideoStreamEvent{VideoStreamEvent: &pb.VideoStreamEvent{
		StreamHandle: proto.Uint64(1),
		Message: &pb.VideoStreamEvent_FrameReceived{FrameReceived: &pb.VideoFrameReceived{
			Buffer: &pb.OwnedVideoBuffer{
				Handle: &pb.FfiOwnedHandle{Id: proto.Uint64(0)},
				Info: &pb.VideoBufferInfo{Type: pb.VideoBufferType_I420.Enum(), Width: proto.Uint32(uint32(w)), Height: proto.Uint32(uint32(h)),
					DataPtr:    proto.Uint64(base),
					Components: []*pb.VideoBufferInfo_ComponentInfo{comp(0, w, h), comp(w*h, cw, ch), comp(w*h+cw*ch, cw, ch)}},
			},
			TimestampUs: proto.Int64(1234),
			Rotation:    pb.VideoRotation_VIDEO_ROTATION_180.Enum(),
		}},
	}}}
}

// testStream is a VideoStream without the library: deliver does what the stream's subscriber
// does on the dispatcher.
func testStream(capacity int) (*VideoStream, func(*pb.FfiEvent)) {
	vs := &VideoStream{format: media.I420, poolCap: capacity + 3}
	vs.ms = &mediaStream[*media.VideoFrame]{q: queue.NewBounded[*media.VideoFrame](capacity), evict: vs.Release, handle: nopHandle{}}
	deliver := func(ev *pb.FfiEvent) {
		f, ok, _ := vs.decode(nil, ev)
		if !ok {
			return
		}
		if evicted, pushed := vs.ms.q.PushEvict(f); !pushed {
			vs.ms.give(f)
		} else {
			for _, e := range evicted {
				vs.ms.give(e)
			}
		}
	}
	return vs, deliver
}

type nopHandle struct{}

func (nopHandle) ID() uint64   { return 0 }
func (nopHandle) Close() error { return nil }

func TestVideoDecodeCopiesAndReusesBuffers(t *testing.T) {
	const w, h = 64, 48
	buf := make([]byte, w*h*3/2)
	for i := range buf {
		buf[i] = byte(i)
	}
	var pin runtime.Pinner
	pin.Pin(&buf[0])
	defer pin.Unpin()
	vs, deliver := testStream(2)
	ev := frameEvent(buf, w, h)
	deliver(ev)
	f, err := vs.Recv(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != media.I420 || f.Width != w || f.Height != h || f.Rotation != media.Rotation180 || f.Timestamp.Microseconds() != 1234 {
		t.Fatalf("frame %v %dx%d rot %v ts %v", f.Type, f.Width, f.Height, f.Rotation, f.Timestamp)
	}
	if string(f.Data) != string(buf) {
		t.Fatal("data differs")
	}
	buf[0] = 99 // a copy, not a view of the library's memory
	if f.Data[0] == 99 {
		t.Fatal("frame shares the library's buffer")
	}
	first := &f.Data[0]
	vs.Release(f)
	deliver(ev)
	g, _ := vs.Recv(context.Background())
	if &g.Data[0] != first {
		t.Fatal("released buffer not reused")
	}
	// Dropped frames go back to the pool too: 5 into a queue of 2 drop 3.
	vs.Release(g)
	for range 5 {
		deliver(ev)
	}
	if vs.Dropped() != 3 {
		t.Fatalf("dropped %d, want 3", vs.Dropped())
	}
	if n := len(vs.pool); n != 1 {
		t.Fatalf("pool holds %d frames, want 1 (each drop refills what the next delivery takes)", n)
	}
	// A malformed event (components too small) is skipped, not delivered.
	bad := frameEvent(buf, w, h)
	bad.GetVideoStreamEvent().GetFrameReceived().GetBuffer().GetInfo().Components[1].Size = proto.Uint32(1)
	before := vs.ms.q.Len()
	deliver(bad)
	if vs.ms.q.Len() != before {
		t.Fatal("malformed frame delivered")
	}
}

// BenchmarkVideoStreamDecode720p is the receive side of one 1280x720 I420 frame in our code,
// from the event the dispatcher hands over to Recv returning and Release: the copy out of the
// library's buffer (1.38 MB, B/op below counts allocations, SetBytes the copy) and the queue. A
// steady stream must allocate no frame buffer here.
func BenchmarkVideoStreamDecode720p(b *testing.B) {
	const w, h = 1280, 720
	buf := make([]byte, w*h*3/2)
	var pin runtime.Pinner
	pin.Pin(&buf[0])
	defer pin.Unpin()
	vs, deliver := testStream(DefaultVideoStreamCapacity)
	ev := frameEvent(buf, w, h)
	ctx := context.Background()
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		deliver(ev)
		f, err := vs.Recv(ctx)
		if err != nil {
			b.Fatal(err)
		}
		vs.Release(f)
	}
}
