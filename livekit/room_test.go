package livekit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/devenv"
	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/leakcheck"
	"github.com/livekit-ffi-go/sdk/internal/lkserver"
	"github.com/livekit-ffi-go/sdk/internal/testenv"
	"github.com/livekit-ffi-go/sdk/internal/testnet"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// env is one livekit-server (and token endpoint) shared by the tests; tests that hurt the
// server start their own.
var env *devenv.Env

// The tests need the native library and a livekit-server binary. Without them they skip,
// unless LIVEKIT_REQUIRE_SERVER=1 (scripts/test.sh sets it), where that is a failure. Run them
// inside a private network namespace (scripts/netns.sh): WebRTC uses every interface it finds.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if _, err := testenv.LoadLibrary(); err != nil {
		if testenv.RequireServer() {
			fmt.Fprintln(os.Stderr, "FAIL: LIVEKIT_REQUIRE_SERVER=1 but the native library is not usable:", err)
			return 1
		}
		return m.Run() // the room tests skip (needEnv); the translation tests run
	}
	if _, err := lkserver.Find(); err != nil {
		if testenv.RequireServer() {
			fmt.Fprintln(os.Stderr, "FAIL: LIVEKIT_REQUIRE_SERVER=1 but", err)
			return 1
		}
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	env, err = devenv.Start(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: start livekit-server:", err)
		return 1
	}
	code := m.Run()
	env.Close()

	c, _ := engine.Default()
	if n := c.OutstandingHandles(); n != 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d owned handles outstanding after the tests\n", n)
		code = 1
	}
	c.Dispose()
	if err := leakcheck.Wait(15 * time.Second); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		code = 1
	}
	return code
}

// needEnv skips a test that needs the library and a server when they are missing (it fails
// instead under LIVEKIT_REQUIRE_SERVER=1).
func needEnv(t testing.TB) {
	t.Helper()
	if env == nil {
		testenv.Server(t)
		t.Skip("the test server did not start")
	}
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func roomName(t testing.TB) string {
	return fmt.Sprintf("room-%d-%d", time.Now().UnixNano()%1e9, os.Getpid())
}

// events records a room's events for assertions.
type events struct {
	mu     sync.Mutex
	all    []livekit.Event
	notify chan struct{}
}

func newEvents() *events { return &events{notify: make(chan struct{}, 1)} }

func (e *events) handle(ev livekit.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
	select {
	case e.notify <- struct{}{}:
	default:
	}
}

func (e *events) snapshot() []livekit.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]livekit.Event(nil), e.all...)
}

// waitFor returns the first event so far or to come, within d, of type T for which match (if
// not nil) is true. Events stay recorded, so waits for different events can come in any order.
func waitFor[T livekit.Event](t testing.TB, e *events, d time.Duration, match func(T) bool) T {
	t.Helper()
	deadline := time.After(d)
	for {
		for _, ev := range e.snapshot() {
			if v, ok := ev.(T); ok && (match == nil || match(v)) {
				return v
			}
		}
		select {
		case <-e.notify:
		case <-deadline:
			var zero T
			t.Fatalf("no %T within %v; saw %s", zero, d, describe(e.snapshot()))
			return zero
		}
	}
}

// describe lists event types (never tokens) for failure messages.
func describe(evs []livekit.Event) string {
	var b bytes.Buffer
	for _, ev := range evs {
		if tr, ok := ev.(livekit.TokenRefreshed); ok {
			fmt.Fprintf(&b, "TokenRefreshed(%s) ", tokensource.Redact(tr.Token))
			continue
		}
		fmt.Fprintf(&b, "%T%+v ", ev, ev)
	}
	return b.String()
}

