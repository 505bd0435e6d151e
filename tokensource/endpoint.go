package tokensource

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/redact"
)

// Endpoint defaults.
const (
	// DefaultTimeout bounds one Fetch, retries included. A caller's context
	// with an earlier deadline wins.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxRetries is how many times a transient failure is retried
	// (so at most DefaultMaxRetries+1 requests per Fetch).
	DefaultMaxRetries = 2
	// DefaultRetryBase is the first backoff; it doubles per retry, with
	// jitter, up to 5 s.
	DefaultRetryBase = 250 * time.Millisecond
	// DefaultMaxBodyBytes bounds the response body read from a token server.
	DefaultMaxBodyBytes = 1 << 20
	// MaxRetryAfter is the longest Retry-After a Fetch waits for. A server
	// asking for more gets no retry: Fetch returns its *HTTPError at once,
	// with the requested delay in HTTPError.RetryAfter, so that a Fetch
	// without a deadline cannot be parked for hours.
	MaxRetryAfter = 60 * time.Second
	// MaxRedirects is how many same-origin redirects one request follows.
	MaxRedirects = 10

	maxBackoff       = 5 * time.Second
	maxErrorBodyRead = 512 // bytes of a non-2xx body kept in HTTPError
	userAgent        = "livekit-ffi-go-tokensource/1"
)

// Endpoint is a Configurable source that asks an HTTP token endpoint for
// credentials, following LiveKit's "endpoint token generation" contract. It is
// safe for concurrent use. Create it with NewEndpoint or NewDevServer.
//
// Redirects are followed only within the endpoint's origin (same scheme,
// host and port), at most MaxRedirects times; request headers, custom ones
// included, are kept, and a 307 or 308 re-sends the body. A redirect to any
// other origin, http to https included, fails the Fetch with
// ErrCrossOriginRedirect and is never followed, so custom headers (an API
// key given with WithHeader, the development token server's X-Sandbox-ID)
// and the request body never reach another host: point the endpoint at the
// final URL instead. Redirect failures are permanent, never retried.
type Endpoint struct {
	url        string
	method     string
	header     http.Header
	client     *http.Client
	timeout    time.Duration
	maxRetries int
	retryBase  time.Duration
	maxBody    int64
	logger     *slog.Logger
	// maxRetryAfter is MaxRetryAfter; tests lower it.
	maxRetryAfter time.Duration

	// sleep waits between attempts; tests replace it to avoid real waits.
	sleep func(ctx context.Context, d time.Duration) error
}

type endpointConfig struct {
	Endpoint
	baseURL    string
	baseURLSet bool
	err        error
}

// EndpointOption configures NewEndpoint and NewDevServer.
type EndpointOption func(*endpointConfig)

// WithMethod sets the HTTP method (default POST). The JSON body is sent
// whatever the method, as LiveKit's C++ and Flutter clients do.
func WithMethod(method string) EndpointOption {
	return func(c *endpointConfig) { c.method = strings.ToUpper(strings.TrimSpace(method)) }
}

// WithHeader adds a request header, e.g. WithHeader("Authorization", "Bearer ...").
// Headers are applied after the defaults (Content-Type, User-Agent), so they
// can override them; the development token server's X-Sandbox-ID always
// comes from its id.
func WithHeader(name, value string) EndpointOption {
	return func(c *endpointConfig) { c.header.Add(name, value) }
}

// WithHTTPClient sets the client used for requests (default
// http.DefaultClient). Its own Timeout, if any, applies per request on top of
// WithTimeout. The Endpoint uses a copy of client whose CheckRedirect first
// refuses any redirect to another origin and then calls client's own
// CheckRedirect, if set, which may refuse more (or return
// http.ErrUseLastResponse, making the 3xx answer an *HTTPError) but cannot
// allow a cross-origin redirect. Without one, at most MaxRedirects
// redirects are followed. client itself is not modified.
func WithHTTPClient(client *http.Client) EndpointOption {
	return func(c *endpointConfig) {
		if client == nil {
			c.err = errors.New("tokensource: WithHTTPClient(nil)")
			return
		}
		c.client = client
	}
}

