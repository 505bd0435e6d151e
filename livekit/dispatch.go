package livekit

import (
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// notSurfaced lists the room events this package does not turn into Events, with the reason.
// Whatever they own is given back to the library at once. Every other kind of the pinned
// schema is handled in decode (dispatch_test.go checks that the two cover the schema).
var notSurfaced = map[string]string{
	"stream_header_received":             "legacy data stream packets; the library assembles streams itself",
	"stream_chunk_received":              "legacy data stream packets; the library assembles streams itself",
	"stream_trailer_received":            "legacy data stream packets; the library assembles streams itself",
	"data_channel_low_threshold_changed": "flow control internal to the library",
}

// change is one room event, decoded: apply runs under the room's lock, updates the state and
// returns the event to deliver (nil for none); after, if set, runs once the lock is released.
type change struct {
	apply func() Event
	after func()
}

// onFfiEvent runs on the engine's dispatcher goroutine: it must be quick and never block.
func (r *room) onFfiEvent(fev *pb.FfiEvent) { r.handleEvent(fev.GetRoomEvent()) }

// handleEvent decodes a room event (touching the library, outside the lock: handles are taken,
// buffers copied), applies it to the room's state under the lock, and queues the event for
// the application under the same lock, so events and state never disagree on order.
func (r *room) handleEvent(ev *pb.RoomEvent) {
	ch := r.decode(ev)
	r.mu.Lock()
	if ch.apply != nil {
		if out := ch.apply(); out != nil {
			r.events.Push(out)
		}
	}
	r.mu.Unlock()
	if ch.after != nil {
		ch.after()
	}
}

// decode is the one switch over the library's room events: every kind of the pinned schema is
// named here, and decoded by a function of its family beside the types it builds. Decoding
// touches the library (handles are taken, buffers copied) and runs outside the room's lock;
// the change it returns is applied under it.
func (r *room) decode(ev *pb.RoomEvent) change {
	switch m := ev.Message.(type) {
	// The connection and the room (decode_connection.go)
	case *pb.RoomEvent_ConnectionStateChanged:
		return r.connectionStateChanged(m.ConnectionStateChanged)
	case *pb.RoomEvent_Reconnecting:
		return r.reconnecting(m.Reconnecting)
	case *pb.RoomEvent_Reconnected:
		return r.reconnected(m.Reconnected)
	case *pb.RoomEvent_Disconnected:
		return r.roomDisconnected(m.Disconnected)
	case *pb.RoomEvent_Eos:
		return r.roomEOS(m.Eos)
	case *pb.RoomEvent_RoomSidChanged:
		return r.roomSidChanged(m.RoomSidChanged)
	case *pb.RoomEvent_RoomMetadataChanged:
		return r.roomMetadataChanged(m.RoomMetadataChanged)
	case *pb.RoomEvent_RoomUpdated:
		return r.roomUpdated(m.RoomUpdated)
	case *pb.RoomEvent_Moved:
		return r.roomMoved(m.Moved)
	case *pb.RoomEvent_TokenRefreshed:
		return r.tokenRefreshed(m.TokenRefreshed)
	// Participants (decode_participant.go)
	case *pb.RoomEvent_ParticipantConnected:
		return r.participantConnected(m.ParticipantConnected)
	case *pb.RoomEvent_ParticipantDisconnected:
		return r.participantDisconnected(m.ParticipantDisconnected)
	case *pb.RoomEvent_ParticipantActive:
		return r.participantActive(m.ParticipantActive)
	case *pb.RoomEvent_ParticipantsUpdated:
		return r.participantsUpdated(m.ParticipantsUpdated)
	case *pb.RoomEvent_ParticipantMetadataChanged:
		return r.participantMetadataChanged(m.ParticipantMetadataChanged)
	case *pb.RoomEvent_ParticipantNameChanged:
		return r.participantNameChanged(m.ParticipantNameChanged)
	case *pb.RoomEvent_ParticipantAttributesChanged:
		return r.participantAttributesChanged(m.ParticipantAttributesChanged)
	case *pb.RoomEvent_ParticipantPermissionChanged:
		return r.participantPermissionChanged(m.ParticipantPermissionChanged)
	case *pb.RoomEvent_ActiveSpeakersChanged:
		return r.activeSpeakersChanged(m.ActiveSpeakersChanged)
	case *pb.RoomEvent_ConnectionQualityChanged:
		return r.connectionQualityChanged(m.ConnectionQualityChanged)
	case *pb.RoomEvent_ParticipantEncryptionStatusChanged:
		return r.participantEncryptionStatusChanged(m.ParticipantEncryptionStatusChanged)
	case *pb.RoomEvent_E2EeStateChanged:
		return r.encryptionStateChanged(m.E2EeStateChanged)
	// Tracks and publications (decode_track.go)
	case *pb.RoomEvent_TrackPublished:
		return r.trackPublished(m.TrackPublished)
	case *pb.RoomEvent_TrackUnpublished:
		return r.trackUnpublished(m.TrackUnpublished)
	case *pb.RoomEvent_TrackSubscribed:
		return r.trackSubscribed(m.TrackSubscribed)
	case *pb.RoomEvent_TrackUnsubscribed:
		return r.trackUnsubscribed(m.TrackUnsubscribed)
	case *pb.RoomEvent_TrackSubscriptionFailed:
		return r.trackSubscriptionFailed(m.TrackSubscriptionFailed)
	case *pb.RoomEvent_TrackMuted:
		return r.trackMuted(m.TrackMuted)
	case *pb.RoomEvent_TrackUnmuted:
		return r.trackUnmuted(m.TrackUnmuted)
	case *pb.RoomEvent_LocalTrackPublished:
		return r.localTrackPublished(m.LocalTrackPublished)
	case *pb.RoomEvent_LocalTrackUnpublished:
		return r.localTrackUnpublished(m.LocalTrackUnpublished)
	case *pb.RoomEvent_LocalTrackSubscribed:
		return r.localTrackSubscribed(m.LocalTrackSubscribed)
	case *pb.RoomEvent_LocalTrackRepublished:
		return r.localTrackRepublished(m.LocalTrackRepublished)
	// Data, transcriptions, chat, streams and data tracks (decode_data.go)
	case *pb.RoomEvent_DataPacketReceived:
		return r.dataPacketReceived(m.DataPacketReceived)
	case *pb.RoomEvent_TranscriptionReceived:
		return r.transcriptionReceived(m.TranscriptionReceived)
	case *pb.RoomEvent_ChatMessage:
		return r.chatMessageReceived(m.ChatMessage)
	case *pb.RoomEvent_TextStreamOpened:
		return r.textStreamOpened(m.TextStreamOpened) // stream_readers.go
	case *pb.RoomEvent_ByteStreamOpened:
		return r.byteStreamOpened(m.ByteStreamOpened) // stream_readers.go
	case *pb.RoomEvent_DataTrackPublished:
		return r.dataTrackPublished(m.DataTrackPublished) // data_track.go
	case *pb.RoomEvent_DataTrackUnpublished:
		return r.dataTrackUnpublished(m.DataTrackUnpublished) // data_track.go
	// Not surfaced (see notSurfaced): what they own goes back to the library.
	case *pb.RoomEvent_StreamHeaderReceived, *pb.RoomEvent_StreamChunkReceived, *pb.RoomEvent_StreamTrailerReceived,
		*pb.RoomEvent_DataChannelLowThresholdChanged:
	}
	// A kind listed in notSurfaced, or one a newer library adds: return what it owns.
	dropAll(r.lib, ev)
	return change{}
}
