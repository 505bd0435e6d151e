package main

import (
	"encoding/json"
	"fmt"
	"github.com/livekit-ffi-go/sdk/internal/redact"
	"github.com/livekit-ffi-go/sdk/tokensource"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// The events printed. In --json mode each is one line on stdout, a JSON
// object whose "event" field names it; otherwise a readable summary.

// devEvent says where the --dev server and token endpoint run.
type devEvent struct {
	Event     string `json:"event"` // "dev"
	ServerURL string `json:"server_url"`
	Endpoint  string `json:"endpoint"`
	PID       int    `json:"pid,omitempty"`
	Log       string `json:"log,omitempty"`
	ElapsedMS int64  `json:"elapsed_ms"` // since tokencheck started: server and endpoint ready
}

// tokenEvent is what the fetched token says. Times are RFC 3339 (UTC), null
// when the token lacks the claim.
type tokenEvent struct {
	Event      string            `json:"event"`          // "token"
	Role       string            `json:"role,omitempty"` // "peer" for --media's second participant
	Source     string            `json:"source"`         // literal, endpoint, sandbox, minter or dev
	From       string            `json:"from"`           // the endpoint URL (without query) or the minter's key
	ServerURL  string            `json:"server_url"`
	Identity   string            `json:"identity"`
	Name       string            `json:"name"`
	Room       string            `json:"room"`
	Metadata   string            `json:"metadata,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Agents     []string          `json:"agents,omitempty"`
	Issuer     string            `json:"issuer,omitempty"`
	Grants     []string          `json:"grants,omitempty"`
	IssuedAt   *time.Time        `json:"issued_at"`
	NotBefore  *time.Time        `json:"not_before"`
	ExpiresAt  *time.Time        `json:"expires_at"`
	Valid      bool              `json:"valid"`
	Error      string            `json:"error,omitempty"`
	// Token is the full token, only with --show-token; TokenRedacted
	// otherwise.
	Token         string `json:"token,omitempty"`
	TokenRedacted string `json:"token_redacted,omitempty"`
}

// connectedEvent: the room was joined.
type connectedEvent struct {
	Event        string   `json:"event"` // "connected"
	Room         string   `json:"room"`
	SID          string   `json:"sid"`
	Identity     string   `json:"identity"`
	Participants []string `json:"participants"` // identities of the remote participants
	ElapsedMS    int64    `json:"elapsed_ms"`   // since tokencheck started
}

// refreshedEvent: the server pushed a new token.
type refreshedEvent struct {
	Event         string     `json:"event"` // "token_refreshed"
	Identity      string     `json:"identity"`
	ExpiresAt     *time.Time `json:"expires_at"`
	ElapsedMS     int64      `json:"elapsed_ms"` // since tokencheck started
	Token         string     `json:"token,omitempty"`
	TokenRedacted string     `json:"token_redacted,omitempty"`
}

// roomEvent covers the smaller room events (participant_connected,
// participant_disconnected, reconnecting, reconnected, room_sid).
type roomEvent struct {
	Event    string `json:"event"`
	Identity string `json:"identity,omitempty"`
	SID      string `json:"sid,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// disconnectedEvent: the room is gone (by us at the end, or by the server).
type disconnectedEvent struct {
	Event  string `json:"event"` // "disconnected"
	Reason string `json:"reason"`
}

// errorEvent: something failed; Stage is dev, fetch, validate, join or watch.
type errorEvent struct {
	Event   string `json:"event"` // "error"
	Stage   string `json:"stage"`
	Message string `json:"message"`
}

// printer writes events in the chosen format. It is safe for concurrent use;
// in human mode it also owns the progress spinner on stderr.
type printer struct {
	mu     sync.Mutex
	json   bool
	stdout io.Writer
	stderr io.Writer
	now    func() time.Time

	spin *spinner // nil unless human mode on a terminal
}

func newPrinter(jsonMode bool, stdout, stderr io.Writer, stderrIsTerminal bool) *printer {
	p := &printer{json: jsonMode, stdout: stdout, stderr: stderr, now: time.Now}
	if !jsonMode && stderrIsTerminal {
		p.spin = &spinner{p: p}
	}
	return p
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// emitJSON writes v as one line on stdout. Callers hold p.mu.
func (p *printer) emitJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil { // only plain structs are marshalled; cannot happen
		b, _ = json.Marshal(errorEvent{Event: "error", Stage: "output", Message: err.Error()})
	}
	p.stdout.Write(append(b, '\n'))
}

// human writes text to w after clearing the spinner line. Callers hold p.mu.
func (p *printer) human(w io.Writer, format string, args ...any) {
	p.spin.clearLocked()
	fmt.Fprintf(w, format, args...)
}

func (p *printer) dev(ev devEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ev.Event = "dev"
	if p.json {
		p.emitJSON(ev)
		return
	}
	p.human(p.stderr, "dev: livekit-server running at %s (pid %d, ready after %s)\n",
		ev.ServerURL, ev.PID, fmtDur(time.Duration(ev.ElapsedMS)*time.Millisecond))
	if ev.Log != "" {
		p.human(p.stderr, "dev: server log %s (removed on exit)\n", ev.Log)
	}
	p.human(p.stderr, "dev: token endpoint at %s\n", ev.Endpoint)
}

func (p *printer) token(ev tokenEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ev.Event = "token"
	if p.json {
		p.emitJSON(ev)
		return
	}
	now := p.now()
	var b strings.Builder
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "  %-11s %s\n", k, v)
		}
	}
	tok := ev.Token
	if tok == "" {
		tok = ev.TokenRedacted + "  (--show-token prints it)"
	}
	if ev.Role != "" {
		fmt.Fprintf(&b, "%s token %s\n", ev.Role, tok)
	} else {
		fmt.Fprintf(&b, "token %s\n", tok)
	}
	row("source", ev.Source+" ("+ev.From+")")
	row("server", ev.ServerURL)
	row("room", ev.Room)
	row("identity", ev.Identity)
	row("name", ev.Name)
	row("metadata", ev.Metadata)
	if len(ev.Attributes) > 0 {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(ev.Attributes)) {
			kv = append(kv, k+"="+ev.Attributes[k])
		}
		row("attributes", strings.Join(kv, ", "))
	}
	row("agents", strings.Join(ev.Agents, ", "))
	row("issuer", ev.Issuer)
	row("grants", strings.Join(ev.Grants, ", "))
	row("issued", relTime(ev.IssuedAt, now, "issued"))
	row("not before", relTime(ev.NotBefore, now, "nbf"))
	row("expires", relTime(ev.ExpiresAt, now, "exp"))
	if ev.Valid {
		row("status", "valid")
	} else {
		row("status", "INVALID: "+ev.Error)
	}
	p.human(p.stdout, "%s", b.String())
}

