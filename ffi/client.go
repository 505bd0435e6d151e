package ffi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/livekit-ffi-go/sdk/internal/queue"
	"github.com/livekit-ffi-go/sdk/internal/redact"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// Options configure the process-wide client. The zero value finds the library on its own and
// forwards only the library's errors to slog.Default().
type Options struct {
	// LibraryPath names liblivekit_ffi explicitly. Empty: LIVEKIT_LIB_PATH, then beside the
	// executable, then where scripts/build-ffi.sh installs it, then the system search.
	LibraryPath string

	// Logger receives the library's log records. Nil: slog.Default().
	Logger *slog.Logger

	// LogLevel is the lowest library level forwarded to Logger. The zero value means
	// slog.LevelError unless LIVEKIT_FFI_LOG (error, warn, info, debug, trace) says otherwise.
	// The library logs hundreds of debug records per connect; they are dropped before they cost
	// anything downstream.
	LogLevel slog.Level

	// OnPanic, if set, is called once (on its own goroutine) when the library panics. The
	// client is unusable afterwards; the library's advice is to end the process.
	OnPanic func(*PanicError)

	// SkipVersionCheck loads a library even if it reports a version other than PinnedVersion.
	SkipVersionCheck bool
}

// LevelTrace is the slog level used for the library's TRACE records.
const LevelTrace = slog.LevelDebug - 4

var (
	globalMu sync.Mutex
	global   *Client
	// active is the client that the C callback feeds; nil while none is initialized.
	active atomic.Pointer[Client]
)

// Load loads and initializes the native library once per process and returns the client.
// Later calls return the same client (their options are ignored). After Dispose, Load
// initializes the library again.
func Load(opts Options) (*Client, error) {
	globalMu.Lock()
	defer globalMu.Unlock()
	if global != nil {
		return global, nil
	}
	c, err := newClient(opts)
	if err != nil {
		return nil, err
	}
	global = c
	return c, nil
}

// Default is Load with the zero Options.
func Default() (*Client, error) { return Load(Options{}) }

// Client speaks the livekit-ffi protocol. There is one per process (the library has global
// state). Its methods are safe for concurrent use.
type Client struct {
	path    string
	version string
	log     *slog.Logger
	level   slog.Level
	onPanic func(*PanicError)

	events *queue.Queue[[]byte]    // raw events from the C callback, in arrival order
	logs   *queue.Queue[[]logItem] // filtered log records, for the logging goroutine
	wg     sync.WaitGroup

	nextID atomic.Uint64

	mu       sync.Mutex
	waiters  map[waitKey]*waiter
	rooms    map[uint64]*Subscription
	failed   error // sticky: a *PanicError or ErrDisposed
	panicked *PanicError

	versionSeen chan struct{} // closed when the log announces the version (old libraries)

	handles atomic.Int64 // outstanding owned handles
	leaked  atomic.Int64 // handles dropped by the GC safety net
}

type waitKey struct {
	kind protoreflect.FieldNumber // FfiEvent oneof field of the callback
	id   uint64
}

type waiter struct {
	done chan result
	late func(*pb.FfiEvent)
	// abandoned: the caller stopped waiting. The entry stays until the completion comes, so
	// that the completion reaches late (or has its handles dropped) instead of being lost.
	abandoned bool
}

type result struct {
	ev  *pb.FfiEvent
	err error
}

type logItem struct {
	level slog.Level
	rec   *pb.LogRecord
}

