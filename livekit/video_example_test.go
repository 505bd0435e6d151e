package livekit_test

import (
	"context"
	"image/png"
	"log"
	"os"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// Publish a camera: create a source of the size you capture, a track from it, publish the
// track, then capture a frame at your frame rate. I420 frames are captured without conversion.
func ExampleVideoSource() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>")
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()

	src, err := livekit.NewVideoSource(livekit.VideoSourceOptions{Width: 1280, Height: 720})
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	track, err := livekit.NewLocalVideoTrack("camera", src)
	if err != nil {
		log.Fatal(err)
	}
	defer track.Close()
	if _, err := room.LocalParticipant().PublishTrack(ctx, track, livekit.TrackPublishOptions{
		Source: livekit.SourceCamera, VideoMaxBitrate: 2_000_000, VideoMaxFramerate: 30}); err != nil {
		log.Fatal(err)
	}

	frame := media.NewVideoFrame(media.I420, 1280, 720)
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	start := time.Now()
	for range tick.C {
		// ... draw into frame.Data (or convert your picture with media.ConvertInto) ...
		frame.Timestamp = time.Since(start)
		if err := src.CaptureFrame(frame); err != nil {
			log.Fatal(err)
		}
	}
}

// Receive the video of every camera that is subscribed, and save a snapshot of each as PNG.
// Recv hands over frames the caller may keep; Release gives the buffer back for reuse.
func ExampleNewVideoStream() {
	ctx := context.Background()
	room, err := livekit.Connect(ctx, "wss://my.livekit.cloud", "<token>", livekit.WithEventHandler(func(ev livekit.Event) {
		sub, ok := ev.(livekit.TrackSubscribed)
		if !ok || sub.Track.Kind() != livekit.TrackKindVideo {
			return
		}
		go func() {
			st, err := livekit.NewVideoStream(sub.Track, livekit.VideoStreamOptions{Format: media.RGBA})
			if err != nil {
				log.Print(err)
				return
			}
			defer st.Close()
			for i := 0; ; i++ {
				f, err := st.Recv(ctx)
				if err != nil {
					log.Printf("%s: %v", sub.Participant.Identity(), err) // ErrTrackEnded when unpublished
					return
				}
				if i%300 == 0 {
					img, _ := f.ToImage() // an *image.RGBA sharing f.Data
					out, _ := os.Create(sub.Participant.Identity() + ".png")
					png.Encode(out, img)
					out.Close()
				}
				st.Release(f)
			}
		}()
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	<-room.Done()
}

// Frames reuses each frame's buffer once the loop body returns: copy what you keep.
func ExampleVideoStream_Frames() {
	var track livekit.Track // from TrackSubscribed
	st, err := livekit.NewVideoStream(track, livekit.VideoStreamOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	for f, err := range st.Frames(context.Background()) {
		if err != nil {
			log.Print(err)
			break
		}
		log.Printf("%dx%d at %v", f.Width, f.Height, f.Timestamp)
	}
	log.Printf("dropped %d frames", st.Dropped())
}
