package livekit

import (
	"context"
	"errors"
	"maps"
	"mime"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// Data streams carry text or bytes of any size to other participants, split into chunks by
// the library. Send one in a call (SendText, SendBytes, SendFile) or incrementally (StreamText,
// StreamBytes); receive them per topic with a handler (Room.RegisterTextStreamHandler ...).

// ErrReaderUsed is returned by a stream reader's second read mode: a stream is read once,
// whole (ReadAll, WriteToFile) or incrementally (Chunks, Read).
var ErrReaderUsed = errors.New("livekit: stream reader already read")

// ErrWriterClosed is returned by writes to a stream writer after Close.
var ErrWriterClosed = errors.New("livekit: stream writer closed")

// StreamError is the library's reason a stream failed to send or arrive whole.
type StreamError struct{ Message string }

func (e *StreamError) Error() string { return "data stream: " + e.Message }

// StreamTextOptions are the parameters of a text stream. Topic selects the receivers' handler.
type StreamTextOptions struct {
	Topic        string
	Destinations []string // identities (default: everyone)
	Attributes   map[string]string
	// ID sets the stream id (default: a random one).
	ID string
	// ReplyToStreamID and AttachedStreamIDs relate the stream to others (chat replies,
	// attachments).
	ReplyToStreamID   string
	AttachedStreamIDs []string
	// Generated marks text produced by a machine (an agent's transcription ...).
	Generated bool
}

// StreamBytesOptions are the parameters of a byte stream.
type StreamBytesOptions struct {
	Topic        string
	Destinations []string
	Attributes   map[string]string
	ID           string
	Name         string // a file name for the receiver (SendFile: the file's base name)
	MimeType     string // default: application/octet-stream (SendFile: from the extension)
}

// TextStreamInfo describes a text stream.
type TextStreamInfo struct {
	ID                string
	Topic             string
	MimeType          string
	Timestamp         time.Time
	TotalLength       uint64 // bytes, if the sender said (0: unknown)
	Attributes        map[string]string
	ReplyToStreamID   string
	AttachedStreamIDs []string
	Generated         bool
	Encryption        EncryptionType
}

// ByteStreamInfo describes a byte stream.
type ByteStreamInfo struct {
	ID          string
	Topic       string
	Name        string
	MimeType    string
	Timestamp   time.Time
	TotalLength uint64
	Attributes  map[string]string
	Encryption  EncryptionType
}

func textInfoFrom(in *pb.TextStreamInfo) TextStreamInfo {
	return TextStreamInfo{
		ID: in.GetStreamId(), Topic: in.GetTopic(), MimeType: in.GetMimeType(), Timestamp: unixTime(in.GetTimestamp()),
		TotalLength: in.GetTotalLength(), Attributes: maps.Clone(in.GetAttributes()), ReplyToStreamID: in.GetReplyToStreamId(),
		AttachedStreamIDs: in.GetAttachedStreamIds(), Generated: in.GetGenerated(), Encryption: EncryptionType(in.GetEncryptionType()),
	}
}

func byteInfoFrom(in *pb.ByteStreamInfo) ByteStreamInfo {
	return ByteStreamInfo{
		ID: in.GetStreamId(), Topic: in.GetTopic(), Name: in.GetName(), MimeType: in.GetMimeType(), Timestamp: unixTime(in.GetTimestamp()),
		TotalLength: in.GetTotalLength(), Attributes: maps.Clone(in.GetAttributes()), Encryption: EncryptionType(in.GetEncryptionType()),
	}
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return proto.String(s)
}

func (o StreamTextOptions) proto() *pb.StreamTextOptions {
	out := &pb.StreamTextOptions{
		Topic: proto.String(o.Topic), Attributes: o.Attributes, DestinationIdentities: o.Destinations,
		Id: optString(o.ID), ReplyToStreamId: optString(o.ReplyToStreamID), AttachedStreamIds: o.AttachedStreamIDs,
	}
	if o.Generated {
		out.Generated = proto.Bool(true)
	}
	return out
}

func (o StreamBytesOptions) proto() *pb.StreamByteOptions {
	return &pb.StreamByteOptions{
		Topic: proto.String(o.Topic), Attributes: o.Attributes, DestinationIdentities: o.Destinations,
		Id: optString(o.ID), Name: optString(o.Name), MimeType: optString(o.MimeType),
	}
}

func streamErr(op string, e *pb.StreamError) error {
	if e == nil {
		return nil
	}
	return &RequestError{Op: op, Err: &StreamError{Message: e.GetDescription()}}
}

// SendText sends text as one stream and waits until it is sent.
func (p *LocalParticipant) SendText(ctx context.Context, text string, opts StreamTextOptions) (TextStreamInfo, error) {
	const op = "send text"
	cb, err := call[*pb.StreamSendTextCallback](ctx, p.r, op, &pb.StreamSendTextRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()), Options: opts.proto(), Text: proto.String(text),
	}, engine.CallOptions{})
	if err != nil {
		return TextStreamInfo{}, err
	}
	if err := streamErr(op, cb.GetError()); err != nil {
		return TextStreamInfo{}, err
	}
	return textInfoFrom(cb.GetInfo()), nil
}

