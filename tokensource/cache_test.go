package tokensource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingSource returns a fresh token for each call (token i has sub
// "call-i") and counts calls. Its validity comes from exp.
type countingSource struct {
	t     testing.TB
	clock *fakeClock
	exp   time.Duration // token lifetime from the fake now
	calls atomic.Int32
	fail  atomic.Pointer[error]
}

func (s *countingSource) Fetch(ctx context.Context, o Options) (Response, error) {
	n := s.calls.Add(1)
	if e := s.fail.Load(); e != nil {
		return Response{}, *e
	}
	tok := makeToken(s.t, map[string]any{"sub": fmt.Sprintf("call-%d", n), "exp": s.clock.Now().Add(s.exp).Unix()})
	return Response{ServerURL: "wss://s", ParticipantToken: tok, RoomName: o.RoomName}, nil
}

func newCounting(t testing.TB) (*countingSource, *fakeClock) {
	clk := newFakeClock()
	return &countingSource{t: t, clock: clk, exp: time.Hour}, clk
}

func mustFetch(t *testing.T, c *Cache, o Options) Response {
	t.Helper()
	r, err := c.Fetch(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCacheHitForEqualOptions(t *testing.T) {
	src, clk := newCounting(t)
	c := NewCache(src, WithClock(clk.Now))
	o := Options{RoomName: "r", ParticipantAttributes: map[string]string{"a": "1", "b": "2"}}
	r1 := mustFetch(t, c, o)
	// Equal by value: a different map with the same content is a hit.
	r2 := mustFetch(t, c, Options{RoomName: "r", ParticipantAttributes: map[string]string{"b": "2", "a": "1"}})
	if src.calls.Load() != 1 || r1 != r2 {
		t.Errorf("%d calls; equal options by value should hit", src.calls.Load())
	}
	// nil and empty attributes are the same request on the wire.
	mustFetch(t, c, Options{RoomName: "x"})
	mustFetch(t, c, Options{RoomName: "x", ParticipantAttributes: map[string]string{}})
	if src.calls.Load() != 2 {
		t.Errorf("%d calls; nil and empty attributes should share an entry", src.calls.Load())
	}
}

func TestCacheMissOnAnyOptionChange(t *testing.T) {
	base := Options{RoomName: "r", ParticipantName: "n", ParticipantIdentity: "i", ParticipantMetadata: "m",
		ParticipantAttributes: map[string]string{"k": "v"}, AgentName: "a", AgentMetadata: "am", AgentDeployment: "d"}
	changes := map[string]func(*Options){
		"RoomName":                 func(o *Options) { o.RoomName = "r2" },
		"ParticipantName":          func(o *Options) { o.ParticipantName = "n2" },
		"ParticipantIdentity":      func(o *Options) { o.ParticipantIdentity = "i2" },
		"ParticipantMetadata":      func(o *Options) { o.ParticipantMetadata = "m2" },
		"attribute value":          func(o *Options) { o.ParticipantAttributes = map[string]string{"k": "v2"} },
		"attribute added":          func(o *Options) { o.ParticipantAttributes = map[string]string{"k": "v", "k2": "v"} },
		"attributes removed":       func(o *Options) { o.ParticipantAttributes = nil },
		"AgentName":                func(o *Options) { o.AgentName = "a2" },
		"AgentMetadata":            func(o *Options) { o.AgentMetadata = "am2" },
		"AgentDeployment":          func(o *Options) { o.AgentDeployment = "d2" },
		"field boundary moved":     func(o *Options) { o.RoomName, o.ParticipantName = "rn", "" },
		"attribute key/value swap": func(o *Options) { o.ParticipantAttributes = map[string]string{"v": "k"} },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			src, clk := newCounting(t)
			c := NewCache(src, WithClock(clk.Now))
			mustFetch(t, c, base)
			o := base.clone()
			change(&o)
			r := mustFetch(t, c, o)
			if src.calls.Load() != 2 {
				t.Fatalf("changing %s still hit the cache", name)
			}
			if cl, _ := Parse(r.ParticipantToken); cl.Identity != "call-2" {
				t.Errorf("got the other options' token %q", cl.Identity)
			}
			// Both entries are kept.
			mustFetch(t, c, base)
			mustFetch(t, c, o)
			if src.calls.Load() != 2 || c.Len() != 2 {
				t.Errorf("%d calls, %d entries", src.calls.Load(), c.Len())
			}
		})
	}
}

func TestCacheKeyIsCopied(t *testing.T) {
	src, clk := newCounting(t)
	c := NewCache(src, WithClock(clk.Now))
	attrs := map[string]string{"k": "v"}
	mustFetch(t, c, Options{ParticipantAttributes: attrs})
	attrs["k"] = "changed" // the caller reuses its map
	mustFetch(t, c, Options{ParticipantAttributes: map[string]string{"k": "changed"}})
	if src.calls.Load() != 2 {
		t.Errorf("mutating the caller's map changed the cached key")
	}
	if _, ok := c.Cached(Options{ParticipantAttributes: map[string]string{"k": "v"}}); !ok {
		t.Error("the original entry should still be found under its original attributes")
	}
}

func TestCacheValidity(t *testing.T) {
	tests := []struct {
		name   string
		claims func(now time.Time) map[string]any // nil: opaque token
		leeway time.Duration
		hit    bool
	}{
		{"valid", func(n time.Time) map[string]any { return map[string]any{"exp": n.Add(time.Hour).Unix()} }, DefaultLeeway, true},
		{"exp beyond leeway", func(n time.Time) map[string]any { return map[string]any{"exp": n.Add(61 * time.Second).Unix()} }, DefaultLeeway, true},
		{"exp within 60 s leeway", func(n time.Time) map[string]any { return map[string]any{"exp": n.Add(59 * time.Second).Unix()} }, DefaultLeeway, false},
		{"exp exactly at leeway", func(n time.Time) map[string]any { return map[string]any{"exp": n.Add(60 * time.Second).Unix()} }, DefaultLeeway, false},
		{"leeway is configurable", func(n time.Time) map[string]any { return map[string]any{"exp": n.Add(30 * time.Second).Unix()} }, 10 * time.Second, true},
		{"expired", func(n time.Time) map[string]any { return map[string]any{"exp": n.Add(-time.Second).Unix()} }, DefaultLeeway, false},
		{"negative leeway never serves past exp", func(n time.Time) map[string]any { return map[string]any{"exp": n.Add(-time.Second).Unix()} }, -time.Hour, false},
		{"no exp is never cached", func(n time.Time) map[string]any { return map[string]any{"sub": "x"} }, DefaultLeeway, false},
		{"nbf in the future", func(n time.Time) map[string]any {
			return map[string]any{"nbf": n.Add(10 * time.Second).Unix(), "exp": n.Add(time.Hour).Unix()}
		}, DefaultLeeway, false},
		{"nbf now", func(n time.Time) map[string]any {
			return map[string]any{"nbf": n.Unix(), "exp": n.Add(time.Hour).Unix()}
		}, DefaultLeeway, true},
		{"unparseable token is never cached", nil, DefaultLeeway, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			var calls atomic.Int32
			src := Custom(func(ctx context.Context, o Options) (Response, error) {
				calls.Add(1)
				tok := "opaque-token"
				if tt.claims != nil {
					tok = makeToken(t, tt.claims(clk.Now()))
				}
				return Response{ServerURL: "wss://s", ParticipantToken: tok}, nil
			})
			c := NewCache(src, WithClock(clk.Now), WithLeeway(tt.leeway))
			for range 2 {
				// Never an error, even for tokens that cannot be cached.
				if _, err := c.Fetch(context.Background(), Options{}); err != nil {
					t.Fatal(err)
				}
			}
			want := int32(2)
			if tt.hit {
				want = 1
			}
			if calls.Load() != want {
				t.Errorf("%d upstream calls, want %d", calls.Load(), want)
			}
			if _, ok := c.Cached(Options{}); ok != tt.hit {
				t.Errorf("Cached ok = %v, want %v", ok, tt.hit)
			}
		})
	}
}

