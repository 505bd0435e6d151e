package tokensource

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Cache defaults.
const (
	// DefaultLeeway is how long before its exp a cached token stops being
	// served.
	DefaultLeeway = 60 * time.Second
	// DefaultCacheFetchTimeout bounds a shared upstream fetch, which runs
	// detached from any one caller's cancellation.
	DefaultCacheFetchTimeout = 30 * time.Second
	// DefaultMaxEntries bounds the number of distinct Options kept.
	DefaultMaxEntries = 64
)

// Cache is a Configurable source that remembers the inner source's response
// per distinct Options and serves it again while its token is valid. It is
// safe for concurrent use.
//
//   - A cached response is served only for equal Options (compared by value,
//     attributes by content) and only while its token parses, has an exp
//     further away than the leeway and no nbf in the future. Tokens without
//     exp, or that do not parse (opaque tokens), are passed through but never
//     served from the cache.
//   - Concurrent fetches of the same uncached Options share one inner fetch;
//     fetches of different Options run in parallel. No lock is held while the
//     inner source runs.
//   - The shared fetch runs with a context that keeps the first caller's
//     values but not its cancellation, bounded by the fetch timeout. A caller
//     whose context ends gets ctx.Err() at once; the fetch goes on for the
//     others and its result is cached.
//   - A failed fetch returns its error to everyone waiting on it and leaves
//     any previously cached response in place.
//   - At most DefaultMaxEntries (WithMaxEntries) distinct Options are kept;
//     beyond that the least recently used entry is dropped.
type Cache struct {
	inner        Configurable
	leeway       int64 // nanoseconds
	now          func() time.Time
	fetchTimeout time.Duration
	maxEntries   int

	// index is replaced, never modified, so the hit path reads it without a
	// lock. Writers hold mu.
	index atomic.Pointer[cacheIndex]
	// mru is the entry last found through the index: checking it first
	// skips hashing the options in the common one-room case.
	mru   atomic.Pointer[entry]
	mu    sync.Mutex
	count int
}

// cacheIndex maps the string fields of Options to the entries that share
// them; attributes tell those apart.
type cacheIndex map[stringKey][]*entry

type stringKey struct {
	room, name, identity, metadata, agentName, agentMetadata, agentDeployment string
}

func keyOf(o *Options) stringKey {
	return stringKey{o.RoomName, o.ParticipantName, o.ParticipantIdentity, o.ParticipantMetadata,
		o.AgentName, o.AgentMetadata, o.AgentDeployment}
}

type entry struct {
	key   stringKey
	attrs []attr  // sorted copy of the attributes
	opts  Options // private copy handed to the inner source

	state    atomic.Pointer[cached] // nil until a fetch succeeds
	lastUsed atomic.Int64           // unix nanoseconds, for LRU eviction

	gone atomic.Bool // set once removed from the index, for the mru check

	// Guarded by Cache.mu.
	inflight *call
	removed  bool
}

type attr struct{ k, v string }

// cached is an immutable stored response with its token's validity window,
// parsed once when stored.
type cached struct {
	resp     Response
	cachable bool  // token parsed and has exp
	nbf, exp int64 // unix nanoseconds; nbf 0 when absent
}

type call struct {
	done chan struct{}
	resp Response
	err  error
}

// CacheOption configures NewCache.
type CacheOption func(*Cache)

// WithLeeway sets how long before its exp a cached token stops being served
// (default DefaultLeeway). A negative leeway counts as zero: a token is never
// served past its exp.
func WithLeeway(d time.Duration) CacheOption { return func(c *Cache) { c.leeway = int64(max(d, 0)) } }

// WithClock sets the clock used for validity checks (for tests).
func WithClock(now func() time.Time) CacheOption { return func(c *Cache) { c.now = now } }

// WithFetchTimeout bounds each shared inner fetch (default
// DefaultCacheFetchTimeout); zero or negative means unbounded.
func WithFetchTimeout(d time.Duration) CacheOption { return func(c *Cache) { c.fetchTimeout = d } }