// WithTimeout bounds each Fetch, retries and backoff included (default
// DefaultTimeout). Zero or negative means no bound beyond the caller's
// context; waits between attempts are still bounded by MaxRetryAfter.
func WithTimeout(d time.Duration) EndpointOption {
	return func(c *endpointConfig) { c.timeout = d }
}

// WithRetry sets how many times a transient failure (transport error, 429,
// 502, 503, 504) is retried and the first backoff, which doubles per retry
// with jitter. A Retry-After header of up to MaxRetryAfter replaces the
// backoff; a longer one ends the Fetch with the *HTTPError. max 0 disables
// retries. Defaults: DefaultMaxRetries, DefaultRetryBase.
func WithRetry(max int, base time.Duration) EndpointOption {
	return func(c *endpointConfig) {
		if max < 0 || base < 0 {
			c.err = errors.New("tokensource: WithRetry needs max >= 0 and base >= 0")
			return
		}
		c.maxRetries, c.retryBase = max, base
	}
}

// WithMaxBodyBytes bounds the response body (default DefaultMaxBodyBytes). A
// larger 2xx body is an error.
func WithMaxBodyBytes(n int64) EndpointOption {
	return func(c *endpointConfig) {
		if n <= 0 {
			c.err = errors.New("tokensource: WithMaxBodyBytes needs n > 0")
			return
		}
		c.maxBody = n
	}
}

// WithLogger sets a logger for retry decisions (debug level). Nothing is
// logged by default, and tokens are never logged.
func WithLogger(l *slog.Logger) EndpointOption {
	return func(c *endpointConfig) { c.logger = l }
}

// WithBaseURL overrides the development token server's base URL (default
// DevServerBaseURL). It applies to NewDevServer only.
func WithBaseURL(base string) EndpointOption {
	return func(c *endpointConfig) { c.baseURL, c.baseURLSet = base, true }
}

func newConfig(opts []EndpointOption) *endpointConfig {
	c := &endpointConfig{Endpoint: Endpoint{
		method:     http.MethodPost,
		header:     http.Header{},
		client:     http.DefaultClient,
		timeout:    DefaultTimeout,
		maxRetries: DefaultMaxRetries,
		retryBase:  DefaultRetryBase,
		maxBody:    DefaultMaxBodyBytes,
		sleep:      sleepCtx,

		maxRetryAfter: MaxRetryAfter,
	}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// NewEndpoint returns a source that POSTs the request options as JSON to
// endpointURL and reads {server_url, participant_token} back.
func NewEndpoint(endpointURL string, opts ...EndpointOption) (*Endpoint, error) {
	c := newConfig(opts)
	if c.baseURLSet {
		return nil, errors.New("tokensource: WithBaseURL applies only to NewDevServer")
	}
	return c.finish(endpointURL)
}

func (c *endpointConfig) finish(endpointURL string) (*Endpoint, error) {
	if c.err != nil {
		return nil, c.err
	}
	u, err := url.Parse(endpointURL)
	if err != nil {
		return nil, fmt.Errorf("tokensource: invalid endpoint URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("tokensource: endpoint URL %q must be absolute http or https", redactURL(u))
	}
	if c.method == "" || strings.ContainsFunc(c.method, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return nil, fmt.Errorf("tokensource: invalid HTTP method %q", c.method)
	}
	e := c.Endpoint
	e.url = endpointURL
	e.client = sameOriginClient(c.client, u)
	return &e, nil
}

var (
	// ErrCrossOriginRedirect means a token endpoint redirected to another
	// scheme, host or port. The redirect is not followed (see Endpoint).
	ErrCrossOriginRedirect = errors.New("tokensource: token endpoint redirected to another origin")
	// ErrTooManyRedirects means a token endpoint redirected more than
	// MaxRedirects times in one request, typically a redirect loop.
	ErrTooManyRedirects = errors.New("tokensource: token endpoint redirected too many times")
)

// redirectError is a redirect refused by the Endpoint or by the caller's
// CheckRedirect. It is permanent: another attempt would be redirected the
// same way.
type redirectError struct{ err error }

func (e *redirectError) Error() string { return e.err.Error() }
func (e *redirectError) Unwrap() error { return e.err }

// sameOriginClient returns a copy of client that follows redirects only
// within endpoint's origin, then defers to client's own CheckRedirect.
func sameOriginClient(client *http.Client, endpoint *url.URL) *http.Client {
	c := *client
	userCheck := client.CheckRedirect
	want := origin(endpoint)
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if origin(req.URL) != want {
			return &redirectError{fmt.Errorf("%w: %s", ErrCrossOriginRedirect, redactURL(req.URL))}
		}
		if userCheck != nil {
			err := userCheck(req, via)
			if err == nil || err == http.ErrUseLastResponse {
				return err
			}
			return &redirectError{err}
		}
		if len(via) >= MaxRedirects {
			return &redirectError{fmt.Errorf("%w (%d)", ErrTooManyRedirects, MaxRedirects)}
		}
		return nil
	}
	return &c
}

// origin is u's scheme, host and port in a comparable form: lower case,
// with the scheme's default port filled in.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// URL returns the endpoint URL.
func (e *Endpoint) URL() string { return e.url }

// Fetch asks the endpoint for credentials for opts.
func (e *Endpoint) Fetch(ctx context.Context, opts Options) (Response, error) {
	if e.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.timeout)
		defer cancel()
	}
	body := encodeRequest(opts)
	for attempt := 0; ; attempt++ {
		resp, retryAfter, err := e.do(ctx, body)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return Response{}, joinCtxErr(ctx, err)
		}
		if !isRetryable(err) || attempt >= e.maxRetries {
			return Response{}, err
		}
		wait := retryAfter
		if wait < 0 {
			wait = backoff(e.retryBase, attempt)
		} else if wait > e.maxRetryAfter {
			// Not worth parking the caller for: let it decide, with the
			// server's delay in HTTPError.RetryAfter.
			return Response{}, err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// The server asks for more time than we have: fail now rather
			// than sleep into a certain timeout.
			return Response{}, err
		}
		if e.logger != nil {
			e.logger.LogAttrs(ctx, slog.LevelDebug, "tokensource: retrying token request",
				slog.Int("attempt", attempt+1), slog.Duration("wait", wait), slog.String("error", err.Error()))
		}
		if serr := e.sleep(ctx, wait); serr != nil {
			return Response{}, joinCtxErr(ctx, err)
		}
	}
}

