package mediapb

import pb "github.com/livekit-ffi-go/sdk/proto"

// bufferTypes maps livekit/media's VideoBufferType (the index) to the protocol's. media counts
// from 1 so that its zero value is invalid; the protocol's RGBA is 0, which made "unset" and
// "RGBA" indistinguishable in other SDKs. The order is media's constant order.
var bufferTypes = [...]pb.VideoBufferType{
	1: pb.VideoBufferType_I420, 2: pb.VideoBufferType_I420A, 3: pb.VideoBufferType_I422,
	4: pb.VideoBufferType_I444, 5: pb.VideoBufferType_I010, 6: pb.VideoBufferType_NV12,
	7: pb.VideoBufferType_RGBA, 8: pb.VideoBufferType_BGRA, 9: pb.VideoBufferType_ARGB,
	10: pb.VideoBufferType_ABGR, 11: pb.VideoBufferType_RGB24,
}

// BufferType returns the protocol value of media.VideoBufferType t; ok is false for an
// unknown t (0 included).
func BufferType(t int) (v pb.VideoBufferType, ok bool) {
	if t < 1 || t >= len(bufferTypes) {
		return 0, false
	}
	return bufferTypes[t], true
}

// MediaBufferType returns the media.VideoBufferType of protocol value v; ok is false for a
// value media does not know.
func MediaBufferType(v pb.VideoBufferType) (t int, ok bool) {
	for t := 1; t < len(bufferTypes); t++ {
		if bufferTypes[t] == v {
			return t, true
		}
	}
	return 0, false
}

// Rotation returns the protocol value of a rotation in degrees; ok is false for anything but
// 0, 90, 180 and 270.
func Rotation(degrees int) (pb.VideoRotation, bool) {
	switch degrees {
	case 0:
		return pb.VideoRotation_VIDEO_ROTATION_0, true
	case 90:
		return pb.VideoRotation_VIDEO_ROTATION_90, true
	case 180:
		return pb.VideoRotation_VIDEO_ROTATION_180, true
	case 270:
		return pb.VideoRotation_VIDEO_ROTATION_270, true
	}
	return 0, false
}

// Degrees returns a protocol rotation in degrees (0 for values this schema does not have).
func Degrees(r pb.VideoRotation) int {
	switch r {
	case pb.VideoRotation_VIDEO_ROTATION_90:
		return 90
	case pb.VideoRotation_VIDEO_ROTATION_180:
		return 180
	case pb.VideoRotation_VIDEO_ROTATION_270:
		return 270
	}
	return 0
}
