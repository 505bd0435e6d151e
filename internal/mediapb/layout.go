// Package mediapb is the one place that turns media buffers into livekit-ffi protobuf messages
// and copies the library's media buffers back into Go memory. It works on primitive arguments
// (buffer type, size, address) so that both livekit/media and livekit can use it without an
// import cycle.
//
// The library aborts the whole process on some malformed buffers (a planar component whose size
// is not stride*rows, for one). Everything built here follows Layout exactly, and everything
// copied out is checked against the sizes the library reports.
package mediapb

import (
	"fmt"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// Plane is one plane of a tightly packed frame: it starts Offset bytes into the frame's buffer
// and holds Rows rows of Stride bytes. (On the wire I010 strides may count samples; see
// ConvertBufferInfo. Plane always counts bytes.)
type Plane struct {
	Offset, Stride, Rows int
}

// Size is the plane's length in bytes.
func (p Plane) Size() int { return p.Stride * p.Rows }

// maxDim bounds width and height so that sizes fit in the protocol's uint32 fields.
const maxDim = 1 << 14

// Known reports whether t is a buffer type of livekit-ffi 0.13.2.
func Known(t pb.VideoBufferType) bool {
	return t >= pb.VideoBufferType_RGBA && t <= pb.VideoBufferType_NV12
}

// Planar reports whether buffers of type t are described by components (one per plane) rather
// than one stride.
func Planar(t pb.VideoBufferType) bool {
	switch t {
	case pb.VideoBufferType_I420, pb.VideoBufferType_I420A, pb.VideoBufferType_I422,
		pb.VideoBufferType_I444, pb.VideoBufferType_I010, pb.VideoBufferType_NV12:
		return true
	}
	return false
}

// PackedBytesPerPixel is the pixel size of the packed types, 0 for planar ones.
func PackedBytesPerPixel(t pb.VideoBufferType) int {
	switch t {
	case pb.VideoBufferType_RGBA, pb.VideoBufferType_BGRA, pb.VideoBufferType_ARGB, pb.VideoBufferType_ABGR:
		return 4
	case pb.VideoBufferType_RGB24:
		return 3
	}
	return 0
}

// Layout returns the planes of a w x h frame of type t in the tight layout every SDK on this
// library uses (the Python SDK's video_frame.py): planes back to back, luma stride w (w*2 for
// I010), chroma stride (w+1)/2 (doubled for I010, 2*((w+1)/2) for NV12's interleaved UV),
// chroma rows (h+1)/2 for 4:2:0 types. It also returns the total size in bytes.
func Layout(t pb.VideoBufferType, w, h int) ([]Plane, int, error) {
	if !Known(t) {
		return nil, 0, fmt.Errorf("unknown video buffer type %d", t)
	}
	if w <= 0 || h <= 0 || w > maxDim || h > maxDim {
		return nil, 0, fmt.Errorf("video size %dx%d out of range (1..%d)", w, h, maxDim)
	}
	cw, ch := (w+1)/2, (h+1)/2
	var shape [][2]int // stride, rows
	switch t {
	case pb.VideoBufferType_I420:
		shape = [][2]int{{w, h}, {cw, ch}, {cw, ch}}
	case pb.VideoBufferType_I420A:
		shape = [][2]int{{w, h}, {cw, ch}, {cw, ch}, {w, h}}
	case pb.VideoBufferType_I422:
		shape = [][2]int{{w, h}, {cw, h}, {cw, h}}
	case pb.VideoBufferType_I444:
		shape = [][2]int{{w, h}, {w, h}, {w, h}}
	case pb.VideoBufferType_I010:
		shape = [][2]int{{2 * w, h}, {2 * cw, ch}, {2 * cw, ch}}
	case pb.VideoBufferType_NV12:
		shape = [][2]int{{w, h}, {2 * cw, ch}}
	default:
		shape = [][2]int{{w * PackedBytesPerPixel(t), h}}
	}
	planes := make([]Plane, len(shape))
	off := 0
	for i, s := range shape {
		planes[i] = Plane{Offset: off, Stride: s[0], Rows: s[1]}
		off += s[0] * s[1]
	}
	return planes, off, nil
}
