package main

// --media: an end-to-end probe between two participants of one room
// (internal/mediaprobe), built only on package livekit's public API.
//
// A joins with the token tokencheck fetched; B joins with a second token
// (fetched from the same source for a derived identity, or --peer-token).
// A publishes a microphone track carrying tone bursts and a camera track
// whose picture carries the frame counter; B reads both. Both sides run in
// this process, so the capture times at A and the arrival times at B are on
// one clock and glass-to-glass latency is a subtraction. Then A sends data
// packets that B echoes, and calls an RPC method that B registered. Each
// check is reported as one "media_check" event; a failed check or threshold
// exits 5.

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/mediaprobe"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// toneTolerance is how far the detected tone may be from the one sent.
const toneTolerance = 10.0

// probe is one --media run.
type probe struct {
	cfg     *config
	out     *printer
	sec     *secrets
	start   time.Time
	peerSrc tokensource.Configurable // nil for a literal source
	where   string

	steps stepsCheck

	a, b         *livekit.Room
	aw, bw       *watcher
	aDone, bDone chan struct{} // closed when a room's event loop ends
	ended        atomic.Bool   // a room was disconnected by the server
	endedReason  atomic.Value  // string
	cancelProbe  context.CancelFunc
	leaving      atomic.Bool // cleanup began (see leavingFilter)
	sess         atomic.Pointer[mediaprobe.Session]

	mu      sync.Mutex
	closing bool // cleanup began: a Disconnected now is ours
}

// run joins A and B, runs the checks and reports them; it returns the exit
// code. Everything it creates is released before it returns.
func (p *probe) run(ctx context.Context, respA tokensource.Response) int {
	slog.SetDefault(slog.New(leavingFilter{slog.NewTextHandler(p.out.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}), &p.leaving}))
	claimsA, err := tokensource.Parse(respA.ParticipantToken)
	if err != nil { // inspect validated it already
		p.out.fail("validate", err.Error())
		return exitToken
	}
	respB, code := p.peerToken(ctx, respA, claimsA)
	if code != exitOK {
		return code
	}

	ctx, cancel := context.WithCancel(ctx)
	p.cancelProbe = cancel
	defer func() {
		p.cleanup(ctx)
		cancel()
	}()

	// Join A, then B (B sees A's tracks published after it joined).
	var ok bool
	if p.a, ok = p.connect(ctx, "A", respA, false); !ok {
		return exitJoin
	}
	p.aw = &watcher{cfg: p.cfg, out: p.out, sec: p.sec, start: p.start, sid: p.a.SID()}
	p.aDone = p.loop(p.a, p.aw, func(ev livekit.Event) {
		if s := p.sess.Load(); s != nil {
			s.HandleA(ev)
		}
	})
	if p.b, ok = p.connect(ctx, "B", respB, true); !ok {
		return exitJoin
	}
	m := p.cfg.media
	s := mediaprobe.NewSession(ctx, p.a, p.b, mediaprobe.Options{Audio: m.audio, Video: m.video, Duration: m.duration,
		Timeout: p.cfg.timeout, Logf: p.out.info})
	p.sess.Store(s)
	p.bw = &watcher{cfg: p.cfg, out: p.out, sec: p.sec, start: p.start, sid: p.b.SID()}
	// B answers RPC before anything can call it.
	rpcErr := s.RegisterEcho()
	p.bDone = p.loop(p.b, p.bw, s.HandleB)

	// A publishes, then captures for --media-duration while B reads.
	t := time.Now()
	if err := s.Publish(ctx); err != nil {
		if ctx.Err() == nil {
			p.out.fail("media", "publishing: "+err.Error())
		}
		return p.exitAfter(ctx, exitMedia)
	}
	p.steps.PublishMS = ms(time.Since(t))
	end := time.Now().Add(m.duration + mediaprobe.Grace)
	stop := p.out.progress(func() string {
		audio, video := s.Received()
		return fmt.Sprintf("media: A sends, B receives (%d audio and %d video frames so far), %s left, Ctrl-C to stop",
			audio, video, time.Until(end).Round(time.Second))
	})
	s.Capture(ctx)
	stop()
	if ctx.Err() != nil {
		return p.exitAfter(ctx, exitMedia)
	}
	s.StopReceivers()

	// Round trips between A and B.
	data := roundTrip("data", s.DataRoundTrips(ctx))
	rpc := roundTrip("rpc", s.RPCRoundTrips(ctx, rpcErr))
	if ctx.Err() != nil {
		return p.exitAfter(ctx, exitMedia)
	}
	return p.report(s, data, rpc)
}

