package livekit

import (
	"context"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// owned is a handle the room releases: *engine.Handle, or a stand-in in tests.
type owned interface {
	ID() uint64
	Close() error
}

// native is what the event translation needs from the library. It is small so that the
// translation can be tested without the library (see dispatch_test.go).
type native interface {
	own(id uint64, kind string) owned
	drop(id uint64)
	copyBuffer(b *pb.OwnedBuffer) []byte
}

// lib adapts the process's engine.Client to native.
type lib struct{ c *engine.Client }

func (l lib) own(id uint64, kind string) owned    { return l.c.Own(id, kind) }
func (l lib) drop(id uint64)                      { l.c.DropHandle(id) }
func (l lib) copyBuffer(b *pb.OwnedBuffer) []byte { return l.c.CopyBuffer(b) }
func dropAll(n native, m interface{ ProtoReflect() protoreflect.Message }) {
	for _, id := range engine.OwnedHandles(m) {
		n.drop(id)
	}
}

// call sends an asynchronous request on behalf of the room and waits for its completion,
// typed as C. It is the one place that turns the library's answers into errors: a context
// that has ended sends nothing; a room that closes ends the wait with ErrClosed; a callback
// whose error field is set becomes a *RequestError with the library's message.
func call[C proto.Message](ctx context.Context, r *room, op string, req proto.Message, o engine.CallOptions) (C, error) {
	var zero C
	if ctx == nil {
		return zero, invalid(op, "nil context")
	}
	if err := ctx.Err(); err != nil {
		return zero, &RequestError{Op: op, Err: err}
	}
	if r.isClosed() {
		return zero, &RequestError{Op: op, Err: ErrClosed}
	}
	o.Owner = r.handle.ID()
	ev, err := r.c.Do(ctx, req, o)
	if err != nil {
		return zero, &RequestError{Op: op, Err: err}
	}
	cb, ok := engine.Inner(ev).(C)
	if !ok {
		return zero, &RequestError{Op: op, Message: "unexpected completion " + string(ev.ProtoReflect().Descriptor().Name())}
	}
	if msg := errorField(cb); msg != "" {
		if r.isClosed() {
			// "engine is closed" and the like: the room went away under the call.
			return cb, &RequestError{Op: op, Message: msg, Err: ErrClosed}
		}
		return cb, &RequestError{Op: op, Message: msg}
	}
	return cb, nil
}

// request sends a synchronous request and returns its response, typed as R.
func request[R proto.Message](r *room, op string, req proto.Message) (R, error) {
	var zero R
	if r.isClosed() {
		return zero, &RequestError{Op: op, Err: ErrClosed}
	}
	resp, err := r.c.Request(req)
	if err != nil {
		return zero, &RequestError{Op: op, Err: err}
	}
	out, ok := engine.Inner(resp).(R)
	if !ok {
		return zero, &RequestError{Op: op, Message: "unexpected response"}
	}
	if msg := errorField(out); msg != "" {
		return out, &RequestError{Op: op, Message: msg}
	}
	return out, nil
}

// errorField returns a message's "error" field if it is a set string.
func errorField(m proto.Message) string {
	pm := m.ProtoReflect()
	fd := pm.Descriptor().Fields().ByName("error")
	if fd == nil || fd.Kind() != protoreflect.StringKind || !pm.Has(fd) {
		return ""
	}
	return pm.Get(fd).String()
}
