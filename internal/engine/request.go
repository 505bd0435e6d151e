package engine

import (
	"context"

	"fmt"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/livekit-ffi-go/sdk/internal/wire"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

var (
	requestOneof  = (&pb.FfiRequest{}).ProtoReflect().Descriptor().Oneofs().ByName("message")
	responseOneof = (&pb.FfiResponse{}).ProtoReflect().Descriptor().Oneofs().ByName("message")
	eventOneof    = (&pb.FfiEvent{}).ProtoReflect().Descriptor().Oneofs().ByName("message")

	// requestField maps a request message type to its FfiRequest oneof field.
	requestField = map[protoreflect.FullName]protoreflect.FieldDescriptor{}
)

func init() {
	fields := requestOneof.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		requestField[fd.Message().FullName()] = fd
	}
}

// callbackNames lists the asynchronous requests whose completion event is not named like the
// request itself (everything else pairs by name: connect -> connect, publish_data -> ...).
var callbackNames = map[protoreflect.Name]protoreflect.Name{
	"text_stream_write":  "text_stream_writer_write",
	"text_stream_close":  "text_stream_writer_close",
	"byte_stream_write":  "byte_stream_writer_write",
	"byte_stream_close":  "byte_stream_writer_close",
	"text_read_all":      "text_stream_reader_read_all",
	"byte_read_all":      "byte_stream_reader_read_all",
	"byte_write_to_file": "byte_stream_reader_write_to_file",
	"send_chat_message":  "chat_message",
	"edit_chat_message":  "chat_message",
}

// callbackField returns the FfiEvent field that completes the request kind, or nil if the
// request is synchronous.
func callbackField(request protoreflect.Name) protoreflect.FieldDescriptor {
	name := request
	if n, ok := callbackNames[request]; ok {
		name = n
	}
	fd := eventOneof.Fields().ByName(name)
	if fd == nil || !isCompletion(fd) {
		return nil
	}
	return fd
}

// isCompletion reports whether an FfiEvent kind is a completion (its field 1 is async_id).
func isCompletion(fd protoreflect.FieldDescriptor) bool {
	if fd.Message() == nil {
		return false
	}
	id := fd.Message().Fields().ByNumber(1)
	return id != nil && id.Name() == "async_id"
}

// Wrap puts a request message (*pb.ConnectRequest, *pb.PublishDataRequest, ...) into the
// FfiRequest envelope that carries it.
func Wrap(req proto.Message) (*pb.FfiRequest, error) {
	if r, ok := req.(*pb.FfiRequest); ok {
		return r, nil
	}
	fd, ok := requestField[req.ProtoReflect().Descriptor().FullName()]
	if !ok {
		return nil, fmt.Errorf("livekit ffi: %T is not a request message", req)
	}
	env := &pb.FfiRequest{}
	env.ProtoReflect().Set(fd, protoreflect.ValueOfMessage(req.ProtoReflect()))
	return env, nil
}

// Inner returns the message inside an FfiRequest, FfiResponse or FfiEvent envelope, or nil.
func Inner(env proto.Message) proto.Message {
	m := env.ProtoReflect()
	var oneof protoreflect.OneofDescriptor
	switch env.(type) {
	case *pb.FfiRequest:
		oneof = requestOneof
	case *pb.FfiResponse:
		oneof = responseOneof
	case *pb.FfiEvent:
		oneof = eventOneof
	default:
		return nil
	}
	fd := m.WhichOneof(oneof)
	if fd == nil {
		return nil
	}
	return m.Get(fd).Message().Interface()
}

// RequestName is the protocol name of the request in env ("publish_data", ...), for errors.
func RequestName(req *pb.FfiRequest) string {
	m := req.ProtoReflect()
	if fd := m.WhichOneof(requestOneof); fd != nil {
		return string(fd.Name())
	}
	return "empty request"
}

// Request sends a synchronous request and returns the library's response. req is an
// FfiRequest or a request message that Wrap accepts.
func (c *Client) Request(req proto.Message) (*pb.FfiResponse, error) {
	env, err := Wrap(req)
	if err != nil {
		return nil, err
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	data, err := proto.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("livekit ffi: encode %s: %w", RequestName(env), err)
	}
	out, ok := nativeRequest(data)
	if !ok {
		// The library gives no reason; it logs one at error level.
		return nil, fmt.Errorf("%w: %s (the library logs the reason at error level)", ErrRequestFailed, RequestName(env))
	}
	var resp pb.FfiResponse
	if err := proto.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("livekit ffi: decode response to %s: %w", RequestName(env), err)
	}
	return &resp, nil
}