func (p *printer) connected(ev connectedEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ev.Event = "connected"
	if ev.Participants == nil {
		ev.Participants = []string{}
	}
	if p.json {
		p.emitJSON(ev)
		return
	}
	sid := ev.SID
	if sid == "" {
		sid = "pending"
	}
	others := "no other participants"
	if n := len(ev.Participants); n > 0 {
		others = fmt.Sprintf("%d other participant(s): %s", n, strings.Join(ev.Participants, ", "))
	}
	p.human(p.stdout, "connected to room %q (sid %s) as %q after %s; %s\n",
		ev.Room, sid, ev.Identity, fmtDur(time.Duration(ev.ElapsedMS)*time.Millisecond), others)
}

func (p *printer) refreshed(ev refreshedEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ev.Event = "token_refreshed"
	if p.json {
		p.emitJSON(ev)
		return
	}
	tok := ev.Token
	if tok == "" {
		tok = ev.TokenRedacted
	}
	p.human(p.stdout, "token refreshed by the server for %q at +%s: expires %s\n  new token %s\n",
		ev.Identity, fmtDur(time.Duration(ev.ElapsedMS)*time.Millisecond), relTime(ev.ExpiresAt, p.now(), "exp"), tok)
}

func (p *printer) room(ev roomEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		p.emitJSON(ev)
		return
	}
	switch ev.Event {
	case "participant_connected":
		p.human(p.stdout, "participant %q joined\n", ev.Identity)
	case "participant_disconnected":
		p.human(p.stdout, "participant %q left (%s)\n", ev.Identity, ev.Reason)
	case "room_sid":
		p.human(p.stdout, "room sid %s\n", ev.SID)
	default:
		p.human(p.stdout, "%s\n", ev.Event)
	}
}

