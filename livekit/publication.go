package livekit

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// TrackPublicationInfo is a snapshot of a published track's state.
type TrackPublicationInfo struct {
	SID            string
	Name           string
	Kind           TrackKind
	Source         TrackSource
	Simulcasted    bool
	Width, Height  int
	MimeType       string
	Muted          bool
	Remote         bool
	EncryptionType EncryptionType
}

func publicationInfoFrom(in *pb.TrackPublicationInfo) TrackPublicationInfo {
	return TrackPublicationInfo{
		SID: in.GetSid(), Name: in.GetName(), Kind: TrackKind(in.GetKind()), Source: TrackSource(in.GetSource()),
		Simulcasted: in.GetSimulcasted(), Width: int(in.GetWidth()), Height: int(in.GetHeight()),
		MimeType: in.GetMimeType(), Muted: in.GetMuted(), Remote: in.GetRemote(),
		EncryptionType: EncryptionType(in.GetEncryptionType()),
	}
}

// LocalTrack is a track this client can publish: *LocalAudioTrack or *LocalVideoTrack.
type LocalTrack interface {
	Track
	isLocalTrack()
}

// LocalTrackPublication is a track the local participant published. The track stays the
// caller's (close it when done); the publication belongs to the room and goes away with
// UnpublishTrack or the room.
type LocalTrackPublication struct {
	r      *room
	handle owned
	track  LocalTrack
	info   TrackPublicationInfo // guarded by r.mu
}

// SID reports the publication's server id (it changes after a full reconnect; see
// LocalTrackRepublished).
func (p *LocalTrackPublication) SID() string { p.r.mu.Lock(); defer p.r.mu.Unlock(); return p.info.SID }

// Info returns a snapshot of the publication's state.
func (p *LocalTrackPublication) Info() TrackPublicationInfo {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	return p.info
}

// Track returns the published track.
func (p *LocalTrackPublication) Track() LocalTrack { return p.track }

// SetMuted mutes or unmutes the published track: muted, it sends silence or nothing and
// remote participants see TrackMuted.
func (p *LocalTrackPublication) SetMuted(muted bool) error {
	_, err := request[*pb.LocalTrackMuteResponse](p.r, "mute track", &pb.LocalTrackMuteRequest{
		TrackHandle: proto.Uint64(p.track.base().handle.ID()), Mute: proto.Bool(muted)})
	if err == nil {
		p.track.base().setMuted(muted)
		p.r.mu.Lock()
		p.info.Muted = muted
		p.r.mu.Unlock()
	}
	return err
}

// AudioBitrate presets for TrackPublishOptions.AudioBitrate, in bits per second.
const (
	AudioBitrateTelephone     = 12_000
	AudioBitrateSpeech        = 24_000
	AudioBitrateMusic         = 48_000 // the library's default
	AudioBitrateMusicStereo   = 64_000
	AudioBitrateMusicHQ       = 96_000
	AudioBitrateMusicHQStereo = 128_000
)

// VideoCodec is a video codec to publish with. The zero value leaves the library's choice
// (VP8).
type VideoCodec int

// The video codecs the library offers.
const (
	CodecDefault VideoCodec = iota
	CodecVP8
	CodecH264
	CodecVP9
	CodecAV1
	CodecH265
)

// DegradationPreference says what the encoder gives up first when bandwidth or CPU is short.
// The zero value leaves the library's choice.
type DegradationPreference int

// The degradation preferences.
const (
	DegradationDefault DegradationPreference = iota
	DegradationBalanced
	DegradationMaintainFramerate
	DegradationMaintainResolution
)

// TrackPublishOptions are the parameters of PublishTrack. The zero value publishes with the
// library's defaults: source unknown, DTX and RED on for audio at 48 kbps, VP8 with simulcast
// for video.
type TrackPublishOptions struct {
	Source TrackSource
	// Stream groups tracks that belong together (a camera and its microphone).
	Stream string

	// AudioBitrate caps the audio bitrate (bits per second; see the AudioBitrate presets).
	AudioBitrate int
	// DisableDTX keeps sending packets during silence.
	DisableDTX bool
	// DisableRED turns off redundant audio encoding.
	DisableRED bool

	// VideoCodec picks the codec.
	VideoCodec VideoCodec
	// VideoMaxBitrate (bits per second) and VideoMaxFramerate cap the top layer.
	VideoMaxBitrate   int
	VideoMaxFramerate float64
	// DisableSimulcast publishes a single layer.
	DisableSimulcast bool
	// ScalabilityMode is an SVC mode such as "L3T3_KEY" (VP9 and AV1).
	ScalabilityMode string
	// Degradation says what to give up first.
	Degradation DegradationPreference
}