func TestCacheRefetchesAfterExpiry(t *testing.T) {
	src, clk := newCounting(t)
	c := NewCache(src, WithClock(clk.Now))
	mustFetch(t, c, Options{})
	clk.Advance(time.Hour - 61*time.Second)
	mustFetch(t, c, Options{})
	if src.calls.Load() != 1 {
		t.Fatal("refetched while still valid")
	}
	clk.Advance(2 * time.Second) // now within the leeway
	r := mustFetch(t, c, Options{})
	if cl, _ := Parse(r.ParticipantToken); src.calls.Load() != 2 || cl.Identity != "call-2" {
		t.Errorf("did not refetch within the leeway")
	}
}

func TestCacheFailureKeepsOldEntry(t *testing.T) {
	src, clk := newCounting(t)
	c := NewCache(src, WithClock(clk.Now))
	a, b := Options{RoomName: "a"}, Options{RoomName: "b"}
	ra := mustFetch(t, c, a)

	boom := errors.New("upstream down")
	src.fail.Store(&boom)
	// A failure for other options returns the error and does not disturb a.
	if _, err := c.Fetch(context.Background(), b); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if got := mustFetch(t, c, a); got != ra {
		t.Error("entry for a lost after b failed")
	}
	// b never gets a's token (JS's stale-options bug).
	if _, ok := c.Cached(b); ok {
		t.Error("b has a cached response after a failed fetch")
	}

	// A failed refresh of a stale entry returns the error and keeps the entry.
	clk.Advance(time.Hour)
	if _, err := c.Fetch(context.Background(), a); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	clk.Advance(-time.Hour)
	if got, ok := c.Cached(a); !ok || got != ra {
		t.Error("old entry dropped by a failed fetch")
	}
	if c.Len() != 1 {
		t.Errorf("Len = %d: failed fetches should leave no empty entries", c.Len())
	}
	src.fail.Store(nil)
}

