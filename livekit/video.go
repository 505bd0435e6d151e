package livekit

import (
	"context"
	"iter"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/mediapb"
	"github.com/livekit-ffi-go/sdk/livekit/media"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// VideoSourceOptions are the parameters of NewVideoSource.
type VideoSourceOptions struct {
	// Width and Height are the size of the frames you will capture (required). The library
	// derives the published layers and their bitrates from it, so give the real size.
	Width, Height int
	// IsScreencast tunes the encoder for screen content (sharp text, few frames).
	IsScreencast bool
}

// VideoSource feeds frames to a LocalVideoTrack. Create the track with NewLocalVideoTrack,
// publish it, then call CaptureFrame for every picture. Close it after the tracks made from it.
type VideoSource struct {
	c      *engine.Client
	width  int
	height int

	mu     sync.RWMutex   // held for reading by captures, for writing by Close
	handle *engine.Handle // nil after Close
}

// scratch holds I420 frames for captures that convert first (NV12, I010).
var scratch = sync.Pool{New: func() any { return new(media.VideoFrame) }}

// NewVideoSource creates a video source for frames of the given size.
func NewVideoSource(opts VideoSourceOptions) (*VideoSource, error) {
	const op = "new video source"
	if _, err := media.FrameSize(media.I420, opts.Width, opts.Height); err != nil {
		return nil, invalid(op, "size %dx%d: %v", opts.Width, opts.Height, err)
	}
	c, err := engine.Default()
	if err != nil {
		return nil, &RequestError{Op: op, Err: err}
	}
	req := &pb.NewVideoSourceRequest{
		Type: pb.VideoSourceType_VIDEO_SOURCE_NATIVE.Enum(),
		Resolution: &pb.VideoSourceResolution{
			Width: proto.Uint32(uint32(opts.Width)), Height: proto.Uint32(uint32(opts.Height))},
	}
	if opts.IsScreencast {
		req.IsScreencast = proto.Bool(true)
	}
	resp, err := c.Request(req)
	if err != nil {
		return nil, &RequestError{Op: op, Err: err}
	}
	id := resp.GetNewVideoSource().GetSource().GetHandle().GetId()
	if id == 0 {
		return nil, &RequestError{Op: op, Message: "no source in response"}
	}
	return &VideoSource{c: c, width: opts.Width, height: opts.Height, handle: c.Own(id, "video source")}, nil
}

// Size reports the size the source was created with.
func (s *VideoSource) Size() (width, height int) { return s.width, s.height }

// CaptureFrame hands one picture to the source. It returns once the library has copied (and
// for packed RGB formats converted to I420) the pixels, so f may be reused at once.
//
// Any type of media.VideoBufferType is accepted; I420 is the cheapest (no conversion; NV12
// and I010 are converted to I420 in a separate library call first, as the library cannot
// capture them safely). The
// frame is checked with f.Validate first: the library aborts the process on malformed buffers,
// so a malformed frame is an ErrInvalidArgument error here. A frame may have another size than
// the source's (the library accepts size changes between captures; the encoder adapts), but
// the published layers keep the size the source was created with.
//
// f.Timestamp is the capture time; the library maps it onto its own clock (what receivers see
// is that clock, not f.Timestamp). Concurrent captures are allowed; they are serialized in the
// library.
func (s *VideoSource) CaptureFrame(f *media.VideoFrame) error {
	const op = "capture video frame"
	if s == nil {
		return invalid(op, "nil source")
	}
	if err := f.Validate(); err != nil {
		return invalid(op, "%v", err)
	}
	if f.Type == media.NV12 || f.Type == media.I010 {
		// The library's capture path aborts the process on NV12 (an unreachable!() in its
		// buffer wrapper) and accepts I010, but then aborts in any local stream of the track
		// (its I010-to-I420 conversion asserts on its own strides). Convert to I420 here.
		tmp := scratch.Get().(*media.VideoFrame)
		defer scratch.Put(tmp)
		tmp.Type = media.I420
		if err := media.ConvertInto(tmp, f); err != nil {
			return &RequestError{Op: op, Err: err}
		}
		f = tmp
	}
	t, _ := mediapb.BufferType(int(f.Type))
	rot, _ := mediapb.Rotation(int(f.Rotation))
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.handle == nil {
		return &RequestError{Op: op, Err: ErrSourceClosed}
	}
	var err error
	engine.Pin(f.Data, func(addr uint64) {
		var info *pb.VideoBufferInfo
		if info, err = mediapb.VideoBufferInfo(t, f.Width, f.Height, addr); err != nil {
			err = invalid(op, "%v", err)
			return
		}
		_, err = s.c.Request(&pb.CaptureVideoFrameRequest{
			SourceHandle: proto.Uint64(s.handle.ID()),
			Buffer:       info,
			TimestampUs:  proto.Int64(f.Timestamp.Microseconds()),
			Rotation:     rot.Enum(),
		})
		if err != nil {
			err = &RequestError{Op: op, Err: err}
		}
	})
	return err
}

// Close releases the source. Frames captured after Close fail with ErrSourceClosed. Close
// the tracks made from the source first (a published track keeps sending its last frame
// otherwise). Close is idempotent.
func (s *VideoSource) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	h := s.handle
	s.handle = nil
	s.mu.Unlock()
	if h != nil {
		return h.Close()
	}
	return nil
}

