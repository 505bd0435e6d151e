// Command publish-video publishes video as a participant's camera: a generated moving test
// pattern, or the frames of a YUV4MPEG2 file.
//
//	publish-video --url ws://127.0.0.1:7880 --token $TOKEN [--width 640 --height 360 --fps 30]
//	publish-video --url ws://127.0.0.1:7880 --token $TOKEN --in clip.y4m [--loop]
//
// --url and --token default to $LIVEKIT_URL and $LIVEKIT_TOKEN. The test pattern is four
// colour bars (red, green, blue, white) scrolling to the right over a black band that shows the
// frame number. A .y4m file (ffmpeg -i in.mp4 -pix_fmt yuv420p out.y4m) is published at its own
// size and frame rate; --width, --height and --fps apply to the pattern only. It runs until the
// end of the file, --duration, or Ctrl-C. Exit codes: 0 done, 1 failure, 2 usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
	"github.com/livekit-ffi-go/sdk/livekit/media/y4m"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("publish-video", flag.ContinueOnError)
	url := fs.String("url", os.Getenv("LIVEKIT_URL"), "LiveKit server `URL` (default $LIVEKIT_URL)")
	token := fs.String("token", os.Getenv("LIVEKIT_TOKEN"), "participant `token` (default $LIVEKIT_TOKEN)")
	width := fs.Int("width", 640, "test pattern width")
	height := fs.Int("height", 360, "test pattern height")
	fps := fs.Int("fps", 30, "test pattern frames per second")
	in := fs.String("in", "", "YUV4MPEG2 `file` to publish instead of the test pattern")
	loop := fs.Bool("loop", false, "with --in: start again at the end of the file, until interrupted")
	duration := fs.Duration("duration", 0, "stop after this long (0: until the end of --in, or interrupted)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *url == "" || *token == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "publish-video: --url and --token are required (or $LIVEKIT_URL, $LIVEKIT_TOKEN)")
		fs.Usage()
		return 2
	}
	if *in == "" {
		if _, err := media.FrameSize(media.I420, *width, *height); err != nil || *fps < 1 || *fps > 120 {
			fmt.Fprintf(os.Stderr, "publish-video: bad pattern %dx%d@%d\n", *width, *height, *fps)
			return 2
		}
	}
	if *loop && *in == "" {
		fmt.Fprintln(os.Stderr, "publish-video: --loop needs --in")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	var src frames
	if *in != "" {
		f, err := openY4M(*in, *loop)
		if err != nil {
			fmt.Fprintln(os.Stderr, "publish-video:", err)
			return 1
		}
		defer f.Close()
		src = f
	} else {
		src = newPattern(*width, *height, *fps)
	}
	if err := publish(ctx, *url, *token, src); err != nil {
		fmt.Fprintln(os.Stderr, "publish-video:", err)
		return 1
	}
	return 0
}

// frames is where pictures come from.
type frames interface {
	Size() (w, h int)
	Interval() time.Duration
	// Next fills f with the next picture; io.EOF at the end.
	Next(f *media.VideoFrame) error
}

func publish(ctx context.Context, url, token string, src frames) error {
	w, h := src.Size()
	room, err := livekit.Connect(ctx, url, token)
	if err != nil {
		return err
	}
	defer room.Close()
	vs, err := livekit.NewVideoSource(livekit.VideoSourceOptions{Width: w, Height: h})
	if err != nil {
		return err
	}
	defer vs.Close()
	track, err := livekit.NewLocalVideoTrack("camera", vs)
	if err != nil {
		return err
	}
	defer track.Close()
	pub, err := room.LocalParticipant().PublishTrack(ctx, track, livekit.TrackPublishOptions{Source: livekit.SourceCamera})
	if err != nil {
		if ctx.Err() != nil {
			return nil // interrupted while publishing
		}
		return err
	}
	fmt.Fprintf(os.Stderr, "publish-video: publishing %dx%d as track %s\n", w, h, pub.SID())

	f := &media.VideoFrame{Type: media.I420}
	tick := time.NewTicker(src.Interval())
	defer tick.Stop()
	start := time.Now()
	n := 0
	err = func() error {
		for {
			if err := src.Next(f); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			f.Timestamp = time.Since(start)
			if err := vs.CaptureFrame(f); err != nil {
				return err
			}
			n++
			select {
			case <-ctx.Done():
				return nil
			case <-room.Done():
				return fmt.Errorf("disconnected from the room")
			case <-tick.C:
			}
		}
	}()
	fmt.Fprintf(os.Stderr, "publish-video: %d frames in %v\n", n, time.Since(start).Round(time.Millisecond))
	uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	room.LocalParticipant().UnpublishTrack(uctx, pub.SID())
	if derr := room.Disconnect(uctx); err == nil && derr != nil && !errors.Is(derr, livekit.ErrClosed) {
		err = derr
	}
	return err
}

// y4mFile is frames from a YUV4MPEG2 file.
type y4mFile struct {
	f    *os.File
	rd   *y4m.Reader
	loop bool
	n    int
}

func openY4M(path string, loop bool) (*y4mFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	rd, err := y4m.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &y4mFile{f: f, rd: rd, loop: loop}, nil
}

func (y *y4mFile) Size() (int, int) { h := y.rd.Header(); return h.Width, h.Height }

func (y *y4mFile) Interval() time.Duration {
	h := y.rd.Header()
	return time.Duration(float64(time.Second) * float64(h.FPSDen) / float64(h.FPSNum))
}

func (y *y4mFile) Next(f *media.VideoFrame) error {
	err := y.rd.ReadFrameInto(f)
	if errors.Is(err, io.EOF) && y.loop && y.n > 0 {
		if _, err := y.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if y.rd, err = y4m.NewReader(y.f); err != nil {
			return err
		}
		y.n = 0
		err = y.rd.ReadFrameInto(f)
	}
	if err == nil {
		y.n++
	}
	return err
}

func (y *y4mFile) Close() error { return y.f.Close() }
