package media_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// Background music under a voice: the music is an input that runs ahead of real time (paced by
// the mixer), the voice is written frame by frame; the mixed frames would go to an
// AudioSource's CaptureFrame.
func ExampleMixer() {
	ctx := context.Background()
	mixer, err := media.NewMixer(media.MixerOptions{SampleRate: 48000, NumChannels: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer mixer.Close()

	music, _ := mixer.AddInput(media.MixerInputOptions{Gain: 0.25, Buffer: time.Second})
	voice, _ := mixer.AddInput(media.MixerInputOptions{})

	loud := media.NewAudioFrame(48000, 1, 480) // 10 ms
	for i := range loud.Data {
		loud.Data[i] = 20000
	}
	for range 3 {
		music.Write(ctx, loud)
		voice.Write(ctx, loud)
	}
	music.CloseWrite() // play what is buffered, then leave
	voice.CloseWrite()
	mixer.EndInput() // Frames ends once every input has

	for f, err := range mixer.Frames(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		// 20000*0.25 + 20000 = 25000 in every sample; each frame is 10 ms.
		fmt.Println(f.Duration(), f.Data[0])
	}
	// Output:
	// 10ms 25000
	// 10ms 25000
	// 10ms 25000
}

// A stream (an AudioStream's Frames, a decoder) as an input, with its gain changed while the
// mixer runs.
func ExampleMixer_AddStream() {
	ctx := context.Background()
	// A decoder runs ahead of real time; the long timeout only keeps this example's output
	// the same on a loaded machine (a live input would keep the 20 ms default).
	mixer, _ := media.NewMixer(media.MixerOptions{SampleRate: 16000, InputTimeout: time.Second})
	defer mixer.Close()
	tone := func(yield func(*media.AudioFrame, error) bool) {
		f := media.NewAudioFrame(16000, 1, 160)
		for i := range f.Data {
			f.Data[i] = 1000
		}
		for range 2 {
			if !yield(f, nil) {
				return
			}
		}
	}
	in, err := mixer.AddStream(tone, media.MixerInputOptions{Gain: 2})
	if err != nil {
		log.Fatal(err)
	}
	mixer.EndInput()
	for f, err := range mixer.Frames(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(f.Data[0])
		in.SetGain(0.5)
	}
	<-in.Done()
	// Output:
	// 2000
	// 500
}
