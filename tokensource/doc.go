// Package tokensource gets the credentials a LiveKit room needs to join: a
// server URL and a participant token. It is pure Go (no cgo) and does not
// depend on the rest of the SDK, so servers, command-line tools and tests can
// use it on its own.
//
// # Sources
//
// A Fixed source needs no input; a Configurable source turns Options (room
// name, participant name, identity, metadata, attributes, agent dispatch)
// into a Response. Every Fetch takes a context.Context.
//
//   - Literal and LiteralFunc: credentials you already have, or a function
//     that produces them.
//   - Custom: your own function of the Options.
//   - NewEndpoint: an HTTP token endpoint following LiveKit's "endpoint token
//     generation" contract: a JSON body with snake_case keys (unset fields
//     left out, "{}" for no options, room_config.agents only when an agent
//     field is set), any 2xx accepted, snake_case or older camelCase
//     responses, unknown fields ignored, a bounded body. Non-2xx answers are
//     an *HTTPError with the status and a bounded body prefix. Transport
//     errors, 429 and 502-504 are retried a bounded number of times with
//     exponential backoff and jitter, honoring a Retry-After of up to
//     MaxRetryAfter (60 s; a longer one fails the Fetch at once, as does one
//     that would outlast the timeout or the context's deadline), and every
//     Fetch is bounded by a default timeout that the caller's context can
//     shorten. Redirects are followed only within the endpoint's scheme,
//     host and port; a redirect elsewhere fails with ErrCrossOriginRedirect
//     (see Endpoint), so custom headers never reach another host.
//   - NewDevServer: LiveKit Cloud's development token server (formerly
//     "sandbox"), an Endpoint with the X-Sandbox-ID header.
//   - NewMinter: for services that hold an API key and secret; mints HS256
//     access tokens locally with github.com/golang-jwt/jwt/v5.
//   - NewCache: a decorator that reuses a still-valid token (see below).
//   - Bind fixes the Options of a Configurable source, giving a Fixed one
//     (a *Bound).
//
// Handler serves the endpoint contract on top of any Configurable source, so
// a Minter behind Handler is a complete development token server.
//
// Every source validates what it returns: an empty server URL or token is an
// error (ErrNoServerURL, ErrNoToken) at Fetch, before any connection attempt.
// Surrounding whitespace (a trailing newline from a file or an endpoint) is
// trimmed from the server URL and the token first, as the native library
// trims the token before use: the token a source returns, caches and
// redacts is the one the server sees and may quote in an error.
//
// # Caching
//
// Caching is opt-in: wrap a source in NewCache. The cache keeps one entry per
// distinct Options (compared by value, attributes by content), at most 64 by
// default, dropping the least recently used. It serves an entry only while
// its token is valid: it must parse, carry exp, have no nbf in the future,
// and expire more than the leeway (60 s by default) from now. Tokens without
// exp or that do not parse are returned to the caller but never served from
// the cache. Expiry is parsed once when a response is stored. One mutex
// guards the entries and is never held during an upstream call; a cache hit
// holds it for a comparison with the last entry served (or a map lookup), an
// attribute comparison and an integer compare, and allocates nothing.
//
// Concurrent fetches of the same uncached Options share one upstream call,
// while different Options are fetched in parallel; no lock is held during an
// upstream call. The shared call runs detached from the first caller's
// cancellation (its context values are kept) under its own timeout, so a
// caller that gives up gets its ctx.Err() at once without failing the others.
// A failed fetch returns the error and keeps whatever was cached before.
// Cache.Invalidate drops everything and Cache.InvalidateOptions one entry;
// Cache.Cached shows what would be served; Cache.UpdateToken takes a
// refreshed token the LiveKit server pushed to a connected room, so a later
// reconnect with the same Options reuses it.
//
// # Optional interfaces
//
// A Fixed source may implement optional interfaces that the code joining a
// room through it (the livekit package, or your own) looks for with a type
// assertion:
//
//   - TokenUpdater: UpdateToken(token) receives each token the LiveKit
//     server refreshes for the participant while the room is connected.
//   - TokenInvalidator: InvalidateToken() drops a token the server rejected,
//     so that the next Fetch gets a fresh one.
//
// *Bound implements both and forwards them to the cache entry for its
// Options when its source is a *Cache (Cache.UpdateToken,
// Cache.InvalidateOptions); for any other source they do nothing. So
// Bind(NewCache(src), opts) keeps the cache current across reconnects. A
// source of your own can implement them the same way.
//
// # Inspecting tokens
//
// Parse decodes a token's claims without verifying the signature, Claims.Valid
// checks its time window with a leeway, and Redact gives a form safe to print.
//
// # Security
//
// Tokens are bearer credentials. This package never logs them and never puts
// them in error messages: errors from JSON decoding name types and offsets,
// not values; HTTPError.Body has anything that looks like a JWT replaced by
// its redacted form; transport errors name the endpoint without its query
// string or user info. Response's String, GoString and LogValue methods
// redact the token, so fmt and log/slog print it safely. An API secret
// belongs on a server: give clients an Endpoint backed by a Minter, never
// the secret itself.
package tokensource