func newClient(opts Options) (*Client, error) {
	path, err := openLibrary(opts.LibraryPath, opts.SkipVersionCheck)
	if err != nil {
		return nil, err
	}
	c := &Client{
		path:    path,
		version: nativeVersion(),
		log:     opts.Logger,
		level:   opts.LogLevel,
		onPanic: opts.OnPanic,
		events:  queue.New[[]byte](),
		logs:    queue.New[[]logItem](),
		waiters: map[waitKey]*waiter{},
		rooms:   map[uint64]*Subscription{},
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.level == 0 {
		c.level = levelFromEnv(os.Getenv("LIVEKIT_FFI_LOG"))
	}
	// Client-chosen async ids live far above the library's own id counter (handles and
	// server-chosen async ids share it), so the two can never meet.
	c.nextID.Store(1 << 48)

	c.wg.Add(2)
	go c.dispatch()
	go func() { defer c.wg.Done(); c.logs.Drain(nil, c.emitLogs) }()
	if c.version == "" {
		c.awaitLoggedVersion()
	}
	active.Store(c)
	nativeInitialize(true, SDKName, SDKVersion)
	return c, nil
}

// awaitLoggedVersion is for libraries without a version call: the version arrives as their
// first log record. A mismatch is only logged here, since the library is already running.
func (c *Client) awaitLoggedVersion() {
	c.mu.Lock()
	c.versionSeen = make(chan struct{})
	seen := c.versionSeen
	c.mu.Unlock()
	select {
	case <-seen:
		if v := c.LibraryVersion(); v != PinnedVersion() {
			c.log.Warn("livekit ffi: library version differs from the pinned one", "library", v, "pinned", PinnedVersion())
		}
	case <-time.After(2 * time.Second):
		c.log.Warn("livekit ffi: library did not report its version", "pinned", PinnedVersion())
	}
}

func levelFromEnv(s string) slog.Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "trace":
		return LevelTrace
	case "debug":
		return slog.LevelDebug
	case "info":
		return slog.LevelInfo
	case "warn", "warning":
		return slog.LevelWarn
	}
	return slog.LevelError
}

// LibraryPath is the file the library was loaded from.
func (c *Client) LibraryPath() string { return c.path }

// LibraryVersion is the livekit-ffi version the library reports ("" if it cannot say).
func (c *Client) LibraryVersion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// Err returns the reason the client is unusable: a *PanicError after a library panic,
// ErrDisposed after Dispose, or nil.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

// onEvent is called by the C callback on a library thread. It must only copy and enqueue.
func onEvent(b []byte) {
	if c := active.Load(); c != nil {
		c.events.Push(b)
	}
}

// reportCallbackPanic is the last resort if onEvent itself panics; it must not panic again.
func reportCallbackPanic(r any) {
	fmt.Fprintf(os.Stderr, "livekit ffi: internal error in event callback: %v\n", r)
}

// Request sends a synchronous request and returns the library's response.
func (c *Client) Request(req *pb.FfiRequest) (*pb.FfiResponse, error) {
	if err := c.Err(); err != nil {
		return nil, err
	}
	data, err := proto.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("livekit ffi: encode request: %w", err)
	}
	out, ok := nativeRequest(data)
	if !ok {
		if !cgoEnabled {
			return nil, ErrNoCgo
		}
		// A panic inside the request is reported synchronously before it returns; the
		// dispatcher may not have seen it yet, so say both.
		return nil, fmt.Errorf("%w: %s (the library logs the reason at error level)", ErrRequestFailed, requestName(req))
	}
	var resp pb.FfiResponse
	if err := proto.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("livekit ffi: decode response to %s: %w", requestName(req), err)
	}
	return &resp, nil
}

func requestName(req *pb.FfiRequest) string {
	m := req.ProtoReflect()
	if fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("message")); fd != nil {
		return string(fd.Name())
	}
	return "empty request"
}

// Call is an asynchronous request on its way: its id is registered before the request is
// sent, so a completion that races the request's return is never lost.
type Call struct {
	c   *Client
	key waitKey
	w   *waiter
	// Response is the library's immediate answer (it carries the async id).
	Response *pb.FfiResponse
}

// LateFunc handles a completion that arrives after its caller stopped waiting. It runs on its
// own goroutine. Without one, every owned handle in the completion is dropped.
type LateFunc func(ev *pb.FfiEvent)

