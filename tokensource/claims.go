package tokensource

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// VideoGrant is the "video" claim of a LiveKit access token. JSON names match
// LiveKit's. The *bool fields distinguish "not set" from false because the
// server applies defaults to unset ones: CanPublish, CanSubscribe and
// CanPublishData default to true, CanUpdateOwnMetadata and
// CanSubscribeMetrics to false. Set them with new(true) or new(false).
type VideoGrant struct {
	RoomCreate bool `json:"roomCreate,omitempty"`
	RoomList   bool `json:"roomList,omitempty"`
	RoomRecord bool `json:"roomRecord,omitempty"`

	RoomAdmin bool   `json:"roomAdmin,omitempty"`
	RoomJoin  bool   `json:"roomJoin,omitempty"`
	Room      string `json:"room,omitempty"`

	CanPublish           *bool    `json:"canPublish,omitempty"`
	CanSubscribe         *bool    `json:"canSubscribe,omitempty"`
	CanPublishData       *bool    `json:"canPublishData,omitempty"`
	CanPublishSources    []string `json:"canPublishSources,omitempty"`
	CanUpdateOwnMetadata *bool    `json:"canUpdateOwnMetadata,omitempty"`

	IngressAdmin        bool   `json:"ingressAdmin,omitempty"`
	Hidden              bool   `json:"hidden,omitempty"`
	Recorder            bool   `json:"recorder,omitempty"`
	Agent               bool   `json:"agent,omitempty"`
	CanSubscribeMetrics *bool  `json:"canSubscribeMetrics,omitempty"`
	DestinationRoom     string `json:"destinationRoom,omitempty"`
}

// RoomConfig is the part of a token's "roomConfig" claim this package reads
// and writes: the agents to dispatch when the room is created. Other room
// configuration fields are ignored when parsing.
type RoomConfig struct {
	Agents []AgentDispatch `json:"agents,omitempty"`
}

// AgentDispatch asks for an agent to join the room.
type AgentDispatch struct {
	AgentName  string `json:"agentName,omitempty"`
	Metadata   string `json:"metadata,omitempty"`
	Deployment string `json:"deployment,omitempty"`
}

