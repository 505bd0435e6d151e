package livekit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/testenv"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// Regression tests for what a probe of the public API found (see the README's notes on
// redaction, cancellation and limits).

// joinPair connects alice and bob to one room; bob records his events.
func joinPair(t *testing.T) (a, b *livekit.Room, evB *events) {
	t.Helper()
	name := roomName(t)
	evB = newEvents()
	var err error
	b, err = livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, name, "bob"), livekit.WithEventHandler(evB.handle))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	a, err = livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, name, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	waitFor(t, evB, 15*time.Second, func(e livekit.ParticipantConnected) bool { return e.Info.Identity == "alice" })
	return a, b, evB
}

// Closing a room while publishes are in flight ends every one of them, with nil or
// ErrClosed, and leaves no call registered with the client.
func TestCloseEndsPublishesInFlight(t *testing.T) {
	needEnv(t)
	c, _ := engine.Default()
	for round := range 6 {
		name := roomName(t) + fmt.Sprint(round)
		r, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, name, "pub"))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var ended, closedErrs atomic.Int64
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 200 {
					err := r.LocalParticipant().PublishData(context.Background(), make([]byte, 512), livekit.DataOptions{})
					ended.Add(1)
					if errors.Is(err, livekit.ErrClosed) {
						closedErrs.Add(1)
						return
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		time.Sleep(30 * time.Millisecond)
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Fatalf("round %d: publishes still blocked 15 s after Close (%d ended)", round, ended.Load())
		}
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: publish failed with %v, want nil or ErrClosed", round, err)
		}
	}
	if n := c.Pending(); n != 0 {
		t.Fatalf("%d calls still registered with the client after every room closed", n)
	}
}

// A token with trailing white space is trimmed before use, and a rejected one never appears
// in the error, however the server quotes it.
func TestRejectedTokenWithTrailingSpaceIsRedacted(t *testing.T) {
	needEnv(t)
	wrongSecret, err := tokensource.NewMinter(env.Server.APIKey, "not-the-secret-not-the-secret-not-the-secret", env.Server.URL())
	if err != nil {
		t.Fatal(err)
	}
	bad, err := wrongSecret.Mint(tokensource.Options{RoomName: roomName(t), ParticipantIdentity: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{" ", "\t", "  \n"} {
		_, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), bad+suffix,
			livekit.WithConnectTimeout(3*time.Second), livekit.WithJoinRetries(0))
		var cerr *livekit.ConnectError
		if !errors.As(err, &cerr) {
			t.Fatalf("suffix %q: err = %v, want a ConnectError", suffix, err)
		}
		// The signature is the secret part: no more than the redacted prefix may appear.
		sig := bad[strings.LastIndexByte(bad, '.')+1:]
		if strings.Contains(err.Error(), sig) || strings.Contains(err.Error(), bad[20:60]) {
			t.Fatalf("suffix %q: the error quotes the token: %v", suffix, err)
		}
	}
	// A token with trailing white space that the server accepts joins.
	r, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL()+" ", mint(t, roomName(t), "spaced")+"\t ")
	if err != nil {
		t.Fatalf("a valid token with trailing white space: %v", err)
	}
	r.Close()
}

// A nil context is refused before anything reaches the library, and the client stays usable.
func TestNilContextIsRefusedBeforeTheLibrary(t *testing.T) {
	needEnv(t)
	c, _ := engine.Default()
	pending := c.Pending()
	//lint:ignore SA1012 a nil context is the point of this test
	_, err := livekit.Connect(nil, env.Server.URL(), mint(t, roomName(t), "nilctx")) //nolint:staticcheck
	if !errors.Is(err, livekit.ErrInvalidArgument) {
		t.Fatalf("Connect(nil ctx) = %v, want ErrInvalidArgument", err)
	}
	//lint:ignore SA1012 a nil context is the point of this test
	if _, err := livekit.ConnectWith(nil, tokensource.Literal(tokensource.Response{ServerURL: "ws://x", ParticipantToken: "t"})); !errors.Is(err, livekit.ErrInvalidArgument) { //nolint:staticcheck
		t.Fatalf("ConnectWith(nil ctx) = %v, want ErrInvalidArgument", err)
	}
	if c.Pending() != pending {
		t.Fatal("a request reached the library")
	}
	r, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, roomName(t), "after"))
	if err != nil {
		t.Fatalf("connect after the refused one: %v", err)
	}
	//lint:ignore SA1012 a nil context is the point of this test
	if err := r.LocalParticipant().PublishData(nil, []byte("x"), livekit.DataOptions{}); !errors.Is(err, livekit.ErrInvalidArgument) { //nolint:staticcheck
		t.Fatalf("PublishData(nil ctx) = %v", err)
	}
	r.Close()
}