// Start sends an asynchronous request: it picks a request_async_id, registers a waiter for the
// matching callback, then sends. late (may be nil) takes a completion nobody waits for anymore.
func (c *Client) Start(req *pb.FfiRequest, late LateFunc) (*Call, error) {
	m := req.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("message"))
	if fd == nil {
		return nil, fmt.Errorf("livekit ffi: empty request")
	}
	inner := m.Get(fd).Message()
	idField := inner.Descriptor().Fields().ByName("request_async_id")
	cbField := eventOneofField(fd.Name())
	if idField == nil || cbField == nil {
		return nil, fmt.Errorf("livekit ffi: %s is not an asynchronous request", fd.Name())
	}
	id := c.nextID.Add(1)
	inner.Set(idField, protoreflect.ValueOfUint64(id))

	key := waitKey{kind: cbField.Number(), id: id}
	w := &waiter{done: make(chan result, 1), late: late}
	c.mu.Lock()
	if c.failed != nil {
		err := c.failed
		c.mu.Unlock()
		return nil, err
	}
	c.waiters[key] = w
	c.mu.Unlock()

	resp, err := c.Request(req)
	if err != nil {
		c.forget(key)
		return nil, err
	}
	return &Call{c: c, key: key, w: w, Response: resp}, nil
}

// ID is the request_async_id the call was sent with.
func (call *Call) ID() uint64 { return call.key.id }

// Wait waits for the completion. If ctx ends first, Wait returns ctx.Err() and the completion,
// when it comes, goes to the call's LateFunc (or has its owned handles dropped).
func (call *Call) Wait(ctx context.Context) (*pb.FfiEvent, error) {
	select {
	case r := <-call.w.done:
		return r.ev, r.err
	case <-ctx.Done():
	}
	if call.c.abandon(call.key) {
		return nil, ctx.Err()
	}
	// The dispatcher took the waiter just now: the result is a moment away. It completed, so
	// hand it over rather than drop it.
	r := <-call.w.done
	return r.ev, r.err
}

// Do sends an asynchronous request and waits for its completion event.
func (c *Client) Do(ctx context.Context, req *pb.FfiRequest, late LateFunc) (*pb.FfiEvent, error) {
	call, err := c.Start(req, late)
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

// Pending reports how many asynchronous calls someone is still waiting for.
func (c *Client) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, w := range c.waiters {
		if !w.abandoned {
			n++
		}
	}
	return n
}

var eventOneof = (&pb.FfiEvent{}).ProtoReflect().Descriptor().Oneofs().ByName("message")

// eventOneofField maps a request kind to its callback event: they share the oneof field name
// (connect -> connect, publish_data -> publish_data, ...).
func eventOneofField(name protoreflect.Name) protoreflect.FieldDescriptor {
	fd := eventOneof.Fields().ByName(name)
	if fd == nil || fd.Message() == nil {
		return nil
	}
	if id := fd.Message().Fields().ByNumber(1); id == nil || id.Name() != "async_id" {
		return nil
	}
	return fd
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
	switch msg := ev.Message.(type) {
	case *pb.FfiEvent_Panic:
		c.routePanic(msg.Panic.GetMessage())
	case *pb.FfiEvent_RoomEvent:
		c.routeRoomEvent(msg.RoomEvent)
	default:
		c.routeCompletion(&ev)
	}
}