func (o TrackPublishOptions) proto() (*pb.TrackPublishOptions, error) {
	out := &pb.TrackPublishOptions{Source: pb.TrackSource(o.Source).Enum()}
	if o.Stream != "" {
		out.Stream = proto.String(o.Stream)
	}
	if o.AudioBitrate > 0 {
		out.AudioEncoding = &pb.AudioEncoding{MaxBitrate: proto.Uint64(uint64(o.AudioBitrate))}
	}
	if o.DisableDTX {
		out.Dtx = proto.Bool(false)
	}
	if o.DisableRED {
		out.Red = proto.Bool(false)
	}
	switch o.VideoCodec {
	case CodecDefault:
	case CodecVP8:
		out.VideoCodec = pb.VideoCodec_VP8.Enum()
	case CodecH264:
		out.VideoCodec = pb.VideoCodec_H264.Enum()
	case CodecVP9:
		out.VideoCodec = pb.VideoCodec_VP9.Enum()
	case CodecAV1:
		out.VideoCodec = pb.VideoCodec_AV1.Enum()
	case CodecH265:
		out.VideoCodec = pb.VideoCodec_H265.Enum()
	default:
		return nil, fmt.Errorf("unknown video codec %d", o.VideoCodec)
	}
	if o.VideoMaxBitrate > 0 || o.VideoMaxFramerate > 0 {
		if o.VideoMaxBitrate <= 0 || o.VideoMaxFramerate <= 0 {
			return nil, fmt.Errorf("VideoMaxBitrate and VideoMaxFramerate go together")
		}
		out.VideoEncoding = &pb.VideoEncoding{MaxBitrate: proto.Uint64(uint64(o.VideoMaxBitrate)), MaxFramerate: proto.Float64(o.VideoMaxFramerate)}
	}
	if o.DisableSimulcast {
		out.Simulcast = proto.Bool(false)
	}
	if o.ScalabilityMode != "" {
		out.ScalabilityMode = proto.String(o.ScalabilityMode)
	}
	switch o.Degradation {
	case DegradationDefault:
	case DegradationBalanced:
		out.DegradationPreference = pb.DegradationPreference_DEGRADATION_PREFERENCE_BALANCED.Enum()
	case DegradationMaintainFramerate:
		out.DegradationPreference = pb.DegradationPreference_DEGRADATION_PREFERENCE_MAINTAIN_FRAMERATE.Enum()
	case DegradationMaintainResolution:
		out.DegradationPreference = pb.DegradationPreference_DEGRADATION_PREFERENCE_MAINTAIN_RESOLUTION.Enum()
	default:
		return nil, fmt.Errorf("unknown degradation preference %d", o.Degradation)
	}
	return out, nil
}

// PublishTrack publishes a local track to the room and returns its publication once the
// server has accepted it. The publication is registered with the room before the
// LocalTrackPublished event that follows is delivered. If ctx ends first, the track is
// unpublished again as soon as the library reports the publish (it cannot be cancelled).
func (p *LocalParticipant) PublishTrack(ctx context.Context, track LocalTrack, opts TrackPublishOptions) (*LocalTrackPublication, error) {
	const op = "publish track"
	if track == nil {
		return nil, invalid(op, "nil track")
	}
	popts, err := opts.proto()
	if err != nil {
		return nil, invalid(op, "%v", err)
	}
	var pub *LocalTrackPublication
	req := &pb.PublishTrackRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		TrackHandle:            proto.Uint64(track.base().handle.ID()),
		Options:                popts,
	}
	_, err = call[*pb.PublishTrackCallback](ctx, p.r, op, req, engine.CallOptions{
		// On the dispatcher, before the LocalTrackPublished that follows is routed.
		OnComplete: func(ev *pb.FfiEvent) {
			op := ev.GetPublishTrack().GetPublication()
			if op == nil {
				return
			}
			pub = p.r.addLocalPublication(track, op)
		},
		Late: func(*pb.FfiEvent) {
			if pub != nil {
				ctx, cancel := context.WithTimeout(context.Background(), disconnectTimeout)
				defer cancel()
				p.UnpublishTrack(ctx, pub.SID())
			}
		},
	})
	if err != nil {
		return nil, err
	}
	return pub, nil
}

func (r *room) addLocalPublication(track LocalTrack, op *pb.OwnedTrackPublication) *LocalTrackPublication {
	pub := &LocalTrackPublication{r: r, handle: r.lib.own(op.GetHandle().GetId(), "local publication"), track: track,
		info: publicationInfoFrom(op.GetInfo())}
	track.base().setSID(pub.info.SID)
	r.mu.Lock()
	closing := r.closing || r.local == nil
	if !closing {
		r.local.publications[pub.info.SID] = pub
	}
	r.mu.Unlock()
	if closing {
		pub.handle.Close()
	}
	return pub
}

// UnpublishTrack stops publishing the track with this SID and waits for the server. The
// track itself stays usable (publish it again, or close it). Bound ctx: the library may not
// answer while the room is reconnecting. A SID that is not one of the participant's
// publications (TrackPublications) is refused with ErrInvalidArgument.
func (p *LocalParticipant) UnpublishTrack(ctx context.Context, sid string) error {
	const op = "unpublish track"
	// The library aborts the process on a SID it cannot parse, so only known ones go through.
	if sid == "" {
		return invalid(op, "empty track SID")
	}
	p.r.mu.Lock()
	_, known := p.publications[sid]
	p.r.mu.Unlock()
	if !known {
		if p.r.isClosed() {
			return &RequestError{Op: op, Err: ErrClosed}
		}
		return invalid(op, "no publication with SID %q", quote(sid))
	}
	_, err := call[*pb.UnpublishTrackCallback](ctx, p.r, op, &pb.UnpublishTrackRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		TrackSid:               proto.String(sid),
		StopOnUnpublish:        proto.Bool(false),
	}, engine.CallOptions{})
	return err
}