func (p *printer) disconnected(reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		p.emitJSON(disconnectedEvent{Event: "disconnected", Reason: reason})
		return
	}
	p.human(p.stdout, "disconnected (%s)\n", reason)
}

func (p *printer) fail(stage, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		p.emitJSON(errorEvent{Event: "error", Stage: stage, Message: msg})
		return
	}
	p.human(p.stderr, "tokencheck: %s: %s\n", stage, msg)
}

// info is a human-mode note on stderr; JSON mode drops it.
func (p *printer) info(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.json {
		p.human(p.stderr, format+"\n", args...)
	}
}

// progress shows msg() beside a spinner on stderr until the returned stop
// function is called. Without a terminal it does nothing.
func (p *printer) progress(msg func() string) (stop func()) {
	if p.spin == nil {
		return func() {}
	}
	return p.spin.start(msg)
}

// spinner draws "<frame> <msg>" on one stderr line, redrawn every 100 ms.
type spinner struct {
	p     *printer
	shown bool // a spinner line is on screen (guarded by p.mu)
}

var spinFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (s *spinner) start(msg func() string) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			s.p.mu.Lock()
			fmt.Fprintf(s.p.stderr, "\r\033[K%s %s", spinFrames[i%len(spinFrames)], msg())
			s.shown = true
			s.p.mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
			s.p.mu.Lock()
			s.clearLocked()
			s.p.mu.Unlock()
		})
	}
}

// clearLocked erases the spinner line; callers hold p.mu. A nil spinner does
// nothing.
func (s *spinner) clearLocked() {
	if s == nil || !s.shown {
		return
	}
	fmt.Fprint(s.p.stderr, "\r\033[K")
	s.shown = false
}

// relTime renders t relative to now, e.g. "in 9m58s (2026-01-02T15:04:05Z)"
// or "2s ago (...)"; "none" when the claim is absent.
func relTime(t *time.Time, now time.Time, what string) string {
	if t == nil {
		return "none (no " + what + " claim)"
	}
	abs := t.UTC().Format(time.RFC3339)
	d := t.Sub(now).Round(time.Second)
	switch {
	case d > 0:
		return fmt.Sprintf("in %s (%s)", fmtDur(d), abs)
	case d < 0:
		return fmt.Sprintf("%s ago (%s)", fmtDur(-d), abs)
	}
	return "now (" + abs + ")"
}