func (c *Client) routeCompletion(ev *pb.FfiEvent) {
	m := ev.ProtoReflect()
	fd := m.WhichOneof(eventOneof)
	if fd == nil {
		return
	}
	var key waitKey
	if cb := eventOneofField(fd.Name()); cb != nil {
		inner := m.Get(fd).Message()
		key = waitKey{kind: fd.Number(), id: inner.Get(cb.Message().Fields().ByNumber(1)).Uint()}
	}
	c.mu.Lock()
	w, ok := c.waiters[key]
	if ok {
		delete(c.waiters, key)
	}
	c.mu.Unlock()
	if ok && !w.abandoned {
		w.done <- result{ev: ev} // buffered: never blocks
		return
	}
	if ok {
		c.discard(ev, w.late)
		return
	}
	// Nobody waits: a cancelled call's completion, or an event kind this SDK does not consume.
	// Either way, whatever it owns must go back to the library.
	c.discard(ev, nil)
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

func (c *Client) routePanic(msg string) {
	perr := &PanicError{Message: msg}
	c.mu.Lock()
	first := c.panicked == nil
	if first {
		c.panicked = perr
		if c.failed == nil {
			c.failed = perr
		}
	}
	c.mu.Unlock()
	c.failWaiters(perr)
	if !first {
		return
	}
	c.log.Error("livekit ffi: native library panicked; the client is unusable", "message", msg)
	if c.onPanic != nil {
		go c.onPanic(perr)
	}
}

// Field numbers of the log messages, read directly off the wire (see routeLogs).
var (
	ffiEventLogsField    = fieldNumber(&pb.FfiEvent{}, "logs")
	logBatchRecordsField = fieldNumber(&pb.LogBatch{}, "records")
	logRecordLevelField  = fieldNumber(&pb.LogRecord{}, "level")
)

func fieldNumber(m proto.Message, name protoreflect.Name) protowire.Number {
	return m.ProtoReflect().Descriptor().Fields().ByName(name).Number()
}

// logBatchBytes returns the serialized LogBatch if raw is an FfiEvent carrying logs.
func logBatchBytes(raw []byte) ([]byte, bool) {
	num, typ, n := protowire.ConsumeTag(raw)
	if n < 0 || num != ffiEventLogsField || typ != protowire.BytesType {
		return nil, false
	}
	batch, m := protowire.ConsumeBytes(raw[n:])
	if m < 0 || n+m != len(raw) {
		return nil, false
	}
	return batch, true
}

// routeLogs filters a LogBatch by level before decoding anything: the library sends every
// record down to TRACE, hundreds per connect, and almost all of them are dropped here.
// failWaiters ends every pending call with err. Abandoned calls are forgotten too: a
// completion that still comes has its owned handles dropped.
func (c *Client) failWaiters(err error) {
	c.mu.Lock()
	waiters := c.waiters
	c.waiters = map[waitKey]*waiter{}
	c.mu.Unlock()
	for _, w := range waiters {
		if !w.abandoned {
			w.done <- result{err: err}
		}
	}
}

func (c *Client) routeLogs(batch []byte) {
	c.mu.Lock()
	wantVersion := c.version == ""
	c.mu.Unlock()
	var keep []logItem
	for len(batch) > 0 {
		num, typ, n := protowire.ConsumeTag(batch)
		if n < 0 {
			return
		}
		batch = batch[n:]
		if num != logBatchRecordsField || typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, batch); n < 0 {
				return
			}
			batch = batch[n:]
			continue
		}
		rec, n := protowire.ConsumeBytes(batch)
		if n < 0 {
			return
		}
		batch = batch[n:]
		level := recordLevel(rec)
		lvl := slogLevel(level)
		// Libraries without a version call announce it in a DEBUG record.
		if lvl < c.level && !(wantVersion && level == pb.LogLevel_LOG_DEBUG) {
			continue
		}
		var r pb.LogRecord
		if proto.Unmarshal(rec, &r) != nil {
			continue
		}
		if v, ok := strings.CutPrefix(r.GetMessage(), "initializing ffi server v"); ok {
			c.mu.Lock()
			if c.version == "" {
				c.version = v
				if c.versionSeen != nil {
					close(c.versionSeen)
				}
			}
			c.mu.Unlock()
			wantVersion = false
		}
		if lvl >= c.level {
			keep = append(keep, logItem{level: lvl, rec: &r})
		}
	}
	if len(keep) > 0 {
		c.logs.Push(keep)
	}
}

// recordLevel reads LogRecord.level without decoding the rest (TRACE if absent).
func recordLevel(rec []byte) pb.LogLevel {
	for len(rec) > 0 {
		num, typ, n := protowire.ConsumeTag(rec)
		if n < 0 {
			break
		}
		rec = rec[n:]
		if num == logRecordLevelField && typ == protowire.VarintType {
			v, m := protowire.ConsumeVarint(rec)
			if m < 0 {
				break
			}
			return pb.LogLevel(v)
		}
		if n = protowire.ConsumeFieldValue(num, typ, rec); n < 0 {
			break
		}
		rec = rec[n:]
	}
	return pb.LogLevel_LOG_TRACE
}

func slogLevel(l pb.LogLevel) slog.Level {
	switch l {
	case pb.LogLevel_LOG_ERROR:
		return slog.LevelError
	case pb.LogLevel_LOG_WARN:
		return slog.LevelWarn
	case pb.LogLevel_LOG_INFO:
		return slog.LevelInfo
	case pb.LogLevel_LOG_DEBUG:
		return slog.LevelDebug
	default:
		return LevelTrace
	}
}