func TestCacheRejectsEmptyResponse(t *testing.T) {
	c := NewCache(Custom(func(ctx context.Context, o Options) (Response, error) {
		return Response{ServerURL: "wss://s"}, nil
	}))
	if _, err := c.Fetch(context.Background(), Options{}); !errors.Is(err, ErrNoToken) {
		t.Errorf("err = %v", err)
	}
	// A source not from this package that returns an empty token is caught too.
	c = NewCache(rawSource{})
	if _, err := c.Fetch(context.Background(), Options{}); !errors.Is(err, ErrNoServerURL) {
		t.Errorf("err = %v", err)
	}
}

type rawSource struct{}

func (rawSource) Fetch(context.Context, Options) (Response, error) { return Response{}, nil }

func TestCacheInvalidate(t *testing.T) {
	src, clk := newCounting(t)
	c := NewCache(src, WithClock(clk.Now))
	mustFetch(t, c, Options{RoomName: "a"})
	mustFetch(t, c, Options{RoomName: "b"})
	c.Invalidate()
	if _, ok := c.Cached(Options{RoomName: "a"}); ok || c.Len() != 0 {
		t.Error("Cached after Invalidate")
	}
	mustFetch(t, c, Options{RoomName: "a"})
	if src.calls.Load() != 3 {
		t.Errorf("%d calls: Invalidate should force a refetch", src.calls.Load())
	}
}