// LocalVideoTrack is a video track fed by a VideoSource, to publish with
// LocalParticipant.PublishTrack (or read back with NewVideoStream, which needs no room).
type LocalVideoTrack struct {
	trackBase
	src *VideoSource
}

func (*LocalVideoTrack) isLocalTrack() {}

// NewLocalVideoTrack creates a track named name that carries src's frames.
func NewLocalVideoTrack(name string, src *VideoSource) (*LocalVideoTrack, error) {
	const op = "new video track"
	if src == nil {
		return nil, invalid(op, "nil source")
	}
	src.mu.RLock()
	defer src.mu.RUnlock()
	if src.handle == nil {
		return nil, &RequestError{Op: op, Err: ErrSourceClosed}
	}
	h, info, err := createLocalTrack(src.c, op, TrackKindVideo, &pb.CreateVideoTrackRequest{Name: proto.String(name), SourceHandle: proto.Uint64(src.handle.ID())})
	if err != nil {
		return nil, err
	}
	return &LocalVideoTrack{trackBase: trackBase{handle: h, info: info}, src: src}, nil
}

// Source returns the source the track was made from.
func (t *LocalVideoTrack) Source() *VideoSource { return t.src }

// Close releases the track: streams reading it end with ErrTrackEnded. Unpublish it first.
// The source stays open. Close is idempotent.
func (t *LocalVideoTrack) Close() error {
	if t == nil {
		return nil
	}
	t.release(ErrTrackEnded)
	return nil
}

// DefaultVideoStreamCapacity is how many received frames a VideoStream holds for a reader that
// is behind when VideoStreamOptions.Capacity is 0. It is small on purpose: someone showing
// video wants the newest frame, and a frame that waited behind three others is already 100 ms
// late at 30 fps. Older frames are dropped (and counted by Dropped) to make room.
const DefaultVideoStreamCapacity = 3

// VideoStreamOptions are the parameters of NewVideoStream and NewVideoStreamFromParticipant.
type VideoStreamOptions struct {
	// Format is the pixel format frames are delivered in. The zero value means I420, the
	// library's native format (no conversion). Other formats are converted by the library
	// from I420 and must be ones media.CanConvert(media.I420, Format) accepts: RGBA, BGRA,
	// ARGB, ABGR, RGB24. (One case gets no frames: a local track fed with I422 or I444 frames,
	// read in a format the library cannot convert those to, media.CanConvert(I422 or I444,
	// Format); the library drops them. Remote tracks always arrive as I420.)
	Format media.VideoBufferType
	// Capacity bounds the frames waiting for the reader (DefaultVideoStreamCapacity if 0).
	Capacity int
}

// VideoStream receives the frames of one video track.
//
// Frame ownership: each frame returned by Recv belongs to the caller, who may keep it as long
// as they like. A caller that is done with it may give it back with Release; the stream then
// reuses its buffer for a later frame, so a steady stream allocates no frame buffers. After
// Release the frame (and its Data) must not be used again. Frames that the stream drops
// because the reader fell behind are recycled the same way. Frames yields each frame only
// for the loop body and releases it when the body returns.
type VideoStream struct {
	ms     *mediaStream[*media.VideoFrame]
	format media.VideoBufferType

	poolMu  sync.Mutex
	pool    []*media.VideoFrame // free frames; at most poolCap
	poolCap int
}

