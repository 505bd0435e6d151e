package tokensource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
)

// Options are the request options a configurable source turns into credentials.
// An empty string or an empty map means "not set": the field is left out of an
// endpoint request and the token server picks a value (the development token
// server, for example, generates a random room and identity).
//
// Options is compared by value (attributes by content) wherever it is used as
// a cache key.
type Options struct {
	RoomName              string
	ParticipantName       string
	ParticipantIdentity   string
	ParticipantMetadata   string
	ParticipantAttributes map[string]string

	// Agent fields become room_config.agents[0] on the wire and
	// roomConfig.agents[0] in a minted token. Setting any of them dispatches
	// an agent to the room.
	AgentName       string
	AgentMetadata   string
	AgentDeployment string
}

// HasAgent reports whether any agent field is set.
func (o Options) HasAgent() bool {
	return o.AgentName != "" || o.AgentMetadata != "" || o.AgentDeployment != ""
}

// Equal reports whether o and p ask for the same credentials. Attributes are
// compared by content; a nil map equals an empty one.
func (o Options) Equal(p Options) bool {
	return o.RoomName == p.RoomName &&
		o.ParticipantName == p.ParticipantName &&
		o.ParticipantIdentity == p.ParticipantIdentity &&
		o.ParticipantMetadata == p.ParticipantMetadata &&
		o.AgentName == p.AgentName &&
		o.AgentMetadata == p.AgentMetadata &&
		o.AgentDeployment == p.AgentDeployment &&
		maps.Equal(o.ParticipantAttributes, p.ParticipantAttributes)
}

// clone returns a copy that shares no map with o, so a caller mutating its
// attributes map later cannot change a stored cache key.
func (o Options) clone() Options {
	if o.ParticipantAttributes != nil {
		o.ParticipantAttributes = maps.Clone(o.ParticipantAttributes)
	}
	return o
}

// Response holds what a room needs to join: the server URL and a participant
// token. ParticipantName and RoomName are optional echoes from the token
// server (useful when it picked random ones).
//
// Response's String, GoString and LogValue methods redact the token, so
// printing or logging a Response does not leak it.
type Response struct {
	ServerURL        string
	ParticipantToken string
	ParticipantName  string
	RoomName         string
}

// String formats r with the token redacted (see Redact).
func (r Response) String() string {
	return fmt.Sprintf("{ServerURL:%q ParticipantToken:%s ParticipantName:%q RoomName:%q}",
		r.ServerURL, Redact(r.ParticipantToken), r.ParticipantName, r.RoomName)
}

// GoString makes %#v redact the token too.
func (r Response) GoString() string {
	return fmt.Sprintf("tokensource.Response{ServerURL:%q, ParticipantToken:%q, ParticipantName:%q, RoomName:%q}",
		r.ServerURL, Redact(r.ParticipantToken), r.ParticipantName, r.RoomName)
}

// LogValue implements slog.LogValuer with the token redacted.
func (r Response) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("server_url", r.ServerURL),
		slog.String("participant_token", Redact(r.ParticipantToken)),
		slog.String("participant_name", r.ParticipantName),
		slog.String("room_name", r.RoomName),
	)
}

// Validate reports ErrNoServerURL or ErrNoToken when a field a room needs is
// empty or only whitespace. Every source in this package validates what it
// returns, so an empty credential fails at Fetch instead of at connect.
func (r Response) Validate() error {
	switch {
	case strings.TrimSpace(r.ServerURL) == "":
		return ErrNoServerURL
	case strings.TrimSpace(r.ParticipantToken) == "":
		return ErrNoToken
	}
	return nil
}

// checked returns r with surrounding whitespace trimmed from its server URL
// and token, or Validate's error. Every source returns responses through it:
// the native library trims the token before use, so a token with a trailing
// newline (read from a file, or sent so by an endpoint) must be the trimmed
// string everywhere else too, or a server error quoting the trimmed token
// would not be recognized, and redacted, as the token.
func (r Response) checked() (Response, error) {
	r.ServerURL = strings.TrimSpace(r.ServerURL)
	r.ParticipantToken = strings.TrimSpace(r.ParticipantToken)
	if err := r.Validate(); err != nil {
		return Response{}, err
	}
	return r, nil
}

var (
	// ErrNoServerURL means a source produced a response without a server URL.
	ErrNoServerURL = errors.New("tokensource: response has no server URL")
	// ErrNoToken means a source produced a response without a participant token.
	ErrNoToken = errors.New("tokensource: response has no participant token")
)

