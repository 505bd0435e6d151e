package tokensource

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func BenchmarkCacheHit(b *testing.B) {
	cases := []struct {
		name string
		opts Options
	}{
		{"plain", Options{RoomName: "room", ParticipantIdentity: "alice"}},
		{"attributes", Options{RoomName: "room", ParticipantIdentity: "alice", ParticipantName: "Alice",
			ParticipantAttributes: map[string]string{"team": "blue", "role": "host"}, AgentName: "agent"}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			tok := tokenExp(b, time.Now().Add(time.Hour))
			c := NewCache(Literalish(tok))
			ctx := context.Background()
			if _, err := c.Fetch(ctx, bc.opts); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Fetch(ctx, bc.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var sinkTime time.Time

// BenchmarkTimeNow is the floor under BenchmarkCacheHit: a hit must read the
// wall clock once, and on some virtual machines that alone is slow.
func BenchmarkTimeNow(b *testing.B) {
	for b.Loop() {
		sinkTime = time.Now()
	}
}

func BenchmarkCacheHitParallel(b *testing.B) {
	tok := tokenExp(b, time.Now().Add(time.Hour))
	c := NewCache(Literalish(tok))
	o := Options{RoomName: "room", ParticipantIdentity: "alice"}
	ctx := context.Background()
	if _, err := c.Fetch(ctx, o); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Fetch(ctx, o); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Literalish answers every options with the same token.
func Literalish(tok string) Configurable {
	return Custom(func(context.Context, Options) (Response, error) {
		return Response{ServerURL: "wss://s", ParticipantToken: tok}, nil
	})
}

func BenchmarkCacheMissEndpoint(b *testing.B) {
	m, err := NewMinter(testKey, testSecret, "ws://127.0.0.1:7880")
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(Handler(m))
	defer srv.Close()
	e, _ := NewEndpoint(srv.URL, WithHTTPClient(&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}))
	c := NewCache(e)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		// Distinct options every time: always a miss, through HTTP and a mint.
		if _, err := c.Fetch(ctx, Options{RoomName: "room", ParticipantIdentity: fmt.Sprint("user-", i)}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	m, _ := NewMinter(testKey, testSecret, "ws://h")
	tok, err := m.Mint(Options{RoomName: "room", ParticipantIdentity: "alice", ParticipantName: "Alice",
		ParticipantMetadata: "meta", ParticipantAttributes: map[string]string{"k": "v"}, AgentName: "agent"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(tok); err != nil {
			b.Fatal(err)
		}
	}
}
