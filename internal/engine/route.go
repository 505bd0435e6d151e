package engine

import (
	"fmt"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/livekit-ffi-go/sdk/internal/wire"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// EventKind names a kind of event the library sends about one of its objects, keyed by that
// object's handle: room events by the room, audio frames by the audio stream, and so on.
type EventKind protoreflect.FieldNumber

// The routed event kinds. Each is an FfiEvent field whose message starts with the handle of
// the object it concerns.
var (
	RoomEvents             = kindOf("room_event")               // RoomEvent.room_handle
	AudioStreamEvents      = kindOf("audio_stream_event")       // AudioStreamEvent.stream_handle
	VideoStreamEvents      = kindOf("video_stream_event")       // VideoStreamEvent.stream_handle
	TextStreamReaderEvents = kindOf("text_stream_reader_event") // TextStreamReaderEvent.reader_handle
	ByteStreamReaderEvents = kindOf("byte_stream_reader_event") // ByteStreamReaderEvent.reader_handle
	DataTrackStreamEvents  = kindOf("data_track_stream_event")  // DataTrackStreamEvent.stream_handle
	RPCInvocations         = kindOf("rpc_method_invocation")    // RpcMethodInvocationEvent.local_participant_handle
	CaptureSourceEvents    = kindOf("capture_source_event")     // CaptureSourceEvent.capture_handle
)

func kindOf(name protoreflect.Name) EventKind {
	fd := eventOneof.Fields().ByName(name)
	if fd == nil || !isRouted(fd) {
		panic("livekit ffi: " + string(name) + " is not a routed event in this schema")
	}
	return EventKind(fd.Number())
}

// isRouted reports whether an FfiEvent kind is keyed by a handle (its field 1 is *_handle).
func isRouted(fd protoreflect.FieldDescriptor) bool {
	if fd.Message() == nil {
		return false
	}
	h := fd.Message().Fields().ByNumber(1)
	return h != nil && h.Kind() == protoreflect.Uint64Kind && len(h.Name()) > 7 && h.Name()[len(h.Name())-7:] == "_handle"
}

func (k EventKind) String() string {
	if fd := eventOneof.Fields().ByNumber(protoreflect.FieldNumber(k)); fd != nil {
		return string(fd.Name())
	}
	return fmt.Sprintf("event kind %d", int(k))
}

type routeKey struct {
	kind   EventKind
	handle uint64
}

// Subscription routes one (kind, handle) pair's events to a function.
type Subscription struct {
	c    *Client
	key  routeKey
	fn   func(*pb.FfiEvent)
	raw  RawFunc // may be nil
	once sync.Once
}

// RawFunc takes an event in place: ev is the serialized FfiEvent in the library's memory,
// valid only during the call, which runs on the library's own thread before anything is
// copied. It reports whether it took the event; if not, the event goes the usual way (copied,
// decoded, handed to the subscription's fn on the dispatcher, after everything the library
// sent before it). It must be quick, must not block and must not call into the library
// except to drop a handle.
type RawFunc func(ev []byte) bool

// Subscribe sends every event of kind about the object with this handle to fn, in the order
// the library sent them. fn runs on the client's one dispatcher goroutine, so it must be quick
// and must never block: copy what it needs into a queue of its own and return (this is what
// keeps a slow consumer from delaying any other room or stream). A panic in fn is logged and
// contained. Events nobody subscribes to have their owned handles dropped.
//
// Subscribe before the request that makes the library start sending (ReadyForRoomEvent for a
// room, the read request for a stream reader); only one subscriber per pair is allowed.
func (c *Client) Subscribe(kind EventKind, handle uint64, fn func(*pb.FfiEvent)) (*Subscription, error) {
	return c.subscribe(&Subscription{c: c, key: routeKey{kind, handle}, fn: fn})
}

func (c *Client) subscribe(s *Subscription) (*Subscription, error) {
	kind, handle := s.key.kind, s.key.handle
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failed != nil {
		return nil, c.failed
	}
	if _, dup := c.routes[s.key]; dup {
		return nil, fmt.Errorf("livekit ffi: %v of handle %d already has a subscriber", kind, handle)
	}
	c.routes[s.key] = s
	if s.raw != nil {
		c.raws.Add(1)
	}
	return s, nil
}

// SubscribeRaw is Subscribe with a fast path for the hottest events (stream frames): raw sees
// each event of the pair first, in the library's memory and on its thread; what it does not
// take reaches fn on the dispatcher as with Subscribe. An event raw takes is handled before
// any event the library sends after it, so a stream's frames still precede its end.
func (c *Client) SubscribeRaw(kind EventKind, handle uint64, raw RawFunc, fn func(*pb.FfiEvent)) (*Subscription, error) {
	return c.subscribe(&Subscription{c: c, key: routeKey{kind, handle}, fn: fn, raw: raw})
}

// routeRaw offers an event, in the library's memory, to the raw function of its subscription,
// if it has one. It reports whether the event was taken.
func (c *Client) routeRaw(ev []byte) bool {
	if c.raws.Load() == 0 {
		return false
	}
	num, inner, ok := wire.Envelope(ev)
	if !ok || !routedKinds[num] {
		return false
	}
	handle, ok := wire.Varint(inner, 1) // the *_handle every routed kind starts with
	if !ok {
		return false
	}
	c.mu.Lock()
	s := c.routes[routeKey{EventKind(num), handle}]
	c.mu.Unlock()
	if s == nil || s.raw == nil {
		return false
	}
	return c.offerRaw(s, ev)
}

// offerRaw runs a raw function; a panic in it is logged and the event counts as taken (it may
// have been half handled, so it must not be handled again).
func (c *Client) offerRaw(s *Subscription, ev []byte) (taken bool) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("livekit ffi: "+s.key.kind.String()+" raw subscriber panicked", "panic", fmt.Sprint(r))
			taken = true
		}
	}()
	return s.raw(ev)
}

