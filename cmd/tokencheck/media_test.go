package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/devenv"
	"github.com/livekit-ffi-go/sdk/internal/mediaprobe"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

func TestMediaPercentile(t *testing.T) {
	if percentileMS(nil, 0.5) != nil {
		t.Errorf("percentile of nothing is not nil")
	}
	var ds []time.Duration
	for i := 10; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want float64
	}{{0.5, 5}, {0.9, 9}, {1, 10}, {0, 1}} {
		if got := *percentileMS(ds, tc.q); got != tc.want {
			t.Errorf("q%.1f = %v, want %v", tc.q, got, tc.want)
		}
	}
	if ds[0] != 10*time.Millisecond {
		t.Errorf("percentileMS sorted its argument")
	}
}

// Command-line mistakes around --media are usage errors (exit 2).
func TestMediaUsageErrors(t *testing.T) {
	lit := []string{"--token", "t", "--url", testWSURL}
	cases := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"literal without peer token", append(lit, "--media"), "--peer-token"},
		{"peer token without media", append(lit, "--peer-token", "p"), "needs --media"},
		{"threshold without media", []string{"--dev", "--max-audio-latency", "1s"}, "needs --media"},
		{"peer token with dev", []string{"--dev", "--media", "--peer-token", "p"}, "--peer-token"},
		{"peer identity with literal", append(lit, "--media", "--peer-token", "p", "--peer-identity", "x"), "--peer-identity"},
		{"audio and video only", []string{"--dev", "--media", "--media-audio-only", "--media-video-only"}, "not both"},
		{"zero duration", []string{"--dev", "--media", "--media-duration", "0s"}, "--media-duration"},
		{"negative latency", []string{"--dev", "--media", "--max-video-latency", "-1s"}, "must not be negative"},
		{"negative fps", []string{"--dev", "--media", "--min-fps", "-3"}, "--min-fps"},
		{"video threshold audio only", []string{"--dev", "--media", "--media-audio-only", "--min-fps", "10"}, "--media-audio-only"},
		{"audio threshold video only", []string{"--dev", "--media", "--media-video-only", "--max-audio-latency", "1s"}, "--media-video-only"},
		{"watch with media", []string{"--dev", "--media", "--watch", "5s"}, "--watch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runTC(t, nil, append(tc.args, "--json")...)
			r.wantCode(t, exitUsage)
			if !strings.Contains(r.stderr, tc.wantErr) {
				t.Errorf("stderr does not mention %q:\n%s", tc.wantErr, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty on a usage error:\n%s", r.stdout)
			}
		})
	}
}

func TestMediaHelp(t *testing.T) {
	r := runTC(t, nil, "-h")
	r.wantCode(t, exitOK)
	for _, want := range []string{"-media", "-peer-token", "-max-audio-latency", "-min-fps", "5 a --media check"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("help does not mention %q", want)
		}
	}
}

// A source that cannot give the second token: exit 1 with a message that
// says so, after the first token was reported. No native library is needed:
// the peer's token is fetched before anything joins.
func TestMediaPeerTokenFetchFails(t *testing.T) {
	// The endpoint refuses the peer: any identity other than "a".
	refusing := newRefusingServer(t, newMinter(t), "a")
	r := runTC(t, nil, "--endpoint", refusing, "--room", "r", "--identity", "a", "--media", "--json")
	r.wantCode(t, exitToken)
	r.wantNoJWT(t)
	r.one(t, "token")
	ev := r.one(t, "error")
	wantField(t, ev, "stage", "fetch")
	msg, _ := ev["message"].(string)
	if !strings.Contains(msg, "peer") || !strings.Contains(msg, `"a-peer"`) {
		t.Errorf("message %q does not say the peer's token (identity a-peer) failed", msg)
	}
	if len(r.named("connected")) != 0 {
		t.Errorf("joined although the peer's token failed")
	}
}

