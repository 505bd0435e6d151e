package livekit

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/mediapb"
	"github.com/livekit-ffi-go/sdk/livekit/media"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// DefaultAudioQueueSize is the AudioSource queue used when AudioSourceOptions.QueueSize is
// zero and not FastPath: 50 ms.
//
// The library's own default (1000 ms, what the Python and Node SDKs use) lets a producer run
// up to a second ahead of playout: a capture returns at once while the buffer holds no more
// than the queue size, so a producer paced by CaptureFrame alone (TTS, a file, a relay) keeps
// that much audio buffered, and everything it sends (an answer, a barge-in) is heard that much
// later. 50 ms is five 10 ms frames: enough slack for a real-time producer's timer and GC
// jitter (the source plays silence whenever the buffer runs dry, so a late frame is a click,
// never an error), while a producer that runs ahead stays within about 100 ms of playout.
//
// Measured glass-to-glass through a local server, 440 Hz bursts after silence, onset detected
// on the receiver (bench/audio.txt, 4 runs each): with a producer that runs ahead, median
// 108-191 ms at 50 ms against 1045-1072 ms at 1000 ms; with frames paced on a 10 ms clock the
// queue barely matters (54-139 ms against 58-193 ms; the receiver's jitter buffer dominates).
const DefaultAudioQueueSize = 50 * time.Millisecond

// maxAudioQueue bounds QueueSize: the library keeps twice the queue in memory.
const maxAudioQueue = 60 * time.Second

// AudioSourceOptions are the parameters of NewAudioSource.
type AudioSourceOptions struct {
	// SampleRate in Hz; 0 means 48000. Every captured frame must have this rate.
	SampleRate int
	// NumChannels; 0 means 1 (mono). Every captured frame must have this many channels.
	NumChannels int
	// QueueSize is how much audio the source buffers ahead of playout; 0 means
	// DefaultAudioQueueSize. It must be a whole number of 10 ms (the library aborts the process
	// on anything else, so it is refused here).
	QueueSize time.Duration
	// FastPath asks for the library's unbuffered path (queue size 0): each frame goes to the
	// encoder as it is captured, so frames must be exactly 10 ms and paced by the caller. It
	// gives the lowest latency and no protection against jitter. QueueSize must be 0.
	FastPath bool
}

// AudioSource feeds PCM into the native engine: create a LocalAudioTrack from it, publish the
// track, then CaptureFrame in real time. Methods are safe for concurrent use.
//
// CaptureFrame copies the frame and returns; a goroutine of the source hands it to the library
// (which costs the library some 25 µs per frame, kept off the caller's path). The library takes
// one frame at a time, and only when its queue has room, so a capture waits until the frame
// before it has been taken: a producer that runs ahead is paced to playout (backpressure),
// holding at most the queue plus one frame, as if each capture waited for its own frame.
type AudioSource struct {
	c        *engine.Client
	handle   *engine.Handle
	rate     int
	channels int
	queue    time.Duration // 0: fast path

	closed atomic.Bool
	done   chan struct{} // closed by Close: wakes captures waiting for their turn
	cap    *capturer

	pmu        sync.Mutex
	playoutEnd time.Time // when what was captured so far will have played
}

// capturer hands accepted frames to the library, one at a time, without allocating: a reused
// request (its fields point at the variables here), a staging buffer and an engine.Flight. It
// holds no reference to its AudioSource, so a source nobody closed can still be collected
// (a cleanup then stops the capturer).
type capturer struct {
	// turn holds one token from the moment a frame is accepted until the library has taken
	// it (the library parks at most one capture per source and fails a second).
	turn chan struct{}
	// sending is held from acceptance until the frame's request is in the library, so that
	// ClearBuffer cannot overtake a frame CaptureFrame already returned for.
	sending sync.Mutex
	work    chan int // the accepted frame's sample count; one slot (the turn guards it)

	mu      sync.Mutex
	stopped bool
	failed  error // the library refused the last frame; the next call reports it

	// Owned by whoever holds the turn.
	flight          *engine.Flight
	asyncID, ptr    uint64
	nch, srate, spc uint32
	stage           []int16
}

