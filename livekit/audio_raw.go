package livekit

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/livekit-ffi-go/sdk/ffi"
	"github.com/livekit-ffi-go/sdk/internal/mediapb"
	"github.com/livekit-ffi-go/sdk/livekit/media"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// The wire numbers of the fields a received audio frame is read from, taken from the schema.
var (
	audioStreamEventField = wireNumber(&pb.FfiEvent{}, "audio_stream_event")
	frameReceivedField    = wireNumber(&pb.AudioStreamEvent{}, "frame_received")
	receivedFrameField    = wireNumber(&pb.AudioFrameReceived{}, "frame")
	bufferHandleField     = wireNumber(&pb.OwnedAudioFrameBuffer{}, "handle")
	bufferInfoField       = wireNumber(&pb.OwnedAudioFrameBuffer{}, "info")
	handleIDField         = wireNumber(&pb.FfiOwnedHandle{}, "id")
	dataPtrField          = wireNumber(&pb.AudioFrameBufferInfo{}, "data_ptr")
	numChannelsField      = wireNumber(&pb.AudioFrameBufferInfo{}, "num_channels")
	sampleRateField       = wireNumber(&pb.AudioFrameBufferInfo{}, "sample_rate")
	samplesPerChField     = wireNumber(&pb.AudioFrameBufferInfo{}, "samples_per_channel")
)

func wireNumber(m proto.Message, name protoreflect.Name) protowire.Number {
	fd := m.ProtoReflect().Descriptor().Fields().ByName(name)
	if fd == nil {
		panic("livekit: the schema has no field " + string(name))
	}
	return protowire.Number(fd.Number())
}

// rawAudio reads a received audio frame straight from the library's memory (on its thread,
// before the event is copied or decoded): the samples are copied out and the native buffer
// released at once, as decodeAudio does for a decoded event, without the protobuf decode and
// the hop through the dispatcher. Anything that is not a complete frame is left to
// decodeAudio.
func rawAudio(c *ffi.Client) rawDecodeFunc[*media.AudioFrame] {
	return func(ev []byte) (*media.AudioFrame, bool) {
		var b rawAudioFrame
		if !b.parse(ev) {
			return nil, false
		}
		f := &media.AudioFrame{
			Data:              mediapb.CopySamples(b.ptr, int(b.channels)*int(b.perChannel)*2, nil),
			SampleRate:        int(b.rate),
			NumChannels:       int(b.channels),
			SamplesPerChannel: int(b.perChannel),
		}
		if b.handle != 0 {
			c.DropHandle(b.handle)
		}
		return f, true
	}
}

// rawAudioFrame is what a serialized FfiEvent says about one received audio frame.
type rawAudioFrame struct {
	handle, ptr                uint64
	channels, rate, perChannel uint64
}

// parse reads an FfiEvent{audio_stream_event{frame_received{frame{handle, info}}}}. It reports
// false for any other event and for a frame that lacks its pointer or its format.
func (b *rawAudioFrame) parse(ev []byte) bool {
	stream, ok := field(ev, audioStreamEventField)
	if !ok {
		return false
	}
	received, ok := field(stream, frameReceivedField)
	if !ok {
		return false
	}
	frame, ok := field(received, receivedFrameField)
	if !ok {
		return false
	}
	if h, ok := field(frame, bufferHandleField); ok {
		b.handle, _ = varintField(h, handleIDField)
	}
	info, ok := field(frame, bufferInfoField)
	if !ok {
		return false
	}
	var okPtr, okCh, okRate, okSpc bool
	b.ptr, okPtr = varintField(info, dataPtrField)
	// The format fields are uint32: like the decoder, keep the low 32 bits of the varint.
	b.channels, okCh = varintField(info, numChannelsField)
	b.rate, okRate = varintField(info, sampleRateField)
	b.perChannel, okSpc = varintField(info, samplesPerChField)
	b.channels, b.rate, b.perChannel = uint64(uint32(b.channels)), uint64(uint32(b.rate)), uint64(uint32(b.perChannel))
	return okPtr && okCh && okRate && okSpc && b.ptr != 0 && b.channels > 0 && b.perChannel > 0 &&
		b.channels <= 64 && b.perChannel <= 1<<20
}

// field returns the last occurrence of a length-delimited field of a serialized message.
func field(msg []byte, num protowire.Number) ([]byte, bool) {
	b, _, ok := lastField(msg, num, protowire.BytesType)
	return b, ok
}

// varintField returns the last occurrence of a varint field of a serialized message.
func varintField(msg []byte, num protowire.Number) (uint64, bool) {
	_, v, ok := lastField(msg, num, protowire.VarintType)
	return v, ok
}

// lastField scans a serialized message for the last occurrence of field num with wire type
// typ: its bytes (BytesType) or its value (VarintType). ok is false if there is none or the
// message is malformed.
func lastField(msg []byte, num protowire.Number, typ protowire.Type) (b []byte, v uint64, ok bool) {
	for len(msg) > 0 {
		n, t, k := protowire.ConsumeTag(msg)
		if k < 0 {
			return nil, 0, false
		}
		msg = msg[k:]
		m := 0
		switch {
		case n == num && t == typ && typ == protowire.BytesType:
			b, m = protowire.ConsumeBytes(msg)
			ok = m >= 0
		case n == num && t == typ && typ == protowire.VarintType:
			v, m = protowire.ConsumeVarint(msg)
			ok = m >= 0
		default:
			m = protowire.ConsumeFieldValue(n, t, msg)
		}
		if m < 0 {
			return nil, 0, false
		}
		msg = msg[m:]
	}
	return b, v, ok
}
