package tokensource

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorded is one request as the test server saw it.
type recorded struct {
	method string
	path   string
	header http.Header
	body   string
}

// recorder is an httptest server that records requests and answers with a
// fixed status and body.
type recorder struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []recorded
	calls atomic.Int32
}

func newRecorder(t *testing.T, status int, body string) *recorder {
	t.Helper()
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, recorded{req.Method, req.URL.Path, req.Header.Clone(), string(b)})
		r.mu.Unlock()
		r.calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) last(t *testing.T) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("no request received")
	}
	return r.reqs[len(r.reqs)-1]
}

const okBody = `{"server_url":"wss://example.livekit.cloud","participant_token":"tok"}`

func TestEndpointRequestBody(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string // exact bytes on the wire
	}{
		{"no options sends {}", Options{}, `{}`},
		{"empty attributes map is omitted", Options{ParticipantAttributes: map[string]string{}}, `{}`},
		{"only provided fields, no room_config", Options{RoomName: "r", ParticipantIdentity: "i"},
			`{"room_name":"r","participant_identity":"i"}`},
		{"all fields, snake_case, one agent entry", Options{
			RoomName: "r", ParticipantName: "n", ParticipantIdentity: "i", ParticipantMetadata: "m",
			ParticipantAttributes: map[string]string{"k": "v", "a": "b"},
			AgentName:             "a", AgentMetadata: "am", AgentDeployment: "d",
		}, `{"room_name":"r","participant_name":"n","participant_identity":"i","participant_metadata":"m",` +
			`"participant_attributes":{"a":"b","k":"v"},` +
			`"room_config":{"agents":[{"agent_name":"a","metadata":"am","deployment":"d"}]}}`},
		{"agent name alone", Options{AgentName: "a"}, `{"room_config":{"agents":[{"agent_name":"a"}]}}`},
		{"agent metadata alone still dispatches", Options{AgentMetadata: "am"}, `{"room_config":{"agents":[{"metadata":"am"}]}}`},
		{"agent deployment alone still dispatches", Options{AgentDeployment: "d"}, `{"room_config":{"agents":[{"deployment":"d"}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRecorder(t, 200, okBody)
			e, err := NewEndpoint(srv.URL + "/token")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Fetch(context.Background(), tt.opts); err != nil {
				t.Fatal(err)
			}
			got := srv.last(t)
			if got.body != tt.want {
				t.Errorf("body\n got %s\nwant %s", got.body, tt.want)
			}
			if got.method != http.MethodPost {
				t.Errorf("method %s, want POST by default", got.method)
			}
			if ct := got.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if got.path != "/token" {
				t.Errorf("path %q", got.path)
			}
		})
	}
}

func TestEndpointHeaders(t *testing.T) {
	srv := newRecorder(t, 200, okBody)
	e, err := NewEndpoint(srv.URL,
		WithHeader("Authorization", "Bearer abc"),
		WithHeader("X-Multi", "1"), WithHeader("X-Multi", "2"),
		WithHeader("Content-Type", "application/json; charset=utf-8"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Fetch(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	h := srv.last(t).header
	if got := h.Get("Authorization"); got != "Bearer abc" {
		t.Errorf("Authorization %q", got)
	}
	if got := h.Values("X-Multi"); len(got) != 2 || got[0] != "1" || got[1] != "2" {
		t.Errorf("X-Multi %q", got)
	}
	// Caller headers are applied after the defaults, so they win.
	if got := h.Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q: caller header should override the default", got)
	}
}

func TestEndpointGETSendsBody(t *testing.T) {
	srv := newRecorder(t, 200, okBody)
	e, err := NewEndpoint(srv.URL, WithMethod("get"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Fetch(context.Background(), Options{RoomName: "r"}); err != nil {
		t.Fatal(err)
	}
	got := srv.last(t)
	if got.method != http.MethodGet || got.body != `{"room_name":"r"}` {
		t.Errorf("got %s %q, want GET with the JSON body", got.method, got.body)
	}
}

func TestEndpointResponses(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    Response
		wantErr error
	}{
		{"snake_case minimal", 200, `{"server_url":"wss://s","participant_token":"t"}`,
			Response{ServerURL: "wss://s", ParticipantToken: "t"}, nil},
		{"snake_case full", 200, `{"server_url":"wss://s","participant_token":"t","participant_name":"n","room_name":"r"}`,
			Response{"wss://s", "t", "n", "r"}, nil},
		{"camelCase fallback", 200, `{"serverUrl":"wss://s","participantToken":"t","participantName":"n","roomName":"r"}`,
			Response{"wss://s", "t", "n", "r"}, nil},
		{"snake_case wins over camelCase", 200, `{"serverUrl":"wss://old","server_url":"wss://new","participant_token":"t"}`,
			Response{ServerURL: "wss://new", ParticipantToken: "t"}, nil},
		{"unknown fields ignored", 200, `{"server_url":"wss://s","participant_token":"t","extra":{"x":[1,2]},"n":1}`,
			Response{ServerURL: "wss://s", ParticipantToken: "t"}, nil},
		{"201 accepted", 201, okBody, Response{ServerURL: "wss://example.livekit.cloud", ParticipantToken: "tok"}, nil},
		{"202 accepted", 202, okBody, Response{ServerURL: "wss://example.livekit.cloud", ParticipantToken: "tok"}, nil},
		{"missing server_url", 200, `{"participant_token":"t"}`, Response{}, ErrNoServerURL},
		{"missing participant_token", 200, `{"server_url":"wss://s"}`, Response{}, ErrNoToken},
		{"empty object", 200, `{}`, Response{}, ErrNoServerURL},
		{"malformed JSON", 200, `{"server_url":`, Response{}, errMalformedResponse},
		{"not an object", 200, `["wss://s","t"]`, Response{}, errMalformedResponse},
		{"null", 200, `null`, Response{}, errMalformedResponse},
		{"empty body", 200, ``, Response{}, errMalformedResponse},
		{"wrong type", 200, `{"server_url":1,"participant_token":"t"}`, Response{}, errMalformedResponse},
		{"trailing garbage", 200, okBody + `x`, Response{}, errMalformedResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRecorder(t, tt.status, tt.body)
			e, err := NewEndpoint(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Fetch(context.Background(), Options{})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if got != (Response{}) {
					t.Errorf("response %v on error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestEndpointNon2xx(t *testing.T) {
	for _, status := range []int{301, 400, 401, 403, 404, 500} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := newRecorder(t, status, `{"error":"nope"}`)
			e, err := NewEndpoint(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.Fetch(context.Background(), Options{})
			var he *HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("err = %v, want *HTTPError", err)
			}
			if he.StatusCode != status || he.Body != `{"error":"nope"}` {
				t.Errorf("got status %d body %q", he.StatusCode, he.Body)
			}
			if !strings.Contains(err.Error(), http.StatusText(status)) || !strings.Contains(err.Error(), "nope") {
				t.Errorf("message %q should carry status and body", err)
			}
			if n := srv.calls.Load(); n != 1 {
				t.Errorf("%d calls; %d is not retried", n, status)
			}
		})
	}
}

func TestEndpointErrorBodyIsBounded(t *testing.T) {
	srv := newRecorder(t, 500, strings.Repeat("x", 10_000))
	e, _ := NewEndpoint(srv.URL)
	_, err := e.Fetch(context.Background(), Options{})
	var he *HTTPError
	if !errors.As(err, &he) {
		t.Fatal(err)
	}
	if len(he.Body) != maxErrorBodyRead {
		t.Errorf("body prefix is %d bytes, want %d", len(he.Body), maxErrorBodyRead)
	}
}

func TestEndpointBodyLimit(t *testing.T) {
	big := `{"server_url":"wss://s","participant_token":"t","pad":"` + strings.Repeat("p", 2000) + `"}`
	srv := newRecorder(t, 200, big)
	e, err := NewEndpoint(srv.URL, WithMaxBodyBytes(1000))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Fetch(context.Background(), Options{}); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("err = %v, want ErrBodyTooLarge", err)
	}
	e, _ = NewEndpoint(srv.URL, WithMaxBodyBytes(int64(len(big))))
	if _, err := e.Fetch(context.Background(), Options{}); err != nil {
		t.Fatalf("a body exactly at the limit should pass: %v", err)
	}
}

func TestEndpointDoesNotCache(t *testing.T) {
	// Caching is an opt-in decorator: a bare endpoint asks every time.
	srv := newRecorder(t, 200, okBody)
	e, _ := NewEndpoint(srv.URL)
	for range 3 {
		if _, err := e.Fetch(context.Background(), Options{RoomName: "r"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.calls.Load(); n != 3 {
		t.Errorf("%d upstream calls, want 3", n)
	}
}

func TestNewEndpointErrors(t *testing.T) {
	tests := []struct {
		name string
		url  string
		opts []EndpointOption
	}{
		{"relative URL", "/token", nil},
		{"ftp URL", "ftp://host/x", nil},
		{"no host", "http://", nil},
		{"bad method", "http://h", []EndpointOption{WithMethod("PO ST")}},
		{"empty method", "http://h", []EndpointOption{WithMethod(" ")}},
		{"nil client", "http://h", []EndpointOption{WithHTTPClient(nil)}},
		{"negative retries", "http://h", []EndpointOption{WithRetry(-1, 0)}},
		{"zero body limit", "http://h", []EndpointOption{WithMaxBodyBytes(0)}},
		{"base URL is for dev server only", "http://h", []EndpointOption{WithBaseURL("http://x")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if e, err := NewEndpoint(tt.url, tt.opts...); err == nil {
				t.Errorf("got %v, want an error", e)
			}
		})
	}
}

func TestEndpointUsesCallerHTTPClient(t *testing.T) {
	srv := newRecorder(t, 200, okBody)
	var used atomic.Bool
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used.Store(true)
		return http.DefaultTransport.RoundTrip(r)
	})}
	e, _ := NewEndpoint(srv.URL, WithHTTPClient(client))
	if _, err := e.Fetch(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	if !used.Load() {
		t.Error("the caller's client was not used")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// hangingServer never answers until the test ends.
func hangingServer(t *testing.T) *httptest.Server {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv
}

func TestEndpointTimeout(t *testing.T) {
	e, _ := NewEndpoint("http://127.0.0.1:1")
	if e.timeout != DefaultTimeout || DefaultTimeout <= 0 {
		t.Fatalf("default timeout %v, want a positive default", e.timeout)
	}

	srv := hangingServer(t)
	e, _ = NewEndpoint(srv.URL, WithTimeout(50*time.Millisecond))
	if _, err := e.Fetch(context.Background(), Options{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("own timeout: err = %v, want DeadlineExceeded", err)
	}

	// The caller's shorter deadline wins over a long source timeout.
	e, _ = NewEndpoint(srv.URL, WithTimeout(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := e.Fetch(ctx, Options{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("caller deadline: err = %v, want DeadlineExceeded", err)
	}
}

func TestDevServer(t *testing.T) {
	srv := newRecorder(t, 200, okBody)
	e, err := NewDevServer("  sandbox-123\t\n", WithBaseURL(srv.URL+"/"), WithHeader("X-Sandbox-ID", "caller"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Fetch(context.Background(), Options{AgentName: "a"}); err != nil {
		t.Fatal(err)
	}
	got := srv.last(t)
	if got.path != "/api/v2/sandbox/connection-details" {
		t.Errorf("path %q", got.path)
	}
	if v := got.header.Values("X-Sandbox-ID"); len(v) != 1 || v[0] != "sandbox-123" {
		t.Errorf("X-Sandbox-ID %q, want the trimmed id only", v)
	}
	if got.method != http.MethodPost || got.body != `{"room_config":{"agents":[{"agent_name":"a"}]}}` {
		t.Errorf("got %s %s", got.method, got.body)
	}

	e, err = NewDevServer("abc")
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://cloud-api.livekit.io/api/v2/sandbox/connection-details"; e.URL() != want {
		t.Errorf("default URL %q, want %q", e.URL(), want)
	}
	for _, id := range []string{"", "   ", "\t\n"} {
		if _, err := NewDevServer(id); !errors.Is(err, ErrEmptyDevServerID) {
			t.Errorf("NewDevServer(%q) err = %v", id, err)
		}
	}
}

func TestDecodeRequestRoundTrip(t *testing.T) {
	opts := []Options{
		{},
		{RoomName: "r", ParticipantAttributes: map[string]string{"a": "b"}},
		{RoomName: "r", ParticipantName: "n", ParticipantIdentity: "i", ParticipantMetadata: "m",
			ParticipantAttributes: map[string]string{"k": "v"}, AgentName: "a", AgentMetadata: "am", AgentDeployment: "d"},
	}
	for _, o := range opts {
		got, err := decodeRequest(encodeRequest(o))
		if err != nil || !got.Equal(o) {
			t.Errorf("round trip of %+v gave %+v, %v", o, got, err)
		}
	}
	camel := `{"roomName":"r","participantName":"n","participantIdentity":"i","participantMetadata":"m",` +
		`"participantAttributes":{"k":"v"},"roomConfig":{"agents":[{"agentName":"a","metadata":"am"}]}}`
	got, err := decodeRequest([]byte(camel))
	want := Options{RoomName: "r", ParticipantName: "n", ParticipantIdentity: "i", ParticipantMetadata: "m",
		ParticipantAttributes: map[string]string{"k": "v"}, AgentName: "a", AgentMetadata: "am"}
	if err != nil || !got.Equal(want) {
		t.Errorf("camelCase request: %+v, %v", got, err)
	}
	if _, err := decodeRequest([]byte(`{"room_config":{"agents":[{},{}]}}`)); !errors.Is(err, errManyAgents) {
		t.Errorf("two agents: %v", err)
	}
}

func TestHandler(t *testing.T) {
	var seen Options
	src := Custom(func(ctx context.Context, o Options) (Response, error) {
		seen = o
		switch o.RoomName {
		case "forbidden":
			return Response{}, &HTTPError{StatusCode: http.StatusForbidden}
		case "broken":
			return Response{}, errors.New("database password is hunter2")
		}
		return Response{ServerURL: "wss://s", ParticipantToken: "t", RoomName: o.RoomName}, nil
	})
	srv := httptest.NewServer(Handler(src))
	defer srv.Close()

	post := func(body string) (int, string) {
		t.Helper()
		r, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if code, body := post(`{"room_name":"r","participant_attributes":{"k":"v"}}`); code != 200 ||
		body != `{"server_url":"wss://s","participant_token":"t","room_name":"r"}` {
		t.Errorf("got %d %s", code, body)
	}
	if seen.ParticipantAttributes["k"] != "v" {
		t.Errorf("source saw %+v", seen)
	}
	if code, _ := post(``); code != 200 || !seen.Equal(Options{}) {
		t.Errorf("empty body: %d %+v", code, seen)
	}
	if code, _ := post(`{not json`); code != 400 {
		t.Errorf("bad JSON: %d", code)
	}
	if code, _ := post(`{"room_name":"forbidden"}`); code != 403 {
		t.Errorf("4xx passthrough: %d", code)
	}
	code, body := post(`{"room_name":"broken"}`)
	if code != 500 || strings.Contains(body, "hunter2") {
		t.Errorf("internal error: %d %s", code, body)
	}
	if code, _ := post(strings.Repeat(" ", maxRequestBytes+1)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", code)
	}
}

func TestEndpointAgainstHandlerWithMinter(t *testing.T) {
	m, err := NewMinter("devkey", "secretsecretsecretsecretsecretsecret", "ws://127.0.0.1:7880")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(m))
	defer srv.Close()
	e, _ := NewEndpoint(srv.URL)
	r, err := e.Fetch(context.Background(), Options{RoomName: "r", ParticipantIdentity: "i", AgentName: "a"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(r.ParticipantToken)
	if err != nil {
		t.Fatal(err)
	}
	if r.ServerURL != "ws://127.0.0.1:7880" || r.RoomName != "r" || c.Identity != "i" || c.Video.Room != "r" ||
		!c.DispatchesAgent() || c.RoomConfig.Agents[0].AgentName != "a" {
		t.Errorf("got %v / %+v", r, c)
	}
}
