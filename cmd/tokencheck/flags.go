package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/livekit-ffi-go/sdk/tokensource"
)

// Environment variables that supply defaults. They fill in a source only when
// no source flag was given (or the parts of the one that was), so a stray
// LIVEKIT_API_KEY never turns --endpoint into a "two sources" error.
const (
	envAPIKey    = "LIVEKIT_API_KEY"
	envAPISecret = "LIVEKIT_API_SECRET"
	envURL       = "LIVEKIT_URL"
	envSandboxID = "LIVEKIT_SANDBOX_ID"
)

// sourceKind says where the token comes from.
type sourceKind string

const (
	srcLiteral  sourceKind = "literal"  // --token, --url
	srcEndpoint sourceKind = "endpoint" // --endpoint
	srcSandbox  sourceKind = "sandbox"  // --sandbox-id
	srcMinter   sourceKind = "minter"   // --api-key, --api-secret, --url
	srcDev      sourceKind = "dev"      // --dev
)

// config is the parsed command line.
type config struct {
	source sourceKind

	token, url             string
	endpoint, method       string
	headers                []header
	sandboxID, sandboxBase string
	apiKey, apiSecret      string

	req tokensource.Options

	join          bool
	watch         time.Duration
	expectRefresh bool
	timeout       time.Duration
	leeway        time.Duration

	json      bool
	showToken bool

	media mediaConfig
}

// mediaConfig is what --media and its companions ask for (see media.go).
type mediaConfig struct {
	on              bool
	peerToken       string        // --peer-token: the second participant's token (literal source)
	peerIdentity    string        // --peer-identity: overrides the derived identity + "-peer"
	duration        time.Duration // --media-duration
	audio, video    bool          // what A publishes (--media-audio-only / --media-video-only)
	maxAudioLatency time.Duration // 0: no threshold
	maxVideoLatency time.Duration
	minFPS          float64
}

type header struct{ name, value string }

// usageError is a command-line mistake: exit code 2 with the usage hint.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

const exitCodesText = `
Exit codes: 0 ok, 1 token fetch or validation failed, 2 usage error,
3 joining failed, 4 --expect-refresh and no refresh arrived,
5 a --media check or threshold failed,
130 interrupted (SIGINT, Ctrl-C), 143 terminated (SIGTERM).
`

const usageText = `Usage: tokencheck <source> [request options] [--join [--watch D] [--expect-refresh]] [--json]
       tokencheck <source> [request options] --join --media [--media-duration D] [thresholds] [--json]

Fetches a LiveKit access token from a token source, shows and validates its
claims, and optionally joins the room through the native SDK and watches for
the token refreshes the server pushes.

Sources (exactly one):
  --token T --url U              a token you already have
  --endpoint URL                 an HTTP token endpoint (LiveKit's endpoint contract);
                                 with --header 'Name: value' (repeatable) and --method
  --sandbox-id ID                LiveKit Cloud's development token server ($LIVEKIT_SANDBOX_ID);
                                 --sandbox-base-url overrides its address
  --api-key K --api-secret S --url U
                                 mint locally ($LIVEKIT_API_KEY, $LIVEKIT_API_SECRET, $LIVEKIT_URL)
  --dev                          start a local livekit-server and token endpoint (no account needed)
Without a source flag, the environment picks the minter (key and secret set) or
the development token server (sandbox id set).

--media joins a second participant (B) with a second token: fetched from the same
source for the identity + "-peer" (or --peer-identity), or --peer-token with a
literal --token. A publishes a tone-burst audio track and a frame-counter video
track, B receives both, then data and RPC round trips run between them; each
check is reported (JSON event "media_check") and a failed one exits 5.

Flags:
`

