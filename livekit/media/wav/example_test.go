package wav_test

import (
	"fmt"
	"log"
	"os"

	"github.com/livekit-ffi-go/sdk/livekit/media"
	"github.com/livekit-ffi-go/sdk/livekit/media/wav"
)

func ExampleWriter() {
	f, err := os.CreateTemp("", "example-*.wav")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()

	w, err := wav.NewWriter(f, 48000, 1)
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 100; i++ { // one second of 10 ms frames, as an AudioStream delivers them
		if err := w.WriteFrame(media.NewAudioFrame(48000, 1, 480)); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil { // writes the final sizes into the header
		log.Fatal(err)
	}

	f.Seek(0, 0)
	r, err := wav.NewReader(f)
	if err != nil {
		log.Fatal(err)
	}
	fr, err := r.ReadFrame(480)
	fmt.Println(r.Format(), fr.Duration(), err)
	// Output: {48000 1} 10ms <nil>
}