// SendBytes sends data as one stream and waits until it is sent.
func (p *LocalParticipant) SendBytes(ctx context.Context, data []byte, opts StreamBytesOptions) (ByteStreamInfo, error) {
	const op = "send bytes"
	cb, err := call[*pb.StreamSendBytesCallback](ctx, p.r, op, &pb.StreamSendBytesRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()), Options: opts.proto(), Bytes: data,
	}, engine.CallOptions{})
	if err != nil {
		return ByteStreamInfo{}, err
	}
	if err := streamErr(op, cb.GetError()); err != nil {
		return ByteStreamInfo{}, err
	}
	return byteInfoFrom(cb.GetInfo()), nil
}

// SendFile sends the file at path as one byte stream; the library reads the file itself.
// Name defaults to the file's base name and MimeType to the extension's type.
func (p *LocalParticipant) SendFile(ctx context.Context, path string, opts StreamBytesOptions) (ByteStreamInfo, error) {
	const op = "send file"
	abs, err := filepath.Abs(path)
	if err != nil {
		return ByteStreamInfo{}, invalid(op, "%v", err)
	}
	if opts.Name == "" {
		opts.Name = filepath.Base(abs)
	}
	if opts.MimeType == "" {
		opts.MimeType = mime.TypeByExtension(filepath.Ext(abs))
		if opts.MimeType == "" {
			opts.MimeType = "application/octet-stream"
		}
	}
	cb, err := call[*pb.StreamSendFileCallback](ctx, p.r, op, &pb.StreamSendFileRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()), Options: opts.proto(), FilePath: proto.String(abs),
	}, engine.CallOptions{})
	if err != nil {
		return ByteStreamInfo{}, err
	}
	if err := streamErr(op, cb.GetError()); err != nil {
		return ByteStreamInfo{}, err
	}
	return byteInfoFrom(cb.GetInfo()), nil
}

// streamState is the local participant's part in data streams: open writers (dropped when
// the room closes), the topic handlers, and the readers handed to them.
type streamState struct {
	mu        sync.Mutex
	writers   map[uint64]struct{} // open writer handles
	text      map[string]func(*TextStreamReader, string)
	bytes     map[string]func(*ByteStreamReader, string)
	ctx       context.Context // ends when the room closes: readers in flight end with ErrClosed
	cancel    context.CancelFunc
	stopped   bool
	unclaimed atomic.Int64 // reader and writer handles this package holds
}

func (s *streamState) life() context.Context {
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		if s.stopped {
			s.cancel()
		}
	}
	return s.ctx
}

// stop ends readers in flight; release (at room close) drops writers left open.
func (s *streamState) stop() {
	s.mu.Lock()
	s.stopped = true
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
}