// WithMaxEntries bounds the number of distinct Options cached (default
// DefaultMaxEntries, minimum 1).
func WithMaxEntries(n int) CacheOption { return func(c *Cache) { c.maxEntries = max(n, 1) } }

// NewCache wraps inner in a cache.
func NewCache(inner Configurable, opts ...CacheOption) *Cache {
	c := &Cache{
		inner:        inner,
		leeway:       int64(DefaultLeeway),
		now:          time.Now,
		fetchTimeout: DefaultCacheFetchTimeout,
		maxEntries:   DefaultMaxEntries,
	}
	c.index.Store(&cacheIndex{})
	for _, o := range opts {
		o(c)
	}
	return c
}

// matches reports whether e is for attributes m, without iterating m (map
// iteration costs more than the lookups).
func (e *entry) matches(m map[string]string) bool {
	if len(m) != len(e.attrs) {
		return false
	}
	for _, a := range e.attrs {
		if v, ok := m[a.k]; !ok || v != a.v {
			return false
		}
	}
	return true
}

// find returns the entry for o in the current index, or nil. No lock needed.
func (c *Cache) find(o *Options) *entry {
	key := keyOf(o)
	if e := c.mru.Load(); e != nil && e.key == key && e.matches(o.ParticipantAttributes) && !e.gone.Load() {
		return e
	}
	for _, e := range (*c.index.Load())[key] {
		if e.matches(o.ParticipantAttributes) {
			if c.mru.Load() != e {
				c.mru.Store(e)
			}
			return e
		}
	}
	return nil
}

// fresh reports whether s may be served at now.
func (s *cached) fresh(now, leeway int64) bool {
	return s != nil && s.cachable && now >= s.nbf && now+leeway < s.exp
}

// touch records a use for LRU eviction, writing only when the stamp is more
// than a millisecond old so that parallel hits do not fight over the line.
func (e *entry) touch(now int64) {
	if now-e.lastUsed.Load() > int64(time.Millisecond) {
		e.lastUsed.Store(now)
	}
}

// Fetch returns the cached response for opts if it is still valid, and
// otherwise fetches from the inner source (sharing the fetch with concurrent
// callers asking for equal options).
func (c *Cache) Fetch(ctx context.Context, opts Options) (Response, error) {
	now := c.now().UnixNano()
	if e := c.find(&opts); e != nil {
		if s := e.state.Load(); s.fresh(now, c.leeway) {
			e.touch(now)
			return s.resp, nil
		}
	}

	c.mu.Lock()
	e := c.find(&opts)
	if e != nil {
		if s := e.state.Load(); s.fresh(now, c.leeway) { // stored while we took the lock
			c.mu.Unlock()
			e.touch(now)
			return s.resp, nil
		}
	} else {
		e = c.insert(opts, now)
	}
	cl := e.inflight
	if cl == nil {
		cl = &call{done: make(chan struct{})}
		e.inflight = cl
		go c.run(context.WithoutCancel(ctx), e, cl)
	}
	c.mu.Unlock()

	select {
	case <-cl.done:
		return cl.resp, cl.err
	case <-ctx.Done():
		return Response{}, ctx.Err()
	}
}

// run performs one shared inner fetch and publishes its result.
func (c *Cache) run(ctx context.Context, e *entry, cl *call) {
	if c.fetchTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.fetchTimeout)
		defer cancel()
	}
	resp, err := c.fetchInner(ctx, e.opts.clone())
	if err == nil {
		err = resp.Validate()
	}
	var s *cached
	if err == nil {
		s = &cached{resp: resp}
		s.cachable, s.nbf, s.exp = expiry(resp.ParticipantToken)
	} else {
		resp = Response{}
	}

	c.mu.Lock()
	e.inflight = nil
	if !e.removed {
		if s != nil {
			e.state.Store(s)
		} else if e.state.Load() == nil {
			c.remove(e) // nothing to keep
		}
	}
	c.mu.Unlock()

	cl.resp, cl.err = resp, err
	close(cl.done)
}

