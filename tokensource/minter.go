package tokensource

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultTTL is how long a minted token is valid unless WithTTL says otherwise.
const DefaultTTL = 10 * time.Minute

// Minter is a Configurable source for services that hold a LiveKit API key and
// secret: it mints an HS256 access token locally instead of asking a token
// server. Never ship an API secret to end-user devices; give those an
// Endpoint backed by a Minter on your server (see Handler).
type Minter struct {
	apiKey    string
	secret    []byte
	serverURL string
	ttl       time.Duration
	now       func() time.Time // time.Now; tests set it through export_test.go
}

// MinterOption configures NewMinter.
type MinterOption func(*Minter)

// WithTTL sets how long minted tokens are valid (default DefaultTTL).
func WithTTL(d time.Duration) MinterOption { return func(m *Minter) { m.ttl = d } }

// NewMinter returns a Minter signing with apiKey/apiSecret whose responses
// point at serverURL (the LiveKit server's ws:// or wss:// URL).
func NewMinter(apiKey, apiSecret, serverURL string, opts ...MinterOption) (*Minter, error) {
	serverURL = strings.TrimSpace(serverURL)
	switch {
	case apiKey == "":
		return nil, errors.New("tokensource: NewMinter needs an API key")
	case apiSecret == "":
		return nil, errors.New("tokensource: NewMinter needs an API secret")
	case serverURL == "":
		return nil, ErrNoServerURL
	}
	m := &Minter{apiKey: apiKey, secret: []byte(apiSecret), serverURL: serverURL, ttl: DefaultTTL, now: time.Now}
	for _, o := range opts {
		o(m)
	}
	if m.ttl <= 0 {
		return nil, errors.New("tokensource: WithTTL needs a positive duration")
	}
	return m, nil
}

// tokenClaims is what goes into a minted token, with LiveKit's claim names.
type tokenClaims struct {
	jwt.RegisteredClaims
	Name       string            `json:"name,omitempty"`
	Metadata   string            `json:"metadata,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Video      *VideoGrant       `json:"video,omitempty"`
	RoomConfig *RoomConfig       `json:"roomConfig,omitempty"`
}

// Fetch mints a token for opts (see Mint) and returns it with the server URL,
// room name and participant name.
func (m *Minter) Fetch(ctx context.Context, opts Options) (Response, error) {
	if err := ctx.Err(); err != nil {
		return Response{}, err
	}
	opts = fillDefaults(opts)
	tok, err := m.Mint(opts)
	if err != nil {
		return Response{}, err
	}
	return Response{
		ServerURL:        m.serverURL,
		ParticipantToken: tok,
		ParticipantName:  opts.ParticipantName,
		RoomName:         opts.RoomName,
	}.checked()
}

// fillDefaults gives a random room and identity when they are not set, as
// LiveKit's development token server does.
func fillDefaults(o Options) Options {
	if o.RoomName == "" {
		o.RoomName = "room-" + strings.ToLower(rand.Text()[:12])
	}
	if o.ParticipantIdentity == "" {
		o.ParticipantIdentity = "user-" + strings.ToLower(rand.Text()[:12])
	}
	return o
}

// Mint returns a signed access token for opts: sub = identity, name,
// metadata, attributes, a video grant to join opts.RoomName with publish,
// subscribe, data and own-metadata permissions, and, when an agent field is
// set, roomConfig.agents with one dispatch. Room name and identity are
// required here (Fetch fills random ones in).
func (m *Minter) Mint(opts Options) (string, error) {
	if opts.RoomName == "" {
		return "", errors.New("tokensource: Mint needs a room name")
	}
	if opts.ParticipantIdentity == "" {
		return "", errors.New("tokensource: Mint needs a participant identity")
	}
	c := m.claims(opts.ParticipantIdentity, &VideoGrant{
		RoomJoin:             true,
		Room:                 opts.RoomName,
		CanPublish:           new(true),
		CanSubscribe:         new(true),
		CanPublishData:       new(true),
		CanUpdateOwnMetadata: new(true),
	})
	c.Name = opts.ParticipantName
	c.Metadata = opts.ParticipantMetadata
	if len(opts.ParticipantAttributes) > 0 {
		c.Attributes = opts.ParticipantAttributes
	}
	if opts.HasAgent() {
		c.RoomConfig = &RoomConfig{Agents: []AgentDispatch{{
			AgentName:  opts.AgentName,
			Metadata:   opts.AgentMetadata,
			Deployment: opts.AgentDeployment,
		}}}
	}
	return m.sign(c)
}

// MintWithGrant returns a token for identity carrying exactly grant, e.g.
// VideoGrant{RoomAdmin: true, Room: "r"} for calling the server's RoomService.
func (m *Minter) MintWithGrant(identity string, grant VideoGrant) (string, error) {
	if identity == "" {
		return "", errors.New("tokensource: MintWithGrant needs an identity")
	}
	return m.sign(m.claims(identity, &grant))
}

// MintWorkerToken returns the token an agent worker registers with: a video grant with only
// agent set, which livekit-server requires on its /agent endpoint. It names no room and no
// identity (a worker is not a participant; the server mints each job's participant token
// itself).
func (m *Minter) MintWorkerToken() (string, error) {
	return m.sign(m.claims("", &VideoGrant{Agent: true}))
}

func (m *Minter) claims(identity string, grant *VideoGrant) *tokenClaims {
	now := m.now().Truncate(time.Second)
	return &tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    m.apiKey,
			Subject:   identity,
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(m.ttl)),
		},
		Video: grant,
	}
}

func (m *Minter) sign(c *tokenClaims) (string, error) {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(m.secret)
	if err != nil {
		return "", errors.New("tokensource: signing token failed")
	}
	return s, nil
}