// NewAudioSource creates a source of 16-bit PCM at the given rate and channel count.
func NewAudioSource(opts AudioSourceOptions) (*AudioSource, error) {
	const op = "new audio source"
	rate, ch := opts.SampleRate, opts.NumChannels
	if rate == 0 {
		rate = 48000
	}
	if ch == 0 {
		ch = 1
	}
	if err := checkFormat(op, rate, ch); err != nil {
		return nil, err
	}
	q := opts.QueueSize
	switch {
	case opts.FastPath && q != 0:
		return nil, invalid(op, "FastPath needs QueueSize 0, got %v", q)
	case opts.FastPath:
	case q == 0:
		q = DefaultAudioQueueSize
	case q < 0 || q > maxAudioQueue:
		return nil, invalid(op, "QueueSize %v out of range (10ms..%v)", q, maxAudioQueue)
	case q%(10*time.Millisecond) != 0:
		return nil, invalid(op, "QueueSize %v is not a whole number of 10 ms", q)
	}
	c, err := engine.Default()
	if err != nil {
		return nil, &RequestError{Op: op, Err: err}
	}
	resp, err := c.Request(&pb.NewAudioSourceRequest{
		Type:        pb.AudioSourceType_AUDIO_SOURCE_NATIVE.Enum(),
		SampleRate:  proto.Uint32(uint32(rate)),
		NumChannels: proto.Uint32(uint32(ch)),
		QueueSizeMs: proto.Uint32(uint32(q / time.Millisecond)),
	})
	if err != nil {
		return nil, &RequestError{Op: op, Err: err}
	}
	id := resp.GetNewAudioSource().GetSource().GetHandle().GetId()
	if id == 0 {
		return nil, &RequestError{Op: op, Message: "the library returned no source"}
	}
	s := &AudioSource{c: c, handle: c.Own(id, "audio source"), rate: rate, channels: ch, queue: q,
		done: make(chan struct{})}
	cp := &capturer{turn: make(chan struct{}, 1), work: make(chan int, 1),
		stage: make([]int16, rate/100*ch)}
	req := &pb.CaptureAudioFrameRequest{SourceHandle: proto.Uint64(id), RequestAsyncId: &cp.asyncID,
		Buffer: &pb.AudioFrameBufferInfo{DataPtr: &cp.ptr, NumChannels: &cp.nch, SampleRate: &cp.srate, SamplesPerChannel: &cp.spc}}
	// Owner: Close (and FailOwner) end a capture still parked in the library.
	if cp.flight, err = c.NewFlight(req, &cp.asyncID, id); err != nil {
		s.handle.Close()
		return nil, &RequestError{Op: op, Err: err}
	}
	s.cap = cp
	go cp.run()
	runtime.AddCleanup(s, (*capturer).stop, cp)
	return s, nil
}

// run hands each accepted frame to the library and releases the turn once it is taken.
func (cp *capturer) run() {
	for n := range cp.work {
		err := engine.SendPinned(cp.flight, cp.stage[:n], &cp.ptr)
		cp.sending.Unlock()
		var msg string
		if err == nil {
			msg, err = cp.flight.Wait()
		}
		if msg != "" || err != nil {
			cp.mu.Lock()
			if !cp.stopped {
				cp.failed = &RequestError{Op: "capture audio frame", Message: msg, Err: err}
			}
			cp.mu.Unlock()
		}
		<-cp.turn
	}
}

// submit hands the staged frame of n samples to run; the caller holds the turn.
func (cp *capturer) submit(n int) bool {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.stopped {
		return false
	}
	cp.sending.Lock()
	cp.work <- n // the turn keeps the slot free
	return true
}

// takeFailure returns (and clears) the failure of the last frame the library was handed.
func (cp *capturer) takeFailure() error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	err := cp.failed
	cp.failed = nil
	return err
}

// stop ends run and fails a capture parked in the library. It is idempotent.
func (cp *capturer) stop() {
	cp.mu.Lock()
	if !cp.stopped {
		cp.stopped = true
		close(cp.work)
	}
	cp.mu.Unlock()
	cp.flight.Close()
}

