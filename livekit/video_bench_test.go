package livekit_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/mediapb"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// BenchmarkVideoCapture720p is CaptureFrame of one 1280x720 frame; Python on the same
// library measured 203 µs (I420) and 335 µs (RGBA) with /work/shared/anchors/py-video-bench.py.
// ConvertI420ToRGBA is the library's own libyuv conversion of the same frame size, through
// media.ConvertInto, for scale.
func BenchmarkVideoCapture720p(b *testing.B) {
	const w, h = 1280, 720
	for _, typ := range []media.VideoBufferType{media.I420, media.RGBA} {
		b.Run(typ.String(), func(b *testing.B) {
			src, _, _ := benchLoop(b, w, h, false)
			f := media.NewVideoFrame(typ, w, h)
			for range 20 {
				src.CaptureFrame(f)
			}
			b.SetBytes(int64(len(f.Data)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				f.Timestamp = time.Duration(i) * 33333 * time.Microsecond
				i++
				if err := src.CaptureFrame(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// Wrapper is what CaptureFrame does besides the library's call: validate the frame, describe
	// its planes and encode the request. The library's share is the rest.
	b.Run("Wrapper", func(b *testing.B) {
		f := media.NewVideoFrame(media.I420, w, h)
		b.ReportAllocs()
		for b.Loop() {
			if err := f.Validate(); err != nil {
				b.Fatal(err)
			}
			info, err := mediapb.VideoBufferInfo(pb.VideoBufferType_I420, w, h, 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			req, err := engine.Wrap(&pb.CaptureVideoFrameRequest{SourceHandle: proto.Uint64(7), Buffer: info,
				TimestampUs: proto.Int64(1), Rotation: pb.VideoRotation_VIDEO_ROTATION_0.Enum()})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := proto.Marshal(req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ConvertI420ToRGBA", func(b *testing.B) {
		benchLoop(b, 16, 16, false) // loads the library
		src := media.NewVideoFrame(media.I420, w, h)
		dst := &media.VideoFrame{Type: media.RGBA}
		b.SetBytes(int64(len(src.Data)))
		b.ReportAllocs()
		for b.Loop() {
			if err := media.ConvertInto(dst, src); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVideoLoopback720p is one I420 1280x720 frame captured into a source and received
// from a stream of its track (no room): capture, the library's sink, the event, the copy out on
// the dispatcher, Recv and Release. allocs/op counts everything, capture included; compare
// with BenchmarkVideoCapture720p/I420 and BenchmarkVideoStreamDecode720p (the receive side
// alone).
func BenchmarkVideoLoopback720p(b *testing.B) {
	const w, h = 1280, 720
	src, _, st := benchLoop(b, w, h, true)
	f := media.NewVideoFrame(media.I420, w, h)
	ctx := context.Background()
	b.SetBytes(int64(len(f.Data)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f.Timestamp = time.Duration(i) * 33333 * time.Microsecond
		i++
		if err := src.CaptureFrame(f); err != nil {
			b.Fatal(err)
		}
		got, err := st.Recv(ctx)
		if err != nil {
			b.Fatal(err)
		}
		st.Release(got)
	}
	b.ReportMetric(float64(st.Dropped()), "dropped")
}

func benchLoop(b *testing.B, w, h int, stream bool) (*livekit.VideoSource, *livekit.LocalVideoTrack, *livekit.VideoStream) {
	b.Helper()
	if _, err := livekit.NewVideoSource(livekit.VideoSourceOptions{Width: 0}); err == nil {
		b.Fatal("zero-size source accepted")
	}
	src, err := livekit.NewVideoSource(livekit.VideoSourceOptions{Width: w, Height: h})
	if err != nil {
		b.Skip("no native library: ", err)
	}
	b.Cleanup(func() { src.Close() })
	track, err := livekit.NewLocalVideoTrack("bench", src)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { track.Close() })
	if !stream {
		return src, track, nil
	}
	st, err := livekit.NewVideoStream(track, livekit.VideoStreamOptions{Capacity: 4})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return src, track, st
}
