package wire

import (
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// What the readers find agrees with the decoder, for present, absent, repeated and malformed
// fields, and they allocate nothing.
func TestReadersAgreeWithTheDecoder(t *testing.T) {
	ev, _ := proto.Marshal(&pb.FfiEvent{Message: &pb.FfiEvent_CaptureAudioFrame{CaptureAudioFrame: &pb.CaptureAudioFrameCallback{
		AsyncId: proto.Uint64(1 << 50), Error: proto.String("refused")}}})
	num, inner, ok := Envelope(ev)
	if !ok || num != Number(&pb.FfiEvent{}, "capture_audio_frame") {
		t.Fatalf("Envelope: %d, %v", num, ok)
	}
	if id, ok := Varint(inner, Number(&pb.CaptureAudioFrameCallback{}, "async_id")); !ok || id != 1<<50 {
		t.Fatalf("async_id %d, %v", id, ok)
	}
	if msg, ok := Bytes(inner, Number(&pb.CaptureAudioFrameCallback{}, "error")); !ok || string(msg) != "refused" {
		t.Fatalf("error %q, %v", msg, ok)
	}
	if _, ok := Bytes(inner, 9); ok {
		t.Fatal("found a field that is not there")
	}
	if _, _, ok := Envelope(append(ev, 0x08, 0x01)); ok {
		t.Fatal("an envelope with a second field was taken")
	}
	if _, _, ok := Envelope(ev[:len(ev)-1]); ok {
		t.Fatal("a truncated envelope was taken")
	}
	if _, ok := Varint(inner[:len(inner)-1], 1); ok {
		t.Fatal("a truncated message was read")
	}
	// A repeated scalar: the decoder keeps the last.
	twice := protoAppendVarint(protoAppendVarint(nil, 1, 7), 1, 9)
	var cb pb.CaptureAudioFrameCallback
	if err := proto.Unmarshal(twice, &cb); err != nil {
		t.Fatal(err)
	}
	if v, _ := Varint(twice, 1); v != cb.GetAsyncId() {
		t.Fatalf("Varint read %d, the decoder %d", v, cb.GetAsyncId())
	}
	if a := testing.AllocsPerRun(100, func() {
		_, in, _ := Envelope(ev)
		Varint(in, 1)
		Bytes(in, 2)
	}); a != 0 {
		t.Fatalf("%.0f allocations", a)
	}
}

func protoAppendVarint(b []byte, num int, v uint64) []byte {
	return append(b, byte(num<<3), byte(v))
}
