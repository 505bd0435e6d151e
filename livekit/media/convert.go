package media

import (
	"errors"
	"fmt"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/mediapb"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// ErrUnsupportedConversion is wrapped by the error of a conversion the library cannot do.
// Such conversions are refused before the library sees them: some (ABGR as a source) abort the
// process there.
var ErrUnsupportedConversion = errors.New("media: unsupported video conversion")

// conversions lists what livekit-ffi 0.13.2 converts (its colorcvt table, verified against the
// library). Anything else gets an error from the library, or for ABGR sources an abort.
// NV12 to NV12 is in the library's table but aborts the process: its copy gives the
// destination UV plane a stride of (w+1)/2 where NV12 needs 2*((w+1)/2), and the stride assertion
// fails. Copy the frame in Go instead.
var conversions = map[VideoBufferType][]VideoBufferType{
	RGBA:  {I420, BGRA},
	BGRA:  {I420, RGBA},
	ARGB:  {I420},
	RGB24: {I420},
	I420:  {RGBA, ABGR, ARGB, BGRA, RGB24, I420},
	I420A: {I420, I420A},
	I422:  {I420, I422, RGBA, ABGR, ARGB},
	I444:  {I420, I444, RGBA, BGRA},
	I010:  {I420, RGBA, BGRA},
	NV12:  {I420, RGBA, BGRA},
}

// CanConvert reports whether Convert supports converting from src to dst.
func CanConvert(src, dst VideoBufferType) bool {
	for _, t := range conversions[src] {
		if t == dst {
			return true
		}
	}
	return false
}

// Convert returns f converted to dst by the library (libyuv). Timestamp and rotation are kept.
// The library's colour matrices are BT.601 limited range.
func Convert(f *VideoFrame, dst VideoBufferType) (*VideoFrame, error) {
	out := &VideoFrame{Type: dst}
	if err := ConvertInto(out, f); err != nil {
		return nil, err
	}
	return out, nil
}

// ConvertInto converts src into dst.Type, writing dst's size, timestamp and rotation and reusing
// dst.Data when it is large enough, so a stream of frames converts without allocating a frame
// buffer each time.
func ConvertInto(dst, src *VideoFrame) error {
	return convert(dst, src, false)
}

// ConvertFlipped is ConvertInto that also flips the picture upside down.
func ConvertFlipped(dst, src *VideoFrame) error {
	return convert(dst, src, true)
}

func convert(dst, src *VideoFrame, flipY bool) error {
	if dst == nil {
		return errors.New("media: nil destination frame")
	}
	if err := src.Validate(); err != nil {
		return err
	}
	if !CanConvert(src.Type, dst.Type) {
		return fmt.Errorf("%w: %v to %v", ErrUnsupportedConversion, src.Type, dst.Type)
	}
	c, err := engine.Default()
	if err != nil {
		return err
	}
	srcType, _ := mediapb.BufferType(int(src.Type))
	dstType, _ := mediapb.BufferType(int(dst.Type))
	var resp *pb.FfiResponse
	var infoErr error
	engine.Pin(src.Data, func(addr uint64) {
		var info *pb.VideoBufferInfo
		info, infoErr = mediapb.ConvertBufferInfo(srcType, src.Width, src.Height, addr)
		if infoErr != nil {
			return
		}
		req := &pb.VideoConvertRequest{Buffer: info, DstType: dstType.Enum()}
		if flipY {
			req.FlipY = &flipY
		}
		resp, err = c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_VideoConvert{VideoConvert: req}})
	})
	if infoErr != nil {
		return infoErr
	}
	if err != nil {
		return fmt.Errorf("media: convert %v to %v: %w", src.Type, dst.Type, err)
	}
	r := resp.GetVideoConvert()
	owned := r.GetBuffer()
	if id := owned.GetHandle().GetId(); id != 0 {
		defer c.DropHandle(id)
	}
	if msg := r.GetError(); msg != "" || owned == nil {
		if msg == "" {
			msg = "no buffer in response"
		}
		return fmt.Errorf("media: convert %v to %v: %s", src.Type, dst.Type, msg)
	}
	info := owned.GetInfo()
	if info.GetType() != dstType || int(info.GetWidth()) != src.Width || int(info.GetHeight()) != src.Height {
		return fmt.Errorf("media: convert %v to %v: library returned %v %dx%d", src.Type, dst.Type,
			info.GetType(), info.GetWidth(), info.GetHeight())
	}
	data, err := mediapb.CopyVideo(info, dst.Data)
	if err != nil {
		return fmt.Errorf("media: convert %v to %v: %w", src.Type, dst.Type, err)
	}
	dst.Data, dst.Width, dst.Height = data, src.Width, src.Height
	dst.Timestamp, dst.Rotation = src.Timestamp, src.Rotation
	return nil
}
