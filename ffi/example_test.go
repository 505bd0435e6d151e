package ffi_test

import (
	"log"

	"github.com/livekit-ffi-go/sdk/ffi"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// Send a request the livekit package does not wrap: create an audio resampler and own its
// handle.
func ExampleClient_Request() {
	c, err := ffi.Default()
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

// Choose the library's logging before the first connect. LevelOff stops the library from
// formatting log records at all (a fifth of its CPU per connect); errors then reach nobody.
func ExampleLoad() {
	_, err := ffi.Load(ffi.Options{LogLevel: ffi.LevelOff})
	if err != nil {
		log.Fatal(err)
	}
}

// A service that joins and leaves many rooms gives the memory the library freed back to the
// system after a teardown, instead of letting glibc's arenas keep it.
func ExampleTrimNativeMemory() {
	// ... rooms closed ...
	ffi.TrimNativeMemory()
}