// TrackPublications lists the local participant's publications.
func (p *LocalParticipant) TrackPublications() []*LocalTrackPublication {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	out := make([]*LocalTrackPublication, 0, len(p.publications))
	for _, pub := range p.publications {
		out = append(out, pub)
	}
	return out
}

// RemoteTrackPublication is a track a remote participant published. Its Track is set while
// this client is subscribed to it.
type RemoteTrackPublication struct {
	r           *room
	handle      owned
	participant *RemoteParticipant
	info        TrackPublicationInfo // guarded by r.mu
	track       Track                // guarded by r.mu; nil unless subscribed
}

// SID reports the publication's server id.
func (p *RemoteTrackPublication) SID() string {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	return p.info.SID
}

// Info returns a snapshot of the publication's state.
func (p *RemoteTrackPublication) Info() TrackPublicationInfo {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	return p.info
}

// Participant returns the publisher.
func (p *RemoteTrackPublication) Participant() *RemoteParticipant { return p.participant }

// Track returns the subscribed track (*RemoteAudioTrack or *RemoteVideoTrack), or nil while
// not subscribed.
func (p *RemoteTrackPublication) Track() Track { p.r.mu.Lock(); defer p.r.mu.Unlock(); return p.track }

// SetSubscribed subscribes to the track or ends the subscription (for rooms joined with
// WithAutoSubscribe(false), or to stop receiving). TrackSubscribed or TrackUnsubscribed follows.
func (p *RemoteTrackPublication) SetSubscribed(subscribe bool) error {
	_, err := request[*pb.SetSubscribedResponse](p.r, "set subscribed", &pb.SetSubscribedRequest{
		Subscribe: proto.Bool(subscribe), PublicationHandle: proto.Uint64(p.handle.ID())})
	return err
}

// SetEnabled asks the server to pause (false) or resume forwarding the subscribed track.
// It has no effect unless subscribed.
func (p *RemoteTrackPublication) SetEnabled(enabled bool) error {
	_, err := request[*pb.EnableRemoteTrackPublicationResponse](p.r, "enable track", &pb.EnableRemoteTrackPublicationRequest{
		TrackPublicationHandle: proto.Uint64(p.handle.ID()), Enabled: proto.Bool(enabled)})
	return err
}

// SetVideoDimensions tells the server the size the video is shown at, so it forwards the
// simulcast layer that fits. It has no effect unless subscribed.
func (p *RemoteTrackPublication) SetVideoDimensions(width, height int) error {
	if width <= 0 || height <= 0 {
		return invalid("set video dimensions", "%dx%d", width, height)
	}
	_, err := request[*pb.UpdateRemoteTrackPublicationDimensionResponse](p.r, "set video dimensions", &pb.UpdateRemoteTrackPublicationDimensionRequest{
		TrackPublicationHandle: proto.Uint64(p.handle.ID()), Width: proto.Uint32(uint32(width)), Height: proto.Uint32(uint32(height))})
	return err
}

// VideoQuality is a simulcast layer.
type VideoQuality int

// The simulcast layers.
const (
	VideoQualityLow    = VideoQuality(pb.VideoQuality_VIDEO_QUALITY_LOW)
	VideoQualityMedium = VideoQuality(pb.VideoQuality_VIDEO_QUALITY_MEDIUM)
	VideoQualityHigh   = VideoQuality(pb.VideoQuality_VIDEO_QUALITY_HIGH)
)

func (q VideoQuality) String() string { return lower(pb.VideoQuality(q).String(), "VIDEO_QUALITY_") }

// SetVideoQuality asks the server for a simulcast layer of a simulcast video track.
func (p *RemoteTrackPublication) SetVideoQuality(q VideoQuality) error {
	info := p.Info()
	if info.Kind != TrackKindVideo || !info.Simulcasted {
		return invalid("set video quality", "track %s is not a simulcast video track", info.SID)
	}
	_, err := request[*pb.SetRemoteTrackPublicationQualityResponse](p.r, "set video quality", &pb.SetRemoteTrackPublicationQualityRequest{
		TrackPublicationHandle: proto.Uint64(p.handle.ID()), Quality: pb.VideoQuality(q).Enum()})
	return err
}

// release drops the publication's track (ending its streams) and its handle.
func (p *RemoteTrackPublication) release(err error) {
	p.r.mu.Lock()
	t := p.track
	p.track = nil
	p.r.mu.Unlock()
	if t != nil {
		t.base().release(err)
	}
	p.handle.Close()
}