// checkFormat refuses rates and channel counts the engine was not built for.
func checkFormat(op string, rate, ch int) error {
	if rate < 8000 || rate > 192000 {
		return invalid(op, "sample rate %d Hz out of range (8000..192000)", rate)
	}
	if ch < 1 || ch > 8 {
		return invalid(op, "%d channels out of range (1..8)", ch)
	}
	return nil
}

// SampleRate reports the source's sample rate in Hz.
func (s *AudioSource) SampleRate() int { return s.rate }

// NumChannels reports the source's channel count.
func (s *AudioSource) NumChannels() int { return s.channels }

// QueueSize reports how much audio the source buffers (0 for the fast path).
func (s *AudioSource) QueueSize() time.Duration { return s.queue }

// CaptureFrame hands one frame to the engine. The frame must have the source's sample rate
// and channel count (and be exactly 10 ms on the fast path). CaptureFrame copies it, so it may
// be reused at once, and returns without waiting for the library; it waits only for its turn:
// until the library has taken the frame before it, which, once the queue is full, is when
// there is room (backpressure). If ctx ends or the source closes first, the frame is not
// captured. If the library refused the previous frame, CaptureFrame returns that error
// instead and does not take this one (Flush reports it too). Concurrent calls take turns.
func (s *AudioSource) CaptureFrame(ctx context.Context, f *media.AudioFrame) error {
	const op = "capture audio frame"
	if ctx == nil {
		return invalid(op, "nil context")
	}
	if err := s.check(op, f); err != nil {
		return err
	}
	if err := s.acquire(ctx, op); err != nil {
		return err
	}
	cp := s.cap
	if err := cp.takeFailure(); err != nil {
		<-cp.turn
		return err
	}
	n := len(f.Data)
	if cap(cp.stage) < n {
		cp.stage = make([]int16, n) // grows to the largest frame, once
	}
	copy(cp.stage[:n], f.Data)
	cp.nch, cp.srate, cp.spc = uint32(f.NumChannels), uint32(f.SampleRate), uint32(f.SamplesPerChannel)
	if !cp.submit(n) {
		<-cp.turn
		return &RequestError{Op: op, Err: ErrSourceClosed}
	}
	d := f.Duration()
	now := time.Now()
	s.pmu.Lock()
	if s.playoutEnd.Before(now) {
		s.playoutEnd = now
	}
	s.playoutEnd = s.playoutEnd.Add(d)
	s.pmu.Unlock()
	return nil
}

// acquire waits for the capture turn: until the library has taken the frame before.
func (s *AudioSource) acquire(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return &RequestError{Op: op, Err: err}
	}
	select {
	case s.cap.turn <- struct{}{}:
	case <-ctx.Done():
		return &RequestError{Op: op, Err: ctx.Err()}
	case <-s.done:
		return &RequestError{Op: op, Err: ErrSourceClosed}
	}
	if s.closed.Load() {
		<-s.cap.turn
		return &RequestError{Op: op, Err: ErrSourceClosed}
	}
	return nil
}

// Flush waits until the library has taken every frame captured so far (not until they have
// played: see WaitForPlayout) and returns the error it reported for the last one, if any.
func (s *AudioSource) Flush(ctx context.Context) error {
	const op = "flush audio source"
	if ctx == nil {
		return invalid(op, "nil context")
	}
	if s == nil {
		return invalid(op, "nil source")
	}
	if err := s.acquire(ctx, op); err != nil {
		return err
	}
	err := s.cap.takeFailure()
	<-s.cap.turn
	return err
}

// check validates a frame before it goes near the library.
func (s *AudioSource) check(op string, f *media.AudioFrame) error {
	if s == nil {
		return invalid(op, "nil source")
	}
	if s.closed.Load() {
		return &RequestError{Op: op, Err: ErrSourceClosed}
	}
	if err := f.Validate(); err != nil {
		return invalid(op, "%v", err)
	}
	if f.SampleRate != s.rate || f.NumChannels != s.channels {
		return invalid(op, "frame is %d Hz x %d channels, the source %d Hz x %d (resample with media.Resampler)",
			f.SampleRate, f.NumChannels, s.rate, s.channels)
	}
	if s.queue == 0 && f.SamplesPerChannel*100 != s.rate {
		return invalid(op, "the fast path takes exactly 10 ms frames (%d samples), got %d", s.rate/100, f.SamplesPerChannel)
	}
	return nil
}

