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
