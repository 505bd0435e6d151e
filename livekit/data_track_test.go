package livekit_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
)

func TestDataTrackPublishPushSubscribeUnpublish(t *testing.T) {
	needEnv(t)
	ctx := ctxFor(t, 60*time.Second)
	a, _, evB := joinPair(t)
	lt, err := a.LocalParticipant().PublishDataTrack(ctx, "telemetry", livekit.DataTrackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pub := waitFor(t, evB, 15*time.Second, func(e livekit.DataTrackPublished) bool { return e.Track.Info().Name == "telemetry" })
	if pub.Track.Publisher() != "alice" || pub.Track.Info().SID != lt.Info().SID {
		t.Fatalf("published %+v, local %+v", pub.Track.Info(), lt.Info())
	}
	st, err := pub.Track.Subscribe(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Frames are lossy: push until some arrive, then check what arrived is intact.
	stop := make(chan struct{})
	pushed := make(chan int, 1)
	go func() {
		n := 0
		defer func() { pushed <- n }()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if err := lt.TryPush(livekit.DataTrackFrame{Payload: []byte(fmt.Sprintf("frame-%d", i)), UserTimestamp: uint64(1000 + i)}); err == nil {
				n++
			}
		}
	}()
	got := 0
	for got < 10 {
		f, err := st.Recv(ctx)
		if err != nil {
			close(stop)
			t.Fatalf("after %d frames: %v", got, err)
		}
		var i int
		if _, err := fmt.Sscanf(string(f.Payload), "frame-%d", &i); err != nil || f.UserTimestamp != uint64(1000+i) {
			t.Fatalf("frame %q ts %d", f.Payload, f.UserTimestamp)
		}
		got++
	}
	close(stop)
	t.Logf("received %d frames of %d pushed", got, <-pushed)
	if err := lt.TryPush(livekit.DataTrackFrame{Payload: bytes.Repeat([]byte{1}, 100)}); err != nil {
		t.Fatal(err)
	}
	if err := lt.Unpublish(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evB, 15*time.Second, func(e livekit.DataTrackUnpublished) bool { return e.SID == lt.Info().SID })
	for {
		_, err := st.Recv(ctx)
		if err != nil {
			if !errors.Is(err, livekit.ErrTrackEnded) && err.Error() != "EOF" {
				var dte *livekit.DataTrackError
				if !errors.As(err, &dte) {
					t.Fatalf("stream ended with %v", err)
				}
			}
			t.Logf("stream ended: %v", err)
			break
		}
	}
	if err := lt.TryPush(livekit.DataTrackFrame{Payload: []byte("late")}); err == nil {
		t.Fatal("push after unpublish succeeded")
	}
}

// A publisher stores a schema's definition (defining it again replaces it) and names it, with a frame encoding, on its track;
// a subscriber sees both on the track and fetches the definition.
func TestDataTrackSchemaAndEncoding(t *testing.T) {
	needEnv(t)
	ctx := ctxFor(t, 60*time.Second)
	a, b, evB := joinPair(t)
	schema := livekit.DataTrackSchemaID{Name: "pose", Encoding: livekit.SchemaEncodingJSONSchema}
	def := `{"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"}}}`
	// Defined twice: the server keeps the last definition.
	for _, d := range []string{`{"draft":true}`, def} {
		if err := a.LocalParticipant().DefineSchema(ctx, schema, d); err != nil {
			t.Fatal(err)
		}
	}
	custom := livekit.DataTrackSchemaID{Name: "blob", Encoding: "my-idl"}
	if err := a.LocalParticipant().DefineSchema(ctx, custom, "opaque"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.LocalParticipant().PublishDataTrack(ctx, "pose", livekit.DataTrackOptions{Schema: schema, FrameEncoding: livekit.FrameEncodingJSON}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.LocalParticipant().PublishDataTrack(ctx, "blob", livekit.DataTrackOptions{Schema: custom, FrameEncoding: "zstd-json"}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]livekit.DataTrackInfo{
		"pose": {Name: "pose", Schema: schema, FrameEncoding: livekit.FrameEncodingJSON},
		"blob": {Name: "blob", Schema: custom, FrameEncoding: "zstd-json"},
	} {
		pub := waitFor(t, evB, 15*time.Second, func(e livekit.DataTrackPublished) bool { return e.Track.Info().Name == name })
		got := pub.Track.Info()
		if got.Schema != want.Schema || got.FrameEncoding != want.FrameEncoding {
			t.Errorf("track %s arrived with schema %+v, encoding %q; want %+v, %q", name, got.Schema, got.FrameEncoding, want.Schema, want.FrameEncoding)
		}
	}
	for id, want := range map[livekit.DataTrackSchemaID]string{schema: def, custom: "opaque"} {
		got, err := b.LocalParticipant().Schema(ctx, "alice", id)
		if err != nil || got != want {
			t.Errorf("schema %+v fetched by bob: %q, %v; want %q", id, got, err, want)
		}
	}
	if _, err := b.LocalParticipant().Schema(ctx, "alice", livekit.DataTrackSchemaID{Name: "never-defined"}); err == nil {
		t.Error("fetching a schema never defined succeeded")
	}
	if _, err := a.LocalParticipant().PublishDataTrack(ctx, "bad", livekit.DataTrackOptions{Schema: livekit.DataTrackSchemaID{Encoding: livekit.SchemaEncodingProtobuf}}); !errors.Is(err, livekit.ErrInvalidArgument) {
		t.Errorf("schema id without a name: %v, want ErrInvalidArgument", err)
	}
}
