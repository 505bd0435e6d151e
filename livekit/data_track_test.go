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
	lt, err := a.LocalParticipant().PublishDataTrack(ctx, "telemetry")
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
