package tokensource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestLiteral(t *testing.T) {
	want := Response{ServerURL: "wss://s", ParticipantToken: "t", ParticipantName: "n", RoomName: "r"}
	got, err := Literal(want).Fetch(context.Background())
	if err != nil || got != want {
		t.Errorf("got %v, %v", got, err)
	}
	// Empty credentials fail at Fetch, before any connect.
	for r, wantErr := range map[Response]error{
		{ParticipantToken: "t"}: ErrNoServerURL,
		{ServerURL: "wss://s"}:  ErrNoToken,
		{}:                      ErrNoServerURL,
	} {
		if _, err := Literal(r).Fetch(context.Background()); !errors.Is(err, wantErr) {
			t.Errorf("Literal(%v): err = %v, want %v", r, err, wantErr)
		}
	}
}

func TestLiteralFunc(t *testing.T) {
	calls := 0
	f := LiteralFunc(func(ctx context.Context) (Response, error) {
		calls++
		return Response{ServerURL: "wss://s", ParticipantToken: fmt.Sprint("t", calls)}, nil
	})
	a, _ := f.Fetch(context.Background())
	b, _ := f.Fetch(context.Background())
	if a.ParticipantToken != "t1" || b.ParticipantToken != "t2" {
		t.Errorf("the function should run on every Fetch: %v %v", a, b)
	}
	boom := errors.New("boom")
	if _, err := LiteralFunc(func(context.Context) (Response, error) { return Response{}, boom }).Fetch(context.Background()); err != boom {
		t.Errorf("err = %v", err)
	}
	if _, err := LiteralFunc(func(context.Context) (Response, error) { return Response{ServerURL: "x"}, nil }).Fetch(context.Background()); !errors.Is(err, ErrNoToken) {
		t.Errorf("err = %v", err)
	}
}

func TestCustom(t *testing.T) {
	var got Options
	src := Custom(func(ctx context.Context, o Options) (Response, error) {
		got = o
		return Response{ServerURL: "wss://s", ParticipantToken: "t"}, nil
	})
	o := Options{RoomName: "r", AgentName: "a", ParticipantAttributes: map[string]string{"k": "v"}}
	if _, err := src.Fetch(context.Background(), o); err != nil || !got.Equal(o) {
		t.Errorf("source saw %+v, %v", got, err)
	}
	// No built-in caching (unlike JS's custom source): every Fetch calls fn.
	calls := 0
	counting := Custom(func(context.Context, Options) (Response, error) {
		calls++
		return Response{ServerURL: "wss://s", ParticipantToken: tokenExp(t, time.Now().Add(time.Hour))}, nil
	})
	for range 3 {
		counting.Fetch(context.Background(), o)
	}
	if calls != 3 {
		t.Errorf("%d calls for 3 fetches", calls)
	}
	boom := errors.New("boom")
	if _, err := Custom(func(context.Context, Options) (Response, error) { return Response{}, boom }).Fetch(context.Background(), o); err != boom {
		t.Errorf("err = %v", err)
	}
	if _, err := Custom(func(context.Context, Options) (Response, error) { return Response{}, nil }).Fetch(context.Background(), o); !errors.Is(err, ErrNoServerURL) {
		t.Errorf("err = %v", err)
	}
}

func TestBind(t *testing.T) {
	var got Options
	src := Custom(func(ctx context.Context, o Options) (Response, error) {
		got = o
		return Response{ServerURL: "wss://s", ParticipantToken: "t"}, nil
	})
	attrs := map[string]string{"k": "v"}
	f := Bind(src, Options{RoomName: "r", ParticipantAttributes: attrs})
	attrs["k"] = "changed"
	if _, err := f.Fetch(context.Background()); err != nil || got.RoomName != "r" || got.ParticipantAttributes["k"] != "v" {
		t.Errorf("got %+v %v", got, err)
	}
}

func TestOptionsEqual(t *testing.T) {
	a := Options{RoomName: "r", ParticipantAttributes: map[string]string{"k": "v"}}
	if !a.Equal(Options{RoomName: "r", ParticipantAttributes: map[string]string{"k": "v"}}) {
		t.Error("equal content, different maps")
	}
	if a.Equal(Options{RoomName: "r"}) || a.Equal(Options{RoomName: "r", ParticipantAttributes: map[string]string{"k": "w"}}) {
		t.Error("different attributes compare equal")
	}
	if !(Options{}).Equal(Options{ParticipantAttributes: map[string]string{}}) {
		t.Error("nil and empty attributes differ")
	}
}