// roundTrip is a series of round trips as a check.
func roundTrip(name string, r mediaprobe.RoundTripResult) roundTripCheck {
	c := roundTripCheck{Check: name, Attempts: r.Attempts}
	if r.Err != nil {
		c.Error = r.Err.Error()
	}
	c.finish(r.RTTs)
	return c
}

// exitAfter is the code for a run cut short: the server ended a session
// (3), or a signal (which main turns into 130 or 143).
func (p *probe) exitAfter(ctx context.Context, code int) int {
	if p.ended.Load() {
		reason, _ := p.endedReason.Load().(string)
		p.out.fail("media", "the room was disconnected during the media checks ("+reason+")")
		return exitJoin
	}
	if ctx.Err() != nil {
		p.out.info("interrupted; leaving")
	}
	return code
}

// peerToken gets B's token: --peer-token for a literal source; otherwise the
// same source asked for the derived identity in A's room.
func (p *probe) peerToken(ctx context.Context, respA tokensource.Response, claimsA *tokensource.Claims) (tokensource.Response, int) {
	var respB tokensource.Response
	t := time.Now()
	if p.peerSrc == nil {
		respB = tokensource.Response{ServerURL: p.cfg.url, ParticipantToken: p.cfg.media.peerToken}
	} else {
		opts := p.cfg.req
		opts.ParticipantIdentity = p.cfg.media.peerIdentity
		if opts.ParticipantIdentity == "" {
			opts.ParticipantIdentity = claimsA.Identity + "-peer"
		}
		if opts.RoomName == "" {
			opts.RoomName = respA.RoomName
			if claimsA.Video != nil && claimsA.Video.Room != "" {
				opts.RoomName = claimsA.Video.Room
			}
		}
		opts.ParticipantName = ""
		// Dispatch agents once, for A.
		opts.AgentName, opts.AgentMetadata, opts.AgentDeployment = "", "", ""
		fctx, cancel := context.WithTimeout(ctx, p.cfg.timeout)
		stop := p.out.progress(func() string { return "fetching the peer's token from " + p.where + "..." })
		var err error
		respB, err = p.peerSrc.Fetch(fctx, opts)
		stop()
		cancel()
		if err != nil {
			p.out.fail("fetch", fmt.Sprintf("the peer's token (identity %q) for --media: %v", opts.ParticipantIdentity, err))
			return respB, exitToken
		}
	}
	p.steps.PeerTokenFetchMS = ms(time.Since(t))
	if !p.cfg.showToken {
		p.sec.add(respB.ParticipantToken, tokensource.Redact(respB.ParticipantToken))
	}
	if respB.ServerURL == "" {
		respB.ServerURL = respA.ServerURL
	}
	tev := inspect(respB, time.Now(), p.cfg.leeway)
	tev.Role, tev.Source, tev.From = "peer", string(p.cfg.source), p.where
	if p.cfg.showToken {
		tev.Token = respB.ParticipantToken
	} else {
		tev.TokenRedacted = tokensource.Redact(respB.ParticipantToken)
	}
	p.out.token(tev)
	if !tev.Valid {
		return respB, exitToken
	}
	roomA := respA.RoomName
	if claimsA.Video != nil && claimsA.Video.Room != "" {
		roomA = claimsA.Video.Room
	}
	switch {
	case tev.Identity == claimsA.Identity:
		p.out.fail("validate", fmt.Sprintf("the peer's token has the same identity as the first (%q): the second join would replace the first", tev.Identity))
		return respB, exitToken
	case roomA != "" && tev.Room != "" && tev.Room != roomA:
		p.out.fail("validate", fmt.Sprintf("the peer's token is for room %q, the first for %q", tev.Room, roomA))
		return respB, exitToken
	}
	return respB, exitOK
}

// connect joins one participant and reports it.
func (p *probe) connect(ctx context.Context, who string, resp tokensource.Response, subscribe bool) (*livekit.Room, bool) {
	t := time.Now()
	cctx, cancel := context.WithTimeout(ctx, p.cfg.timeout)
	stop := p.out.progress(func() string { return "joining " + resp.ServerURL + " as " + who + "..." })
	room, err := livekit.Connect(cctx, resp.ServerURL, resp.ParticipantToken, livekit.WithAutoSubscribe(subscribe))
	stop()
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			p.out.fail("join", who+": "+err.Error())
		}
		return nil, false
	}
	if who == "A" {
		p.steps.JoinAMS = ms(time.Since(t))
	} else {
		p.steps.JoinBMS = ms(time.Since(t))
	}
	var others []string
	for _, rp := range room.RemoteParticipants() {
		others = append(others, rp.Identity())
	}
	p.out.connected(connectedEvent{Room: room.Name(), SID: room.SID(), Identity: room.LocalParticipant().Identity(),
		Participants: others, ElapsedMS: time.Since(p.start).Milliseconds()})
	return room, true
}

