package engine

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/livekit-ffi-go/sdk/internal/wire"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// A Flight sends one asynchronous request again and again, one at a time, without allocating:
// the hot paths (an audio capture every 10 ms) use it where Start/Wait would cost a waiter, a
// channel, a request encoding and a decoded completion per call.
//
// The request is built once by the caller, whose own variables back its fields (the
// request_async_id included), so sending again only rewrites those variables. The completion
// must carry nothing but async_id and an error string (NewFlight checks), so the C callback
// can read it in place, without copying the event or decoding it.
//
// One goroutine at a time may use a Flight: Send, then Wait, then Send again.
type Flight struct {
	c     *Client
	index uint64 // identifies the flight inside its async ids
	kind  protowire.Number
	env   *pb.FfiRequest
	id    *uint64 // the request's request_async_id variable
	owner uint64
	name  string
	buf   []byte
	pin   runtime.Pinner
	done  chan flightResult // one slot: at most one call is pending

	// Guarded by c.mu.
	seq     uint64
	pending uint64 // the async id in flight, 0 if none
	closed  bool
}

type flightResult struct {
	msg string // the completion's error field
	err error  // the call ended without a completion (owner failed, Dispose, a library panic)
}

// Flight async ids: bit 62 set, the flight's index in bits 32..61, a sequence number below.
// Start's ids count up from 1<<48 and the library's own ids from 1, so none can collide.
const (
	flightBit   = 1 << 62
	flightShift = 32
	flightSeqs  = 1 << flightShift
)

// ErrFlightBusy is returned by Flight.Send while the previous call has not completed.
var ErrFlightBusy = errors.New("livekit ffi: flight: the previous call has not completed")

