package livekit

import (
	"context"
	"errors"
	"io"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/queue"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// Data tracks are lossy, low-latency channels of frames (telemetry, robot state ...): a
// participant publishes one by name and pushes frames; others subscribe and read them. They
// need a server that supports them (livekit-server v1.13.5 does, with its default config:
// tested). A track may say how its frames are encoded (FrameEncoding) and which schema they
// follow (DataTrackSchemaID); the publisher can store the schema's definition with the server
// (DefineSchema) for subscribers to fetch (Schema).

// DataTrackInfo describes a data track.
type DataTrackInfo struct {
	Name          string
	SID           string
	Encrypted     bool
	Schema        DataTrackSchemaID // zero if the publisher named none
	FrameEncoding FrameEncoding     // "" if the publisher named none
}

func dataTrackInfoFrom(in *pb.DataTrackInfo) DataTrackInfo {
	return DataTrackInfo{Name: in.GetName(), SID: in.GetSid(), Encrypted: in.GetUsesE2Ee(),
		Schema: schemaIDFrom(in.GetSchema()), FrameEncoding: frameEncodingFrom(in.GetFrameEncoding())}
}

// FrameEncoding is how a data track's frames are encoded: one of the well-known names below,
// or any other name for a custom encoding.
type FrameEncoding string

// Well-known frame encodings.
const (
	FrameEncodingROS1       FrameEncoding = "ros1"
	FrameEncodingCDR        FrameEncoding = "cdr"
	FrameEncodingProtobuf   FrameEncoding = "protobuf"
	FrameEncodingFlatBuffer FrameEncoding = "flatbuffer"
	FrameEncodingCBOR       FrameEncoding = "cbor"
	FrameEncodingMsgPack    FrameEncoding = "msgpack"
	FrameEncodingJSON       FrameEncoding = "json"
)

var wellKnownFrameEncodings = map[FrameEncoding]pb.DataTrackFrameEncoding_WellKnownFrameEncoding{
	FrameEncodingROS1:       pb.DataTrackFrameEncoding_WELL_KNOWN_FRAME_ENCODING_ROS1,
	FrameEncodingCDR:        pb.DataTrackFrameEncoding_WELL_KNOWN_FRAME_ENCODING_CDR,
	FrameEncodingProtobuf:   pb.DataTrackFrameEncoding_WELL_KNOWN_FRAME_ENCODING_PROTOBUF,
	FrameEncodingFlatBuffer: pb.DataTrackFrameEncoding_WELL_KNOWN_FRAME_ENCODING_FLATBUFFER,
	FrameEncodingCBOR:       pb.DataTrackFrameEncoding_WELL_KNOWN_FRAME_ENCODING_CBOR,
	FrameEncodingMsgPack:    pb.DataTrackFrameEncoding_WELL_KNOWN_FRAME_ENCODING_MSGPACK,
	FrameEncodingJSON:       pb.DataTrackFrameEncoding_WELL_KNOWN_FRAME_ENCODING_JSON,
}

func (e FrameEncoding) proto() *pb.DataTrackFrameEncoding {
	switch wk, ok := wellKnownFrameEncodings[e]; {
	case e == "":
		return nil
	case ok:
		return &pb.DataTrackFrameEncoding{Encoding: &pb.DataTrackFrameEncoding_WellKnown{WellKnown: wk}}
	}
	return &pb.DataTrackFrameEncoding{Encoding: &pb.DataTrackFrameEncoding_Custom{Custom: string(e)}}
}

func frameEncodingFrom(in *pb.DataTrackFrameEncoding) FrameEncoding {
	if c, ok := in.GetEncoding().(*pb.DataTrackFrameEncoding_Custom); ok {
		return FrameEncoding(c.Custom)
	}
	return wellKnownName(wellKnownFrameEncodings, in.GetWellKnown())
}

// wellKnownName is the name under which names holds the protocol value v ("" if none).
func wellKnownName[N ~string, V comparable](names map[N]V, v V) N {
	for name, x := range names {
		if x == v {
			return name
		}
	}
	return ""
}

// SchemaEncoding is the language a schema definition is written in: one of the well-known
// names below, or any other name for a custom one.
type SchemaEncoding string

// Well-known schema encodings.
const (
	SchemaEncodingProtobuf   SchemaEncoding = "protobuf"
	SchemaEncodingFlatBuffer SchemaEncoding = "flatbuffer"
	SchemaEncodingROS1Msg    SchemaEncoding = "ros1msg"
	SchemaEncodingROS2Msg    SchemaEncoding = "ros2msg"
	SchemaEncodingROS2IDL    SchemaEncoding = "ros2idl"
	SchemaEncodingOMGIDL     SchemaEncoding = "omgidl"
	SchemaEncodingJSONSchema SchemaEncoding = "jsonschema"
)

var wellKnownSchemaEncodings = map[SchemaEncoding]pb.DataTrackSchemaEncoding_WellKnownSchemaEncoding{
	SchemaEncodingProtobuf:   pb.DataTrackSchemaEncoding_WELL_KNOWN_SCHEMA_ENCODING_PROTOBUF,
	SchemaEncodingFlatBuffer: pb.DataTrackSchemaEncoding_WELL_KNOWN_SCHEMA_ENCODING_FLATBUFFER,
	SchemaEncodingROS1Msg:    pb.DataTrackSchemaEncoding_WELL_KNOWN_SCHEMA_ENCODING_ROS1_MSG,
	SchemaEncodingROS2Msg:    pb.DataTrackSchemaEncoding_WELL_KNOWN_SCHEMA_ENCODING_ROS2_MSG,
	SchemaEncodingROS2IDL:    pb.DataTrackSchemaEncoding_WELL_KNOWN_SCHEMA_ENCODING_ROS2_IDL,
	SchemaEncodingOMGIDL:     pb.DataTrackSchemaEncoding_WELL_KNOWN_SCHEMA_ENCODING_OMG_IDL,
	SchemaEncodingJSONSchema: pb.DataTrackSchemaEncoding_WELL_KNOWN_SCHEMA_ENCODING_JSON_SCHEMA,
}

// DataTrackSchemaID names a schema: the name its publisher gave it and its encoding.
type DataTrackSchemaID struct {
	Name     string
	Encoding SchemaEncoding
}

func (id DataTrackSchemaID) proto() *pb.DataTrackSchemaId {
	if id == (DataTrackSchemaID{}) {
		return nil
	}
	out := &pb.DataTrackSchemaId{Name: proto.String(id.Name)}
	switch wk, ok := wellKnownSchemaEncodings[id.Encoding]; {
	case ok:
		out.Encoding = &pb.DataTrackSchemaEncoding{Encoding: &pb.DataTrackSchemaEncoding_WellKnown{WellKnown: wk}}
	case id.Encoding != "":
		out.Encoding = &pb.DataTrackSchemaEncoding{Encoding: &pb.DataTrackSchemaEncoding_Custom{Custom: string(id.Encoding)}}
	}
	return out
}

func schemaIDFrom(in *pb.DataTrackSchemaId) DataTrackSchemaID {
	if in == nil {
		return DataTrackSchemaID{}
	}
	out := DataTrackSchemaID{Name: in.GetName()}
	if c, ok := in.GetEncoding().GetEncoding().(*pb.DataTrackSchemaEncoding_Custom); ok {
		out.Encoding = SchemaEncoding(c.Custom)
	} else {
		out.Encoding = wellKnownName(wellKnownSchemaEncodings, in.GetEncoding().GetWellKnown())
	}
	return out
}

// DataTrackOptions are the optional parameters of PublishDataTrack.
type DataTrackOptions struct {
	// Schema names the schema the frames follow (store its definition first with
	// DefineSchema, so that subscribers can fetch it). Zero: none.
	Schema DataTrackSchemaID
	// FrameEncoding says how frames are encoded. Empty: unspecified.
	FrameEncoding FrameEncoding
}

// DefineSchema stores the definition of a schema with the server, under id, for subscribers
// of the local participant's data tracks to fetch with Schema. The definition is stored as
// given, not checked against its encoding; defining it again replaces it (livekit-server
// v1.13.5). Define it before publishing a track that names it. The server must allow
// participant data blobs (enable_participant_data_blob: true in its config; the development
// server here has it), or DefineSchema fails with "data blob not enabled".
func (p *LocalParticipant) DefineSchema(ctx context.Context, id DataTrackSchemaID, definition string) error {
	const op = "define data track schema"
	if id.Name == "" {
		return invalid(op, "the schema id has no name")
	}
	_, err := call[*pb.DefineSchemaCallback](ctx, p.r, op, &pb.DefineSchemaRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		SchemaId:               id.proto(),
		Definition:             proto.String(definition),
	}, engine.CallOptions{})
	return err
}

