// Command record-audio joins a room and records one participant's microphone to a WAV file
// (48 kHz mono, 16-bit).
//
//	record-audio --url ws://127.0.0.1:7880 --token $TOKEN --from alice --out alice.wav [--duration 30s]
//
// --url and --token default to $LIVEKIT_URL and $LIVEKIT_TOKEN. It waits for the participant
// to join and publish, and follows their microphone across republishes. It stops after
// --duration (counted from the start, if given), when the participant leaves, or on Ctrl-C;
// the file is complete and valid in every case. Exit codes: 0 done, 1 failure, 2 usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media/wav"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("record-audio", flag.ContinueOnError)
	url := fs.String("url", os.Getenv("LIVEKIT_URL"), "LiveKit server `URL` (default $LIVEKIT_URL)")
	token := fs.String("token", os.Getenv("LIVEKIT_TOKEN"), "participant `token` (default $LIVEKIT_TOKEN)")
	from := fs.String("from", "", "`identity` of the participant to record")
	out := fs.String("out", "", "WAV `file` to write")
	duration := fs.Duration("duration", 0, "stop after this `long` (default: until Ctrl-C or the participant leaves)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *from == "" || *out == "" || *url == "" || *token == "" || *duration < 0 || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "record-audio: --from, --out, --url and --token are required (or $LIVEKIT_URL, $LIVEKIT_TOKEN)")
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
	if err := record(ctx, *url, *token, *from, *out); err != nil {
		fmt.Fprintln(os.Stderr, "record-audio:", err)
		return 1
	}
	return 0
}

func record(ctx context.Context, url, token, identity, path string) (err error) {
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
		return err
	}
	defer room.Close()
	p := room.RemoteParticipant(identity)
	for p == nil {
		fmt.Fprintf(os.Stderr, "record-audio: waiting for %q to join\n", identity)
		select {
		case <-joined:
			p = room.RemoteParticipant(identity)
		case <-ctx.Done():
			return nil // stopped before anybody came: nothing to record
		}
	}
	// Follows the participant's microphone, whichever track it is, until they leave.
	st, err := livekit.NewAudioStreamFromParticipant(p, livekit.SourceMicrophone, livekit.AudioStreamOptions{SampleRate: 48000, NumChannels: 1})
	if err != nil {
		return err
	}
	defer st.Close()

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := wav.NewWriter(f, 48000, 1)
	if err != nil {
		f.Close()
		return err
	}
	defer func() {
		// Close writes the sizes into the header: the file is valid whatever stopped us.
		err = errors.Join(err, w.Close(), f.Close())
	}()
	fmt.Fprintf(os.Stderr, "record-audio: recording %q to %s\n", identity, path)
	start := time.Now()
	for frame, rerr := range st.Frames(ctx) {
		if rerr != nil {
			switch {
			case ctx.Err() != nil: // duration or Ctrl-C
			case errors.Is(rerr, livekit.ErrParticipantLeft), errors.Is(rerr, livekit.ErrClosed):
				fmt.Fprintf(os.Stderr, "record-audio: %v\n", rerr)
			default:
				return rerr
			}
			break
		}
		if err := w.WriteFrame(frame); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "record-audio: wrote %s (%v)\n", path, time.Since(start).Round(time.Millisecond))
	return nil
}
