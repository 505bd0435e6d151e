package engine

import (
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// These tests read the schema only: they run with and without cgo.

func TestEveryAsyncRequestHasACallback(t *testing.T) {
	fields := requestOneof.Fields()
	n := 0
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Message().Fields().ByName("request_async_id") == nil {
			continue
		}
		n++
		if callbackField(fd.Name()) == nil {
			t.Errorf("request %s is asynchronous but no FfiEvent completes it", fd.Name())
		}
	}
	if n < 30 {
		t.Fatalf("only %d asynchronous requests found; the schema walk is broken", n)
	}
	for req, cb := range callbackNames {
		if requestOneof.Fields().ByName(req) == nil || eventOneof.Fields().ByName(cb) == nil {
			t.Errorf("callbackNames maps %s -> %s, but the schema lacks one of them", req, cb)
		}
	}
}

func TestEveryEventKindIsHandled(t *testing.T) {
	fields := eventOneof.Fields()
	routed := map[EventKind]bool{}
	for _, k := range []EventKind{RoomEvents, AudioStreamEvents, VideoStreamEvents, TextStreamReaderEvents,
		ByteStreamReaderEvents, DataTrackStreamEvents, RPCInvocations, CaptureSourceEvents} {
		routed[k] = true
	}
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case isCompletion(fd):
		case isRouted(fd):
			if !routed[EventKind(fd.Number())] {
				t.Errorf("event %s is keyed by a handle but has no exported EventKind", fd.Name())
			}
		case fd.Name() == "logs" || fd.Name() == "panic" || fd.Name() == "track_event":
		default:
			t.Errorf("event %s is neither a completion, a routed event, logs nor a panic", fd.Name())
		}
	}
}

func TestWrapAndInner(t *testing.T) {
	req := &pb.PublishDataRequest{LocalParticipantHandle: proto.Uint64(3)}
	env, err := Wrap(req)
	if err != nil {
		t.Fatal(err)
	}
	if env.GetPublishData() != req {
		t.Fatalf("Wrap put the request in %s", RequestName(env))
	}
	if Inner(env) != req {
		t.Fatal("Inner did not return the wrapped request")
	}
	if same, _ := Wrap(env); same != env {
		t.Fatal("Wrap of an envelope must return it unchanged")
	}
	if _, err := Wrap(&pb.RoomInfo{}); err == nil {
		t.Fatal("Wrap accepted a message that is not a request")
	}
	ev := &pb.FfiEvent{Message: &pb.FfiEvent_SendText{SendText: &pb.StreamSendTextCallback{AsyncId: proto.Uint64(9)}}}
	if cb, ok := Inner(ev).(*pb.StreamSendTextCallback); !ok || cb.GetAsyncId() != 9 {
		t.Fatalf("Inner(event) = %v", Inner(ev))
	}
}
