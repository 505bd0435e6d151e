package livekit_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// toneTrack is a local audio track playing a 440 Hz tone until stop, for tests that need
// media flowing (stats, encryption). stop releases the track and its source.
func toneTrack(name string) (*livekit.LocalAudioTrack, func(), error) {
	src, err := livekit.NewAudioSource(livekit.AudioSourceOptions{SampleRate: 48000, NumChannels: 1})
	if err != nil {
		return nil, nil, err
	}
	track, err := livekit.NewLocalAudioTrack(name, src)
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		f := media.NewAudioFrame(48000, 1, 480)
		for n := 0; ctx.Err() == nil; n++ {
			for i := range f.Data {
				f.Data[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(n*480+i)/48000))
			}
			if src.CaptureFrame(ctx, f) != nil {
				return
			}
		}
	})
	return track, func() {
		cancel()
		wg.Wait()
		track.Close()
		src.Close()
	}, nil
}

// mintAgent mints a token for a participant of kind agent (tokensource's minter has no kind).
func mintAgent(t *testing.T, room, identity string) string {
	t.Helper()
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": env.Server.APIKey, "sub": identity, "nbf": now.Unix() - 10, "exp": now.Add(time.Hour).Unix(), "kind": "agent",
		"video": map[string]any{"room": room, "roomJoin": true, "canPublish": true, "canSubscribe": true, "canPublishData": true, "agent": true},
	}).SignedString([]byte(env.Server.APISecret))
	if err != nil {
		t.Fatal(fmt.Errorf("mint agent token: %w", err))
	}
	return tok
}

func TestChatTranscriptionDTMFPermissions(t *testing.T) {
	needEnv(t)
	a, _, evB := joinPair(t)
	for len(a.RemoteParticipants()) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	lp := a.LocalParticipant()
	ctx := ctxFor(t, 30*time.Second)

	sent, err := lp.SendChatMessage(ctx, "hello chat", []string{"bob"})
	if err != nil {
		t.Fatal(err)
	}
	if sent.ID == "" || sent.Message != "hello chat" || sent.Timestamp.IsZero() {
		t.Fatalf("sent %+v", sent)
	}
	waitFor(t, evB, 10*time.Second, func(e livekit.ChatMessageReceived) bool {
		return e.From == "alice" && e.Message.Message == "hello chat" && e.Message.ID == sent.ID
	})
	edited, err := lp.EditChatMessage(ctx, sent, "hello, chat", []string{"bob"})
	if err != nil {
		t.Fatal(err)
	}
	if edited.ID != sent.ID || edited.Message != "hello, chat" || edited.Edited.IsZero() {
		t.Fatalf("edited %+v, want id %s, the new text and an edit time", edited, sent.ID)
	}
	waitFor(t, evB, 10*time.Second, func(e livekit.ChatMessageReceived) bool {
		return e.From == "alice" && e.Message.ID == sent.ID && e.Message.Message == "hello, chat" && !e.Message.Edited.IsZero()
	})
	if _, err := lp.EditChatMessage(ctx, livekit.ChatMessage{Message: "x"}, "y", nil); !errors.Is(err, livekit.ErrInvalidArgument) {
		t.Fatalf("edit of a message without an id: %v, want ErrInvalidArgument", err)
	}

	segs := []livekit.TranscriptionSegment{
		{ID: "s1", Text: "hello", Start: 100 * time.Millisecond, End: 900 * time.Millisecond, Final: true, Language: "en"},
		{ID: "s2", Text: "wor", Start: time.Second, End: 1500 * time.Millisecond, Language: "en"},
	}
	track, stop, err := toneTrack("spoken")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	pub, err := lp.PublishTrack(ctx, track, livekit.TrackPublishOptions{Source: livekit.SourceMicrophone})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, evB, 15*time.Second, func(e livekit.TrackPublished) bool { return e.Info.SID == pub.SID() })
	// The server forwards transcriptions from agents only.
	agent, err := livekit.Connect(ctx, env.Server.URL(), mintAgent(t, a.Name(), "scribe"))
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	waitFor(t, evB, 15*time.Second, func(e livekit.ParticipantConnected) bool { return e.Info.Identity == "scribe" })
	if err := agent.LocalParticipant().PublishTranscription(ctx, "alice", pub.SID(), segs); err != nil {
		t.Fatal(err)
	}
	tr := waitFor[livekit.TranscriptionReceived](t, evB, 10*time.Second, nil)
	if tr.Identity != "alice" || tr.TrackSID != pub.SID() || len(tr.Segments) != 2 || tr.Segments[0] != segs[0] || tr.Segments[1] != segs[1] {
		t.Fatalf("transcription %+v", tr)
	}

	if err := lp.PublishDTMF(ctx, 5, "5", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evB, 10*time.Second, func(e livekit.SIPDTMFReceived) bool { return e.From == "alice" && e.Code == 5 && e.Digit == "5" })

	if err := lp.SetTrackSubscriptionPermissions(false, []livekit.TrackPermission{{Identity: "bob", AllowAll: true}}); err != nil {
		t.Fatal(err)
	}
	if err := lp.SetTrackSubscriptionPermissions(true, nil); err != nil {
		t.Fatal(err)
	}
}

func TestStatsOfPublishedTrack(t *testing.T) {
	needEnv(t)
	a, b, evB := joinPair(t)
	track, stop, err := toneTrack("tone")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ctx := ctxFor(t, 30*time.Second)
	pub, err := a.LocalParticipant().PublishTrack(ctx, track, livekit.TrackPublishOptions{Source: livekit.SourceMicrophone})
	if err != nil {
		t.Fatal(err)
	}
	sub := waitFor(t, evB, 15*time.Second, func(e livekit.TrackSubscribed) bool { return e.Publication.SID() == pub.SID() })
	time.Sleep(2 * time.Second) // let packets flow
	ts, err := a.TrackStats(ctx, track)
	if err != nil {
		t.Fatal(err)
	}
	var out *livekit.RTCStats
	for i := range ts {
		if ts[i].Type == "outbound_rtp" {
			out = &ts[i]
		}
	}
	if out == nil || out.ID == "" || out.Timestamp.IsZero() {
		t.Fatalf("no outbound_rtp report among %d: %+v", len(ts), ts)
	}
	if n, _ := out.Values["packets_sent"].(float64); n <= 0 {
		t.Fatalf("outbound_rtp %+v", out)
	}
	t.Logf("outbound_rtp at %v: packets_sent=%v bytes_sent=%v", out.Timestamp, out.Values["packets_sent"], out.Values["bytes_sent"])
	rs, err := b.TrackStats(ctx, sub.Track)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range rs {
		found = found || s.Type == "inbound_rtp"
	}
	if !found {
		t.Fatalf("no inbound_rtp among %d remote track reports", len(rs))
	}
	ss, err := a.SessionStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.SessionStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("session stats: publisher side %d/%d reports, subscriber side %d/%d (publisher/subscriber connection)",
		len(ss.Publisher), len(ss.Subscriber), len(sb.Publisher), len(sb.Subscriber))
	if len(ss.Publisher) == 0 {
		t.Fatal("no publisher reports for a room that publishes")
	}
}
