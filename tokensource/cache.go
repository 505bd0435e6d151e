package tokensource

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// Cache defaults.
const (
	// DefaultLeeway: a cached token is not served within this long of its exp.
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
	leeway       time.Duration
	now          func() time.Time
	fetchTimeout time.Duration
	maxEntries   int
	seed         maphash.Seed

	mu      sync.RWMutex
	entries map[uint64]*entry // by hash of Options; collisions chain through next
	count   int
	clock   atomic.Uint64 // LRU clock
}

type entry struct {
	key  uint64
	opts Options // private copy
	next *entry

	// Guarded by Cache.mu.
	has      bool
	resp     Response
	cachable bool  // token parsed and has exp
	nbf, exp int64 // unix nanoseconds, parsed once when stored; nbf 0 when absent
	inflight *call
	removed  bool

	lastUsed atomic.Uint64
}

type call struct {
	done chan struct{}
	resp Response
	err  error
}

// CacheOption configures NewCache.
type CacheOption func(*Cache)

// WithLeeway sets how long before its exp a cached token stops being served
// (default DefaultLeeway).
func WithLeeway(d time.Duration) CacheOption { return func(c *Cache) { c.leeway = d } }

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
		leeway:       DefaultLeeway,
		now:          time.Now,
		fetchTimeout: DefaultCacheFetchTimeout,
		maxEntries:   DefaultMaxEntries,
		seed:         maphash.MakeSeed(),
		entries:      make(map[uint64]*entry),
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// hash mixes every field of o. Attributes are combined with addition so
// that map iteration order does not matter. It does not allocate.
func (c *Cache) hash(o *Options) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	for _, s := range [...]string{o.RoomName, o.ParticipantName, o.ParticipantIdentity,
		o.ParticipantMetadata, o.AgentName, o.AgentMetadata, o.AgentDeployment} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	sum := h.Sum64()
	var attrs uint64
	for k, v := range o.ParticipantAttributes {
		h.Reset()
		h.WriteString(k)
		h.WriteByte(0)
		h.WriteString(v)
		attrs += h.Sum64()
	}
	return sum ^ (attrs * 0x9e3779b97f4a7c15)
}

// lookup finds the entry for o. Caller holds mu (read or write).
func (c *Cache) lookup(key uint64, o *Options) *entry {
	for e := c.entries[key]; e != nil; e = e.next {
		if e.opts.Equal(*o) {
			return e
		}
	}
	return nil
}

// fresh reports whether e holds a response Fetch may serve at now. Caller
// holds mu.
func (e *entry) fresh(now time.Time, leeway time.Duration) bool {
	if !e.has || !e.cachable {
		return false
	}
	n := now.UnixNano()
	return n >= e.nbf && n+int64(leeway) < e.exp
}

// Fetch returns the cached response for opts if it is still valid, and
// otherwise fetches from the inner source (sharing the fetch with concurrent
// callers asking for equal options).
func (c *Cache) Fetch(ctx context.Context, opts Options) (Response, error) {
	key := c.hash(&opts)
	now := c.now()

	c.mu.RLock()
	if e := c.lookup(key, &opts); e != nil && e.fresh(now, c.leeway) {
		r := e.resp
		e.lastUsed.Store(c.clock.Add(1))
		c.mu.RUnlock()
		return r, nil
	}
	c.mu.RUnlock()

	c.mu.Lock()
	e := c.lookup(key, &opts)
	if e != nil && e.fresh(now, c.leeway) { // filled while we switched locks
		r := e.resp
		e.lastUsed.Store(c.clock.Add(1))
		c.mu.Unlock()
		return r, nil
	}
	if e == nil {
		e = c.insert(key, opts)
	}
	e.lastUsed.Store(c.clock.Add(1))
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
	var cachable bool
	var nbf, exp int64
	if err == nil {
		cachable, nbf, exp = expiry(resp.ParticipantToken)
	} else {
		resp = Response{}
	}

	c.mu.Lock()
	e.inflight = nil
	if !e.removed {
		if err == nil {
			e.has, e.resp, e.cachable, e.nbf, e.exp = true, resp, cachable, nbf, exp
		} else if !e.has {
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

// insert adds an empty entry for opts, evicting the least recently used idle
// entry when full. Caller holds mu for writing.
func (c *Cache) insert(key uint64, opts Options) *entry {
	if c.count >= c.maxEntries {
		var victim *entry
		for _, head := range c.entries {
			for e := head; e != nil; e = e.next {
				if e.inflight == nil && (victim == nil || e.lastUsed.Load() < victim.lastUsed.Load()) {
					victim = e
				}
			}
		}
		if victim != nil { // all busy: exceed the bound until one finishes
			c.remove(victim)
		}
	}
	e := &entry{key: key, opts: opts.clone(), next: c.entries[key]}
	c.entries[key] = e
	c.count++
	return e
}

// remove unlinks e. Caller holds mu for writing.
func (c *Cache) remove(e *entry) {
	var prev *entry
	for cur := c.entries[e.key]; cur != nil; prev, cur = cur, cur.next {
		if cur != e {
			continue
		}
		switch {
		case prev != nil:
			prev.next = e.next
		case e.next != nil:
			c.entries[e.key] = e.next
		default:
			delete(c.entries, e.key)
		}
		e.removed = true
		c.count--
		return
	}
}

// Invalidate drops every cached response. Fetches already running still
// answer their callers but are not cached, so the next Fetch asks the inner
// source again.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	for _, head := range c.entries {
		for e := head; e != nil; e = e.next {
			e.removed = true
		}
	}
	clear(c.entries)
	c.count = 0
	c.mu.Unlock()
}

// Cached returns the response Fetch would serve for opts without fetching:
// ok is false when nothing valid is cached for opts.
func (c *Cache) Cached(opts Options) (Response, bool) {
	key := c.hash(&opts)
	now := c.now()
	c.mu.RLock()
	defer c.mu.RUnlock()
	if e := c.lookup(key, &opts); e != nil && e.fresh(now, c.leeway) {
		return e.resp, true
	}
	return Response{}, false
}

// Len returns the number of distinct Options with a cached response or a
// fetch in flight.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.count
}

// UpdateToken replaces the cached token for opts with token, typically a
// token the LiveKit server pushed to a room joined with these options, so a
// later connect reuses it. The server URL and the other response fields stay.
// It reports whether the token was taken: there must be a cached response for
// opts, and token must parse, carry an exp, and expire later than the cached
// one (a cached token that is unparseable or has no exp is always replaced).
func (c *Cache) UpdateToken(opts Options, token string) bool {
	ok, nbf, exp := expiry(token)
	if !ok {
		return false
	}
	key := c.hash(&opts)
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.lookup(key, &opts)
	if e == nil || !e.has || (e.cachable && exp <= e.exp) {
		return false
	}
	e.resp.ParticipantToken = token
	e.cachable, e.nbf, e.exp = true, nbf, exp
	e.lastUsed.Store(c.clock.Add(1))
	return true
}
