// Command record-video writes one participant's camera to a YUV4MPEG2 (.y4m) file, which
// ffmpeg, ffplay, mpv and VLC play as they are.
//
//	record-video --url ws://127.0.0.1:7880 --token $TOKEN --from alice --out alice.y4m [--duration 30s]
//
// --url and --token default to $LIVEKIT_URL and $LIVEKIT_TOKEN. It waits for the participant
// and their camera, and follows the camera across unpublish and republish. The file's size is
// that of the first frame; frames of another size (the sender changed resolution or its
// simulcast layer changed) are scaled to it. The header says --fps frames per second; every
// frame received is written once. It stops after --duration, when the participant leaves, or on
// Ctrl-C, and the file is complete in each case. Exit codes: 0 done, 1 failure (also: no frame
// received), 2 usage.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
	"github.com/livekit-ffi-go/sdk/livekit/media/y4m"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("record-video", flag.ContinueOnError)
	url := fs.String("url", os.Getenv("LIVEKIT_URL"), "LiveKit server `URL` (default $LIVEKIT_URL)")
	token := fs.String("token", os.Getenv("LIVEKIT_TOKEN"), "participant `token` (default $LIVEKIT_TOKEN)")
	from := fs.String("from", "", "`identity` of the participant to record")
	out := fs.String("out", "", "output .y4m `file`")
	duration := fs.Duration("duration", 0, "stop after this long (0: until the participant leaves, or interrupted)")
	fps := fs.Int("fps", 30, "frame rate to write in the file header")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *from == "" || *out == "" || *url == "" || *token == "" || fs.NArg() > 0 || *fps < 1 || *duration < 0 {
		fmt.Fprintln(os.Stderr, "record-video: --from, --out, --url and --token are required (or $LIVEKIT_URL, $LIVEKIT_TOKEN)")
		fs.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	n, err := record(ctx, *url, *token, *from, *out, *fps)
	if err == nil && n == 0 {
		err = errors.New("no frame received")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "record-video:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "record-video: wrote %d frames to %s\n", n, *out)
	return 0
}

func record(ctx context.Context, url, token, identity, path string, fps int) (frames int, err error) {
	joined := make(chan struct{}, 1)
	room, err := livekit.Connect(ctx, url, token, livekit.WithEventHandler(func(ev livekit.Event) {
		if e, ok := ev.(livekit.ParticipantConnected); ok && e.Info.Identity == identity {
			select {
			case joined <- struct{}{}:
			default:
			}
		}
	}))
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil
		}
		return 0, err
	}
	defer room.Close()
	p := room.RemoteParticipant(identity)
	for p == nil {
		fmt.Fprintf(os.Stderr, "record-video: waiting for %s\n", identity)
		select {
		case <-ctx.Done():
			return 0, nil
		case <-room.Done():
			return 0, errors.New("disconnected from the room")
		case <-joined:
			p = room.RemoteParticipant(identity)
		}
	}
	st, err := livekit.NewVideoStreamFromParticipant(p, livekit.SourceCamera, livekit.VideoStreamOptions{Capacity: 10})
	if err != nil {
		return 0, err
	}
	defer st.Close()

	var (
		file   *os.File
		bw     *bufio.Writer
		wr     *y4m.Writer
		scaled *media.VideoFrame
	)
	// finish completes the file: everything written so far is flushed and closed.
	finish := func() error {
		if file == nil {
			return nil
		}
		ferr := bw.Flush()
		if cerr := file.Close(); ferr == nil {
			ferr = cerr
		}
		return ferr
	}
	defer func() {
		if ferr := finish(); err == nil {
			err = ferr
		}
	}()
	for {
		f, rerr := st.Recv(ctx)
		if rerr != nil {
			switch {
			case ctx.Err() != nil, errors.Is(rerr, livekit.ErrParticipantLeft):
				return frames, nil
			case errors.Is(rerr, livekit.ErrClosed):
				return frames, errors.New("disconnected from the room")
			}
			return frames, rerr
		}
		if wr == nil {
			if file, err = os.Create(path); err != nil {
				return 0, err
			}
			bw = bufio.NewWriterSize(file, 1<<20)
			if wr, err = y4m.NewWriter(bw, f.Width, f.Height, fps, 1); err != nil {
				return 0, err
			}
			scaled = media.NewVideoFrame(media.I420, f.Width, f.Height)
			fmt.Fprintf(os.Stderr, "record-video: recording %s at %dx%d\n", identity, f.Width, f.Height)
		}
		out := f
		if f.Width != scaled.Width || f.Height != scaled.Height {
			scaleI420(scaled, f)
			out = scaled
		}
		err = wr.WriteFrame(out)
		st.Release(f)
		if err != nil {
			return frames, err
		}
		frames++
	}
}

// scaleI420 resizes src into dst (both I420) by nearest neighbour: enough to keep a recording
// going across a change of resolution.
func scaleI420(dst, src *media.VideoFrame) {
	dp, sp := dst.Planes(), src.Planes()
	ds, ss := dst.Strides(), src.Strides()
	for i := range dp {
		dw, dh := ds[i], len(dp[i])/ds[i]
		sw, sh := ss[i], len(sp[i])/ss[i]
		for y := range dh {
			srow := sp[i][(y*sh/dh)*sw:]
			drow := dp[i][y*dw : (y+1)*dw]
			for x := range drow {
				drow[x] = srow[x*sw/dw]
			}
		}
	}
}