// loop reads a room's events until its last one; handle sees each first.
func (p *probe) loop(room *livekit.Room, w *watcher, handle func(livekit.Event)) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range room.Events(context.Background()) {
			handle(ev)
			w.handle(ev)
			if d, ok := ev.(livekit.Disconnected); ok {
				p.mu.Lock()
				closing := p.closing
				p.mu.Unlock()
				if !closing {
					p.endedReason.Store(d.Reason.String())
					p.ended.Store(true)
					p.cancelProbe()
				}
			}
		}
	}()
	return done
}

// cleanup stops B's readers, leaves with both participants and releases
// every handle, on every path (signals included: ctx may be cancelled, the
// waits here are bounded on their own).
func (p *probe) cleanup(ctx context.Context) {
	p.leaving.Store(true)
	p.mu.Lock()
	p.closing = true
	p.mu.Unlock()
	s := p.sess.Load()
	if s != nil {
		s.Close()
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), disconnectTimeout)
	defer cancel()
	leave := func(room *livekit.Room, done chan struct{}, w *watcher) {
		if room == nil {
			return
		}
		if err := room.Disconnect(dctx); err != nil {
			p.out.info("disconnect: %v", err)
		}
		reason := "client_initiated"
		select {
		case <-done: // the loop has handled Disconnected: w is ours to read
			if w.reason != "" {
				reason = w.reason
			}
		case <-dctx.Done():
		}
		p.out.disconnected(reason)
	}
	// A first: it is the one with a publisher connection, which B's leaving
	// would make renegotiate while A disconnects.
	leave(p.a, p.aDone, p.aw)
	leave(p.b, p.bDone, p.bw)
	// The rooms released the publications; now the tracks, then their sources.
	if s != nil {
		s.Release()
	}
}

// report turns the measurements into checks, prints them and returns the
// exit code.
func (p *probe) report(s *mediaprobe.Session, data, rpc roundTripCheck) int {
	m := p.cfg.media
	var failed []string
	emit := func(name string, ok bool, why string) {
		if !ok {
			failed = append(failed, name)
			p.out.fail("media", name+": "+why)
		}
	}
	t0 := s.CaptureStart()
	if m.audio {
		a := p.audioCheck(s.Audio(), t0)
		p.out.mediaCheck(a, a.human())
		emit("audio", a.OK, a.Error)
	}
	if m.video {
		v := p.videoCheck(s.Video(), t0)
		p.out.mediaCheck(v, v.human())
		emit("video", v.OK, v.Error)
	}
	p.out.mediaCheck(data, data.human())
	emit("data", data.OK, data.Error)
	p.out.mediaCheck(rpc, rpc.human())
	emit("rpc", rpc.OK, rpc.Error)
	p.steps.Check, p.steps.OK = "steps", true
	p.out.mediaCheck(p.steps, p.steps.human())
	res := mediaResult{OK: len(failed) == 0, Failed: failed, DurationMS: ms(m.duration)}
	if res.Failed == nil {
		res.Failed = []string{}
	}
	p.out.mediaResult(res)
	switch {
	case len(failed) > 0:
		return exitMedia
	case p.cfg.expectRefresh && p.aw.refreshes.Load() == 0:
		p.out.fail("watch", "no token refresh arrived during the media checks")
		return exitNoRefresh
	}
	return exitOK
}

func (p *probe) audioCheck(r mediaprobe.AudioResult, t0 time.Time) audioCheck {
	m := p.cfg.media
	c := audioCheck{Check: "audio", Received: r.Frames > 0, Frames: r.Frames, SampleRate: r.SampleRate, Channels: r.Channels,
		SentToneHz: mediaprobe.ToneHz, BurstsSent: len(r.Sent)}
	if len(r.Onsets) > 0 {
		// B's stream yields (silent) frames as soon as it starts: the first
		// audio is the first tone heard.
		c.FirstAudioMS = ptr(ms(r.Onsets[0].Sub(t0)))
		p.steps.FirstAudioMS = c.FirstAudioMS
	}
	if r.Frames > 0 && r.FrameDuration > 0 {
		expected := int(math.Round(float64(r.Last.Sub(r.First))/float64(r.FrameDuration))) + 1
		c.FramesLost = max(0, expected-r.Frames) + int(r.Dropped)
	}
	if r.ToneHz > 0 {
		c.ToneHz = ptr(math.Round(r.ToneHz*10) / 10)
	}
	lat, matched := mediaprobe.MatchOnsets(r.Sent, r.Onsets, mediaprobe.BurstPeriod)
	c.BurstsDetected = matched
	c.LatencyMedianMS, c.LatencyP90MS = percentileMS(lat, 0.5), percentileMS(lat, 0.9)
	if m.maxAudioLatency > 0 {
		c.MaxLatencyMS = ptr(ms(m.maxAudioLatency))
	}
	switch {
	case r.Frames == 0 && !r.Subscribed:
		c.Error = "B never subscribed to A's audio track"
	case r.Frames == 0:
		c.Error = "B subscribed to the audio track but received no frames"
	case matched == 0:
		c.Error = fmt.Sprintf("B received %d audio frames but detected none of the %d tone bursts", r.Frames, len(r.Sent))
	case c.ToneHz == nil || math.Abs(*c.ToneHz-mediaprobe.ToneHz) > toneTolerance:
		c.Error = fmt.Sprintf("tone detected at %s, sent %.0f Hz (tolerance %.0f Hz)", fmtHz(c.ToneHz), mediaprobe.ToneHz, toneTolerance)
	case m.maxAudioLatency > 0 && *c.LatencyMedianMS > ms(m.maxAudioLatency):
		c.Error = fmt.Sprintf("median latency %.1fms exceeds --max-audio-latency %s", *c.LatencyMedianMS, m.maxAudioLatency)
	}
	c.OK = c.Error == ""
	return c
}