func (s *streamState) release(n native) {
	s.stop()
	s.mu.Lock()
	ws := s.writers
	s.writers = nil
	s.mu.Unlock()
	for id := range ws {
		n.drop(id)
		s.unclaimed.Add(-1)
	}
}

// addWriter registers an open writer; false if the room is closing (the caller drops it).
func (s *streamState) addWriter(id uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	if s.writers == nil {
		s.writers = map[uint64]struct{}{}
	}
	s.writers[id] = struct{}{}
	s.unclaimed.Add(1)
	return true
}

// takeWriter removes an open writer for its close request; false if it is gone.
func (s *streamState) takeWriter(id uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.writers[id]; !ok {
		return false
	}
	delete(s.writers, id)
	s.unclaimed.Add(-1)
	return true
}

// streamWriter is what text and byte writers share: one write at a time (the library runs
// each write as its own task, so concurrent writes could reorder), and a close that consumes
// the handle.
type streamWriter struct {
	p      *LocalParticipant
	id     uint64
	mu     sync.Mutex
	closed bool
}

func (w *streamWriter) write(ctx context.Context, op string, req proto.Message, get func(proto.Message) *pb.StreamError, cb func(context.Context, proto.Message) (proto.Message, error)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return &RequestError{Op: op, Err: ErrWriterClosed}
	}
	res, err := cb(ctx, req)
	if err != nil {
		return err
	}
	return streamErr(op, get(res))
}

func (w *streamWriter) close(ctx context.Context, op string, send func(context.Context) (*pb.StreamError, error)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if !w.p.streams.takeWriter(w.id) {
		return &RequestError{Op: op, Err: ErrClosed} // dropped with the room
	}
	se, err := send(ctx)
	if err != nil {
		return err
	}
	return streamErr(op, se)
}

// adoptWriter takes over the writer an open request returned, unless the library refused or
// the room is closing (then the handle goes back at once).
func (p *LocalParticipant) adoptWriter(op string, se *pb.StreamError, id uint64) error {
	if err := streamErr(op, se); err != nil {
		return err
	}
	if !p.streams.addWriter(id) {
		p.r.lib.drop(id)
		return &RequestError{Op: op, Err: ErrClosed}
	}
	return nil
}

// TextStreamWriter sends a text stream piece by piece. Writes are serialized; Close ends the
// stream. A writer left open is dropped when the room closes (the receivers see the stream
// end with an error).
type TextStreamWriter struct {
	streamWriter
	info TextStreamInfo
}

// Info describes the stream.
func (w *TextStreamWriter) Info() TextStreamInfo { return w.info }

// StreamText opens a text stream for incremental writing.
func (p *LocalParticipant) StreamText(ctx context.Context, opts StreamTextOptions) (*TextStreamWriter, error) {
	const op = "open text stream"
	cb, err := call[*pb.TextStreamOpenCallback](ctx, p.r, op, &pb.TextStreamOpenRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()), Options: opts.proto(),
	}, engine.CallOptions{})
	if err != nil {
		return nil, err
	}
	id := cb.GetWriter().GetHandle().GetId()
	if err := p.adoptWriter(op, cb.GetError(), id); err != nil {
		return nil, err
	}
	return &TextStreamWriter{streamWriter: streamWriter{p: p, id: id}, info: textInfoFrom(cb.GetWriter().GetInfo())}, nil
}

// WriteContext sends s as the stream's next piece and waits until it is sent.
func (w *TextStreamWriter) WriteContext(ctx context.Context, s string) error {
	const op = "write text stream"
	return w.write(ctx, op, &pb.TextStreamWriterWriteRequest{WriterHandle: proto.Uint64(w.id), Text: proto.String(s)},
		func(m proto.Message) *pb.StreamError { return m.(*pb.TextStreamWriterWriteCallback).GetError() },
		func(ctx context.Context, req proto.Message) (proto.Message, error) {
			return call[*pb.TextStreamWriterWriteCallback](ctx, w.p.r, op, req, engine.CallOptions{})
		})
}

