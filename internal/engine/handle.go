package engine

import (
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"unsafe"

	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// Handle owns one FfiOwnedHandle: the library keeps the object alive until it is closed.
// Close it when done; a Handle that becomes unreachable without Close is dropped by a GC
// safety net, which logs a warning naming the handle's kind.
type Handle struct {
	c       *Client
	id      uint64
	kind    string
	closed  atomic.Bool
	cleanup runtime.Cleanup
}

// Own takes ownership of a handle id the library gave us. kind names it in leak reports.
func (c *Client) Own(id uint64, kind string) *Handle {
	h := &Handle{c: c, id: id, kind: kind}
	if id == 0 {
		h.closed.Store(true)
		return h
	}
	c.handles.Add(1)
	h.cleanup = runtime.AddCleanup(h, leakedHandle, leak{c: c, id: id, kind: kind})
	return h
}

type leak struct {
	c    *Client
	id   uint64
	kind string
}

func leakedHandle(l leak) {
	l.c.handles.Add(-1)
	l.c.leaked.Add(1)
	nativeDropHandle(l.id)
	l.c.log.Warn("livekit ffi: handle was not closed; dropped by the garbage collector", slog.String("kind", l.kind), slog.Uint64("id", l.id))
}

// ID is the library's handle id (0 once closed is still the old id; check Closed).
func (h *Handle) ID() uint64 { return h.id }

// Closed reports whether Close has been called.
func (h *Handle) Closed() bool { return h.closed.Load() }

// Close drops the handle. It is idempotent: only the first call talks to the library.
func (h *Handle) Close() error {
	if h == nil || !h.closed.CompareAndSwap(false, true) {
		return nil
	}
	h.cleanup.Stop()
	h.c.handles.Add(-1)
	if !nativeDropHandle(h.id) {
		return fmt.Errorf("livekit ffi: the library did not know %s handle %d", h.kind, h.id)
	}
	return nil
}

// DropHandle drops a raw handle id and reports whether the library knew it. Prefer Own/Close.
func (c *Client) DropHandle(id uint64) bool { return nativeDropHandle(id) }

// OutstandingHandles counts handles owned through Own and not yet closed: zero after a clean
// shutdown. Tests use it to prove nothing leaks.
func (c *Client) OutstandingHandles() int64 { return c.handles.Load() }

// LeakedHandles counts handles the GC safety net had to drop.
func (c *Client) LeakedHandles() int64 { return c.leaked.Load() }

var ownedHandleName = (&pb.FfiOwnedHandle{}).ProtoReflect().Descriptor().FullName()

// OwnedHandles lists the id of every FfiOwnedHandle inside msg, at any depth.
func OwnedHandles(msg interface{ ProtoReflect() protoreflect.Message }) []uint64 {
	var ids []uint64
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		if m.Descriptor().FullName() == ownedHandleName {
			if id := m.Get(m.Descriptor().Fields().ByNumber(1)).Uint(); id != 0 {
				ids = append(ids, id)
			}
			return
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					walk(l.Get(i).Message())
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					walk(mv.Message())
					return true
				})
			case fd.Message() != nil && !fd.IsMap():
				walk(v.Message())
			}
			return true
		})
	}
	walk(msg.ProtoReflect())
	return ids
}

// CopyBuffer copies the bytes an OwnedBuffer points at and drops its handle: the data lives in
// library memory only until then.
func (c *Client) CopyBuffer(b *pb.OwnedBuffer) []byte {
	data := nativeCopy(b.GetData().GetDataPtr(), b.GetData().GetDataLen())
	if id := b.GetHandle().GetId(); id != 0 {
		nativeDropHandle(id)
	}
	return data
}

// Pin keeps data at a fixed address while fn hands that address to the library, for requests
// that carry a pointer the library reads or writes during the call (PublishDataRequest.data_ptr,
// audio samples, video planes). An empty slice gives address 0. The address of a []int16 is
// 2-byte aligned, as the library's audio requests require.
func Pin[T any](data []T, fn func(addr uint64)) {
	if len(data) == 0 {
		fn(0)
		return
	}
	var p runtime.Pinner
	p.Pin(&data[0])
	defer p.Unpin()
	fn(uint64(uintptr(unsafe.Pointer(&data[0]))))
}
