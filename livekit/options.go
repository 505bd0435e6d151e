package livekit

import (
	"log/slog"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// ConnectOption configures Connect and ConnectWith. Options mirror the library's settings; an
// option that is not given leaves the library's default in place.
type ConnectOption func(*config)

type config struct {
	autoSubscribe  *bool
	adaptiveStream *bool
	dynacast       *bool
	joinRetries    *uint32
	connectTimeout time.Duration
	iceServers     []ICEServer
	handler        func(Event)
	eventBuffer    int
	logger         *slog.Logger
	authRetry      bool
	encryption     *EncryptionOptions
	maxStreamBytes uint64
	otherSDKs      string
	textHandlers   map[string]func(*TextStreamReader, string)
	byteHandlers   map[string]func(*ByteStreamReader, string)
}

// DefaultEventBuffer is how many events a room without an event handler keeps for Events.
const DefaultEventBuffer = 1024

// ICEServer is a STUN or TURN server for WebRTC, used in addition to what the server offers.
type ICEServer struct {
	URLs     []string
	Username string
	Password string
}

// WithAutoSubscribe sets whether remote tracks are subscribed on publish (library default: true).
func WithAutoSubscribe(on bool) ConnectOption { return func(c *config) { c.autoSubscribe = &on } }

// WithAdaptiveStream lets the server adapt video quality to what is rendered (default: false).
func WithAdaptiveStream(on bool) ConnectOption { return func(c *config) { c.adaptiveStream = &on } }

// WithDynacast pauses video layers nobody subscribes to (default: false).
func WithDynacast(on bool) ConnectOption { return func(c *config) { c.dynacast = &on } }

// WithJoinRetries sets how often the library retries the initial join (library default: 3).
func WithJoinRetries(n int) ConnectOption {
	return func(c *config) {
		v := uint32(max(n, 0))
		c.joinRetries = &v
	}
}

// WithConnectTimeout bounds each signal connection attempt (library default: 5 s). The
// context passed to Connect bounds the whole connect, retries included.
func WithConnectTimeout(d time.Duration) ConnectOption {
	return func(c *config) { c.connectTimeout = d }
}

// WithICEServers adds ICE servers.
func WithICEServers(s ...ICEServer) ConnectOption {
	return func(c *config) { c.iceServers = append(c.iceServers, s...) }
}

// WithEventHandler pushes the room's events to fn, in order, on a goroutine of the room's own.
// A slow handler delays only later events of this room: never the library, other rooms, or the
// room's state (Token, RemoteParticipants ... are updated before the event is queued). Events
// wait for the handler in an unbounded queue. With a handler, Room.Events yields nothing.
// Close does not wait for the handler (it may be called from it): the handler still gets
// every event, Disconnected last, possibly just after Close returns.
func WithEventHandler(fn func(Event)) ConnectOption { return func(c *config) { c.handler = fn } }

// WithEventBuffer sets how many events a room without an event handler keeps for Room.Events
// (DefaultEventBuffer if n <= 0). When the buffer is full the oldest event is dropped and
// counted (Room.DroppedEvents), so a room whose events nobody reads holds bounded memory.
func WithEventBuffer(n int) ConnectOption { return func(c *config) { c.eventBuffer = n } }

// WithAuthRetry sets whether ConnectWith, when the server refuses a token (ConnectError with
// Unauthorized) from a source that can invalidate it (tokensource.TokenInvalidator: Bind over
// a Cache), drops that token and retries once with a freshly fetched one. Default: on.
func WithAuthRetry(on bool) ConnectOption { return func(c *config) { c.authRetry = on } }

// WithLogger sets where the room logs (nil: slog.Default()).
func WithLogger(l *slog.Logger) ConnectOption { return func(c *config) { c.logger = l } }

// WithEncryption turns on end-to-end encryption of the room's media with a shared key (see
// EncryptionOptions and Room.E2EE).
func WithEncryption(o EncryptionOptions) ConnectOption { return func(c *config) { c.encryption = &o } }

// WithMaxDataStreamBytes bounds the size of an incoming data stream (library default: 5 GB);
// larger streams end with an error.
func WithMaxDataStreamBytes(n uint64) ConnectOption { return func(c *config) { c.maxStreamBytes = n } }

// WithOtherSDKs names other LiveKit SDKs in use in this client, with versions (e.g.
// "agents-go:0.1.0"), for the server's analytics (ClientInfo.other_sdks). The agent package
// sets it for the rooms of its jobs. Names are joined with commas.
func WithOtherSDKs(sdks ...string) ConnectOption {
	return func(c *config) {
		for _, s := range sdks {
			if s = strings.TrimSpace(s); s != "" {
				if c.otherSDKs != "" {
					c.otherSDKs += ","
				}
				c.otherSDKs += s
			}
		}
	}
}

func newConfig(opts []ConnectOption) *config {
	cfg := &config{authRetry: true}
	for _, o := range opts {
		if o != nil {
			o(cfg)
		}
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	if cfg.eventBuffer <= 0 {
		cfg.eventBuffer = DefaultEventBuffer
	}
	return cfg
}

func (c *config) roomOptions() *pb.RoomOptions {
	o := &pb.RoomOptions{
		AutoSubscribe:  c.autoSubscribe,
		AdaptiveStream: c.adaptiveStream,
		Dynacast:       c.dynacast,
		JoinRetries:    c.joinRetries,
	}
	if c.connectTimeout > 0 {
		o.ConnectTimeoutMs = proto.Uint64(uint64(c.connectTimeout / time.Millisecond))
	}
	if c.encryption != nil {
		o.Encryption = c.encryption.proto()
	}
	if c.otherSDKs != "" {
		o.OtherSdks = proto.String(c.otherSDKs)
	}
	if c.maxStreamBytes > 0 {
		o.DataStream = &pb.RoomDataStreamOptions{MaxPayloadByteLength: proto.Uint64(c.maxStreamBytes)}
	}
	if len(c.iceServers) > 0 {
		rtc := &pb.RtcConfig{}
		for _, s := range c.iceServers {
			is := &pb.IceServer{Urls: s.URLs}
			if s.Username != "" {
				is.Username = proto.String(s.Username)
			}
			if s.Password != "" {
				is.Password = proto.String(s.Password)
			}
			rtc.IceServers = append(rtc.IceServers, is)
		}
		o.RtcConfig = rtc
	}
	return o
}
