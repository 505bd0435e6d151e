package mediapb

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// VideoBufferInfo describes a tightly packed w x h frame of type t (see Layout) whose buffer
// starts at base, for CaptureVideoFrameRequest and anything else that reads a buffer the way
// capture does. Packed types get data_ptr and stride; planar types get one component per plane
// with size exactly stride*rows, which the library requires (anything else aborts it). Strides
// count bytes, I010's included; VideoConvertRequest needs ConvertBufferInfo instead.
func VideoBufferInfo(t pb.VideoBufferType, w, h int, base uint64) (*pb.VideoBufferInfo, error) {
	planes, _, err := Layout(t, w, h)
	if err != nil {
		return nil, err
	}
	return bufferInfo(t, w, h, planes, base, 1)
}

// ConvertBufferInfo is VideoBufferInfo for VideoConvertRequest. The two paths of livekit-ffi
// 0.13.2 disagree about I010: capture builds a webrtc::I010Buffer from byte strides (and aborts
// on a copy_from_slice length mismatch given sample strides), while VideoConvert hands the
// strides to libyuv, which counts 16-bit samples (and asserts, aborting, given byte strides).
// Sizes count bytes in both. For every other type the two functions agree.
func ConvertBufferInfo(t pb.VideoBufferType, w, h int, base uint64) (*pb.VideoBufferInfo, error) {
	planes, _, err := Layout(t, w, h)
	if err != nil {
		return nil, err
	}
	unit := 1
	if t == pb.VideoBufferType_I010 {
		unit = 2
	}
	return bufferInfo(t, w, h, planes, base, unit)
}

// VideoBufferInfoPlanes is VideoBufferInfo (capture conventions) for a buffer whose planes have
// their own offsets and strides, for frames that come with padding. Offsets are relative to
// base. Packed types use planes[0].Stride. It checks that every stride holds a row and that the
// planes match the type.
func VideoBufferInfoPlanes(t pb.VideoBufferType, w, h int, planes []Plane, base uint64) (*pb.VideoBufferInfo, error) {
	return bufferInfo(t, w, h, planes, base, 1)
}

// bufferInfo builds the message; component strides are divided by strideUnit.
func bufferInfo(t pb.VideoBufferType, w, h int, planes []Plane, base uint64, strideUnit int) (*pb.VideoBufferInfo, error) {
	tight, _, err := Layout(t, w, h)
	if err != nil {
		return nil, err
	}
	if len(planes) != len(tight) {
		return nil, fmt.Errorf("%v has %d planes, got %d", t, len(tight), len(planes))
	}
	if base == 0 {
		return nil, fmt.Errorf("video buffer has no address")
	}
	for i, p := range planes {
		if p.Offset < 0 || p.Stride < tight[i].Stride || p.Rows != tight[i].Rows || p.Stride%strideUnit != 0 {
			return nil, fmt.Errorf("%v %dx%d plane %d: stride %d rows %d, need stride >= %d and %d rows",
				t, w, h, i, p.Stride, p.Rows, tight[i].Stride, tight[i].Rows)
		}
	}
	info := &pb.VideoBufferInfo{
		Type:    t.Enum(),
		Width:   proto.Uint32(uint32(w)),
		Height:  proto.Uint32(uint32(h)),
		DataPtr: proto.Uint64(base + uint64(planes[0].Offset)),
	}
	if !Planar(t) {
		info.Stride = proto.Uint32(uint32(planes[0].Stride))
		return info, nil
	}
	info.Components = make([]*pb.VideoBufferInfo_ComponentInfo, len(planes))
	for i, p := range planes {
		info.Components[i] = &pb.VideoBufferInfo_ComponentInfo{
			DataPtr: proto.Uint64(base + uint64(p.Offset)),
			Stride:  proto.Uint32(uint32(p.Stride / strideUnit)),
			Size:    proto.Uint32(uint32(p.Size())),
		}
	}
	return info, nil
}

