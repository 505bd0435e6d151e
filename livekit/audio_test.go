package livekit_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/dsp"
	"github.com/livekit-ffi-go/sdk/internal/testenv"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// sourceWithQueue is a 48 kHz mono source with queue q and no track, closed when the test
// ends.
func sourceWithQueue(t testing.TB, q time.Duration) *livekit.AudioSource {
	t.Helper()
	testenv.Library(t)
	src, err := livekit.NewAudioSource(livekit.AudioSourceOptions{QueueSize: q})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// loopback makes a source, a track on it and a stream reading the track, all in this
// process (no server).
func audioLoopback(t testing.TB, so livekit.AudioSourceOptions, o livekit.AudioStreamOptions) (*livekit.AudioSource, *livekit.LocalAudioTrack, *livekit.AudioStream) {
	t.Helper()
	testenv.Library(t)
	src, err := livekit.NewAudioSource(so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	tr, err := livekit.NewLocalAudioTrack("loop", src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	st, err := livekit.NewAudioStream(tr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return src, tr, st
}

// captureTone captures n 10 ms frames of a tone, continuing its phase from frame to frame,
// and returns every sample sent.
func captureTone(t testing.TB, ctx context.Context, src *livekit.AudioSource, freq float64, n int) []int16 {
	t.Helper()
	rate := src.SampleRate()
	spf := rate / 100
	all := dsp.Tone(freq, rate, 1, spf*n, 12000, math.Pi/4)
	for i := range n {
		f := &media.AudioFrame{Data: all[i*spf : (i+1)*spf], SampleRate: rate, NumChannels: 1, SamplesPerChannel: spf}
		if err := src.CaptureFrame(ctx, f); err != nil {
			t.Errorf("capture %d: %v", i, err) // Errorf: it may run on its own goroutine
			return all
		}
	}
	return all
}

// goCapture runs captureTone on its own goroutine until done or the test ends.
func goCapture(t testing.TB, src *livekit.AudioSource, freq float64, n int) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		rate := src.SampleRate()
		spf := rate / 100
		all := dsp.Tone(freq, rate, 1, spf*n, 12000, math.Pi/4)
		for i := range n {
			f := &media.AudioFrame{Data: all[i*spf : (i+1)*spf], SampleRate: rate, NumChannels: 1, SamplesPerChannel: spf}
			if err := src.CaptureFrame(ctx, f); err != nil {
				if ctx.Err() == nil {
					t.Errorf("capture %d: %v", i, err)
				}
				return
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// receive reads frames until it has collected want non-silent samples after the first
// non-silent one, or ctx ends.
func receive(t testing.TB, ctx context.Context, st *livekit.AudioStream, want int, check func(*media.AudioFrame)) []int16 {
	t.Helper()
	var got []int16
	started := false
	for len(got) < want {
		f, err := st.Recv(ctx)
		if err != nil {
			t.Fatalf("recv after %d samples: %v", len(got), err)
		}
		if check != nil {
			check(f)
		}
		data := f.Data
		if !started {
			i := 0
			for i < len(data) && data[i] == 0 {
				i++
			}
			if i == len(data) {
				continue
			}
			started, data = true, data[i:]
		}
		got = append(got, data...)
	}
	return got[:want]
}

func TestAudioLoopbackIsBitExact(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts livekit.AudioSourceOptions
	}{
		{"default queue", livekit.AudioSourceOptions{}},
		{"fast path", livekit.AudioSourceOptions{FastPath: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, _, st := audioLoopback(t, tc.opts, livekit.AudioStreamOptions{})
			ctx := ctxFor(t, 20*time.Second)
			const frames = 100
			var sent []int16
			done := make(chan struct{})
			go func() {
				defer close(done)
				// The fast path sends each frame as it comes: pace it in real time.
				if tc.opts.FastPath {
					rate := src.SampleRate()
					all := dsp.Tone(440, rate, 1, rate/100*frames, 12000, math.Pi/4)
					tick := time.NewTicker(10 * time.Millisecond)
					defer tick.Stop()
					for i := range frames {
						f := &media.AudioFrame{Data: all[i*480 : (i+1)*480], SampleRate: rate, NumChannels: 1, SamplesPerChannel: 480}
						if err := src.CaptureFrame(ctx, f); err != nil {
							t.Errorf("capture %d: %v", i, err)
							return
						}
						<-tick.C
					}
					sent = all
					return
				}
				sent = captureTone(t, ctx, src, 440, frames)
			}()
			got := receive(t, ctx, st, 480*(frames-5), func(f *media.AudioFrame) {
				if f.SampleRate != 48000 || f.NumChannels != 1 || f.SamplesPerChannel != 480 {
					t.Fatalf("frame %d Hz x %d x %d, want 48000 x 1 x 480", f.SampleRate, f.NumChannels, f.SamplesPerChannel)
				}
			})
			<-done
			if tc.opts.FastPath {
				// Paced frames can be a tick late, which puts silence between them; compare
				// the first frame and the tone's frequency.
				for i := range 480 {
					if got[i] != sent[i] {
						t.Fatalf("sample %d: got %d, sent %d", i, got[i], sent[i])
					}
				}
				if f := dsp.DominantFrequency(got, 48000, 300, 600, 1); math.Abs(f-440) > 2 {
					t.Fatalf("dominant frequency %.1f Hz, want 440", f)
				}
				return
			}
			for i := range got {
				if got[i] != sent[i] {
					t.Fatalf("sample %d: got %d, sent %d (the loopback must be bit-exact)", i, got[i], sent[i])
				}
			}
		})
	}
}

func TestAudioStreamResamplesTo16k(t *testing.T) {
	src, _, st := audioLoopback(t, livekit.AudioSourceOptions{}, livekit.AudioStreamOptions{SampleRate: 16000})
	ctx := ctxFor(t, 20*time.Second)
	goCapture(t, src, 440, 100)
	got := receive(t, ctx, st, 160*60, func(f *media.AudioFrame) {
		if f.SampleRate != 16000 || f.NumChannels != 1 || f.SamplesPerChannel != 160 {
			t.Fatalf("frame %d Hz x %d x %d, want 16000 x 1 x 160", f.SampleRate, f.NumChannels, f.SamplesPerChannel)
		}
	})
	tail := got[1600:] // past the resampler's start-up
	if f := dsp.DominantFrequency(tail, 16000, 200, 2000, 1); math.Abs(f-440) > 3 {
		t.Fatalf("dominant frequency %.1f Hz, want 440", f)
	}
	on, off := dsp.Goertzel(tail, 16000, 440), dsp.Goertzel(tail, 16000, 1000)
	if on < 100*off {
		t.Fatalf("440 Hz power %.3g is not far above 1 kHz power %.3g", on, off)
	}
	if rms := dsp.RMS(tail); rms < 6000 || rms > 11000 {
		t.Fatalf("RMS %.0f, want about 12000/sqrt(2)", rms)
	}
}

// Captures from many goroutines at once take turns: the library would fail a second parked
// capture with "InvalidState".
func TestAudioConcurrentCapturesAreSerialized(t *testing.T) {
	src := sourceWithQueue(t, 20*time.Millisecond)
	ctx := ctxFor(t, 30*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	start := time.Now()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := media.NewAudioFrame(48000, 1, 480)
			for range 10 {
				if err := src.CaptureFrame(ctx, f); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent capture failed: %v", err)
	}
	// 80 frames of 10 ms through a 20 ms queue: backpressure holds the producers to about
	// real time.
	if el := time.Since(start); el < 500*time.Millisecond {
		t.Fatalf("80 x 10 ms captured in %v: no backpressure", el)
	}
	if q := src.QueuedDuration(); q <= 0 || q > 800*time.Millisecond {
		t.Fatalf("QueuedDuration %v after capturing", q)
	}
	if err := src.WaitForPlayout(ctx); err != nil {
		t.Fatal(err)
	}
	if q := src.QueuedDuration(); q != 0 {
		t.Fatalf("QueuedDuration %v after WaitForPlayout", q)
	}
}

// CaptureFrame returns once it has the frame, without waiting for the library; the capture
// after it waits for its turn while the library holds that frame. A capture whose context ends
// while it waits returns the context's error and is not captured; the next one works.
func TestAudioCaptureHonorsContext(t *testing.T) {
	src := sourceWithQueue(t, 10*time.Millisecond)
	if err := src.CaptureFrame(ctxFor(t, 5*time.Second), media.NewAudioFrame(48000, 1, 480)); err != nil {
		t.Fatal(err)
	}
	// 1 s into a 10 ms queue: accepted at once, then held by the library for most of a second.
	if err := src.CaptureFrame(ctxFor(t, 5*time.Second), media.NewAudioFrame(48000, 1, 48000)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := src.CaptureFrame(ctx, media.NewAudioFrame(48000, 1, 480)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("capture waiting for its turn with an ended context: %v, want DeadlineExceeded", err)
	}
	// The refused frame is not on the playout clock: 1.01 s at most were captured.
	if q := src.QueuedDuration(); q > 1010*time.Millisecond {
		t.Fatalf("QueuedDuration %v counts a frame that was not captured", q)
	}
	if err := src.CaptureFrame(ctx, media.NewAudioFrame(48000, 1, 480)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("capture with a context ended before the call: %v, want DeadlineExceeded", err)
	}
	if err := src.CaptureFrame(ctxFor(t, 5*time.Second), media.NewAudioFrame(48000, 1, 480)); err != nil {
		t.Fatalf("capture after an abandoned one: %v", err)
	}
	if err := src.Flush(ctxFor(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := src.ClearBuffer(); err != nil {
		t.Fatal(err)
	}
	if q := src.QueuedDuration(); q != 0 {
		t.Fatalf("QueuedDuration %v after ClearBuffer", q)
	}
}

// A frame the library fails is reported by the next CaptureFrame (which does not take its
// own frame) or by Flush, once; captures go on afterwards.
func TestAudioCaptureReportsTheLibrarysFailureOnce(t *testing.T) {
	src := sourceWithQueue(t, 10*time.Millisecond)
	ctx := ctxFor(t, 10*time.Second)
	boom := errors.New("engine refused the frame")
	for _, next := range []string{"capture", "flush"} {
		if err := src.CaptureFrame(ctx, media.NewAudioFrame(48000, 1, 480)); err != nil {
			t.Fatal(err)
		}
		if err := src.CaptureFrame(ctx, media.NewAudioFrame(48000, 1, 48000/2)); err != nil { // parks
			t.Fatal(err)
		}
		// The source's goroutine hands the frame over a moment after CaptureFrame returns.
		for deadline := time.Now().Add(2 * time.Second); livekit.FailAudioCapture(src, boom) == 0; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the accepted frame never reached the library")
			}
		}
		var err error
		if next == "capture" {
			err = src.CaptureFrame(ctx, media.NewAudioFrame(48000, 1, 480))
		} else {
			err = src.Flush(ctx)
		}
		var re *livekit.RequestError
		if !errors.Is(err, boom) || !errors.As(err, &re) || re.Op != "capture audio frame" {
			t.Fatalf("%s after a failed frame: %v, want the failure as a capture RequestError", next, err)
		}
		if err := src.Flush(ctx); err != nil {
			t.Fatalf("the failure was reported twice: %v", err)
		}
		time.Sleep(600 * time.Millisecond) // the failed capture's own completion comes and goes
	}
	if err := src.CaptureFrame(ctx, media.NewAudioFrame(48000, 1, 480)); err != nil {
		t.Fatalf("capture after failures: %v", err)
	}
}

// In steady state (a producer that captures no faster than the library takes frames) a
// capture allocates nothing, in any goroutine or on the library's threads.
func TestAudioCaptureSteadyStateAllocatesNothing(t *testing.T) {
	src := sourceWithQueue(t, 10*time.Second)
	ctx := ctxFor(t, 30*time.Second)
	f := media.NewAudioFrame(48000, 1, 480)
	for range 20 {
		if err := src.CaptureFrame(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(300, func() {
		if err := src.CaptureFrame(ctx, f); err != nil {
			t.Fatal(err)
		}
		if err := src.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.2f allocations per capture, want 0", allocs)
	}
}

// Every input the library would abort the process on, or fail obscurely with, is refused in
// Go with ErrInvalidArgument (or ErrSourceClosed), and the process lives on.
func TestAudioBadInputsAreRefusedAndTheProcessLives(t *testing.T) {
	src, tr, st := audioLoopback(t, livekit.AudioSourceOptions{}, livekit.AudioStreamOptions{})
	ctx := ctxFor(t, 20*time.Second)
	invalid := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, livekit.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", what, err)
		}
	}
	for _, q := range []time.Duration{15 * time.Millisecond, 5 * time.Millisecond, 1001 * time.Millisecond, -10 * time.Millisecond, 2 * time.Minute} {
		_, err := livekit.NewAudioSource(livekit.AudioSourceOptions{QueueSize: q})
		invalid("queue "+q.String(), err)
	}
	_, err := livekit.NewAudioSource(livekit.AudioSourceOptions{FastPath: true, QueueSize: 20 * time.Millisecond})
	invalid("fast path with a queue", err)
	_, err = livekit.NewAudioSource(livekit.AudioSourceOptions{SampleRate: 100})
	invalid("100 Hz", err)
	_, err = livekit.NewAudioSource(livekit.AudioSourceOptions{NumChannels: 99})
	invalid("99 channels", err)

	invalid("16 kHz frame into a 48 kHz source", src.CaptureFrame(ctx, media.NewAudioFrame(16000, 1, 160)))
	invalid("stereo frame into a mono source", src.CaptureFrame(ctx, media.NewAudioFrame(48000, 2, 480)))
	invalid("nil frame", src.CaptureFrame(ctx, nil))
	invalid("short frame", src.CaptureFrame(ctx, &media.AudioFrame{Data: make([]int16, 10), SampleRate: 48000, NumChannels: 1, SamplesPerChannel: 480}))
	//lint:ignore SA1012 a nil context on purpose
	invalid("nil context", src.CaptureFrame(nil, media.NewAudioFrame(48000, 1, 480)))

	fast, err := livekit.NewAudioSource(livekit.AudioSourceOptions{FastPath: true})
	if err != nil {
		t.Fatal(err)
	}
	invalid("20 ms frame on the fast path", fast.CaptureFrame(ctx, media.NewAudioFrame(48000, 1, 960)))
	if err := fast.CaptureFrame(ctx, media.NewAudioFrame(48000, 1, 480)); err != nil {
		t.Fatalf("10 ms frame on the fast path: %v", err)
	}
	fast.Close()

	apm, err := media.NewAudioProcessor(media.APMOptions{NoiseSuppression: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := apm.ProcessStream(media.NewAudioFrame(48000, 1, 720)); err == nil {
		t.Error("APM took a 15 ms frame")
	}
	apm.Close()

	_, err = livekit.NewLocalAudioTrack("x", nil)
	invalid("nil source", err)
	_, err = livekit.NewAudioStream(nil, livekit.AudioStreamOptions{})
	invalid("nil track", err)
	_, err = livekit.NewAudioStream((*livekit.RemoteAudioTrack)(nil), livekit.AudioStreamOptions{})
	invalid("nil *RemoteAudioTrack", err)
	_, err = livekit.NewAudioStream(tr, livekit.AudioStreamOptions{FrameSize: 15 * time.Millisecond})
	invalid("15 ms stream frames", err)
	_, err = livekit.NewAudioStream(tr, livekit.AudioStreamOptions{SampleRate: 1})
	invalid("1 Hz stream", err)
	_, err = livekit.NewAudioStreamFromParticipant(nil, livekit.SourceMicrophone, livekit.AudioStreamOptions{})
	invalid("nil participant", err)

	closed, err := livekit.NewAudioSource(livekit.AudioSourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if err := closed.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := closed.CaptureFrame(ctx, media.NewAudioFrame(48000, 1, 480)); !errors.Is(err, livekit.ErrSourceClosed) {
		t.Errorf("capture after Close: %v, want ErrSourceClosed", err)
	}
	if err := closed.ClearBuffer(); !errors.Is(err, livekit.ErrSourceClosed) {
		t.Errorf("clear after Close: %v, want ErrSourceClosed", err)
	}
	if _, err := livekit.NewLocalAudioTrack("x", closed); !errors.Is(err, livekit.ErrSourceClosed) {
		t.Errorf("track from a closed source: %v, want ErrSourceClosed", err)
	}

	// Still alive, and the loopback still carries audio.
	goCapture(t, src, 440, 30)
	got := receive(t, ctx, st, 480*20, nil)
	if f := dsp.DominantFrequency(got, 48000, 300, 600, 1); math.Abs(f-440) > 2 {
		t.Fatalf("after the refusals the loopback carries %.1f Hz, want 440", f)
	}
}

// Closing the track ends the streams reading it with ErrTrackEnded, after the frames already
// queued; a new stream on the closed track is refused the same way.
func TestAudioTrackCloseEndsStreams(t *testing.T) {
	src, tr, st := audioLoopback(t, livekit.AudioSourceOptions{}, livekit.AudioStreamOptions{})
	ctx := ctxFor(t, 20*time.Second)
	captureTone(t, ctx, src, 440, 5)
	if _, err := st.Recv(ctx); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	for {
		_, err := st.Recv(ctx)
		if err == nil {
			continue
		}
		if !errors.Is(err, livekit.ErrTrackEnded) {
			t.Fatalf("stream of a closed track ended with %v, want ErrTrackEnded", err)
		}
		break
	}
	if !errors.Is(st.Err(), livekit.ErrTrackEnded) {
		t.Fatalf("Err() = %v", st.Err())
	}
	if _, err := livekit.NewAudioStream(tr, livekit.AudioStreamOptions{}); !errors.Is(err, livekit.ErrTrackEnded) {
		t.Fatalf("stream on a closed track: %v, want ErrTrackEnded", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// A reader that stops reading loses the oldest frames, counted, and never more than the
// capacity is held.
func TestAudioStreamDropsOldestWhenFull(t *testing.T) {
	src, _, st := audioLoopback(t, livekit.AudioSourceOptions{}, livekit.AudioStreamOptions{Capacity: 5})
	ctx := ctxFor(t, 20*time.Second)
	captureTone(t, ctx, src, 440, 40)
	time.Sleep(300 * time.Millisecond) // let the queue overflow
	if d := st.Dropped(); d == 0 {
		t.Fatal("no frame dropped with capacity 5 after 40+ frames unread")
	}
	n := 0
	rctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	for range st.Frames(rctx) {
		n++
	}
	// 5 queued; a frame every 10 ms keeps arriving while they are read.
	if n < 5 || n > 8 {
		t.Fatalf("read %d frames at once from a full stream of capacity 5", n)
	}
	st.Close()
	if _, err := st.Recv(ctx); !errors.Is(err, livekit.ErrStreamClosed) {
		t.Fatalf("Recv after Close: %v, want ErrStreamClosed", err)
	}
}

// Close fails a capture parked in the library instead of leaving it, and the capture waiting
// for its turn behind it, waiting forever.
func TestAudioCloseEndsParkedCapture(t *testing.T) {
	src := sourceWithQueue(t, 10*time.Millisecond)
	ctx := context.Background()
	if err := src.CaptureFrame(ctx, media.NewAudioFrame(48000, 1, 480)); err != nil {
		t.Fatal(err)
	}
	if err := src.CaptureFrame(ctx, media.NewAudioFrame(48000, 1, 48000*5)); err != nil { // 5 s: parks
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- src.CaptureFrame(ctx, media.NewAudioFrame(48000, 1, 480)) }()
	time.Sleep(100 * time.Millisecond)
	src.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, livekit.ErrSourceClosed) {
			t.Fatalf("capture waiting behind a parked one ended with %v, want ErrSourceClosed", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("a capture behind one parked in the library still waits 3 s after Close")
	}
	if err := src.CaptureFrame(ctx, media.NewAudioFrame(48000, 1, 480)); !errors.Is(err, livekit.ErrSourceClosed) {
		t.Fatalf("capture after Close: %v", err)
	}
	if err := src.Flush(ctx); !errors.Is(err, livekit.ErrSourceClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}
}
