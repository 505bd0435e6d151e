// Package examples holds the example programs; this test builds them and runs them against a
// real livekit-server (inside the private network namespace: scripts/netns.sh).
package examples

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/devenv"
	"github.com/livekit-ffi-go/sdk/internal/dsp"
	"github.com/livekit-ffi-go/sdk/internal/testenv"
	"github.com/livekit-ffi-go/sdk/livekit/media/wav"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

func writeTone(t *testing.T, path string, rate int, seconds float64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wav.NewWriter(f, rate, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(dsp.Tone(440, rate, 1, int(seconds*float64(rate)), 12000, 0)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// checkTone reads a recorded WAV and checks it holds a 440 Hz tone for at least minAudible.
func checkTone(t *testing.T, path string, minAudible time.Duration) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := wav.NewReader(f)
	if err != nil {
		t.Fatalf("%s is not a valid WAV: %v", path, err)
	}
	if fm := rd.Format(); fm.SampleRate != 48000 || fm.NumChannels != 1 {
		t.Fatalf("recorded format %+v, want 48000 Hz mono", fm)
	}
	var all []int16
	buf := make([]int16, 4800)
	for {
		n, err := rd.Read(buf)
		all = append(all, buf[:n]...)
		if err != nil {
			break
		}
	}
	// The audible part, 10 ms at a time.
	var loud []int16
	for i := 0; i+480 <= len(all); i += 480 {
		if dsp.RMS(all[i:i+480]) > 2000 {
			loud = append(loud, all[i:i+480]...)
		}
	}
	if got := time.Duration(len(loud)) * time.Second / 48000; got < minAudible {
		t.Fatalf("%s holds %v of audible audio (of %v), want at least %v", path, got, time.Duration(len(all))*time.Second/48000, minAudible)
	}
	if fq := dsp.DominantFrequency(loud, 48000, 200, 2000, 1); math.Abs(fq-440) > 5 {
		t.Fatalf("%s: dominant frequency %.1f Hz, want 440±5", path, fq)
	}
}

func TestExamples(t *testing.T) {
	testenv.Server(t)
	dir := build(t, "publish-wav", "record-audio", "echo")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env, err := devenv.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	url := env.Server.URL()
	tokens := func(room, identity string) []string {
		tok, err := env.Minter.Mint(tokensource.Options{RoomName: room, ParticipantIdentity: identity})
		if err != nil {
			t.Fatal(err)
		}
		return []string{"LIVEKIT_URL=" + url, "LIVEKIT_TOKEN=" + tok}
	}
	tmp := t.TempDir()
	// 22050 Hz is not a whole number of samples per 10 ms: publish-wav resamples it.
	tone := filepath.Join(tmp, "tone.wav")
	writeTone(t, tone, 22050, 3)

	t.Run("usage", func(t *testing.T) {
		for _, name := range []string{"publish-wav", "record-audio", "echo"} {
			p := start(t, dir, name, []string{"LIVEKIT_URL=", "LIVEKIT_TOKEN="})
			if code := p.wait(t, 10*time.Second); code != 2 {
				t.Errorf("%s without arguments exited %d, want 2", name, code)
			}
		}
		p := start(t, dir, "publish-wav", tokens("r0", "x"), "--in", filepath.Join(tmp, "missing.wav"))
		if code := p.wait(t, 10*time.Second); code != 1 {
			t.Errorf("publish-wav of a missing file exited %d, want 1", code)
		}
	})

	t.Run("publish then record", func(t *testing.T) {
		rec := filepath.Join(tmp, "rec.wav")
		r := start(t, dir, "record-audio", tokens("r1", "rec"), "--from", "alice", "--out", rec, "--duration", "30s")
		r.waitOutput(t, "waiting for", 15*time.Second)
		p := start(t, dir, "publish-wav", tokens("r1", "alice"), "--in", tone)
		if code := p.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("publish-wav exited %d:\n%s", code, p.stderr.String())
		}
		// alice left: the recording ends by itself.
		if code := r.wait(t, 15*time.Second); code != 0 {
			t.Fatalf("record-audio exited %d:\n%s", code, r.stderr.String())
		}
		checkTone(t, rec, 2*time.Second)
	})

	t.Run("interrupted", func(t *testing.T) {
		rec := filepath.Join(tmp, "int.wav")
		p := start(t, dir, "publish-wav", tokens("r2", "alice"), "--in", tone, "--loop")
		p.waitOutput(t, "publishing", 15*time.Second)
		r := start(t, dir, "record-audio", tokens("r2", "rec"), "--from", "alice", "--out", rec)
		r.waitOutput(t, "recording", 15*time.Second)
		time.Sleep(2500 * time.Millisecond)
		r.cmd.Process.Signal(syscall.SIGINT)
		if code := r.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("record-audio exited %d after SIGINT:\n%s", code, r.stderr.String())
		}
		checkTone(t, rec, time.Second)
		p.cmd.Process.Signal(syscall.SIGTERM)
		if code := p.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("publish-wav exited %d after SIGTERM:\n%s", code, p.stderr.String())
		}
	})

	t.Run("echo", func(t *testing.T) {
		rec := filepath.Join(tmp, "echo.wav")
		e := start(t, dir, "echo", tokens("r3", "echo"), "--from", "alice", "--apm")
		e.waitOutput(t, "waiting for a microphone", 15*time.Second)
		r := start(t, dir, "record-audio", tokens("r3", "rec"), "--from", "echo", "--out", rec, "--duration", "6s")
		r.waitOutput(t, "recording", 15*time.Second)
		p := start(t, dir, "publish-wav", tokens("r3", "alice"), "--in", tone)
		if code := p.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("publish-wav exited %d:\n%s", code, p.stderr.String())
		}
		if code := r.wait(t, 15*time.Second); code != 0 {
			t.Fatalf("record-audio exited %d:\n%s", code, r.stderr.String())
		}
		checkTone(t, rec, 1500*time.Millisecond)
		e.cmd.Process.Signal(syscall.SIGINT)
		if code := e.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("echo exited %d after SIGINT:\n%s", code, e.stderr.String())
		}
	})
}
