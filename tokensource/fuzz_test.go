package tokensource

import (
	"strings"
	"testing"
	"time"
)

func FuzzDecodeResponse(f *testing.F) {
	for _, s := range []string{
		okBody,
		`{"serverUrl":"wss://s","participantToken":"t","roomName":"r","participantName":"n"}`,
		`{"server_url":"wss://s","participant_token":"t","extra":[1,{"a":null}]}`,
		`{"server_url":1}`, `{}`, `null`, `[]`, ``, `{"server_url":"\u0000","participant_token":"\ud800"}`,
		`{"server_url":"a","server_url":"b","participant_token":"t"}`, `{` + strings.Repeat(`"a":{`, 50),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeResponse(body)
		if err == nil && (r.ServerURL == "" || r.ParticipantToken == "") {
			t.Fatalf("accepted an incomplete response %#v", r)
		}
		if err == nil && (strings.TrimSpace(r.ServerURL) != r.ServerURL || strings.TrimSpace(r.ParticipantToken) != r.ParticipantToken) {
			t.Fatalf("untrimmed credentials %#v", r)
		}
		if err != nil && r != (Response{}) {
			t.Fatalf("partial response with error %v", err)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add(makeToken(f, map[string]any{"sub": "a", "exp": 1893456000, "nbf": 1.5, "video": map[string]any{"room": "r"}}))
	f.Add(makeToken(f, map[string]any{"roomConfig": map[string]any{"agents": []any{map[string]any{"agent_name": "x"}}}}))
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOjF9.")
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOjFlMzAwfQ.")
	f.Add("a.b.c")
	f.Add("..")
	f.Add("")
	f.Add("opaque")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := Parse(tok)
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned %v and %v", c, err)
		}
		if c != nil {
			_ = c.Valid(time.Now(), time.Minute)
			_ = c.DispatchesAgent()
		}
		red := Redact(tok)
		if len(red) > 100 {
			t.Fatalf("Redact output too long: %q", red)
		}
		if _, _, ok := strings.Cut(tok, "."); ok {
			parts := strings.Split(tok, ".")
			if sig := parts[len(parts)-1]; len(sig) >= 12 && strings.Contains(red, sig) {
				t.Fatalf("Redact shows the signature: %q", red)
			}
		}
	})
}
