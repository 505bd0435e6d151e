package livekit

import (
	"time"

	"github.com/livekit-ffi-go/sdk/tokensource"
)

// Event is something that happened in a room. The concrete types are listed below; switch on
// them. Events of one room arrive in the order the server and the library produced them. The
// room's state is updated before its event is delivered, so it may already be ahead of the
// event being handled (a participant whose ParticipantConnected is being handled may have left
// again); the event itself carries a snapshot taken when it happened.
type Event interface{ isEvent() }

// ParticipantConnected reports that a remote participant joined.
type ParticipantConnected struct {
	Participant *RemoteParticipant
	Info        ParticipantInfo
}

// ParticipantDisconnected reports that a remote participant left. Participant still answers
// Info with its last known state.
type ParticipantDisconnected struct {
	Participant *RemoteParticipant
	Identity    string
	Reason      DisconnectReason
}

// ParticipantActive reports that a participant's media connection is up.
type ParticipantActive struct{ Identity string }

// ParticipantsUpdated reports the server's view of some participants (sent in batches).
type ParticipantsUpdated struct{ Participants []ParticipantInfo }

// ConnectionStateChanged reports that the room's connection state changed.
type ConnectionStateChanged struct{ State ConnectionState }

// Reconnecting reports that the connection dropped and the library is trying to get it back.
type Reconnecting struct{}

// Reconnected reports that the connection is back. The library either resumed the session or
// rebuilt it: a full reconnect that drops every remote participant (they come back with
// ParticipantConnected), republishes local tracks (LocalTrackRepublished) and gives the local
// participant a new SID. Reliable data published between the connection failing and the
// library noticing (up to ~15 s before Reconnecting) may be lost, and the library does not say
// which packets: most of it in a rebuild, sometimes some of it in a resume. Resend what matters
// after Reconnected.
//
// Rebuilt is set when, during this reconnect, the library dropped the remote participants,
// republished a local track or reported a new SID for the local participant. A room with no
// other participant and no published track can show a rebuild only by the new SID, which the
// library may report just after Reconnected (a ParticipantsUpdated with the local participant
// follows; LocalParticipant().SID() changes then).
type Reconnected struct{ Rebuilt bool }

// Disconnected reports that the room is disconnected for good (by Disconnect, the server, or a
// failure). It is the last event of every room, delivered exactly once.
type Disconnected struct{ Reason DisconnectReason }

// DataReceived carries a data packet from a participant (From is empty when a server API sent
// it).
type DataReceived struct {
	Data     []byte
	Topic    string
	From     string
	Reliable bool
}

// SIPDTMFReceived carries a DTMF tone a SIP participant (or PublishDTMF) sent.
type SIPDTMFReceived struct {
	From  string
	Code  uint32
	Digit string
}

// RoomSIDChanged reports the room's server id (it may arrive after Connect returns).
type RoomSIDChanged struct{ SID string }

// RoomMetadataChanged reports that the room's metadata changed.
type RoomMetadataChanged struct{ Metadata string }

// RoomUpdated carries the server's new view of the room.
type RoomUpdated struct{ Info RoomInfo }

// RoomMoved reports that the server moved this participant to another room.
type RoomMoved struct{ Info RoomInfo }

// ParticipantMetadataChanged reports that a participant's metadata changed (local or remote).
type ParticipantMetadataChanged struct{ Identity, Metadata string }

// ParticipantNameChanged reports that a participant's name changed (local or remote).
type ParticipantNameChanged struct{ Identity, Name string }

// ParticipantAttributesChanged reports that some attributes of a participant changed. Changed
// holds the changed keys with their new values (an empty value means the key was removed).
type ParticipantAttributesChanged struct {
	Identity string
	Changed  map[string]string
}

// ParticipantPermissionChanged reports a participant's new permissions.
type ParticipantPermissionChanged struct {
	Identity   string
	Permission ParticipantPermission
}

// ActiveSpeakersChanged lists who is speaking now, loudest first.
type ActiveSpeakersChanged struct{ Identities []string }

// ConnectionQualityChanged reports the server's estimate of a participant's connection.
type ConnectionQualityChanged struct {
	Identity string
	Quality  ConnectionQuality
}

// ParticipantEncryptionStatusChanged reports whether a participant's media is encrypted.
type ParticipantEncryptionStatusChanged struct {
	Identity    string
	IsEncrypted bool
}

// EncryptionStateChanged reports the state of a participant's frame encryption (an undecryptable
// track shows as EncryptionStateDecryptionFailed or EncryptionStateMissingKey).
type EncryptionStateChanged struct {
	Identity string
	State    EncryptionState
}

// TranscriptionReceived carries transcription segments for a participant's track.
type TranscriptionReceived struct {
	Identity string
	TrackSID string
	Segments []TranscriptionSegment
}

// ChatMessageReceived carries a chat message.
type ChatMessageReceived struct {
	From    string
	Message ChatMessage
}

// TokenRefreshed reports that the server issued a new access token for this participant. The
// room keeps it for reconnects (Room.Token) and, if it was joined through a source that
// implements tokensource.TokenUpdater (Bind over a Cache does), hands it to that source.
type TokenRefreshed struct {
	Token     string
	Identity  string
	ExpiresAt time.Time
	Claims    *tokensource.Claims // nil if the token could not be decoded
}

