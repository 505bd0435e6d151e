package tokensource

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseAllClaims(t *testing.T) {
	tok := makeToken(t, map[string]any{
		"iss": "devkey", "sub": "alice", "jti": "id1", "name": "Alice", "metadata": "m", "kind": "agent",
		"attributes": map[string]string{"k": "v"},
		"nbf":        1700000000, "exp": 1700000600.5, "iat": 1700000000,
		"video": map[string]any{"room": "r", "roomJoin": true, "roomAdmin": true, "canPublish": false,
			"canSubscribe": true, "canPublishData": true, "canUpdateOwnMetadata": true, "canPublishSources": []string{"camera"}},
		"roomConfig": map[string]any{"name": "ignored", "emptyTimeout": 5,
			"agents": []map[string]string{{"agentName": "a", "metadata": "am", "deployment": "d"}, {"agent_name": "b"}}},
		"unknown": []int{1, 2},
	})
	c, err := Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := &Claims{
		Issuer: "devkey", Identity: "alice", ID: "id1", Name: "Alice", Metadata: "m", Kind: "agent",
		Attributes: map[string]string{"k": "v"},
		Video: &VideoGrant{Room: "r", RoomJoin: true, RoomAdmin: true, CanPublish: new(false), CanSubscribe: new(true),
			CanPublishData: new(true), CanUpdateOwnMetadata: new(true), CanPublishSources: []string{"camera"}},
		RoomConfig: &RoomConfig{Agents: []AgentDispatch{{"a", "am", "d"}, {AgentName: "b"}}},
		NotBefore:  time.Unix(1700000000, 0).UTC(),
		ExpiresAt:  time.Unix(1700000600, 500_000_000).UTC(),
		IssuedAt:   time.Unix(1700000000, 0).UTC(),
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	if !c.DispatchesAgent() {
		t.Error("DispatchesAgent")
	}
}

func TestParseAbsentClaimsAreZero(t *testing.T) {
	c, err := Parse(makeToken(t, map[string]any{"exp": nil}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.ExpiresAt.IsZero() || !c.NotBefore.IsZero() || !c.IssuedAt.IsZero() || c.Video != nil || c.DispatchesAgent() {
		t.Errorf("got %+v", c)
	}
	// exp = 0 is present (1970), not absent.
	c, _ = Parse(makeToken(t, map[string]any{"exp": 0}))
	if c.ExpiresAt.IsZero() || c.Valid(time.Now(), 0) != ErrExpired {
		t.Errorf("exp 0: %+v", c)
	}
}

func TestParseMalformed(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	hdr := b64([]byte(`{"alg":"HS256"}`))
	tests := map[string]string{
		"empty":              "",
		"opaque":             "opaque-token",
		"two parts":          "one.two",
		"four parts":         "one.two.three.four",
		"bad base64 payload": hdr + ".!!!.sig",
		"payload not JSON":   hdr + "." + b64([]byte("hello")) + ".sig",
		"payload JSON array": hdr + "." + b64([]byte(`[1]`)) + ".sig",
		"payload truncated":  hdr + "." + b64([]byte(`{"exp":1`)) + ".sig",
		"header not JSON":    b64([]byte("nope")) + "." + b64([]byte(`{}`)) + ".sig",
		"header bad JSON":    b64([]byte("{nope")) + "." + b64([]byte(`{}`)) + ".sig",
		"exp is a string":    hdr + "." + b64([]byte(`{"exp":"1700000000"}`)) + ".sig",
		"exp out of range":   hdr + "." + b64([]byte(`{"exp":1e300}`)) + ".sig",
		"sub not a string":   hdr + "." + b64([]byte(`{"sub":1}`)) + ".sig",
		"attributes not map": hdr + "." + b64([]byte(`{"attributes":"x"}`)) + ".sig",
		"too long":           hdr + "." + strings.Repeat("A", maxTokenBytes) + ".sig",
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := Parse(tok)
			if !errors.Is(err, ErrMalformedToken) || c != nil {
				t.Fatalf("Parse = %v, %v; want ErrMalformedToken", c, err)
			}
			if len(tok) > 8 && strings.Contains(err.Error(), tok[len(tok)/2:]) {
				t.Errorf("error quotes the token: %v", err)
			}
		})
	}
}

func TestParseUnsignedAndPaddedTokens(t *testing.T) {
	// Tokens from LiveKit's C++ tests (alg none, empty signature).
	for tok, exp := range map[string]int64{
		"eyJhbGciOiJub25lIn0.eyJleHAiOjk5OTk5OTk5OTk5fQ.": 99999999999,
		"eyJhbGciOiJub25lIn0.eyJleHAiOjF9.":               1,
	} {
		c, err := Parse(tok)
		if err != nil || c.ExpiresAt.Unix() != exp {
			t.Errorf("Parse(%q) = %+v, %v", tok, c, err)
		}
	}
	padded := base64.URLEncoding.EncodeToString([]byte(`{"alg":"HS256"}`)) + "." +
		base64.URLEncoding.EncodeToString([]byte(`{"sub":"p"}`)) + ".s"
	if c, err := Parse(padded); err != nil || c.Identity != "p" {
		t.Errorf("padded base64: %v %v", c, err)
	}
}

func TestClaimsValid(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		nbf, exp time.Time
		leeway   time.Duration
		want     error
	}{
		{"valid", time.Time{}, now.Add(time.Hour), time.Minute, nil},
		{"expired", time.Time{}, now.Add(-time.Second), 0, ErrExpired},
		{"exp equals now", time.Time{}, now, 0, ErrExpired},
		{"within leeway is expired", time.Time{}, now.Add(59 * time.Second), time.Minute, ErrExpired},
		{"leeway applies before exp, not after", time.Time{}, now.Add(-30 * time.Second), time.Minute, ErrExpired},
		{"just beyond leeway", time.Time{}, now.Add(61 * time.Second), time.Minute, nil},
		{"no exp", time.Time{}, time.Time{}, 0, ErrNoExpiry},
		{"nbf in future", now.Add(time.Second), now.Add(time.Hour), 0, ErrNotYetValid},
		{"nbf now", now, now.Add(time.Hour), 0, nil},
		{"nbf past", now.Add(-time.Hour), now.Add(time.Hour), 0, nil},
	}
	for _, tt := range tests {
		c := &Claims{NotBefore: tt.nbf, ExpiresAt: tt.exp}
		if got := c.Valid(now, tt.leeway); got != tt.want {
			t.Errorf("%s: Valid = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	exp := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	tok := makeToken(t, map[string]any{"sub": "alice", "exp": exp.Unix(), "metadata": "secret-meta"})
	got := Redact(tok)
	want := "eyJhbGci…(" + strconv.Itoa(len(tok)) + " bytes, exp 2026-01-02T15:04:05Z)"
	if got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
	_, rest, _ := strings.Cut(tok, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	if strings.Contains(got, sig) || strings.Contains(got, payload[:8]) || strings.Contains(got, "alice") {
		t.Errorf("Redact leaks: %q", got)
	}
	noExp := makeToken(t, map[string]any{"sub": "x"})
	if got := Redact(noExp); got != "eyJhbGci…("+strconv.Itoa(len(noExp))+" bytes)" {
		t.Errorf("Redact(no exp) = %q", got)
	}
	for in, want := range map[string]string{
		"":                         "(empty)",
		"opaque-secret-value":      "(opaque, 19 bytes)",
		"abc.def.ghi":              "(opaque, 11 bytes)",
		"eyJhbGciOiJIUzI1NiJ9.x.y": "eyJhbGci…(24 bytes)",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