// NewVideoStream starts receiving the frames of a video track: a *RemoteVideoTrack (from
// TrackSubscribed) or a *LocalVideoTrack (its own frames, without a room). The stream ends
// with ErrTrackEnded when the track goes away, ErrClosed when the room closes, io.EOF when the
// library ends it, and ErrStreamClosed after Close; frames queued before the end are still
// returned first.
func NewVideoStream(track Track, opts VideoStreamOptions) (*VideoStream, error) {
	const op = "new video stream"
	if track == nil {
		return nil, invalid(op, "nil track")
	}
	switch track.(type) {
	case *RemoteVideoTrack, *LocalVideoTrack:
	default:
		return nil, invalid(op, "%T is not a video track", track)
	}
	tb := track.base()
	if tb.handle == nil {
		return nil, invalid(op, "track has no handle")
	}
	return newVideoStream(op, &tb.readers, opts, func(format *pb.VideoBufferType) proto.Message {
		return &pb.NewVideoStreamRequest{
			TrackHandle:     proto.Uint64(tb.handle.ID()),
			Type:            pb.VideoStreamType_VIDEO_STREAM_NATIVE.Enum(),
			Format:          format,
			NormalizeStride: proto.Bool(true),
		}
	}, func(resp *pb.FfiResponse) uint64 { return resp.GetNewVideoStream().GetStream().GetHandle().GetId() },
		func() error { return ErrTrackEnded })
}

// NewVideoStreamFromParticipant receives the video a remote participant publishes from
// source (SourceCamera, SourceScreenShare ...), following it across unpublish and
// republish: the stream waits while there is no such track. It ends with ErrParticipantLeft
// when the participant leaves, and otherwise as NewVideoStream's streams do.
func NewVideoStreamFromParticipant(p *RemoteParticipant, source TrackSource, opts VideoStreamOptions) (*VideoStream, error) {
	const op = "new video stream from participant"
	if p == nil {
		return nil, invalid(op, "nil participant")
	}
	return newVideoStream(op, &p.readers, opts, func(format *pb.VideoBufferType) proto.Message {
		return &pb.VideoStreamFromParticipantRequest{
			ParticipantHandle: proto.Uint64(p.handle.ID()),
			Type:              pb.VideoStreamType_VIDEO_STREAM_NATIVE.Enum(),
			TrackSource:       pb.TrackSource(source).Enum(),
			Format:            format,
			NormalizeStride:   proto.Bool(true),
		}
	}, func(resp *pb.FfiResponse) uint64 {
		return resp.GetVideoStreamFromParticipant().GetStream().GetHandle().GetId()
	}, func() error {
		if p.r.isClosed() {
			return ErrClosed
		}
		return ErrParticipantLeft
	})
}

func newVideoStream(op string, from *readers, opts VideoStreamOptions, build func(*pb.VideoBufferType) proto.Message, id func(*pb.FfiResponse) uint64, eos func() error) (*VideoStream, error) {
	if opts.Capacity < 0 {
		return nil, invalid(op, "capacity %d", opts.Capacity)
	}
	if opts.Capacity == 0 {
		opts.Capacity = DefaultVideoStreamCapacity
	}
	// Always name the format: left unset, the library passes I422 and I444 frames through as
	// they were captured. Never send the zero format either: the protocol's 0 is RGBA.
	if opts.Format == 0 {
		opts.Format = media.I420
	}
	if !media.CanConvert(media.I420, opts.Format) {
		return nil, invalid(op, "format %v: the library delivers I420, RGBA, BGRA, ARGB, ABGR or RGB24", opts.Format)
	}
	pf, _ := mediapb.BufferType(int(opts.Format))
	format := pf.Enum()
	c, err := engine.Default()
	if err != nil {
		return nil, &RequestError{Op: op, Err: err}
	}
	resp, err := c.Request(build(format))
	if err != nil {
		return nil, &RequestError{Op: op, Err: err}
	}
	hid := id(resp)
	if hid == 0 {
		return nil, &RequestError{Op: op, Message: "no stream in response"}
	}
	// A frame at the reader, Capacity queued, one being filled, and one in flight between the
	// dispatcher and the queue: beyond that a buffer is garbage, not a pool entry.
	vs := &VideoStream{format: opts.Format, poolCap: opts.Capacity + 3}
	ms, err := startStream(c, engine.VideoStreamEvents, owned(c.Own(hid, "video stream")), from, opts.Capacity, nil,
		func(ev *pb.FfiEvent) (*media.VideoFrame, bool, bool) { return vs.decode(c, ev) }, vs.Release, eos)
	if err != nil {
		return nil, err
	}
	vs.ms = ms
	return vs, nil
}