// marshalBuffers reuse request encodings: the library reads a request only during the call.
var marshalBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// send sends an asynchronous request; its immediate response only repeats our async id, so it
// is dropped unread.
func (c *Client) send(env *pb.FfiRequest) error {
	if err := c.Err(); err != nil {
		return err
	}
	bp := marshalBuffers.Get().(*[]byte)
	defer marshalBuffers.Put(bp)
	data, err := proto.MarshalOptions{}.MarshalAppend((*bp)[:0], env)
	if err != nil {
		return fmt.Errorf("livekit ffi: encode %s: %w", RequestName(env), err)
	}
	*bp = data
	if !nativeSend(data) {
		if !cgoEnabled {
			return ErrNoCgo
		}
		return fmt.Errorf("%w: %s (the library logs the reason at error level)", ErrRequestFailed, RequestName(env))
	}
	return nil
}

// CallOptions tune an asynchronous call. The zero value is a plain call.
type CallOptions struct {
	// Owner groups calls that belong to one object (a room's handle, say): FailOwner ends them
	// all at once when that object goes away, since the library may never complete them.
	Owner uint64

	// OnComplete, if set, runs on the dispatcher goroutine with the completion before anything
	// the library sent after it is routed, so state it records is in place before later
	// events. It runs whether or not anybody still waits. It must be quick and must not block.
	OnComplete func(*pb.FfiEvent)

	// Late takes a completion that arrives after its caller stopped waiting. It runs on its
	// own goroutine. Without one, every owned handle in such a completion is dropped.
	Late LateFunc
}

// LateFunc handles a completion that arrives after its caller stopped waiting.
type LateFunc func(ev *pb.FfiEvent)

type waitKey struct {
	kind protoreflect.FieldNumber // FfiEvent oneof field of the callback
	id   uint64
}

type waiter struct {
	done chan result
	opts CallOptions
	// abandoned: the caller stopped waiting. The entry stays until the completion comes (or
	// FailOwner ends its owner), so that the completion reaches Late or has its handles dropped.
	abandoned bool
}

type result struct {
	ev  *pb.FfiEvent
	raw []byte // a completion delivered straight from the callback, decoded by the waiter
	err error
}

// event returns the completion, decoding it on the waiting goroutine if it came raw.
func (r result) event() (*pb.FfiEvent, error) {
	if r.raw == nil || r.err != nil {
		return r.ev, r.err
	}
	var ev pb.FfiEvent
	if err := proto.Unmarshal(r.raw, &ev); err != nil {
		return nil, fmt.Errorf("livekit ffi: undecodable completion: %w", err)
	}
	return &ev, nil
}

// Call is an asynchronous request on its way: its id is registered before the request is
// sent, so a completion that races the request's return is never lost.
type Call struct {
	c   *Client
	key waitKey
	w   *waiter
}

// asyncRequest is an asynchronous request taken apart: its envelope, the message inside, that
// message's request_async_id field and the FfiEvent field of its completion.
type asyncRequest struct {
	env      *pb.FfiRequest
	name     protoreflect.Name
	inner    protoreflect.Message
	idField  protoreflect.FieldDescriptor
	callback protoreflect.FieldDescriptor
}

func asyncRequestOf(req proto.Message) (asyncRequest, error) {
	env, err := Wrap(req)
	if err != nil {
		return asyncRequest{}, err
	}
	m := env.ProtoReflect()
	fd := m.WhichOneof(requestOneof)
	if fd == nil {
		return asyncRequest{}, fmt.Errorf("livekit ffi: empty request")
	}
	inner := m.Get(fd).Message()
	a := asyncRequest{env: env, name: fd.Name(), inner: inner,
		idField: inner.Descriptor().Fields().ByName("request_async_id"), callback: callbackField(fd.Name())}
	if a.idField == nil || a.callback == nil {
		return asyncRequest{}, fmt.Errorf("livekit ffi: %s is not an asynchronous request", fd.Name())
	}
	return a, nil
}

// Start sends an asynchronous request: it picks a request_async_id, registers a waiter for the
// matching callback, then sends.
func (c *Client) Start(req proto.Message, o CallOptions) (*Call, error) {
	a, err := asyncRequestOf(req)
	if err != nil {
		return nil, err
	}
	id := c.nextID.Add(1)
	a.inner.Set(a.idField, protoreflect.ValueOfUint64(id))

	key := waitKey{kind: a.callback.Number(), id: id}
	w := &waiter{done: make(chan result, 1), opts: o}
	c.mu.Lock()
	if c.failed != nil {
		err := c.failed
		c.mu.Unlock()
		return nil, err
	}
	c.waiters[key] = w
	c.mu.Unlock()

	if err := c.send(a.env); err != nil {
		c.forget(key)
		return nil, err
	}
	return &Call{c: c, key: key, w: w}, nil
}

// ID is the request_async_id the call was sent with.
func (call *Call) ID() uint64 { return call.key.id }

// Wait waits for the completion. If ctx ends first, Wait returns ctx.Err() and the completion,
// when it comes, goes to the call's Late func (or has its owned handles dropped).
func (call *Call) Wait(ctx context.Context) (*pb.FfiEvent, error) {
	select {
	case r := <-call.w.done:
		return r.event()
	case <-ctx.Done():
	}
	if call.c.abandon(call.key) {
		return nil, ctx.Err()
	}
	// The dispatcher (or FailOwner) took the waiter just now: the result is a moment away.
	r := <-call.w.done
	return r.event()
}

