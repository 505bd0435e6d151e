package livekit_test

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/leakcheck"
	"github.com/livekit-ffi-go/sdk/internal/testenv"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// solidI420 returns a w x h I420 frame of one colour (BT.601 limited range, as libyuv).
func solidI420(w, h int, r, g, b uint8) *media.VideoFrame {
	y, cb, cr := rgbToYUV(r, g, b)
	f := media.NewVideoFrame(media.I420, w, h)
	p := f.Planes()
	fill(p[0], y)
	fill(p[1], cb)
	fill(p[2], cr)
	return f
}

func rgbToYUV(r, g, b uint8) (y, u, v uint8) {
	R, G, B := float64(r), float64(g), float64(b)
	clamp := func(x float64) uint8 { return uint8(min(255, max(0, x+0.5))) }
	return clamp(16 + 0.257*R + 0.504*G + 0.098*B), clamp(128 - 0.148*R - 0.291*G + 0.439*B), clamp(128 + 0.439*R - 0.368*G - 0.071*B)
}

func fill(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

// patternI420 is a frame whose every sample differs from its neighbours, so that a
// transposed, shifted or scaled picture cannot compare equal.
func patternI420(w, h, seed int) *media.VideoFrame {
	f := media.NewVideoFrame(media.I420, w, h)
	for i := range f.Data {
		f.Data[i] = byte((i*7 + seed*13 + i/w) % 251)
	}
	return f
}

// loopback makes source -> track -> stream without a room.
func videoLoopback(t *testing.T, w, h int, opts livekit.VideoStreamOptions) (*livekit.VideoSource, *livekit.LocalVideoTrack, *livekit.VideoStream) {
	t.Helper()
	testenv.Library(t)
	src, err := livekit.NewVideoSource(livekit.VideoSourceOptions{Width: w, Height: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	track, err := livekit.NewLocalVideoTrack("loop", src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { track.Close() })
	if track.Source() != src || track.Kind() != livekit.TrackKindVideo {
		t.Fatalf("track source %p kind %v", track.Source(), track.Kind())
	}
	st, err := livekit.NewVideoStream(track, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return src, track, st
}

// captureUntil captures f (with increasing timestamps) until the stream yields a frame.
func captureUntil(t *testing.T, src *livekit.VideoSource, st *livekit.VideoStream, f *media.VideoFrame) *media.VideoFrame {
	t.Helper()
	wait := 10 * time.Second
	if d, err := time.ParseDuration(os.Getenv("LKGO_VIDEO_WAIT")); err == nil {
		wait = d
	}
	deadline := time.Now().Add(wait)
	inputBlack := isBlack(f) || !slices.ContainsFunc(f.Data, func(b byte) bool { return b != 0 })
	for i := 0; time.Now().Before(deadline); i++ {
		f.Timestamp = time.Duration(i) * 33 * time.Millisecond
		if err := src.CaptureFrame(f); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		got, err := st.Recv(ctx)
		cancel()
		if err == nil && !inputBlack && isBlack(got) {
			// The engine can hand a new sink a black frame of the source's size before the
			// first captured one (seen on a loaded machine): not ours.
			st.Release(got)
			continue
		}
		if err == nil {
			return got
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
	}
	t.Fatalf("no frame came back within %v", wait)
	return nil
}

func TestVideoLoopbackI420IsExact(t *testing.T) {
	const w, h = 320, 240
	src, _, st := videoLoopback(t, w, h, livekit.VideoStreamOptions{})
	if st.Format() != media.I420 {
		t.Fatalf("unset format became %v, want I420", st.Format())
	}
	want := patternI420(w, h, 1)
	got := captureUntil(t, src, st, want)
	if got.Type != media.I420 || got.Width != w || got.Height != h {
		t.Fatalf("got %v %dx%d, want I420 %dx%d", got.Type, got.Width, got.Height, w, h)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	for i := range want.Data {
		if got.Data[i] != want.Data[i] {
			t.Fatalf("byte %d of %d: got %d want %d", i, len(want.Data), got.Data[i], want.Data[i])
		}
	}
	if got.Timestamp <= 0 {
		t.Errorf("timestamp %v: the library's clock should be positive", got.Timestamp)
	}
	st.Release(got)
}

func TestVideoLoopbackRotationSurvives(t *testing.T) {
	src, _, st := videoLoopback(t, 64, 48, livekit.VideoStreamOptions{})
	f := solidI420(64, 48, 10, 20, 30)
	f.Rotation = media.Rotation90
	got := captureUntil(t, src, st, f)
	if got.Rotation != media.Rotation90 {
		t.Fatalf("rotation %v, want 90", got.Rotation)
	}
}

// Requested RGBA is the library's I420->RGBA conversion of what was captured: equal to
// media.Convert of the same frame, and within 3 per channel of the RGB the I420 frame was made
// from (the rounding of the two BT.601 conversions).
func TestVideoLoopbackRGBA(t *testing.T) {
	const w, h = 160, 120
	src, _, st := videoLoopback(t, w, h, livekit.VideoStreamOptions{Format: media.RGBA})
	if st.Format() != media.RGBA {
		t.Fatalf("format %v", st.Format())
	}
	in := solidI420(w, h, 200, 60, 30)
	got := captureUntil(t, src, st, in)
	if got.Type != media.RGBA || got.Width != w || got.Height != h || len(got.Data) != w*h*4 {
		t.Fatalf("got %v %dx%d %d bytes", got.Type, got.Width, got.Height, len(got.Data))
	}
	ref, err := media.Convert(in, media.RGBA)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ref.Data {
		if d := int(got.Data[i]) - int(ref.Data[i]); d < -1 || d > 1 {
			t.Fatalf("byte %d: stream %d, media.Convert %d", i, got.Data[i], ref.Data[i])
		}
	}
	want := [4]int{200, 60, 30, 255}
	for i := 0; i < len(got.Data); i += 4 {
		for c := range 4 {
			if d := int(got.Data[i+c]) - want[c]; d < -3 || d > 3 {
				t.Fatalf("pixel %d channel %d: %d, want %d±3", i/4, c, got.Data[i+c], want[c])
			}
		}
	}
	// image interop: the received frame is an *image.RGBA sharing its memory.
	img, err := got.ToImage()
	if err != nil {
		t.Fatal(err)
	}
	r, g, b, _ := img.At(w-1, h-1).RGBA()
	if d := int(r>>8) - 200; d < -3 || d > 3 || int(g>>8) < 57 || int(g>>8) > 63 || int(b>>8) < 27 || int(b>>8) > 33 {
		t.Fatalf("image pixel %d,%d,%d", r>>8, g>>8, b>>8)
	}
}

func TestVideoReceivedFrameAsImage(t *testing.T) {
	const w, h = 64, 48
	src, _, st := videoLoopback(t, w, h, livekit.VideoStreamOptions{})
	got := captureUntil(t, src, st, solidI420(w, h, 0, 0, 255))
	img, err := got.ToImage()
	if err != nil {
		t.Fatal(err)
	}
	// image reads YCbCr as full range, so limited-range blue comes out a little dull; the
	// hue must still be blue.
	c := color.NRGBAModel.Convert(img.At(w/2, h/2)).(color.NRGBA)
	if c.B < 200 || c.R > 60 || c.G > 60 {
		t.Fatalf("centre pixel %+v is not blue", c)
	}
	// And a Go image can be captured: FrameFromImage gives RGBA, which the library converts.
	back := media.FrameFromImage(img)
	if err := src.CaptureFrame(back); err != nil {
		t.Fatal(err)
	}
}

// The stream delivers the size of each frame, also when it changes between captures (the
// library accepts that).
func TestVideoCaptureOtherSizeThanSource(t *testing.T) {
	src, _, st := videoLoopback(t, 320, 240, livekit.VideoStreamOptions{})
	got := captureUntil(t, src, st, solidI420(160, 96, 200, 60, 30))
	if got.Width != 160 || got.Height != 96 {
		t.Fatalf("got %dx%d, want 160x96", got.Width, got.Height)
	}
}

// The library's video source crops captured frames to a size aligned for the encoder: odd
// and other unaligned sizes arrive a little smaller (321x241 as 320x240, 160x90 as 160x88).
func TestVideoUnalignedSizesAreCropped(t *testing.T) {
	for _, sz := range [][2]int{{321, 241}, {160, 90}, {100, 100}, {33, 17}} {
		src, _, st := videoLoopback(t, sz[0], sz[1], livekit.VideoStreamOptions{})
		got := captureUntil(t, src, st, patternI420(sz[0], sz[1], 2))
		t.Logf("captured %dx%d, received %dx%d", sz[0], sz[1], got.Width, got.Height)
		if got.Width > sz[0] || got.Height > sz[1] || got.Width < sz[0]-8 || got.Height < sz[1]-8 {
			t.Errorf("captured %dx%d, received %dx%d", sz[0], sz[1], got.Width, got.Height)
		}
	}
}

// Frames come back to the stream's pool with Release and when the queue drops them; Dropped
// counts what a slow reader lost.
func TestVideoStreamDropsOldestAndCounts(t *testing.T) {
	const w, h = 64, 48
	src, _, st := videoLoopback(t, w, h, livekit.VideoStreamOptions{Capacity: 2})
	captureUntil(t, src, st, solidI420(w, h, 1, 1, 1))
	// Capture without reading until the stream has had to drop (the engine itself may skip
	// frames on a loaded machine, so a fixed count is not enough).
	lastByte := byte(0)
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; st.Dropped() == 0 && time.Now().Before(deadline); i++ {
		f := solidI420(w, h, 1, 1, 1)
		lastByte = byte(i%200 + 20)
		f.Data[0] = lastByte
		f.Timestamp = time.Duration(100+i) * time.Millisecond
		if err := src.CaptureFrame(f); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let the last capture through the engine
	if st.Dropped() == 0 {
		t.Fatal("frames captured for 10 s into a queue of 2, unread, dropped none")
	}
	// The newest frames are kept: the last one received is the last captured.
	var last *media.VideoFrame
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		f, err := st.Recv(ctx)
		cancel()
		if err != nil {
			break
		}
		if last != nil {
			st.Release(last)
		}
		last = f
	}
	if last == nil || last.Data[0] != lastByte {
		t.Fatalf("the last frame received is not the last captured (%d)", lastByte)
	}
}

func TestVideoStreamCloseAndTrackClose(t *testing.T) {
	before := outstandingLib(t)
	src, track, st := videoLoopback(t, 64, 48, livekit.VideoStreamOptions{})
	captureUntil(t, src, st, solidI420(64, 48, 9, 9, 9))
	st2, err := livekit.NewVideoStream(track, livekit.VideoStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := st.Recv(context.Background()); !errors.Is(err, livekit.ErrStreamClosed) {
		t.Fatalf("Recv after Close: %v", err)
	}
	track.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, err := st2.Recv(ctx)
		if err == nil {
			continue
		}
		if !errors.Is(err, livekit.ErrTrackEnded) || !errors.Is(st2.Err(), livekit.ErrTrackEnded) {
			t.Fatalf("stream of a closed track: %v (Err %v)", err, st2.Err())
		}
		break
	}
	if _, err := livekit.NewVideoStream(track, livekit.VideoStreamOptions{}); err == nil {
		t.Fatal("stream of a closed track started")
	}
	src.Close()
	if err := src.CaptureFrame(solidI420(64, 48, 0, 0, 0)); !errors.Is(err, livekit.ErrSourceClosed) {
		t.Fatalf("capture after Close: %v", err)
	}
	if _, err := livekit.NewLocalVideoTrack("x", src); !errors.Is(err, livekit.ErrSourceClosed) {
		t.Fatalf("track of a closed source: %v", err)
	}
	if n := outstandingLib(t); n != before {
		t.Fatalf("outstanding handles %d, was %d", n, before)
	}
}

func outstandingLib(t *testing.T) int64 { return testenv.Library(t).OutstandingHandles() }

// Inputs the library would abort the process on, and other nonsense, are refused in Go.
func TestVideoBadInputsAreRefused(t *testing.T) {
	testenv.Library(t)
	for _, o := range []livekit.VideoSourceOptions{{}, {Width: 0, Height: 10}, {Width: -2, Height: 2}, {Width: 1 << 15, Height: 2}} {
		if _, err := livekit.NewVideoSource(o); !errors.Is(err, livekit.ErrInvalidArgument) {
			t.Errorf("NewVideoSource(%+v): %v", o, err)
		}
	}
	if _, err := livekit.NewLocalVideoTrack("x", nil); !errors.Is(err, livekit.ErrInvalidArgument) {
		t.Errorf("nil source: %v", err)
	}
	if _, err := livekit.NewVideoStream(nil, livekit.VideoStreamOptions{}); !errors.Is(err, livekit.ErrInvalidArgument) {
		t.Errorf("nil track: %v", err)
	}
	if _, err := livekit.NewVideoStreamFromParticipant(nil, livekit.SourceCamera, livekit.VideoStreamOptions{}); !errors.Is(err, livekit.ErrInvalidArgument) {
		t.Errorf("nil participant: %v", err)
	}
	var nilSrc *livekit.VideoSource
	if err := nilSrc.CaptureFrame(solidI420(2, 2, 0, 0, 0)); !errors.Is(err, livekit.ErrInvalidArgument) {
		t.Errorf("nil source capture: %v", err)
	}
	src, track, _ := videoLoopback(t, 64, 48, livekit.VideoStreamOptions{})
	for _, o := range []livekit.VideoStreamOptions{{Format: media.I422}, {Format: media.NV12}, {Format: 99}, {Capacity: -1}} {
		if _, err := livekit.NewVideoStream(track, o); !errors.Is(err, livekit.ErrInvalidArgument) {
			t.Errorf("NewVideoStream(%+v): %v", o, err)
		}
	}
	short := solidI420(64, 48, 0, 0, 0)
	short.Data = short.Data[:len(short.Data)-1] // a chroma plane not stride*rows: aborts the library
	long := solidI420(64, 48, 0, 0, 0)
	long.Data = append(long.Data, 0)
	bad := []*media.VideoFrame{
		nil, short, long,
		{Type: media.I420, Width: 0, Height: 0},
		{Type: media.I420, Width: 3, Height: -1, Data: make([]byte, 10)},
		{Type: 0, Width: 2, Height: 2, Data: make([]byte, 6)},
		{Type: media.RGBA, Width: 2, Height: 2, Data: make([]byte, 15)},
		{Type: media.I420, Width: 2, Height: 2, Data: make([]byte, 6), Rotation: 45},
	}
	for i, f := range bad {
		if err := src.CaptureFrame(f); !errors.Is(err, livekit.ErrInvalidArgument) {
			t.Errorf("bad frame %d: %v", i, err)
		}
	}
	// ABGR as a conversion source aborts the library; media refuses it.
	if _, err := media.Convert(media.NewVideoFrame(media.ABGR, 64, 48), media.I420); !errors.Is(err, media.ErrUnsupportedConversion) {
		t.Errorf("ABGR conversion: %v", err)
	}
	// Still alive, still capturing.
	if err := src.CaptureFrame(solidI420(64, 48, 0, 0, 0)); err != nil {
		t.Fatal(err)
	}
}

// Every buffer type captures without harming the process. A local stream of a track fed with
// the planar types the library keeps as they are (I420A, I422, I444) delivers the formats the
// library converts those to (media.CanConvert); for the others (I422 to BGRA or RGB24, I444 to
// ARGB, ABGR or RGB24) the library drops every frame, without harm. Remote tracks always
// arrive as I420. Each case runs in a child process, so that an abort in the library would fail
// this test instead of killing the run.
func TestVideoCaptureEveryTypeInChild(t *testing.T) {
	if typ := os.Getenv("LKGO_VIDEO_CAPTURE_TYPE"); typ != "" {
		captureChild(t, typ, os.Getenv("LKGO_VIDEO_STREAM_FORMAT"))
		return
	}
	testenv.Library(t)
	if testing.Short() {
		t.Skip("spawns a process per case")
	}
	type tc struct{ capture, stream media.VideoBufferType }
	var cases []tc
	for _, typ := range []media.VideoBufferType{media.I420, media.I420A, media.I422, media.I444, media.I010, media.NV12,
		media.RGBA, media.BGRA, media.ARGB, media.ABGR, media.RGB24} {
		cases = append(cases, tc{typ, media.I420})
	}
	for _, typ := range []media.VideoBufferType{media.I420A, media.I422, media.I444} {
		for _, f := range []media.VideoBufferType{media.RGBA, media.BGRA, media.ARGB, media.ABGR, media.RGB24} {
			cases = append(cases, tc{typ, f})
		}
	}
	for _, c := range cases {
		cmd := exec.Command(os.Args[0], "-test.run=^TestVideoCaptureEveryTypeInChild$", "-test.count=1")
		// No server in the child: TestMain then runs the tests without starting one.
		cmd.Env = append(os.Environ(), "LKGO_VIDEO_CAPTURE_TYPE="+fmt.Sprint(int(c.capture)),
			"LKGO_VIDEO_STREAM_FORMAT="+fmt.Sprint(int(c.stream)),
			"LIVEKIT_SERVER_BIN=/nonexistent", "LIVEKIT_REQUIRE_SERVER=0")
		if c.stream != media.I420 && !media.CanConvert(c.capture, c.stream) && c.capture != media.I420A {
			cmd.Env = append(cmd.Env, "LKGO_VIDEO_WAIT=2s")
			out, err := cmd.CombinedOutput()
			if code := exitCode(err); code != 1 || !strings.Contains(string(out), "no frame came back") {
				t.Errorf("capture %v, stream %v: want no frames and a living process, got exit %d\n%.2000s", c.capture, c.stream, code, out)
			}
			continue
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			if len(out) > 2000 {
				out = out[:2000]
			}
			t.Errorf("capture %v, stream %v: child failed: %v\n%s", c.capture, c.stream, err, out)
		}
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func captureChild(t *testing.T, typ, format string) {
	var n, m int
	fmt.Sscan(typ, &n)
	fmt.Sscan(format, &m)
	bt, ft := media.VideoBufferType(n), media.VideoBufferType(m)
	src, _, st := videoLoopback(t, 64, 48, livekit.VideoStreamOptions{Format: ft})
	got := captureUntil(t, src, st, media.NewVideoFrame(bt, 64, 48))
	if got.Width != 64 || got.Height != 48 || got.Type != ft {
		t.Fatalf("%v: got %v %dx%d, want %v", bt, got.Type, got.Width, got.Height, ft)
	}
}

// ---- Through the server (run inside scripts/netns.sh) ----

// meanRGB is the average colour of an I420 frame (BT.601 limited range).
func meanRGB(f *media.VideoFrame) (r, g, b float64) {
	p := f.Planes()
	avg := func(b []byte) float64 {
		s := 0
		for _, v := range b {
			s += int(v)
		}
		return float64(s) / float64(len(b))
	}
	y, u, v := avg(p[0])-16, avg(p[1])-128, avg(p[2])-128
	return 1.164*y + 1.596*v, 1.164*y - 0.392*u - 0.813*v, 1.164*y + 2.017*u
}

// colourName classifies a frame's mean colour as "red", "green", "blue" or "" (mixed).
func colourName(f *media.VideoFrame) string {
	r, g, b := meanRGB(f)
	switch {
	case r > 150 && g < 90 && b < 90:
		return "red"
	case g > 150 && r < 90 && b < 90:
		return "green"
	case b > 150 && r < 90 && g < 90:
		return "blue"
	}
	return ""
}

// publishVideo publishes a w x h camera track of room a fed by a goroutine that captures
// next() at fps until the test ends or stop is called.
func publishVideo(t *testing.T, a *livekit.Room, w, h, fps int, opts livekit.TrackPublishOptions, next func(i int) *media.VideoFrame) (pub *livekit.LocalTrackPublication, stop func()) {
	t.Helper()
	src, err := livekit.NewVideoSource(livekit.VideoSourceOptions{Width: w, Height: h})
	if err != nil {
		t.Fatal(err)
	}
	track, err := livekit.NewLocalVideoTrack("cam", src)
	if err != nil {
		t.Fatal(err)
	}
	opts.Source = livekit.SourceCamera
	pub, err = a.LocalParticipant().PublishTrack(ctxFor(t, 20*time.Second), track, opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second / time.Duration(fps))
		defer tick.Stop()
		start := time.Now()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			f := next(i)
			f.Timestamp = time.Since(start)
			if err := src.CaptureFrame(f); err != nil {
				t.Errorf("capture: %v", err)
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
		close(done)
		<-finished
		track.Close()
		src.Close()
	}
	t.Cleanup(stop)
	return pub, stop
}

func subscribedVideo(t *testing.T, ev *events, identity string) livekit.TrackSubscribed {
	t.Helper()
	return waitFor(t, ev, 20*time.Second, func(e livekit.TrackSubscribed) bool {
		_, ok := e.Track.(*livekit.RemoteVideoTrack)
		return ok && e.Participant.Identity() == identity
	})
}

// recvWithin returns the next frame or fails the test after d.
func recvWithin(t *testing.T, st *livekit.VideoStream, d time.Duration) *media.VideoFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	f, err := st.Recv(ctx)
	if err != nil {
		t.Fatalf("no frame within %v: %v", d, err)
	}
	return f
}

// A publishes red, then green, then blue; B receives them, at the published size, in that
// order. Then mute pauses B's stream without ending it, unpublish ends it with ErrTrackEnded,
// and A leaving ends a stream from the participant with ErrParticipantLeft.
func TestVideoRoomColoursMuteUnpublishLeave(t *testing.T) {
	needEnv(t)
	a, b, evB := joinPair(t)
	const w, h = 320, 240
	colours := []*media.VideoFrame{solidI420(w, h, 220, 20, 20), solidI420(w, h, 20, 220, 20), solidI420(w, h, 20, 20, 220)}
	names := []string{"red", "green", "blue"}
	var phase atomic.Int32
	pub, stop := publishVideo(t, a, w, h, 30, livekit.TrackPublishOptions{DisableSimulcast: true}, func(int) *media.VideoFrame {
		f := colours[phase.Load()]
		return &media.VideoFrame{Type: f.Type, Width: w, Height: h, Data: f.Data}
	})
	sub := subscribedVideo(t, evB, "alice")
	st, err := livekit.NewVideoStream(sub.Track, livekit.VideoStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// Advance to the next colour once B has seen the current one for ~1 s, and record what B
	// sees on the way: the colours, with transitions collapsed, must come in order.
	var seen []string
	for i := range colours {
		phase.Store(int32(i))
		var since time.Time
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			f := recvWithin(t, st, 10*time.Second)
			if f.Width != w || f.Height != h || f.Type != media.I420 {
				t.Fatalf("received %v %dx%d, published I420 %dx%d", f.Type, f.Width, f.Height, w, h)
			}
			c := colourName(f)
			st.Release(f)
			if c == "" {
				continue
			}
			if len(seen) == 0 || seen[len(seen)-1] != c {
				seen = append(seen, c)
			}
			if c == names[i] {
				if since.IsZero() {
					since = time.Now()
				} else if time.Since(since) > time.Second {
					break
				}
			}
		}
		if since.IsZero() {
			t.Fatalf("B never saw %s; saw %v", names[i], seen)
		}
	}
	if fmt.Sprint(seen) != "[red green blue]" {
		t.Fatalf("B saw %v, want [red green blue]", seen)
	}

	// Mute: B is told; the stream pauses (no frames, or the last few in flight) and does not end.
	if err := pub.SetMuted(true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evB, 10*time.Second, func(e livekit.TrackMuted) bool { return e.TrackSID == pub.SID() })
	time.Sleep(300 * time.Millisecond) // frames already in flight
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		f, err := st.Recv(ctx)
		cancel()
		if err != nil {
			break
		}
		st.Release(f)
	}
	n := 0
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	for {
		f, err := st.Recv(ctx)
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("muted stream ended: %v", err)
			}
			break
		}
		n++
		st.Release(f)
	}
	cancel()
	t.Logf("frames received in 1.5 s while muted: %d", n)
	if n > 5 {
		t.Errorf("%d frames in 1.5 s while muted", n)
	}
	if st.Err() != nil {
		t.Fatalf("muted stream ended: %v", st.Err())
	}
	if err := pub.SetMuted(false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evB, 10*time.Second, func(e livekit.TrackUnmuted) bool { return e.TrackSID == pub.SID() })
	st.Release(recvWithin(t, st, 10*time.Second))

	// Unpublish ends B's stream with ErrTrackEnded (the library sends no end of stream).
	if err := a.LocalParticipant().UnpublishTrack(ctxFor(t, 10*time.Second), pub.SID()); err != nil {
		t.Fatal(err)
	}
	stop()
	endsWith(t, st, livekit.ErrTrackEnded)

	// A participant stream follows A's camera across publications; A leaving ends it.
	alice := b.RemoteParticipant("alice")
	pst, err := livekit.NewVideoStreamFromParticipant(alice, livekit.SourceCamera, livekit.VideoStreamOptions{Format: media.RGBA})
	if err != nil {
		t.Fatal(err)
	}
	defer pst.Close()
	publishVideo(t, a, w, h, 30, livekit.TrackPublishOptions{DisableSimulcast: true}, func(int) *media.VideoFrame {
		f := colours[0]
		return &media.VideoFrame{Type: f.Type, Width: w, Height: h, Data: f.Data}
	})
	f := recvWithin(t, pst, 20*time.Second)
	if f.Type != media.RGBA || f.Width != w || f.Height != h || f.Data[0] < 150 || f.Data[1] > 90 {
		t.Fatalf("participant stream frame %v %dx%d first pixel %v", f.Type, f.Width, f.Height, f.Data[:4])
	}
	a.Close()
	endsWith(t, pst, livekit.ErrParticipantLeft)
}

// endsWith drains st until it ends, within 10 s, and checks the reason.
func endsWith(t *testing.T, st *livekit.VideoStream, want error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		f, err := st.Recv(ctx)
		if err == nil {
			st.Release(f)
			continue
		}
		if !errors.Is(err, want) {
			t.Fatalf("stream ended with %v, want %v", err, want)
		}
		return
	}
}

// With simulcast, B's choice of layer (SetVideoQuality, or SetVideoDimensions) changes the
// size it receives: the server switches within seconds.
func TestVideoRoomSimulcastQuality(t *testing.T) {
	needEnv(t)
	a, _, evB := joinPair(t)
	const w, h = 1280, 720
	frames := []*media.VideoFrame{patternI420(w, h, 1), patternI420(w, h, 2)}
	// Keep the resolution when CPU is short (2 shared cores, and a race-enabled build): by
	// default the encoder would give up the 720p layer first and High could never arrive.
	publishVideo(t, a, w, h, 10, livekit.TrackPublishOptions{Degradation: livekit.DegradationMaintainResolution}, func(i int) *media.VideoFrame {
		f := frames[i%2]
		return &media.VideoFrame{Type: f.Type, Width: w, Height: h, Data: f.Data}
	})
	sub := subscribedVideo(t, evB, "alice")
	if !sub.Publication.Info().Simulcasted {
		t.Fatalf("publication not simulcast: %+v", sub.Publication.Info())
	}
	st, err := livekit.NewVideoStream(sub.Track, livekit.VideoStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// waitWidth receives until a frame's width satisfies ok, within d.
	waitWidth := func(what string, d time.Duration, ok func(int) bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		var sizes []string
		for time.Now().Before(deadline) {
			f := recvWithin(t, st, 10*time.Second)
			size := fmt.Sprintf("%dx%d", f.Width, f.Height)
			if len(sizes) == 0 || sizes[len(sizes)-1] != size {
				sizes = append(sizes, size)
			}
			good := ok(f.Width)
			st.Release(f)
			if good {
				t.Logf("%s: sizes received %v", what, sizes)
				return
			}
		}
		t.Fatalf("%s: no matching frame within %v; sizes received %v", what, d, sizes)
	}
	if err := sub.Publication.SetVideoQuality(livekit.VideoQualityLow); err != nil {
		t.Fatal(err)
	}
	waitWidth("low", 20*time.Second, func(w int) bool { return w <= 640 })
	if err := sub.Publication.SetVideoQuality(livekit.VideoQualityHigh); err != nil {
		t.Fatal(err)
	}
	waitWidth("high", 30*time.Second, func(w int) bool { return w == 1280 })
	if err := sub.Publication.SetVideoQuality(livekit.VideoQualityLow); err != nil {
		t.Fatal(err)
	}
	waitWidth("low again", 20*time.Second, func(w int) bool { return w <= 640 })
	// The rendered size picks the layer too.
	if err := sub.Publication.SetVideoDimensions(1280, 720); err != nil {
		t.Fatal(err)
	}
	waitWidth("dimensions 1280x720", 30*time.Second, func(w int) bool { return w == 1280 })
	if err := sub.Publication.SetVideoDimensions(320, 180); err != nil {
		t.Fatal(err)
	}
	waitWidth("dimensions 320x180", 20*time.Second, func(w int) bool { return w <= 640 })
}

// Publishing and unpublishing a video track 20 times, with B reading each one, leaves the
// library's handle count and this module's goroutines where they were.
func TestVideoRoomPublishCyclesLeaveNothing(t *testing.T) {
	needEnv(t)
	a, _, evB := joinPair(t)
	time.Sleep(500 * time.Millisecond)
	before := outstanding(t)
	goroutines := len(leakcheck.Goroutines())
	const w, h = 160, 96
	frame := solidI420(w, h, 30, 200, 30)
	for i := range 20 {
		pub, stop := publishVideo(t, a, w, h, 30, livekit.TrackPublishOptions{DisableSimulcast: true}, func(int) *media.VideoFrame {
			return &media.VideoFrame{Type: frame.Type, Width: w, Height: h, Data: frame.Data}
		})
		sub := waitFor(t, evB, 20*time.Second, func(e livekit.TrackSubscribed) bool { return e.Publication.SID() == pub.SID() })
		st, err := livekit.NewVideoStream(sub.Track, livekit.VideoStreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 { // read a frame now and then; the others end with frames queued
			st.Release(recvWithin(t, st, 10*time.Second))
		}
		if err := a.LocalParticipant().UnpublishTrack(ctxFor(t, 10*time.Second), pub.SID()); err != nil {
			t.Fatal(err)
		}
		stop()
		endsWith(t, st, livekit.ErrTrackEnded)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && (outstanding(t) != before || len(leakcheck.Goroutines()) > goroutines) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := outstanding(t); n != before {
		t.Errorf("outstanding handles %d, was %d", n, before)
	}
	if g := leakcheck.Goroutines(); len(g) > goroutines {
		t.Errorf("%d goroutines of this module, were %d:\n%s", len(g), goroutines, g)
	}
}

// isBlack reports whether every colour sample of f is black (limited- or full-range).
func isBlack(f *media.VideoFrame) bool {
	switch f.Type {
	case media.I420, media.I420A, media.I422, media.I444, media.NV12:
		for _, v := range f.Planes()[0] {
			if v > 18 {
				return false
			}
		}
		return true
	case media.RGBA, media.BGRA, media.ARGB, media.ABGR, media.RGB24:
		alpha := -1
		switch f.Type {
		case media.RGBA, media.BGRA:
			alpha = 3
		case media.ARGB, media.ABGR:
			alpha = 0
		}
		for i, v := range f.Data {
			if f.Type != media.RGB24 && i%4 == alpha {
				continue
			}
			if v > 3 {
				return false
			}
		}
		return true
	}
	return false
}
