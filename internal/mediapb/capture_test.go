package mediapb

import (
	"fmt"
	"github.com/livekit-ffi-go/sdk/internal/testenv"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

func needLib(tb testing.TB) *engine.Client { return testenv.Library(tb) }

// TestCaptureEveryType hands a buffer of every type to a video source, the path that copies
// planar components with copy_from_slice and aborts the process on any size mismatch. The
// livekit package builds its capture requests with VideoBufferInfo, so this is where a wrong
// layout would show first.
func TestCaptureEveryType(t *testing.T) {
	c := needLib(t)
	for _, size := range [][2]int{{64, 36}, {33, 17}} {
		w, h := size[0], size[1]
		resp, err := c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_NewVideoSource{NewVideoSource: &pb.NewVideoSourceRequest{
			Type:       pb.VideoSourceType_VIDEO_SOURCE_NATIVE.Enum(),
			Resolution: &pb.VideoSourceResolution{Width: proto.Uint32(uint32(w)), Height: proto.Uint32(uint32(h))},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		src := c.Own(resp.GetNewVideoSource().GetSource().GetHandle().GetId(), "VideoSource")
		for typ := pb.VideoBufferType_RGBA; typ <= pb.VideoBufferType_NV12; typ++ {
			t.Run(fmt.Sprintf("%v-%dx%d", typ, w, h), func(t *testing.T) {
				_, n, err := Layout(typ, w, h)
				if err != nil {
					t.Fatal(err)
				}
				data := make([]byte, n)
				for i := range data {
					data[i] = byte(i)
				}
				engine.Pin(data, func(addr uint64) {
					info, err := VideoBufferInfo(typ, w, h, addr)
					if err != nil {
						t.Fatal(err)
					}
					_, err = c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_CaptureVideoFrame{CaptureVideoFrame: &pb.CaptureVideoFrameRequest{
						SourceHandle: proto.Uint64(src.ID()),
						Buffer:       info,
						TimestampUs:  proto.Int64(0),
						Rotation:     pb.VideoRotation_VIDEO_ROTATION_0.Enum(),
					}}})
					if err != nil {
						t.Fatal(err)
					}
				})
			})
		}
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