// fmtDur prints d compactly: 412ms below a second, whole seconds above.
func fmtDur(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	if d < time.Minute {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// secrets holds strings that must never be printed (the tokens unless
// --show-token, the API secret always). scrubWriter replaces them on the way
// out, a safety net under the printer, which never prints them in the first
// place, for messages it does not control (errors, library logs).
type secrets struct {
	mu     sync.RWMutex
	list   []secret
	tokens bool // mask anything shaped like a JWT too
}

// maskTokens makes scrub redact every JWT-shaped string, known or not.
func (s *secrets) maskTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = true
}

type secret struct{ value, stand string }

func (s *secrets) add(value, stand string) {
	if len(value) < 8 { // too short to scrub without mangling ordinary text
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, secret{value, stand})
}

func (s *secrets) scrub(text string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, sec := range s.list {
		text = strings.ReplaceAll(text, sec.value, sec.stand)
	}
	if s.tokens {
		text = redact.JWTs(text, tokensource.Redact)
	}
	return text
}

// scrubWriter writes through w with secrets replaced. Every write here is a
// whole line or record, so a secret is never split across writes.
type scrubWriter struct {
	w io.Writer
	s *secrets
}

func (sw scrubWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(sw.w, sw.s.scrub(string(b))); err != nil {
		return 0, err
	}
	return len(b), nil
}

// The --media events. Each check is one "media_check" object with "check"
// naming it and "ok"; durations are milliseconds (0.1 ms resolution), null
// when nothing was measured. A failed check also has "error", and is
// repeated as an "error" event with stage "media".

// audioCheck: B's reading of A's tone bursts.
type audioCheck struct {
	Event           string   `json:"event"` // "media_check"
	Check           string   `json:"check"` // "audio"
	OK              bool     `json:"ok"`
	Received        bool     `json:"received"`
	Frames          int      `json:"frames"`      // frames B read
	FramesLost      int      `json:"frames_lost"` // missing from B's 10 ms cadence, plus frames B read too late
	SampleRate      int      `json:"sample_rate"`
	Channels        int      `json:"channels"`
	ToneHz          *float64 `json:"tone_hz"` // strongest frequency in the bursts at B
	SentToneHz      float64  `json:"sent_tone_hz"`
	BurstsSent      int      `json:"bursts_sent"`
	BurstsDetected  int      `json:"bursts_detected"`
	LatencyMedianMS *float64 `json:"latency_median_ms"` // burst onset at A's capture to onset at B
	LatencyP90MS    *float64 `json:"latency_p90_ms"`
	FirstAudioMS    *float64 `json:"first_audio_ms"`           // A's first capture to the first onset at B (the first burst starts 250 ms in)
	MaxLatencyMS    *float64 `json:"max_latency_ms,omitempty"` // --max-audio-latency
	Error           string   `json:"error,omitempty"`
}

// videoCheck: B's reading of A's frame counter.
type videoCheck struct {
	Event           string   `json:"event"` // "media_check"
	Check           string   `json:"check"` // "video"
	OK              bool     `json:"ok"`
	Received        bool     `json:"received"`
	Width           int      `json:"width"` // of the last frame B read
	Height          int      `json:"height"`
	SentWidth       int      `json:"sent_width"`
	SentHeight      int      `json:"sent_height"`
	FPS             *float64 `json:"fps"` // new frames per second at B
	SentFPS         float64  `json:"sent_fps"`
	FramesSent      int      `json:"frames_sent"`
	FramesReceived  int      `json:"frames_received"`
	FramesDecoded   int      `json:"frames_decoded"`    // frames whose counter B could read
	FramesLost      int      `json:"frames_lost"`       // counters from B's first to A's last that B never read
	LatencyMedianMS *float64 `json:"latency_median_ms"` // capture at A to arrival at B, per frame
	LatencyP90MS    *float64 `json:"latency_p90_ms"`
	FirstVideoMS    *float64 `json:"first_video_ms"`
	MaxLatencyMS    *float64 `json:"max_latency_ms,omitempty"` // --max-video-latency
	MinFPS          *float64 `json:"min_fps,omitempty"`        // --min-fps
	Error           string   `json:"error,omitempty"`
}

// roundTripCheck: data packets A sends and B echoes, or RPC calls from A to B.
type roundTripCheck struct {
	Event       string   `json:"event"` // "media_check"
	Check       string   `json:"check"` // "data" or "rpc"
	OK          bool     `json:"ok"`
	Attempts    int      `json:"attempts"`
	RoundTrips  int      `json:"round_trips"` // answered
	RTTMedianMS *float64 `json:"rtt_median_ms"`
	RTTMaxMS    *float64 `json:"rtt_max_ms"`
	Error       string   `json:"error,omitempty"`
}

func (c *roundTripCheck) finish(rtts []time.Duration) {
	c.RoundTrips = len(rtts)
	c.RTTMedianMS, c.RTTMaxMS = percentileMS(rtts, 0.5), percentileMS(rtts, 1)
	c.OK = c.Error == "" && c.RoundTrips == c.Attempts
}

// stepsCheck: how long each step took.
type stepsCheck struct {
	Event            string   `json:"event"` // "media_check"
	Check            string   `json:"check"` // "steps"
	OK               bool     `json:"ok"`
	TokenFetchMS     float64  `json:"token_fetch_ms"`
	PeerTokenFetchMS float64  `json:"peer_token_fetch_ms"`
	JoinAMS          float64  `json:"join_a_ms"`
	JoinBMS          float64  `json:"join_b_ms"`
	PublishMS        float64  `json:"publish_ms"`     // A's tracks published
	FirstAudioMS     *float64 `json:"first_audio_ms"` // from A's first capture
	FirstVideoMS     *float64 `json:"first_video_ms"`
}

// mediaResult ends a --media run: ok, or the checks that failed.
type mediaResult struct {
	Event      string   `json:"event"` // "media_result"
	OK         bool     `json:"ok"`
	Failed     []string `json:"failed"`
	DurationMS float64  `json:"duration_ms"` // --media-duration
}

func status(ok bool) string {
	if ok {
		return "ok    "
	}
	return "FAILED"
}

func fmtMS(v *float64) string {
	if v == nil {
		return "-"
	}
	if *v < 1 {
		return fmt.Sprintf("%.1fms", *v)
	}
	return fmtDur(time.Duration(*v * float64(time.Millisecond)))
}

func fmtHz(v *float64) string {
	if v == nil {
		return "no tone"
	}
	return fmt.Sprintf("%.1f Hz", *v)
}

func fmtFPS(v *float64) string {
	if v == nil {
		return "no"
	}
	return fmt.Sprintf("%.1f", *v)
}

func withError(s, err string) string {
	if err != "" {
		return s + "\n         " + err
	}
	return s
}

func (c audioCheck) human() string {
	s := fmt.Sprintf("audio  %s %d frames (%d Hz, %d ch), tone %s, %d/%d bursts, latency median %s p90 %s, %d frames lost",
		status(c.OK), c.Frames, c.SampleRate, c.Channels, fmtHz(c.ToneHz), c.BurstsDetected, c.BurstsSent,
		fmtMS(c.LatencyMedianMS), fmtMS(c.LatencyP90MS), c.FramesLost)
	return withError(s, c.Error)
}

func (c videoCheck) human() string {
	s := fmt.Sprintf("video  %s %dx%d (sent %dx%d), %s fps (sent %g), %d/%d frames read, latency median %s p90 %s, %d frames lost",
		status(c.OK), c.Width, c.Height, c.SentWidth, c.SentHeight, fmtFPS(c.FPS), c.SentFPS, c.FramesDecoded, c.FramesSent,
		fmtMS(c.LatencyMedianMS), fmtMS(c.LatencyP90MS), c.FramesLost)
	return withError(s, c.Error)
}

func (c roundTripCheck) human() string {
	s := fmt.Sprintf("%-6s %s %d/%d round trips, median %s, max %s", c.Check, status(c.OK), c.RoundTrips, c.Attempts,
		fmtMS(c.RTTMedianMS), fmtMS(c.RTTMaxMS))
	return withError(s, c.Error)
}

func (c stepsCheck) human() string {
	return fmt.Sprintf("steps         token %s, peer token %s, join A %s, join B %s, publish %s, first audio %s, first video %s",
		fmtMS(&c.TokenFetchMS), fmtMS(&c.PeerTokenFetchMS), fmtMS(&c.JoinAMS), fmtMS(&c.JoinBMS), fmtMS(&c.PublishMS),
		fmtMS(c.FirstAudioMS), fmtMS(c.FirstVideoMS))
}

// mediaCheck prints one check: ev as JSON (its Event field set here), or
// the human line.
func (p *printer) mediaCheck(ev any, human string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		switch c := ev.(type) {
		case audioCheck:
			c.Event = "media_check"
			ev = c
		case videoCheck:
			c.Event = "media_check"
			ev = c
		case roundTripCheck:
			c.Event = "media_check"
			ev = c
		case stepsCheck:
			c.Event = "media_check"
			ev = c
		}
		p.emitJSON(ev)
		return
	}
	p.human(p.stdout, "%s\n", human)
}

func (p *printer) mediaResult(ev mediaResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ev.Event = "media_result"
	if p.json {
		p.emitJSON(ev)
		return
	}
	if ev.OK {
		p.human(p.stdout, "media  ok     every check passed\n")
	} else {
		p.human(p.stdout, "media  FAILED %s\n", strings.Join(ev.Failed, ", "))
	}
}