// Do sends an asynchronous request and waits for its completion event. A ctx that has already
// ended sends nothing.
func (c *Client) Do(ctx context.Context, req proto.Message, o CallOptions) (*pb.FfiEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	call, err := c.Start(req, o)
	if err != nil {
		return nil, err
	}
	return call.Wait(ctx)
}

// forget removes a waiter; it reports whether it was still registered.
func (c *Client) forget(key waitKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.waiters[key]; ok {
		delete(c.waiters, key)
		return true
	}
	return false
}

// abandon marks a waiter as given up; it reports whether the completion had not come yet.
func (c *Client) abandon(key waitKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w, ok := c.waiters[key]; ok {
		w.abandoned = true
		return true
	}
	return false
}

// Pending reports how many asynchronous calls are registered: waited for, or abandoned and
// still expecting their completion.
func (c *Client) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// FailOwner ends every call started with CallOptions.Owner == owner: callers still waiting get
// err, abandoned calls are forgotten. A completion that still comes has its owned handles
// dropped. Owners call it when they go away, because the library does not complete every
// request that is in flight when, for example, its room disconnects.
func (c *Client) FailOwner(owner uint64, err error) int {
	if owner == 0 {
		return 0
	}
	return c.failWaiters(func(o uint64) bool { return o == owner }, err)
}

// all matches every owner.
func all(uint64) bool { return true }

// failWaiters removes the waiters (and ends the flights' pending calls) whose owner match
// selects, and fails those somebody waits for.
func (c *Client) failWaiters(match func(owner uint64) bool, err error) int {
	var failed []*waiter
	c.mu.Lock()
	for k, w := range c.waiters {
		if match(w.opts.Owner) {
			delete(c.waiters, k)
			failed = append(failed, w)
		}
	}
	flights := c.failFlightsLocked(match, err)
	c.mu.Unlock()
	for _, w := range failed {
		if !w.abandoned {
			w.done <- result{err: err} // buffered: never blocks
		}
	}
	return len(failed) + flights
}

// routeCompletion hands a completion to its waiter.
func (c *Client) routeCompletion(fd protoreflect.FieldDescriptor, ev *pb.FfiEvent) {
	inner := ev.ProtoReflect().Get(fd).Message()
	key := waitKey{kind: fd.Number(), id: inner.Get(fd.Message().Fields().ByNumber(1)).Uint()}
	c.mu.Lock()
	w, ok := c.waiters[key]
	if ok {
		delete(c.waiters, key)
	}
	c.mu.Unlock()
	if !ok {
		// Nobody waits: a failed owner's late completion. Whatever it owns goes back.
		c.discard(ev, nil)
		return
	}
	if w.opts.OnComplete != nil {
		c.safely("OnComplete", func() { w.opts.OnComplete(ev) })
	}
	if !w.abandoned {
		w.done <- result{ev: ev} // buffered: never blocks
		return
	}
	c.discard(ev, w.opts.Late)
}

// discard hands an unwanted event to late, or drops the handles it owns.
func (c *Client) discard(ev *pb.FfiEvent, late LateFunc) {
	if late != nil {
		go late(ev)
		return
	}
	for _, id := range OwnedHandles(ev) {
		nativeDropHandle(id)
	}
}

// safely runs a hook on the dispatcher; a panic in it is logged, never fatal to the pump.
func (c *Client) safely(what string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("livekit ffi: "+what+" panicked", "panic", fmt.Sprint(r))
		}
	}()
	fn()
}

// directKinds are the completions that may skip the event queue and go from the library's
// callback straight to their waiter: the hot, order-insensitive ones (a capture or a data
// packet completes nothing that a later room event depends on). Saves a goroutine wake-up
// per call; the waiter decodes the bytes.
var directKinds = map[protowire.Number]bool{
	protowire.Number(eventOneof.Fields().ByName("capture_audio_frame").Number()): true,
	protowire.Number(eventOneof.Fields().ByName("publish_data").Number()):        true,
}

// deliverDirect hands raw, a serialized FfiEvent, to its waiter if it is a direct kind whose
// waiter still waits and wants no hook run on the dispatcher. It runs on the library's
// thread: it only reads a few bytes, takes c.mu briefly and sends on a buffered channel.
func (c *Client) deliverDirect(raw []byte) bool {
	num, inner, ok := wire.Envelope(raw)
	if !ok || !directKinds[num] {
		return false
	}
	id, ok := wire.Varint(inner, 1) // async_id
	if !ok {
		return false
	}
	key := waitKey{kind: protoreflect.FieldNumber(num), id: id}
	c.mu.Lock()
	w, ok := c.waiters[key]
	if !ok || w.abandoned || w.opts.OnComplete != nil || w.opts.Late != nil {
		c.mu.Unlock()
		return false // the dispatcher handles it, in order
	}
	delete(c.waiters, key)
	c.mu.Unlock()
	w.done <- result{raw: raw} // buffered: never blocks
	return true
}
