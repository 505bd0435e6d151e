// Command echo joins a room and plays a participant's microphone back into the room, so they
// hear themselves (with the round trip's delay), optionally cleaned up by WebRTC's audio
// processing first.
//
//	echo --url ws://127.0.0.1:7880 --token $TOKEN [--from alice] [--apm]
//
// --url and --token default to $LIVEKIT_URL and $LIVEKIT_TOKEN. Without --from it echoes the
// first participant that publishes a microphone. --apm runs noise suppression, a high-pass
// filter and automatic gain control on the audio before it goes back (echo cancellation
// would need the far end, which here is the signal itself). It runs until Ctrl-C. Exit codes:
// 0 done, 1 failure, 2 usage.
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
	"github.com/livekit-ffi-go/sdk/livekit/media"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	url := fs.String("url", os.Getenv("LIVEKIT_URL"), "LiveKit server `URL` (default $LIVEKIT_URL)")
	token := fs.String("token", os.Getenv("LIVEKIT_TOKEN"), "participant `token` (default $LIVEKIT_TOKEN)")
	from := fs.String("from", "", "`identity` to echo (default: the first microphone published)")
	apm := fs.Bool("apm", false, "run noise suppression, high-pass filter and gain control first")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *url == "" || *token == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "echo: --url and --token are required (or $LIVEKIT_URL, $LIVEKIT_TOKEN)")
		fs.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := echo(ctx, *url, *token, *from, *apm); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		return 1
	}
	return 0
}

func echo(ctx context.Context, url, token, from string, useAPM bool) error {
	// Remote microphones as they are subscribed (the room subscribes automatically).
	tracks := make(chan livekit.Track, 8)
	room, err := livekit.Connect(ctx, url, token, livekit.WithEventHandler(func(ev livekit.Event) {
		if e, ok := ev.(livekit.TrackSubscribed); ok && e.Publication.Info().Source == livekit.SourceMicrophone &&
			(from == "" || e.Participant.Identity() == from) {
			select {
			case tracks <- e.Track:
			default:
			}
		}
	}))
	if err != nil {
		return err
	}
	defer room.Close()

	src, err := livekit.NewAudioSource(livekit.AudioSourceOptions{SampleRate: 48000, NumChannels: 1})
	if err != nil {
		return err
	}
	defer src.Close()
	track, err := livekit.NewLocalAudioTrack("echo", src)
	if err != nil {
		return err
	}
	defer track.Close()
	if _, err := room.LocalParticipant().PublishTrack(ctx, track, livekit.TrackPublishOptions{Source: livekit.SourceMicrophone}); err != nil {
		return stopped(ctx, err)
	}
	var apm *media.AudioProcessor
	if useAPM {
		if apm, err = media.NewAudioProcessor(media.APMOptions{NoiseSuppression: true, HighPassFilter: true, GainControl: true}); err != nil {
			return err
		}
		defer apm.Close()
	}
	fmt.Fprintln(os.Stderr, "echo: waiting for a microphone")
	for {
		var remote livekit.Track
		select {
		case remote = <-tracks:
		case <-ctx.Done():
			return nil
		}
		if err := echoTrack(ctx, remote, src, apm); err != nil {
			return stopped(ctx, err)
		}
	}
}

// echoTrack plays one remote track back until it ends.
func echoTrack(ctx context.Context, remote livekit.Track, src *livekit.AudioSource, apm *media.AudioProcessor) error {
	// 10 ms frames at the source's format: what the source takes and the APM needs.
	st, err := livekit.NewAudioStream(remote, livekit.AudioStreamOptions{SampleRate: 48000, NumChannels: 1, FrameSize: 10 * time.Millisecond})
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(os.Stderr, "echo: echoing track %s\n", remote.SID())
	for f, err := range st.Frames(ctx) {
		if err != nil {
			if errors.Is(err, livekit.ErrTrackEnded) || errors.Is(err, livekit.ErrParticipantLeft) {
				fmt.Fprintf(os.Stderr, "echo: track %s ended\n", remote.SID())
				return nil
			}
			return err
		}
		if apm != nil {
			if err := apm.ProcessStream(f); err != nil {
				return err
			}
		}
		if err := src.CaptureFrame(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// stopped turns the end of ctx (Ctrl-C) into a clean stop.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