// An endpoint that gives the peer the same identity as the first
// participant would make the second join replace the first: exit 1.
func TestMediaPeerSameIdentity(t *testing.T) {
	fixed := newFixedIdentityServer(t, newMinter(t), "same")
	r := runTC(t, nil, "--endpoint", fixed, "--room", "r", "--media", "--json")
	r.wantCode(t, exitToken)
	if len(r.named("token")) != 2 {
		t.Errorf("want the first and the peer's token events")
	}
	wantField(t, r.named("token")[1], "role", "peer")
	ev := r.one(t, "error")
	if msg, _ := ev["message"].(string); !strings.Contains(msg, "same identity") {
		t.Errorf("message %q", msg)
	}
}

// --dev --join --media --json: audio and video arrive with plausible
// numbers, data and RPC round trips work, exit 0.
func TestMediaDevProbe(t *testing.T) {
	requireDev(t)
	r := runTC(t, nil, "--dev", "--join", "--media", "--media-duration", "4s", "--json")
	r.wantCode(t, exitOK)
	r.wantNoJWT(t)
	checks := map[string]map[string]any{}
	for _, ev := range r.named("media_check") {
		checks[ev["check"].(string)] = ev
	}
	for _, name := range []string{"audio", "video", "data", "rpc", "steps"} {
		ev, ok := checks[name]
		if !ok {
			t.Fatalf("no %q check", name)
		}
		if ev["ok"] != true {
			t.Errorf("%s check failed: %v", name, ev)
		}
	}
	a := checks["audio"]
	if a["received"] != true {
		t.Errorf("audio not received")
	}
	if hz, _ := a["tone_hz"].(float64); math.Abs(hz-mediaprobe.ToneHz) > 5 {
		t.Errorf("tone %.1f Hz, want %.0f within 5 Hz", hz, mediaprobe.ToneHz)
	}
	if med, _ := a["latency_median_ms"].(float64); med <= 0 || med >= float64(mediaprobe.BurstPeriod/time.Millisecond) {
		t.Errorf("audio latency median %v ms", a["latency_median_ms"])
	}
	if a["bursts_detected"].(float64) < a["bursts_sent"].(float64)/2 {
		t.Errorf("%v of %v bursts detected", a["bursts_detected"], a["bursts_sent"])
	}
	v := checks["video"]
	if v["received"] != true {
		t.Errorf("video not received")
	}
	if v["width"] != float64(mediaprobe.VideoWidth) || v["height"] != float64(mediaprobe.VideoHeight) {
		t.Errorf("video %vx%v, published %dx%d", v["width"], v["height"], mediaprobe.VideoWidth, mediaprobe.VideoHeight)
	}
	if fps, _ := v["fps"].(float64); fps < mediaprobe.VideoFPS/2 {
		t.Errorf("video %v fps, published %d", v["fps"], mediaprobe.VideoFPS)
	}
	if med, _ := v["latency_median_ms"].(float64); med <= 0 || med > 1000 {
		t.Errorf("video latency median %v ms", v["latency_median_ms"])
	}
	for _, name := range []string{"data", "rpc"} {
		if checks[name]["round_trips"] != float64(mediaprobe.RoundTrips) {
			t.Errorf("%s: %v round trips", name, checks[name]["round_trips"])
		}
	}
	st := checks["steps"]
	for _, k := range []string{"token_fetch_ms", "peer_token_fetch_ms", "join_a_ms", "join_b_ms", "first_audio_ms", "first_video_ms"} {
		if v, ok := st[k].(float64); !ok || v <= 0 {
			t.Errorf("steps.%s = %v", k, st[k])
		}
	}
	res := r.one(t, "media_result")
	if res["ok"] != true {
		t.Errorf("media_result %v", res)
	}
	// Two tokens (A's and the peer's), two joins, two clean leaves.
	toks := r.named("token")
	if len(toks) != 2 {
		t.Fatalf("%d token events, want 2", len(toks))
	}
	wantField(t, toks[1], "role", "peer")
	wantField(t, toks[1], "identity", "tokencheck-peer")
	if n := len(r.named("connected")); n != 2 {
		t.Errorf("%d connected events, want 2", n)
	}
	for _, ev := range r.named("disconnected") {
		wantField(t, ev, "reason", "client_initiated")
	}
	if n := len(r.named("disconnected")); n != 2 {
		t.Errorf("%d disconnected events, want 2", n)
	}
	if len(r.named("error")) != 0 {
		t.Errorf("error events in a successful run")
	}
}

