package main

// --media: an end-to-end probe between two participants of one room, built
// only on package livekit's public API.
//
// A joins with the token tokencheck fetched; B joins with a second token
// (fetched from the same source for a derived identity, or --peer-token).
// A publishes a microphone track carrying 1 kHz tone bursts (100 ms every
// 500 ms, silence between) and a camera track whose picture carries the frame
// counter as 24 black and white blocks. B subscribes to both, finds the burst
// onsets and reads the counters back; both sides run in this process, so the
// capture times at A and the arrival times at B are on one clock and
// glass-to-glass latency is a subtraction. Then A sends data packets that B
// echoes, and calls an RPC method that B registered. Each check is reported
// as one "media_check" event; a failed check or threshold exits 5.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/dsp"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// What A sends.
const (
	audioRate     = 48000
	audioFrameLen = audioRate / 100 // samples in a 10 ms frame
	toneHz        = 1000.0
	toneAmplitude = 16000.0 // peak, in sample units (-6 dBFS); the RMS is about 11300
	burstPeriod   = 500 * time.Millisecond
	burstLength   = 100 * time.Millisecond
	burstOffset   = 250 * time.Millisecond // first burst: leaves B time to subscribe

	videoWidth  = 320
	videoHeight = 240
	videoFPS    = 30
	// videoBitrate is plenty for 320x240 blocks: sharp edges from the first frames.
	videoBitrate = 600_000

	// grace is how long B keeps reading after A stops capturing: the tail of
	// the pipeline (jitter buffers, encoder, decoder).
	grace = 1500 * time.Millisecond

	roundTrips       = 5
	roundTripTimeout = 5 * time.Second
	pingTopic        = "tokencheck.ping"
	pongTopic        = "tokencheck.pong"
	rpcMethod        = "tokencheck.echo"
)

// What B looks for in the audio: a 1 ms RMS at onsetLevel starts a burst;
// the detector re-arms after rearmQuiet of RMS under quietLevel.
const (
	onsetWindow = audioRate / 1000
	onsetLevel  = 3000.0
	quietLevel  = 1000.0
	rearmQuiet  = 20 * audioRate / 1000
	// The tone frequency is estimated on toneWindowLen samples starting
	// toneSkip after an onset, for the first toneWindows bursts.
	toneSkip      = audioRate / 100
	toneWindowLen = 60 * audioRate / 1000
	toneWindows   = 5
	// toneTolerance is how far the detected tone may be from toneHz.
	toneTolerance = 10.0
)