// joinCtxErr reports a context error as the cause (so errors.Is(err,
// context.Canceled) works) while keeping the last attempt's failure.
func joinCtxErr(ctx context.Context, last error) error {
	if errors.Is(last, ctx.Err()) {
		return last
	}
	return fmt.Errorf("%w (last attempt: %v)", context.Cause(ctx), last)
}

// do makes one request. retryAfter is negative when the server gave no usable
// Retry-After.
func (e *Endpoint) do(ctx context.Context, body []byte) (resp Response, retryAfter time.Duration, err error) {
	retryAfter = -1
	req, err := http.NewRequestWithContext(ctx, e.method, e.url, bytes.NewReader(body))
	if err != nil {
		return Response{}, retryAfter, fmt.Errorf("tokensource: building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	for k, v := range e.header {
		req.Header[k] = slices.Clone(v)
	}
	if h := req.Header.Get("Host"); h != "" {
		req.Host = h
	}
	hr, err := e.client.Do(req)
	if err != nil {
		return Response{}, retryAfter, &transportError{method: e.method, url: redactURL(req.URL), err: unwrapURLError(err)}
	}
	defer hr.Body.Close()

	if hr.StatusCode < 200 || hr.StatusCode > 299 {
		prefix, _ := io.ReadAll(io.LimitReader(hr.Body, maxErrorBodyRead))
		_, _ = io.Copy(io.Discard, io.LimitReader(hr.Body, 64<<10)) // let the connection be reused
		if d, ok := parseRetryAfter(hr.Header.Get("Retry-After"), time.Now()); ok {
			retryAfter = d
		}
		return Response{}, retryAfter, &HTTPError{
			StatusCode: hr.StatusCode,
			Status:     hr.Status,
			Body:       scrubBody(prefix),
			RetryAfter: max(retryAfter, 0),
		}
	}
	data, err := io.ReadAll(io.LimitReader(hr.Body, e.maxBody+1))
	if err != nil {
		return Response{}, retryAfter, &transportError{method: e.method, url: redactURL(req.URL), err: err}
	}
	if int64(len(data)) > e.maxBody {
		return Response{}, retryAfter, fmt.Errorf("%w (limit %d bytes)", ErrBodyTooLarge, e.maxBody)
	}
	resp, err = decodeResponse(data)
	return resp, retryAfter, err
}

// ErrBodyTooLarge means a token endpoint's response exceeded the body limit.
var ErrBodyTooLarge = errors.New("tokensource: token endpoint response too large")

// HTTPError is returned when a token endpoint answers with a non-2xx status.
type HTTPError struct {
	StatusCode int    // e.g. 403
	Status     string // e.g. "403 Forbidden"
	// Body is at most the first 512 bytes of the response body, with
	// anything that looks like a JWT replaced by its redacted form.
	Body string
	// RetryAfter is the server's Retry-After, zero when absent.
	RetryAfter time.Duration
}

// Error describes the status and the (redacted) body prefix.
func (e *HTTPError) Error() string {
	status := e.Status
	if status == "" {
		status = strconv.Itoa(e.StatusCode)
	}
	if e.Body == "" {
		return "tokensource: token endpoint answered " + status
	}
	return fmt.Sprintf("tokensource: token endpoint answered %s: %q", status, e.Body)
}

// Temporary reports whether the status is one this package retries.
func (e *HTTPError) Temporary() bool {
	switch e.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// transportError is a failed round trip. Its message names the endpoint
// without query string or user info, which may hold secrets.
type transportError struct {
	method, url string
	err         error
}

func (e *transportError) Error() string {
	return fmt.Sprintf("tokensource: %s %s: %v", e.method, e.url, e.err)
}

func (e *transportError) Unwrap() error { return e.err }

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func isRetryable(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Temporary()
	}
	var te *transportError
	if !errors.As(err, &te) {
		return false
	}
	var re *redirectError
	if errors.As(err, &re) {
		return false
	}
	// A certificate that does not verify will not verify on the next try.
	var cv *tls.CertificateVerificationError
	return !errors.As(err, &cv)
}

// redactURL drops user info, query and fragment.
// RedactURL returns rawURL without user info, query and fragment, which may carry credentials:
// the form this package puts in its errors. An unparseable URL gives "(unparseable URL)".
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparseable URL)"
	}
	return redactURL(u)
}