// A threshold that cannot be met exits 5 and names the check and why.
func TestMediaThresholdFails(t *testing.T) {
	requireDev(t)
	r := runTC(t, nil, "--dev", "--media", "--media-audio-only", "--media-duration", "2s", "--max-audio-latency", "1ms", "--json")
	r.wantCode(t, exitMedia)
	r.wantNoJWT(t)
	ev := r.one(t, "error")
	wantField(t, ev, "stage", "media")
	if msg, _ := ev["message"].(string); !strings.HasPrefix(msg, "audio: ") || !strings.Contains(msg, "--max-audio-latency") {
		t.Errorf("message %q does not name the audio check and the threshold", msg)
	}
	res := r.one(t, "media_result")
	if res["ok"] != false {
		t.Errorf("media_result ok although a check failed")
	}
	if f, _ := res["failed"].([]any); len(f) != 1 || f[0] != "audio" {
		t.Errorf("failed = %v, want [audio]", res["failed"])
	}
	for _, ev := range r.named("media_check") {
		if ev["check"] == "video" {
			t.Errorf("a video check with --media-audio-only")
		}
	}
	if n := len(r.named("disconnected")); n != 2 {
		t.Errorf("%d disconnected events, want 2: both participants leave on failure", n)
	}
}

// Human mode, video only, with the literal source: --token and --peer-token
// minted here for a server the test starts.
func TestMediaLiteralPeerTokenHuman(t *testing.T) {
	requireDev(t)
	env, err := devenv.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	mint := func(identity string) string {
		tok, err := env.Minter.Mint(tokensource.Options{RoomName: "literal-media", ParticipantIdentity: identity})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tokA, tokB := mint("lit"), mint("lit-b")
	r := runTC(t, nil, "--token", tokA, "--peer-token", tokB, "--url", env.Server.URL(),
		"--media", "--media-video-only", "--media-duration", "2s", "--min-fps", "1")
	r.wantCode(t, exitOK)
	r.wantAbsent(t, "A's token", tokA)
	r.wantAbsent(t, "B's token", tokB)
	r.wantNoJWT(t)
	for _, want := range []string{"peer token ", "identity    lit-b", `as "lit-b"`, "video  ok", "data   ok", "rpc    ok", "steps ", "media  ok     every check passed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, "audio  ") {
		t.Errorf("an audio line with --media-video-only")
	}
}

// newRefusingServer is a token endpoint that mints only for identity and
// answers 403 for anyone else.
func newRefusingServer(t *testing.T, m *tokensource.Minter, identity string) string {
	t.Helper()
	srv := httptest.NewServer(tokensource.Handler(tokensource.Custom(func(ctx context.Context, opts tokensource.Options) (tokensource.Response, error) {
		if opts.ParticipantIdentity != identity {
			return tokensource.Response{}, &tokensource.HTTPError{StatusCode: http.StatusForbidden}
		}
		return m.Fetch(ctx, opts)
	})))
	t.Cleanup(srv.Close)
	return srv.URL
}

// newFixedIdentityServer is a token endpoint that ignores the identity asked
// for.
func newFixedIdentityServer(t *testing.T, m *tokensource.Minter, identity string) string {
	t.Helper()
	srv := httptest.NewServer(tokensource.Handler(tokensource.Custom(func(ctx context.Context, opts tokensource.Options) (tokensource.Response, error) {
		opts.ParticipantIdentity = identity
		return m.Fetch(ctx, opts)
	})))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Ctrl-C in the middle of the media checks: both participants leave, no
// check is reported, exit 130.
func TestMediaInterrupted(t *testing.T) {
	requireDev(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--dev", "--media", "--media-duration", "1m", "--json")
	cmd.Env = baseEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	sc := bufio.NewScanner(pipe)
	joined, signalled := 0, false
	for sc.Scan() {
		line := sc.Text()
		stdout.WriteString(line + "\n")
		if ev := parseEvent(t, line); ev["event"] == "connected" {
			joined++
		}
		if joined == 2 && !signalled {
			// Let A publish and B receive for a moment first.
			time.Sleep(2 * time.Second)
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			signalled = true
		}
	}
	err = cmd.Wait()
	r := result{stdout: stdout.String(), stderr: stderr.String(), events: parseEvents(t, stdout.String())}
	t.Logf("stdout:\n%sstderr:\n%s", r.stdout, r.stderr)
	if !signalled {
		t.Fatalf("B never joined (err %v)", err)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	r.wantCode(t, exitInterrupted)
	r.wantNoJWT(t)
	if n := len(r.named("disconnected")); n != 2 {
		t.Errorf("%d disconnected events, want 2", n)
	}
	for _, ev := range r.named("disconnected") {
		wantField(t, ev, "reason", "client_initiated")
	}
	if n := len(r.named("media_check")) + len(r.named("media_result")); n != 0 {
		t.Errorf("%d media checks reported for an interrupted run", n)
	}
}

// The human lines say what was measured and, for a failed check, why.
func TestMediaHumanLines(t *testing.T) {
	a := audioCheck{Check: "audio", OK: false, Received: true, Frames: 500, SampleRate: 48000, Channels: 1,
		ToneHz: ptr(999.9), BurstsSent: 10, BurstsDetected: 9, LatencyMedianMS: ptr(52.5), LatencyP90MS: ptr(61.0),
		Error: "median latency 52.5ms exceeds --max-audio-latency 1ms"}
	want := "audio  FAILED 500 frames (48000 Hz, 1 ch), tone 999.9 Hz, 9/10 bursts, latency median 53ms p90 61ms, 0 frames lost\n" +
		"         median latency 52.5ms exceeds --max-audio-latency 1ms"
	if got := a.human(); got != want {
		t.Errorf("audio line:\n%s\nwant:\n%s", got, want)
	}
	v := videoCheck{Check: "video", OK: true, Width: 320, Height: 240, SentWidth: 320, SentHeight: 240, SentFPS: 30}
	if got := v.human(); !strings.Contains(got, "no fps") || !strings.Contains(got, "latency median - p90 -") {
		t.Errorf("video line without measurements: %s", got)
	}
	s := stepsCheck{TokenFetchMS: 0.4, JoinAMS: 1234}
	if got := s.human(); !strings.Contains(got, "token 0.4ms") || !strings.Contains(got, "join A 1.23s") {
		t.Errorf("steps line: %s", got)
	}
	r := roundTripCheck{Check: "rpc", OK: false, Attempts: 5, RoundTrips: 2, RTTMedianMS: ptr(3.0), RTTMaxMS: ptr(4.0), Error: "call 3: timeout"}
	if got, want := r.human(), "rpc    FAILED 2/5 round trips, median 3ms, max 4ms\n         call 3: timeout"; got != want {
		t.Errorf("rpc line:\n%s\nwant:\n%s", got, want)
	}
}

// Only the abandoned-negotiation error, and only while leaving, is dropped.
func TestMediaLeavingFilter(t *testing.T) {
	var buf bytes.Buffer
	var leaving atomic.Bool
	log := slog.New(leavingFilter{slog.NewTextHandler(&buf, nil), &leaving}).With("target", "livekit")
	log.Error("failed to negotiate the publisher: closed")
	leaving.Store(true)
	log.Error("failed to negotiate the publisher: closed again")
	log.Error("something else")
	out := buf.String()
	if !strings.Contains(out, "publisher: closed\"") || strings.Contains(out, "closed again") || !strings.Contains(out, "something else") {
		t.Errorf("filtered log:\n%s", out)
	}
}