func TestCacheInvalidateDuringFetch(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	var calls atomic.Int32
	c := NewCache(Custom(func(ctx context.Context, o Options) (Response, error) {
		n := calls.Add(1)
		started <- struct{}{}
		if n == 1 {
			<-release
		}
		return Response{ServerURL: "wss://s", ParticipantToken: tokenExp(t, time.Now().Add(time.Hour))}, nil
	}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := c.Fetch(context.Background(), Options{}); err != nil {
			t.Error(err)
		}
	}()
	<-started
	c.Invalidate()
	close(release)
	waitOrFail(t, done, "in-flight fetch")
	if _, ok := c.Cached(Options{}); ok {
		t.Error("a fetch started before Invalidate repopulated the cache")
	}
	mustFetch(t, c, Options{})
	if calls.Load() != 2 {
		t.Errorf("%d calls", calls.Load())
	}
}

func TestCacheCached(t *testing.T) {
	src, clk := newCounting(t)
	c := NewCache(src, WithClock(clk.Now))
	if _, ok := c.Cached(Options{}); ok {
		t.Error("Cached before any fetch")
	}
	r := mustFetch(t, c, Options{})
	if got, ok := c.Cached(Options{}); !ok || got != r {
		t.Errorf("Cached = %v, %v", got, ok)
	}
	if _, ok := c.Cached(Options{RoomName: "other"}); ok {
		t.Error("Cached for other options")
	}
	if src.calls.Load() != 1 {
		t.Error("Cached fetched")
	}
}

func TestCacheUpdateToken(t *testing.T) {
	src, clk := newCounting(t)
	c := NewCache(src, WithClock(clk.Now))
	o := Options{RoomName: "r", ParticipantAttributes: map[string]string{"k": "v"}}

	newer := makeToken(t, map[string]any{"sub": "refreshed", "exp": clk.Now().Add(2 * time.Hour).Unix()})
	if c.UpdateToken(o, newer) {
		t.Error("UpdateToken without a cached entry should refuse: no server URL to keep")
	}
	orig := mustFetch(t, c, o)

	older := makeToken(t, map[string]any{"sub": "older", "exp": clk.Now().Add(30 * time.Minute).Unix()})
	same := makeToken(t, map[string]any{"sub": "same", "exp": clk.Now().Add(time.Hour).Unix()})
	noExp := makeToken(t, map[string]any{"sub": "noexp"})
	for name, tok := range map[string]string{"older": older, "the cached": orig.ParticipantToken, "no exp": noExp, "opaque": "opaque", "empty": ""} {
		if c.UpdateToken(o, tok) {
			t.Errorf("UpdateToken accepted a %s token", name)
		}
	}
	// Same expiry, new claims: what the server sends right after join.
	if !c.UpdateToken(o, same) {
		t.Fatal("UpdateToken refused a token with the same exp")
	}
	if got, _ := c.Cached(o); got.ParticipantToken != same {
		t.Fatal("same-exp token not cached")
	}
	if c.UpdateToken(Options{RoomName: "r"}, newer) {
		t.Error("UpdateToken for different options")
	}
	if !c.UpdateToken(Options{RoomName: "r", ParticipantAttributes: map[string]string{"k": "v"}}, newer) {
		t.Fatal("UpdateToken refused a newer token")
	}
	got, ok := c.Cached(o)
	want := orig
	want.ParticipantToken = newer
	if !ok || got != want {
		t.Errorf("Cached = %v, want %v", got, want)
	}
	// The refreshed token outlives the original one.
	clk.Advance(90 * time.Minute)
	if r := mustFetch(t, c, o); r.ParticipantToken != newer || src.calls.Load() != 1 {
		t.Errorf("refreshed token not served (calls %d)", src.calls.Load())
	}
}

func TestCacheUpdateTokenReplacesUncachableToken(t *testing.T) {
	c := NewCache(Custom(func(ctx context.Context, o Options) (Response, error) {
		return Response{ServerURL: "wss://s", ParticipantToken: "opaque"}, nil
	}))
	mustFetch(t, c, Options{})
	tok := tokenExp(t, time.Now().Add(time.Hour))
	if !c.UpdateToken(Options{}, tok) {
		t.Fatal("a parseable token should replace an opaque one")
	}
	if r, ok := c.Cached(Options{}); !ok || r.ParticipantToken != tok || r.ServerURL != "wss://s" {
		t.Errorf("Cached = %v %v", r, ok)
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	src, clk := newCounting(t)
	c := NewCache(src, WithClock(clk.Now), WithMaxEntries(3))
	for _, r := range []string{"a", "b", "c"} {
		mustFetch(t, c, Options{RoomName: r})
		clk.Advance(time.Second)
	}
	mustFetch(t, c, Options{RoomName: "a"}) // a is now the most recent; b the least
	clk.Advance(time.Second)
	mustFetch(t, c, Options{RoomName: "d"})
	if c.Len() != 3 {
		t.Errorf("Len = %d, want 3", c.Len())
	}
	for r, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, ok := c.Cached(Options{RoomName: r}); ok != want {
			t.Errorf("Cached(%s) = %v, want %v", r, ok, want)
		}
	}
	if NewCache(src).maxEntries != DefaultMaxEntries {
		t.Error("default bound")
	}
}

func TestCacheEntriesSharingStringFields(t *testing.T) {
	// Entries that differ only in attributes are distinct; dropping any of
	// them leaves the others.
	src, clk := newCounting(t)
	c := NewCache(src, WithClock(clk.Now))
	opts := []Options{
		{RoomName: "r"},
		{RoomName: "r", ParticipantAttributes: map[string]string{"a": "1"}},
		{RoomName: "r", ParticipantAttributes: map[string]string{"a": "2"}},
		{RoomName: "r", ParticipantAttributes: map[string]string{"a": "1", "b": "1"}},
		{RoomName: "r", ParticipantAttributes: map[string]string{"1": "a"}},
	}
	for _, o := range opts {
		mustFetch(t, c, o)
	}
	if c.Len() != len(opts) || src.calls.Load() != int32(len(opts)) {
		t.Fatalf("%d entries after %d calls", c.Len(), src.calls.Load())
	}
	for i := range opts {
		c.InvalidateOptions(opts[i])
		for j, o := range opts {
			if _, ok := c.Cached(o); ok != (j > i) {
				t.Errorf("after dropping %d: Cached(%d) = %v", i, j, ok)
			}
		}
	}
	if c.Len() != 0 {
		t.Errorf("Len = %d", c.Len())
	}
}

func TestCacheAttributeHashCollisionIsAMiss(t *testing.T) {
	// Plant an entry for other attributes under b's key, as a hash collision
	// would: b must not get its token, and must not evict it.
	src, clk := newCounting(t)
	c := NewCache(src, WithClock(clk.Now))
	a := Options{RoomName: "r", ParticipantAttributes: map[string]string{"k": "a"}}
	b := Options{RoomName: "r", ParticipantAttributes: map[string]string{"k": "b"}}
	ra := mustFetch(t, c, a)
	c.mu.Lock()
	planted := c.entries[keyOf(&a)]
	delete(c.entries, keyOf(&a))
	c.entries[keyOf(&b)] = planted
	c.mu.Unlock()

	rb := mustFetch(t, c, b)
	if rb.ParticipantToken == ra.ParticipantToken || src.calls.Load() != 2 {
		t.Fatalf("colliding options served the other entry's token (%d calls)", src.calls.Load())
	}
	if _, ok := c.Cached(b); ok {
		t.Error("Cached served the colliding entry")
	}
	c.mu.Lock()
	still := c.entries[keyOf(&b)] == planted
	c.mu.Unlock()
	if !still {
		t.Error("the colliding fetch replaced the other entry")
	}
}

func TestCacheInvalidateOptions(t *testing.T) {
	src, clk := newCounting(t)
	c := NewCache(src, WithClock(clk.Now))
	a, b := Options{RoomName: "a"}, Options{RoomName: "b"}
	mustFetch(t, c, a)
	mustFetch(t, c, b)
	c.InvalidateOptions(a)
	c.InvalidateOptions(Options{RoomName: "unknown"}) // no entry: no-op
	if _, ok := c.Cached(a); ok {
		t.Error("a still cached")
	}
	if _, ok := c.Cached(b); !ok {
		t.Error("b dropped too")
	}
	mustFetch(t, c, a)
	if src.calls.Load() != 3 {
		t.Errorf("%d calls, want a fetched again", src.calls.Load())
	}
}

func TestCacheInnerPanicBecomesError(t *testing.T) {
	c := NewCache(Custom(func(ctx context.Context, o Options) (Response, error) { panic("boom") }))
	if _, err := c.Fetch(context.Background(), Options{}); err == nil {
		t.Error("no error from a panicking source")
	}
}

func TestCacheHitDoesNotAllocate(t *testing.T) {
	// Zero allocations also proves the hit path does not decode the JWT again.
	src, clk := newCounting(t)
	c := NewCache(src, WithClock(clk.Now))
	o := Options{RoomName: "r", ParticipantIdentity: "i", ParticipantAttributes: map[string]string{"a": "1", "b": "2"}}
	mustFetch(t, c, o)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := c.Fetch(ctx, o); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per cache hit", allocs)
	}
}