// Schema fetches the definition the participant publisher stored for the schema id (see
// DefineSchema). It fails if there is none.
func (p *LocalParticipant) Schema(ctx context.Context, publisher string, id DataTrackSchemaID) (string, error) {
	const op = "get data track schema"
	if id.Name == "" || publisher == "" {
		return "", invalid(op, "empty schema name or publisher")
	}
	cb, err := call[*pb.GetSchemaCallback](ctx, p.r, op, &pb.GetSchemaRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		SchemaId:               id.proto(),
		ParticipantIdentity:    proto.String(publisher),
	}, engine.CallOptions{})
	if err != nil {
		return "", err
	}
	return cb.GetDefinition(), nil
}

// DataTrackFrame is one frame of a data track.
type DataTrackFrame struct {
	Payload []byte
	// UserTimestamp is the publisher's own timestamp, if it set one (0: none).
	UserTimestamp uint64
}

// DataTrackError is the library's reason a data track operation failed.
type DataTrackError struct {
	Code    int32
	Message string
}

func (e *DataTrackError) Error() string { return "data track: " + e.Message }

// ErrDataTrackQueueFull is the TryPush error when frames are pushed faster than they leave.
var ErrDataTrackQueueFull = errors.New("livekit: data track queue full")

// LocalDataTrack is a data track the local participant publishes.
type LocalDataTrack struct {
	p      *LocalParticipant
	handle owned
	info   DataTrackInfo
}