func (p *probe) videoCheck(r mediaprobe.VideoResult, t0 time.Time) videoCheck {
	m := p.cfg.media
	c := videoCheck{Check: "video", Received: r.Frames > 0, Width: r.Width, Height: r.Height,
		SentWidth: mediaprobe.VideoWidth, SentHeight: mediaprobe.VideoHeight, SentFPS: mediaprobe.VideoFPS,
		FramesSent: r.Sent, FramesReceived: r.Frames, FramesDecoded: r.Decoded}
	if r.Frames > 0 {
		c.FirstVideoMS = ptr(ms(r.First.Sub(t0)))
		p.steps.FirstVideoMS = c.FirstVideoMS
	}
	if r.NewFrames > 1 {
		fps := float64(r.NewFrames-1) / r.LastNew.Sub(r.FirstNew).Seconds()
		c.FPS = ptr(math.Round(fps*10) / 10)
	}
	if r.MaxCounter >= 0 {
		// Counters between the first one read and the last one sent that B never saw.
		c.FramesLost = max(0, r.Sent-int(r.MinCounter)-r.Distinct)
	}
	c.LatencyMedianMS, c.LatencyP90MS = percentileMS(r.Latencies, 0.5), percentileMS(r.Latencies, 0.9)
	if m.maxVideoLatency > 0 {
		c.MaxLatencyMS = ptr(ms(m.maxVideoLatency))
	}
	if m.minFPS > 0 {
		c.MinFPS = ptr(m.minFPS)
	}
	switch {
	case r.Frames == 0 && !r.Subscribed:
		c.Error = "B never subscribed to A's video track"
	case r.Frames == 0:
		c.Error = "B subscribed to the video track but received no frames"
	case r.Decoded == 0:
		c.Error = fmt.Sprintf("B received %d video frames but could read the frame counter in none", r.Frames)
	case m.minFPS > 0 && (c.FPS == nil || *c.FPS < m.minFPS):
		c.Error = fmt.Sprintf("%s frames per second received, below --min-fps %g", fmtFPS(c.FPS), m.minFPS)
	case m.maxVideoLatency > 0 && *c.LatencyMedianMS > ms(m.maxVideoLatency):
		c.Error = fmt.Sprintf("median latency %.1fms exceeds --max-video-latency %s", *c.LatencyMedianMS, m.maxVideoLatency)
	}
	c.OK = c.Error == ""
	return c
}

// percentileMS is the q-quantile (nearest rank) of ds in milliseconds, nil
// for none.
func percentileMS(ds []time.Duration, q float64) *float64 {
	d, ok := mediaprobe.Percentile(ds, q)
	if !ok {
		return nil
	}
	return ptr(ms(d))
}

// ms is d in milliseconds, to 0.1 ms.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*10) / 10
}

func ptr[T any](v T) *T { return &v }

// leavingFilter drops one library error that leaving causes: A's publisher
// connection may be renegotiating (a layer or codec update from the server)
// when A disconnects, and the engine logs the negotiation it abandons as an
// error. Everything else, and that message before leaving, goes through.
type leavingFilter struct {
	slog.Handler
	leaving *atomic.Bool
}

func (h leavingFilter) Handle(ctx context.Context, r slog.Record) error {
	if h.leaving.Load() && strings.HasPrefix(r.Message, "failed to negotiate the publisher") {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h leavingFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return leavingFilter{h.Handler.WithAttrs(as), h.leaving}
}

func (h leavingFilter) WithGroup(name string) slog.Handler {
	return leavingFilter{h.Handler.WithGroup(name), h.leaving}
}