// CopyVideo copies the frame a library-owned VideoBufferInfo describes into dst (reused when
// its capacity suffices) in the tight layout of Layout, row by row when the library's strides
// are wider. I010 strides are accepted in bytes or in samples. It refuses buffers whose reported sizes are too small for their type and size.
// The caller drops the buffer's handle afterwards.
func CopyVideo(info *pb.VideoBufferInfo, dst []byte) ([]byte, error) {
	t := info.GetType()
	w, h := int(info.GetWidth()), int(info.GetHeight())
	planes, total, err := Layout(t, w, h)
	if err != nil {
		return dst, fmt.Errorf("library video buffer: %w", err)
	}
	if cap(dst) >= total {
		dst = dst[:total]
	} else {
		dst = make([]byte, total)
	}
	if !Planar(t) {
		stride := int(info.GetStride())
		if stride == 0 {
			stride = planes[0].Stride
		}
		return dst, copyPlane(dst, planes[0], info.GetDataPtr(), stride, stride*h, t, 0)
	}
	comps := info.GetComponents()
	if len(comps) < len(planes) {
		return dst, fmt.Errorf("library video buffer %v has %d components, need %d", t, len(comps), len(planes))
	}
	for i, p := range planes {
		c := comps[i]
		stride := int(c.GetStride())
		if t == pb.VideoBufferType_I010 && (stride < p.Stride || int(c.GetSize()) < stride*p.Rows) {
			// A stride in samples (the VideoConvert convention, see ConvertBufferInfo): a byte
			// stride is at least 2w and its size at least stride*rows, which a sample stride
			// cannot satisfy.
			stride *= 2
		}
		if err := copyPlane(dst, p, c.GetDataPtr(), stride, int(c.GetSize()), t, i); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func copyPlane(dst []byte, p Plane, addr uint64, stride, size int, t pb.VideoBufferType, i int) error {
	if addr == 0 || stride < p.Stride || size < stride*(p.Rows-1)+p.Stride {
		return fmt.Errorf("library video buffer %v plane %d: address %#x stride %d size %d, need stride >= %d and %d rows",
			t, i, addr, stride, size, p.Stride, p.Rows)
	}
	src := nativeBytes(addr, stride*(p.Rows-1)+p.Stride)
	out := dst[p.Offset : p.Offset+p.Size()]
	if stride == p.Stride {
		copy(out, src)
		return nil
	}
	for r := 0; r < p.Rows; r++ {
		copy(out[r*p.Stride:(r+1)*p.Stride], src[r*stride:])
	}
	return nil
}

// AudioFrameBufferInfo describes interleaved 16-bit PCM at base. Every field is proto2-required.
func AudioFrameBufferInfo(base uint64, sampleRate, numChannels, samplesPerChannel int) *pb.AudioFrameBufferInfo {
	return &pb.AudioFrameBufferInfo{
		DataPtr:           proto.Uint64(base),
		NumChannels:       proto.Uint32(uint32(numChannels)),
		SampleRate:        proto.Uint32(uint32(sampleRate)),
		SamplesPerChannel: proto.Uint32(uint32(samplesPerChannel)),
	}
}

// CopyAudio copies the num_channels*samples_per_channel samples a library-owned
// AudioFrameBufferInfo points at into dst (reused when its capacity suffices). The caller drops
// the buffer's handle afterwards.
func CopyAudio(info *pb.AudioFrameBufferInfo, dst []int16) []int16 {
	n := int(info.GetNumChannels()) * int(info.GetSamplesPerChannel())
	return CopySamples(info.GetDataPtr(), n*2, dst)
}

// CopySamples copies size bytes of 16-bit samples at addr (as the sox resampler reports its
// output) into dst (reused when its capacity suffices). An odd trailing byte is ignored.
func CopySamples(addr uint64, size int, dst []int16) []int16 {
	n := size / 2
	if addr == 0 || n <= 0 {
		return dst[:0]
	}
	if cap(dst) >= n {
		dst = dst[:n]
	} else {
		dst = make([]int16, n)
	}
	copy(dst, nativeInt16s(addr, n))
	return dst
}
