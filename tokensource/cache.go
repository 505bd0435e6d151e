package tokensource

import (
	"context"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
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
//
// One mutex guards the entries; it is held only for map and field updates,
// never while the inner source runs.
type Cache struct {
	inner        Configurable
	leeway       int64            // nanoseconds
	now          func() time.Time // time.Now; tests set it through export_test.go
	fetchTimeout time.Duration
	maxEntries   int

	mu      sync.Mutex
	entries map[cacheKey]*entry
	tick    uint64 // LRU clock, advanced on every use
	// last is the entry last served: checking it first skips hashing the
	// options in the common case of one room per process.
	last *entry
}

// cacheKey identifies Options in the entries map. Attributes enter it as
// their count and an order-independent hash; the entry keeps the attributes
// themselves, and a lookup compares them in full, so a hash collision can
// only cost a cache miss, never serve another entry's token.
type cacheKey struct {
	room, name, identity, metadata, agentName, agentMetadata, agentDeployment string

	nattrs   int
	attrHash uint64
}

// attrSeed seeds the attribute hash; one per process is enough.
var attrSeed = maphash.MakeSeed()

func keyOf(o *Options) cacheKey {
	k := cacheKey{
		room: o.RoomName, name: o.ParticipantName, identity: o.ParticipantIdentity, metadata: o.ParticipantMetadata,
		agentName: o.AgentName, agentMetadata: o.AgentMetadata, agentDeployment: o.AgentDeployment,
		nattrs: len(o.ParticipantAttributes),
	}
	for name, value := range o.ParticipantAttributes {
		// Summing per-pair hashes makes the result independent of map order.
		// The pair hash mixes the value's hash so that {a:b} and {b:a} differ.
		hv := maphash.String(attrSeed, value)
		k.attrHash += maphash.String(attrSeed, name) ^ (hv*0x9e3779b97f4a7c15 + hv>>29)
	}
	return k
}

// entry is the cache's state for one Options. All fields are guarded by
// Cache.mu.
type entry struct {
	opts  Options // private copy (attributes cloned), handed to the inner source
	attrs []attr  // opts' attributes, for comparisons without map iteration

	stored   bool // resp holds a successful response
	resp     Response
	cachable bool  // the token parsed and has exp
	nbf, exp int64 // unix nanoseconds; nbf 0 when absent

	used     uint64 // Cache.tick at the last use, for LRU eviction
	inflight *call  // the shared fetch running for these Options, if any
	removed  bool   // dropped from the map: a running fetch must not store
}

type attr struct{ k, v string }

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
		entries:      map[cacheKey]*entry{},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// matches reports whether e is for attributes m, given that their counts
// are equal.
func (e *entry) matches(m map[string]string) bool {
	for _, a := range e.attrs {
		if v, ok := m[a.k]; !ok || v != a.v {
			return false
		}
	}
	return true
}

// is reports whether e is for o.
func (e *entry) is(o *Options) bool {
	p := &e.opts
	return p.RoomName == o.RoomName && p.ParticipantIdentity == o.ParticipantIdentity &&
		p.ParticipantName == o.ParticipantName && p.ParticipantMetadata == o.ParticipantMetadata &&
		p.AgentName == o.AgentName && p.AgentMetadata == o.AgentMetadata && p.AgentDeployment == o.AgentDeployment &&
		len(e.attrs) == len(o.ParticipantAttributes) && e.matches(o.ParticipantAttributes)
}

// lookup returns the entry for o, or nil; collision reports an entry under
// o's key that is for other attributes. Caller holds mu.
func (c *Cache) lookup(o *Options) (e *entry, collision bool) {
	if e := c.last; e != nil && !e.removed && e.is(o) {
		return e, false
	}
	e = c.entries[keyOf(o)]
	if e == nil || len(e.attrs) == 0 || e.matches(o.ParticipantAttributes) {
		return e, false
	}
	return nil, true
}

// fresh reports whether e holds a response that may be served at now.
func (e *entry) fresh(now, leeway int64) bool {
	return e.stored && e.cachable && now >= e.nbf && now+leeway < e.exp
}

// Fetch returns the cached response for opts if it is still valid, and
// otherwise fetches from the inner source (sharing the fetch with concurrent
// callers asking for equal options).
func (c *Cache) Fetch(ctx context.Context, opts Options) (Response, error) {
	now := c.now().UnixNano()

	c.mu.Lock()
	e, collision := c.lookup(&opts)
	if collision {
		// Another Options hashed alike (astronomically rare): serve this one
		// uncached rather than evict or mix up the other.
		c.mu.Unlock()
		resp, err := c.fetchInner(ctx, opts.clone())
		if err != nil {
			return Response{}, err
		}
		return resp.checked()
	}
	if e != nil && e.fresh(now, c.leeway) {
		c.tick++
		e.used = c.tick
		c.last = e
		resp := e.resp
		c.mu.Unlock()
		return resp, nil
	}
	if e == nil {
		e = c.insert(opts)
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
		resp, err = resp.checked()
	}
	if err != nil {
		resp = Response{}
	}

	c.mu.Lock()
	e.inflight = nil
	if !e.removed {
		switch {
		case err == nil:
			e.stored, e.resp = true, resp
			e.cachable, e.nbf, e.exp = expiry(resp.ParticipantToken)
		case !e.stored:
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

// insert adds an entry for opts, first evicting the least recently used
// idle entry when full. Caller holds mu.
func (c *Cache) insert(opts Options) *entry {
	if len(c.entries) >= c.maxEntries {
		var victim *entry
		for _, e := range c.entries {
			if e.inflight == nil && (victim == nil || e.used < victim.used) {
				victim = e
			}
		}
		if victim != nil { // if all are busy, exceed the bound until one finishes
			c.remove(victim)
		}
	}
	c.tick++
	e := &entry{opts: opts.clone(), used: c.tick}
	for k, v := range e.opts.ParticipantAttributes {
		e.attrs = append(e.attrs, attr{k, v})
	}
	c.entries[keyOf(&e.opts)] = e
	return e
}

// remove drops e from the map. A fetch still running for it answers its
// callers but stores nothing. Caller holds mu.
func (c *Cache) remove(e *entry) {
	key := keyOf(&e.opts)
	if c.entries[key] == e {
		delete(c.entries, key)
	}
	e.removed = true
	if c.last == e {
		c.last = nil
	}
}

// Invalidate drops every cached response. Fetches already running still
// answer their callers but are not cached, so the next Fetch asks the inner
// source again.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		e.removed = true
	}
	clear(c.entries)
	c.last = nil
}

// InvalidateOptions drops the cached response for opts, typically because
// the LiveKit server rejected its token, so that the next Fetch for opts asks
// the inner source again. Other entries stay. A fetch already running for
// opts still answers its callers but is not cached.
func (c *Cache) InvalidateOptions(opts Options) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, _ := c.lookup(&opts); e != nil {
		c.remove(e)
	}
}

// Cached returns the response Fetch would serve for opts without fetching:
// ok is false when nothing valid is cached for opts.
func (c *Cache) Cached(opts Options) (resp Response, ok bool) {
	now := c.now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, _ := c.lookup(&opts); e != nil && e.fresh(now, c.leeway) {
		return e.resp, true
	}
	return Response{}, false
}

// Len returns the number of distinct Options with a cached response or a
// fetch in flight.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// UpdateToken replaces the cached token for opts with token, typically a
// token the LiveKit server pushed to a room joined with these options, so a
// later connect reuses it. The server URL and the other response fields stay.
// It reports whether the token was taken: there must be a cached response for
// opts, and token must parse, carry an exp, and expire no earlier than the
// cached one (a cached token that is unparseable or has no exp is always
// replaced). An equal exp is taken: the server's first refresh, right after
// join, often keeps the original expiry while carrying newer claims (a changed
// name or metadata). Surrounding whitespace is trimmed from token first.
func (c *Cache) UpdateToken(opts Options, token string) bool {
	token = strings.TrimSpace(token)
	ok, nbf, exp := expiry(token)
	if !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, _ := c.lookup(&opts)
	if e == nil || !e.stored || e.resp.ParticipantToken == token || (e.cachable && exp < e.exp) {
		return false
	}
	e.resp.ParticipantToken = token
	e.cachable, e.nbf, e.exp = true, nbf, exp
	return true
}
