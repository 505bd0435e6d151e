package livekit

import (
	"context"
	"math"
	"sync"
	"time"
	"unsafe"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/ffi"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// StreamHandlesHeld counts the data stream reader and writer handles a room holds.
func StreamHandlesHeld(r *Room) int64 { return r.local.streams.unclaimed.Load() }

// NewTestAudioTrack makes a local audio track fed with a tone until stop, for tests that need
// media (stats, encryption) while the audio API is built elsewhere. stop releases everything.
func NewTestAudioTrack(name string) (*LocalAudioTrack, func(), error) {
	c, err := ffi.Default()
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.Request(&pb.NewAudioSourceRequest{Type: pb.AudioSourceType_AUDIO_SOURCE_NATIVE.Enum(),
		Options:    &pb.AudioSourceOptions{EchoCancellation: proto.Bool(false), NoiseSuppression: proto.Bool(false), AutoGainControl: proto.Bool(false)},
		SampleRate: proto.Uint32(48000), NumChannels: proto.Uint32(1), QueueSizeMs: proto.Uint32(0)})
	if err != nil {
		return nil, nil, err
	}
	src := c.Own(resp.GetNewAudioSource().GetSource().GetHandle().GetId(), "test audio source")
	resp, err = c.Request(&pb.CreateAudioTrackRequest{Name: proto.String(name), SourceHandle: proto.Uint64(src.ID())})
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	ot := resp.GetCreateAudioTrack().GetTrack()
	t := &LocalAudioTrack{trackBase: trackBase{handle: c.Own(ot.GetHandle().GetId(), "test audio track"), info: trackInfoFrom(ot.GetInfo())}}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		samples := make([]int16, 480)
		for i := range samples {
			samples[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/48000))
		}
		buf := unsafe.Slice((*byte)(unsafe.Pointer(&samples[0])), len(samples)*2)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			ffi.Pin(buf, func(addr uint64) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				c.Do(ctx, &pb.CaptureAudioFrameRequest{SourceHandle: proto.Uint64(src.ID()), Buffer: &pb.AudioFrameBufferInfo{
					DataPtr: proto.Uint64(addr), NumChannels: proto.Uint32(1), SampleRate: proto.Uint32(48000), SamplesPerChannel: proto.Uint32(480)}}, ffi.CallOptions{})
				cancel()
			})
		}
	})
	stop := func() {
		close(done)
		wg.Wait()
		t.handle.Close()
		src.Close()
	}
	return t, stop, nil
}
