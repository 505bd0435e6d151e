//go:build cgo

package engine

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// captureFlight is an audio source (48 kHz mono, queue of queueMs) and a Flight of captures
// into it, wired the way a hot path wires one.
type captureFlight struct {
	f              *Flight
	source         uint64
	id, ptr        uint64
	nch, rate, spc uint32
	samples        []int16
}

func newCaptureFlight(t testing.TB, c *Client, queueMs uint32) *captureFlight {
	t.Helper()
	resp, err := c.Request(&pb.NewAudioSourceRequest{Type: pb.AudioSourceType_AUDIO_SOURCE_NATIVE.Enum(),
		SampleRate: proto.Uint32(48000), NumChannels: proto.Uint32(1), QueueSizeMs: proto.Uint32(queueMs)})
	if err != nil {
		t.Fatal(err)
	}
	cf := &captureFlight{source: resp.GetNewAudioSource().GetSource().GetHandle().GetId(), nch: 1, rate: 48000, spc: 480,
		samples: make([]int16, 480)}
	req := &pb.CaptureAudioFrameRequest{SourceHandle: proto.Uint64(cf.source), RequestAsyncId: &cf.id,
		Buffer: &pb.AudioFrameBufferInfo{DataPtr: &cf.ptr, NumChannels: &cf.nch, SampleRate: &cf.rate, SamplesPerChannel: &cf.spc}}
	cf.f, err = c.NewFlight(req, &cf.id, cf.source)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cf.f.Close()
		c.DropHandle(cf.source)
	})
	return cf
}

// capture sends a frame of n samples and waits for the library to take it.
func (cf *captureFlight) capture(n int) (string, error) {
	if err := cf.send(n); err != nil {
		return "", err
	}
	return cf.f.Wait()
}

func (cf *captureFlight) send(n int) error {
	if cap(cf.samples) < n {
		cf.samples = make([]int16, n)
	}
	cf.spc = uint32(n)
	return SendPinned(cf.f, cf.samples[:n], &cf.ptr)
}

