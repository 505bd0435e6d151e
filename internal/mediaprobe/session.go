package mediaprobe

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// What a Session's A sends besides the tone: the counter picture, and the round trips.
const (
	VideoWidth  = 320
	VideoHeight = 240
	VideoFPS    = 30
	// VideoBitrate is plenty for 320x240 blocks: sharp edges from the first frames.
	VideoBitrate = 600_000

	// Grace is how long B keeps reading after A stops capturing: the tail of the pipeline
	// (jitter buffers, encoder, decoder).
	Grace = 1500 * time.Millisecond

	RoundTrips       = 5
	RoundTripTimeout = 5 * time.Second

	pingTopic = "tokencheck.ping"
	pongTopic = "tokencheck.pong"
	rpcMethod = "tokencheck.echo"
)

// Options configure a Session.
type Options struct {
	Audio, Video bool          // what A publishes
	Duration     time.Duration // how long A captures
	Timeout      time.Duration // bounds publishing
	// Logf, if set, hears what goes wrong on the way without ending the probe (a stream B
	// cannot open, a capture that fails).
	Logf func(format string, args ...any)
}

// A Session is one probe between two joined rooms: A publishes and sends, B reads and
// echoes. Feed it both rooms' events (HandleA, HandleB), then Publish, Capture,
// StopReceivers and the round trips; Close before the rooms leave and Release after.
type Session struct {
	a, b     *livekit.Room
	aID, bID string
	opts     Options

	audioSent, videoSent SendLog
	aud                  AudioReceiver
	vid                  VideoReceiver
	audioSubscribed      atomic.Bool
	videoSubscribed      atomic.Bool
	pongs                chan string

	audioSrc   *livekit.AudioSource
	audioTrack *livekit.LocalAudioTrack
	videoSrc   *livekit.VideoSource
	videoTrack *livekit.LocalVideoTrack

	// B's readers and echoes, started from its event loop and stopped by Close.
	mu       sync.Mutex
	closing  bool
	ctx      context.Context // the echoes'
	cancel   context.CancelFunc
	recvCtx  context.Context // the readers'
	stopRecv context.CancelFunc
	streams  []interface{ Close() error }
	readers  sync.WaitGroup
	echoes   sync.WaitGroup
	t0       time.Time // A started capturing
}

// NewSession prepares a probe from a to b; ctx bounds everything it starts.
func NewSession(ctx context.Context, a, b *livekit.Room, opts Options) *Session {
	s := &Session{a: a, b: b, aID: a.LocalParticipant().Identity(), bID: b.LocalParticipant().Identity(),
		opts: opts, pongs: make(chan string, 16)}
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.recvCtx, s.stopRecv = context.WithCancel(s.ctx)
	return s
}

func (s *Session) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// HandleA takes one of A's events: B's echoes.
func (s *Session) HandleA(ev livekit.Event) {
	if d, ok := ev.(livekit.DataReceived); ok && d.Topic == pongTopic {
		select {
		case s.pongs <- string(d.Data):
		default:
		}
	}
}

// HandleB takes one of B's events: A's pings, and A's tracks to read.
func (s *Session) HandleB(ev livekit.Event) {
	switch ev := ev.(type) {
	case livekit.DataReceived:
		if ev.Topic == pingTopic && ev.From != "" {
			s.goB(false, func(ctx context.Context) {
				_ = s.b.LocalParticipant().PublishData(ctx, ev.Data, livekit.DataOptions{Topic: pongTopic, Destinations: []string{ev.From}})
			})
		}
	case livekit.TrackSubscribed:
		if ev.Participant == nil || ev.Participant.Identity() != s.aID {
			return
		}
		switch tr := ev.Track.(type) {
		case *livekit.RemoteAudioTrack:
			s.audioSubscribed.Store(true)
			s.readAudio(tr)
		case *livekit.RemoteVideoTrack:
			s.videoSubscribed.Store(true)
			s.readVideo(tr)
		}
	}
}

// goB runs fn on a goroutine that Close waits for, unless Close began. Its ctx is the
// readers' (ended by StopReceivers) for stream readers, the session's for the echoes.
func (s *Session) goB(reader bool, fn func(ctx context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	ctx, wg := s.ctx, &s.echoes
	if reader {
		ctx, wg = s.recvCtx, &s.readers
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		fn(ctx)
	}()
}

// addStream registers a stream for Close; false if Close began (the caller closes it).
func (s *Session) addStream(st interface{ Close() error }) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.streams = append(s.streams, st)
	return true
}