// QueuedDuration estimates how much captured audio has not been played yet (computed in Go
// from what was captured; the library does not report it).
func (s *AudioSource) QueuedDuration() time.Duration {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if d := time.Until(s.playoutEnd); d > 0 {
		return d
	}
	return 0
}

// WaitForPlayout waits until everything captured so far has been played (see
// QueuedDuration), or ctx ends. Like Flush, it reports a frame the library refused.
func (s *AudioSource) WaitForPlayout(ctx context.Context) error {
	if ctx == nil {
		return invalid("wait for playout", "nil context")
	}
	if err := s.Flush(ctx); err != nil {
		return err
	}
	for {
		d := s.QueuedDuration()
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// ClearBuffer drops the audio queued in the library, for barge-in, including every frame
// CaptureFrame has returned for. The rest of a frame that is still being taken (a frame longer
// than the queue is taken in pieces) is not dropped: capture in 10-20 ms frames where barge-in
// matters.
func (s *AudioSource) ClearBuffer() error {
	const op = "clear audio buffer"
	if s.closed.Load() {
		return &RequestError{Op: op, Err: ErrSourceClosed}
	}
	// Wait until the last accepted frame's request is in the library (microseconds).
	s.cap.sending.Lock()
	defer s.cap.sending.Unlock()
	if _, err := s.c.Request(&pb.ClearAudioBufferRequest{SourceHandle: proto.Uint64(s.handle.ID())}); err != nil {
		return &RequestError{Op: op, Err: err}
	}
	s.pmu.Lock()
	s.playoutEnd = time.Now()
	s.pmu.Unlock()
	return nil
}

// Close releases the source. Frames the library has not taken yet are dropped (WaitForPlayout
// first to hear them). Tracks made from it keep their own reference to the engine's source
// (and play silence); captures after Close fail with ErrSourceClosed. It is idempotent.
func (s *AudioSource) Close() error {
	if s == nil || !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(s.done)
	// Stopping fails a capture parked in the library: it may never complete once the source
	// is gone.
	s.cap.stop()
	// A request on its way into the library reaches it before the handle goes.
	//lint:ignore SA2001 the empty critical section waits for the send in progress
	s.cap.sending.Lock()
	s.cap.sending.Unlock()
	return s.handle.Close()
}

// LocalAudioTrack is an audio track fed by an AudioSource, to publish with
// LocalParticipant.PublishTrack, or to read back locally with NewAudioStream.
type LocalAudioTrack struct {
	trackBase
	src *AudioSource
}

func (*LocalAudioTrack) isLocalTrack() {}

// NewLocalAudioTrack creates a track named name that plays what src captures. The track
// keeps the engine's source alive on its own; close both when done.
func NewLocalAudioTrack(name string, src *AudioSource) (*LocalAudioTrack, error) {
	const op = "new local audio track"
	if src == nil {
		return nil, invalid(op, "nil source")
	}
	if src.closed.Load() {
		return nil, &RequestError{Op: op, Err: ErrSourceClosed}
	}
	h, info, err := createLocalTrack(src.c, op, TrackKindAudio, &pb.CreateAudioTrackRequest{Name: proto.String(name), SourceHandle: proto.Uint64(src.handle.ID())})
	if err != nil {
		if src.closed.Load() {
			return nil, &RequestError{Op: op, Err: ErrSourceClosed}
		}
		return nil, err
	}
	return &LocalAudioTrack{trackBase: trackBase{handle: h, info: info}, src: src}, nil
}

// Source returns the source the track was created from.
func (t *LocalAudioTrack) Source() *AudioSource { return t.src }

// Close releases the track: streams reading it end with ErrTrackEnded. Unpublish it first if
// it is published. It is idempotent.
func (t *LocalAudioTrack) Close() error {
	t.release(ErrTrackEnded)
	return nil
}

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
