package livekit

import (
	"context"
	"runtime"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
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
	cap      *capturer
}

// capturer is the one-deep pipeline between CaptureFrame and the library. It hands accepted
// frames over one at a time, without allocating: a reused request (its fields point at the
// variables here), a staging buffer and an engine.Flight. It holds no reference to its
// AudioSource, so a source nobody closed can still be collected (a cleanup then stops it).
//
// Four primitives carry it: the turn, the work slot, the sending lock and one mutex for state.
type capturer struct {
	// turn holds one token from the moment a frame is accepted until the library has taken
	// it (the library parks at most one capture per source and fails a second). Whoever holds
	// it owns the staging fields below. Close needs no channel of its own to wake captures
	// waiting for the turn: stopping fails the parked frame, which gives the turn back.
	turn chan struct{}
	// work carries the accepted frame's sample count to run; one slot, kept free by the turn.
	work chan int
	// sending is held from acceptance until the frame's request is in the library, so that
	// ClearBuffer cannot overtake a frame CaptureFrame already returned for, nor Close drop
	// the handle under it.
	sending sync.Mutex

	mu         sync.Mutex
	stopped    bool      // Close (or the cleanup) ran: the source takes nothing more
	failed     error     // the library refused the last frame; the next call reports it
	playoutEnd time.Time // when what was captured so far will have played

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
	s := &AudioSource{c: c, handle: c.Own(id, "audio source"), rate: rate, channels: ch, queue: q}
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
	runtime.AddCleanup(s, func(cp *capturer) { cp.stop() }, cp)
	return s, nil
}

// run hands each accepted frame to the library and gives the turn back once it is taken.
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

// acquire waits for the turn: until the library has taken the frame before. It fails if ctx
// ends first or the source is stopped.
func (cp *capturer) acquire(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return &RequestError{Op: op, Err: err}
	}
	select {
	case cp.turn <- struct{}{}:
	case <-ctx.Done():
		return &RequestError{Op: op, Err: ctx.Err()}
	}
	if cp.isStopped() {
		<-cp.turn
		return &RequestError{Op: op, Err: ErrSourceClosed}
	}
	return nil
}

// submit hands the staged frame of n samples, d long, to run and puts it on the playout
// clock; the caller holds the turn. It fails (and gives the turn back) if the source stopped.
func (cp *capturer) submit(n int, d time.Duration) bool {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.stopped {
		<-cp.turn
		return false
	}
	now := time.Now()
	if cp.playoutEnd.Before(now) {
		cp.playoutEnd = now
	}
	cp.playoutEnd = cp.playoutEnd.Add(d)
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

func (cp *capturer) isStopped() bool {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.stopped
}

// stop ends run and fails a capture parked in the library, which gives its turn back to the
// captures waiting for it. It reports whether this call stopped the capturer.
func (cp *capturer) stop() bool {
	cp.mu.Lock()
	first := !cp.stopped
	if first {
		cp.stopped = true
		close(cp.work)
	}
	cp.mu.Unlock()
	cp.flight.Close()
	return first
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
	cp := s.cap
	if err := cp.acquire(ctx, op); err != nil {
		return err
	}
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
	if !cp.submit(n, f.Duration()) {
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
	if err := s.cap.acquire(ctx, op); err != nil {
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
	if s.cap.isStopped() {
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
	s.cap.mu.Lock()
	defer s.cap.mu.Unlock()
	if d := time.Until(s.cap.playoutEnd); d > 0 {
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
	cp := s.cap
	if cp.isStopped() {
		return &RequestError{Op: op, Err: ErrSourceClosed}
	}
	// Wait until the last accepted frame's request is in the library (microseconds).
	cp.sending.Lock()
	defer cp.sending.Unlock()
	if _, err := s.c.Request(&pb.ClearAudioBufferRequest{SourceHandle: proto.Uint64(s.handle.ID())}); err != nil {
		return &RequestError{Op: op, Err: err}
	}
	cp.mu.Lock()
	cp.playoutEnd = time.Now()
	cp.mu.Unlock()
	return nil
}

// Close releases the source. Frames the library has not taken yet are dropped (WaitForPlayout
// first to hear them). Tracks made from it keep their own reference to the engine's source
// (and play silence); captures after Close fail with ErrSourceClosed. It is idempotent.
func (s *AudioSource) Close() error {
	// Stopping fails a capture parked in the library: it may never complete once the source
	// is gone.
	if s == nil || !s.cap.stop() {
		return nil
	}
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
	if src.cap.isStopped() {
		return nil, &RequestError{Op: op, Err: ErrSourceClosed}
	}
	h, info, err := createLocalTrack(src.c, op, TrackKindAudio, &pb.CreateAudioTrackRequest{Name: proto.String(name), SourceHandle: proto.Uint64(src.handle.ID())})
	if err != nil {
		if src.cap.isStopped() {
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