// probe is one --media run.
type probe struct {
	cfg     *config
	out     *printer
	sec     *secrets
	start   time.Time
	peerSrc tokensource.Configurable // nil for a literal source
	where   string

	steps stepsCheck

	a, b           *livekit.Room
	aID, bID       string
	aw, bw         *watcher
	aDone, bDone   chan struct{} // closed when a room's event loop ends
	ended          atomic.Bool   // a room was disconnected by the server
	endedReason    atomic.Value  // string
	cancelProbe    context.CancelFunc
	pongs          chan string
	audioSent      sendLog
	videoSent      sendLog
	aud            audioRecv
	vid            videoRecv
	audioSubscribe atomic.Bool
	videoSubscribe atomic.Bool
	leaving        atomic.Bool // cleanup began (see leavingFilter)

	// Receivers and echoes B starts from its event loop, stopped by cleanup.
	mu       sync.Mutex
	closing  bool
	recvCtx  context.Context
	stopRecv context.CancelFunc
	streams  []interface{ Close() error }
	readers  sync.WaitGroup // B's stream readers
	echoes   sync.WaitGroup // B's data echoes
	probeCtx context.Context
	t0       time.Time // A started capturing; guarded by mu
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
	p.probeCtx, p.cancelProbe = ctx, cancel
	p.pongs = make(chan string, 16)
	p.recvCtx, p.stopRecv = context.WithCancel(ctx)
	var pubs published
	defer func() {
		p.cleanup(ctx, &pubs)
		cancel()
	}()

	// Join A, then B (B sees A's tracks published after it joined).
	var ok bool
	if p.a, ok = p.connect(ctx, "A", respA, false); !ok {
		return exitJoin
	}
	p.aID = p.a.LocalParticipant().Identity()
	p.aw = &watcher{cfg: p.cfg, out: p.out, sec: p.sec, start: p.start, sid: p.a.SID()}
	p.aDone = p.loop(p.a, p.aw, p.handleA)
	if p.b, ok = p.connect(ctx, "B", respB, true); !ok {
		return exitJoin
	}
	p.bID = p.b.LocalParticipant().Identity()
	p.bw = &watcher{cfg: p.cfg, out: p.out, sec: p.sec, start: p.start, sid: p.b.SID()}
	// B answers RPC before anything can call it.
	rpcErr := p.registerEcho()
	p.bDone = p.loop(p.b, p.bw, p.handleB)

	// A publishes, then captures for --media-duration while B reads.
	t := time.Now()
	if err := p.publish(ctx, &pubs); err != nil {
		if ctx.Err() == nil {
			p.out.fail("media", "publishing: "+err.Error())
		}
		return p.exitAfter(ctx, exitMedia)
	}
	p.steps.PublishMS = ms(time.Since(t))
	p.capture(ctx, &pubs)
	if ctx.Err() != nil {
		return p.exitAfter(ctx, exitMedia)
	}
	p.stopReceivers()

	// Round trips between A and B.
	data := p.dataRoundTrips(ctx)
	rpc := p.rpcRoundTrips(ctx, rpcErr)
	if ctx.Err() != nil {
		return p.exitAfter(ctx, exitMedia)
	}
	return p.report(data, rpc)
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

func (p *probe) handleA(ev livekit.Event) {
	if d, ok := ev.(livekit.DataReceived); ok && d.Topic == pongTopic {
		select {
		case p.pongs <- string(d.Data):
		default:
		}
	}
}

func (p *probe) handleB(ev livekit.Event) {
	switch ev := ev.(type) {
	case livekit.DataReceived:
		if ev.Topic == pingTopic && ev.From != "" {
			p.goB(false, func(ctx context.Context) {
				_ = p.b.LocalParticipant().PublishData(ctx, ev.Data, livekit.DataOptions{Topic: pongTopic, Destinations: []string{ev.From}})
			})
		}
	case livekit.TrackSubscribed:
		if ev.Participant == nil || ev.Participant.Identity() != p.aID {
			return
		}
		switch tr := ev.Track.(type) {
		case *livekit.RemoteAudioTrack:
			p.audioSubscribe.Store(true)
			p.startAudio(tr)
		case *livekit.RemoteVideoTrack:
			p.videoSubscribe.Store(true)
			p.startVideo(tr)
		}
	}
}

// goB runs fn on a goroutine that cleanup waits for, unless cleanup began.
// Its ctx is the receivers' (ended after the capture) for stream readers,
// the probe's for the echoes.
func (p *probe) goB(reader bool, fn func(ctx context.Context)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return
	}
	ctx := p.probeCtx
	wg := &p.echoes
	if reader {
		ctx, wg = p.recvCtx, &p.readers
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		fn(ctx)
	}()
}

// addStream registers a stream for cleanup; false if cleanup began (the
// caller closes it).
func (p *probe) addStream(s interface{ Close() error }) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	p.streams = append(p.streams, s)
	return true
}

func (p *probe) captureStart() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.t0
}

// stopReceivers ends B's stream readers (the streams stay open until
// cleanup) and waits for them.
func (p *probe) stopReceivers() {
	p.stopRecv()
	p.readers.Wait()
}

// published is what A published, for cleanup.
type published struct {
	audioSrc   *livekit.AudioSource
	audioTrack *livekit.LocalAudioTrack
	videoSrc   *livekit.VideoSource
	videoTrack *livekit.LocalVideoTrack
}