// PublishDataTrack publishes a data track named name (1-256 characters, unique among the
// participant's data tracks). Unpublish it when done; the room's close releases it too.
func (p *LocalParticipant) PublishDataTrack(ctx context.Context, name string, opts DataTrackOptions) (*LocalDataTrack, error) {
	const op = "publish data track"
	if len(name) == 0 || len(name) > 256 {
		return nil, invalid(op, "name must have 1 to 256 characters")
	}
	if opts.Schema != (DataTrackSchemaID{}) && opts.Schema.Name == "" {
		return nil, invalid(op, "the schema id has no name")
	}
	cb, err := call[*pb.PublishDataTrackCallback](ctx, p.r, op, &pb.PublishDataTrackRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		Options: &pb.DataTrackOptions{Name: proto.String(name), Schema: opts.Schema.proto(),
			FrameEncoding: opts.FrameEncoding.proto()},
	}, engine.CallOptions{})
	if err != nil {
		return nil, err
	}
	if e := cb.GetError(); e != nil {
		return nil, &RequestError{Op: op, Err: &DataTrackError{Code: int32(e.GetCode()), Message: e.GetMessage()}}
	}
	ot := cb.GetTrack()
	t := &LocalDataTrack{p: p, handle: p.r.lib.own(ot.GetHandle().GetId(), "local data track"), info: dataTrackInfoFrom(ot.GetInfo())}
	if !p.dataTracks.add(t.handle) {
		t.handle.Close()
		return nil, &RequestError{Op: op, Err: ErrClosed}
	}
	return t, nil
}

// Info describes the track.
func (t *LocalDataTrack) Info() DataTrackInfo { return t.info }

// TryPush sends a frame if there is room for it, without waiting: data tracks drop rather
// than delay. It returns ErrDataTrackQueueFull (errors.Is) when frames come too fast.
func (t *LocalDataTrack) TryPush(f DataTrackFrame) error {
	const op = "push data track frame"
	fr := &pb.DataTrackFrame{Payload: f.Payload}
	if fr.Payload == nil {
		fr.Payload = []byte{}
	}
	if f.UserTimestamp != 0 {
		fr.UserTimestamp = proto.Uint64(f.UserTimestamp)
	}
	resp, err := request[*pb.LocalDataTrackTryPushResponse](t.p.r, op, &pb.LocalDataTrackTryPushRequest{TrackHandle: proto.Uint64(t.handle.ID()), Frame: fr})
	if err != nil {
		return err
	}
	if e := resp.GetError(); e != nil {
		if e.GetCode() == pb.LocalDataTrackTryPushErrorCode_LOCAL_DATA_TRACK_TRY_PUSH_ERROR_CODE_QUEUE_FULL {
			return &RequestError{Op: op, Message: e.GetMessage(), Err: ErrDataTrackQueueFull}
		}
		return &RequestError{Op: op, Err: &DataTrackError{Code: int32(e.GetCode()), Message: e.GetMessage()}}
	}
	return nil
}