// --- concurrency ---

func TestCacheCoalescesIdenticalColdFetches(t *testing.T) {
	const n = 1000
	release := make(chan struct{})
	var calls atomic.Int32
	tok := tokenExp(t, time.Now().Add(time.Hour))
	c := NewCache(Custom(func(ctx context.Context, o Options) (Response, error) {
		calls.Add(1)
		<-release
		return Response{ServerURL: "wss://s", ParticipantToken: tok}, nil
	}))
	o := Options{RoomName: "r", ParticipantAttributes: map[string]string{"k": "v"}}
	var wg sync.WaitGroup
	var ok, entered atomic.Int32
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each goroutine builds its own options value and map.
			oo := Options{RoomName: o.RoomName, ParticipantAttributes: map[string]string{"k": "v"}}
			if entered.Add(1) == n {
				close(release) // the last one lets the shared fetch finish
			}
			if r, err := c.Fetch(context.Background(), oo); err == nil && r.ParticipantToken == tok {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if calls.Load() != 1 || ok.Load() != n {
		t.Errorf("%d upstream calls (want 1), %d/%d callers got the token", calls.Load(), ok.Load(), n)
	}
}

func TestCacheDistinctOptionsRunInParallel(t *testing.T) {
	const n = 8
	var inflight, maxInflight atomic.Int32
	allIn := make(chan struct{})
	var arrived atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		cur := inflight.Add(1)
		for {
			m := maxInflight.Load()
			if cur <= m || maxInflight.CompareAndSwap(m, cur) {
				break
			}
		}
		if arrived.Add(1) == n {
			close(allIn)
		}
		// A 200 ms endpoint; waiting for the others (bounded) makes the overlap
		// deterministic when they do run in parallel, without a timing assertion.
		select {
		case <-allIn:
		case <-time.After(3 * time.Second):
		}
		time.Sleep(200 * time.Millisecond)
		inflight.Add(-1)
		fmt.Fprintf(w, `{"server_url":"wss://s","participant_token":%q}`, tokenExp(t, time.Now().Add(time.Hour)))
	}))
	defer srv.Close()
	e, _ := NewEndpoint(srv.URL)
	c := NewCache(e)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Fetch(context.Background(), Options{RoomName: fmt.Sprint("room-", i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := maxInflight.Load(); got != n {
		t.Errorf("max concurrent upstream calls %d, want %d", got, n)
	}
	if c.Len() != n {
		t.Errorf("Len = %d", c.Len())
	}
}

type ctxKey struct{}

func TestCacheCallerCancellationEndsOnlyItsWait(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	var calls atomic.Int32
	var innerErr atomic.Value
	var innerVal atomic.Value
	tok := tokenExp(t, time.Now().Add(time.Hour))
	c := NewCache(Custom(func(ctx context.Context, o Options) (Response, error) {
		calls.Add(1)
		innerVal.Store(fmt.Sprint(ctx.Value(ctxKey{})))
		close(started)
		<-release
		innerErr.Store(fmt.Sprint(ctx.Err()))
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the shared fetch should run under the cache's own timeout")
		}
		return Response{ServerURL: "wss://s", ParticipantToken: tok}, nil
	}))

	ctxA, cancelA := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "from-A"))
	errA := make(chan error, 1)
	go func() {
		_, err := c.Fetch(ctxA, Options{})
		errA <- err
	}()
	<-started

	resB := make(chan Response, 1)
	go func() {
		r, err := c.Fetch(context.Background(), Options{})
		if err != nil {
			t.Error(err)
		}
		resB <- r
	}()

	cancelA()
	select {
	case err := <-errA:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("A: err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("A's cancellation did not end its wait while the fetch was in flight")
	}

	close(release)
	select {
	case r := <-resB:
		if r.ParticipantToken != tok {
			t.Errorf("B got %v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("B never got the shared result")
	}
	if got := innerErr.Load(); got != "<nil>" {
		t.Errorf("the shared fetch saw ctx.Err() = %v after A cancelled", got)
	}
	if got := innerVal.Load(); got != "from-A" {
		t.Errorf("the shared fetch lost the caller's context values: %v", got)
	}
	if calls.Load() != 1 {
		t.Errorf("%d upstream calls, want 1 shared call", calls.Load())
	}
	if _, ok := c.Cached(Options{}); !ok {
		t.Error("the result of the shared fetch was not cached after A left")
	}
}

func TestCacheSlowFetchBlocksNoOne(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	tok := tokenExp(t, time.Now().Add(time.Hour))
	c := NewCache(Custom(func(ctx context.Context, o Options) (Response, error) {
		if o.RoomName == "slow" {
			close(started)
			<-release
		}
		return Response{ServerURL: "wss://s", ParticipantToken: tok}, nil
	}))
	slowDone := make(chan struct{})
	go func() {
		defer close(slowDone)
		if _, err := c.Fetch(context.Background(), Options{RoomName: "slow"}); err != nil {
			t.Error(err)
		}
	}()
	<-started

	free := make(chan struct{})
	go func() {
		defer close(free)
		if _, err := c.Fetch(context.Background(), Options{RoomName: "fast"}); err != nil {
			t.Error(err)
		}
		if _, ok := c.Cached(Options{RoomName: "fast"}); !ok {
			t.Error("fast not cached")
		}
		if _, ok := c.Cached(Options{RoomName: "slow"}); ok {
			t.Error("slow cached before its fetch finished")
		}
		c.UpdateToken(Options{RoomName: "fast"}, tok)
		c.Len()
	}()
	// If a lock were held across the slow fetch, this would hang.
	waitOrFail(t, free, "calls made while another fetch is in flight")
	close(release)
	waitOrFail(t, slowDone, "the slow fetch")
}