// Every room closed, concurrently, delivers Disconnected exactly once as its last event.
func TestConcurrentCloseDeliversDisconnectedOnce(t *testing.T) {
	needEnv(t)
	const n = 12
	rooms := make([]*livekit.Room, n)
	evs := make([]*events, n)
	name := roomName(t)
	for i := range n {
		evs[i] = newEvents()
		r, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, name, fmt.Sprintf("p%d", i)), livekit.WithEventHandler(evs[i].handle))
		if err != nil {
			t.Fatal(err)
		}
		rooms[i] = r
	}
	var wg sync.WaitGroup
	for _, r := range rooms {
		wg.Add(1)
		go func() { defer wg.Done(); r.Close() }()
	}
	wg.Wait()
	for i, e := range evs {
		waitFor[livekit.Disconnected](t, e, 10*time.Second, nil)
		time.Sleep(10 * time.Millisecond)
		all := e.snapshot()
		count := 0
		for _, ev := range all {
			if _, ok := ev.(livekit.Disconnected); ok {
				count++
			}
		}
		if count != 1 {
			t.Fatalf("room %d: %d Disconnected events", i, count)
		}
		if _, ok := all[len(all)-1].(livekit.Disconnected); !ok {
			t.Fatalf("room %d: the last event is %T, not Disconnected", i, all[len(all)-1])
		}
	}
}

// A publish with an already-ended context sends nothing.
func TestPublishWithEndedContextSendsNothing(t *testing.T) {
	needEnv(t)
	a, _, evB := joinPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := a.LocalParticipant().PublishData(ctx, []byte("must not arrive"), livekit.DataOptions{Topic: "cancelled"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if err := a.LocalParticipant().PublishData(ctxFor(t, 10*time.Second), []byte("marker"), livekit.DataOptions{Topic: "marker"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evB, 10*time.Second, func(e livekit.DataReceived) bool { return e.Topic == "marker" })
	for _, ev := range evB.snapshot() {
		if d, ok := ev.(livekit.DataReceived); ok && d.Topic == "cancelled" {
			t.Fatal("the packet of a cancelled publish was delivered")
		}
	}
}

// Limits are checked in Go, inputs are bounded in errors, nil options are ignored.
func TestLimitsAndBadInputs(t *testing.T) {
	needEnv(t)
	r, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, roomName(t), "limits"), nil, livekit.WithJoinRetries(1))
	if err != nil {
		t.Fatalf("connect with a nil option: %v", err)
	}
	defer r.Close()
	lp := r.LocalParticipant()
	if err := lp.PublishData(ctxFor(t, 10*time.Second), make([]byte, livekit.MaxDataBytes+1), livekit.DataOptions{}); !errors.Is(err, livekit.ErrInvalidArgument) {
		t.Fatalf("oversized packet: %v, want ErrInvalidArgument", err)
	}
	if err := lp.PublishData(ctxFor(t, 10*time.Second), make([]byte, 60000), livekit.DataOptions{}); err != nil {
		t.Fatalf("60,000-byte packet: %v", err)
	}
	long := env.Server.URL() + "/" + strings.Repeat("a", 1<<20)
	_, err = livekit.Connect(ctxFor(t, 30*time.Second), long, mint(t, roomName(t), "x"), livekit.WithJoinRetries(0))
	if err == nil {
		t.Fatal("a 1 MiB URL connected")
	}
	if len(err.Error()) > 4096 {
		t.Fatalf("the error for a 1 MiB URL is %d bytes long", len(err.Error()))
	}
}

// A cached token the server refuses is dropped and a fresh one fetched, once.
func TestRefusedCachedTokenIsReplacedOnce(t *testing.T) {
	needEnv(t)
	name := roomName(t)
	var calls atomic.Int64
	var issued []string
	var mu sync.Mutex
	upstream := tokensource.Custom(func(ctx context.Context, o tokensource.Options) (tokensource.Response, error) {
		n := calls.Add(1)
		secret := env.Server.APISecret
		if n == 1 { // the first token is signed with a key the server does not have
			secret = "rotated-away-rotated-away-rotated-away-key"
		}
		tok, err := testenv.MintAt(env.Server.APIKey, secret, o.RoomName, o.ParticipantIdentity, "", time.Now(), 10*time.Minute)
		mu.Lock()
		issued = append(issued, tok)
		mu.Unlock()
		return tokensource.Response{ServerURL: env.Server.URL(), ParticipantToken: tok}, err
	})
	cache := tokensource.NewCache(upstream)
	opts := tokensource.Options{RoomName: name, ParticipantIdentity: "retry"}

	// With the retry turned off the refusal is the caller's.
	_, err := livekit.ConnectWith(ctxFor(t, 30*time.Second), tokensource.Bind(cache, opts), livekit.WithAuthRetry(false))
	var cerr *livekit.ConnectError
	if !errors.As(err, &cerr) || !cerr.Unauthorized() {
		t.Fatalf("err = %v, want an unauthorized ConnectError", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d fetches, want 1", calls.Load())
	}

	r, err := livekit.ConnectWith(ctxFor(t, 30*time.Second), tokensource.Bind(cache, opts), livekit.WithLogger(testenv.Logger))
	if err != nil {
		t.Fatalf("connect with the refused token cached: %v", err)
	}
	defer r.Close()
	if calls.Load() != 2 {
		t.Fatalf("%d fetches, want 2 (the refused one and its replacement)", calls.Load())
	}
	mu.Lock()
	refused := issued[0]
	mu.Unlock()
	if got, ok := cache.Cached(opts); !ok || got.ParticipantToken == refused {
		t.Fatal("the cache still serves the refused token")
	}
}