// parseFlags parses args. getenv supplies environment defaults. It returns
// flag.ErrHelp for -h/--help and a *usageError for anything else wrong.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("tokencheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by the caller, once
	var headers, attrs listFlag
	var dev bool

	fs.StringVar(&c.token, "token", "", "participant `token` (literal source)")
	fs.StringVar(&c.url, "url", "", "LiveKit server `URL` for --token or the minter (default $LIVEKIT_URL)")
	fs.StringVar(&c.endpoint, "endpoint", "", "token endpoint `URL`")
	fs.Var(&headers, "header", "`'Name: value'` header for the endpoint (repeatable)")
	fs.StringVar(&c.method, "method", "", "HTTP `method` for the endpoint (default POST)")
	fs.StringVar(&c.sandboxID, "sandbox-id", "", "development token server `id` (default $LIVEKIT_SANDBOX_ID)")
	fs.StringVar(&c.sandboxBase, "sandbox-base-url", "", "development token server base `URL` (default "+tokensource.DevServerBaseURL+")")
	fs.StringVar(&c.apiKey, "api-key", "", "API `key` for the local minter (default $LIVEKIT_API_KEY)")
	fs.StringVar(&c.apiSecret, "api-secret", "", "API `secret` for the local minter (default $LIVEKIT_API_SECRET; prefer the variable, flags show in ps)")
	fs.BoolVar(&dev, "dev", false, "start a local livekit-server and token endpoint and use them")

	fs.StringVar(&c.req.RoomName, "room", "", "room `name` to ask for")
	fs.StringVar(&c.req.ParticipantIdentity, "identity", "", "participant `identity` to ask for")
	fs.StringVar(&c.req.ParticipantName, "name", "", "participant display `name`")
	fs.StringVar(&c.req.ParticipantMetadata, "metadata", "", "participant `metadata`")
	fs.Var(&attrs, "attribute", "participant attribute `k=v` (repeatable)")
	fs.StringVar(&c.req.AgentName, "agent-name", "", "agent to dispatch to the room")
	fs.StringVar(&c.req.AgentMetadata, "agent-metadata", "", "metadata for the dispatched agent")
	fs.StringVar(&c.req.AgentDeployment, "agent-deployment", "", "deployment of the dispatched agent")

	fs.BoolVar(&c.join, "join", false, "join the room with the token (needs the native library)")
	fs.DurationVar(&c.watch, "watch", 0, "stay joined this `long` and report token refreshes (implies --join)")
	fs.BoolVar(&c.expectRefresh, "expect-refresh", false, "exit 4 unless the server refreshes the token while joined (implies --join;\nwithout --watch, waits up to --timeout for the first refresh)")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "bound for fetching the token and for joining")
	fs.DurationVar(&c.leeway, "leeway", 0, "count the token as expired this long before its exp")
	fs.BoolVar(&c.json, "json", false, "print one JSON object per line on stdout")
	fs.BoolVar(&c.showToken, "show-token", false, "print the full token (it is a bearer credential)")

	fs.BoolVar(&c.media.on, "media", false, "join a second participant and check audio, video, data and RPC between them (implies --join)")
	fs.StringVar(&c.media.peerToken, "peer-token", "", "the second participant's `token` for --media with --token")
	fs.StringVar(&c.media.peerIdentity, "peer-identity", "", "`identity` to fetch the second participant's token for (default: the first identity + \"-peer\")")
	fs.DurationVar(&c.media.duration, "media-duration", 5*time.Second, "how `long` A publishes audio and video for --media")
	var audioOnly, videoOnly bool
	fs.BoolVar(&audioOnly, "media-audio-only", false, "--media without video")
	fs.BoolVar(&videoOnly, "media-video-only", false, "--media without audio")
	fs.DurationVar(&c.media.maxAudioLatency, "max-audio-latency", 0, "fail (exit 5) when the median audio glass-to-glass latency exceeds `D`")
	fs.DurationVar(&c.media.maxVideoLatency, "max-video-latency", 0, "fail (exit 5) when the median video glass-to-glass latency exceeds `D`")
	fs.Float64Var(&c.media.minFPS, "min-fps", 0, "fail (exit 5) when B receives fewer video frames per second than `N`")

	// The flag package prints the usage on every parse error; the caller
	// prints just the error and a hint, so the usage goes out only for -h.
	fs.Usage = func() {}
	printUsage := func() {
		fmt.Fprint(stderr, usageText)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		fmt.Fprint(stderr, exitCodesText)
	}

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage()
			return nil, flag.ErrHelp
		}
		return nil, &usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || !validHeaderName(name) {
			return nil, usagef("--header %q: want 'Name: value'", h)
		}
		c.headers = append(c.headers, header{name: http.CanonicalHeaderKey(name), value: value})
	}
	for _, a := range attrs {
		k, v, ok := strings.Cut(a, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usagef("--attribute %q: want key=value", a)
		}
		if c.req.ParticipantAttributes == nil {
			c.req.ParticipantAttributes = map[string]string{}
		}
		c.req.ParticipantAttributes[k] = v
	}
	if c.timeout <= 0 {
		return nil, usagef("--timeout must be positive")
	}
	if c.watch < 0 {
		return nil, usagef("--watch must not be negative")
	}
	if c.leeway < 0 {
		// A negative leeway would call an expired token valid.
		return nil, usagef("--leeway must not be negative")
	}
	if set["method"] {
		c.method = strings.TrimSpace(c.method)
		if !validHeaderName(c.method) {
			return nil, usagef("--method %q: want an HTTP method such as POST or GET", c.method)
		}
	}
	if c.watch > 0 || c.expectRefresh {
		c.join = true
	}
	if err := c.checkMedia(set, audioOnly, videoOnly); err != nil {
		return nil, err
	}

	if err := c.pickSource(set, dev, getenv); err != nil {
		return nil, err
	}
	return c, nil
}