func (p *probe) publish(ctx context.Context, pubs *published) error {
	local := p.a.LocalParticipant()
	pctx, cancel := context.WithTimeout(ctx, p.cfg.timeout)
	defer cancel()
	if p.cfg.media.audio {
		var err error
		if pubs.audioSrc, err = livekit.NewAudioSource(livekit.AudioSourceOptions{SampleRate: audioRate, NumChannels: 1}); err != nil {
			return err
		}
		if pubs.audioTrack, err = livekit.NewLocalAudioTrack("tokencheck-tone", pubs.audioSrc); err != nil {
			return err
		}
		if _, err = local.PublishTrack(pctx, pubs.audioTrack, livekit.TrackPublishOptions{Source: livekit.SourceMicrophone}); err != nil {
			return fmt.Errorf("audio track: %w", err)
		}
	}
	if p.cfg.media.video {
		var err error
		if pubs.videoSrc, err = livekit.NewVideoSource(livekit.VideoSourceOptions{Width: videoWidth, Height: videoHeight}); err != nil {
			return err
		}
		if pubs.videoTrack, err = livekit.NewLocalVideoTrack("tokencheck-counter", pubs.videoSrc); err != nil {
			return err
		}
		// One layer at the published size: B should see what A sent.
		if _, err = local.PublishTrack(pctx, pubs.videoTrack, livekit.TrackPublishOptions{Source: livekit.SourceCamera,
			DisableSimulcast: true, VideoMaxBitrate: videoBitrate, VideoMaxFramerate: videoFPS,
			Degradation: livekit.DegradationMaintainResolution}); err != nil {
			return fmt.Errorf("video track: %w", err)
		}
	}
	return nil
}

// capture runs A's producers for --media-duration, then waits grace for B.
func (p *probe) capture(ctx context.Context, pubs *published) {
	d := p.cfg.media.duration
	t0 := time.Now()
	p.mu.Lock()
	p.t0 = t0
	p.mu.Unlock()
	var wg sync.WaitGroup
	if pubs.audioSrc != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sendAudio(ctx, pubs.audioSrc, t0, d, &p.audioSent); err != nil && ctx.Err() == nil {
				p.out.info("media: audio capture: %v", err)
			}
		}()
	}
	if pubs.videoSrc != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sendVideo(ctx, pubs.videoSrc, t0, d, &p.videoSent); err != nil && ctx.Err() == nil {
				p.out.info("media: video capture: %v", err)
			}
		}()
	}
	end := t0.Add(d + grace)
	stop := p.out.progress(func() string {
		return fmt.Sprintf("media: A sends, B receives (%d audio and %d video frames so far), %s left, Ctrl-C to stop",
			p.aud.count(), p.vid.count(), time.Until(end).Round(time.Second))
	})
	wg.Wait()
	select {
	case <-time.After(time.Until(end)):
	case <-ctx.Done():
	}
	stop()
}

// sendLog records when A captured what (onsets or frames), in order.
type sendLog struct {
	mu    sync.Mutex
	times []time.Time
	count int // frames captured
}

func (l *sendLog) add(t time.Time, mark bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	if mark {
		l.times = append(l.times, t)
	}
}

func (l *sendLog) snapshot() ([]time.Time, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.times), l.count
}

// at returns the i-th marked time.
func (l *sendLog) at(i int) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < 0 || i >= len(l.times) {
		return time.Time{}, false
	}
	return l.times[i], true
}

// sleepUntil waits until t or ctx's end.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// burstFrame reports whether 10 ms frame i (from the start) carries tone, and
// which of the burst's frames it is.
func burstFrame(i int) (k int, on bool) {
	const perPeriod = int(burstPeriod / (10 * time.Millisecond))
	const offset = int(burstOffset / (10 * time.Millisecond))
	const length = int(burstLength / (10 * time.Millisecond))
	k = (i - offset) % perPeriod
	return k, i >= offset && k < length
}

// sendAudio captures 10 ms frames paced by the clock for d: silence, and a
// tone burst every burstPeriod. It logs the capture time of each burst's
// first frame (the onset).
func sendAudio(ctx context.Context, src *livekit.AudioSource, t0 time.Time, d time.Duration, log *sendLog) error {
	frame := media.NewAudioFrame(audioRate, 1, audioFrameLen)
	tone := dsp.Tone(toneHz, audioRate, 1, int(burstLength/time.Millisecond)*audioRate/1000, toneAmplitude, 0)
	n := int(d / (10 * time.Millisecond))
	for i := 0; i < n; i++ {
		if err := sleepUntil(ctx, t0.Add(time.Duration(i)*10*time.Millisecond)); err != nil {
			return err
		}
		k, on := burstFrame(i)
		if on {
			copy(frame.Data, tone[k*audioFrameLen:(k+1)*audioFrameLen])
		} else {
			clear(frame.Data)
		}
		t := time.Now()
		if err := src.CaptureFrame(ctx, frame); err != nil {
			return err
		}
		log.add(t, on && k == 0)
	}
	return nil
}

