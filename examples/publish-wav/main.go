// Command publish-wav publishes a 16-bit PCM WAV file as a participant's microphone, in real
// time, in 10 ms frames.
//
//	publish-wav --url ws://127.0.0.1:7880 --token $TOKEN --in speech.wav [--loop]
//
// --url and --token default to $LIVEKIT_URL and $LIVEKIT_TOKEN. Files at a rate that is a
// multiple of 100 Hz (8, 16, 44.1, 48 kHz ...) are published at their own rate (the engine
// resamples for the codec); others are resampled to 48 kHz here, since a 10 ms frame must be a
// whole number of samples. It stops at the end of the file (after it has played out) or on
// Ctrl-C. Exit codes: 0 done, 1 failure, 2 usage.
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
	"github.com/livekit-ffi-go/sdk/livekit/media/wav"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("publish-wav", flag.ContinueOnError)
	url := fs.String("url", os.Getenv("LIVEKIT_URL"), "LiveKit server `URL` (default $LIVEKIT_URL)")
	token := fs.String("token", os.Getenv("LIVEKIT_TOKEN"), "participant `token` (default $LIVEKIT_TOKEN)")
	in := fs.String("in", "", "16-bit PCM WAV `file` to publish")
	loop := fs.Bool("loop", false, "start again at the end of the file, until interrupted")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *in == "" || *url == "" || *token == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "publish-wav: --in, --url and --token are required (or $LIVEKIT_URL, $LIVEKIT_TOKEN)")
		fs.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := publish(ctx, *url, *token, *in, *loop); err != nil {
		fmt.Fprintln(os.Stderr, "publish-wav:", err)
		return 1
	}
	return 0
}

func publish(ctx context.Context, url, token, path string, loop bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rd, err := wav.NewReader(f)
	if err != nil {
		return err
	}
	format := rd.Format()

	rate, ch := format.SampleRate, format.NumChannels
	var rs *media.Resampler
	if rate%100 != 0 {
		if rs, err = media.NewResampler(rate, 48000, ch, media.ResamplerMedium); err != nil {
			return err
		}
		defer rs.Close()
		rate = 48000
	}
	frames := framer{rate: rate, ch: ch}

	room, err := livekit.Connect(ctx, url, token)
	if err != nil {
		return err
	}
	defer room.Close()
	src, err := livekit.NewAudioSource(livekit.AudioSourceOptions{SampleRate: rate, NumChannels: ch})
	if err != nil {
		return err
	}
	defer src.Close()
	track, err := livekit.NewLocalAudioTrack("wav", src)
	if err != nil {
		return err
	}
	defer track.Close()
	pub, err := room.LocalParticipant().PublishTrack(ctx, track, livekit.TrackPublishOptions{Source: livekit.SourceMicrophone})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "publish-wav: publishing %s (%d Hz, %d channels) as track %s\n", path, format.SampleRate, ch, pub.SID())

	// Pace on the clock: one 10 ms frame per 10 ms, against an absolute schedule so that
	// timer lateness does not add up. CaptureFrame's backpressure is the safety net.
	next := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	send := func(fr *media.AudioFrame) error {
		if err := src.CaptureFrame(ctx, fr); err != nil {
			return err
		}
		next = next.Add(10 * time.Millisecond)
		timer.Reset(time.Until(next))
		select {
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		in, err := rd.ReadFrame(format.SampleRate / 100)
		if errors.Is(err, io.EOF) {
			if rs != nil {
				out, err := rs.Flush()
				if err != nil {
					return err
				}
				frames.push(out)
			}
			if err := frames.each(true, send); err != nil {
				return stopped(ctx, err)
			}
			if !loop {
				break
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			if rd, err = wav.NewReader(f); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if rs != nil {
			if in, err = rs.Push(in); err != nil {
				return err
			}
		}
		frames.push(in)
		if err := frames.each(false, send); err != nil {
			return stopped(ctx, err)
		}
	}
	// Let what is queued play out before leaving.
	if err := src.WaitForPlayout(ctx); err != nil {
		return stopped(ctx, err)
	}
	uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return room.LocalParticipant().UnpublishTrack(uctx, pub.SID())
}

// stopped turns the end of ctx (Ctrl-C) into a clean stop.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "publish-wav: stopped")
		return nil
	}
	return err
}

// framer cuts audio into 10 ms frames.
type framer struct {
	rate, ch int
	pending  []int16
}

func (fr *framer) push(f *media.AudioFrame) {
	if f != nil {
		fr.pending = append(fr.pending, f.Data...)
	}
}

// each hands every whole 10 ms frame to fn; with flush, a last partial one padded with
// silence too.
func (fr *framer) each(flush bool, fn func(*media.AudioFrame) error) error {
	n := fr.rate / 100 * fr.ch
	for len(fr.pending) >= n || (flush && len(fr.pending) > 0) {
		if len(fr.pending) < n {
			fr.pending = append(fr.pending, make([]int16, n-len(fr.pending))...)
		}
		f := &media.AudioFrame{Data: fr.pending[:n], SampleRate: fr.rate, NumChannels: fr.ch, SamplesPerChannel: fr.rate / 100}
		if err := fn(f); err != nil {
			return err
		}
		fr.pending = fr.pending[n:]
	}
	if len(fr.pending) == 0 {
		fr.pending = fr.pending[:0:0]
	}
	return nil
}