// decode copies a received frame into a pooled frame and drops the library's buffer at once.
// It runs on the dispatcher.
func (v *VideoStream) decode(c *engine.Client, ev *pb.FfiEvent) (*media.VideoFrame, bool, bool) {
	e := ev.GetVideoStreamEvent()
	if e.GetEos() != nil {
		return nil, false, true
	}
	fr := e.GetFrameReceived()
	if fr == nil {
		return nil, false, false
	}
	buf := fr.GetBuffer()
	if id := buf.GetHandle().GetId(); id != 0 {
		defer c.DropHandle(id)
	}
	info := buf.GetInfo()
	t, ok := mediapb.MediaBufferType(info.GetType())
	if !ok {
		return nil, false, false
	}
	f := v.get()
	data, err := mediapb.CopyVideo(info, f.Data)
	if err != nil {
		v.Release(f)
		return nil, false, false
	}
	f.Type, f.Width, f.Height, f.Data = media.VideoBufferType(t), int(info.GetWidth()), int(info.GetHeight()), data
	f.Timestamp = time.Duration(fr.GetTimestampUs()) * time.Microsecond
	f.Rotation = media.VideoRotation(mediapb.Degrees(fr.GetRotation()))
	return f, true, false
}

func (v *VideoStream) get() *media.VideoFrame {
	v.poolMu.Lock()
	defer v.poolMu.Unlock()
	if n := len(v.pool); n > 0 {
		f := v.pool[n-1]
		v.pool[n-1] = nil
		v.pool = v.pool[:n-1]
		return f
	}
	return &media.VideoFrame{}
}

// Release gives a frame that Recv returned back to the stream, which reuses its buffer. The
// caller must not use f (or its Data) afterwards, and must release a frame at most once.
// Releasing is optional: a frame that is never released is collected as garbage. Release of
// nil does nothing.
func (v *VideoStream) Release(f *media.VideoFrame) {
	if f == nil {
		return
	}
	v.poolMu.Lock()
	defer v.poolMu.Unlock()
	if len(v.pool) < v.poolCap {
		v.pool = append(v.pool, f)
	}
}

// Format reports the pixel format of the stream's frames.
func (v *VideoStream) Format() media.VideoBufferType { return v.format }

// Recv returns the next frame, waiting for one. The frame is the caller's (see VideoStream).
// After the stream ends it returns why.
func (v *VideoStream) Recv(ctx context.Context) (*media.VideoFrame, error) {
	return v.ms.recv(ctx)
}

// Frames returns the stream as a sequence for range loops. Each frame is valid only inside
// the loop body: it is released when the body returns (copy what you keep). The sequence
// stops at the end of the stream; it yields the reason as an error unless it is io.EOF.
func (v *VideoStream) Frames(ctx context.Context) iter.Seq2[*media.VideoFrame, error] {
	return func(yield func(*media.VideoFrame, error) bool) {
		for f, err := range v.ms.all(ctx) {
			more := yield(f, err)
			v.Release(f)
			if !more {
				return
			}
		}
	}
}

// Dropped reports how many frames were dropped because the reader fell behind.
func (v *VideoStream) Dropped() uint64 { return v.ms.dropped() }

// Err reports why the stream ended, or nil while it runs.
func (v *VideoStream) Err() error { return v.ms.ended() }

// Close stops the stream and releases the library's stream; Recv then returns
// ErrStreamClosed. Close is idempotent.
func (v *VideoStream) Close() error {
	if v == nil {
		return nil
	}
	v.ms.close()
	return nil
}
