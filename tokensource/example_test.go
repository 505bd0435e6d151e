package tokensource_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/livekit-ffi-go/sdk/tokensource"
)

func ExampleLiteral() {
	src := tokensource.Literal(tokensource.Response{
		ServerURL:        "wss://example.livekit.cloud",
		ParticipantToken: "<token>",
	})
	r, err := src.Fetch(context.Background())
	fmt.Println(r.ServerURL, err)

	// Empty credentials fail before any connection attempt.
	_, err = tokensource.Literal(tokensource.Response{ServerURL: "wss://example.livekit.cloud"}).Fetch(context.Background())
	fmt.Println(err)
	// Output:
	// wss://example.livekit.cloud <nil>
	// tokensource: response has no participant token
}

func ExampleLiteralFunc() {
	src := tokensource.LiteralFunc(func(ctx context.Context) (tokensource.Response, error) {
		// e.g. read credentials your app received some other way
		return tokensource.Response{ServerURL: "wss://example.livekit.cloud", ParticipantToken: "<token>"}, nil
	})
	r, err := src.Fetch(context.Background())
	fmt.Println(r.ServerURL, err)
	// Output: wss://example.livekit.cloud <nil>
}

func ExampleCustom() {
	src := tokensource.Custom(func(ctx context.Context, opts tokensource.Options) (tokensource.Response, error) {
		// Ask your own backend, however it wants to be asked.
		return tokensource.Response{
			ServerURL:        "wss://example.livekit.cloud",
			ParticipantToken: "<token for " + opts.ParticipantIdentity + ">",
			RoomName:         opts.RoomName,
		}, nil
	})
	r, _ := src.Fetch(context.Background(), tokensource.Options{RoomName: "demo", ParticipantIdentity: "alice"})
	fmt.Println(r.RoomName, r.ParticipantToken)
	// Output: demo <token for alice>
}

// A token endpoint in-process, for the examples: a Minter behind Handler.
func exampleServer() *httptest.Server {
	m, err := tokensource.NewMinter("devkey", "secretsecretsecretsecretsecretsecret", "ws://127.0.0.1:7880")
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/token", tokensource.Handler(m))
	mux.Handle("/api/v2/sandbox/connection-details", tokensource.Handler(m))
	return httptest.NewServer(mux)
}