// Unpublish stops publishing the track and releases it. It is idempotent.
func (t *LocalDataTrack) Unpublish() error {
	if !t.p.dataTracks.remove(t.handle) {
		return nil
	}
	_, err := request[*pb.LocalDataTrackUnpublishResponse](t.p.r, "unpublish data track", &pb.LocalDataTrackUnpublishRequest{TrackHandle: proto.Uint64(t.handle.ID())})
	t.handle.Close()
	return err
}

// dataTrackSet holds the local participant's published data tracks, released at room close.
type dataTrackSet struct {
	mu     sync.Mutex
	set    map[owned]struct{}
	closed bool
}

func (s *dataTrackSet) add(h owned) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.set == nil {
		s.set = map[owned]struct{}{}
	}
	s.set[h] = struct{}{}
	return true
}

func (s *dataTrackSet) remove(h owned) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.set[h]
	delete(s.set, h)
	return ok
}

func (s *dataTrackSet) release() {
	s.mu.Lock()
	set := s.set
	s.set, s.closed = nil, true
	s.mu.Unlock()
	for h := range set {
		h.Close()
	}
}

// RemoteDataTrack is a data track another participant publishes (DataTrackPublished). It is
// valid until DataTrackUnpublished, its publisher's departure, or the room's close.
type RemoteDataTrack struct {
	r         *room
	handle    owned
	info      DataTrackInfo
	publisher string
	streams   readers
}

// Info describes the track.
func (t *RemoteDataTrack) Info() DataTrackInfo { return t.info }

// Publisher reports the identity of the participant that publishes the track.
func (t *RemoteDataTrack) Publisher() string { return t.publisher }

func (t *RemoteDataTrack) release(err error) {
	t.streams.endAll(err)
	t.handle.Close()
}

// DataTrackPublished reports a data track another participant published.
type DataTrackPublished struct{ Track *RemoteDataTrack }

// DataTrackUnpublished reports that a remote data track went away; its streams have ended.
type DataTrackUnpublished struct {
	SID   string
	Track *RemoteDataTrack // nil if it was not known
}

func (DataTrackPublished) isEvent()   {}
func (DataTrackUnpublished) isEvent() {}

// DataTrackStream reads the frames of a subscribed remote data track.
type DataTrackStream struct {
	c      *engine.Client
	handle owned
	sub    *engine.Subscription
	q      *queue.Queue[DataTrackFrame]
	from   *readers

	mu      sync.Mutex
	pending bool  // a read request is outstanding
	err     error // why the stream ended
	recv    sync.Mutex
}

// Subscribe starts reading the track's frames. bufferSize bounds the frames the library keeps
// for a slow reader (0: the library's default); older ones are dropped. Close the stream when
// done.
func (t *RemoteDataTrack) Subscribe(ctx context.Context, bufferSize int) (*DataTrackStream, error) {
	const op = "subscribe data track"
	opts := &pb.DataTrackSubscribeOptions{}
	if bufferSize > 0 {
		opts.BufferSize = proto.Uint32(uint32(bufferSize))
	}
	resp, err := request[*pb.SubscribeDataTrackResponse](t.r, op, &pb.SubscribeDataTrackRequest{TrackHandle: proto.Uint64(t.handle.ID()), Options: opts})
	if err != nil {
		return nil, err
	}
	s := &DataTrackStream{c: t.r.c, handle: t.r.lib.own(resp.GetStream().GetHandle().GetId(), "data track stream"),
		q: queue.New[DataTrackFrame](), from: &t.streams}
	s.sub, err = t.r.c.Subscribe(engine.DataTrackStreamEvents, s.handle.ID(), func(ev *pb.FfiEvent) {
		e := ev.GetDataTrackStreamEvent()
		if eos := e.GetEos(); eos != nil {
			s.eos(eos)
			return
		}
		if f := e.GetFrameReceived().GetFrame(); f != nil {
			s.mu.Lock()
			s.pending = false
			s.mu.Unlock()
			s.q.Push(DataTrackFrame{Payload: f.GetPayload(), UserTimestamp: f.GetUserTimestamp()})
		}
	})
	if err != nil {
		s.handle.Close()
		return nil, &RequestError{Op: op, Err: err}
	}
	if ok, why := t.streams.attach(s); !ok {
		s.end(why)
		return nil, &RequestError{Op: op, Err: why}
	}
	return s, nil
}

