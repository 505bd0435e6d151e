// Command audio measures the audio paths of the Go SDK through a real livekit-server, the way
// /work/shared/anchors/py-audio-bench.py measures Python's, and prints JSON lines:
//
//   - capture: CaptureFrame of a 10 ms 48 kHz mono frame into a source with a 10 s queue (never
//     full), heap allocations per frame (whole process) and two times: back to back (the
//     anchor's method: the library's cost per frame bounds it) and paced (the time inside
//     CaptureFrame when the library has taken the previous frame, as for a real-time producer;
//     Flush waits, untimed, between frames).
//   - latency: glass-to-glass A→B. A publishes silence with a 440 Hz burst every 500 ms in
//     10 ms frames; B reads an AudioStream and detects each burst's onset (frame RMS above
//     2000, re-armed below 500); latency = when B's Recv returned the first loud frame minus
//     when the burst's first frame was handed to CaptureFrame. --pace clock sends a frame
//     every 10 ms (the anchor's method); --pace ahead sends as fast as CaptureFrame accepts
//     (a producer that runs ahead: TTS, file playback paced by backpressure).
//   - cpu: one published plus one received 48 kHz stream for --cpu-for, CPU seconds
//     (getrusage, the whole process: Go and the native engine) per minute of audio.
//
// Run it inside the private network namespace, against a server started there:
//
//	scripts/netns.sh bash -c 'livekit-server --config livekit-server.yaml & sleep 2; bench-audio --queues 50ms,1000ms'
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/dsp"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:7880", "server URL")
	key := flag.String("api-key", "devkey", "API key")
	secret := flag.String("api-secret", "secretsecretsecretsecretsecretsecret", "API secret")
	queues := flag.String("queues", "50ms,1000ms", "comma-separated source queue sizes for the latency runs (fast: the unbuffered path)")
	paces := flag.String("pace", "clock", "comma-separated pacing modes for the latency runs: clock, ahead")
	bursts := flag.Int("bursts", 20, "tone bursts per latency run")
	cpuFor := flag.Duration("cpu-for", 0, "run the CPU measurement for this long (0: skip)")
	skipCapture := flag.Bool("skip-capture", false, "skip the capture cost measurement")
	flag.Parse()

	m, err := tokensource.NewMinter(*key, *secret, *url)
	if err != nil {
		fail(err)
	}
	b := &bench{url: *url, minter: m}
	if !*skipCapture {
		b.capture()
	}
	for _, q := range strings.Split(*queues, ",") {
		if q == "" {
			continue
		}
		opts := livekit.AudioSourceOptions{}
		if q == "fast" {
			opts.FastPath = true
		} else if d, err := time.ParseDuration(q); err != nil {
			fail(err)
		} else {
			opts.QueueSize = d
		}
		for _, pace := range strings.Split(*paces, ",") {
			if opts.FastPath && pace != "clock" {
				continue // the fast path never blocks: a producer must pace it on the clock
			}
			b.latency(opts, q, pace, *bursts)
		}
	}
	if *cpuFor > 0 {
		b.cpu(*cpuFor)
	}
}

type bench struct {
	url    string
	minter *tokensource.Minter
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-audio:", err)
	os.Exit(1)
}

