package livekit

import (
	"context"
	"io"
	"iter"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/queue"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// RegisterTextStreamHandler makes h receive the text streams of topic, each on its own
// goroutine, with the sender's identity. The reader is valid until h returns: read it there
// (one read mode per stream); a stream h does not read is released when h returns. Streams
// of topics without a handler are released at once. A topic has one handler; a second
// registration is an error. Streams sent as soon as the participant joins can arrive before
// a handler registered after Connect: use WithTextStreamHandler for those.
func (r *Room) RegisterTextStreamHandler(topic string, h func(r *TextStreamReader, from string)) error {
	if h == nil {
		return invalid("register text stream handler", "nil handler")
	}
	return registerHandler(r.room, "register text stream handler", topic, h, func(s *streamState) *map[string]func(*TextStreamReader, string) { return &s.text })
}

// WithTextStreamHandler registers a text stream handler (see Room.RegisterTextStreamHandler)
// before the room's first event, so that no stream sent right after the join is missed.
func WithTextStreamHandler(topic string, h func(r *TextStreamReader, from string)) ConnectOption {
	return func(c *config) {
		if c.textHandlers == nil {
			c.textHandlers = map[string]func(*TextStreamReader, string){}
		}
		c.textHandlers[topic] = h
	}
}

// WithByteStreamHandler is WithTextStreamHandler for byte streams (and files).
func WithByteStreamHandler(topic string, h func(r *ByteStreamReader, from string)) ConnectOption {
	return func(c *config) {
		if c.byteHandlers == nil {
			c.byteHandlers = map[string]func(*ByteStreamReader, string){}
		}
		c.byteHandlers[topic] = h
	}
}

// preset installs the handlers given as connect options.
func (s *streamState) preset(c *config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for topic, h := range c.textHandlers {
		if h != nil {
			if s.text == nil {
				s.text = map[string]func(*TextStreamReader, string){}
			}
			s.text[topic] = h
		}
	}
	for topic, h := range c.byteHandlers {
		if h != nil {
			if s.bytes == nil {
				s.bytes = map[string]func(*ByteStreamReader, string){}
			}
			s.bytes[topic] = h
		}
	}
}

// UnregisterTextStreamHandler removes topic's handler.
func (r *Room) UnregisterTextStreamHandler(topic string) {
	s := &r.local.streams
	s.mu.Lock()
	delete(s.text, topic)
	s.mu.Unlock()
}

// RegisterByteStreamHandler is RegisterTextStreamHandler for byte streams (and files).
func (r *Room) RegisterByteStreamHandler(topic string, h func(r *ByteStreamReader, from string)) error {
	if h == nil {
		return invalid("register byte stream handler", "nil handler")
	}
	return registerHandler(r.room, "register byte stream handler", topic, h, func(s *streamState) *map[string]func(*ByteStreamReader, string) { return &s.bytes })
}

// UnregisterByteStreamHandler removes topic's handler.
func (r *Room) UnregisterByteStreamHandler(topic string) {
	s := &r.local.streams
	s.mu.Lock()
	delete(s.bytes, topic)
	s.mu.Unlock()
}

func registerHandler[H any](r *room, op, topic string, h H, m func(*streamState) *map[string]H) error {
	s := &r.local.streams
	s.mu.Lock()
	defer s.mu.Unlock()
	mp := m(s)
	if _, dup := (*mp)[topic]; dup {
		return invalid(op, "topic %q already has a handler", quote(topic))
	}
	if *mp == nil {
		*mp = map[string]H{}
	}
	(*mp)[topic] = h
	return nil
}

// streamReader is what text and byte readers share: the reader handle, consumed by the one
// read mode used, and the incremental mode's queue of chunks.
type streamReader struct {
	r    *room
	id   uint64
	ctx  context.Context // ends when the room closes
	used atomic.Bool
	from string

	mu   sync.Mutex
	q    *queue.Queue[[]byte]
	sub  *engine.Subscription
	err  error // why the incremental read ended (io.EOF when whole)
	stop func() bool
}

// take claims the handle for one read mode.
func (s *streamReader) take(op string) error {
	if s.used.Swap(true) {
		return &RequestError{Op: op, Err: ErrReaderUsed}
	}
	s.r.local.streams.unclaimed.Add(-1)
	if err := s.ctx.Err(); err != nil {
		s.r.lib.drop(s.id)
		return &RequestError{Op: op, Err: ErrClosed}
	}
	return nil
}

// release runs when the handler returns: an unread stream's handle goes back to the library
// and an incremental read stops.
func (s *streamReader) release() {
	if !s.used.Swap(true) {
		s.r.local.streams.unclaimed.Add(-1)
		s.r.lib.drop(s.id)
		return
	}
	s.end(ErrStreamClosed)
}

func (s *streamReader) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.err = err
	if s.sub != nil {
		s.sub.Close()
	}
	if s.stop != nil {
		s.stop()
	}
	if s.q != nil {
		s.q.Close()
	}
}

