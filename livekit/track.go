package livekit

import (
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// Track is an audio or video track: local (LocalAudioTrack, LocalVideoTrack: created from a
// source, published by the local participant) or remote (RemoteAudioTrack, RemoteVideoTrack:
// handed over when a subscription starts). Switch on the concrete type.
type Track interface {
	// SID reports the track's server id ("" for a local track until it is published).
	SID() string
	// Name reports the track's name.
	Name() string
	// Kind reports whether the track is audio or video.
	Kind() TrackKind
	// Info returns a snapshot of the track's state.
	Info() TrackInfo

	base() *trackBase
}

// TrackInfo is a snapshot of a track's state.
type TrackInfo struct {
	SID    string
	Name   string
	Kind   TrackKind
	Muted  bool
	Remote bool
}

func trackInfoFrom(in *pb.TrackInfo) TrackInfo {
	return TrackInfo{SID: in.GetSid(), Name: in.GetName(), Kind: TrackKind(in.GetKind()), Muted: in.GetMuted(), Remote: in.GetRemote()}
}

// ender is something that reads from a track or a participant (an audio or video stream) and
// must end when what it reads from goes away: the library sends no end-of-stream then.
type ender interface{ end(err error) }

// readers is the set of streams reading from one track or participant.
type readers struct {
	mu    sync.Mutex
	set   map[ender]struct{}
	ended bool
	err   error
}

// attach adds s; it reports false (and attaches nothing) once the set has ended, returning
// the reason.
func (rs *readers) attach(s ender) (bool, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.ended {
		return false, rs.err
	}
	if rs.set == nil {
		rs.set = map[ender]struct{}{}
	}
	rs.set[s] = struct{}{}
	return true, nil
}

func (rs *readers) detach(s ender) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	delete(rs.set, s)
}

// endAll ends every attached stream with err; later attaches fail with it.
func (rs *readers) endAll(err error) {
	rs.mu.Lock()
	if rs.ended {
		rs.mu.Unlock()
		return
	}
	rs.ended, rs.err = true, err
	set := rs.set
	rs.set = nil
	rs.mu.Unlock()
	for s := range set {
		s.end(err)
	}
}

// trackBase is what every track shares: its handle, its state and the streams reading it.
type trackBase struct {
	handle  owned
	mu      sync.Mutex
	info    TrackInfo
	readers readers
}

func (t *trackBase) base() *trackBase { return t }

// SID reports the track's server id.
func (t *trackBase) SID() string { t.mu.Lock(); defer t.mu.Unlock(); return t.info.SID }

// Name reports the track's name.
func (t *trackBase) Name() string { t.mu.Lock(); defer t.mu.Unlock(); return t.info.Name }

// Kind reports whether the track is audio or video.
func (t *trackBase) Kind() TrackKind { t.mu.Lock(); defer t.mu.Unlock(); return t.info.Kind }

// Info returns a snapshot of the track's state.
func (t *trackBase) Info() TrackInfo { t.mu.Lock(); defer t.mu.Unlock(); return t.info }

func (t *trackBase) setSID(sid string) { t.mu.Lock(); t.info.SID = sid; t.mu.Unlock() }

func (t *trackBase) setMuted(m bool) { t.mu.Lock(); t.info.Muted = m; t.mu.Unlock() }

// release ends the streams reading the track, then drops its handle.
func (t *trackBase) release(err error) {
	t.readers.endAll(err)
	if t.handle != nil {
		t.handle.Close()
	}
}

// RemoteAudioTrack is a subscribed remote audio track. Read it with NewAudioStream. It is
// released when the subscription ends (the streams reading it end then too).
type RemoteAudioTrack struct{ trackBase }

// RemoteVideoTrack is a subscribed remote video track. Read it with NewVideoStream. It is
// released when the subscription ends (the streams reading it end then too).
type RemoteVideoTrack struct{ trackBase }

// newRemoteTrack wraps a track handle the room was given on subscription.
func newRemoteTrack(h owned, in *pb.TrackInfo) Track {
	info := trackInfoFrom(in)
	if info.Kind == TrackKindVideo {
		return &RemoteVideoTrack{trackBase{handle: h, info: info}}
	}
	return &RemoteAudioTrack{trackBase{handle: h, info: info}}
}

// createLocalTrack asks the engine for a track on a source (req is a CreateAudioTrackRequest
// or CreateVideoTrackRequest) and takes ownership of it.
func createLocalTrack(c *engine.Client, op string, kind TrackKind, req proto.Message) (owned, TrackInfo, error) {
	resp, err := c.Request(req)
	if err != nil {
		return nil, TrackInfo{}, &RequestError{Op: op, Err: err}
	}
	ot := resp.GetCreateAudioTrack().GetTrack()
	if kind == TrackKindVideo {
		ot = resp.GetCreateVideoTrack().GetTrack()
	}
	if ot.GetHandle().GetId() == 0 {
		return nil, TrackInfo{}, &RequestError{Op: op, Message: "the library returned no track"}
	}
	info := trackInfoFrom(ot.GetInfo())
	info.Kind = kind
	return c.Own(ot.GetHandle().GetId(), "local "+kind.String()+" track"), info, nil
}
