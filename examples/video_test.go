package examples

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/devenv"
	"github.com/livekit-ffi-go/sdk/internal/testenv"
	"github.com/livekit-ffi-go/sdk/livekit/media"
	"github.com/livekit-ffi-go/sdk/livekit/media/y4m"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// buildVideoExamples builds publish-video and record-video into a temporary directory.
func buildVideoExamples(t *testing.T) (publish, record string) {
	t.Helper()
	dir := build(t, "publish-video", "record-video")
	return filepath.Join(dir, "publish-video"), filepath.Join(dir, "record-video")
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

func TestVideoExamplesUsage(t *testing.T) {
	publish, record := buildVideoExamples(t)
	env := append(os.Environ(), "LIVEKIT_URL=", "LIVEKIT_TOKEN=")
	for _, c := range []struct {
		bin  string
		args []string
		code int
	}{
		{publish, nil, 2},
		{publish, []string{"--url", "ws://127.0.0.1:1", "--token", "x", "--width", "0"}, 2},
		{publish, []string{"--url", "ws://127.0.0.1:1", "--token", "x", "--loop"}, 2},
		{publish, []string{"--url", "ws://127.0.0.1:1", "--token", "x", "--in", "/nonexistent.y4m"}, 1},
		{publish, []string{"--bogus"}, 2},
		{record, nil, 2},
		{record, []string{"--url", "ws://127.0.0.1:1", "--token", "x", "--from", "a"}, 2},
	} {
		cmd := exec.Command(c.bin, c.args...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if code := exitCode(cmd.Run()); code != c.code {
			t.Errorf("%s %v: exit %d, want %d\n%s", filepath.Base(c.bin), c.args, code, c.code, stderr.String())
		} else if stderr.Len() == 0 {
			t.Errorf("%s %v: nothing on stderr", filepath.Base(c.bin), c.args)
		}
	}
}

// publish-video's test pattern, recorded by record-video through a real server: the file is a
// valid YUV4MPEG2 stream of the published size showing the pattern's bars, and both programs
// stop cleanly on SIGINT.
func TestVideoExamplesPublishToRecord(t *testing.T) {
	testenv.Server(t)
	if !testenv.Isolated() {
		t.Skip("runs a server and WebRTC peers: run inside scripts/netns.sh")
	}
	publish, record := buildVideoExamples(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env, err := devenv.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	mint := func(id string) string {
		tok, err := env.Minter.Mint(tokensource.Options{RoomName: "examples-video", ParticipantIdentity: id})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	out := filepath.Join(t.TempDir(), "cam.y4m")
	start := func(bin string, args ...string) (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(bin, append([]string{"--url", env.Server.URL()}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &stderr
	}
	rec, recErr := start(record, "--token", mint("recorder"), "--from", "cam", "--out", out, "--duration", "60s")
	pub, pubErr := start(publish, "--token", mint("cam"), "--width", "320", "--height", "240", "--fps", "15")
	t.Cleanup(func() { pub.Process.Kill(); rec.Process.Kill() })

	// Let the recorder write a few seconds, then stop it, then the publisher.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if fi, err := os.Stat(out); err == nil && fi.Size() > 40*(320*240*3/2) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	rec.Process.Signal(syscall.SIGINT)
	if err := rec.Wait(); err != nil {
		t.Fatalf("record-video: %v\n%s", err, recErr)
	}
	pub.Process.Signal(syscall.SIGINT)
	if err := pub.Wait(); err != nil {
		t.Fatalf("publish-video: %v\n%s", err, pubErr)
	}
	t.Logf("record-video: %s", bytes.TrimSpace(recErr.Bytes()))

	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := y4m.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if h := rd.Header(); h.Width != 320 || h.Height != 240 {
		t.Fatalf("header %+v, want 320x240", h)
	}
	var last *media.VideoFrame
	n := 0
	for {
		fr, err := rd.ReadFrame()
		if err != nil {
			break
		}
		last, n = fr, n+1
	}
	if n < 40 {
		t.Fatalf("%d frames in the file (a truncated last frame is an error too)", n)
	}
	fi, _ := f.Stat()
	if want := int64(len("YUV4MPEG2 W320 H240 F30:1 Ip A1:1 C420jpeg\n")) + int64(n)*int64(6+320*240*3/2); fi.Size() != want {
		t.Fatalf("file has %d bytes, %d whole frames make %d", fi.Size(), n, want)
	}
	// Across a row through the bars, each of the four bar colours covers a good part.
	rgb, err := media.Convert(last, media.RGBA)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	row := 240 / 3
	for x := range 320 {
		p := rgb.Data[(row*320+x)*4:]
		r, g, b := int(p[0]), int(p[1]), int(p[2])
		switch {
		case r > 170 && g < 80 && b < 80:
			counts["red"]++
		case g > 170 && r < 80 && b < 80:
			counts["green"]++
		case b > 170 && r < 80 && g < 80:
			counts["blue"]++
		case r > 190 && g > 190 && b > 190:
			counts["white"]++
		}
	}
	for _, c := range []string{"red", "green", "blue", "white"} {
		if counts[c] < 40 { // each bar is 80 pixels wide
			t.Errorf("row %d: %d %s pixels (%v)", row, counts[c], c, counts)
		}
	}
	// And the band below is black but for the white frame number.
	dark := 0
	for x := range 320 {
		if rgb.Data[((230)*320+x)*4] < 60 {
			dark++
		}
	}
	if dark < 200 {
		t.Errorf("row 230: %d dark pixels of 320", dark)
	}

	// A .y4m file of 5 magenta frames, published with --loop, ends up in the recording (at
	// its own size) until the recorder's --duration.
	in := filepath.Join(t.TempDir(), "in.y4m")
	fin, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	wr, err := y4m.NewWriter(fin, 192, 108, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	magenta := media.NewVideoFrame(media.I420, 192, 108)
	pl := magenta.Planes()
	for i, v := range []byte{107, 202, 222} { // BT.601 limited-range (255, 0, 255)
		for j := range pl[i] {
			pl[i][j] = v
		}
	}
	for range 5 {
		if err := wr.WriteFrame(magenta); err != nil {
			t.Fatal(err)
		}
	}
	fin.Close()
	out2 := filepath.Join(t.TempDir(), "loop.y4m")
	rec, recErr = start(record, "--token", mint("recorder2"), "--from", "file", "--out", out2, "--duration", "6s")
	pub, pubErr = start(publish, "--token", mint("file"), "--in", in, "--loop")
	if err := rec.Wait(); err != nil {
		t.Fatalf("record-video: %v\n%s", err, recErr)
	}
	pub.Process.Signal(syscall.SIGTERM)
	if err := pub.Wait(); err != nil {
		t.Fatalf("publish-video: %v\n%s", err, pubErr)
	}
	f2, err := os.Open(out2)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	rd2, err := y4m.NewReader(f2)
	if err != nil {
		t.Fatal(err)
	}
	if h := rd2.Header(); h.Width != 192 || h.Height != 108 {
		t.Fatalf("looped file recorded at %dx%d, want 192x108", h.Width, h.Height)
	}
	n = 0
	for {
		fr, err := rd2.ReadFrame()
		if err != nil {
			break
		}
		n++
		last = fr
	}
	if n < 10 { // 5 frames at 10 fps, looped for a few seconds
		t.Fatalf("%d frames recorded from a looped 5-frame file", n)
	}
	c, err := media.Convert(last, media.RGBA)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Data[(54*192+96)*4:]
	if p[0] < 200 || p[1] > 60 || p[2] < 200 {
		t.Fatalf("centre pixel %v, want magenta", p[:3])
	}
}