func (s *Session) readAudio(tr *livekit.RemoteAudioTrack) {
	st, err := livekit.NewAudioStream(tr, livekit.AudioStreamOptions{SampleRate: SampleRate, NumChannels: 1, Capacity: 100})
	if err != nil {
		s.logf("media: B cannot read the audio track: %v", err)
		return
	}
	if !s.addStream(st) {
		st.Close()
		return
	}
	s.goB(true, func(ctx context.Context) {
		defer func() { s.aud.SetDropped(st.Dropped()) }()
		for {
			f, err := st.Recv(ctx)
			if err != nil {
				return
			}
			s.aud.Add(f, time.Now())
		}
	})
}

func (s *Session) readVideo(tr *livekit.RemoteVideoTrack) {
	st, err := livekit.NewVideoStream(tr, livekit.VideoStreamOptions{Format: media.I420, Capacity: 30})
	if err != nil {
		s.logf("media: B cannot read the video track: %v", err)
		return
	}
	if !s.addStream(st) {
		st.Close()
		return
	}
	s.goB(true, func(ctx context.Context) {
		defer func() { s.vid.SetDropped(st.Dropped()) }()
		for {
			f, err := st.Recv(ctx)
			if err != nil {
				return
			}
			s.vid.Add(f, time.Now(), s.videoSent.At)
			st.Release(f)
		}
	})
}

// RegisterEcho makes B answer the probe's RPC method with the request's payload. Call it
// before anything can call B.
func (s *Session) RegisterEcho() error {
	return s.b.LocalParticipant().RegisterRPCMethod(rpcMethod, func(_ context.Context, inv livekit.RPCInvocation) (string, error) {
		return inv.Payload, nil
	})
}

// Publish makes A publish a microphone track for the tone and a camera track for the
// counter (each if Options ask for it).
func (s *Session) Publish(ctx context.Context) error {
	local := s.a.LocalParticipant()
	pctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	if s.opts.Audio {
		var err error
		if s.audioSrc, err = livekit.NewAudioSource(livekit.AudioSourceOptions{SampleRate: SampleRate, NumChannels: 1}); err != nil {
			return err
		}
		if s.audioTrack, err = livekit.NewLocalAudioTrack("tokencheck-tone", s.audioSrc); err != nil {
			return err
		}
		if _, err = local.PublishTrack(pctx, s.audioTrack, livekit.TrackPublishOptions{Source: livekit.SourceMicrophone}); err != nil {
			return fmt.Errorf("audio track: %w", err)
		}
	}
	if s.opts.Video {
		var err error
		if s.videoSrc, err = livekit.NewVideoSource(livekit.VideoSourceOptions{Width: VideoWidth, Height: VideoHeight}); err != nil {
			return err
		}
		if s.videoTrack, err = livekit.NewLocalVideoTrack("tokencheck-counter", s.videoSrc); err != nil {
			return err
		}
		// One layer at the published size: B should see what A sent.
		if _, err = local.PublishTrack(pctx, s.videoTrack, livekit.TrackPublishOptions{Source: livekit.SourceCamera,
			DisableSimulcast: true, VideoMaxBitrate: VideoBitrate, VideoMaxFramerate: VideoFPS,
			Degradation: livekit.DegradationMaintainResolution}); err != nil {
			return fmt.Errorf("video track: %w", err)
		}
	}
	return nil
}

// Capture runs A's producers for Options.Duration, then waits Grace for B.
func (s *Session) Capture(ctx context.Context) {
	d := s.opts.Duration
	t0 := time.Now()
	s.mu.Lock()
	s.t0 = t0
	s.mu.Unlock()
	var wg sync.WaitGroup
	if s.audioSrc != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := SendAudio(ctx, s.audioSrc, t0, d, &s.audioSent); err != nil && ctx.Err() == nil {
				s.logf("media: audio capture: %v", err)
			}
		}()
	}
	if s.videoSrc != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := SendVideo(ctx, s.videoSrc, VideoWidth, VideoHeight, VideoFPS, t0, d, &s.videoSent); err != nil && ctx.Err() == nil {
				s.logf("media: video capture: %v", err)
			}
		}()
	}
	wg.Wait()
	select {
	case <-time.After(time.Until(t0.Add(d + Grace))):
	case <-ctx.Done():
	}
}

// CaptureStart is when A started capturing (zero before Capture).
func (s *Session) CaptureStart() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t0
}

// StopReceivers ends B's stream readers (the streams stay open until Close) and waits for
// them.
func (s *Session) StopReceivers() {
	s.stopRecv()
	s.readers.Wait()
}

