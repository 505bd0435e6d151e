package livekit

import (
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

func rawFrameEvent(handle *uint64, info *pb.AudioFrameBufferInfo) *pb.FfiEvent {
	buf := &pb.OwnedAudioFrameBuffer{Info: info}
	if handle != nil {
		buf.Handle = &pb.FfiOwnedHandle{Id: handle}
	}
	return &pb.FfiEvent{Message: &pb.FfiEvent_AudioStreamEvent{AudioStreamEvent: &pb.AudioStreamEvent{
		StreamHandle: proto.Uint64(9),
		Message:      &pb.AudioStreamEvent_FrameReceived{FrameReceived: &pb.AudioFrameReceived{Frame: buf}}}}}
}

// rawParityCheck says whether parse agrees with a full decode of raw: of what decodes, it
// takes exactly the complete frames, with the same values. Of what does not decode (the
// library never sends such bytes) it may take a frame whose own fields are sound, since it
// does not validate what it skips; it must not panic.
func rawParityCheck(t *testing.T, raw []byte) {
	t.Helper()
	var b rawAudioFrame
	took := b.parse(raw)
	var ev pb.FfiEvent
	if err := proto.Unmarshal(raw, &ev); err != nil {
		if took && (b.ptr == 0 || b.channels == 0 || b.perChannel == 0) {
			t.Fatalf("parse took an unsound frame %+v from undecodable %x", b, raw)
		}
		return
	}
	fr := ev.GetAudioStreamEvent().GetFrameReceived().GetFrame()
	info := fr.GetInfo()
	complete := info != nil && info.DataPtr != nil && info.NumChannels != nil && info.SampleRate != nil && info.SamplesPerChannel != nil &&
		info.GetDataPtr() != 0 && info.GetNumChannels() > 0 && info.GetNumChannels() <= 64 &&
		info.GetSamplesPerChannel() > 0 && info.GetSamplesPerChannel() <= 1<<20
	if took != complete {
		t.Fatalf("parse took=%v for %v (complete=%v)", took, &ev, complete)
	}
	if !took {
		return
	}
	if b.handle != fr.GetHandle().GetId() || b.ptr != info.GetDataPtr() || b.channels != uint64(info.GetNumChannels()) ||
		b.rate != uint64(info.GetSampleRate()) || b.perChannel != uint64(info.GetSamplesPerChannel()) {
		t.Fatalf("parse read %+v from %v", b, &ev)
	}
}

func rawSeeds() [][]byte {
	full := &pb.AudioFrameBufferInfo{DataPtr: proto.Uint64(0x7f0012345678), NumChannels: proto.Uint32(2),
		SampleRate: proto.Uint32(48000), SamplesPerChannel: proto.Uint32(480)}
	noPtr := proto.Clone(full).(*pb.AudioFrameBufferInfo)
	noPtr.DataPtr = nil
	noRate := proto.Clone(full).(*pb.AudioFrameBufferInfo)
	noRate.SampleRate = nil
	events := []*pb.FfiEvent{
		rawFrameEvent(proto.Uint64(77), full),
		rawFrameEvent(nil, full),
		rawFrameEvent(proto.Uint64(77), noPtr),
		rawFrameEvent(proto.Uint64(77), noRate),
		rawFrameEvent(proto.Uint64(77), nil),
		{Message: &pb.FfiEvent_AudioStreamEvent{AudioStreamEvent: &pb.AudioStreamEvent{StreamHandle: proto.Uint64(9),
			Message: &pb.AudioStreamEvent_Eos{Eos: &pb.AudioStreamEOS{}}}}},
		{Message: &pb.FfiEvent_CaptureAudioFrame{CaptureAudioFrame: &pb.CaptureAudioFrameCallback{AsyncId: proto.Uint64(3)}}},
		{Message: &pb.FfiEvent_RoomEvent{RoomEvent: &pb.RoomEvent{RoomHandle: proto.Uint64(1)}}},
	}
	var out [][]byte
	for _, e := range events {
		b, _ := proto.Marshal(e)
		out = append(out, b)
	}
	return out
}

// The in-place reader of received audio frames takes exactly what a full decode calls a
// complete frame, reads the same values, and leaves everything else (end of stream, other
// events, incomplete frames) to the decoder.
func TestRawAudioParseMatchesDecode(t *testing.T) {
	for _, raw := range rawSeeds() {
		rawParityCheck(t, raw)
		for i := range raw { // every truncation
			rawParityCheck(t, raw[:i])
		}
	}
}

func FuzzRawAudioParse(f *testing.F) {
	for _, raw := range rawSeeds() {
		f.Add(raw)
	}
	f.Fuzz(rawParityCheck)
}
