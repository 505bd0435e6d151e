package livekit_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
)

// connectEncrypted joins room as identity with encryption options o, closed when the test ends.
func connectEncrypted(t *testing.T, ctx context.Context, room, identity string, o livekit.EncryptionOptions) (*livekit.Room, *events) {
	t.Helper()
	ev := newEvents()
	r, err := livekit.Connect(ctx, env.Server.URL(), mint(t, room, identity), livekit.WithEventHandler(ev.handle), livekit.WithEncryption(o))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, ev
}

// Two participants with the same key decrypt each other's media; one with another key reports
// decryption failures.
func TestEncryption(t *testing.T) {
	needEnv(t)
	name := roomName(t)
	key := []byte("a shared secret key")
	ctx := ctxFor(t, 60*time.Second)
	a, _ := connectEncrypted(t, ctx, name, "alice", livekit.EncryptionOptions{SharedKey: key})
	b, evB := connectEncrypted(t, ctx, name, "bob", livekit.EncryptionOptions{SharedKey: key})
	texts := make(chan livekit.TextStreamInfo, 1)
	b.RegisterTextStreamHandler("secret", func(r *livekit.TextStreamReader, from string) {
		if s, err := r.ReadAll(ctx); err == nil && s == "for bob only" {
			texts <- r.Info()
		}
	})
	_, evM := connectEncrypted(t, ctx, name, "mallory", livekit.EncryptionOptions{SharedKey: bytes.Repeat([]byte("x"), 19), FailureTolerance: 1, RatchetWindowSize: 1})
	track, stop, err := toneTrack("secret")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if _, err := a.LocalParticipant().PublishTrack(ctx, track, livekit.TrackPublishOptions{Source: livekit.SourceMicrophone}); err != nil {
		t.Fatal(err)
	}
	ts := waitFor(t, evB, 15*time.Second, func(e livekit.TrackPublished) bool { return e.Participant.Identity() == "alice" })
	if ts.Info.EncryptionType != livekit.EncryptionGCM {
		t.Errorf("publication encryption %v, want GCM", ts.Info.EncryptionType)
	}
	waitFor(t, evB, 30*time.Second, func(e livekit.EncryptionStateChanged) bool {
		return e.Identity == "alice" && e.State == livekit.EncryptionStateOK
	})
	waitFor(t, evM, 30*time.Second, func(e livekit.EncryptionStateChanged) bool {
		return e.Identity == "alice" && e.State == livekit.EncryptionStateDecryptionFailed
	})
	waitFor(t, evM, 30*time.Second, func(e livekit.ParticipantEncryptionStatusChanged) bool {
		return e.Identity == "alice" && e.IsEncrypted
	})
	// Data streams are encrypted too.
	if _, err := a.LocalParticipant().SendText(ctx, "for bob only", livekit.StreamTextOptions{Topic: "secret"}); err != nil {
		t.Fatal(err)
	}
	select {
	case info := <-texts:
		if info.Encryption != livekit.EncryptionGCM {
			t.Errorf("text stream arrived with encryption %v", info.Encryption)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("encrypted text stream did not arrive")
	}
	if err := a.E2EE().SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	if _, err := a.E2EE().RatchetSharedKey(0); err != nil {
		t.Fatal(err)
	}
	if err := a.E2EE().SetSharedKey(key, 0); err != nil {
		t.Fatal(err)
	}
}

// Without a shared key each participant has its own: the publisher encrypts with the key set
// under its identity, a subscriber that holds the same key for it decrypts, one that holds
// another fails. Keys read back, ratchet, and the frame cryptors list the track.
func TestEncryptionPerParticipantKeys(t *testing.T) {
	needEnv(t)
	name := roomName(t)
	ctx := ctxFor(t, 60*time.Second)
	aliceKey := []byte("alice's own sending key")
	a, _ := connectEncrypted(t, ctx, name, "alice", livekit.EncryptionOptions{})
	b, evB := connectEncrypted(t, ctx, name, "bob", livekit.EncryptionOptions{})
	m, evM := connectEncrypted(t, ctx, name, "mallory", livekit.EncryptionOptions{FailureTolerance: 1, RatchetWindowSize: 1})
	for _, set := range []struct {
		r   *livekit.Room
		key []byte
	}{{a, aliceKey}, {b, aliceKey}, {m, bytes.Repeat([]byte("m"), len(aliceKey))}} {
		if err := set.r.E2EE().SetKey("alice", set.key, 0); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := b.E2EE().Key("alice", 0); err != nil || !bytes.Equal(got, aliceKey) {
		t.Fatalf("bob's key for alice: %q, %v; want the key he set", got, err)
	}
	if got, err := b.E2EE().Key("alice", 3); err != nil || len(got) != 0 {
		t.Fatalf("key at an index never set: %q, %v; want none", got, err)
	}

	track, stop, err := toneTrack("secret")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	pub, err := a.LocalParticipant().PublishTrack(ctx, track, livekit.TrackPublishOptions{Source: livekit.SourceMicrophone})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, evB, 30*time.Second, func(e livekit.EncryptionStateChanged) bool {
		return e.Identity == "alice" && e.State == livekit.EncryptionStateOK
	})
	waitFor(t, evM, 30*time.Second, func(e livekit.EncryptionStateChanged) bool {
		return e.Identity == "alice" && e.State == livekit.EncryptionStateDecryptionFailed
	})

	sid := pub.SID()
	var cryptors []livekit.FrameCryptor
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if cryptors, err = b.E2EE().FrameCryptors(); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(cryptors, func(c livekit.FrameCryptor) bool { return c.ParticipantIdentity == "alice" && c.TrackSID == sid }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob's frame cryptors %+v have none for alice's track %s", cryptors, sid)
		}
	}
	if err := a.E2EE().SetCryptorKeyIndex("alice", sid, 1); err != nil {
		t.Fatal(err)
	}
	if err := a.E2EE().SetCryptorEnabled("alice", sid, true); err != nil {
		t.Fatal(err)
	}
	own, err := a.E2EE().FrameCryptors()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(own, func(c livekit.FrameCryptor) bool { return c.TrackSID == sid })
	if i < 0 || own[i].KeyIndex != 1 || !own[i].Enabled {
		t.Fatalf("alice's cryptors after SetCryptorKeyIndex(1): %+v", own)
	}

	next, err := a.E2EE().RatchetKey("alice", 0)
	if err != nil || len(next) == 0 || bytes.Equal(next, aliceKey) {
		t.Fatalf("ratchet alice's key: %x, %v; want a new key", next, err)
	}

	// What the engine would not check is refused here.
	for what, err := range map[string]error{
		"index past the ring": a.E2EE().SetKey("alice", aliceKey, livekit.DefaultKeyRingSize),
		"negative index":      a.E2EE().SetSharedKey(aliceKey, -1),
		"empty key":           a.E2EE().SetKey("alice", nil, 0),
		"no identity":         a.E2EE().SetKey("", aliceKey, 0),
		"cryptor index":       a.E2EE().SetCryptorKeyIndex("alice", sid, 99),
	} {
		if !errors.Is(err, livekit.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", what, err)
		}
	}
}

// The E2EE controls of a room connected without encryption say so.
func TestEncryptionControlsNeedAnEncryptedRoom(t *testing.T) {
	needEnv(t)
	ctx := ctxFor(t, 30*time.Second)
	r, err := livekit.Connect(ctx, env.Server.URL(), mint(t, roomName(t), "plain"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.E2EE().SetKey("plain", []byte("k"), 0); !errors.Is(err, livekit.ErrNotEncrypted) {
		t.Fatalf("SetKey in a plain room: %v, want ErrNotEncrypted", err)
	}
	if _, err := r.E2EE().FrameCryptors(); !errors.Is(err, livekit.ErrNotEncrypted) {
		t.Fatalf("FrameCryptors in a plain room: %v, want ErrNotEncrypted", err)
	}
}