// In steady state a capture through a Flight allocates nothing anywhere in the process: not
// the send, not the C callback, not the wake-up.
func TestFlightCapturesWithoutAllocating(t *testing.T) {
	c := client(t)
	cf := newCaptureFlight(t, c, 10000)
	for range 20 { // warm up: the callback threads' first calls into Go
		if msg, err := cf.capture(480); err != nil || msg != "" {
			t.Fatalf("capture: %q, %v", msg, err)
		}
	}
	allocs := testing.AllocsPerRun(300, func() {
		if msg, err := cf.capture(480); err != nil || msg != "" {
			t.Fatalf("capture: %q, %v", msg, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.2f allocations per capture, want 0", allocs)
	}
	if n := c.Pending(); n != 0 {
		t.Fatalf("%d calls still registered", n)
	}
}

// The callback looks into completions of the error-only kinds and nothing else.
func TestFlightKinds(t *testing.T) {
	for _, name := range []string{"capture_audio_frame", "publish_data", "define_schema"} {
		if !errorOnlyKinds[protowireNumber(name)] {
			t.Errorf("%s is not an error-only completion kind", name)
		}
	}
	for _, name := range []string{"room_event", "connect", "get_schema", "audio_stream_event"} {
		if errorOnlyKinds[protowireNumber(name)] {
			t.Errorf("%s is taken for an error-only completion kind", name)
		}
	}
}

func protowireNumber(name string) protowire.Number {
	return protowire.Number(eventOneof.Fields().ByName(protoreflect.Name(name)).Number())
}

// Flights are only for requests whose completion carries nothing but an error, and only with
// the variable that really backs the request's async id.
func TestFlightRefusesWhatItCannotCarry(t *testing.T) {
	c := client(t)
	var id uint64
	if _, err := c.NewFlight(&pb.ConnectRequest{RequestAsyncId: &id}, &id, 0); err == nil || !strings.Contains(err.Error(), "more than an error") {
		t.Fatalf("connect flight: %v, want a refusal (its completion carries the room)", err)
	}
	var other uint64
	if _, err := c.NewFlight(&pb.PublishDataRequest{RequestAsyncId: &id}, &other, 0); err == nil || !strings.Contains(err.Error(), "not the variable") {
		t.Fatalf("flight with a stray id variable: %v, want a refusal", err)
	}
	if _, err := c.NewFlight(&pb.NewAudioSourceRequest{}, &id, 0); err == nil || !strings.Contains(err.Error(), "not an asynchronous") {
		t.Fatalf("flight of a synchronous request: %v, want a refusal", err)
	}
}

// A call parked in the library keeps the flight busy; FailOwner ends it; the completion that
// comes later is ignored and the flight works again.
func TestFlightFailOwnerEndsAParkedCall(t *testing.T) {
	c := client(t)
	cf := newCaptureFlight(t, c, 10)
	if _, err := cf.capture(480); err != nil {
		t.Fatal(err)
	}
	if err := cf.send(48000 / 2); err != nil { // 500 ms into a 10 ms queue: parked
		t.Fatal(err)
	}
	if err := cf.send(480); !errors.Is(err, ErrFlightBusy) {
		t.Fatalf("second send while one is pending: %v, want ErrFlightBusy", err)
	}
	boom := errors.New("owner gone")
	if n := c.FailOwner(cf.source, boom); n != 1 {
		t.Fatalf("FailOwner ended %d calls, want 1", n)
	}
	if _, err := cf.f.Wait(); !errors.Is(err, boom) {
		t.Fatalf("Wait after FailOwner: %v, want the owner's error", err)
	}
	// The parked capture completes in about 0.5 s and must not be taken for the next call's.
	time.Sleep(700 * time.Millisecond)
	for range 3 {
		if msg, err := cf.capture(480); err != nil || msg != "" {
			t.Fatalf("capture after a failed call: %q, %v", msg, err)
		}
	}
}

// The completion's error field reaches Wait; a completion for a call already ended is not
// delivered twice.
func TestFlightDeliversTheLibrarysError(t *testing.T) {
	c := client(t)
	cf := newCaptureFlight(t, c, 10)
	if _, err := cf.capture(480); err != nil {
		t.Fatal(err)
	}
	if err := cf.send(48000 / 2); err != nil { // parked for about 0.5 s
		t.Fatal(err)
	}
	c.mu.Lock()
	id := cf.f.pending
	c.mu.Unlock()
	ev, _ := proto.Marshal(&pb.FfiEvent{Message: &pb.FfiEvent_CaptureAudioFrame{CaptureAudioFrame: &pb.CaptureAudioFrameCallback{
		AsyncId: proto.Uint64(id), Error: proto.String("frame refused")}}})
	nativeEmit(ev, 2) // the second copy finds nothing pending
	msg, err := cf.f.Wait()
	if err != nil || msg != "frame refused" {
		t.Fatalf("Wait: %q, %v; want the completion's error", msg, err)
	}
	select {
	case r := <-cf.f.done:
		t.Fatalf("a second result was delivered: %+v", r)
	case <-time.After(700 * time.Millisecond): // the real completion comes and is ignored too
	}
	if _, err := cf.capture(480); err != nil {
		t.Fatal(err)
	}
}

// A request the library refuses fails Send with ErrRequestFailed and leaves nothing pending;
// a closed flight refuses to send.
func TestFlightSendFailures(t *testing.T) {
	c := client(t)
	var id, ptr uint64
	req := &pb.PublishDataRequest{LocalParticipantHandle: proto.Uint64(1 << 40), RequestAsyncId: &id,
		DataPtr: &ptr, DataLen: proto.Uint64(4), Reliable: proto.Bool(true)}
	f, err := c.NewFlight(req, &id, 0)
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte("ping")
	for range 2 {
		if err := SendPinned(f, payload, &ptr); !errors.Is(err, ErrRequestFailed) {
			t.Fatalf("publish on a handle that does not exist: %v, want ErrRequestFailed", err)
		}
	}
	f.Close()
	f.Close()
	if err := f.Send(); !errors.Is(err, ErrClosedFlight) {
		t.Fatalf("Send after Close: %v, want ErrClosedFlight", err)
	}
	c.mu.Lock()
	_, still := c.flights[f.index]
	c.mu.Unlock()
	if still {
		t.Fatal("a closed flight is still registered")
	}
}

// BenchmarkFlightCapture is one 10 ms capture through a Flight, send to completion: the
// library's own cost per capture plus the callback, with nothing allocated.
func BenchmarkFlightCapture(b *testing.B) {
	c := client(b)
	cf := newCaptureFlight(b, c, 10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cf.capture(480); err != nil {
			b.Fatal(err)
		}
	}
}
