package livekit

import (
	"context"
	"fmt"
	"iter"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/mediapb"
	"github.com/livekit-ffi-go/sdk/livekit/media"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// DefaultAudioStreamCapacity is the AudioStream queue used when AudioStreamOptions.Capacity
// is zero: 50 frames, 500 ms of 10 ms frames. A reader that falls further behind loses the
// oldest frames (counted by Dropped) rather than hearing ever older audio.
const DefaultAudioStreamCapacity = 50

// AudioStreamOptions are the parameters of NewAudioStream. The zero value reads 48 kHz mono
// in 10 ms frames.
type AudioStreamOptions struct {
	// SampleRate in Hz of the frames returned; 0 means 48000. The engine resamples.
	SampleRate int
	// NumChannels of the frames returned; 0 means 1. The engine remixes.
	NumChannels int
	// FrameSize is the duration of each frame, a multiple of 10 ms; 0 means 10 ms.
	FrameSize time.Duration
	// Capacity is how many frames wait for Recv before the oldest are dropped; 0 means
	// DefaultAudioStreamCapacity.
	Capacity int
}

func (o AudioStreamOptions) resolve(op string) (rate, ch int, frameMS uint32, capacity int, err error) {
	rate, ch, capacity = o.SampleRate, o.NumChannels, o.Capacity
	if rate == 0 {
		rate = 48000
	}
	if ch == 0 {
		ch = 1
	}
	if err = checkFormat(op, rate, ch); err != nil {
		return
	}
	fs := o.FrameSize
	if fs == 0 {
		fs = 10 * time.Millisecond
	}
	if fs < 0 || fs > time.Second || fs%(10*time.Millisecond) != 0 {
		err = invalid(op, "FrameSize %v is not a multiple of 10 ms up to 1s", o.FrameSize)
		return
	}
	if capacity < 0 {
		err = invalid(op, "negative Capacity %d", capacity)
		return
	}
	if capacity == 0 {
		capacity = DefaultAudioStreamCapacity
	}
	return rate, ch, uint32(fs / time.Millisecond), capacity, nil
}

// AudioStream receives PCM from a track (remote, or local for a loopback) or from a
// participant's track of one source. Read it with Recv or Frames; Close it when done.
//
// A stream ends when what it reads goes away: Recv returns ErrTrackEnded after the track is
// unsubscribed, unpublished or closed, ErrParticipantLeft when the participant leaves,
// ErrClosed when the room closes, and ErrStreamClosed after Close; whether the engine or the
// room notices first, the error is the same. (io.EOF only if the engine ends a stream in its
// first moments, before NewAudioStream has returned.) Frames already queued are returned
// first.
type AudioStream struct {
	s *mediaStream[*media.AudioFrame]
}

// NewAudioStream reads track, converted to the rate, channels and frame size opts ask for.
func NewAudioStream(track Track, opts AudioStreamOptions) (*AudioStream, error) {
	const op = "new audio stream"
	var tb *trackBase
	switch t := track.(type) {
	case nil:
		return nil, invalid(op, "nil track")
	case *LocalAudioTrack:
		if t != nil {
			tb = &t.trackBase
		}
	case *RemoteAudioTrack:
		if t != nil {
			tb = &t.trackBase
		}
	default:
		return nil, invalid(op, "%T is not an audio track", track)
	}
	if tb == nil || tb.handle == nil {
		return nil, invalid(op, "nil track")
	}
	if err := endedErr(&tb.readers); err != nil {
		return nil, err
	}
	rate, ch, fms, capacity, err := opts.resolve(op)
	if err != nil {
		return nil, err
	}
	c, err := engine.Default()
	if err != nil {
		return nil, &RequestError{Op: op, Err: err}
	}
	resp, err := c.Request(&pb.NewAudioStreamRequest{
		TrackHandle: proto.Uint64(tb.handle.ID()),
		Type:        pb.AudioStreamType_AUDIO_STREAM_NATIVE.Enum(),
		SampleRate:  proto.Uint32(uint32(rate)), NumChannels: proto.Uint32(uint32(ch)), FrameSizeMs: proto.Uint32(fms),
	})
	if err != nil {
		if ended := endedErr(&tb.readers); ended != nil {
			return nil, ended
		}
		return nil, &RequestError{Op: op, Err: err}
	}
	return openAudioStream(c, op, resp.GetNewAudioStream().GetStream().GetHandle().GetId(), &tb.readers, capacity,
		func() error { return ErrTrackEnded })
}

// NewAudioStreamFromParticipant reads p's track of the given source (SourceMicrophone, say),
// whichever it is: the stream waits for the participant to publish one and follows it across
// unsubscribe and resubscribe. It ends when the participant leaves.
func NewAudioStreamFromParticipant(p *RemoteParticipant, source TrackSource, opts AudioStreamOptions) (*AudioStream, error) {
	const op = "new audio stream from participant"
	if p == nil {
		return nil, invalid(op, "nil participant")
	}
	rate, ch, fms, capacity, err := opts.resolve(op)
	if err != nil {
		return nil, err
	}
	if err := endedErr(&p.readers); err != nil {
		return nil, err
	}
	if p.r.isClosed() {
		return nil, &RequestError{Op: op, Err: ErrClosed}
	}
	resp, err := p.r.c.Request(&pb.AudioStreamFromParticipantRequest{
		ParticipantHandle: proto.Uint64(p.handle.ID()),
		Type:              pb.AudioStreamType_AUDIO_STREAM_NATIVE.Enum(),
		TrackSource:       pb.TrackSource(source).Enum(),
		SampleRate:        proto.Uint32(uint32(rate)), NumChannels: proto.Uint32(uint32(ch)), FrameSizeMs: proto.Uint32(fms),
	})
	if err != nil {
		if ended := endedErr(&p.readers); ended != nil {
			return nil, ended
		}
		return nil, &RequestError{Op: op, Err: err}
	}
	return openAudioStream(p.r.c, op, resp.GetAudioStreamFromParticipant().GetStream().GetHandle().GetId(), &p.readers, capacity,
		func() error {
			if p.r.isClosed() {
				return ErrClosed
			}
			return ErrParticipantLeft
		})
}

// openAudioStream starts the stream the library created. The library's end of stream races
// the room's own account of why (the track or participant went away): eos names the reason
// the library ends such a stream for, so that Recv reports the same error whichever comes
// first.
func openAudioStream(c *engine.Client, op string, id uint64, from *readers, capacity int, eos func() error) (*AudioStream, error) {
	if id == 0 {
		return nil, &RequestError{Op: op, Message: "the library returned no stream"}
	}
	s, err := startStream(c, engine.AudioStreamEvents, c.Own(id, "audio stream"), from, capacity, rawAudio(c), decodeAudio(c), nil, eos)
	if err != nil {
		return nil, err
	}
	return &AudioStream{s: s}, nil
}

// decodeAudio copies each received frame out of library memory and drops its buffer at once,
// on the dispatcher.
func decodeAudio(c *engine.Client) decodeFunc[*media.AudioFrame] {
	return func(ev *pb.FfiEvent) (*media.AudioFrame, bool, bool) {
		ae := ev.GetAudioStreamEvent()
		if ae.GetEos() != nil {
			return nil, false, true
		}
		buf := ae.GetFrameReceived().GetFrame()
		if buf == nil {
			return nil, false, false
		}
		info := buf.GetInfo()
		f := &media.AudioFrame{
			Data:              mediapb.CopyAudio(info, nil),
			SampleRate:        int(info.GetSampleRate()),
			NumChannels:       int(info.GetNumChannels()),
			SamplesPerChannel: int(info.GetSamplesPerChannel()),
		}
		if id := buf.GetHandle().GetId(); id != 0 {
			c.DropHandle(id)
		}
		return f, len(f.Data) > 0, false
	}
}

// Recv returns the next frame, waiting for one until ctx ends. After the stream ends it
// returns why (see AudioStream).
func (s *AudioStream) Recv(ctx context.Context) (*media.AudioFrame, error) {
	if ctx == nil {
		return nil, invalid("receive audio", "nil context")
	}
	return s.s.recv(ctx)
}

// Frames is Recv as a sequence for range loops. It stops at the end of the stream, yielding
// the reason unless it is io.EOF, or when ctx ends, yielding ctx's error.
func (s *AudioStream) Frames(ctx context.Context) iter.Seq2[*media.AudioFrame, error] {
	return s.s.all(ctx)
}

// Dropped reports how many frames were dropped because the reader fell behind.
func (s *AudioStream) Dropped() uint64 { return s.s.dropped() }

// Err reports why the stream ended, or nil while it runs.
func (s *AudioStream) Err() error { return s.s.ended() }

// Close ends the stream and releases it in the engine. It is idempotent.
func (s *AudioStream) Close() error {
	s.s.close()
	return nil
}

// String describes the stream for logs.
func (s *AudioStream) String() string { return fmt.Sprintf("AudioStream(%d)", s.s.handle.ID()) }