// routedKinds are the FfiEvent kinds keyed by a handle, as wire numbers.
var routedKinds = func() map[protowire.Number]bool {
	kinds := map[protowire.Number]bool{}
	fields := eventOneof.Fields()
	for i := range fields.Len() {
		if fd := fields.Get(i); isRouted(fd) {
			kinds[protowire.Number(fd.Number())] = true
		}
	}
	return kinds
}()

// Close stops delivery: fn is not called for events routed after Close returns (one already
// being delivered may still finish). Later events of the pair have their handles dropped.
// Close is idempotent and safe to call from fn itself.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.c.mu.Lock()
		if s.c.routes[s.key] == s {
			delete(s.c.routes, s.key)
			if s.raw != nil {
				s.c.raws.Add(-1)
			}
		}
		s.c.mu.Unlock()
	})
}

// dispatch is the one goroutine that decodes and routes events, in arrival order. It ends
// when Dispose closes the event queue and everything queued has been routed.
func (c *Client) dispatch() {
	defer c.wg.Done()
	c.events.Drain(nil, c.route)
	c.logs.Close()
}

func (c *Client) route(raw []byte) {
	if batch, ok := logBatchBytes(raw); ok {
		c.routeLogs(batch)
		return
	}
	var ev pb.FfiEvent
	if err := proto.Unmarshal(raw, &ev); err != nil {
		c.log.Error("livekit ffi: undecodable event", "err", err, "bytes", len(raw))
		return
	}
	if p, ok := ev.Message.(*pb.FfiEvent_Panic); ok {
		c.routePanic(p.Panic.GetMessage())
		return
	}
	fd := ev.ProtoReflect().WhichOneof(eventOneof)
	switch {
	case fd == nil:
		return
	case isCompletion(fd):
		c.routeCompletion(fd, &ev)
	case isRouted(fd):
		inner := ev.ProtoReflect().Get(fd).Message()
		key := routeKey{EventKind(fd.Number()), inner.Get(fd.Message().Fields().ByNumber(1)).Uint()}
		c.mu.Lock()
		s := c.routes[key]
		c.mu.Unlock()
		if s != nil {
			c.safely(key.kind.String()+" subscriber", func() { s.fn(&ev) })
			return
		}
		c.discard(&ev, nil)
	default:
		// track_event (empty in this schema) and anything a newer library adds.
		c.discard(&ev, nil)
	}
}