func ExampleNewEndpoint() {
	srv := exampleServer()
	defer srv.Close()

	src, err := tokensource.NewEndpoint(srv.URL+"/token",
		tokensource.WithHeader("Authorization", "Bearer <your app's credential>"),
		tokensource.WithTimeout(10*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	r, err := src.Fetch(context.Background(), tokensource.Options{
		RoomName:            "demo",
		ParticipantIdentity: "alice",
		AgentName:           "assistant",
	})
	if err != nil {
		log.Fatal(err)
	}
	c, _ := tokensource.Parse(r.ParticipantToken)
	fmt.Println(r.ServerURL, r.RoomName, c.Identity, c.RoomConfig.Agents[0].AgentName)
	// Output: ws://127.0.0.1:7880 demo alice assistant
}

func ExampleNewDevServer() {
	srv := exampleServer() // stands in for https://cloud-api.livekit.io
	defer srv.Close()

	src, err := tokensource.NewDevServer("my-token-server-id", tokensource.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	r, err := src.Fetch(context.Background(), tokensource.Options{ParticipantName: "Alice"})
	if err != nil {
		log.Fatal(err)
	}
	// Unset fields are picked by the server.
	fmt.Println(r.RoomName != "", r.ParticipantName)
	// Output: true Alice
}

func ExampleNewMinter() {
	m, err := tokensource.NewMinter("devkey", "secretsecretsecretsecretsecretsecret", "ws://127.0.0.1:7880",
		tokensource.WithTTL(5*time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := m.Mint(tokensource.Options{RoomName: "demo", ParticipantIdentity: "alice", ParticipantName: "Alice"})
	if err != nil {
		log.Fatal(err)
	}
	c, _ := tokensource.Parse(tok)
	fmt.Println(c.Issuer, c.Identity, c.Name, c.Video.Room, c.Video.RoomJoin, c.ExpiresAt.Sub(c.NotBefore))

	// An admin token for the server's RoomService, e.g. in a test harness.
	admin, _ := m.MintWithGrant("harness", tokensource.VideoGrant{RoomAdmin: true, Room: "demo"})
	c, _ = tokensource.Parse(admin)
	fmt.Println(c.Identity, c.Video.RoomAdmin)
	// Output:
	// devkey alice Alice demo true 5m0s
	// harness true
}

func ExampleNewCache() {
	srv := exampleServer()
	defer srv.Close()
	endpoint, _ := tokensource.NewEndpoint(srv.URL + "/token")
	cache := tokensource.NewCache(endpoint)

	opts := tokensource.Options{RoomName: "demo", ParticipantIdentity: "alice"}
	first, _ := cache.Fetch(context.Background(), opts)
	second, _ := cache.Fetch(context.Background(), opts) // served from the cache
	fmt.Println(first == second)

	_, ok := cache.Cached(opts)
	fmt.Println(ok)

	cache.Invalidate()
	_, ok = cache.Cached(opts)
	fmt.Println(ok)
	// Output:
	// true
	// true
	// false
}

func ExampleCache_UpdateToken() {
	m, _ := tokensource.NewMinter("devkey", "secretsecretsecretsecretsecretsecret", "ws://127.0.0.1:7880",
		tokensource.WithTTL(2*time.Minute))
	cache := tokensource.NewCache(m)
	opts := tokensource.Options{RoomName: "demo", ParticipantIdentity: "alice"}
	r, _ := cache.Fetch(context.Background(), opts)

	// Later the server pushes a refreshed, longer-lived token to the room.
	longer, _ := tokensource.NewMinter("devkey", "secretsecretsecretsecretsecretsecret", r.ServerURL,
		tokensource.WithTTL(10*time.Minute))
	refreshed, _ := longer.Mint(opts)
	fmt.Println(cache.UpdateToken(opts, refreshed))
	now, _ := cache.Cached(opts)
	fmt.Println(now.ParticipantToken == refreshed, now.ServerURL)
	// Output:
	// true
	// true ws://127.0.0.1:7880
}

// exampleToken was minted by a Minter (key "devkey") for identity alice in
// room "demo" at 2026-01-02 15:00:00 UTC with the default 10-minute TTL.
const exampleToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJkZXZrZXkiLCJzdWIiOiJhbGljZSIsImV4cCI6MTc2NzM2NjYwMCwibmJmIjoxNzY3MzY2MDAwLCJpYXQiOjE3NjczNjYwMDAsInZpZGVvIjp7InJvb21Kb2luIjp0cnVlLCJyb29tIjoiZGVtbyIsImNhblB1Ymxpc2giOnRydWUsImNhblN1YnNjcmliZSI6dHJ1ZSwiY2FuUHVibGlzaERhdGEiOnRydWUsImNhblVwZGF0ZU93bk1ldGFkYXRhIjp0cnVlfX0._tvWzP1BXSyn0GDMLAm4symYe1aN5COk3R6ZOQPkArE"

func ExampleParse() {
	tok := exampleToken // minted for alice in room demo at 2026-01-02 15:00 UTC, valid 10 minutes

	c, err := tokensource.Parse(tok) // does not verify the signature
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Identity, c.Video.Room, c.ExpiresAt)
	fmt.Println(c.Valid(time.Date(2026, 1, 2, 15, 5, 0, 0, time.UTC), time.Minute))
	fmt.Println(c.Valid(time.Date(2026, 1, 2, 15, 9, 30, 0, time.UTC), time.Minute))
	// Output:
	// alice demo 2026-01-02 15:10:00 +0000 UTC
	// <nil>
	// tokensource: token expired or about to
}

func ExampleRedact() {
	tok := exampleToken // minted for alice in room demo at 2026-01-02 15:00 UTC, valid 10 minutes
	fmt.Println(tokensource.Redact(tok))
	fmt.Println(tokensource.Redact("not-a-jwt"))

	// Responses redact their token when printed.
	r := tokensource.Response{ServerURL: "wss://example.livekit.cloud", ParticipantToken: "not-a-jwt"}
	fmt.Println(r)
	// Output:
	// eyJhbGci…(360 bytes, exp 2026-01-02T15:10:00Z)
	// (opaque, 9 bytes)
	// {ServerURL:"wss://example.livekit.cloud" ParticipantToken:(opaque, 9 bytes) ParticipantName:"" RoomName:""}
}

func ExampleHandler() {
	m, _ := tokensource.NewMinter("devkey", "secretsecretsecretsecretsecretsecret", "ws://127.0.0.1:7880")
	// A development token server for local tests: POST / with the endpoint
	// contract's JSON body.
	srv := httptest.NewServer(tokensource.Handler(m))
	defer srv.Close()
	e, _ := tokensource.NewEndpoint(srv.URL)
	r, err := e.Fetch(context.Background(), tokensource.Options{RoomName: "demo", ParticipantIdentity: "bob"})
	fmt.Println(r.ServerURL, r.RoomName, err)
	// Output: ws://127.0.0.1:7880 demo <nil>
}
