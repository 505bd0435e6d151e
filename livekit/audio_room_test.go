package livekit_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/dsp"
	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/leakcheck"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// Audio through the real server (run inside the namespace: scripts/netns.sh).

// publishTone publishes a microphone track on r that plays freq Hz in real time (10 ms
// frames on a ticker) until the test ends or stop is called.
func publishTone(t *testing.T, r *livekit.Room, freq float64) (pub *livekit.LocalTrackPublication, tr *livekit.LocalAudioTrack, stop func()) {
	t.Helper()
	src, err := livekit.NewAudioSource(livekit.AudioSourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err = livekit.NewLocalAudioTrack("tone", src)
	if err != nil {
		t.Fatal(err)
	}
	pub, err = r.LocalParticipant().PublishTrack(ctxFor(t, 20*time.Second), tr, livekit.TrackPublishOptions{Source: livekit.SourceMicrophone})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		all := dsp.Tone(freq, 48000, 1, 48000, 12000, 0) // 1 s: a whole number of periods for 440 Hz
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i = (i + 1) % 100 {
			f := &media.AudioFrame{Data: all[i*480 : (i+1)*480], SampleRate: 48000, NumChannels: 1, SamplesPerChannel: 480}
			if err := src.CaptureFrame(ctx, f); err != nil {
				if ctx.Err() == nil {
					t.Errorf("capture: %v", err)
				}
				return
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	var once bool
	stop = func() {
		if once {
			return
		}
		once = true
		cancel()
		<-done
		tr.Close()
		src.Close()
	}
	t.Cleanup(stop)
	return pub, tr, stop
}

// hearTone reads d of audio from st (after skipping the first 300 ms, while the codec and the
// jitter buffer settle) and checks it is a tone of freq Hz at a plausible level.
func hearTone(t *testing.T, ctx context.Context, st *livekit.AudioStream, freq float64, d time.Duration) {
	t.Helper()
	hearToneWithin(t, ctx, st, freq, 5, d)
}

// hearToneWithin is hearTone with a frequency tolerance of tol Hz.
func hearToneWithin(t *testing.T, ctx context.Context, st *livekit.AudioStream, freq, tol float64, d time.Duration) {
	t.Helper()
	var got []int16
	skip := 48000 * 3 / 10
	for len(got) < skip+int(d.Seconds()*48000) {
		f, err := st.Recv(ctx)
		if err != nil {
			t.Fatalf("recv after %d samples: %v", len(got), err)
		}
		got = append(got, f.Data...)
	}
	got = got[skip:]
	if f := dsp.DominantFrequency(got, 48000, 200, 2000, 1); math.Abs(f-freq) > tol {
		t.Fatalf("dominant frequency %.1f Hz, want %.0f±%.0f", f, freq, tol)
	}
	if rms := dsp.RMS(got); rms < 3000 || rms > 14000 {
		t.Fatalf("RMS %.0f, want about %.0f (a 12000 peak tone)", rms, 12000/math.Sqrt2)
	}
}

func TestAudioRoomToneMuteAndUnpublish(t *testing.T) {
	needEnv(t)
	a, _, evB := joinPair(t)
	pub, _, _ := publishTone(t, a, 440)
	sub := waitFor(t, evB, 15*time.Second, func(e livekit.TrackSubscribed) bool { return e.Track.SID() == pub.SID() })
	if _, ok := sub.Track.(*livekit.RemoteAudioTrack); !ok {
		t.Fatalf("subscribed track is %T, want *RemoteAudioTrack", sub.Track)
	}
	st, err := livekit.NewAudioStream(sub.Track, livekit.AudioStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := ctxFor(t, 30*time.Second)
	hearTone(t, ctx, st, 440, time.Second)

	if err := pub.SetMuted(true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evB, 10*time.Second, func(e livekit.TrackMuted) bool { return e.Identity == "alice" && e.TrackSID == pub.SID() })
	if err := pub.SetMuted(false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evB, 10*time.Second, func(e livekit.TrackUnmuted) bool { return e.Identity == "alice" && e.TrackSID == pub.SID() })

	if err := a.LocalParticipant().UnpublishTrack(ctx, pub.SID()); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := st.Recv(ctx)
		if err == nil {
			continue
		}
		// The room ends the stream when the track goes away (the library sends no EOS then).
		if !errors.Is(err, livekit.ErrTrackEnded) {
			t.Fatalf("stream of an unpublished track ended with %v, want ErrTrackEnded", err)
		}
		break
	}
}

func TestAudioParticipantStreamFollowsAndEndsWhenTheParticipantLeaves(t *testing.T) {
	needEnv(t)
	a, b, _ := joinPair(t)
	rp := b.RemoteParticipant("alice")
	if rp == nil {
		t.Fatal("bob does not see alice")
	}
	// Opened before alice publishes: the stream waits for her microphone.
	st, err := livekit.NewAudioStreamFromParticipant(rp, livekit.SourceMicrophone, livekit.AudioStreamOptions{SampleRate: 16000, FrameSize: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	publishTone(t, a, 440)
	ctx := ctxFor(t, 30*time.Second)
	var got []int16
	for len(got) < 16000 {
		f, err := st.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.SampleRate != 16000 || f.SamplesPerChannel != 320 {
			t.Fatalf("frame %d Hz x %d, want 16000 x 320", f.SampleRate, f.SamplesPerChannel)
		}
		if dsp.RMS(f.Data) > 1000 || len(got) > 0 {
			got = append(got, f.Data...)
		}
	}
	if f := dsp.DominantFrequency(got[3200:], 16000, 200, 2000, 1); math.Abs(f-440) > 5 {
		t.Fatalf("dominant frequency %.1f Hz, want 440", f)
	}
	a.Close()
	for {
		_, err := st.Recv(ctx)
		if err == nil {
			continue
		}
		if !errors.Is(err, livekit.ErrParticipantLeft) {
			t.Fatalf("participant stream ended with %v, want ErrParticipantLeft", err)
		}
		break
	}
}

func TestAudioManualSubscribe(t *testing.T) {
	needEnv(t)
	name := roomName(t)
	evB := newEvents()
	b, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, name, "bob"),
		livekit.WithEventHandler(evB.handle), livekit.WithAutoSubscribe(false))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, name, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	pub, _, _ := publishTone(t, a, 440)
	ev := waitFor(t, evB, 15*time.Second, func(e livekit.TrackPublished) bool { return e.Info.SID == pub.SID() })
	if ev.Info.Kind != livekit.TrackKindAudio || ev.Info.Source != livekit.SourceMicrophone {
		t.Fatalf("published %v from %v, want audio from the microphone", ev.Info.Kind, ev.Info.Source)
	}
	time.Sleep(300 * time.Millisecond)
	for _, e := range evB.snapshot() {
		if _, ok := e.(livekit.TrackSubscribed); ok {
			t.Fatal("subscribed without asking, with auto-subscribe off")
		}
	}
	if ev.Publication.Track() != nil {
		t.Fatal("publication has a track before subscribing")
	}
	if err := ev.Publication.SetSubscribed(true); err != nil {
		t.Fatal(err)
	}
	sub := waitFor(t, evB, 15*time.Second, func(e livekit.TrackSubscribed) bool { return e.Track.SID() == pub.SID() })
	st, err := livekit.NewAudioStream(sub.Track, livekit.AudioStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hearTone(t, ctxFor(t, 30*time.Second), st, 440, 500*time.Millisecond)
	if err := ev.Publication.SetSubscribed(false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evB, 15*time.Second, func(e livekit.TrackUnsubscribed) bool { return e.Track.SID() == pub.SID() })
	if _, err := st.Recv(ctxFor(t, 10*time.Second)); err == nil {
		for {
			if _, err = st.Recv(ctxFor(t, 10*time.Second)); err != nil {
				break
			}
		}
		if !errors.Is(err, livekit.ErrTrackEnded) {
			t.Fatalf("stream after unsubscribe ended with %v, want ErrTrackEnded", err)
		}
	} else if !errors.Is(err, livekit.ErrTrackEnded) {
		t.Fatalf("stream after unsubscribe ended with %v, want ErrTrackEnded", err)
	}
}

// Twenty publish/subscribe/read/unpublish cycles leave no owned handle and no goroutine
// behind.
func TestAudioPublishCyclesLeaveNothingBehind(t *testing.T) {
	needEnv(t)
	a, _, evB := joinPair(t)
	c, _ := engine.Default()
	settle := func(what string, want int64, g int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			n, left := c.OutstandingHandles(), leakcheck.Goroutines()
			if n == want && len(left) <= g {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d handles outstanding (want %d), %d goroutines of ours (want <= %d):\n%v", what, n, want, len(left), g, left)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	time.Sleep(500 * time.Millisecond)
	start, g0 := c.OutstandingHandles(), len(leakcheck.Goroutines())
	ctx := ctxFor(t, 3*time.Minute)
	for i := range 20 {
		pub, _, stop := publishTone(t, a, 440)
		sub := waitFor(t, evB, 15*time.Second, func(e livekit.TrackSubscribed) bool { return e.Track.SID() == pub.SID() })
		st, err := livekit.NewAudioStream(sub.Track, livekit.AudioStreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Recv(ctx); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if err := a.LocalParticipant().UnpublishTrack(ctx, pub.SID()); err != nil {
			t.Fatal(err)
		}
		for {
			if _, err = st.Recv(ctx); err != nil {
				break
			}
		}
		if !errors.Is(err, livekit.ErrTrackEnded) {
			t.Fatalf("cycle %d: stream ended with %v", i, err)
		}
		st.Close()
		stop()
	}
	settle("after 20 cycles", start, g0)
}