// sendVideo captures videoFPS frames a second for d, each carrying its
// counter; it logs every frame's capture time (index = counter).
func sendVideo(ctx context.Context, src *livekit.VideoSource, t0 time.Time, d time.Duration, log *sendLog) error {
	frame := media.NewVideoFrame(media.I420, videoWidth, videoHeight)
	n := int(d * videoFPS / time.Second)
	for i := 0; i < n; i++ {
		at := t0.Add(time.Duration(i) * time.Second / videoFPS)
		if err := sleepUntil(ctx, at); err != nil {
			return err
		}
		drawCounter(frame, uint32(i))
		t := time.Now()
		frame.Timestamp = t.Sub(t0)
		if err := src.CaptureFrame(frame); err != nil {
			return err
		}
		log.add(t, true)
	}
	return nil
}

// The frame counter in the picture: codeBits blocks in codeRows rows of
// codeCols across the middle half of the frame, white for 1. The low 20 bits
// are the counter, the top 4 a check (see codeWord), so a picture that is
// not a code (all black, mid-transition blur) is rejected rather than misread.
const (
	codeCols    = 8
	codeRows    = 3
	codeBits    = codeCols * codeRows
	counterBits = 20
	black       = 16
	white       = 235
)

func codeCheck(c uint32) uint32 {
	c &= 1<<counterBits - 1
	return (c ^ c>>4 ^ c>>8 ^ c>>12 ^ c>>16 ^ 0xA) & 0xF
}

func codeWord(c uint32) uint32 {
	c &= 1<<counterBits - 1
	return c | codeCheck(c)<<counterBits
}

// codeRect is block bit's rectangle in a w x h picture.
func codeRect(bit, w, h int) (x0, y0, x1, y1 int) {
	col, row := bit%codeCols, bit/codeCols
	top, band := h/4, h/2
	return col * w / codeCols, top + row*band/codeRows, (col + 1) * w / codeCols, top + (row+1)*band/codeRows
}

// drawCounter paints c into an I420 frame: a grey picture with the code
// blocks, and a bar under them that moves with the counter (for a viewer).
func drawCounter(f *media.VideoFrame, c uint32) {
	planes, strides := f.Planes(), f.Strides()
	y, ys := planes[0], strides[0]
	for row := 0; row < f.Height; row++ {
		line := y[row*ys : row*ys+f.Width]
		for x := range line {
			line[x] = 96
		}
	}
	word := codeWord(c)
	for bit := 0; bit < codeBits; bit++ {
		v := byte(black)
		if word>>bit&1 == 1 {
			v = white
		}
		x0, y0, x1, y1 := codeRect(bit, f.Width, f.Height)
		for row := y0; row < y1; row++ {
			line := y[row*ys : row*ys+f.Width]
			for x := x0; x < x1; x++ {
				line[x] = v
			}
		}
	}
	bar := int(c%uint32(videoFPS)) * f.Width / videoFPS
	for row := f.Height * 7 / 8; row < f.Height*15/16; row++ {
		line := y[row*ys : row*ys+f.Width]
		for x := bar; x < bar+f.Width/videoFPS && x < f.Width; x++ {
			line[x] = white
		}
	}
	for _, pl := range planes[1:] {
		for i := range pl {
			pl[i] = 128
		}
	}
}

// readCounter decodes the counter from the luma plane of a frame of any
// size: the mean of the middle half of each block, thresholded at mid-grey.
func readCounter(f *media.VideoFrame) (uint32, bool) {
	if f == nil || (f.Type != media.I420 && f.Type != media.I420A && f.Type != media.I422 && f.Type != media.I444) {
		return 0, false
	}
	planes, strides := f.Planes(), f.Strides()
	if len(planes) == 0 || f.Width < codeCols*2 || f.Height < codeRows*4 {
		return 0, false
	}
	y, ys := planes[0], strides[0]
	var word uint32
	for bit := 0; bit < codeBits; bit++ {
		x0, y0, x1, y1 := codeRect(bit, f.Width, f.Height)
		qx, qy := (x1-x0)/4, (y1-y0)/4
		var sum, n int
		for row := y0 + qy; row < y1-qy; row++ {
			for x := x0 + qx; x < x1-qx; x++ {
				sum += int(y[row*ys+x])
				n++
			}
		}
		if n > 0 && sum/n > (black+white)/2 {
			word |= 1 << bit
		}
	}
	c := word & (1<<counterBits - 1)
	if word>>counterBits != codeCheck(c) {
		return 0, false
	}
	return c, true
}

