package tokensource

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// paddedSource is a Configurable outside this package's helpers: it returns r
// untouched, so only the cache's own checks apply.
type paddedSource struct{ r Response }

func (s paddedSource) Fetch(context.Context, Options) (Response, error) { return s.r, nil }

// TestSourcesTrimSurroundingWhitespace: the native library trims the token
// before use, so every source hands out the trimmed token; the one a server
// quotes back is then the one everything else knows (and redacts).
func TestSourcesTrimSurroundingWhitespace(t *testing.T) {
	tok := tokenExp(t, time.Now().Add(time.Hour))
	padded := Response{ServerURL: " wss://s\n", ParticipantToken: "\t" + tok + " \r\n", ParticipantName: " n ", RoomName: " r "}
	want := Response{ServerURL: "wss://s", ParticipantToken: tok, ParticipantName: " n ", RoomName: " r "}

	body := `{"server_url":" wss://s\n","participant_token":"\t` + tok + ` \r\n","participant_name":" n ","room_name":" r "}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	endpoint, err := NewEndpoint(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	handler := httptest.NewServer(Handler(paddedSource{padded}))
	defer handler.Close()
	viaHandler, err := NewEndpoint(handler.URL)
	if err != nil {
		t.Fatal(err)
	}
	fn := func(context.Context) (Response, error) { return padded, nil }
	cfn := func(context.Context, Options) (Response, error) { return padded, nil }

	sources := map[string]Fixed{
		"Literal":     Literal(padded),
		"LiteralFunc": LiteralFunc(fn),
		"Custom":      Bind(Custom(cfn), Options{}),
		"Bind(raw)":   Bind(paddedSource{padded}, Options{}),
		"Endpoint":    Bind(endpoint, Options{}),
		"Handler":     Bind(viaHandler, Options{}),
		"Cache(raw)": LiteralFunc(func(ctx context.Context) (Response, error) {
			return NewCache(paddedSource{padded}).Fetch(ctx, Options{})
		}),
		"Cache(raw) hit": cachedTwice(paddedSource{padded}),
	}
	for name, src := range sources {
		got, err := src.Fetch(context.Background())
		if err != nil || got != want {
			t.Errorf("%s: got %#v, %v; want %#v", name, got, err, want)
		}
	}

	// Whitespace only is no credential at all.
	for _, r := range []Response{
		{ServerURL: "wss://s", ParticipantToken: " \n\t"},
		{ServerURL: "  ", ParticipantToken: tok},
	} {
		wantErr := ErrNoToken
		if strings.TrimSpace(r.ServerURL) == "" {
			wantErr = ErrNoServerURL
		}
		if err := r.Validate(); !errors.Is(err, wantErr) {
			t.Errorf("Validate(%v) = %v, want %v", r, err, wantErr)
		}
		if _, err := Literal(r).Fetch(context.Background()); !errors.Is(err, wantErr) {
			t.Errorf("Literal(%v): %v, want %v", r, err, wantErr)
		}
	}
	if _, err := NewMinter("k", "s", " \n"); !errors.Is(err, ErrNoServerURL) {
		t.Errorf("NewMinter with a blank URL: %v", err)
	}
}

// cachedTwice fetches through a cache twice, so the second answer is a hit.
func cachedTwice(src Configurable) Fixed {
	c := NewCache(src)
	return LiteralFunc(func(ctx context.Context) (Response, error) {
		if _, err := c.Fetch(ctx, Options{}); err != nil {
			return Response{}, err
		}
		r, ok := c.Cached(Options{})
		if !ok {
			return Response{}, errors.New("not cached")
		}
		return r, nil
	})
}

func TestCacheUpdateTokenTrims(t *testing.T) {
	src, clk := newCounting(t)
	c := NewCache(src, WithClock(clk.Now))
	o := Options{RoomName: "r"}
	mustFetch(t, c, o)
	newer := tokenExp(t, clk.Now().Add(2*time.Hour))
	if !c.UpdateToken(o, newer+"\n") {
		t.Fatal("refused")
	}
	if got, _ := c.Cached(o); got.ParticipantToken != newer {
		t.Errorf("cached %q, want the trimmed token", got.ParticipantToken)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pass@example.com/token?key=secret#frag": "https://example.com/token",
		"http://127.0.0.1:8080/t":                             "http://127.0.0.1:8080/t",
		"://bad":                                              "(unparseable URL)",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
