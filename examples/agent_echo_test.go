package examples

import (
	"context"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/devenv"
	"github.com/livekit-ffi-go/sdk/internal/dsp"
	"github.com/livekit-ffi-go/sdk/internal/testenv"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// A participant whose token names the agent joins; agent-echo (the binary) gets the job, its
// participant (kind agent) joins, and the participant hears its own 440 Hz tone come back
// and gets "pong" for "ping". SIGTERM then drains the worker: the job ends and it exits 0.
func TestAgentEchoIsDispatchedAndEchoes(t *testing.T) {
	testenv.Server(t)
	dir := build(t, "agent-echo")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	env, err := devenv.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	srv := env.Server
	p := start(t, dir, "agent-echo", nil, "--url", srv.URL(), "--api-key", srv.APIKey, "--api-secret", srv.APISecret,
		"--agent-name", "echo-test", "--max-jobs", "2", "--delay", "200ms")
	waitOutput(t, p, 20*time.Second, "worker registered")

	tok, err := env.Minter.Mint(tokensource.Options{RoomName: "agent-echo-room", ParticipantIdentity: "caller",
		AgentName: "echo-test", AgentMetadata: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	room, err := livekit.Connect(ctx, srv.URL(), tok)
	if err != nil {
		t.Fatal(err)
	}
	defer room.Close()

	// The agent joins as a participant of kind agent.
	var agentP *livekit.RemoteParticipant
	for agentP == nil && ctx.Err() == nil {
		for _, rp := range room.RemoteParticipants() {
			if rp.Info().Kind == livekit.KindAgent {
				agentP = rp
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if agentP == nil {
		t.Fatalf("no agent joined; agent-echo said:\n%s", p.stderr.String())
	}
	reply, err := room.LocalParticipant().PerformRPC(ctx, livekit.RPCParams{Destination: agentP.Identity(), Method: "ping", Payload: "{}"})
	if err != nil || reply != "pong" {
		t.Errorf("ping: %q, %v", reply, err)
	}

	// Our tone out, the agent's microphone in.
	src, err := livekit.NewAudioSource(livekit.AudioSourceOptions{SampleRate: 48000, NumChannels: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	track, err := livekit.NewLocalAudioTrack("tone", src)
	if err != nil {
		t.Fatal(err)
	}
	defer track.Close()
	if _, err := room.LocalParticipant().PublishTrack(ctx, track, livekit.TrackPublishOptions{Source: livekit.SourceMicrophone}); err != nil {
		t.Fatal(err)
	}
	toneCtx, stopTone := context.WithCancel(ctx)
	defer stopTone()
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; toneCtx.Err() == nil; i++ {
			f := &media.AudioFrame{Data: dsp.Tone(440, 48000, 1, 480, 10000, 2*math.Pi*440*float64(i*480)/48000), SampleRate: 48000, NumChannels: 1, SamplesPerChannel: 480}
			if src.CaptureFrame(toneCtx, f) != nil {
				return
			}
			<-tick.C
		}
	}()
	st, err := livekit.NewAudioStreamFromParticipant(agentP, livekit.SourceMicrophone, livekit.AudioStreamOptions{SampleRate: 48000, NumChannels: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	heard := 0 // 10 ms frames in which the echo is a 440 Hz tone
	readCtx, stopRead := context.WithTimeout(ctx, 20*time.Second)
	defer stopRead()
	var buf []int16
	for f, err := range st.Frames(readCtx) {
		if err != nil {
			break
		}
		buf = append(buf, f.Data...)
		if len(buf) < 4800 {
			continue
		}
		if dsp.RMS(buf) > 1000 {
			if got := dsp.DominantFrequency(buf, 48000, 100, 2000, 10); got > 420 && got < 460 {
				heard++
			}
		}
		buf = buf[:0]
		if heard >= 5 {
			break
		}
	}
	if heard < 5 {
		t.Fatalf("heard the tone back in %d windows of 100 ms, want 5; agent-echo said:\n%s", heard, p.stderr.String())
	}

	// SIGTERM drains: the job ends and the worker exits cleanly.
	stopTone()
	room.Close()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 40*time.Second); code != 0 {
		t.Fatalf("agent-echo exited %d:\n%s", code, p.stderr.String())
	}
	if out := p.stderr.String(); !strings.Contains(out, "job ended") || strings.Contains(out, tok) {
		t.Errorf("agent-echo's log lacks the job's end or holds the token:\n%s", out)
	}
}

// waitOutput waits until the program's stderr contains s.
func waitOutput(t *testing.T, p *proc, d time.Duration, s string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(p.stderr.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not say %q within %v:\n%s", p.name, s, d, p.stderr.String())
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited: %v\n%s", p.name, p.err, p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