// onsetDetector finds tone-burst onsets in a stream of mono samples fed in
// frames, and keeps the first bursts' samples for the frequency estimate.
type onsetDetector struct {
	ring    [onsetWindow]float64
	pos     int
	sum     float64 // of the squares in ring: integers, exact in float64
	filled  int
	armed   bool // waiting for an onset (after rearmQuiet of quiet)
	quiet   int
	skip    int // samples to skip before collecting
	collect bool
	cur     []int16
	windows [][]int16
}

// feed processes samples and returns the indexes in it where bursts start.
func (d *onsetDetector) feed(samples []int16) []int {
	var onsets []int
	on2 := onsetLevel * onsetLevel * onsetWindow
	quiet2 := quietLevel * quietLevel * onsetWindow
	for i, x := range samples {
		v := float64(x) * float64(x)
		d.sum += v - d.ring[d.pos]
		d.ring[d.pos] = v
		d.pos = (d.pos + 1) % onsetWindow
		if d.filled < onsetWindow {
			d.filled++
			if d.filled < onsetWindow {
				continue
			}
		}
		if d.collect {
			if d.skip > 0 {
				d.skip--
			} else {
				d.cur = append(d.cur, x)
				if len(d.cur) == toneWindowLen {
					d.windows = append(d.windows, d.cur)
					d.cur, d.collect = nil, false
				}
			}
		}
		switch {
		case d.armed && d.sum >= on2:
			onsets = append(onsets, i)
			d.armed, d.quiet = false, 0
			if len(d.windows) < toneWindows && !d.collect {
				d.collect, d.skip, d.cur = true, toneSkip, make([]int16, 0, toneWindowLen)
			}
		case !d.armed && d.sum < quiet2:
			d.quiet++
			if d.quiet >= rearmQuiet {
				d.armed = true
			}
		case !d.armed:
			d.quiet = 0
		}
	}
	return onsets
}

// toneFrequency is the median over the collected bursts of the strongest
// frequency (a 10 Hz scan from 100 Hz to 4 kHz, refined to 0.1 Hz); 0 if
// no burst was collected.
func (d *onsetDetector) toneFrequency() float64 {
	var fs []float64
	for _, w := range d.windows {
		coarse := dsp.DominantFrequency(w, audioRate, 100, 4000, 10)
		fs = append(fs, dsp.DominantFrequency(w, audioRate, coarse-10, coarse+10, 0.1))
	}
	if len(fs) == 0 {
		return 0
	}
	sort.Float64s(fs)
	return fs[len(fs)/2]
}

// audioRecv is what B measured of the audio.
type audioRecv struct {
	mu          sync.Mutex
	frames      int
	first, last time.Time
	rate, ch    int
	frameDur    time.Duration
	det         onsetDetector
	onsets      []time.Time // when each burst onset was played at B
	dropped     uint64
}

func (r *audioRecv) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frames
}

