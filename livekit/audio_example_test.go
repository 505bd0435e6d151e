package livekit_test

import (
	"context"
	"errors"
	"log"
	"math"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// Publish a 440 Hz tone as a microphone, in real time, in 10 ms frames.
func ExampleAudioSource() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>")
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()

	src, err := livekit.NewAudioSource(livekit.AudioSourceOptions{SampleRate: 48000, NumChannels: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	track, err := livekit.NewLocalAudioTrack("tone", src)
	if err != nil {
		log.Fatal(err)
	}
	defer track.Close()
	if _, err := room.LocalParticipant().PublishTrack(ctx, track, livekit.TrackPublishOptions{Source: livekit.SourceMicrophone}); err != nil {
		log.Fatal(err)
	}

	frame := media.NewAudioFrame(48000, 1, 480) // 10 ms; reusable once CaptureFrame returns
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for n := 0; n < 500; n++ { // 5 s
		for i := range frame.Data {
			t := float64(n*480+i) / 48000
			frame.Data[i] = int16(8000 * math.Sin(2*math.Pi*440*t))
		}
		if err := src.CaptureFrame(ctx, frame); err != nil {
			log.Fatal(err)
		}
		<-tick.C
	}
	// Let the queued audio play before leaving.
	if err := src.WaitForPlayout(ctx); err != nil {
		log.Fatal(err)
	}
}

// Check, at the end of a stretch of captures, that the engine took every frame.
func ExampleAudioSource_Flush() {
	src, err := livekit.NewAudioSource(livekit.AudioSourceOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	frame := media.NewAudioFrame(48000, 1, 480)
	for range 10 {
		if err := src.CaptureFrame(ctx, frame); err != nil { // returns at once
			log.Fatal(err)
		}
	}
	if err := src.Flush(ctx); err != nil { // the engine has every frame, or says why not
		log.Fatal(err)
	}
}

// Barge-in: stop what is queued as soon as the user starts speaking.
func ExampleAudioSource_ClearBuffer() {
	src, err := livekit.NewAudioSource(livekit.AudioSourceOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	userSpoke := make(chan struct{})
	go func() {
		<-userSpoke
		// Capture in 10-20 ms frames: the rest of a frame being captured is not cleared.
		if err := src.ClearBuffer(); err != nil {
			log.Print(err)
		}
	}()
}

// The options: 16 kHz mono with the unbuffered path, for a caller that paces exact 10 ms
// frames itself (a SIP or microphone bridge) and wants the lowest latency.
func ExampleAudioSourceOptions() {
	src, err := livekit.NewAudioSource(livekit.AudioSourceOptions{SampleRate: 16000, NumChannels: 1, FastPath: true})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	// Every frame must now be 160 samples.
	if err := src.CaptureFrame(context.Background(), media.NewAudioFrame(16000, 1, 160)); err != nil {
		log.Fatal(err)
	}
}

// A local track can be read back in the same process (no server): a loopback.
func ExampleLocalAudioTrack() {
	src, err := livekit.NewAudioSource(livekit.AudioSourceOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	track, err := livekit.NewLocalAudioTrack("loop", src)
	if err != nil {
		log.Fatal(err)
	}
	defer track.Close()
	st, err := livekit.NewAudioStream(track, livekit.AudioStreamOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	go src.CaptureFrame(context.Background(), media.NewAudioFrame(48000, 1, 480))
	f, err := st.Recv(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("%d samples at %d Hz", f.SamplesPerChannel, f.SampleRate)
}

// Read every subscribed audio track as 16 kHz mono, as a speech recognizer wants it.
func ExampleAudioStream() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>", livekit.WithEventHandler(func(ev livekit.Event) {
		e, ok := ev.(livekit.TrackSubscribed)
		if !ok {
			return
		}
		if _, audio := e.Track.(*livekit.RemoteAudioTrack); !audio {
			return
		}
		st, err := livekit.NewAudioStream(e.Track, livekit.AudioStreamOptions{SampleRate: 16000, NumChannels: 1})
		if err != nil {
			log.Print(err)
			return
		}
		go func() {
			defer st.Close()
			for f, err := range st.Frames(ctx) {
				if err != nil {
					// ErrTrackEnded when the track is unsubscribed or unpublished.
					if !errors.Is(err, livekit.ErrTrackEnded) {
						log.Print(err)
					}
					return
				}
				_ = f.Data // 160 samples per 10 ms
			}
		}()
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	<-room.Done()
}

// The options: 20 ms stereo frames, and room for 2 s of audio before the oldest is dropped.
func ExampleAudioStreamOptions() {
	var track livekit.Track // from a TrackSubscribed event
	st, err := livekit.NewAudioStream(track, livekit.AudioStreamOptions{
		SampleRate: 48000, NumChannels: 2, FrameSize: 20 * time.Millisecond, Capacity: 100,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	log.Printf("%d frames dropped so far", st.Dropped())
}

// Record a participant's microphone, whichever track it is, until they leave.
func ExampleNewAudioStreamFromParticipant() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>")
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	alice := room.RemoteParticipant("alice")
	if alice == nil {
		log.Fatal("alice is not here")
	}
	st, err := livekit.NewAudioStreamFromParticipant(alice, livekit.SourceMicrophone, livekit.AudioStreamOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	for f, err := range st.Frames(ctx) {
		if errors.Is(err, livekit.ErrParticipantLeft) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		_ = f // write it somewhere
	}
}
