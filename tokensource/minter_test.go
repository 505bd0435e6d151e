package tokensource

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testKey    = "devkey"
	testSecret = "secretsecretsecretsecretsecretsecret"
)

func payloadJSON(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMinterMintRoundTrip(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	m, err := NewMinter(testKey, testSecret, "ws://127.0.0.1:7880", WithTTL(2*time.Minute), WithMinterClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{RoomName: "r", ParticipantName: "Alice", ParticipantIdentity: "alice", ParticipantMetadata: "m",
		ParticipantAttributes: map[string]string{"k": "v"}, AgentName: "a", AgentMetadata: "am", AgentDeployment: "d"}
	tok, err := m.Mint(opts)
	if err != nil {
		t.Fatal(err)
	}

	// The signature verifies with the secret, HS256 only.
	parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte(testSecret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil || !parsed.Valid {
		t.Fatalf("signature: %v", err)
	}
	if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte("wrong"), nil },
		jwt.WithTimeFunc(func() time.Time { return now })); err == nil {
		t.Error("verified with the wrong secret")
	}

	c, err := Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := &Claims{
		Issuer: testKey, Identity: "alice", Name: "Alice", Metadata: "m",
		Attributes: map[string]string{"k": "v"},
		Video: &VideoGrant{Room: "r", RoomJoin: true, CanPublish: new(true), CanSubscribe: new(true),
			CanPublishData: new(true), CanUpdateOwnMetadata: new(true)},
		RoomConfig: &RoomConfig{Agents: []AgentDispatch{{AgentName: "a", Metadata: "am", Deployment: "d"}}},
		NotBefore:  now, IssuedAt: now, ExpiresAt: now.Add(2 * time.Minute),
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}

	// LiveKit's claim names, as the server reads them.
	p := payloadJSON(t, tok)
	video := p["video"].(map[string]any)
	for _, k := range []string{"room", "roomJoin", "canPublish", "canSubscribe", "canPublishData", "canUpdateOwnMetadata"} {
		if _, ok := video[k]; !ok {
			t.Errorf("video.%s missing: %v", k, video)
		}
	}
	agent := p["roomConfig"].(map[string]any)["agents"].([]any)[0].(map[string]any)
	if agent["agentName"] != "a" || agent["metadata"] != "am" || agent["deployment"] != "d" {
		t.Errorf("roomConfig.agents[0] = %v", agent)
	}
	if p["iss"] != testKey || p["sub"] != "alice" || p["exp"] != float64(now.Add(2*time.Minute).Unix()) {
		t.Errorf("registered claims %v", p)
	}
}

func TestMinterNoAgentNoRoomConfig(t *testing.T) {
	m, _ := NewMinter(testKey, testSecret, "ws://h")
	tok, err := m.Mint(Options{RoomName: "r", ParticipantIdentity: "i"})
	if err != nil {
		t.Fatal(err)
	}
	p := payloadJSON(t, tok)
	for _, k := range []string{"roomConfig", "attributes", "name", "metadata"} {
		if _, ok := p[k]; ok {
			t.Errorf("%s present without being asked for: %v", k, p)
		}
	}
	c, _ := Parse(tok)
	if got := c.ExpiresAt.Sub(c.NotBefore); got != DefaultTTL {
		t.Errorf("default TTL %v", got)
	}
}

func TestMinterFetch(t *testing.T) {
	m, _ := NewMinter(testKey, testSecret, "wss://lk")
	r, err := m.Fetch(context.Background(), Options{ParticipantName: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := Parse(r.ParticipantToken)
	if r.ServerURL != "wss://lk" || r.ParticipantName != "Bob" || !strings.HasPrefix(r.RoomName, "room-") ||
		c.Video.Room != r.RoomName || !strings.HasPrefix(c.Identity, "user-") || c.Name != "Bob" {
		t.Errorf("got %v / %+v", r, c)
	}
	if err := c.Valid(time.Now(), DefaultLeeway); err != nil {
		t.Errorf("fresh token invalid: %v", err)
	}
	r2, _ := m.Fetch(context.Background(), Options{})
	if r2.RoomName == r.RoomName {
		t.Error("random room names repeat")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Fetch(ctx, Options{}); err == nil {
		t.Error("Fetch with a cancelled context")
	}
}

func TestMinterWithGrant(t *testing.T) {
	m, _ := NewMinter(testKey, testSecret, "ws://h")
	tok, err := m.MintWithGrant("admin", VideoGrant{RoomAdmin: true, Room: "r"})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := Parse(tok)
	if c.Identity != "admin" || !reflect.DeepEqual(c.Video, &VideoGrant{RoomAdmin: true, Room: "r"}) {
		t.Errorf("got %+v", c)
	}
	if _, err := m.MintWithGrant("", VideoGrant{}); err == nil {
		t.Error("empty identity accepted")
	}
}

func TestMinterErrors(t *testing.T) {
	for _, args := range [][3]string{{"", "s", "u"}, {"k", "", "u"}, {"k", "s", ""}} {
		if _, err := NewMinter(args[0], args[1], args[2]); err == nil {
			t.Errorf("NewMinter%q accepted", args)
		}
	}
	if _, err := NewMinter("k", "s", "u", WithTTL(0)); err == nil {
		t.Error("zero TTL accepted")
	}
	m, _ := NewMinter("k", "s", "u")
	if _, err := m.Mint(Options{ParticipantIdentity: "i"}); err == nil {
		t.Error("Mint without room")
	}
	if _, err := m.Mint(Options{RoomName: "r"}); err == nil {
		t.Error("Mint without identity")
	}
}

func TestMinterWorkerToken(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	m, err := NewMinter(testKey, testSecret, "ws://127.0.0.1:7880", WithTTL(time.Hour), WithMinterClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.MintWorkerToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte(testSecret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now })); err != nil {
		t.Fatalf("signature: %v", err)
	}
	c, err := Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Video == nil || !c.Video.Agent {
		t.Fatalf("video grant %+v: want agent", c.Video)
	}
	// Only the agent grant: a worker token must not let its holder join or administer rooms.
	if want := (VideoGrant{Agent: true}); !reflect.DeepEqual(*c.Video, want) {
		t.Errorf("video grant %+v, want exactly %+v", *c.Video, want)
	}
	if c.Issuer != testKey || c.Identity != "" || c.RoomConfig != nil {
		t.Errorf("issuer %q identity %q room config %+v", c.Issuer, c.Identity, c.RoomConfig)
	}
	if !c.ExpiresAt.Equal(now.Add(time.Hour)) || !c.NotBefore.Equal(now) {
		t.Errorf("nbf %v exp %v", c.NotBefore, c.ExpiresAt)
	}
	if raw := payloadJSON(t, tok); raw["video"].(map[string]any)["agent"] != true {
		t.Errorf("payload video claim %v: want agent true on the wire", raw["video"])
	}
}