// pickSource decides the source: explicit flags first (exactly one source),
// then the environment. Environment values also fill in the missing parts of
// an explicitly chosen source (e.g. the secret for --api-key), never more.
func (c *config) pickSource(set map[string]bool, dev bool, getenv func(string) string) error {
	var chosen []string
	var kinds []sourceKind
	add := func(k sourceKind, flags ...string) {
		var used []string
		for _, f := range flags {
			if set[f] {
				used = append(used, "--"+f)
			}
		}
		if len(used) > 0 {
			chosen = append(chosen, strings.Join(used, "/"))
			kinds = append(kinds, k)
		}
	}
	add(srcLiteral, "token")
	add(srcEndpoint, "endpoint")
	add(srcSandbox, "sandbox-id", "sandbox-base-url")
	add(srcMinter, "api-key", "api-secret")
	if dev {
		chosen = append(chosen, "--dev")
		kinds = append(kinds, srcDev)
	}
	switch len(kinds) {
	case 0:
		minter := getenv(envAPIKey) != "" && getenv(envAPISecret) != ""
		sandbox := getenv(envSandboxID) != ""
		switch {
		case minter && sandbox:
			return usagef("both $%s/$%s and $%s are set: choose with --api-key or --sandbox-id", envAPIKey, envAPISecret, envSandboxID)
		case minter:
			c.source = srcMinter
		case sandbox:
			c.source = srcSandbox
		default:
			return usagef("no token source: give --token, --endpoint, --sandbox-id, --api-key/--api-secret or --dev")
		}
	case 1:
		c.source = kinds[0]
	default:
		return usagef("choose one token source, not %s", strings.Join(chosen, " and "))
	}

	switch c.source {
	case srcLiteral:
		if c.url == "" {
			c.url = getenv(envURL)
		}
		if c.url == "" {
			return usagef("--token needs --url (or $%s)", envURL)
		}
	case srcMinter:
		if c.apiKey == "" {
			c.apiKey = getenv(envAPIKey)
		}
		if c.apiSecret == "" {
			c.apiSecret = getenv(envAPISecret)
		}
		if c.url == "" {
			c.url = getenv(envURL)
		}
		var missing []string
		if c.apiKey == "" {
			missing = append(missing, "--api-key ($"+envAPIKey+")")
		}
		if c.apiSecret == "" {
			missing = append(missing, "--api-secret ($"+envAPISecret+")")
		}
		if c.url == "" {
			missing = append(missing, "--url ($"+envURL+")")
		}
		if len(missing) > 0 {
			return usagef("the local minter needs %s", strings.Join(missing, " and "))
		}
	case srcSandbox:
		if c.sandboxID == "" {
			c.sandboxID = getenv(envSandboxID)
		}
		if strings.TrimSpace(c.sandboxID) == "" {
			return usagef("the development token server needs --sandbox-id (or $%s)", envSandboxID)
		}
		if c.sandboxBase != "" {
			if err := checkHTTPURL("--sandbox-base-url", c.sandboxBase); err != nil {
				return err
			}
		}
	case srcEndpoint:
		if err := checkHTTPURL("--endpoint", c.endpoint); err != nil {
			return err
		}
	}

	// Flags that the chosen source would silently ignore are mistakes.
	var stray []string
	only := func(flagName string, ok bool) {
		if set[flagName] && !ok {
			stray = append(stray, "--"+flagName)
		}
	}
	overHTTP := c.source == srcEndpoint || c.source == srcSandbox
	only("header", overHTTP)
	only("method", overHTTP)
	only("url", c.source == srcLiteral || c.source == srcMinter)
	// A configurable source fetches the peer's token itself; a literal one cannot.
	only("peer-token", c.source == srcLiteral)
	only("peer-identity", c.source != srcLiteral)
	for _, f := range []string{"room", "identity", "name", "metadata", "attribute", "agent-name", "agent-metadata", "agent-deployment"} {
		only(f, c.source != srcLiteral)
	}
	if len(stray) > 0 {
		sort.Strings(stray)
		return usagef("%s cannot be used with the %s source", strings.Join(stray, ", "), c.source)
	}
	if c.media.on && c.source == srcLiteral && c.media.peerToken == "" {
		return usagef("--media with --token needs --peer-token for the second participant (a literal source cannot fetch one)")
	}
	return nil
}