// Received reports how many audio and video frames B has read so far.
func (s *Session) Received() (audio, video int) { return s.aud.Count(), s.vid.Count() }

// AudioResult is what A sent and B heard of the tone.
type AudioResult struct {
	Sent       []time.Time // capture time of each burst's onset
	Subscribed bool        // B subscribed to A's audio track
	AudioStats
}

// Audio returns what A sent and B heard so far.
func (s *Session) Audio() AudioResult {
	sent, _ := s.audioSent.Snapshot()
	return AudioResult{Sent: sent, Subscribed: s.audioSubscribed.Load(), AudioStats: s.aud.Stats()}
}

// VideoResult is what A sent and B saw of the counter.
type VideoResult struct {
	Sent       int  // frames captured
	Subscribed bool // B subscribed to A's video track
	VideoStats
}

// Video returns what A sent and B saw so far.
func (s *Session) Video() VideoResult {
	_, sent := s.videoSent.Snapshot()
	return VideoResult{Sent: sent, Subscribed: s.videoSubscribed.Load(), VideoStats: s.vid.Stats()}
}

// RoundTripResult is a series of round trips: the time of each that completed, and why the
// series stopped early, if it did.
type RoundTripResult struct {
	Attempts int
	RTTs     []time.Duration
	Err      error
}

// DataRoundTrips sends RoundTrips packets from A to B, which echoes each.
func (s *Session) DataRoundTrips(ctx context.Context) RoundTripResult {
	res := RoundTripResult{Attempts: RoundTrips}
	nonce := strings.ToLower(rand.Text()[:8])
	for i := 0; i < RoundTrips && ctx.Err() == nil; i++ {
		payload := fmt.Sprintf("%s-%d", nonce, i)
		t := time.Now()
		sctx, cancel := context.WithTimeout(ctx, RoundTripTimeout)
		err := s.a.LocalParticipant().PublishData(sctx, []byte(payload), livekit.DataOptions{Topic: pingTopic, Destinations: []string{s.bID}})
		if err == nil {
			err = waitPong(sctx, s.pongs, payload)
		}
		cancel()
		if err != nil {
			res.Err = fmt.Errorf("round trip %d: %w", i+1, err)
			break
		}
		res.RTTs = append(res.RTTs, time.Since(t))
	}
	return res
}

func waitPong(ctx context.Context, pongs <-chan string, want string) error {
	for {
		select {
		case got := <-pongs:
			if got == want {
				return nil
			}
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("no echo within %s", RoundTripTimeout)
			}
			return ctx.Err()
		}
	}
}

// RPCRoundTrips calls B's echo method RoundTrips times; registerErr is what RegisterEcho
// returned.
func (s *Session) RPCRoundTrips(ctx context.Context, registerErr error) RoundTripResult {
	res := RoundTripResult{Attempts: RoundTrips}
	if registerErr != nil {
		res.Err = fmt.Errorf("B could not register the method: %w", registerErr)
		return res
	}
	for i := 0; i < RoundTrips && ctx.Err() == nil; i++ {
		payload := fmt.Sprintf("ping-%d", i)
		t := time.Now()
		got, err := s.a.LocalParticipant().PerformRPC(ctx, livekit.RPCParams{Destination: s.bID, Method: rpcMethod,
			Payload: payload, ResponseTimeout: RoundTripTimeout})
		if err == nil && got != payload {
			err = fmt.Errorf("answer %q, want %q", got, payload)
		}
		if err != nil {
			res.Err = fmt.Errorf("call %d: %w", i+1, err)
			break
		}
		res.RTTs = append(res.RTTs, time.Since(t))
	}
	return res
}

// Close stops B's readers and echoes and closes its streams. Call it before the rooms leave;
// it is idempotent.
func (s *Session) Close() {
	s.mu.Lock()
	s.closing = true
	streams := s.streams
	s.streams = nil
	s.mu.Unlock()
	s.cancel() // ends echoes in flight
	s.readers.Wait()
	s.echoes.Wait()
	for _, st := range streams {
		st.Close()
	}
}

// Release closes A's tracks, then their sources. Call it after the rooms left (they release
// the publications).
func (s *Session) Release() {
	if s.audioTrack != nil {
		s.audioTrack.Close()
	}
	if s.videoTrack != nil {
		s.videoTrack.Close()
	}
	if s.audioSrc != nil {
		s.audioSrc.Close()
	}
	if s.videoSrc != nil {
		s.videoSrc.Close()
	}
}