func mint(t testing.TB, room, identity string) string {
	t.Helper()
	tok, err := env.Minter.Mint(tokensource.Options{RoomName: room, ParticipantIdentity: identity, ParticipantName: identity + " name"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func outstanding(t testing.TB) int64 {
	c, err := engine.Default()
	if err != nil {
		t.Fatal(err)
	}
	return c.OutstandingHandles()
}

func TestConnectWithLiteralToken(t *testing.T) {
	needEnv(t)
	before := outstanding(t)
	name := roomName(t)
	r, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, name, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Name() != name {
		t.Errorf("Name = %q, want %q", r.Name(), name)
	}
	lp := r.LocalParticipant().Info()
	if lp.Identity != "alice" || lp.Name != "alice name" {
		t.Errorf("local participant = %+v", lp)
	}
	if r.ConnectionState() != livekit.StateConnected {
		t.Errorf("state = %v", r.ConnectionState())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	select {
	case <-r.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	if got := outstanding(t); got != before {
		t.Fatalf("outstanding handles %d after Close, %d before", got, before)
	}
}

func TestConnectWithEndpointSource(t *testing.T) {
	needEnv(t)
	src, err := tokensource.NewEndpoint(env.EndpointURL)
	if err != nil {
		t.Fatal(err)
	}
	name := roomName(t)
	r, err := livekit.ConnectWith(ctxFor(t, 30*time.Second), tokensource.Bind(src, tokensource.Options{RoomName: name, ParticipantIdentity: "endpoint-user"}))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Name() != name || r.LocalParticipant().Identity() != "endpoint-user" {
		t.Fatalf("joined %q as %q", r.Name(), r.LocalParticipant().Identity())
	}
}

func TestConnectWithFixedSource(t *testing.T) {
	needEnv(t)
	name := roomName(t)
	src := tokensource.Literal(tokensource.Response{ServerURL: env.Server.URL(), ParticipantToken: mint(t, name, "fixed")})
	r, err := livekit.ConnectWith(ctxFor(t, 30*time.Second), src)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.LocalParticipant().Identity() != "fixed" {
		t.Fatalf("identity %q", r.LocalParticipant().Identity())
	}
}

// countingSource counts fetches that reach the endpoint.
func countingSource(t testing.TB) (tokensource.Configurable, *atomic.Int64) {
	ep, err := tokensource.NewEndpoint(env.EndpointURL)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	return tokensource.Custom(func(ctx context.Context, o tokensource.Options) (tokensource.Response, error) {
		n.Add(1)
		return ep.Fetch(ctx, o)
	}), &n
}

func TestCachingSourceSecondConnectIsHitAndRefreshUpdatesIt(t *testing.T) {
	needEnv(t)
	upstream, calls := countingSource(t)
	cache := tokensource.NewCache(upstream)
	opts := tokensource.Options{RoomName: roomName(t), ParticipantIdentity: "cached"}

	ev := newEvents()
	r, err := livekit.ConnectWith(ctxFor(t, 30*time.Second), tokensource.Bind(cache, opts), livekit.WithEventHandler(ev.handle))
	if err != nil {
		t.Fatal(err)
	}
	original := r.Token()
	origClaims, err := tokensource.Parse(original)
	if err != nil {
		t.Fatal(err)
	}

	// The server refreshes the token right after the session starts.
	ref := waitFor[livekit.TokenRefreshed](t, ev, 10*time.Second, nil)
	c := ref.Claims
	if c == nil {
		t.Fatal("refreshed token did not decode")
	}
	if c.Identity != "cached" || ref.Identity != "cached" {
		t.Errorf("identity %q / %q, want cached", c.Identity, ref.Identity)
	}
	if c.Video == nil || c.Video.Room != opts.RoomName {
		t.Errorf("video grant %+v, want room %q", c.Video, opts.RoomName)
	}
	if c.Issuer != env.Server.APIKey {
		t.Errorf("iss %q, want the API key %q", c.Issuer, env.Server.APIKey)
	}
	if c.ExpiresAt.Before(origClaims.ExpiresAt) || !ref.ExpiresAt.Equal(c.ExpiresAt) {
		t.Errorf("refreshed exp %v is earlier than the original %v", c.ExpiresAt, origClaims.ExpiresAt)
	}
	if r.Token() != ref.Token {
		t.Error("Room.Token() is not the refreshed token")
	}
	cached, ok := cache.Cached(opts)
	if !ok || cached.ParticipantToken != ref.Token || cached.ServerURL != env.Server.URL() {
		t.Errorf("cache holds %v (ok=%v), want the refreshed token with the same URL", tokensource.Redact(cached.ParticipantToken), ok)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// A second connect with the same options is served from the cache.
	r2, err := livekit.ConnectWith(ctxFor(t, 30*time.Second), tokensource.Bind(cache, opts))
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if n := calls.Load(); n != 1 {
		t.Fatalf("endpoint fetched %d times, want 1 (second connect should hit the cache)", n)
	}
	if r2.Token() != ref.Token {
		t.Error("second connect did not use the server-refreshed token")
	}
}

func TestBoundCacheIsUpdatedToo(t *testing.T) {
	needEnv(t)
	upstream, _ := countingSource(t)
	cache := tokensource.NewCache(upstream)
	opts := tokensource.Options{RoomName: roomName(t), ParticipantIdentity: "bound"}
	ev := newEvents()
	r, err := livekit.ConnectWith(ctxFor(t, 30*time.Second), tokensource.Bind(cache, opts), livekit.WithEventHandler(ev.handle))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ref := waitFor[livekit.TokenRefreshed](t, ev, 10*time.Second, nil)
	if got, ok := cache.Cached(opts); !ok || got.ParticipantToken != ref.Token {
		t.Fatal("the cache behind Bind did not get the refreshed token")
	}
}

func TestMetadataChangeBringsRefreshWithNewMetadata(t *testing.T) {
	needEnv(t)
	name := roomName(t)
	ev := newEvents()
	r, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, name, "meta"), livekit.WithEventHandler(ev.handle))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	waitFor[livekit.TokenRefreshed](t, ev, 10*time.Second, nil)

	admin, err := env.AdminToken(name)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("metadata-%d", time.Now().UnixNano())
	if err := env.Server.UpdateParticipantMetadata(ctxFor(t, 10*time.Second), name, "meta", want, admin); err != nil {
		t.Fatal(err)
	}
	ref := waitFor(t, ev, 10*time.Second, func(e livekit.TokenRefreshed) bool { return e.Claims != nil && e.Claims.Metadata == want })
	if ref.Identity != "meta" {
		t.Fatalf("identity %q", ref.Identity)
	}
	waitFor(t, ev, 10*time.Second, func(e livekit.ParticipantMetadataChanged) bool { return e.Identity == "meta" && e.Metadata == want })
	if got := r.LocalParticipant().Info().Metadata; got != want {
		t.Fatalf("local participant metadata %q, want %q", got, want)
	}
}

func TestTwoParticipantsExchangeData(t *testing.T) {
	needEnv(t)
	name := roomName(t)
	evB := newEvents()
	b, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, name, "bob"), livekit.WithEventHandler(evB.handle))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, name, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	joined := waitFor(t, evB, 10*time.Second, func(e livekit.ParticipantConnected) bool { return e.Info.Identity == "alice" })
	if joined.Info.Name != "alice name" {
		t.Errorf("alice's name %q", joined.Info.Name)
	}
	if b.RemoteParticipant("alice") == nil {
		t.Error("bob's room does not list alice")
	}
	if got := a.RemoteParticipants(); len(got) != 1 || got[0].Identity() != "bob" {
		t.Errorf("alice sees %+v, want bob", got)
	}

	payload := make([]byte, 3000)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	if err := a.LocalParticipant().PublishData(ctxFor(t, 10*time.Second), payload, livekit.DataOptions{Topic: "greetings"}); err != nil {
		t.Fatal(err)
	}
	got := waitFor[livekit.DataReceived](t, evB, 10*time.Second, nil)
	if !bytes.Equal(got.Data, payload) || got.Topic != "greetings" || got.From != "alice" || !got.Reliable {
		t.Fatalf("bob got %d bytes topic %q from %q reliable=%v", len(got.Data), got.Topic, got.From, got.Reliable)
	}

	// Lossy, addressed to bob only: over loopback it arrives, marked unreliable.
	if err := a.LocalParticipant().PublishData(ctxFor(t, 10*time.Second), []byte("fast"), livekit.DataOptions{Lossy: true, Topic: "pos", Destinations: []string{"bob"}}); err != nil {
		t.Fatal(err)
	}
	lossy := waitFor(t, evB, 10*time.Second, func(e livekit.DataReceived) bool { return e.Topic == "pos" })
	if string(lossy.Data) != "fast" || lossy.Reliable || lossy.From != "alice" {
		t.Fatalf("bob got %q reliable=%v from %q", lossy.Data, lossy.Reliable, lossy.From)
	}

	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.LocalParticipant().PublishData(ctxFor(t, time.Second), []byte("late"), livekit.DataOptions{}); !errors.Is(err, livekit.ErrClosed) {
		t.Fatalf("PublishData after Close: %v, want ErrClosed", err)
	}
	waitFor(t, evB, 10*time.Second, func(e livekit.ParticipantDisconnected) bool { return e.Identity == "alice" })
	if b.RemoteParticipant("alice") != nil {
		t.Error("alice still listed after leaving")
	}
}

func TestConnectFailuresReturnErrorsWithoutLeaks(t *testing.T) {
	needEnv(t)
	name := roomName(t)
	wrongSecret, err := tokensource.NewMinter(env.Server.APIKey, "not-the-secret-not-the-secret-not-the-secret", env.Server.URL())
	if err != nil {
		t.Fatal(err)
	}
	badSig, err := wrongSecret.Mint(tokensource.Options{RoomName: name, ParticipantIdentity: "x"})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := testenv.MintAt(env.Server.APIKey, env.Server.APISecret, name, "x", "", time.Now().Add(-time.Hour), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, url, token string
		needsNetns       bool
	}{
		{"wrong secret", env.Server.URL(), badSig, false},
		{"expired token", env.Server.URL(), expired, false},
		{"closed port", "ws://" + testnet.ClosedPort(t), mint(t, name, "x"), false},
		// Name resolution may ask a resolver off the machine: only where there is no way out.
		{"unknown host", "ws://livekit-test-host.invalid:7880", mint(t, name, "x"), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needsNetns && !testenv.Isolated() {
				t.Skip("only inside the test network namespace")
			}
			before := outstanding(t)
			_, err := livekit.Connect(ctxFor(t, 60*time.Second), tc.url, tc.token,
				livekit.WithConnectTimeout(3*time.Second), livekit.WithJoinRetries(0))
			var cerr *livekit.ConnectError
			if !errors.As(err, &cerr) || cerr.Message == "" {
				t.Fatalf("err = %v, want a ConnectError with the library's reason", err)
			}
			if strings.Contains(err.Error(), tc.token) {
				t.Fatalf("the error quotes the token: %v", err)
			}
			t.Logf("%v", err)
			if got := outstanding(t); got != before {
				t.Fatalf("outstanding handles %d, %d before", got, before)
			}
		})
	}
	t.Run("empty credentials", func(t *testing.T) {
		if _, err := livekit.Connect(ctxFor(t, time.Second), "", "x"); !errors.Is(err, livekit.ErrInvalidCredentials) {
			t.Fatalf("err = %v", err)
		}
		src := tokensource.Literal(tokensource.Response{ServerURL: env.Server.URL()})
		if _, err := livekit.ConnectWith(ctxFor(t, time.Second), src); err == nil {
			t.Fatal("empty token accepted")
		}
	})
}

func TestConnectHonorsContext(t *testing.T) {
	needEnv(t)
	// A listener that accepts and never answers: the connect hangs until its context ends.
	addr := testnet.SilentListener(t)
	before := outstanding(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := livekit.Connect(ctx, "ws://"+addr, mint(t, roomName(t), "x"), livekit.WithConnectTimeout(2*time.Second), livekit.WithJoinRetries(0))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if got := outstanding(t); got != before {
		t.Fatalf("outstanding handles %d, %d before", got, before)
	}
}

func TestServerKilledMidSession(t *testing.T) {
	needEnv(t)
	own, err := devenv.Start(ctxFor(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	tok, err := own.Minter.Mint(tokensource.Options{RoomName: roomName(t), ParticipantIdentity: "victim"})
	if err != nil {
		t.Fatal(err)
	}
	before := outstanding(t)
	ev := newEvents()
	r, err := livekit.Connect(ctxFor(t, 30*time.Second), own.Server.URL(), tok, livekit.WithEventHandler(ev.handle))
	if err != nil {
		t.Fatal(err)
	}
	own.Server.Kill()

	// The library first tries to resume, then gives up (about 26 s here).
	trouble := waitFor(t, ev, 90*time.Second, func(e livekit.Event) bool {
		switch e := e.(type) {
		case livekit.Reconnecting, livekit.Disconnected:
			return true
		case livekit.ConnectionStateChanged:
			return e.State != livekit.StateConnected
		}
		return false
	})
	t.Logf("after the server died: %T%+v", trouble, trouble)
	killedAt := time.Now()
	gone := waitFor[livekit.Disconnected](t, ev, 120*time.Second, nil)
	t.Logf("disconnected %v after the kill: %v", time.Since(killedAt), gone.Reason)
	select {
	case <-r.Done():
	default:
		t.Error("Done not closed after Disconnected")
	}
	if s := r.ConnectionState(); s != livekit.StateDisconnected {
		t.Errorf("state %v after Disconnected", s)
	}
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close hung after the server died")
	}
	if got := outstanding(t); got != before {
		t.Fatalf("outstanding handles %d, %d before", got, before)
	}
}

func TestRepeatedConnectsLeaveNoHandles(t *testing.T) {
	needEnv(t)
	before := outstanding(t)
	name := roomName(t)
	for i := range 20 {
		r, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, name, fmt.Sprintf("cycle-%d", i)))
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
	}
	if got := outstanding(t); got != before {
		t.Fatalf("outstanding handles %d after 20 cycles, %d before", got, before)
	}
}

func TestSlowHandlerDoesNotBlockOtherRooms(t *testing.T) {
	needEnv(t)
	name := roomName(t)
	release := make(chan struct{})
	slow, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, name, "slow"),
		livekit.WithEventHandler(func(livekit.Event) { <-release }))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	defer close(release)

	// The slow room's handler is stuck on its first event; another room still gets its own,
	// and the slow room's state still moves.
	ev := newEvents()
	fast, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, name, "fast"), livekit.WithEventHandler(ev.handle))
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	waitFor[livekit.TokenRefreshed](t, ev, 10*time.Second, nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if slow.RemoteParticipant("fast") != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow room's state did not see the new participant")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The local minter's tokens carry every claim a join can use; the real server must accept them
// and the participant must come out with those values.
func TestMintedTokenWithAllClaimsIsAccepted(t *testing.T) {
	needEnv(t)
	opts := tokensource.Options{
		RoomName:              roomName(t),
		ParticipantIdentity:   "full",
		ParticipantName:       "Full Claims",
		ParticipantMetadata:   `{"role":"tester"}`,
		ParticipantAttributes: map[string]string{"team": "blue", "level": "3"},
		AgentName:             "helper-agent",
		AgentMetadata:         "agent-meta",
	}
	tok, err := env.Minter.Mint(opts)
	if err != nil {
		t.Fatal(err)
	}
	r, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), tok)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	lp := r.LocalParticipant().Info()
	if lp.Identity != opts.ParticipantIdentity || lp.Name != opts.ParticipantName || lp.Metadata != opts.ParticipantMetadata {
		t.Errorf("local participant %+v", lp)
	}
	if lp.Attributes["team"] != "blue" || lp.Attributes["level"] != "3" {
		t.Errorf("attributes %v", lp.Attributes)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader on different goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRoomDroppedWithoutCloseIsReleased(t *testing.T) {
	needEnv(t)
	before := outstanding(t)
	var logs syncBuffer
	func() {
		r, err := livekit.Connect(ctxFor(t, 30*time.Second), env.Server.URL(), mint(t, roomName(t), "forgotten"),
			livekit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		if err != nil {
			t.Fatal(err)
		}
		if r.LocalParticipant().Identity() != "forgotten" {
			t.Fatal("joined as someone else")
		}
	}() // r is unreachable from here on
	deadline := time.Now().Add(20 * time.Second)
	for outstanding(t) != before {
		if time.Now().After(deadline) {
			t.Fatalf("outstanding handles %d, %d before: the safety net did not release the room", outstanding(t), before)
		}
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "Room was not closed") {
		t.Fatalf("the safety net did not warn; log: %q", logs.String())
	}
}