// NewFlight prepares req (a request message, or its FfiRequest envelope) for repeated sends.
// id must be the variable that req's request_async_id field points at. owner works as
// CallOptions.Owner: FailOwner(owner) ends a pending call.
func (c *Client) NewFlight(req proto.Message, id *uint64, owner uint64) (*Flight, error) {
	a, err := asyncRequestOf(req)
	if err != nil {
		return nil, err
	}
	if !errorOnlyCompletion(a.callback.Message()) {
		return nil, fmt.Errorf("livekit ffi: the completion of %s carries more than an error; use Start", a.name)
	}
	// The caller's variable must be the field: write through it and read the message back.
	if id == nil {
		return nil, fmt.Errorf("livekit ffi: NewFlight: no request_async_id variable")
	}
	*id = flightBit
	if !a.inner.Has(a.idField) || a.inner.Get(a.idField).Uint() != flightBit {
		return nil, fmt.Errorf("livekit ffi: NewFlight: id is not the variable behind %s.request_async_id", a.name)
	}
	*id = 0

	f := &Flight{c: c, kind: protowire.Number(a.callback.Number()), env: a.env, id: id, owner: owner,
		name: string(a.name), buf: make([]byte, 0, 128), done: make(chan flightResult, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failed != nil {
		return nil, c.failed
	}
	c.flightN++
	f.index = c.flightN
	if f.index >= 1<<(62-flightShift) {
		return nil, fmt.Errorf("livekit ffi: too many flights")
	}
	c.flights[f.index] = f
	return f, nil
}

// errorOnlyCompletion reports whether a completion message has exactly async_id (1) and
// error (2, a string).
func errorOnlyCompletion(md protoreflect.MessageDescriptor) bool {
	fields := md.Fields()
	if fields.Len() != 2 {
		return false
	}
	id, msg := fields.ByNumber(1), fields.ByNumber(2)
	return id != nil && id.Name() == "async_id" && id.Kind() == protoreflect.Uint64Kind &&
		msg != nil && msg.Name() == "error" && msg.Kind() == protoreflect.StringKind
}

// Send sends the request as its variables stand now, with a fresh async id.
func (f *Flight) Send() error { return f.send(nil, nil) }

// SendPinned is Send for a request that carries the address of data: data[0] is pinned for
// the length of the library call and its address written to *addr (the variable behind the
// request's pointer field) first. The library must be done with the memory when the request
// returns (it copies audio samples, for example, before it does).
func SendPinned[T any](f *Flight, data []T, addr *uint64) error {
	if len(data) == 0 {
		*addr = 0
		return f.send(nil, nil)
	}
	return f.send(unsafe.Pointer(&data[0]), addr)
}

func (f *Flight) send(ptr unsafe.Pointer, addr *uint64) error {
	c := f.c
	c.mu.Lock()
	switch {
	case f.closed:
		c.mu.Unlock()
		return ErrClosedFlight
	case c.failed != nil:
		c.mu.Unlock()
		return c.failed
	case f.pending != 0:
		c.mu.Unlock()
		return ErrFlightBusy
	}
	f.seq = (f.seq + 1) % flightSeqs
	id := flightBit | f.index<<flightShift | f.seq
	f.pending = id
	c.mu.Unlock()

	*f.id = id
	if ptr != nil {
		f.pin.Pin(ptr)
		*addr = uint64(uintptr(ptr))
	}
	data, err := proto.MarshalOptions{}.MarshalAppend(f.buf[:0], f.env)
	ok := err == nil && nativeSend(data)
	if ptr != nil {
		f.pin.Unpin()
	}
	if err == nil {
		f.buf = data
	}
	if ok {
		return nil
	}
	// Not sent: no completion will come. Unless a failure already ended the call.
	c.mu.Lock()
	ended := f.pending != id
	f.pending = 0
	c.mu.Unlock()
	if ended {
		<-f.done
	}
	switch {
	case err != nil:
		return fmt.Errorf("livekit ffi: encode %s: %w", f.name, err)
	case !cgoEnabled:
		return ErrNoCgo
	}
	return fmt.Errorf("%w: %s (the library logs the reason at error level)", ErrRequestFailed, f.name)
}

// Wait waits for the completion of the call Send made and returns its error field ("" for
// success). err is set when the call ended without one: FailOwner, Close, Dispose or a library
// panic.
func (f *Flight) Wait() (msg string, err error) {
	r := <-f.done
	return r.msg, r.err
}

// Close ends the flight: a pending call fails with ErrClosedFlight and a completion that still
// comes is ignored. It is idempotent.
func (f *Flight) Close() {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	f.closed = true
	delete(f.c.flights, f.index)
	f.failLocked(ErrClosedFlight)
}

// ErrClosedFlight ends a call pending on a Flight that is closed.
var ErrClosedFlight = errors.New("livekit ffi: flight closed")

// failLocked ends the pending call, if any, with err. c.mu is held.
func (f *Flight) failLocked(err error) bool {
	if f.pending == 0 {
		return false
	}
	f.pending = 0
	f.done <- flightResult{err: err} // one slot, free while pending
	return true
}

// failFlights ends the pending calls of the flights match selects. c.mu is held.
func (c *Client) failFlightsLocked(match func(owner uint64) bool, err error) int {
	n := 0
	for _, f := range c.flights {
		if match(f.owner) && f.failLocked(err) {
			n++
		}
	}
	return n
}

// errorOnlyKinds are the FfiEvent kinds a Flight's completion can have, so that the callback
// looks no further into any other event.
var errorOnlyKinds = func() map[protowire.Number]bool {
	kinds := map[protowire.Number]bool{}
	fields := eventOneof.Fields()
	for i := range fields.Len() {
		if fd := fields.Get(i); fd.Message() != nil && errorOnlyCompletion(fd.Message()) {
			kinds[protowire.Number(fd.Number())] = true
		}
	}
	return kinds
}()

// completeFlight takes a completion for a Flight straight from the library's memory: it runs
// on the library's thread before anything is copied, reads the event in place and copies only
// an error message. It reports whether ev was a flight's completion (pending or not).
func (c *Client) completeFlight(ev []byte) bool {
	num, inner, ok := wire.Envelope(ev)
	if !ok || !errorOnlyKinds[num] {
		return false
	}
	id, ok := wire.Varint(inner, 1) // async_id
	if !ok {
		return false
	}
	msg, _ := wire.Bytes(inner, 2) // error
	if id&flightBit == 0 || id>>62 != 1 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.flights[(id&^flightBit)>>flightShift]
	if !ok {
		// The flight closed while its call was out: nothing to deliver, and an error-only
		// completion owns no handles.
		return true
	}
	if f.kind != num {
		return false
	}
	if f.pending != id {
		return true // the call was already ended by a failure
	}
	f.pending = 0
	r := flightResult{}
	if len(msg) > 0 {
		r.msg = string(msg)
	}
	f.done <- r // one slot, free while pending
	return true
}