// Fixed is a source that needs no request options.
type Fixed interface {
	Fetch(ctx context.Context) (Response, error)
}

// Configurable is a source that turns request options into credentials.
// Implementations must be safe for concurrent use.
type Configurable interface {
	Fetch(ctx context.Context, opts Options) (Response, error)
}

type literal struct{ r Response }

// Literal returns a Fixed source that always answers r, with surrounding
// whitespace trimmed from its server URL and token. An empty server URL or
// token makes every Fetch fail with ErrNoServerURL or ErrNoToken.
func Literal(r Response) Fixed { return literal{r} }

func (l literal) Fetch(ctx context.Context) (Response, error) { return l.r.checked() }

type literalFunc func(ctx context.Context) (Response, error)

// LiteralFunc returns a Fixed source that calls fn on every Fetch. Its result
// is validated like Literal's.
func LiteralFunc(fn func(ctx context.Context) (Response, error)) Fixed { return literalFunc(fn) }

func (f literalFunc) Fetch(ctx context.Context) (Response, error) {
	r, err := f(ctx)
	if err != nil {
		return Response{}, err
	}
	return r.checked()
}

type custom func(ctx context.Context, opts Options) (Response, error)

// Custom returns a Configurable source that calls fn with the request options
// on every Fetch. Its result is validated like Literal's. fn must be safe for
// concurrent use.
func Custom(fn func(ctx context.Context, opts Options) (Response, error)) Configurable {
	return custom(fn)
}

func (f custom) Fetch(ctx context.Context, opts Options) (Response, error) {
	r, err := f(ctx, opts)
	if err != nil {
		return Response{}, err
	}
	return r.checked()
}

// TokenUpdater is implemented by Fixed sources that want the tokens a LiveKit
// server refreshes for a room joined through them. The server pushes a new
// token to a connected participant well before the current one expires; a
// room hands each one to UpdateToken, so that a later reconnect through the
// same source starts from the newest token instead of fetching again.
// UpdateToken reports whether the token was taken. It must be safe for
// concurrent use and must not block.
//
// The livekit package hands refreshed tokens to a source given to
// ConnectSource that implements it. *Bound implements it.
type TokenUpdater interface {
	UpdateToken(token string) bool
}

// TokenInvalidator is implemented by Fixed sources that can drop a token the
// server rejected, so that the next Fetch gets a fresh one. It must be safe
// for concurrent use and must not block. *Bound implements it.
type TokenInvalidator interface {
	InvalidateToken()
}

// Bound is a Fixed source made by Bind: a Configurable source with its
// Options fixed. It implements TokenUpdater and TokenInvalidator: when the
// source is a *Cache they update or drop the cache entry for the bound
// Options (Cache.UpdateToken, Cache.InvalidateOptions); for any other source
// UpdateToken reports false and InvalidateToken does nothing.
type Bound struct {
	src  Configurable
	opts Options
}

// Bind fixes the options of a configurable source, giving a Fixed source. The
// options are copied, so later changes to opts' attributes map do not leak in.
func Bind(src Configurable, opts Options) *Bound { return &Bound{src, opts.clone()} }

var (
	_ Fixed            = (*Bound)(nil)
	_ TokenUpdater     = (*Bound)(nil)
	_ TokenInvalidator = (*Bound)(nil)
)

// Fetch fetches from the source with the bound options. The response is
// trimmed and validated like Literal's, whatever the source.
func (b *Bound) Fetch(ctx context.Context) (Response, error) {
	r, err := b.src.Fetch(ctx, b.opts.clone())
	if err != nil {
		return Response{}, err
	}
	return r.checked()
}

// UpdateToken hands a server-refreshed token to the source if it is a *Cache
// (see Cache.UpdateToken), so that a room joined through Bind(cache, opts)
// keeps the cache current. It reports whether the token was taken; it is
// always false for other sources.
func (b *Bound) UpdateToken(token string) bool {
	if c, ok := b.src.(*Cache); ok {
		return c.UpdateToken(b.opts, token)
	}
	return false
}

// InvalidateToken drops the cached response for the bound options if the
// source is a *Cache (see Cache.InvalidateOptions), so that the next Fetch
// asks the cache's inner source again. It does nothing for other sources.
func (b *Bound) InvalidateToken() {
	if c, ok := b.src.(*Cache); ok {
		c.InvalidateOptions(b.opts)
	}
}