// add takes one frame that arrived at now. An onset at sample i of n
// happened (n-i) samples before the frame's end, which is now.
func (r *audioRecv) add(f *media.AudioFrame, now time.Time) {
	mono := f.Data
	if f.NumChannels > 1 {
		mono = dsp.Channel(f.Data, f.NumChannels, 0)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frames == 0 {
		r.first = now
	}
	r.frames++
	r.last = now
	r.rate, r.ch, r.frameDur = f.SampleRate, f.NumChannels, f.Duration()
	for _, i := range r.det.feed(mono) {
		back := time.Duration(len(mono)-i) * time.Second / time.Duration(f.SampleRate)
		r.onsets = append(r.onsets, now.Add(-back))
	}
}

func (p *probe) startAudio(tr *livekit.RemoteAudioTrack) {
	s, err := livekit.NewAudioStream(tr, livekit.AudioStreamOptions{SampleRate: audioRate, NumChannels: 1, Capacity: 100})
	if err != nil {
		p.out.info("media: B cannot read the audio track: %v", err)
		return
	}
	if !p.addStream(s) {
		s.Close()
		return
	}
	p.goB(true, func(ctx context.Context) {
		defer func() {
			p.aud.mu.Lock()
			p.aud.dropped = s.Dropped()
			p.aud.mu.Unlock()
		}()
		for {
			f, err := s.Recv(ctx)
			if err != nil {
				return
			}
			p.aud.add(f, time.Now())
		}
	})
}

// videoRecv is what B measured of the video.
type videoRecv struct {
	mu          sync.Mutex
	frames      int
	first, last time.Time
	w, h        int
	decoded     int
	seen        map[uint32]bool
	maxCode     int64 // highest counter read, -1 before the first
	minCode     int64
	newFrames   int // frames with a counter above every earlier one
	firstNew    time.Time
	lastNew     time.Time
	latencies   []time.Duration
	dropped     uint64
}

func (r *videoRecv) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frames
}

func (p *probe) startVideo(tr *livekit.RemoteVideoTrack) {
	s, err := livekit.NewVideoStream(tr, livekit.VideoStreamOptions{Format: media.I420, Capacity: 30})
	if err != nil {
		p.out.info("media: B cannot read the video track: %v", err)
		return
	}
	if !p.addStream(s) {
		s.Close()
		return
	}
	p.goB(true, func(ctx context.Context) {
		defer func() {
			p.vid.mu.Lock()
			p.vid.dropped = s.Dropped()
			p.vid.mu.Unlock()
		}()
		for {
			f, err := s.Recv(ctx)
			if err != nil {
				return
			}
			p.addVideo(f, time.Now())
			s.Release(f)
		}
	})
}

func (p *probe) addVideo(f *media.VideoFrame, now time.Time) {
	c, ok := readCounter(f)
	var sent time.Time
	if ok {
		sent, ok = p.videoSent.at(int(c))
	}
	r := &p.vid
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frames == 0 {
		r.first, r.maxCode, r.seen = now, -1, map[uint32]bool{}
	}
	r.frames++
	r.last, r.w, r.h = now, f.Width, f.Height
	if !ok {
		return
	}
	r.decoded++
	if r.seen[c] {
		return
	}
	r.seen[c] = true
	r.latencies = append(r.latencies, now.Sub(sent))
	if r.maxCode < 0 {
		r.minCode = int64(c)
	}
	if int64(c) > r.maxCode {
		r.maxCode = int64(c)
		if r.newFrames == 0 {
			r.firstNew = now
		}
		r.newFrames++
		r.lastNew = now
	}
	r.minCode = min(r.minCode, int64(c))
}

// dataRoundTrips sends roundTrips packets from A to B, which echoes each.
func (p *probe) dataRoundTrips(ctx context.Context) roundTripCheck {
	ev := roundTripCheck{Check: "data", Attempts: roundTrips}
	nonce := strings.ToLower(rand.Text()[:8])
	var rtts []time.Duration
	for i := 0; i < roundTrips && ctx.Err() == nil; i++ {
		payload := fmt.Sprintf("%s-%d", nonce, i)
		t := time.Now()
		sctx, cancel := context.WithTimeout(ctx, roundTripTimeout)
		err := p.a.LocalParticipant().PublishData(sctx, []byte(payload), livekit.DataOptions{Topic: pingTopic, Destinations: []string{p.bID}})
		if err == nil {
			err = waitPong(sctx, p.pongs, payload)
		}
		cancel()
		if err != nil {
			ev.Error = fmt.Sprintf("round trip %d: %v", i+1, err)
			break
		}
		rtts = append(rtts, time.Since(t))
	}
	ev.finish(rtts)
	return ev
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
				return fmt.Errorf("no echo within %s", roundTripTimeout)
			}
			return ctx.Err()
		}
	}
}

// registerEcho makes B answer rpcMethod with the request's payload.
func (p *probe) registerEcho() error {
	return p.b.LocalParticipant().RegisterRPCMethod(rpcMethod, func(_ context.Context, inv livekit.RPCInvocation) (string, error) {
		return inv.Payload, nil
	})
}

