package media_test

import (
	"fmt"
	"image"
	"image/color"
	"log"
	"math"

	"github.com/livekit-ffi-go/sdk/livekit/media"
)

func ExampleAudioFrame() {
	// 10 ms of a 440 Hz tone, 48 kHz stereo: the frame size LiveKit audio sources prefer.
	f := media.NewAudioFrame(48000, 2, 480)
	for i := 0; i < f.SamplesPerChannel; i++ {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/48000))
		f.Data[2*i] = v   // left
		f.Data[2*i+1] = v // right
	}
	fmt.Println(f.Duration(), len(f.Data), f.Validate())
	// Output: 10ms 960 <nil>
}

func ExampleVideoFrame_ToImage() {
	f := media.NewVideoFrame(media.I420, 4, 2)
	y := f.Planes()[0]
	for i := range y {
		y[i] = byte(40 * i) // a ramp in luma; chroma stays 0
	}
	img, err := f.ToImage() // shares f.Data: no copy
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%T %v %v\n", img, img.Bounds(), img.(*image.YCbCr).YCbCrAt(3, 1))
	// Output: *image.YCbCr (0,0)-(4,2) {24 0 0}
}

func ExampleFrameFromImage() {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	f := media.FrameFromImage(img)
	fmt.Println(f.Type, f.Width, f.Height, f.Data[12:16])
	// Output: RGBA 2 2 [255 0 0 255]
}

func ExampleConvert() {
	// Needs the native library (scripts/build-ffi.sh). RGBA from a drawing, I420 for an encoder.
	img := image.NewRGBA(image.Rect(0, 0, 640, 360))
	i420, err := media.Convert(media.FrameFromImage(img), media.I420)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(i420.Type, len(i420.Data))
}

func ExampleConvertInto() {
	// Converting a stream reuses one destination frame, so no frame buffer is allocated per
	// frame.
	src := media.NewVideoFrame(media.I420, 1280, 720)
	dst := &media.VideoFrame{Type: media.RGBA}
	for i := 0; i < 3; i++ {
		if err := media.ConvertInto(dst, src); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(dst.Type, dst.Width, dst.Height)
}

func ExampleResampler() {
	// Needs the native library. 48 kHz (WebRTC) to 16 kHz (speech recognition), mono.
	r, err := media.NewResampler(48000, 16000, 1, media.ResamplerMedium)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	total := 0
	for i := 0; i < 100; i++ { // one second of 10 ms frames
		out, err := r.Push(media.NewAudioFrame(48000, 1, 480))
		if err != nil {
			log.Fatal(err)
		}
		if out != nil { // output comes in bursts
			total += out.SamplesPerChannel
		}
	}
	if out, err := r.Flush(); err == nil && out != nil {
		total += out.SamplesPerChannel
	}
	fmt.Println(total) // 16000
}

func ExampleAudioProcessor() {
	// Needs the native library. Echo cancellation: feed what the speaker plays to the reverse
	// stream and what the microphone hears to the forward stream, 10 ms at a time.
	apm, err := media.NewAudioProcessor(media.APMOptions{EchoCancellation: true, NoiseSuppression: true, HighPassFilter: true})
	if err != nil {
		log.Fatal(err)
	}
	defer apm.Close()
	playout := media.NewAudioFrame(48000, 1, 480)
	mic := media.NewAudioFrame(48000, 1, 480)
	if err := apm.ProcessReverseStream(playout); err != nil {
		log.Fatal(err)
	}
	if err := apm.ProcessStream(mic); err != nil { // mic.Data now has the echo removed
		log.Fatal(err)
	}
	// A 15 ms frame is refused here; the library itself would abort the process.
	fmt.Println(apm.ProcessStream(media.NewAudioFrame(48000, 1, 720)) != nil)
}