// TestTokenNeverInErrors drives every failure path with a response or URL
// that contains a token and checks the error text.
func TestTokenNeverInErrors(t *testing.T) {
	tok := makeToken(t, map[string]any{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix(), "metadata": "private"})
	_, rest, _ := strings.Cut(tok, ".")
	payload, _, _ := strings.Cut(rest, ".")

	serve := func(status int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	cases := map[string]func() error{
		"non-2xx echoing the token": func() error {
			e, _ := NewEndpoint(serve(401, `{"error":"bad token `+tok+`"}`))
			_, err := e.Fetch(context.Background(), Options{})
			return err
		},
		"2xx without server_url": func() error {
			e, _ := NewEndpoint(serve(200, `{"participant_token":"`+tok+`"}`))
			_, err := e.Fetch(context.Background(), Options{})
			return err
		},
		"2xx with a wrongly typed field": func() error {
			e, _ := NewEndpoint(serve(200, `{"participant_token":"`+tok+`","server_url":5}`))
			_, err := e.Fetch(context.Background(), Options{})
			return err
		},
		"2xx with the token as a number-ish value": func() error {
			e, _ := NewEndpoint(serve(200, `{"server_url":"x","participant_token":`+tok+`}`))
			_, err := e.Fetch(context.Background(), Options{})
			return err
		},
		"2xx with trailing data": func() error {
			e, _ := NewEndpoint(serve(200, okBody+tok))
			_, err := e.Fetch(context.Background(), Options{})
			return err
		},
		"2xx too large": func() error {
			e, _ := NewEndpoint(serve(200, `{"participant_token":"`+tok+`"}`), WithMaxBodyBytes(10))
			_, err := e.Fetch(context.Background(), Options{})
			return err
		},
		"transport error with the token in the URL": func() error {
			e, _ := NewEndpoint(closedURL+"/token?access_token="+tok+"#"+tok, WithRetry(0, 0))
			_, err := e.Fetch(context.Background(), Options{})
			return err
		},
		"transport error with the token as user info": func() error {
			u := strings.Replace(closedURL, "http://", "http://user:"+tok+"@", 1)
			e, _ := NewEndpoint(u, WithRetry(0, 0))
			_, err := e.Fetch(context.Background(), Options{})
			return err
		},
		"literal without server URL": func() error {
			_, err := Literal(Response{ParticipantToken: tok}).Fetch(context.Background())
			return err
		},
		"parse of a near-token": func() error {
			_, err := Parse(tok + ".extra")
			return err
		},
		"parse with a bad payload": func() error {
			_, err := Parse("eyJhbGciOiJIUzI1NiJ9." + payload + "x.sig")
			return err
		},
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			err := run()
			if err == nil {
				t.Fatal("expected an error")
			}
			msg := err.Error()
			if strings.Contains(msg, tok) || strings.Contains(msg, payload) || strings.Contains(msg, testSig) {
				t.Errorf("error leaks the token: %s", msg)
			}
		})
	}
}

func TestResponseFormattingRedactsToken(t *testing.T) {
	tok := makeToken(t, map[string]any{"sub": "alice", "exp": 1893456000})
	r := Response{ServerURL: "wss://s", ParticipantToken: tok, RoomName: "r"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("got credentials", "resp", r)
	outputs := map[string]string{
		"%v":  fmt.Sprintf("%v", r),
		"%+v": fmt.Sprintf("%+v", r),
		"%#v": fmt.Sprintf("%#v", r),
		//lint:ignore S1025 the %s verb itself is under test
		"%s":   fmt.Sprintf("%s", r),
		"slog": logs.String(),
	}
	for verb, out := range outputs {
		if strings.Contains(out, testSig) || strings.Contains(out, tok[20:40]) {
			t.Errorf("%s leaks the token: %s", verb, out)
		}
		if !strings.Contains(out, "wss://s") || !strings.Contains(out, "eyJhbGci…") {
			t.Errorf("%s lost useful fields: %s", verb, out)
		}
	}
}

func TestHTTPErrorBodyRedactsJWTs(t *testing.T) {
	tok := makeToken(t, map[string]any{"sub": "alice"})
	got := scrubBody([]byte("invalid token " + tok + " for room"))
	if want := "invalid token " + Redact(tok) + " for room"; got != want {
		t.Errorf("scrubBody = %q, want %q", got, want)
	}
	if got := scrubBody([]byte("host livekit.example.com failed")); got != "host livekit.example.com failed" {
		t.Errorf("ordinary text altered: %q", got)
	}
	if got := scrubBody([]byte{0xff, 'a'}); got != "\uFFFDa" {
		t.Errorf("invalid UTF-8: %q", got)
	}
}

func TestBindForwardsRefreshedTokensToACache(t *testing.T) {
	src, clk := newCounting(t)
	c := NewCache(src, WithClock(clk.Now))
	o := Options{RoomName: "r", ParticipantIdentity: "i"}
	b := Bind(c, o)
	if _, err := b.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	var u TokenUpdater = b
	newer := makeToken(t, map[string]any{"sub": "i", "exp": clk.Now().Add(3 * time.Hour).Unix()})
	if !u.UpdateToken(newer) {
		t.Fatal("refreshed token refused")
	}
	if got, _ := c.Cached(o); got.ParticipantToken != newer {
		t.Fatal("cache behind Bind not updated")
	}
	plain := Bind(Custom(func(context.Context, Options) (Response, error) { return Response{}, nil }), o)
	if plain.UpdateToken(newer) {
		t.Fatal("a source without a cache claimed to take the token")
	}
	plain.InvalidateToken() // a no-op, and no panic

	// The anonymous assertion livekit makes today still matches.
	var f Fixed = b
	if _, ok := f.(interface{ UpdateToken(string) bool }); !ok {
		t.Error("*Bound does not match an anonymous UpdateToken interface")
	}
}

func TestBindInvalidateTokenDropsOnlyItsEntry(t *testing.T) {
	src, clk := newCounting(t)
	c := NewCache(src, WithClock(clk.Now))
	o := Options{RoomName: "r", ParticipantIdentity: "i"}
	other := Options{RoomName: "r", ParticipantIdentity: "j"}
	b := Bind(c, o)
	first, err := b.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mustFetch(t, c, other)
	var inv TokenInvalidator = b
	inv.InvalidateToken()
	if _, ok := c.Cached(o); ok {
		t.Error("entry for the bound options still cached")
	}
	if _, ok := c.Cached(other); !ok {
		t.Error("another entry was dropped")
	}
	second, err := b.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if second.ParticipantToken == first.ParticipantToken || src.calls.Load() != 3 {
		t.Errorf("no fresh fetch after InvalidateToken (%d calls)", src.calls.Load())
	}
}