// fetchInner turns a panic in the inner source into an error, so callers
// waiting on a shared fetch are not left hanging.
func (c *Cache) fetchInner(ctx context.Context, opts Options) (resp Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			resp, err = Response{}, fmt.Errorf("tokensource: inner source panicked: %v", p)
		}
	}()
	return c.inner.Fetch(ctx, opts)
}

// expiry parses a token once, when it is stored, so the hit path only
// compares integers.
func expiry(token string) (ok bool, nbf, exp int64) {
	cl, err := Parse(token)
	if err != nil || cl.ExpiresAt.IsZero() {
		return false, 0, 0
	}
	if !cl.NotBefore.IsZero() {
		nbf = cl.NotBefore.UnixNano()
	}
	return true, nbf, cl.ExpiresAt.UnixNano()
}

// insert publishes a new entry for opts, first evicting the least recently
// used idle entry when full. Caller holds mu.
func (c *Cache) insert(opts Options, now int64) *entry {
	if c.count >= c.maxEntries {
		var victim *entry
		for _, bucket := range *c.index.Load() {
			for _, e := range bucket {
				if e.inflight == nil && (victim == nil || e.lastUsed.Load() < victim.lastUsed.Load()) {
					victim = e
				}
			}
		}
		if victim != nil { // if all are busy, exceed the bound until one finishes
			c.remove(victim)
		}
	}
	e := &entry{key: keyOf(&opts), opts: opts.clone()}
	for k, v := range opts.ParticipantAttributes {
		e.attrs = append(e.attrs, attr{k, v})
	}
	slices.SortFunc(e.attrs, func(a, b attr) int { return strings.Compare(a.k, b.k) })
	e.lastUsed.Store(now)

	next := maps.Clone(*c.index.Load())
	next[e.key] = append(slices.Clip(next[e.key]), e)
	c.index.Store(&next)
	c.count++
	return e
}

// remove unpublishes e. Caller holds mu.
func (c *Cache) remove(e *entry) {
	cur := *c.index.Load()
	bucket := cur[e.key]
	i := slices.Index(bucket, e)
	if i < 0 {
		return
	}
	next := maps.Clone(cur)
	if len(bucket) == 1 {
		delete(next, e.key)
	} else {
		next[e.key] = slices.Delete(slices.Clone(bucket), i, i+1)
	}
	c.index.Store(&next)
	e.removed = true
	e.gone.Store(true)
	c.count--
}

// Invalidate drops every cached response. Fetches already running still
// answer their callers but are not cached, so the next Fetch asks the inner
// source again.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, bucket := range *c.index.Load() {
		for _, e := range bucket {
			e.removed = true
			e.gone.Store(true)
		}
	}
	c.index.Store(&cacheIndex{})
	c.mru.Store(nil)
	c.count = 0
}

// Cached returns the response Fetch would serve for opts without fetching:
// ok is false when nothing valid is cached for opts.
func (c *Cache) Cached(opts Options) (Response, bool) {
	now := c.now().UnixNano()
	if e := c.find(&opts); e != nil {
		if s := e.state.Load(); s.fresh(now, c.leeway) {
			return s.resp, true
		}
	}
	return Response{}, false
}

// Len returns the number of distinct Options with a cached response or a
// fetch in flight.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

// UpdateToken replaces the cached token for opts with token, typically a
// token the LiveKit server pushed to a room joined with these options, so a
// later connect reuses it. The server URL and the other response fields stay.
// It reports whether the token was taken: there must be a cached response for
// opts, and token must parse, carry an exp, and expire no earlier than the
// cached one (a cached token that is unparseable or has no exp is always
// replaced). An equal exp is taken: the server's first refresh, right after
// join, often keeps the original expiry while carrying newer claims (a changed
// name or metadata).
func (c *Cache) UpdateToken(opts Options, token string) bool {
	ok, nbf, exp := expiry(token)
	if !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.find(&opts)
	if e == nil {
		return false
	}
	old := e.state.Load()
	if old == nil || old.resp.ParticipantToken == token || (old.cachable && exp < old.exp) {
		return false
	}
	resp := old.resp
	resp.ParticipantToken = token
	e.state.Store(&cached{resp: resp, cachable: true, nbf: nbf, exp: exp})
	return true
}
