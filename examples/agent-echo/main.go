// Command agent-echo is an agent worker: livekit-server dispatches it into rooms, and in each
// one it plays the first participant's microphone back to the room, delayed, and answers
// the RPC method "ping" with "pong".
//
//	agent-echo --url ws://127.0.0.1:7880 --api-key K --api-secret S [--agent-name echo] [--max-jobs 10] [--delay 500ms]
//
// --url, --api-key and --api-secret default to $LIVEKIT_URL, $LIVEKIT_API_KEY and
// $LIVEKIT_API_SECRET. With --agent-name the worker is dispatched explicitly (a token whose
// room_config.agents names it, or the dispatch API); without, into every new room.
// --health ADDR serves the worker's state on http://ADDR/ (503 while not registered). SIGINT or SIGTERM drains:
// no new jobs, running ones end within --drain-timeout; a second signal stops at once. Exit
// codes: 0 stopped, 1 failure (the server refused the registration or stayed unreachable),
// 2 usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/livekit-ffi-go/sdk/agent"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("agent-echo", flag.ContinueOnError)
	url := fs.String("url", os.Getenv("LIVEKIT_URL"), "LiveKit server `URL` (default $LIVEKIT_URL)")
	key := fs.String("api-key", os.Getenv("LIVEKIT_API_KEY"), "API `key` (default $LIVEKIT_API_KEY)")
	secret := fs.String("api-secret", os.Getenv("LIVEKIT_API_SECRET"), "API `secret` (default $LIVEKIT_API_SECRET)")
	name := fs.String("agent-name", "", "agent `name` for explicit dispatch (default: automatic dispatch into every room)")
	maxJobs := fs.Int("max-jobs", 0, "jobs at once (0: no limit)")
	delay := fs.Duration("delay", 500*time.Millisecond, "how far behind the echo plays (10 ms steps)")
	health := fs.String("health", "", "serve the health check on `addr` (e.g. 127.0.0.1:8081)")
	drainTimeout := fs.Duration("drain-timeout", 30*time.Second, "how long running jobs may go on after SIGINT or SIGTERM")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *url == "" || *key == "" || *secret == "" || fs.NArg() > 0 || *maxJobs < 0 || *delay < 0 {
		fmt.Fprintln(os.Stderr, "agent-echo: --url, --api-key and --api-secret are required (or $LIVEKIT_URL, $LIVEKIT_API_KEY, $LIVEKIT_API_SECRET)")
		fs.Usage()
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	w, err := agent.NewWorker(agent.Options{
		URL: *url, APIKey: *key, APISecret: *secret, AgentName: *name, MaxJobs: *maxJobs, Logger: log,
		Entrypoint: func(ctx context.Context, job *agent.Job) error { return echo(ctx, job, *delay) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "agent-echo:", err)
		return 2
	}
	if *health != "" {
		srv := &http.Server{Addr: *health, Handler: w.HealthHandler(), ReadHeaderTimeout: 5 * time.Second}
		go srv.ListenAndServe()
		defer srv.Close()
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		log.Info("agent-echo: draining", "timeout", *drainTimeout)
		ctx, cancel := context.WithTimeout(context.Background(), *drainTimeout)
		defer cancel()
		go func() {
			select {
			case <-sigs:
				log.Info("agent-echo: second signal, stopping now")
				w.Close()
			case <-ctx.Done():
			}
		}()
		w.Drain(ctx)
	}()
	if err := w.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "agent-echo:", err)
		return 1
	}
	return 0
}

// echo is one job: answer "ping", then play the first remote microphone back, delayed.
func echo(ctx context.Context, job *agent.Job, delay time.Duration) error {
	lp := job.Room.LocalParticipant()
	if err := lp.RegisterRPCMethod("ping", func(ctx context.Context, inv livekit.RPCInvocation) (string, error) {
		return "pong", nil
	}); err != nil {
		return err
	}
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
	if _, err := lp.PublishTrack(ctx, track, livekit.TrackPublishOptions{Source: livekit.SourceMicrophone}); err != nil {
		return ended(ctx, err)
	}
	remote, err := firstMicrophone(ctx, job.Room)
	if err != nil {
		return ended(ctx, err)
	}
	job.Logger().Info("agent-echo: echoing", "participant", remote.Identity())
	st, err := livekit.NewAudioStreamFromParticipant(remote, livekit.SourceMicrophone,
		livekit.AudioStreamOptions{SampleRate: 48000, NumChannels: 1, FrameSize: 10 * time.Millisecond})
	if err != nil {
		return ended(ctx, err)
	}
	defer st.Close()

	// A ring of 10 ms frames, primed with silence: each frame in pushes the one from delay
	// ago out, so the echo is paced by the incoming audio and lags it by exactly delay.
	ring := make([]*media.AudioFrame, max(int(delay/(10*time.Millisecond)), 0))
	for i := range ring {
		ring[i] = media.NewAudioFrame(48000, 1, 480)
	}
	next := 0
	for f, err := range st.Frames(ctx) {
		if err != nil {
			if errors.Is(err, livekit.ErrParticipantLeft) {
				return nil // the caller left: the job is done
			}
			return ended(ctx, err)
		}
		out := f
		if len(ring) > 0 {
			out, ring[next] = ring[next], f
			next = (next + 1) % len(ring)
		}
		if err := src.CaptureFrame(ctx, out); err != nil {
			return ended(ctx, err)
		}
	}
	return nil
}

// firstMicrophone waits for a participant other than an agent to publish a microphone.
func firstMicrophone(ctx context.Context, room *livekit.Room) (*livekit.RemoteParticipant, error) {
	for {
		for _, p := range room.RemoteParticipants() {
			if p.Info().Kind == livekit.KindAgent {
				continue
			}
			for _, pub := range p.TrackPublications() {
				if pub.Info().Source == livekit.SourceMicrophone {
					return p, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ended turns an error caused by the job ending into a clean end.
func ended(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