// RoomInfo is the server's view of the room.
type RoomInfo struct {
	SID              string
	Name             string
	Metadata         string
	NumParticipants  int
	NumPublishers    int
	MaxParticipants  int
	ActiveRecording  bool
	CreationTime     time.Time
	EmptyTimeout     time.Duration
	DepartureTimeout time.Duration
}

// TranscriptionSegment is one piece of a transcription. Start and End are offsets in the
// track's media time.
type TranscriptionSegment struct {
	ID       string
	Text     string
	Start    time.Duration
	End      time.Duration
	Final    bool
	Language string
}

// ChatMessage is a message of LiveKit's chat protocol.
type ChatMessage struct {
	ID        string
	Timestamp time.Time
	Message   string
	Edited    time.Time // zero unless edited
	Deleted   bool
	Generated bool
}

func (ParticipantConnected) isEvent()               {}
func (ParticipantDisconnected) isEvent()            {}
func (ParticipantActive) isEvent()                  {}
func (ParticipantsUpdated) isEvent()                {}
func (ConnectionStateChanged) isEvent()             {}
func (Reconnecting) isEvent()                       {}
func (Reconnected) isEvent()                        {}
func (Disconnected) isEvent()                       {}
func (DataReceived) isEvent()                       {}
func (SIPDTMFReceived) isEvent()                    {}
func (RoomSIDChanged) isEvent()                     {}
func (RoomMetadataChanged) isEvent()                {}
func (RoomUpdated) isEvent()                        {}
func (RoomMoved) isEvent()                          {}
func (ParticipantMetadataChanged) isEvent()         {}
func (ParticipantNameChanged) isEvent()             {}
func (ParticipantAttributesChanged) isEvent()       {}
func (ParticipantPermissionChanged) isEvent()       {}
func (ActiveSpeakersChanged) isEvent()              {}
func (ConnectionQualityChanged) isEvent()           {}
func (ParticipantEncryptionStatusChanged) isEvent() {}
func (EncryptionStateChanged) isEvent()             {}
func (TranscriptionReceived) isEvent()              {}
func (ChatMessageReceived) isEvent()                {}
func (TokenRefreshed) isEvent()                     {}

// TrackPublished reports that a remote participant published a track. Subscribe to it with
// Publication.SetSubscribed unless the room subscribes automatically (the default).
type TrackPublished struct {
	Participant *RemoteParticipant
	Publication *RemoteTrackPublication
	Info        TrackPublicationInfo
}

// TrackUnpublished reports that a remote participant stopped publishing a track; the
// subscription, if any, has ended (streams reading the track end with ErrTrackEnded).
type TrackUnpublished struct {
	Participant *RemoteParticipant
	Publication *RemoteTrackPublication
	Info        TrackPublicationInfo
}

// TrackSubscribed reports that a remote track is now received: read it with NewAudioStream or
// NewVideoStream. Track is a *RemoteAudioTrack or *RemoteVideoTrack.
type TrackSubscribed struct {
	Participant *RemoteParticipant
	Publication *RemoteTrackPublication
	Track       Track
}

// TrackUnsubscribed reports that a remote track is no longer received; streams reading it end
// with ErrTrackEnded.
type TrackUnsubscribed struct {
	Participant *RemoteParticipant
	Publication *RemoteTrackPublication
	Track       Track
}

// TrackSubscriptionFailed reports that subscribing to a remote track failed.
type TrackSubscriptionFailed struct {
	Identity string
	TrackSID string
	Error    string
}

// TrackMuted reports that a participant (remote or local) muted a track.
type TrackMuted struct{ Identity, TrackSID string }

// TrackUnmuted reports that a participant (remote or local) unmuted a track.
type TrackUnmuted struct{ Identity, TrackSID string }

// LocalTrackPublished reports that a track of the local participant is published. PublishTrack
// has registered the publication by then.
type LocalTrackPublished struct{ Publication *LocalTrackPublication }

// LocalTrackUnpublished reports that a track of the local participant is no longer published.
type LocalTrackUnpublished struct{ Publication *LocalTrackPublication }

// LocalTrackSubscribed reports that a remote participant subscribed to a local track.
type LocalTrackSubscribed struct{ Publication *LocalTrackPublication }

// LocalTrackRepublished reports that a local track was published again after a full reconnect,
// under a new SID.
type LocalTrackRepublished struct {
	Publication *LocalTrackPublication
	PreviousSID string
}

func (TrackPublished) isEvent()          {}
func (TrackUnpublished) isEvent()        {}
func (TrackSubscribed) isEvent()         {}
func (TrackUnsubscribed) isEvent()       {}
func (TrackSubscriptionFailed) isEvent() {}
func (TrackMuted) isEvent()              {}
func (TrackUnmuted) isEvent()            {}
func (LocalTrackPublished) isEvent()     {}
func (LocalTrackUnpublished) isEvent()   {}
func (LocalTrackSubscribed) isEvent()    {}
func (LocalTrackRepublished) isEvent()   {}