// startIncremental subscribes to the reader's events, then asks the library to send them.
// decode turns an event into a chunk, or reports the end (eos, with the sender's error).
func (s *streamReader) startIncremental(op string, kind engine.EventKind, req proto.Message, decode func(*pb.FfiEvent) (chunk []byte, eos bool, err error)) error {
	if err := s.take(op); err != nil {
		return err
	}
	s.mu.Lock()
	s.q = queue.New[[]byte]()
	s.mu.Unlock()
	sub, err := s.r.c.Subscribe(kind, s.id, func(ev *pb.FfiEvent) {
		chunk, eos, err := decode(ev)
		if eos {
			if err == nil {
				err = io.EOF
			} else {
				err = s.failed(op, err)
			}
			s.end(err)
			return
		}
		s.q.Push(chunk)
	})
	if err != nil {
		s.r.lib.drop(s.id)
		s.end(&RequestError{Op: op, Err: err})
		return err
	}
	s.mu.Lock()
	s.sub = sub
	// The library sends no end of stream when the room closes: make one.
	s.stop = context.AfterFunc(s.ctx, func() { s.end(&RequestError{Op: op, Err: ErrClosed}) })
	s.mu.Unlock()
	if _, err := s.r.c.Request(req); err != nil {
		s.end(&RequestError{Op: op, Err: err})
		return err
	}
	return nil
}

// next returns the next chunk, or the reason the stream ended (io.EOF: whole).
func (s *streamReader) next(ctx context.Context) ([]byte, error) {
	b, err := s.q.Next(ctx)
	if err == queue.ErrDone {
		s.mu.Lock()
		err = s.err
		s.mu.Unlock()
	}
	return b, err
}

// failed wraps the library's reason a stream did not arrive whole; a room that is closing
// makes it ErrClosed (the library ends some readers itself when it disconnects).
func (s *streamReader) failed(op string, err error) error {
	if err == nil {
		return nil
	}
	if s.ctx.Err() != nil || s.r.isClosed() {
		return &RequestError{Op: op, Message: err.Error(), Err: ErrClosed}
	}
	return &RequestError{Op: op, Err: err}
}

func eosError(e *pb.StreamError) error {
	if e == nil {
		return nil
	}
	return &StreamError{Message: e.GetDescription()}
}

// TextStreamReader reads one incoming text stream: whole with ReadAll, or as it arrives with
// Chunks. It is valid until the handler it was given to returns.
type TextStreamReader struct {
	streamReader
	info TextStreamInfo
}

// Info describes the stream.
func (r *TextStreamReader) Info() TextStreamInfo { return r.info }

// ReadAll waits for the whole stream.
func (r *TextStreamReader) ReadAll(ctx context.Context) (string, error) {
	const op = "read text stream"
	if err := r.take(op); err != nil {
		return "", err
	}
	cb, err := call[*pb.TextStreamReaderReadAllCallback](ctx, r.r, op, &pb.TextStreamReaderReadAllRequest{ReaderHandle: proto.Uint64(r.id)}, engine.CallOptions{})
	if err != nil {
		return "", err
	}
	if err := r.failed(op, eosError(cb.GetError())); err != nil {
		return "", err
	}
	return cb.GetContent(), nil
}

// Chunks yields the stream's text as it arrives, then ends; a stream that does not arrive
// whole (the sender failed, the room closed) yields a last non-nil error.
func (r *TextStreamReader) Chunks(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		const op = "read text stream"
		err := r.startIncremental(op, engine.TextStreamReaderEvents, &pb.TextStreamReaderReadIncrementalRequest{ReaderHandle: proto.Uint64(r.id)},
			func(ev *pb.FfiEvent) ([]byte, bool, error) {
				e := ev.GetTextStreamReaderEvent()
				if eos := e.GetEos(); eos != nil {
					return nil, true, eosError(eos.GetError())
				}
				return []byte(e.GetChunkReceived().GetContent()), false, nil
			})
		for err == nil {
			var b []byte
			if b, err = r.next(ctx); err == nil && !yield(string(b), nil) {
				return
			}
		}
		if err != io.EOF {
			yield("", err)
		}
	}
}

// ByteStreamReader reads one incoming byte stream: as an io.Reader, whole with ReadAll, or
// into a file with WriteToFile. It is valid until the handler it was given to returns.
type ByteStreamReader struct {
	streamReader
	info    ByteStreamInfo
	started bool
	rest    []byte
}

