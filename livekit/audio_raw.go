package livekit

import (
	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/mediapb"
	"github.com/livekit-ffi-go/sdk/internal/wire"
	"github.com/livekit-ffi-go/sdk/livekit/media"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// The wire numbers of the fields a received audio frame is read from, taken from the schema.
var (
	audioStreamEventField = wire.Number(&pb.FfiEvent{}, "audio_stream_event")
	frameReceivedField    = wire.Number(&pb.AudioStreamEvent{}, "frame_received")
	receivedFrameField    = wire.Number(&pb.AudioFrameReceived{}, "frame")
	bufferHandleField     = wire.Number(&pb.OwnedAudioFrameBuffer{}, "handle")
	bufferInfoField       = wire.Number(&pb.OwnedAudioFrameBuffer{}, "info")
	handleIDField         = wire.Number(&pb.FfiOwnedHandle{}, "id")
	dataPtrField          = wire.Number(&pb.AudioFrameBufferInfo{}, "data_ptr")
	numChannelsField      = wire.Number(&pb.AudioFrameBufferInfo{}, "num_channels")
	sampleRateField       = wire.Number(&pb.AudioFrameBufferInfo{}, "sample_rate")
	samplesPerChField     = wire.Number(&pb.AudioFrameBufferInfo{}, "samples_per_channel")
)

// rawAudio reads a received audio frame straight from the library's memory (on its thread,
// before the event is copied or decoded): the samples are copied out and the native buffer
// released at once, as decodeAudio does for a decoded event, without the protobuf decode and
// the hop through the dispatcher. Anything that is not a complete frame is left to
// decodeAudio.
func rawAudio(c *engine.Client) rawDecodeFunc[*media.AudioFrame] {
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
	stream, ok := wire.Bytes(ev, audioStreamEventField)
	if !ok {
		return false
	}
	received, ok := wire.Bytes(stream, frameReceivedField)
	if !ok {
		return false
	}
	frame, ok := wire.Bytes(received, receivedFrameField)
	if !ok {
		return false
	}
	if h, ok := wire.Bytes(frame, bufferHandleField); ok {
		b.handle, _ = wire.Varint(h, handleIDField)
	}
	info, ok := wire.Bytes(frame, bufferInfoField)
	if !ok {
		return false
	}
	var okPtr, okCh, okRate, okSpc bool
	b.ptr, okPtr = wire.Varint(info, dataPtrField)
	// The format fields are uint32: like the decoder, keep the low 32 bits of the varint.
	b.channels, okCh = wire.Varint(info, numChannelsField)
	b.rate, okRate = wire.Varint(info, sampleRateField)
	b.perChannel, okSpc = wire.Varint(info, samplesPerChField)
	b.channels, b.rate, b.perChannel = uint64(uint32(b.channels)), uint64(uint32(b.rate)), uint64(uint32(b.perChannel))
	return okPtr && okCh && okRate && okSpc && b.ptr != 0 && b.channels > 0 && b.perChannel > 0 &&
		b.channels <= 64 && b.perChannel <= 1<<20
}
