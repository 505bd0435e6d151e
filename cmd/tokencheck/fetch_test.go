package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/livekit-ffi-go/sdk/internal/testenv"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/testnet"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

const (
	testKey    = "APItokencheck"
	testSecret = "tokenchecksecret-0123456789abcdef0123456789"
	testWSURL  = "ws://127.0.0.1:7880"
)

func newMinter(t *testing.T, opts ...tokensource.MinterOption) *tokensource.Minter {
	t.Helper()
	m, err := tokensource.NewMinter(testKey, testSecret, testWSURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// mintAt signs a token with the test key as a Minter would have issued it
// at the given time (for ttl) for identity in room: tokensource's test clock
// is not public API.
func mintAt(t *testing.T, issued time.Time, ttl time.Duration, identity, name, room string) string {
	t.Helper()
	tok, err := testenv.MintAt(testKey, testSecret, room, identity, name, issued, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// expiredToken is a token for identity x in room r that expired 50 minutes
// ago.
func expiredToken(t *testing.T) string {
	return mintAt(t, time.Now().Add(-time.Hour), 10*time.Minute, "x", "", "r")
}

// tokenServer is an httptest token endpoint that mints with a Minter and
// remembers what it was asked and what it issued.
type tokenServer struct {
	*httptest.Server
	mu      sync.Mutex
	tokens  []string
	methods []string
	headers []http.Header
	bodies  []map[string]any
}

func newTokenServer(t *testing.T, m *tokensource.Minter) *tokenServer {
	t.Helper()
	ts := &tokenServer{}
	mint := tokensource.Handler(tokensource.Custom(func(ctx context.Context, opts tokensource.Options) (tokensource.Response, error) {
		resp, err := m.Fetch(ctx, opts)
		if err == nil {
			ts.mu.Lock()
			ts.tokens = append(ts.tokens, resp.ParticipantToken)
			ts.mu.Unlock()
		}
		return resp, err
	}))
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var decoded map[string]any
		json.Unmarshal(body, &decoded)
		ts.mu.Lock()
		ts.methods = append(ts.methods, r.Method)
		ts.headers = append(ts.headers, r.Header.Clone())
		ts.bodies = append(ts.bodies, decoded)
		ts.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		mint.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// last returns the one request the server got and the token it issued.
func (ts *tokenServer) last(t *testing.T) (method string, h http.Header, body map[string]any, token string) {
	t.Helper()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.methods) != 1 || len(ts.tokens) != 1 {
		t.Fatalf("token server got %d requests and issued %d tokens, want 1 and 1", len(ts.methods), len(ts.tokens))
	}
	return ts.methods[0], ts.headers[0], ts.bodies[0], ts.tokens[0]
}

func TestEndpointFetch(t *testing.T) {
	ts := newTokenServer(t, newMinter(t))
	r := runTC(t, nil, "--endpoint", ts.URL+"/token?key=querysecret", "--room", "room-a", "--identity", "alice", "--name", "Alice", "--json")
	r.wantCode(t, exitOK)
	ev := r.one(t, "token")
	wantField(t, ev, "identity", "alice")
	wantField(t, ev, "room", "room-a")
	wantField(t, ev, "name", "Alice")
	wantField(t, ev, "server_url", testWSURL)
	wantField(t, ev, "source", "endpoint")
	wantField(t, ev, "issuer", testKey)
	if ev["valid"] != true {
		t.Errorf("valid = %v, want true", ev["valid"])
	}
	for _, k := range []string{"issued_at", "not_before", "expires_at"} {
		s, _ := ev[k].(string)
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			t.Errorf("%s = %q, want RFC 3339: %v", k, s, err)
		}
	}
	if _, ok := ev["token"]; ok {
		t.Errorf("token field present without --show-token")
	}
	_, _, _, token := ts.last(t)
	r.wantAbsent(t, "the token", token)
	wantField(t, ev, "token_redacted", tokensource.Redact(token))
	r.wantAbsent(t, "the endpoint's query string", "querysecret")
}

func TestShowToken(t *testing.T) {
	ts := newTokenServer(t, newMinter(t))
	r := runTC(t, nil, "--endpoint", ts.URL, "--identity", "bob", "--json", "--show-token")
	r.wantCode(t, exitOK)
	_, _, _, token := ts.last(t)
	wantField(t, r.one(t, "token"), "token", token)

	// Human mode prints it too, and only with the flag.
	r = runTC(t, nil, "--endpoint", ts.URL, "--identity", "bob", "--show-token")
	r.wantCode(t, exitOK)
	ts.mu.Lock()
	token = ts.tokens[len(ts.tokens)-1]
	ts.mu.Unlock()
	if !strings.Contains(r.stdout, token) {
		t.Errorf("--show-token: token missing from human output:\n%s", r.stdout)
	}
}

func TestHeadersAndMethodPassedThrough(t *testing.T) {
	ts := newTokenServer(t, newMinter(t))
	r := runTC(t, nil, "--endpoint", ts.URL+"/token",
		"--method", "PUT",
		"--header", "Authorization: Bearer app-credential",
		"--header", "x-custom:  spaced value ",
		"--room", "r", "--identity", "i", "--attribute", "k=v", "--agent-name", "helper",
		"--json")
	r.wantCode(t, exitOK)
	method, h, body, _ := ts.last(t)
	if method != http.MethodPut {
		t.Errorf("method %s, want PUT", method)
	}
	if got := h.Get("Authorization"); got != "Bearer app-credential" {
		t.Errorf("Authorization = %q", got)
	}
	if got := h.Get("X-Custom"); got != "spaced value" {
		t.Errorf("X-Custom = %q, want %q", got, "spaced value")
	}
	if body["room_name"] != "r" || body["participant_identity"] != "i" {
		t.Errorf("request body %v lacks room_name/participant_identity", body)
	}
	if attrs, _ := body["participant_attributes"].(map[string]any); attrs["k"] != "v" {
		t.Errorf("request body participant_attributes = %v", body["participant_attributes"])
	}
	if _, ok := body["room_config"]; !ok {
		t.Errorf("request body has no room_config for --agent-name: %v", body)
	}
	wantAgents(t, r.one(t, "token"), "helper")
}

func wantAgents(t *testing.T, ev map[string]any, want ...string) {
	t.Helper()
	raw, _ := ev["agents"].([]any)
	var got []string
	for _, a := range raw {
		s, _ := a.(string)
		got = append(got, s)
	}
	if !slices.Equal(got, want) {
		t.Errorf("agents = %v, want %v", got, want)
	}
}

func TestFetchFailures(t *testing.T) {
	// A token a broken endpoint leaks into its error body must not be
	// echoed either.
	leaked, err := newMinter(t).Mint(tokensource.Options{RoomName: "r", ParticipantIdentity: "leak"})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(status int, body string) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, body)
		}))
		t.Cleanup(s.Close)
		return s.URL
	}
	expired := serve(200, `{"server_url":"`+testWSURL+`","participant_token":"`+expiredToken(t)+`"}`)

	cases := []struct {
		name     string
		url      string
		wantMsg  string // in the error event's message
		tokenRow bool   // a token event with valid=false instead of an error event
	}{
		{name: "500", url: serve(500, `{"error":"boom `+leaked+`"}`), wantMsg: "500"},
		{name: "malformed JSON", url: serve(200, `{"server_url": "ws://x", "participant_token": `), wantMsg: "malformed"},
		{name: "missing token", url: serve(200, `{"server_url": "ws://x"}`), wantMsg: "no participant token"},
		{name: "unreachable", url: "http://" + testnet.ClosedPort(t) + "/token", wantMsg: "connection refused"},
		{name: "expired", url: expired, tokenRow: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []string{"--json", "human"} {
				args := []string{"--endpoint", tc.url, "--identity", "x", "--room", "r"}
				if mode == "--json" {
					args = append(args, mode)
				}
				r := runTC(t, nil, args...)
				r.wantCode(t, exitToken)
				r.wantAbsent(t, "the leaked token", leaked)
				if mode != "--json" {
					if tc.tokenRow {
						if !strings.Contains(r.stdout, "INVALID: ") {
							t.Errorf("human output does not say the token is invalid:\n%s", r.stdout)
						}
					} else if !strings.Contains(r.stderr, tc.wantMsg) {
						t.Errorf("stderr does not mention %q:\n%s", tc.wantMsg, r.stderr)
					}
					continue
				}
				if tc.tokenRow {
					ev := r.one(t, "token")
					if ev["valid"] != false {
						t.Errorf("valid = %v, want false", ev["valid"])
					}
					if msg, _ := ev["error"].(string); !strings.Contains(msg, "expired") {
						t.Errorf("error = %q, want it to say expired", msg)
					}
					if len(r.named("error")) != 0 {
						t.Errorf("unexpected error event")
					}
					continue
				}
				ev := r.one(t, "error")
				wantField(t, ev, "stage", "fetch")
				if msg, _ := ev["message"].(string); !strings.Contains(msg, tc.wantMsg) {
					t.Errorf("message = %q, want it to contain %q", msg, tc.wantMsg)
				}
				if len(r.named("token")) != 0 {
					t.Errorf("token event after a failed fetch")
				}
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		name    string
		env     []string
		args    []string
		wantErr string
	}{
		{"no source", nil, nil, "no token source"},
		{"two sources", nil, []string{"--token", "t", "--url", testWSURL, "--endpoint", "http://127.0.0.1:1/"}, "choose one token source"},
		{"dev and minter", nil, []string{"--dev", "--api-key", "k"}, "choose one token source"},
		{"bad attribute", nil, []string{"--endpoint", "http://127.0.0.1:1/", "--attribute", "novalue"}, "--attribute"},
		{"empty attribute key", nil, []string{"--endpoint", "http://127.0.0.1:1/", "--attribute", "=v"}, "--attribute"},
		{"header without colon", nil, []string{"--endpoint", "http://127.0.0.1:1/", "--header", "Authorization Bearer x"}, "--header"},
		{"header with bad name", nil, []string{"--endpoint", "http://127.0.0.1:1/", "--header", "Bad Name: x"}, "--header"},
		{"endpoint not http", nil, []string{"--endpoint", "ftp://example/"}, "--endpoint"},
		{"token without url", nil, []string{"--token", "t"}, "--url"},
		{"room with literal", nil, []string{"--token", "t", "--url", testWSURL, "--room", "r"}, "--room"},
		{"header with minter", nil, []string{"--api-key", "k", "--api-secret", testSecret, "--url", testWSURL, "--header", "A: b"}, "--header"},
		{"minter without secret", nil, []string{"--api-key", "k", "--url", testWSURL}, "--api-secret"},
		{"both env sources", []string{envAPIKey + "=k", envAPISecret + "=" + testSecret, envSandboxID + "=sb"}, nil, envSandboxID},
		{"unknown flag", nil, []string{"--endpoint", "http://127.0.0.1:1/", "--bogus"}, "bogus"},
		{"stray argument", nil, []string{"--endpoint", "http://127.0.0.1:1/", "extra"}, "extra"},
		{"negative watch", nil, []string{"--dev", "--watch", "-1s"}, "--watch"},
		{"negative leeway", nil, []string{"--token", "t", "--url", testWSURL, "--leeway", "-5m"}, "--leeway"},
		{"method with a space", nil, []string{"--endpoint", "http://127.0.0.1:1/", "--method", "GE T"}, "--method"},
		{"empty method", nil, []string{"--endpoint", "http://127.0.0.1:1/", "--method", ""}, "--method"},
		{"bad duration", nil, []string{"--dev", "--watch=abc"}, "-watch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runTC(t, tc.env, append(tc.args, "--json")...)
			r.wantCode(t, exitUsage)
			if !strings.Contains(r.stderr, tc.wantErr) {
				t.Errorf("stderr does not mention %q:\n%s", tc.wantErr, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty on a usage error:\n%s", r.stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	r := runTC(t, nil, "-h")
	r.wantCode(t, exitOK)
	for _, want := range []string{"--endpoint", "-expect-refresh", "Exit codes", "130 interrupted", "143 terminated"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("help does not mention %q", want)
		}
	}
}

// Environment defaults complete a source but never conflict with an
// explicit one.
func TestEnvironmentDefaults(t *testing.T) {
	ts := newTokenServer(t, newMinter(t))
	minterEnv := []string{envAPIKey + "=APIfromenv", envAPISecret + "=" + testSecret, envURL + "=ws://from-env:7880", envSandboxID + "=sb-env"}

	t.Run("explicit endpoint wins", func(t *testing.T) {
		r := runTC(t, minterEnv, "--endpoint", ts.URL, "--identity", "e", "--json")
		r.wantCode(t, exitOK)
		ev := r.one(t, "token")
		wantField(t, ev, "source", "endpoint")
		wantField(t, ev, "issuer", testKey)
	})
	t.Run("minter from env", func(t *testing.T) {
		r := runTC(t, minterEnv[:3], "--identity", "e", "--room", "r", "--json")
		r.wantCode(t, exitOK)
		ev := r.one(t, "token")
		wantField(t, ev, "source", "minter")
		wantField(t, ev, "issuer", "APIfromenv")
		wantField(t, ev, "server_url", "ws://from-env:7880")
		r.wantAbsent(t, "the API secret", testSecret)
	})
	t.Run("key flag, secret from env", func(t *testing.T) {
		r := runTC(t, minterEnv, "--api-key", "APIflag", "--identity", "e", "--json")
		r.wantCode(t, exitOK)
		wantField(t, r.one(t, "token"), "issuer", "APIflag")
	})
	t.Run("literal url from env", func(t *testing.T) {
		tok, err := newMinter(t).Mint(tokensource.Options{RoomName: "r", ParticipantIdentity: "lit"})
		if err != nil {
			t.Fatal(err)
		}
		r := runTC(t, minterEnv, "--token", tok, "--json")
		r.wantCode(t, exitOK)
		ev := r.one(t, "token")
		wantField(t, ev, "source", "literal")
		wantField(t, ev, "server_url", "ws://from-env:7880")
	})
}

func TestLiteralSource(t *testing.T) {
	// Issued two minutes ago, so the summary shows a relative past time.
	tok := mintAt(t, time.Now().Add(-2*time.Minute), 10*time.Minute, "lit", "Lit", "lit-room")

	r := runTC(t, nil, "--token", tok, "--url", "wss://example.livekit.cloud", "--json")
	r.wantCode(t, exitOK)
	ev := r.one(t, "token")
	wantField(t, ev, "source", "literal")
	wantField(t, ev, "server_url", "wss://example.livekit.cloud")
	wantField(t, ev, "identity", "lit")
	wantField(t, ev, "room", "lit-room")
	wantField(t, ev, "name", "Lit")
	if ev["valid"] != true {
		t.Errorf("valid = %v", ev["valid"])
	}
	r.wantAbsent(t, "the token", tok)

	// The readable summary: relative times, redacted token.
	r = runTC(t, nil, "--token", tok, "--url", "wss://example.livekit.cloud")
	r.wantCode(t, exitOK)
	r.wantAbsent(t, "the token", tok)
	for _, want := range []string{tokensource.Redact(tok), "identity    lit", "room        lit-room", " ago (", "expires     in ", "status      valid"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("human output lacks %q:\n%s", want, r.stdout)
		}
	}

	// Not a JWT at all: invalid, and still not echoed.
	r = runTC(t, nil, "--token", "opaque-not-a-jwt-credential", "--url", testWSURL, "--json")
	r.wantCode(t, exitToken)
	ev = r.one(t, "token")
	if ev["valid"] != false || ev["error"] == nil {
		t.Errorf("opaque token: valid=%v error=%v, want false and an error", ev["valid"], ev["error"])
	}
	r.wantAbsent(t, "the opaque token", "opaque-not-a-jwt-credential")
}

func TestMinterSource(t *testing.T) {
	r := runTC(t, nil, "--api-key", testKey, "--api-secret", testSecret, "--url", testWSURL,
		"--room", "minted-room", "--identity", "minted", "--name", "Minted", "--metadata", `{"m":1}`,
		"--attribute", "team=blue", "--attribute", "expr=a=b",
		"--agent-name", "helper", "--agent-metadata", "am",
		"--json")
	r.wantCode(t, exitOK)
	ev := r.one(t, "token")
	wantField(t, ev, "source", "minter")
	wantField(t, ev, "issuer", testKey)
	wantField(t, ev, "identity", "minted")
	wantField(t, ev, "room", "minted-room")
	wantField(t, ev, "name", "Minted")
	wantField(t, ev, "metadata", `{"m":1}`)
	wantField(t, ev, "server_url", testWSURL)
	attrs, _ := ev["attributes"].(map[string]any)
	if fmt.Sprint(attrs) != fmt.Sprint(map[string]any{"team": "blue", "expr": "a=b"}) {
		t.Errorf("attributes = %v", attrs)
	}
	wantAgents(t, ev, "helper")
	grants, _ := ev["grants"].([]any)
	if !slices.Contains(grants, any("roomJoin")) {
		t.Errorf("grants = %v, want roomJoin among them", grants)
	}
	r.wantAbsent(t, "the API secret", testSecret)
}

func TestSandboxSource(t *testing.T) {
	m := newMinter(t)
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" id="+r.Header.Get("X-Sandbox-ID"))
		mu.Unlock()
		if r.URL.Path != "/api/v2/sandbox/connection-details" || r.Header.Get("X-Sandbox-ID") != "sb-1234" {
			http.Error(w, `{"error":"wrong path or id"}`, http.StatusNotFound)
			return
		}
		tokensource.Handler(m).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	r := runTC(t, nil, "--sandbox-id", "sb-1234", "--sandbox-base-url", srv.URL, "--room", "sbx", "--json")
	r.wantCode(t, exitOK)
	ev := r.one(t, "token")
	wantField(t, ev, "source", "sandbox")
	wantField(t, ev, "room", "sbx")

	// The id from the environment, the base URL from the flag.
	r = runTC(t, []string{envSandboxID + "=sb-1234"}, "--sandbox-base-url", srv.URL, "--json")
	r.wantCode(t, exitOK)
	wantField(t, r.one(t, "token"), "source", "sandbox")

	// A wrong id gets the server's 404: a fetch failure.
	r = runTC(t, nil, "--sandbox-id", "other", "--sandbox-base-url", srv.URL, "--json")
	r.wantCode(t, exitToken)
	wantField(t, r.one(t, "error"), "stage", "fetch")

	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"POST /api/v2/sandbox/connection-details id=sb-1234",
		"POST /api/v2/sandbox/connection-details id=sb-1234",
		"POST /api/v2/sandbox/connection-details id=other",
	}
	if !slices.Equal(seen, want) {
		t.Errorf("sandbox server saw %q, want %q", seen, want)
	}
}