// UnmarshalJSON accepts agentName and, as protobuf JSON does, agent_name.
func (a *AgentDispatch) UnmarshalJSON(b []byte) error {
	var w struct {
		AgentName      string `json:"agentName"`
		AgentNameSnake string `json:"agent_name"`
		Metadata       string `json:"metadata"`
		Deployment     string `json:"deployment"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = AgentDispatch{AgentName: first(w.AgentName, w.AgentNameSnake), Metadata: w.Metadata, Deployment: w.Deployment}
	return nil
}

// Claims are the claims of a LiveKit access token, as read by Parse.
// Times are zero when the claim is absent.
type Claims struct {
	Issuer     string // iss: the API key
	Identity   string // sub
	ID         string // jti
	Name       string
	Metadata   string
	Kind       string
	Attributes map[string]string
	Video      *VideoGrant
	RoomConfig *RoomConfig
	NotBefore  time.Time
	ExpiresAt  time.Time
	IssuedAt   time.Time
}

// DispatchesAgent reports whether the token asks for at least one agent.
func (c *Claims) DispatchesAgent() bool {
	return c.RoomConfig != nil && len(c.RoomConfig.Agents) > 0
}

var (
	// ErrMalformedToken wraps every Parse failure.
	ErrMalformedToken = errors.New("tokensource: malformed token")
	// ErrExpired means the token expires within the leeway, or already has.
	ErrExpired = errors.New("tokensource: token expired or about to")
	// ErrNotYetValid means the token's nbf is in the future.
	ErrNotYetValid = errors.New("tokensource: token not valid yet")
	// ErrNoExpiry means the token has no exp claim, so its validity is
	// unknown.
	ErrNoExpiry = errors.New("tokensource: token has no expiry")
)

// Valid reports whether the claims are usable at now: ErrNoExpiry without
// exp, ErrNotYetValid while now is before nbf, ErrExpired once now+leeway has
// reached exp. A positive leeway makes a token count as expired that much
// before its exp, leaving time to connect with it.
func (c *Claims) Valid(now time.Time, leeway time.Duration) error {
	if c.ExpiresAt.IsZero() {
		return ErrNoExpiry
	}
	if !c.NotBefore.IsZero() && now.Before(c.NotBefore) {
		return ErrNotYetValid
	}
	if !now.Add(leeway).Before(c.ExpiresAt) {
		return ErrExpired
	}
	return nil
}

// maxTokenBytes bounds what Parse decodes.
const maxTokenBytes = 1 << 20

type rawClaims struct {
	Issuer     string            `json:"iss"`
	Subject    string            `json:"sub"`
	ID         string            `json:"jti"`
	Name       string            `json:"name"`
	Metadata   string            `json:"metadata"`
	Kind       string            `json:"kind"`
	Attributes map[string]string `json:"attributes"`
	Video      *VideoGrant       `json:"video"`
	RoomConfig *RoomConfig       `json:"roomConfig"`
	NotBefore  numericDate       `json:"nbf"`
	ExpiresAt  numericDate       `json:"exp"`
	IssuedAt   numericDate       `json:"iat"`
}

// numericDate is a JWT NumericDate: a JSON number of seconds, possibly
// fractional. null leaves it zero.
type numericDate struct{ t time.Time }

// Year 9999: beyond it the value is not a plausible date, and converting huge
// floats to int64 is undefined.
const maxNumericDate = 253402300799

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return errors.New("date claim is not a number")
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > maxNumericDate {
		return errors.New("date claim out of range")
	}
	sec, frac := math.Modf(f)
	d.t = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return nil
}

// Parse decodes a LiveKit access token WITHOUT verifying its signature. Use
// it to look at a token you were given (expiry, identity, grants); never to
// decide whether to trust one. Errors wrap ErrMalformedToken and never
// contain any part of the token.
func Parse(token string) (*Claims, error) {
	_, payload, err := splitToken(token)
	if err != nil {
		return nil, err
	}
	var raw rawClaims
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, fmt.Errorf("%w: payload: %s", ErrMalformedToken, scrubJSONError(err))
	}
	return &Claims{
		Issuer:     raw.Issuer,
		Identity:   raw.Subject,
		ID:         raw.ID,
		Name:       raw.Name,
		Metadata:   raw.Metadata,
		Kind:       raw.Kind,
		Attributes: raw.Attributes,
		Video:      raw.Video,
		RoomConfig: raw.RoomConfig,
		NotBefore:  raw.NotBefore.t,
		ExpiresAt:  raw.ExpiresAt.t,
		IssuedAt:   raw.IssuedAt.t,
	}, nil
}

// splitToken checks the compact JWS shape header.payload.signature, that
// header and payload are base64url JSON objects, and returns them decoded.
func splitToken(token string) (header, payload []byte, err error) {
	if token == "" {
		return nil, nil, fmt.Errorf("%w: empty", ErrMalformedToken)
	}
	if len(token) > maxTokenBytes {
		return nil, nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformedToken, maxTokenBytes)
	}
	h, rest, ok1 := strings.Cut(token, ".")
	p, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return nil, nil, fmt.Errorf("%w: not three dot-separated parts", ErrMalformedToken)
	}
	if header, err = decodeSegment(h); err != nil {
		return nil, nil, fmt.Errorf("%w: header: %v", ErrMalformedToken, err)
	}
	if !json.Valid(header) {
		return nil, nil, fmt.Errorf("%w: header: not a JSON object", ErrMalformedToken)
	}
	if payload, err = decodeSegment(p); err != nil {
		return nil, nil, fmt.Errorf("%w: payload: %v", ErrMalformedToken, err)
	}
	return header, payload, nil
}

// decodeSegment decodes one base64url part and checks that it starts like a
// JSON object; callers validate the rest.
func decodeSegment(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, errors.New("not base64url")
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	return b, nil
}

// Redact returns a printable stand-in for a token that is safe to log: the
// first 8 characters of a JWT's header (which is public: "eyJhbGci" for
// every HS256 token), the token's length and, when it parses, its expiry,
// e.g. "eyJhbGci…(312 bytes, exp 2026-01-02T15:04:05Z)". The payload and
// signature never appear. A token that is not a JWT gives only its length.
func Redact(token string) string {
	if token == "" {
		return "(empty)"
	}
	h, _, ok := strings.Cut(token, ".")
	if hb, err := decodeSegment(h); !ok || err != nil || !json.Valid(hb) {
		return fmt.Sprintf("(opaque, %d bytes)", len(token))
	}
	prefix := h[:min(8, len(h))]
	if c, err := Parse(token); err == nil && !c.ExpiresAt.IsZero() {
		return fmt.Sprintf("%s…(%d bytes, exp %s)", prefix, len(token), c.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("%s…(%d bytes)", prefix, len(token))
}