func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return r.String()
}

// scrubBody makes a bounded, printable prefix of an error body with JWTs
// redacted.
func scrubBody(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	return redact.JWTs(s, Redact)
}

// backoff returns base*2^attempt capped at maxBackoff, with jitter in
// [half, full] so that clients retrying together spread out.
func backoff(base time.Duration, attempt int) time.Duration {
	if base <= 0 {
		return 0
	}
	d := base
	for i := 0; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	half := d / 2
	return half + rand.N(half+1)
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// DevServerBaseURL is the default base URL of LiveKit Cloud's development
// token server (formerly "sandbox").
const DevServerBaseURL = "https://cloud-api.livekit.io"

const devServerPath = "/api/v2/sandbox/connection-details"

// ErrEmptyDevServerID is returned by NewDevServer for an empty (or
// whitespace-only) token server id.
var ErrEmptyDevServerID = errors.New("tokensource: empty development token server id")

// NewDevServer returns an Endpoint for a LiveKit Cloud development token server
// (formerly "sandbox"): POST <base>/api/v2/sandbox/connection-details with
// header X-Sandbox-ID set to id, trimmed of surrounding whitespace. The base
// defaults to DevServerBaseURL; WithBaseURL overrides it. Development tokens
// are short-lived (15 minutes), and the server picks a random room and
// identity for fields that are not sent; wrap it in a Cache to reuse them.
func NewDevServer(id string, opts ...EndpointOption) (*Endpoint, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return nil, ErrEmptyDevServerID
	}
	c := newConfig(opts)
	base := DevServerBaseURL
	if c.baseURLSet {
		base = c.baseURL
	}
	c.header.Set("X-Sandbox-ID", id)
	return c.finish(strings.TrimRight(base, "/") + devServerPath)
}