// WriteString sends s (io.StringWriter).
func (w *TextStreamWriter) WriteString(s string) (int, error) {
	if err := w.WriteContext(context.Background(), s); err != nil {
		return 0, err
	}
	return len(s), nil
}

// Write sends p, which must be valid UTF-8 (io.Writer).
func (w *TextStreamWriter) Write(p []byte) (int, error) {
	if !utf8.Valid(p) {
		return 0, invalid("write text stream", "not valid UTF-8 (split text at character boundaries)")
	}
	return w.WriteString(string(p))
}

// Close ends the stream.
func (w *TextStreamWriter) Close() error { return w.CloseWith(context.Background(), "", nil) }

// CloseWith ends the stream with a reason (non-empty: the stream failed) and attributes for
// the receivers' end of stream.
func (w *TextStreamWriter) CloseWith(ctx context.Context, reason string, attrs map[string]string) error {
	const op = "close text stream"
	return w.close(ctx, op, func(ctx context.Context) (*pb.StreamError, error) {
		cb, err := call[*pb.TextStreamWriterCloseCallback](ctx, w.p.r, op, &pb.TextStreamWriterCloseRequest{
			WriterHandle: proto.Uint64(w.id), Reason: optString(reason), Attributes: attrs,
		}, engine.CallOptions{})
		return cb.GetError(), err
	})
}

// ByteStreamWriter sends a byte stream piece by piece, like TextStreamWriter.
type ByteStreamWriter struct {
	streamWriter
	info ByteStreamInfo
}

// Info describes the stream.
func (w *ByteStreamWriter) Info() ByteStreamInfo { return w.info }

// StreamBytes opens a byte stream for incremental writing.
func (p *LocalParticipant) StreamBytes(ctx context.Context, opts StreamBytesOptions) (*ByteStreamWriter, error) {
	const op = "open byte stream"
	cb, err := call[*pb.ByteStreamOpenCallback](ctx, p.r, op, &pb.ByteStreamOpenRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()), Options: opts.proto(),
	}, engine.CallOptions{})
	if err != nil {
		return nil, err
	}
	id := cb.GetWriter().GetHandle().GetId()
	if err := p.adoptWriter(op, cb.GetError(), id); err != nil {
		return nil, err
	}
	return &ByteStreamWriter{streamWriter: streamWriter{p: p, id: id}, info: byteInfoFrom(cb.GetWriter().GetInfo())}, nil
}

// WriteContext sends b as the stream's next piece and waits until it is sent.
func (w *ByteStreamWriter) WriteContext(ctx context.Context, b []byte) error {
	const op = "write byte stream"
	return w.write(ctx, op, &pb.ByteStreamWriterWriteRequest{WriterHandle: proto.Uint64(w.id), Bytes: b},
		func(m proto.Message) *pb.StreamError { return m.(*pb.ByteStreamWriterWriteCallback).GetError() },
		func(ctx context.Context, req proto.Message) (proto.Message, error) {
			return call[*pb.ByteStreamWriterWriteCallback](ctx, w.p.r, op, req, engine.CallOptions{})
		})
}

// Write sends p (io.Writer).
func (w *ByteStreamWriter) Write(p []byte) (int, error) {
	if err := w.WriteContext(context.Background(), p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close ends the stream.
func (w *ByteStreamWriter) Close() error { return w.CloseWith(context.Background(), "", nil) }

// CloseWith ends the stream with a reason and attributes, like TextStreamWriter.CloseWith.
func (w *ByteStreamWriter) CloseWith(ctx context.Context, reason string, attrs map[string]string) error {
	const op = "close byte stream"
	return w.close(ctx, op, func(ctx context.Context) (*pb.StreamError, error) {
		cb, err := call[*pb.ByteStreamWriterCloseCallback](ctx, w.p.r, op, &pb.ByteStreamWriterCloseRequest{
			WriterHandle: proto.Uint64(w.id), Reason: optString(reason), Attributes: attrs,
		}, engine.CallOptions{})
		return cb.GetError(), err
	})
}
