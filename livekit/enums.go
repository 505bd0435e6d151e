package livekit

import (
	"strings"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// lower names an enum value by its protocol name without the prefix, in lower case.
func lower(name, prefix string) string { return strings.ToLower(strings.TrimPrefix(name, prefix)) }

// ConnectionState is the room's connection state.
type ConnectionState int

// The connection states.
const (
	StateDisconnected = ConnectionState(pb.ConnectionState_CONN_DISCONNECTED)
	StateConnected    = ConnectionState(pb.ConnectionState_CONN_CONNECTED)
	StateReconnecting = ConnectionState(pb.ConnectionState_CONN_RECONNECTING)
)

func (s ConnectionState) String() string { return lower(pb.ConnectionState(s).String(), "CONN_") }

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

func (r DisconnectReason) String() string { return lower(pb.DisconnectReason(r).String(), "") }

// ParticipantKind says what kind of client a participant is.
type ParticipantKind int32

// The participant kinds.
const (
	KindStandard  = ParticipantKind(pb.ParticipantKind_PARTICIPANT_KIND_STANDARD)
	KindIngress   = ParticipantKind(pb.ParticipantKind_PARTICIPANT_KIND_INGRESS)
	KindEgress    = ParticipantKind(pb.ParticipantKind_PARTICIPANT_KIND_EGRESS)
	KindSIP       = ParticipantKind(pb.ParticipantKind_PARTICIPANT_KIND_SIP)
	KindAgent     = ParticipantKind(pb.ParticipantKind_PARTICIPANT_KIND_AGENT)
	KindConnector = ParticipantKind(pb.ParticipantKind_PARTICIPANT_KIND_CONNECTOR)
	KindBridge    = ParticipantKind(pb.ParticipantKind_PARTICIPANT_KIND_BRIDGE)
)

func (k ParticipantKind) String() string {
	return lower(pb.ParticipantKind(k).String(), "PARTICIPANT_KIND_")
}

// ConnectionQuality is the server's estimate of a participant's connection.
type ConnectionQuality int32

// The connection qualities.
const (
	QualityPoor      = ConnectionQuality(pb.ConnectionQuality_QUALITY_POOR)
	QualityGood      = ConnectionQuality(pb.ConnectionQuality_QUALITY_GOOD)
	QualityExcellent = ConnectionQuality(pb.ConnectionQuality_QUALITY_EXCELLENT)
	QualityLost      = ConnectionQuality(pb.ConnectionQuality_QUALITY_LOST)
)

func (q ConnectionQuality) String() string {
	return lower(pb.ConnectionQuality(q).String(), "QUALITY_")
}

// TrackKind says whether a track carries audio or video.
type TrackKind int32

// The track kinds.
const (
	TrackKindUnknown = TrackKind(pb.TrackKind_KIND_UNKNOWN)
	TrackKindAudio   = TrackKind(pb.TrackKind_KIND_AUDIO)
	TrackKindVideo   = TrackKind(pb.TrackKind_KIND_VIDEO)
)

func (k TrackKind) String() string { return lower(pb.TrackKind(k).String(), "KIND_") }

// TrackSource says what a track was captured from.
type TrackSource int32

// The track sources.
const (
	SourceUnknown          = TrackSource(pb.TrackSource_SOURCE_UNKNOWN)
	SourceCamera           = TrackSource(pb.TrackSource_SOURCE_CAMERA)
	SourceMicrophone       = TrackSource(pb.TrackSource_SOURCE_MICROPHONE)
	SourceScreenShare      = TrackSource(pb.TrackSource_SOURCE_SCREENSHARE)
	SourceScreenShareAudio = TrackSource(pb.TrackSource_SOURCE_SCREENSHARE_AUDIO)
)

func (s TrackSource) String() string { return lower(pb.TrackSource(s).String(), "SOURCE_") }

// EncryptionType is the end-to-end encryption a track or participant uses.
type EncryptionType int32

// The encryption types.
const (
	EncryptionNone   = EncryptionType(pb.EncryptionType_NONE)
	EncryptionGCM    = EncryptionType(pb.EncryptionType_GCM)
	EncryptionCustom = EncryptionType(pb.EncryptionType_CUSTOM)
)

func (e EncryptionType) String() string { return lower(pb.EncryptionType(e).String(), "") }

// EncryptionState is the state of a participant's frame encryption or decryption.
type EncryptionState int32

// The encryption states.
const (
	EncryptionStateNew              = EncryptionState(pb.EncryptionState_NEW)
	EncryptionStateOK               = EncryptionState(pb.EncryptionState_OK)
	EncryptionStateEncryptionFailed = EncryptionState(pb.EncryptionState_ENCRYPTION_FAILED)
	EncryptionStateDecryptionFailed = EncryptionState(pb.EncryptionState_DECRYPTION_FAILED)
	EncryptionStateMissingKey       = EncryptionState(pb.EncryptionState_MISSING_KEY)
	EncryptionStateKeyRatcheted     = EncryptionState(pb.EncryptionState_KEY_RATCHETED)
	EncryptionStateInternalError    = EncryptionState(pb.EncryptionState_INTERNAL_ERROR)
)

func (e EncryptionState) String() string { return lower(pb.EncryptionState(e).String(), "") }

// ParticipantState is where a participant is in its session.
type ParticipantState int32

// The participant states.
const (
	ParticipantStateJoining      = ParticipantState(pb.ParticipantState_PARTICIPANT_STATE_JOINING)
	ParticipantStateJoined       = ParticipantState(pb.ParticipantState_PARTICIPANT_STATE_JOINED)
	ParticipantStateActive       = ParticipantState(pb.ParticipantState_PARTICIPANT_STATE_ACTIVE)
	ParticipantStateDisconnected = ParticipantState(pb.ParticipantState_PARTICIPANT_STATE_DISCONNECTED)
)

func (s ParticipantState) String() string {
	return lower(pb.ParticipantState(s).String(), "PARTICIPANT_STATE_")
}
