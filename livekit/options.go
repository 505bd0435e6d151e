package livekit

import (
	"log/slog"
	"time"

	pb "github.com/livekit-ffi-go/sdk/proto"
	"google.golang.org/protobuf/proto"
)

// Option configures Connect and its variants.
type Option func(*config)

type config struct {
	autoSubscribe  *bool
	adaptiveStream *bool
	dynacast       *bool
	joinRetries    *uint32
	connectTimeout time.Duration
	iceServers     []ICEServer
	handler        func(Event)
	logger         *slog.Logger
}

// ICEServer is a STUN or TURN server for WebRTC, used in addition to what the server offers.
type ICEServer struct {
	URLs     []string
	Username string
	Password string
}

// WithAutoSubscribe sets whether remote tracks are subscribed on publish (library default: true).
func WithAutoSubscribe(on bool) Option { return func(c *config) { c.autoSubscribe = &on } }

// WithAdaptiveStream lets the server adapt video quality to what is rendered (default: false).
func WithAdaptiveStream(on bool) Option { return func(c *config) { c.adaptiveStream = &on } }

// WithDynacast pauses video layers nobody subscribes to (default: false).
func WithDynacast(on bool) Option { return func(c *config) { c.dynacast = &on } }

// WithJoinRetries sets how often the library retries the initial join (library default: 3).
func WithJoinRetries(n int) Option {
	return func(c *config) {
		v := uint32(max(n, 0))
		c.joinRetries = &v
	}
}

// WithConnectTimeout bounds each signal connection attempt (library default: 5 s). The
// context passed to Connect bounds the whole connect, retries included.
func WithConnectTimeout(d time.Duration) Option { return func(c *config) { c.connectTimeout = d } }

// WithICEServers adds ICE servers.
func WithICEServers(s ...ICEServer) Option {
	return func(c *config) { c.iceServers = append(c.iceServers, s...) }
}

// WithEventHandler receives the room's events, in order, on a goroutine of the room's own. A
// slow handler delays only later events of this room: never the library, other rooms, or the
// room's state (Token, RemoteParticipants ... are updated before the event is queued).
func WithEventHandler(fn func(Event)) Option { return func(c *config) { c.handler = fn } }

// WithLogger sets where the room logs (nil: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

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

// DataOption configures PublishData.
type DataOption func(*dataConfig)

type dataConfig struct {
	lossy        bool
	topic        string
	destinations []string
}

// WithLossy sends the packet unreliably (no retransmission, no ordering): for data where only
// the latest value matters. Packets are reliable by default.
func WithLossy() DataOption { return func(c *dataConfig) { c.lossy = true } }

// WithTopic tags the packet so receivers can tell kinds of messages apart.
func WithTopic(topic string) DataOption { return func(c *dataConfig) { c.topic = topic } }

// WithDestinations sends the packet only to these participant identities (default: everyone).
func WithDestinations(identities ...string) DataOption {
	return func(c *dataConfig) { c.destinations = append(c.destinations, identities...) }
}