// checkMedia validates the --media flags: the companions need --media, the
// audio-only and video-only switches exclude each other, and a threshold
// must concern a kind that is published.
func (c *config) checkMedia(set map[string]bool, audioOnly, videoOnly bool) error {
	m := &c.media
	if !m.on {
		var stray []string
		for _, f := range []string{"peer-token", "peer-identity", "media-duration", "media-audio-only", "media-video-only", "max-audio-latency", "max-video-latency", "min-fps"} {
			if set[f] {
				stray = append(stray, "--"+f)
			}
		}
		if len(stray) > 0 {
			return usagef("%s needs --media", strings.Join(stray, ", "))
		}
		return nil
	}
	c.join = true
	if c.watch > 0 {
		return usagef("--watch cannot be used with --media (--media-duration says how long it runs)")
	}
	if audioOnly && videoOnly {
		return usagef("choose --media-audio-only or --media-video-only, not both")
	}
	m.audio, m.video = !videoOnly, !audioOnly
	if m.duration <= 0 {
		return usagef("--media-duration must be positive")
	}
	if m.maxAudioLatency < 0 || m.maxVideoLatency < 0 {
		return usagef("--max-audio-latency and --max-video-latency must not be negative")
	}
	if m.minFPS < 0 || m.minFPS != m.minFPS {
		return usagef("--min-fps must be a non-negative number")
	}
	if set["max-audio-latency"] && !m.audio {
		return usagef("--max-audio-latency cannot be used with --media-video-only")
	}
	if (set["max-video-latency"] || set["min-fps"]) && !m.video {
		return usagef("--max-video-latency and --min-fps cannot be used with --media-audio-only")
	}
	return nil
}

func checkHTTPURL(flagName, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("%s: want an http:// or https:// URL", flagName)
	}
	return nil
}

// validHeaderName reports whether s is an HTTP token (RFC 9110 section 5.6.2).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}