func emit(v map[string]any) {
	v["peer"] = "go"
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func (b *bench) capture() {
	src, err := livekit.NewAudioSource(livekit.AudioSourceOptions{QueueSize: 10 * time.Second})
	if err != nil {
		fail(err)
	}
	defer src.Close()
	f := media.NewAudioFrame(48000, 1, 480)
	ctx := context.Background()
	for range 20 { // warm up
		src.CaptureFrame(ctx, f)
	}
	const n = 500
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	t0 := time.Now()
	for range n {
		if err := src.CaptureFrame(ctx, f); err != nil {
			fail(err)
		}
	}
	if err := src.Flush(ctx); err != nil {
		fail(err)
	}
	dt := time.Since(t0)
	runtime.ReadMemStats(&m1)
	var inCapture time.Duration
	var p0, p1 runtime.MemStats
	runtime.ReadMemStats(&p0)
	for range n {
		t := time.Now()
		if err := src.CaptureFrame(ctx, f); err != nil {
			fail(err)
		}
		inCapture += time.Since(t)
		if err := src.Flush(ctx); err != nil {
			fail(err)
		}
	}
	runtime.ReadMemStats(&p1)
	emit(map[string]any{"capture_us_per_10ms_frame": round1(float64(dt.Microseconds()) / n),
		"allocs_per_frame_process": round1(float64(m1.Mallocs-m0.Mallocs) / n),
		"capture_call_us_paced":    round2(float64(inCapture.Nanoseconds()) / 1e3 / n),
		"allocs_per_frame_paced":   round2(float64(p1.Mallocs-p0.Mallocs) / n)})
}

// pair joins A and B to a fresh room and returns B's view of A's published track.
func (b *bench) pair(ctx context.Context, tag string) (a, rb *livekit.Room, subs chan livekit.Track) {
	room := fmt.Sprintf("bench-%s-%d", tag, time.Now().UnixNano())
	tok := func(id string) string {
		t, err := b.minter.Mint(tokensource.Options{RoomName: room, ParticipantIdentity: id})
		if err != nil {
			fail(err)
		}
		return t
	}
	subs = make(chan livekit.Track, 4)
	rb, err := livekit.Connect(ctx, b.url, tok("B"), livekit.WithEventHandler(func(ev livekit.Event) {
		if e, ok := ev.(livekit.TrackSubscribed); ok {
			subs <- e.Track
		}
	}))
	if err != nil {
		fail(err)
	}
	a, err = livekit.Connect(ctx, b.url, tok("A"))
	if err != nil {
		fail(err)
	}
	return a, rb, subs
}

func (b *bench) latency(opts livekit.AudioSourceOptions, qname, pace string, bursts int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, rb, subs := b.pair(ctx, "lat")
	defer rb.Close()
	defer a.Close()
	src, unpublish := publishTone(ctx, a, opts)
	defer unpublish()
	var remote livekit.Track
	select {
	case remote = <-subs:
	case <-time.After(10 * time.Second):
		fail(fmt.Errorf("no subscription"))
	}
	st, err := livekit.NewAudioStream(remote, livekit.AudioStreamOptions{})
	if err != nil {
		fail(err)
	}
	defer st.Close()

	var sent, seen []time.Time
	done := make(chan struct{})
	go func() {
		defer close(done)
		loud := false
		for f, err := range st.Frames(ctx) {
			if err != nil {
				return
			}
			now := time.Now()
			r := dsp.RMS(f.Data)
			if r > 2000 && !loud {
				seen = append(seen, now)
				loud = true
			} else if r < 500 {
				loud = false
			}
			if len(seen) >= bursts-1 {
				return
			}
		}
	}()
	tone := dsp.Tone(440, 48000, 1, 480, 0.5*32767, 0)
	silence := make([]int16, 480)
	start := time.Now()
	for i := range bursts * 50 {
		burst := i%50 < 10 && i >= 50
		data := silence
		if burst {
			data = tone
		}
		if burst && i%50 == 0 {
			sent = append(sent, time.Now())
		}
		if err := src.CaptureFrame(ctx, &media.AudioFrame{Data: data, SampleRate: 48000, NumChannels: 1, SamplesPerChannel: 480}); err != nil {
			fail(err)
		}
		if pace == "clock" {
			if d := time.Until(start.Add(time.Duration(i+1) * 10 * time.Millisecond)); d > 0 {
				time.Sleep(d)
			}
		}
	}
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
	st.Close()
	<-done
	var lats []float64
	for i := range min(len(sent), len(seen)) {
		lats = append(lats, float64(seen[i].Sub(sent[i]).Microseconds())/1000)
	}
	slices.Sort(lats)
	qms := qname
	if len(lats) == 0 {
		emit(map[string]any{"queue": qms, "pace": pace, "error": "no bursts detected"})
		return
	}
	emit(map[string]any{"queue": qms, "pace": pace, "bursts": len(lats), "audio_latency_median_ms": round1(lats[len(lats)/2]),
		"p90_ms": round1(lats[int(float64(len(lats))*0.9)]), "sent": len(sent), "seen": len(seen)})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// publishTone publishes a microphone track named "tone" from a new source on a; done releases
// both.
func publishTone(ctx context.Context, a *livekit.Room, opts livekit.AudioSourceOptions) (src *livekit.AudioSource, done func()) {
	src, err := livekit.NewAudioSource(opts)
	if err != nil {
		fail(err)
	}
	tr, err := livekit.NewLocalAudioTrack("tone", src)
	if err != nil {
		fail(err)
	}
	if _, err := a.LocalParticipant().PublishTrack(ctx, tr, livekit.TrackPublishOptions{Source: livekit.SourceMicrophone}); err != nil {
		fail(err)
	}
	return src, func() { tr.Close(); src.Close() }
}

func (b *bench) cpu(d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	a, rb, subs := b.pair(ctx, "cpu")
	defer rb.Close()
	defer a.Close()
	src, unpublish := publishTone(ctx, a, livekit.AudioSourceOptions{})
	defer unpublish()
	remote := <-subs
	st, err := livekit.NewAudioStream(remote, livekit.AudioStreamOptions{})
	if err != nil {
		fail(err)
	}
	defer st.Close()
	received := 0
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		for _, err := range st.Frames(ctx) {
			if err != nil {
				return
			}
			received++
		}
	}()
	all := dsp.Tone(440, 48000, 1, 48000, 12000, 0)
	time.Sleep(time.Second) // settle
	c0, t0 := cpuTime(), time.Now()
	for i := 0; time.Since(t0) < d; i++ {
		j := i % 100
		if err := src.CaptureFrame(ctx, &media.AudioFrame{Data: all[j*480 : (j+1)*480], SampleRate: 48000, NumChannels: 1, SamplesPerChannel: 480}); err != nil {
			fail(err)
		}
		if w := time.Until(t0.Add(time.Duration(i+1) * 10 * time.Millisecond)); w > 0 {
			time.Sleep(w)
		}
	}
	c1, wall := cpuTime(), time.Since(t0)
	dropped := st.Dropped()
	st.Close()
	<-recvDone
	emit(map[string]any{"cpu_seconds_per_minute": math.Round((c1-c0).Seconds()/wall.Minutes()*100) / 100,
		"wall_s": math.Round(wall.Seconds()), "frames_received": received, "frames_dropped_by_reader_queue": dropped})
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func round1(v float64) float64 { return math.Round(v*10) / 10 }
