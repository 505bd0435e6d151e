// Command video measures one 1280x720 30 fps video stream published and received in one
// process: through a livekit-server it starts (the default; run it inside scripts/netns.sh), or
// through a local track with no server (-loopback). It prints JSON lines: the setup, then one
// result with the process's CPU time per minute (publisher, encoder, decoder and receiver
// together), frames received per second, and glass-to-glass latency from capture to Recv.
//
// Latency: every captured frame carries its sequence number as two rows of 16 black/white
// blocks (the second row the complement of the first, so that a damaged code is rejected),
// read back from each received frame.
//
//	go build -o /tmp/videobench ./bench/video && scripts/netns.sh /tmp/videobench -duration 60s
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/devenv"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

const (
	width, height, fps = 1280, 720, 30
	bits               = 16
	blockH             = 48
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "how long to measure (after the first frame arrives)")
	loopback := flag.Bool("loopback", false, "read the local track directly, without a server")
	format := flag.String("format", "I420", "capture format: I420 or RGBA")
	flag.Parse()
	if err := run(*duration, *loopback, *format); err != nil {
		fmt.Fprintln(os.Stderr, "video bench:", err)
		os.Exit(1)
	}
}

func emit(v any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func run(duration time.Duration, loopback bool, format string) error {
	ctx, cancel := context.WithTimeout(context.Background(), duration+2*time.Minute)
	defer cancel()
	capType := media.I420
	if format == "RGBA" {
		capType = media.RGBA
	} else if format != "I420" {
		return fmt.Errorf("format %q", format)
	}

	src, err := livekit.NewVideoSource(livekit.VideoSourceOptions{Width: width, Height: height})
	if err != nil {
		return err
	}
	defer src.Close()
	track, err := livekit.NewLocalVideoTrack("bench", src)
	if err != nil {
		return err
	}
	defer track.Close()

	mode := "loopback"
	subscribed := make(chan livekit.Track, 1)
	if !loopback {
		mode = "server"
		env, err := devenv.Start(ctx)
		if err != nil {
			return err
		}
		defer env.Close()
		mint := func(id string) string {
			tok, _ := env.Minter.Mint(tokensource.Options{RoomName: "bench-video", ParticipantIdentity: id})
			return tok
		}
		b, err := livekit.Connect(ctx, env.Server.URL(), mint("viewer"), livekit.WithEventHandler(func(ev livekit.Event) {
			if s, ok := ev.(livekit.TrackSubscribed); ok {
				select {
				case subscribed <- s.Track:
				default:
				}
			}
		}))
		if err != nil {
			return err
		}
		defer b.Close()
		a, err := livekit.Connect(ctx, env.Server.URL(), mint("camera"))
		if err != nil {
			return err
		}
		defer a.Close()
		if _, err := a.LocalParticipant().PublishTrack(ctx, track, livekit.TrackPublishOptions{Source: livekit.SourceCamera,
			VideoMaxBitrate: 1_700_000, VideoMaxFramerate: fps}); err != nil {
			return err
		}
	}
	emit(map[string]any{"bench": "video", "mode": mode, "size": fmt.Sprintf("%dx%d", width, height), "fps": fps, "capture_format": format, "duration_s": duration.Seconds()})

	// Sender: pre-made moving frames, stamped with the sequence number.
	ring := makeRing(capType)
	var (
		mu       sync.Mutex
		sentAt   = map[uint16]time.Time{}
		captureT []time.Duration
	)
	stopSend := make(chan struct{})
	sendDone := make(chan error, 1)
	go func() {
		tick := time.NewTicker(time.Second / fps)
		defer tick.Stop()
		start := time.Now()
		f := &media.VideoFrame{Type: capType, Width: width, Height: height}
		for seq := uint16(0); ; seq++ {
			select {
			case <-stopSend:
				sendDone <- nil
				return
			case <-tick.C:
			}
			base := ring[int(seq)%len(ring)]
			f.Data = append(f.Data[:0], base.Data...)
			stamp(f, seq)
			now := time.Now()
			f.Timestamp = now.Sub(start)
			mu.Lock()
			sentAt[seq] = now
			delete(sentAt, seq-1000)
			mu.Unlock()
			if err := src.CaptureFrame(f); err != nil {
				sendDone <- err
				return
			}
			mu.Lock()
			captureT = append(captureT, time.Since(now))
			mu.Unlock()
		}
	}()
	defer func() {
		select {
		case <-sendDone:
		default:
			close(stopSend)
			<-sendDone
		}
	}()

	var readFrom livekit.Track = track
	if !loopback {
		select {
		case readFrom = <-subscribed:
		case <-time.After(30 * time.Second):
			return errors.New("no subscription within 30 s")
		}
	}
	st, err := livekit.NewVideoStream(readFrom, livekit.VideoStreamOptions{})
	if err != nil {
		return err
	}
	defer st.Close()
	// Warm up: until a frame of the full size decodes (the first layers may be smaller).
	warm := time.Now().Add(30 * time.Second)
	for {
		wctx, wcancel := context.WithDeadline(ctx, warm)
		f, err := st.Recv(wctx)
		wcancel()
		if err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		full := f.Width == width
		st.Release(f)
		if full {
			break
		}
	}

	cpu0 := cpuTime()
	t0 := time.Now()
	mu.Lock()
	captureT = captureT[:0]
	mu.Unlock()
	var lat []time.Duration
	received, undecoded, small := 0, 0, 0
	mctx, mcancel := context.WithTimeout(ctx, duration)
	defer mcancel()
	for {
		f, err := st.Recv(mctx)
		if err != nil {
			if mctx.Err() != nil {
				break
			}
			return err
		}
		now := time.Now()
		received++
		if f.Width != width {
			small++
		}
		if seq, ok := read(f); ok {
			mu.Lock()
			at, found := sentAt[seq]
			mu.Unlock()
			if found {
				lat = append(lat, now.Sub(at))
			} else {
				undecoded++
			}
		} else {
			undecoded++
		}
		st.Release(f)
	}
	elapsed := time.Since(t0)
	cpu := cpuTime() - cpu0
	mu.Lock()
	caps := slices.Clone(captureT)
	mu.Unlock()
	slices.Sort(lat)
	slices.Sort(caps)
	pct := func(d []time.Duration, p int) float64 {
		if len(d) == 0 {
			return 0
		}
		return float64(d[len(d)*p/100].Microseconds()) / 1000
	}
	emit(map[string]any{
		"bench": "video", "mode": mode, "elapsed_s": round(elapsed.Seconds()),
		"cpu_s_per_min":    round(cpu.Seconds() * 60 / elapsed.Seconds()),
		"frames_per_s":     round(float64(received) / elapsed.Seconds()),
		"frames_received":  received,
		"frames_not_full":  small,
		"frames_undecoded": undecoded,
		"dropped":          st.Dropped(),
		"latency_ms_p50":   pct(lat, 50),
		"latency_ms_p90":   pct(lat, 90),
		"capture_ms_p50":   pct(caps, 50),
		"capture_ms_p90":   pct(caps, 90),
		"latency_samples":  len(lat),
	})
	return nil
}

func round(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// makeRing makes one second of a moving picture: a diagonal gradient that scrolls.
func makeRing(t media.VideoBufferType) []*media.VideoFrame {
	out := make([]*media.VideoFrame, fps)
	for i := range out {
		f := media.NewVideoFrame(media.I420, width, height)
		p := f.Planes()
		for y := range height {
			for x := range width {
				p[0][y*width+x] = byte(16 + (x+y+i*8)%200)
			}
		}
		cw := (width + 1) / 2
		for y := range (height + 1) / 2 {
			for x := range cw {
				p[1][y*cw+x] = byte(128 + (x-i*4)%64 - 32)
				p[2][y*cw+x] = byte(128 + (y+i*4)%64 - 32)
			}
		}
		if t != media.I420 {
			c, err := media.Convert(f, t)
			if err != nil {
				panic(err)
			}
			f = c
		}
		out[i] = f
	}
	return out
}

// stamp writes seq into the top blockH*2 rows: row A has block k white if bit k is set, row B
// the complement. Chroma is left as it is (blocks are read from luma only).
func stamp(f *media.VideoFrame, seq uint16) {
	bw := width / bits
	for k := range bits {
		on := seq>>k&1 == 1
		for half := range 2 {
			white := on == (half == 0)
			fillBlock(f, k*bw, half*blockH, bw, blockH, white)
		}
	}
}

func fillBlock(f *media.VideoFrame, x0, y0, w, h int, white bool) {
	if f.Type == media.I420 {
		v := byte(16)
		if white {
			v = 235
		}
		p := f.Planes()
		for y := y0; y < y0+h; y++ {
			row := p[0][y*width+x0 : y*width+x0+w]
			for i := range row {
				row[i] = v
			}
		}
		cw := width / 2
		for y := y0 / 2; y < (y0+h)/2; y++ {
			for _, pl := range p[1:] {
				row := pl[y*cw+x0/2 : y*cw+(x0+w)/2]
				for i := range row {
					row[i] = 128
				}
			}
		}
		return
	}
	v := byte(0)
	if white {
		v = 255
	}
	for y := y0; y < y0+h; y++ {
		row := f.Data[(y*width+x0)*4 : (y*width+x0+w)*4]
		for i := range row {
			row[i] = v
		}
	}
}

// read decodes the sequence number of a received I420 frame of any size (the blocks scale with
// the picture); ok is false when the two rows do not agree.
func read(f *media.VideoFrame) (uint16, bool) {
	p := f.Planes()
	if p == nil || f.Type != media.I420 {
		return 0, false
	}
	sample := func(k, half int) bool {
		x := (k*2 + 1) * f.Width / (bits * 2)
		y := (half*2 + 1) * blockH * f.Height / (height * 2)
		return p[0][y*f.Width+x] > 128
	}
	var seq uint16
	for k := range bits {
		a, b := sample(k, 0), sample(k, 1)
		if a == b {
			return 0, false
		}
		if a {
			seq |= 1 << k
		}
	}
	return seq, true
}