// Info describes the stream.
func (r *ByteStreamReader) Info() ByteStreamInfo { return r.info }

// Read reads the stream as it arrives (io.Reader); it returns io.EOF after the whole stream.
// Reads end when the room closes. Not safe for concurrent use.
func (r *ByteStreamReader) Read(p []byte) (int, error) {
	if !r.started {
		r.started = true
		const op = "read byte stream"
		if err := r.startIncremental(op, engine.ByteStreamReaderEvents, &pb.ByteStreamReaderReadIncrementalRequest{ReaderHandle: proto.Uint64(r.id)},
			func(ev *pb.FfiEvent) ([]byte, bool, error) {
				e := ev.GetByteStreamReaderEvent()
				if eos := e.GetEos(); eos != nil {
					return nil, true, eosError(eos.GetError())
				}
				return e.GetChunkReceived().GetContent(), false, nil
			}); err != nil {
			return 0, err
		}
	}
	for len(r.rest) == 0 {
		b, err := r.next(context.Background())
		if err != nil {
			return 0, err
		}
		r.rest = b
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

// ReadAll waits for the whole stream.
func (r *ByteStreamReader) ReadAll(ctx context.Context) ([]byte, error) {
	const op = "read byte stream"
	if err := r.take(op); err != nil {
		return nil, err
	}
	cb, err := call[*pb.ByteStreamReaderReadAllCallback](ctx, r.r, op, &pb.ByteStreamReaderReadAllRequest{ReaderHandle: proto.Uint64(r.id)}, engine.CallOptions{})
	if err != nil {
		return nil, err
	}
	if err := r.failed(op, eosError(cb.GetError())); err != nil {
		return nil, err
	}
	return cb.GetContent(), nil
}

// WriteToFile lets the library write the stream into directory dir (default: its temporary
// directory) under name (default: the stream's name) and returns the file's path.
func (r *ByteStreamReader) WriteToFile(ctx context.Context, dir, name string) (string, error) {
	const op = "write byte stream to file"
	if err := r.take(op); err != nil {
		return "", err
	}
	cb, err := call[*pb.ByteStreamReaderWriteToFileCallback](ctx, r.r, op, &pb.ByteStreamReaderWriteToFileRequest{
		ReaderHandle: proto.Uint64(r.id), Directory: optString(dir), NameOverride: optString(name),
	}, engine.CallOptions{})
	if err != nil {
		return "", err
	}
	if err := r.failed(op, eosError(cb.GetError())); err != nil {
		return "", err
	}
	return cb.GetFilePath(), nil
}

// textStreamOpened hands a new incoming stream to its topic's handler, or releases it.
// It runs on the dispatcher: it only starts the handler's goroutine.
func (r *room) textStreamOpened(m *pb.TextStreamOpened) change {
	id := m.GetReader().GetHandle().GetId()
	info := textInfoFrom(m.GetReader().GetInfo())
	h, ctx := lookup(r, func(s *streamState) (func(*TextStreamReader, string), bool) {
		h := s.text[info.Topic]
		return h, h != nil
	})
	if ctx == nil {
		r.lib.drop(id)
		return change{}
	}
	rd := &TextStreamReader{streamReader: streamReader{r: r, id: id, ctx: ctx, from: m.GetParticipantIdentity()}, info: info}
	go runHandler(r, &rd.streamReader, func() { h(rd, rd.from) })
	return change{}
}

func (r *room) byteStreamOpened(m *pb.ByteStreamOpened) change {
	id := m.GetReader().GetHandle().GetId()
	info := byteInfoFrom(m.GetReader().GetInfo())
	h, ctx := lookup(r, func(s *streamState) (func(*ByteStreamReader, string), bool) {
		h := s.bytes[info.Topic]
		return h, h != nil
	})
	if ctx == nil {
		r.lib.drop(id)
		return change{}
	}
	rd := &ByteStreamReader{streamReader: streamReader{r: r, id: id, ctx: ctx, from: m.GetParticipantIdentity()}, info: info}
	go runHandler(r, &rd.streamReader, func() { h(rd, rd.from) })
	return change{}
}

// lookup finds the handler and counts the reader handle as held, unless the room is closing.
func lookup[H any](r *room, get func(*streamState) (H, bool)) (H, context.Context) {
	var zero H
	if r.local == nil || r.c == nil {
		return zero, nil
	}
	s := &r.local.streams
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := get(s)
	if !ok || s.stopped {
		return zero, nil
	}
	s.unclaimed.Add(1)
	return h, s.life()
}

func runHandler(r *room, s *streamReader, fn func()) {
	defer s.release()
	defer func() {
		if v := recover(); v != nil {
			r.log.Error("livekit: data stream handler panicked", "panic", v)
		}
	}()
	fn()
}
