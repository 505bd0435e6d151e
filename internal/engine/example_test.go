package engine_test

import (
	"log"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// Send a request the livekit package does not wrap: create an audio resampler and own its
// handle.
func ExampleClient_Request() {
	c, err := engine.Default()
	if err != nil {
		log.Fatal(err) // says how to get the library
	}
	resp, err := c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_NewAudioResampler{NewAudioResampler: &pb.NewAudioResamplerRequest{}}})
	if err != nil {
		log.Fatal(err)
	}
	h := c.Own(resp.GetNewAudioResampler().GetResampler().GetHandle().GetId(), "audio resampler")
	defer h.Close()
}

// Repeat a request on a hot path without allocating: build it once over your own variables,
// then Send (or SendPinned, for a request that carries a pointer) and Wait, one call at a time.
func ExampleFlight() {
	c, err := engine.Default()
	if err != nil {
		log.Fatal(err)
	}
	var source uint64 // an audio source's handle, from NewAudioSourceRequest
	var id, ptr uint64
	nch, rate, spc := uint32(1), uint32(48000), uint32(480)
	req := &pb.CaptureAudioFrameRequest{SourceHandle: proto.Uint64(source), RequestAsyncId: &id,
		Buffer: &pb.AudioFrameBufferInfo{DataPtr: &ptr, NumChannels: &nch, SampleRate: &rate, SamplesPerChannel: &spc}}
	f, err := c.NewFlight(req, &id, source)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	samples := make([]int16, 480)
	for range 100 {
		// ... fill samples ...
		if err := engine.SendPinned(f, samples, &ptr); err != nil {
			log.Fatal(err)
		}
		if msg, err := f.Wait(); err != nil || msg != "" {
			log.Fatal(msg, err)
		}
	}
}

// Take a stream's frames in place on the library's thread and leave the rest (the end of the
// stream) to the dispatcher.
func ExampleClient_SubscribeRaw() {
	c, err := engine.Default()
	if err != nil {
		log.Fatal(err)
	}
	var stream uint64 // an audio stream's handle, from NewAudioStreamRequest
	sub, err := c.SubscribeRaw(engine.AudioStreamEvents, stream,
		func(ev []byte) bool {
			// ev is only valid now: read what you need (protowire), copy the samples,
			// drop the frame's handle, queue a frame; or return false to pass it on.
			return false
		},
		func(ev *pb.FfiEvent) {
			if ev.GetAudioStreamEvent().GetEos() != nil {
				log.Print("stream ended")
			}
		})
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
}