// emitLogs runs on the logging goroutine, so a slow slog.Handler delays only logs.
func (c *Client) emitLogs(items []logItem) {
	ctx := context.Background()
	for _, it := range items {
		r := it.rec
		attrs := []slog.Attr{slog.String("target", r.GetTarget())}
		if r.File != nil {
			attrs = append(attrs, slog.String("file", r.GetFile()), slog.Uint64("line", uint64(r.GetLine())))
		}
		c.log.LogAttrs(ctx, it.level, redactJWTs(r.GetMessage()), attrs...)
	}
}

// redactJWTs keeps tokens out of log records: only a short prefix and the length remain.
func redactJWTs(s string) string {
	return redact.JWTs(s, func(tok string) string {
		return fmt.Sprintf("%s…(token, %d bytes)", tok[:8], len(tok))
	})
}

// Subscription receives one room's events, in order, on its own goroutine.
type Subscription struct {
	c      *Client
	handle uint64
	q      *queue.Queue[*pb.RoomEvent]
	done   chan struct{}
	once   sync.Once
}

// SubscribeRoom delivers every event of the room with this handle to fn, in order, on a
// goroutine of its own: a slow fn delays only this room. Subscribe before sending
// ReadyForRoomEventRequest; the library holds the room's events until then.
func (c *Client) SubscribeRoom(roomHandle uint64, fn func(*pb.RoomEvent)) (*Subscription, error) {
	s := &Subscription{c: c, handle: roomHandle, q: queue.New[*pb.RoomEvent](), done: make(chan struct{})}
	c.mu.Lock()
	if c.failed != nil {
		err := c.failed
		c.mu.Unlock()
		return nil, err
	}
	if _, dup := c.rooms[roomHandle]; dup {
		c.mu.Unlock()
		return nil, fmt.Errorf("livekit ffi: room %d already has a subscriber", roomHandle)
	}
	c.rooms[roomHandle] = s
	c.mu.Unlock()
	go func() {
		defer close(s.done)
		s.q.Drain(nil, fn)
	}()
	return s, nil
}

// Close stops delivery. Events already queued are still delivered; events arriving later are
// discarded (their owned handles dropped). Close waits for the delivery goroutine, so do not
// call it from fn itself; use CloseAsync there.
func (s *Subscription) Close() {
	s.CloseAsync()
	<-s.done
}

// CloseAsync is Close without waiting; safe to call from the subscriber's own fn.
func (s *Subscription) CloseAsync() {
	s.once.Do(func() {
		s.c.mu.Lock()
		if s.c.rooms[s.handle] == s {
			delete(s.c.rooms, s.handle)
		}
		s.c.mu.Unlock()
		s.q.Close()
	})
}

func (c *Client) routeRoomEvent(ev *pb.RoomEvent) {
	c.mu.Lock()
	s := c.rooms[ev.GetRoomHandle()]
	c.mu.Unlock()
	if s != nil && s.q.Push(ev) {
		return
	}
	for _, id := range OwnedHandles(ev) {
		nativeDropHandle(id)
	}
}

// Dispose closes every room the library still has, stops delivering events and releases the
// client's goroutines. Pending calls fail with ErrDisposed. Never call it from an event
// handler that the client itself runs: it waits for them. Load initializes anew afterwards.
func (c *Client) Dispose() error {
	globalMu.Lock()
	defer globalMu.Unlock()
	c.mu.Lock()
	if errors.Is(c.failed, ErrDisposed) {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()

	// The library closes its rooms and still reports on them while it does, so the pump
	// keeps running until it returns. After it returns no more callbacks come.
	nativeDispose()

	c.mu.Lock()
	c.failed = ErrDisposed
	rooms := c.rooms
	c.rooms = map[uint64]*Subscription{}
	c.mu.Unlock()
	c.failWaiters(ErrDisposed)
	if active.Load() == c {
		active.Store(nil)
	}
	c.events.Close()
	c.wg.Wait() // the dispatcher drains what the library sent while disposing
	for _, s := range rooms {
		s.CloseAsync()
	}
	for _, s := range rooms {
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			c.log.Warn("livekit ffi: a room subscriber is still busy after Dispose", "room_handle", s.handle)
		}
	}
	if global == c {
		global = nil
	}
	return nil
}