// rpcRoundTrips calls B's echo method roundTrips times.
func (p *probe) rpcRoundTrips(ctx context.Context, registerErr error) roundTripCheck {
	ev := roundTripCheck{Check: "rpc", Attempts: roundTrips}
	if registerErr != nil {
		ev.Error = "B could not register the method: " + registerErr.Error()
		ev.finish(nil)
		return ev
	}
	var rtts []time.Duration
	for i := 0; i < roundTrips && ctx.Err() == nil; i++ {
		payload := fmt.Sprintf("ping-%d", i)
		t := time.Now()
		got, err := p.a.LocalParticipant().PerformRPC(ctx, livekit.RPCParams{Destination: p.bID, Method: rpcMethod,
			Payload: payload, ResponseTimeout: roundTripTimeout})
		if err == nil && got != payload {
			err = fmt.Errorf("answer %q, want %q", got, payload)
		}
		if err != nil {
			ev.Error = fmt.Sprintf("call %d: %v", i+1, err)
			break
		}
		rtts = append(rtts, time.Since(t))
	}
	ev.finish(rtts)
	return ev
}

// cleanup stops B's readers, leaves with both participants and releases
// every handle, on every path (signals included: ctx may be cancelled, the
// waits here are bounded on their own).
func (p *probe) cleanup(ctx context.Context, pubs *published) {
	p.leaving.Store(true)
	p.mu.Lock()
	p.closing = true
	streams := p.streams
	p.streams = nil
	p.mu.Unlock()
	if p.cancelProbe != nil {
		p.cancelProbe() // ends echoes in flight
	}
	if p.stopRecv != nil {
		p.stopRecv()
	}
	p.readers.Wait()
	p.echoes.Wait()
	for _, s := range streams {
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
	if pubs.audioTrack != nil {
		pubs.audioTrack.Close()
	}
	if pubs.videoTrack != nil {
		pubs.videoTrack.Close()
	}
	if pubs.audioSrc != nil {
		pubs.audioSrc.Close()
	}
	if pubs.videoSrc != nil {
		pubs.videoSrc.Close()
	}
}

// report turns the measurements into checks, prints them and returns the
// exit code.
func (p *probe) report(data, rpc roundTripCheck) int {
	m := p.cfg.media
	var failed []string
	emit := func(name string, ok bool, why string) {
		if !ok {
			failed = append(failed, name)
			p.out.fail("media", name+": "+why)
		}
	}
	t0 := p.captureStart()
	if m.audio {
		a := p.audioCheck(t0)
		p.out.mediaCheck(a, a.human())
		emit("audio", a.OK, a.Error)
	}
	if m.video {
		v := p.videoCheck(t0)
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

func (p *probe) audioCheck(t0 time.Time) audioCheck {
	m := p.cfg.media
	r := &p.aud
	r.mu.Lock()
	defer r.mu.Unlock()
	sent, _ := p.audioSent.snapshot()
	c := audioCheck{Check: "audio", Received: r.frames > 0, Frames: r.frames, SampleRate: r.rate, Channels: r.ch,
		SentToneHz: toneHz, BurstsSent: len(sent)}
	if len(r.onsets) > 0 {
		// B's stream yields (silent) frames as soon as it starts: the first
		// audio is the first tone heard.
		c.FirstAudioMS = ptr(ms(r.onsets[0].Sub(t0)))
		p.steps.FirstAudioMS = c.FirstAudioMS
	}
	if r.frames > 0 {
		if r.frameDur > 0 {
			expected := int(math.Round(float64(r.last.Sub(r.first))/float64(r.frameDur))) + 1
			c.FramesLost = max(0, expected-r.frames) + int(r.dropped)
		}
	}
	if f := r.det.toneFrequency(); f > 0 {
		c.ToneHz = ptr(math.Round(f*10) / 10)
	}
	lat, matched := matchOnsets(sent, r.onsets, burstPeriod)
	c.BurstsDetected = matched
	c.LatencyMedianMS, c.LatencyP90MS = percentileMS(lat, 0.5), percentileMS(lat, 0.9)
	if m.maxAudioLatency > 0 {
		c.MaxLatencyMS = ptr(ms(m.maxAudioLatency))
	}
	switch {
	case r.frames == 0 && !p.audioSubscribe.Load():
		c.Error = "B never subscribed to A's audio track"
	case r.frames == 0:
		c.Error = "B subscribed to the audio track but received no frames"
	case matched == 0:
		c.Error = fmt.Sprintf("B received %d audio frames but detected none of the %d tone bursts", r.frames, len(sent))
	case c.ToneHz == nil || math.Abs(*c.ToneHz-toneHz) > toneTolerance:
		c.Error = fmt.Sprintf("tone detected at %s, sent %.0f Hz (tolerance %.0f Hz)", fmtHz(c.ToneHz), toneHz, toneTolerance)
	case m.maxAudioLatency > 0 && *c.LatencyMedianMS > ms(m.maxAudioLatency):
		c.Error = fmt.Sprintf("median latency %.1fms exceeds --max-audio-latency %s", *c.LatencyMedianMS, m.maxAudioLatency)
	}
	c.OK = c.Error == ""
	return c
}

func (p *probe) videoCheck(t0 time.Time) videoCheck {
	m := p.cfg.media
	r := &p.vid
	r.mu.Lock()
	defer r.mu.Unlock()
	_, sent := p.videoSent.snapshot()
	c := videoCheck{Check: "video", Received: r.frames > 0, Width: r.w, Height: r.h, SentWidth: videoWidth, SentHeight: videoHeight,
		SentFPS: videoFPS, FramesSent: sent, FramesReceived: r.frames, FramesDecoded: r.decoded}
	if r.frames > 0 {
		c.FirstVideoMS = ptr(ms(r.first.Sub(t0)))
		p.steps.FirstVideoMS = c.FirstVideoMS
	}
	if r.newFrames > 1 {
		fps := float64(r.newFrames-1) / r.lastNew.Sub(r.firstNew).Seconds()
		c.FPS = ptr(math.Round(fps*10) / 10)
	}
	if r.maxCode >= 0 {
		// Counters between the first one read and the last one sent that B never saw.
		c.FramesLost = max(0, sent-int(r.minCode)-len(r.seen))
	}
	c.LatencyMedianMS, c.LatencyP90MS = percentileMS(r.latencies, 0.5), percentileMS(r.latencies, 0.9)
	if m.maxVideoLatency > 0 {
		c.MaxLatencyMS = ptr(ms(m.maxVideoLatency))
	}
	if m.minFPS > 0 {
		c.MinFPS = ptr(m.minFPS)
	}
	switch {
	case r.frames == 0 && !p.videoSubscribe.Load():
		c.Error = "B never subscribed to A's video track"
	case r.frames == 0:
		c.Error = "B subscribed to the video track but received no frames"
	case r.decoded == 0:
		c.Error = fmt.Sprintf("B received %d video frames but could read the frame counter in none", r.frames)
	case m.minFPS > 0 && (c.FPS == nil || *c.FPS < m.minFPS):
		c.Error = fmt.Sprintf("%s frames per second received, below --min-fps %g", fmtFPS(c.FPS), m.minFPS)
	case m.maxVideoLatency > 0 && *c.LatencyMedianMS > ms(m.maxVideoLatency):
		c.Error = fmt.Sprintf("median latency %.1fms exceeds --max-video-latency %s", *c.LatencyMedianMS, m.maxVideoLatency)
	}
	c.OK = c.Error == ""
	return c
}

// matchOnsets pairs each onset heard at B with the latest burst A sent
// before it (within period: a latency of a whole period or more would be
// read as a shorter one). It returns the latencies, one per burst (its
// earliest detection), and how many bursts were matched.
func matchOnsets(sent, got []time.Time, period time.Duration) ([]time.Duration, int) {
	var lat []time.Duration
	matched := map[int]bool{}
	for _, g := range got {
		i := sort.Search(len(sent), func(i int) bool { return sent[i].After(g) }) - 1
		if i < 0 || matched[i] {
			continue
		}
		if d := g.Sub(sent[i]); d < period {
			matched[i] = true
			lat = append(lat, d)
		}
	}
	return lat, len(matched)
}

// percentileMS is the q-quantile (nearest rank) of ds in milliseconds, nil
// for none.
func percentileMS(ds []time.Duration, q float64) *float64 {
	if len(ds) == 0 {
		return nil
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	i = min(max(i, 0), len(s)-1)
	return ptr(ms(s[i]))
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
