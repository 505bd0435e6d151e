package livekit

import (
	"strings"
	"time"

	pb "github.com/livekit-ffi-go/sdk/proto"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// Event is something that happened in a room. The concrete types are listed below; switch on
// them. Events of one room arrive in the order the server and the library produced them.
type Event interface{ isEvent() }

// ParticipantConnected: a remote participant joined.
type ParticipantConnected struct{ Participant Participant }

// ParticipantDisconnected: a remote participant left.
type ParticipantDisconnected struct {
	Identity string
	Reason   DisconnectReason
}

// ConnectionStateChanged: the room's connection state changed.
type ConnectionStateChanged struct{ State ConnectionState }

// Reconnecting: the connection dropped and the library is trying to resume it.
type Reconnecting struct{}

// Reconnected: the connection was resumed.
type Reconnected struct{}

// Disconnected: the room is disconnected for good (by Disconnect, the server, or a failure).
type Disconnected struct{ Reason DisconnectReason }

// DataReceived: a data packet from a participant (From is empty when a server API sent it).
type DataReceived struct {
	Data     []byte
	Topic    string
	From     string
	Reliable bool
}

// RoomSIDChanged: the server assigned the room's SID (it may arrive after Connect returns).
type RoomSIDChanged struct{ SID string }

// RoomMetadataChanged: the room's metadata changed.
type RoomMetadataChanged struct{ Metadata string }

// ParticipantMetadataChanged: a participant's metadata changed (local or remote).
type ParticipantMetadataChanged struct{ Identity, Metadata string }

// ParticipantNameChanged: a participant's name changed (local or remote).
type ParticipantNameChanged struct{ Identity, Name string }

// ParticipantAttributesChanged: some attributes of a participant changed. Changed holds the
// changed keys with their new values (an empty value means the key was removed).
type ParticipantAttributesChanged struct {
	Identity string
	Changed  map[string]string
}

// TokenRefreshed: the server issued a new access token for this participant. The room keeps
// it for reconnects (Room.Token) and, if it was joined through a tokensource.Cache, hands it
// to the cache so the next connect with the same options reuses it.
type TokenRefreshed struct {
	Token     string
	Identity  string
	ExpiresAt time.Time
	Claims    *tokensource.Claims // nil if the token could not be decoded
}

func (ParticipantConnected) isEvent()         {}
func (ParticipantDisconnected) isEvent()      {}
func (ConnectionStateChanged) isEvent()       {}
func (Reconnecting) isEvent()                 {}
func (Reconnected) isEvent()                  {}
func (Disconnected) isEvent()                 {}
func (DataReceived) isEvent()                 {}
func (RoomSIDChanged) isEvent()               {}
func (RoomMetadataChanged) isEvent()          {}
func (ParticipantMetadataChanged) isEvent()   {}
func (ParticipantNameChanged) isEvent()       {}
func (ParticipantAttributesChanged) isEvent() {}
func (TokenRefreshed) isEvent()               {}

// Participant is a snapshot of a participant's state.
type Participant struct {
	SID        string
	Identity   string
	Name       string
	Metadata   string
	Attributes map[string]string
	Kind       ParticipantKind
}

func participantFrom(info *pb.ParticipantInfo) Participant {
	attrs := make(map[string]string, len(info.GetAttributes()))
	for k, v := range info.GetAttributes() {
		attrs[k] = v
	}
	return Participant{
		SID:        info.GetSid(),
		Identity:   info.GetIdentity(),
		Name:       info.GetName(),
		Metadata:   info.GetMetadata(),
		Attributes: attrs,
		Kind:       ParticipantKind(info.GetKind()),
	}
}

func (p Participant) clone() Participant {
	attrs := make(map[string]string, len(p.Attributes))
	for k, v := range p.Attributes {
		attrs[k] = v
	}
	p.Attributes = attrs
	return p
}

// ConnectionState is the room's connection state.
type ConnectionState int

const (
	StateDisconnected ConnectionState = ConnectionState(pb.ConnectionState_CONN_DISCONNECTED)
	StateConnected    ConnectionState = ConnectionState(pb.ConnectionState_CONN_CONNECTED)
	StateReconnecting ConnectionState = ConnectionState(pb.ConnectionState_CONN_RECONNECTING)
)

func (s ConnectionState) String() string {
	switch s {
	case StateDisconnected:
		return "disconnected"
	case StateConnected:
		return "connected"
	case StateReconnecting:
		return "reconnecting"
	}
	return "unknown"
}

// DisconnectReason says why a participant or the room disconnected.
type DisconnectReason int32

// A few reasons programs commonly check; String names them all.
const (
	ReasonUnknown            = DisconnectReason(pb.DisconnectReason_UNKNOWN_REASON)
	ReasonClientInitiated    = DisconnectReason(pb.DisconnectReason_CLIENT_INITIATED)
	ReasonDuplicateIdentity  = DisconnectReason(pb.DisconnectReason_DUPLICATE_IDENTITY)
	ReasonServerShutdown     = DisconnectReason(pb.DisconnectReason_SERVER_SHUTDOWN)
	ReasonParticipantRemoved = DisconnectReason(pb.DisconnectReason_PARTICIPANT_REMOVED)
	ReasonRoomDeleted        = DisconnectReason(pb.DisconnectReason_ROOM_DELETED)
)

func (r DisconnectReason) String() string {
	return strings.ToLower(pb.DisconnectReason(r).String())
}

// ParticipantKind says what kind of client a participant is.
type ParticipantKind int32

const (
	KindStandard = ParticipantKind(pb.ParticipantKind_PARTICIPANT_KIND_STANDARD)
	KindIngress  = ParticipantKind(pb.ParticipantKind_PARTICIPANT_KIND_INGRESS)
	KindEgress   = ParticipantKind(pb.ParticipantKind_PARTICIPANT_KIND_EGRESS)
	KindSIP      = ParticipantKind(pb.ParticipantKind_PARTICIPANT_KIND_SIP)
	KindAgent    = ParticipantKind(pb.ParticipantKind_PARTICIPANT_KIND_AGENT)
)

func (k ParticipantKind) String() string {
	return strings.ToLower(strings.TrimPrefix(pb.ParticipantKind(k).String(), "PARTICIPANT_KIND_"))
}
