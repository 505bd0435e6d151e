package media

import (
	"fmt"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/mediapb"
)

// VideoBufferType is a pixel format the library understands.
type VideoBufferType int

// The pixel formats. Planar formats keep their planes back to back in VideoFrame.Data (see
// FrameSize for the layout). The packed RGB formats name their bytes in memory order: RGBA is
// R, G, B, A at increasing addresses.
const (
	I420  VideoBufferType = iota + 1 // 8-bit 4:2:0: Y, U, V planes
	I420A                            // I420 plus a full-size alpha plane
	I422                             // 8-bit 4:2:2: chroma at full height, half width
	I444                             // 8-bit 4:4:4: three full planes
	I010                             // 10-bit 4:2:0 in 16-bit little-endian samples
	NV12                             // 8-bit 4:2:0: Y plane, then interleaved U,V
	RGBA                             // packed 4 bytes per pixel
	BGRA                             // packed 4 bytes per pixel
	ARGB                             // packed 4 bytes per pixel
	ABGR                             // packed 4 bytes per pixel
	RGB24                            // packed 3 bytes per pixel, R, G, B
)

// The numbering starts at 1 so that the zero VideoBufferType is invalid (the protocol's RGBA
// is 0); internal/mediapb maps it to the protocol.

// String returns the protocol's name for t ("I420", "RGBA", ...).
func (t VideoBufferType) String() string {
	if p, ok := mediapb.BufferType(int(t)); ok {
		return p.String()
	}
	return fmt.Sprintf("VideoBufferType(%d)", int(t))
}

// VideoRotation is the clockwise rotation a frame should be displayed with.
type VideoRotation int

// The rotations the protocol carries.
const (
	Rotation0   VideoRotation = 0
	Rotation90  VideoRotation = 90
	Rotation180 VideoRotation = 180
	Rotation270 VideoRotation = 270
)

// VideoFrame is one picture. Data holds every plane back to back in the tight layout of
// FrameSize; Planes and Strides slice it up.
type VideoFrame struct {
	Type          VideoBufferType
	Width, Height int
	Data          []byte
	Timestamp     time.Duration
	Rotation      VideoRotation
}

// FrameSize returns the length of Data for a w x h frame of type t. The layout is the one every
// SDK on this library uses: planes back to back with no padding; luma stride w (I010: 2w);
// chroma stride (w+1)/2 (I010: doubled; NV12's interleaved UV: 2*((w+1)/2)); 4:2:0 chroma has
// (h+1)/2 rows, I422 chroma h rows, I444 three full planes; I420A adds a w x h alpha plane;
// packed formats use stride 4w (RGB24: 3w). Width and height must be 1..16384.
func FrameSize(t VideoBufferType, w, h int) (int, error) {
	_, n, err := layout(t, w, h)
	return n, err
}

func layout(t VideoBufferType, w, h int) ([]mediapb.Plane, int, error) {
	p, ok := mediapb.BufferType(int(t))
	if !ok {
		return nil, 0, fmt.Errorf("media: unknown video buffer type %v", t)
	}
	planes, n, err := mediapb.Layout(p, w, h)
	if err != nil {
		return nil, 0, fmt.Errorf("media: %v: %w", t, err)
	}
	return planes, n, nil
}

// NewVideoFrame allocates a zeroed w x h frame of type t. It panics on an unknown type or a size
// out of range, as make does on a negative length; use FrameSize to check first.
func NewVideoFrame(t VideoBufferType, w, h int) *VideoFrame {
	n, err := FrameSize(t, w, h)
	if err != nil {
		panic(err)
	}
	return &VideoFrame{Type: t, Width: w, Height: h, Data: make([]byte, n)}
}

// Validate reports whether the frame can be handed to the library: a known type, a size in
// range and len(Data) exactly FrameSize. The library trusts the sizes it is given and aborts the
// process on planar sizes that do not match, so every use of a frame checks this first.
func (f *VideoFrame) Validate() error {
	if f == nil {
		return fmt.Errorf("media: nil video frame")
	}
	n, err := FrameSize(f.Type, f.Width, f.Height)
	if err != nil {
		return err
	}
	if len(f.Data) != n {
		return fmt.Errorf("media: %v %dx%d frame has %d bytes, want %d", f.Type, f.Width, f.Height, len(f.Data), n)
	}
	if _, ok := mediapb.Rotation(int(f.Rotation)); !ok {
		return fmt.Errorf("media: rotation %d is not 0, 90, 180 or 270", f.Rotation)
	}
	return nil
}

// Planes returns the planes of Data (Y, U, V[, A]; Y, UV for NV12; one plane for packed formats)
// as sub-slices that share its memory. It returns nil for an invalid frame.
func (f *VideoFrame) Planes() [][]byte {
	if f.Validate() != nil {
		return nil
	}
	planes, _, _ := layout(f.Type, f.Width, f.Height)
	out := make([][]byte, len(planes))
	for i, p := range planes {
		out[i] = f.Data[p.Offset : p.Offset+p.Size() : p.Offset+p.Size()]
	}
	return out
}

// Strides returns the row length in bytes of each plane, in the order of Planes. It returns nil
// for an unknown type or a size out of range.
func (f *VideoFrame) Strides() []int {
	planes, _, err := layout(f.Type, f.Width, f.Height)
	if err != nil {
		return nil
	}
	out := make([]int, len(planes))
	for i, p := range planes {
		out[i] = p.Stride
	}
	return out
}
