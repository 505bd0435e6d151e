package livekit_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/testenv"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// BenchmarkAudioCapture is CaptureFrame of a 10 ms 48 kHz mono frame into a source with a
// 10 s queue and no track (the library accepts captures without one and plays them out in
// real time, so 10 s never fills within the run when b.N stays under ~1000 per second of
// benchmark: run with -benchtime=500x, as the Python anchor does). It includes the library's
// time and protobuf; see BenchmarkAudioCaptureProto for the protobuf share.
func BenchmarkAudioCapture(b *testing.B) {
	testenv.Library(b)
	src, err := livekit.NewAudioSource(livekit.AudioSourceOptions{QueueSize: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	f := media.NewAudioFrame(48000, 1, 480)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := src.CaptureFrame(ctx, f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAudioCaptureProto is the protobuf work of one capture, done the way the ffi
// package does it: marshal the request, unmarshal the library's response and the completion
// event.
func BenchmarkAudioCaptureProto(b *testing.B) {
	var ptr uint64 = 0x1000
	n, r, spc := uint32(1), uint32(48000), uint32(480)
	req := &pb.FfiRequest{Message: &pb.FfiRequest_CaptureAudioFrame{CaptureAudioFrame: &pb.CaptureAudioFrameRequest{
		SourceHandle: proto.Uint64(7), RequestAsyncId: proto.Uint64(9),
		Buffer: &pb.AudioFrameBufferInfo{DataPtr: &ptr, NumChannels: &n, SampleRate: &r, SamplesPerChannel: &spc}}}}
	resp, _ := proto.Marshal(&pb.FfiResponse{Message: &pb.FfiResponse_CaptureAudioFrame{CaptureAudioFrame: &pb.CaptureAudioFrameResponse{AsyncId: proto.Uint64(9)}}})
	ev, _ := proto.Marshal(&pb.FfiEvent{Message: &pb.FfiEvent_CaptureAudioFrame{CaptureAudioFrame: &pb.CaptureAudioFrameCallback{AsyncId: proto.Uint64(9)}}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := proto.Marshal(req); err != nil {
			b.Fatal(err)
		}
		var out pb.FfiResponse
		if err := proto.Unmarshal(resp, &out); err != nil {
			b.Fatal(err)
		}
		var e pb.FfiEvent
		if err := proto.Unmarshal(ev, &e); err != nil {
			b.Fatal(err)
		}
	}
}