func (s *DataTrackStream) eos(e *pb.DataTrackStreamEOS) {
	if se := e.GetError(); se != nil {
		s.end(&RequestError{Op: "read data track", Err: &DataTrackError{Code: int32(se.GetCode()), Message: se.GetMessage()}})
		return
	}
	s.end(io.EOF)
}

// end stops the stream: frames already queued are still returned, then err.
func (s *DataTrackStream) end(err error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = err
	s.mu.Unlock()
	if s.sub != nil {
		s.sub.Close()
	}
	s.q.Close()
	s.from.detach(s)
	s.handle.Close() // dropping the stream unsubscribes
}

// Recv returns the next frame. It returns io.EOF when the track ends, ErrTrackEnded when it
// is unpublished, ErrParticipantLeft or ErrClosed when its publisher or the room goes, and
// ErrStreamClosed after Close. Not for concurrent use with another Recv.
func (s *DataTrackStream) Recv(ctx context.Context) (DataTrackFrame, error) {
	s.recv.Lock()
	defer s.recv.Unlock()
	// The library sends one frame per read request.
	s.mu.Lock()
	ask := !s.pending && s.err == nil && s.q.Len() == 0
	if ask {
		s.pending = true
	}
	s.mu.Unlock()
	if ask {
		resp, err := s.c.Request(&pb.DataTrackStreamReadRequest{StreamHandle: proto.Uint64(s.handle.ID())})
		if err != nil {
			s.mu.Lock()
			s.pending = false
			ended := s.err
			s.mu.Unlock()
			if ended == nil {
				return DataTrackFrame{}, &RequestError{Op: "read data track", Err: err}
			}
		} else if eos := resp.GetDataTrackStreamRead().GetEosEvent(); eos != nil {
			s.eos(eos)
		}
	}
	f, err := s.q.Next(ctx)
	if err == queue.ErrDone {
		s.mu.Lock()
		err = s.err
		s.mu.Unlock()
	}
	return f, err
}

// Close ends the stream (unsubscribing). It is idempotent.
func (s *DataTrackStream) Close() error {
	s.end(ErrStreamClosed)
	return nil
}

// dataTrackPublished registers a remote data track with its publisher.
func (r *room) dataTrackPublished(m *pb.DataTrackPublished) change {
	ot := m.GetTrack()
	t := &RemoteDataTrack{r: r, handle: r.lib.own(ot.GetHandle().GetId(), "remote data track"),
		info: dataTrackInfoFrom(ot.GetInfo()), publisher: ot.GetPublisherIdentity()}
	var orphan, old *RemoteDataTrack
	return change{apply: func() Event {
		rp := r.remotes[t.publisher]
		if rp == nil {
			orphan = t
			return nil
		}
		if rp.dataTracks == nil {
			rp.dataTracks = map[string]*RemoteDataTrack{}
		}
		old = rp.dataTracks[t.info.SID]
		rp.dataTracks[t.info.SID] = t
		return DataTrackPublished{Track: t}
	}, after: func() {
		if orphan != nil {
			orphan.release(ErrParticipantLeft)
		}
		if old != nil {
			old.release(ErrTrackEnded)
		}
	}}
}

func (r *room) dataTrackUnpublished(m *pb.DataTrackUnpublished) change {
	sid := m.GetSid()
	var t *RemoteDataTrack
	return change{apply: func() Event {
		for _, rp := range r.remotes {
			if t = rp.dataTracks[sid]; t != nil {
				delete(rp.dataTracks, sid)
				break
			}
		}
		return DataTrackUnpublished{SID: sid, Track: t}
	}, after: func() {
		if t != nil {
			t.release(ErrTrackEnded)
		}
	}}
}
