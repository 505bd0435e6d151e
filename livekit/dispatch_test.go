package livekit

import (
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// These tests run the event translation without the native library (CGO_ENABLED=0 too).

type fakeHandle struct {
	id     uint64
	closed bool
	n      *fakeNative
}

func (h *fakeHandle) ID() uint64 { return h.id }
func (h *fakeHandle) Close() error {
	if !h.closed {
		h.closed = true
		h.n.released = append(h.n.released, h.id)
	}
	return nil
}

type fakeNative struct {
	ownedIDs []uint64
	released []uint64 // closed owned handles and dropped raw ones
	buffers  map[uint64][]byte
}

func (n *fakeNative) own(id uint64, _ string) owned {
	n.ownedIDs = append(n.ownedIDs, id)
	return &fakeHandle{id: id, n: n}
}
func (n *fakeNative) drop(id uint64) { n.released = append(n.released, id) }
func (n *fakeNative) copyBuffer(b *pb.OwnedBuffer) []byte {
	n.released = append(n.released, b.GetHandle().GetId())
	return slices.Clone(n.buffers[b.GetData().GetDataPtr()])
}

func oh(id uint64) *pb.FfiOwnedHandle { return &pb.FfiOwnedHandle{Id: proto.Uint64(id)} }

func pinfo(identity, name string) *pb.ParticipantInfo {
	return &pb.ParticipantInfo{Sid: proto.String("PA_" + identity), Identity: proto.String(identity), Name: proto.String(name),
		Metadata: proto.String(""), Kind: pb.ParticipantKind_PARTICIPANT_KIND_STANDARD.Enum(),
		State: pb.ParticipantState_PARTICIPANT_STATE_JOINED.Enum(), Attributes: map[string]string{"a": "1"}}
}

func roomInfo(sid, name string) *pb.RoomInfo {
	return &pb.RoomInfo{Sid: proto.String(sid), Name: proto.String(name), Metadata: proto.String("m"),
		NumParticipants: proto.Uint32(2), CreationTime: proto.Int64(1700000000)}
}

// testRoom is a room joined as "me" with "bob" already there.
func testRoom(t *testing.T) (*room, *fakeNative) {
	t.Helper()
	n := &fakeNative{buffers: map[uint64][]byte{}}
	r := newRoom(n, newConfig([]ConnectOption{WithLogger(slog.New(slog.DiscardHandler))}), "ws://x", "tok", nil)
	r.init(&pb.ConnectCallback_Result{
		Room:             &pb.OwnedRoom{Handle: oh(1), Info: roomInfo("RM_1", "lobby")},
		LocalParticipant: &pb.OwnedParticipant{Handle: oh(2), Info: pinfo("me", "Me")},
		Participants: []*pb.ConnectCallback_ParticipantWithTracks{{
			Participant:  &pb.OwnedParticipant{Handle: oh(3), Info: pinfo("bob", "Bob")},
			Publications: []*pb.OwnedTrackPublication{{Handle: oh(4), Info: pubInfo("TR_A", pb.TrackKind_KIND_AUDIO)}},
		}},
	})
	// A local publication, as PublishTrack's completion registers it.
	lt := &LocalAudioTrack{trackBase: trackBase{handle: n.own(5, "track"), info: TrackInfo{Name: "mic", Kind: TrackKindAudio}}}
	r.addLocalPublication(lt, &pb.OwnedTrackPublication{Handle: oh(6), Info: pubInfo("TR_L", pb.TrackKind_KIND_AUDIO)})
	return r, n
}

func pubInfo(sid string, kind pb.TrackKind) *pb.TrackPublicationInfo {
	return &pb.TrackPublicationInfo{Sid: proto.String(sid), Name: proto.String("n"), Kind: kind.Enum(),
		Source: pb.TrackSource_SOURCE_MICROPHONE.Enum(), Simulcasted: proto.Bool(false), Width: proto.Uint32(0), Height: proto.Uint32(0),
		MimeType: proto.String("audio/opus"), Muted: proto.Bool(false), Remote: proto.Bool(true), EncryptionType: pb.EncryptionType_NONE.Enum()}
}

func trackInfo(sid string, kind pb.TrackKind) *pb.TrackInfo {
	return &pb.TrackInfo{Sid: proto.String(sid), Name: proto.String("n"), Kind: kind.Enum(), StreamState: pb.StreamState_STATE_ACTIVE.Enum(),
		Muted: proto.Bool(false), Remote: proto.Bool(true)}
}

// subscribed returns testRoom's room with bob's TR_A subscribed (track handle 50).
func subscribed(t *testing.T) (*room, *fakeNative) {
	r, n := testRoom(t)
	r.handleEvent(&pb.RoomEvent{RoomHandle: proto.Uint64(1), Message: &pb.RoomEvent_TrackSubscribed{TrackSubscribed: &pb.TrackSubscribed{
		ParticipantIdentity: proto.String("bob"), Track: &pb.OwnedTrack{Handle: oh(50), Info: trackInfo("TR_A", pb.TrackKind_KIND_AUDIO)}}}})
	drain(r)
	return r, n
}

func drain(r *room) []Event {
	var out []Event
	for {
		ev, ok, _ := r.events.Pop()
		if !ok {
			return out
		}
		out = append(out, ev)
	}
}

type eventCase struct {
	msg   *pb.RoomEvent
	check func(t *testing.T, r *room, n *fakeNative, got []Event)
}

func one[T Event](t *testing.T, got []Event) T {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("got %d events, want 1: %#v", len(got), got)
	}
	v, ok := got[0].(T)
	if !ok {
		t.Fatalf("got %T, want %T", got[0], v)
	}
	return v
}

func roomEventCases() map[string]eventCase {
	ev := func(m any) *pb.RoomEvent {
		e := &pb.RoomEvent{RoomHandle: proto.Uint64(1)}
		reflect.ValueOf(e).Elem().FieldByName("Message").Set(reflect.ValueOf(m))
		return e
	}
	return map[string]eventCase{
		"participant_connected": {ev(&pb.RoomEvent_ParticipantConnected{ParticipantConnected: &pb.ParticipantConnected{
			Info: &pb.OwnedParticipant{Handle: oh(10), Info: pinfo("carol", "Carol")}}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				e := one[ParticipantConnected](t, got)
				if e.Info.Name != "Carol" || e.Participant.Identity() != "carol" || r.remotes["carol"] != e.Participant {
					t.Fatalf("%+v", e)
				}
			}},
		"participant_disconnected": {ev(&pb.RoomEvent_ParticipantDisconnected{ParticipantDisconnected: &pb.ParticipantDisconnected{
			ParticipantIdentity: proto.String("bob"), DisconnectReason: pb.DisconnectReason_CLIENT_INITIATED.Enum()}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				e := one[ParticipantDisconnected](t, got)
				if e.Identity != "bob" || e.Reason != ReasonClientInitiated || r.remotes["bob"] != nil || !slices.Contains(n.released, 3) {
					t.Fatalf("%+v, released %v", e, n.released)
				}
				if e.Participant.Info().State != ParticipantStateDisconnected {
					t.Fatal("a departed participant's Info does not say so")
				}
			}},
		"participant_active": {ev(&pb.RoomEvent_ParticipantActive{ParticipantActive: &pb.ParticipantActive{ParticipantIdentity: proto.String("bob")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if one[ParticipantActive](t, got).Identity != "bob" || r.remotes["bob"].info.State != ParticipantStateActive {
					t.Fatal("state not active")
				}
			}},
		"participants_updated": {ev(&pb.RoomEvent_ParticipantsUpdated{ParticipantsUpdated: &pb.ParticipantsUpdated{
			Participants: []*pb.ParticipantInfo{pinfo("bob", "Robert")}}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if one[ParticipantsUpdated](t, got).Participants[0].Name != "Robert" || r.remotes["bob"].info.Name != "Robert" {
					t.Fatal("update not applied")
				}
			}},
		"connection_state_changed": {ev(&pb.RoomEvent_ConnectionStateChanged{ConnectionStateChanged: &pb.ConnectionStateChanged{State: pb.ConnectionState_CONN_RECONNECTING.Enum()}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if one[ConnectionStateChanged](t, got).State != StateReconnecting || r.state != StateReconnecting {
					t.Fatal("state")
				}
			}},
		"reconnecting": {ev(&pb.RoomEvent_Reconnecting{Reconnecting: &pb.Reconnecting{}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) { one[Reconnecting](t, got) }},
		"reconnected": {ev(&pb.RoomEvent_Reconnected{Reconnected: &pb.Reconnected{}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) { one[Reconnected](t, got) }},
		"disconnected": {ev(&pb.RoomEvent_Disconnected{Disconnected: &pb.Disconnected{Reason: pb.DisconnectReason_SERVER_SHUTDOWN.Enum()}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if one[Disconnected](t, got).Reason != ReasonServerShutdown || r.state != StateDisconnected || !r.isClosed() {
					t.Fatal("not disconnected")
				}
				select {
				case <-r.done:
				default:
					t.Fatal("Done not closed")
				}
			}},
		"eos": {ev(&pb.RoomEvent_Eos{Eos: &pb.RoomEOS{}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if len(got) != 0 || !r.sawEnd {
					t.Fatalf("eos: %v", got)
				}
			}},
		"data_packet_received": {ev(&pb.RoomEvent_DataPacketReceived{DataPacketReceived: &pb.DataPacketReceived{
			Kind: pb.DataPacketKind_KIND_RELIABLE.Enum(), ParticipantIdentity: proto.String("bob"),
			Value: &pb.DataPacketReceived_User{User: &pb.UserPacket{Topic: proto.String("t"), Data: &pb.OwnedBuffer{
				Handle: oh(20), Data: &pb.BufferInfo{DataPtr: proto.Uint64(77), DataLen: proto.Uint64(2)}}}}}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				e := one[DataReceived](t, got)
				if string(e.Data) != "hi" || e.From != "bob" || e.Topic != "t" || !e.Reliable || !slices.Contains(n.released, 20) {
					t.Fatalf("%+v released %v", e, n.released)
				}
			}},
		"room_metadata_changed": {ev(&pb.RoomEvent_RoomMetadataChanged{RoomMetadataChanged: &pb.RoomMetadataChanged{Metadata: proto.String("new")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if one[RoomMetadataChanged](t, got).Metadata != "new" || r.info.Metadata != "new" {
					t.Fatal("metadata")
				}
			}},
		"room_sid_changed": {ev(&pb.RoomEvent_RoomSidChanged{RoomSidChanged: &pb.RoomSidChanged{Sid: proto.String("RM_2")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if one[RoomSIDChanged](t, got).SID != "RM_2" || r.info.SID != "RM_2" {
					t.Fatal("sid")
				}
			}},
		"room_updated": {ev(&pb.RoomEvent_RoomUpdated{RoomUpdated: roomInfo("RM_3", "lobby")}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				e := one[RoomUpdated](t, got)
				if e.Info.SID != "RM_3" || r.info.SID != "RM_3" || e.Info.NumParticipants != 2 || e.Info.CreationTime.Year() != 2023 {
					t.Fatalf("%+v", e)
				}
			}},
		"moved": {ev(&pb.RoomEvent_Moved{Moved: roomInfo("RM_4", "elsewhere")}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if one[RoomMoved](t, got).Info.Name != "elsewhere" || r.info.Name != "elsewhere" {
					t.Fatal("moved")
				}
			}},
		"participant_metadata_changed": {ev(&pb.RoomEvent_ParticipantMetadataChanged{ParticipantMetadataChanged: &pb.ParticipantMetadataChanged{
			ParticipantIdentity: proto.String("me"), Metadata: proto.String("md")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if one[ParticipantMetadataChanged](t, got).Metadata != "md" || r.local.info.Metadata != "md" {
					t.Fatal("local metadata not applied")
				}
			}},
		"participant_name_changed": {ev(&pb.RoomEvent_ParticipantNameChanged{ParticipantNameChanged: &pb.ParticipantNameChanged{
			ParticipantIdentity: proto.String("bob"), Name: proto.String("Bobby")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if one[ParticipantNameChanged](t, got).Name != "Bobby" || r.remotes["bob"].info.Name != "Bobby" {
					t.Fatal("name")
				}
			}},
		"participant_attributes_changed": {ev(&pb.RoomEvent_ParticipantAttributesChanged{ParticipantAttributesChanged: &pb.ParticipantAttributesChanged{
			ParticipantIdentity: proto.String("bob"),
			Attributes:          []*pb.AttributesEntry{{Key: proto.String("b"), Value: proto.String("2")}},
			ChangedAttributes:   []*pb.AttributesEntry{{Key: proto.String("a"), Value: proto.String("")}, {Key: proto.String("b"), Value: proto.String("2")}}}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				e := one[ParticipantAttributesChanged](t, got)
				if !maps.Equal(e.Changed, map[string]string{"a": "", "b": "2"}) || !maps.Equal(r.remotes["bob"].info.Attributes, map[string]string{"b": "2"}) {
					t.Fatalf("%+v / %v", e, r.remotes["bob"].info.Attributes)
				}
			}},
		"participant_permission_changed": {ev(&pb.RoomEvent_ParticipantPermissionChanged{ParticipantPermissionChanged: &pb.ParticipantPermissionChanged{
			ParticipantIdentity: proto.String("bob"), Permission: &pb.ParticipantPermission{CanPublish: proto.Bool(true),
				CanPublishSources: []pb.TrackSource{pb.TrackSource_SOURCE_MICROPHONE}}}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				e := one[ParticipantPermissionChanged](t, got)
				if !e.Permission.CanPublish || r.remotes["bob"].info.Permission.CanPublishSources[0] != SourceMicrophone {
					t.Fatalf("%+v", e)
				}
			}},
		"active_speakers_changed": {ev(&pb.RoomEvent_ActiveSpeakersChanged{ActiveSpeakersChanged: &pb.ActiveSpeakersChanged{ParticipantIdentities: []string{"bob", "me"}}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if !slices.Equal(one[ActiveSpeakersChanged](t, got).Identities, []string{"bob", "me"}) {
					t.Fatal("speakers")
				}
			}},
		"connection_quality_changed": {ev(&pb.RoomEvent_ConnectionQualityChanged{ConnectionQualityChanged: &pb.ConnectionQualityChanged{
			ParticipantIdentity: proto.String("bob"), Quality: pb.ConnectionQuality_QUALITY_POOR.Enum()}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if e := one[ConnectionQualityChanged](t, got); e.Quality != QualityPoor || e.Identity != "bob" {
					t.Fatalf("%+v", e)
				}
			}},
		"participant_encryption_status_changed": {ev(&pb.RoomEvent_ParticipantEncryptionStatusChanged{ParticipantEncryptionStatusChanged: &pb.ParticipantEncryptionStatusChanged{
			ParticipantIdentity: proto.String("bob"), IsEncrypted: proto.Bool(true)}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if !one[ParticipantEncryptionStatusChanged](t, got).IsEncrypted {
					t.Fatal("encrypted")
				}
			}},
		"e2ee_state_changed": {ev(&pb.RoomEvent_E2EeStateChanged{E2EeStateChanged: &pb.E2EeStateChanged{
			ParticipantIdentity: proto.String("bob"), State: pb.EncryptionState_MISSING_KEY.Enum()}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if one[EncryptionStateChanged](t, got).State != EncryptionStateMissingKey {
					t.Fatal("state")
				}
			}},
		"transcription_received": {ev(&pb.RoomEvent_TranscriptionReceived{TranscriptionReceived: &pb.TranscriptionReceived{
			ParticipantIdentity: proto.String("bob"), TrackSid: proto.String("TR_1"),
			Segments: []*pb.TranscriptionSegment{{Id: proto.String("s1"), Text: proto.String("hello"), StartTime: proto.Uint64(100),
				EndTime: proto.Uint64(900), Final: proto.Bool(true), Language: proto.String("en")}}}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				e := one[TranscriptionReceived](t, got)
				if e.TrackSID != "TR_1" || e.Segments[0].Text != "hello" || !e.Segments[0].Final || e.Segments[0].End.Milliseconds() != 900 {
					t.Fatalf("%+v", e)
				}
			}},
		"chat_message": {ev(&pb.RoomEvent_ChatMessage{ChatMessage: &pb.ChatMessageReceived{ParticipantIdentity: proto.String("bob"),
			Message: &pb.ChatMessage{Id: proto.String("c1"), Timestamp: proto.Int64(1700000000000), Message: proto.String("yo")}}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				e := one[ChatMessageReceived](t, got)
				if e.From != "bob" || e.Message.Message != "yo" || e.Message.Timestamp.Year() != 2023 {
					t.Fatalf("%+v", e)
				}
			}},
		// A stream whose topic has no handler (none in a room without the library) is released.
		"text_stream_opened": {ev(&pb.RoomEvent_TextStreamOpened{TextStreamOpened: &pb.TextStreamOpened{
			Reader: &pb.OwnedTextStreamReader{Handle: oh(60), Info: &pb.TextStreamInfo{Topic: proto.String("t")}}, ParticipantIdentity: proto.String("bob")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if len(got) != 0 || !slices.Contains(n.released, 60) {
					t.Fatalf("events %v, released %v", got, n.released)
				}
			}},
		"byte_stream_opened": {ev(&pb.RoomEvent_ByteStreamOpened{ByteStreamOpened: &pb.ByteStreamOpened{
			Reader: &pb.OwnedByteStreamReader{Handle: oh(61), Info: &pb.ByteStreamInfo{Topic: proto.String("t")}}, ParticipantIdentity: proto.String("bob")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if len(got) != 0 || !slices.Contains(n.released, 61) {
					t.Fatalf("events %v, released %v", got, n.released)
				}
			}},
		"data_track_published": {ev(&pb.RoomEvent_DataTrackPublished{DataTrackPublished: &pb.DataTrackPublished{Track: &pb.OwnedRemoteDataTrack{
			Handle: oh(62), Info: &pb.DataTrackInfo{Name: proto.String("telemetry"), Sid: proto.String("DTR_1"), UsesE2Ee: proto.Bool(false)},
			PublisherIdentity: proto.String("bob")}}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				e := one[DataTrackPublished](t, got)
				if e.Track.Info().Name != "telemetry" || e.Track.Publisher() != "bob" || r.remotes["bob"].dataTracks["DTR_1"] != e.Track {
					t.Fatalf("%+v", e)
				}
				// Unpublishing releases the track's handle.
				r.handleEvent(&pb.RoomEvent{RoomHandle: proto.Uint64(1), Message: &pb.RoomEvent_DataTrackUnpublished{
					DataTrackUnpublished: &pb.DataTrackUnpublished{Sid: proto.String("DTR_1")}}})
				if u := one[DataTrackUnpublished](t, drain(r)); u.Track != e.Track || !slices.Contains(n.released, 62) {
					t.Fatalf("unpublished %+v, released %v", u, n.released)
				}
			}},
		"data_track_unpublished": {ev(&pb.RoomEvent_DataTrackUnpublished{DataTrackUnpublished: &pb.DataTrackUnpublished{Sid: proto.String("DTR_unknown")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if e := one[DataTrackUnpublished](t, got); e.SID != "DTR_unknown" || e.Track != nil {
					t.Fatalf("%+v", e)
				}
			}},
		"token_refreshed": {ev(&pb.RoomEvent_TokenRefreshed{TokenRefreshed: &pb.TokenRefreshed{Token: proto.String("not.a.jwt")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if one[TokenRefreshed](t, got).Token != "not.a.jwt" || r.token != "not.a.jwt" {
					t.Fatal("token")
				}
			}},
	}
}

// stream is a stand-in reader of a track or participant.
type stream struct{ err error }

func (s *stream) end(err error) { s.err = err }

func trackCases() map[string]eventCase {
	ev := func(m any) *pb.RoomEvent {
		e := &pb.RoomEvent{RoomHandle: proto.Uint64(1)}
		reflect.ValueOf(e).Elem().FieldByName("Message").Set(reflect.ValueOf(m))
		return e
	}
	return map[string]eventCase{
		"track_published": {ev(&pb.RoomEvent_TrackPublished{TrackPublished: &pb.TrackPublished{ParticipantIdentity: proto.String("bob"),
			Publication: &pb.OwnedTrackPublication{Handle: oh(40), Info: pubInfo("TR_V", pb.TrackKind_KIND_VIDEO)}}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				e := one[TrackPublished](t, got)
				if e.Info.SID != "TR_V" || e.Info.Kind != TrackKindVideo || r.remotes["bob"].publications["TR_V"] != e.Publication || e.Publication.Track() != nil {
					t.Fatalf("%+v", e)
				}
			}},
		"track_unpublished": {ev(&pb.RoomEvent_TrackUnpublished{TrackUnpublished: &pb.TrackUnpublished{ParticipantIdentity: proto.String("bob"), PublicationSid: proto.String("TR_A")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				e := one[TrackUnpublished](t, got)
				if e.Info.SID != "TR_A" || r.remotes["bob"].publications["TR_A"] != nil || !slices.Contains(n.released, 4) {
					t.Fatalf("%+v released %v", e, n.released)
				}
			}},
		"track_subscribed": {ev(&pb.RoomEvent_TrackSubscribed{TrackSubscribed: &pb.TrackSubscribed{ParticipantIdentity: proto.String("bob"),
			Track: &pb.OwnedTrack{Handle: oh(50), Info: trackInfo("TR_A", pb.TrackKind_KIND_AUDIO)}}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				e := one[TrackSubscribed](t, got)
				if _, ok := e.Track.(*RemoteAudioTrack); !ok || e.Publication.Track() != e.Track || e.Track.SID() != "TR_A" {
					t.Fatalf("%+v", e)
				}
			}},
		"track_unsubscribed": {ev(&pb.RoomEvent_TrackUnsubscribed{TrackUnsubscribed: &pb.TrackUnsubscribed{ParticipantIdentity: proto.String("bob"), TrackSid: proto.String("TR_A")}}),
			nil}, // see TestTrackLifecycleReleasesHandlesAndEndsStreams
		"track_subscription_failed": {ev(&pb.RoomEvent_TrackSubscriptionFailed{TrackSubscriptionFailed: &pb.TrackSubscriptionFailed{
			ParticipantIdentity: proto.String("bob"), TrackSid: proto.String("TR_A"), Error: proto.String("nope")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if one[TrackSubscriptionFailed](t, got).Error != "nope" {
					t.Fatal("error")
				}
			}},
		"track_muted": {ev(&pb.RoomEvent_TrackMuted{TrackMuted: &pb.TrackMuted{ParticipantIdentity: proto.String("me"), TrackSid: proto.String("TR_L")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				one[TrackMuted](t, got)
				if !r.local.publications["TR_L"].info.Muted || !r.local.publications["TR_L"].track.Info().Muted {
					t.Fatal("a mute of a local track was not recorded")
				}
			}},
		"track_unmuted": {ev(&pb.RoomEvent_TrackUnmuted{TrackUnmuted: &pb.TrackUnmuted{ParticipantIdentity: proto.String("bob"), TrackSid: proto.String("TR_A")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if one[TrackUnmuted](t, got).TrackSID != "TR_A" || r.remotes["bob"].publications["TR_A"].info.Muted {
					t.Fatal("unmute")
				}
			}},
		"local_track_published": {ev(&pb.RoomEvent_LocalTrackPublished{LocalTrackPublished: &pb.LocalTrackPublished{TrackSid: proto.String("TR_L")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				if one[LocalTrackPublished](t, got).Publication != r.local.publications["TR_L"] {
					t.Fatal("publication")
				}
			}},
		"local_track_unpublished": {ev(&pb.RoomEvent_LocalTrackUnpublished{LocalTrackUnpublished: &pb.LocalTrackUnpublished{PublicationSid: proto.String("TR_L")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				one[LocalTrackUnpublished](t, got)
				if len(r.local.publications) != 0 || !slices.Contains(n.released, 6) || slices.Contains(n.released, 5) {
					t.Fatalf("publications %v, released %v (want the publication's handle 6, not the caller's track 5)", r.local.publications, n.released)
				}
			}},
		"local_track_subscribed": {ev(&pb.RoomEvent_LocalTrackSubscribed{LocalTrackSubscribed: &pb.LocalTrackSubscribed{TrackSid: proto.String("TR_L")}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) { one[LocalTrackSubscribed](t, got) }},
		"local_track_republished": {ev(&pb.RoomEvent_LocalTrackRepublished{LocalTrackRepublished: &pb.LocalTrackRepublished{
			PublicationHandle: proto.Uint64(6), PreviousSid: proto.String("TR_L"), Info: pubInfo("TR_L2", pb.TrackKind_KIND_AUDIO)}}),
			func(t *testing.T, r *room, n *fakeNative, got []Event) {
				e := one[LocalTrackRepublished](t, got)
				if e.PreviousSID != "TR_L" || e.Publication.SID() != "TR_L2" || r.local.publications["TR_L2"] == nil || e.Publication.Track().SID() != "TR_L2" {
					t.Fatalf("%+v", e)
				}
			}},
	}
}

func TestTrackLifecycleReleasesHandlesAndEndsStreams(t *testing.T) {
	// Unsubscribe: the track's handle goes and its streams end with ErrTrackEnded.
	r, n := subscribed(t)
	pub := r.remotes["bob"].publications["TR_A"]
	s := &stream{}
	pub.Track().base().readers.attach(s)
	r.handleEvent(trackCases()["track_unsubscribed"].msg)
	e := one[TrackUnsubscribed](t, drain(r))
	if e.Track.SID() != "TR_A" || pub.Track() != nil || !slices.Contains(n.released, 50) || s.err != ErrTrackEnded {
		t.Fatalf("%+v released %v stream err %v", e, n.released, s.err)
	}
	if ok, err := e.Track.base().readers.attach(&stream{}); ok || err != ErrTrackEnded {
		t.Fatal("a stream could attach to a released track")
	}

	// Participant leaves: publications, tracks, participant streams all released and ended.
	r, n = subscribed(t)
	ts, ps := &stream{}, &stream{}
	r.remotes["bob"].publications["TR_A"].Track().base().readers.attach(ts)
	r.remotes["bob"].readers.attach(ps)
	r.handleEvent(roomEventCases()["participant_disconnected"].msg)
	drain(r)
	for _, id := range []uint64{3, 4, 50} {
		if !slices.Contains(n.released, id) {
			t.Errorf("handle %d not released after the participant left (released %v)", id, n.released)
		}
	}
	if ts.err != ErrParticipantLeft || ps.err != ErrParticipantLeft {
		t.Fatalf("streams ended with %v / %v, want ErrParticipantLeft", ts.err, ps.err)
	}

	// Room closes: everything it owns goes, the caller's local track does not.
	r, n = subscribed(t)
	r.finish(ReasonClientInitiated)
	for _, id := range []uint64{1, 2, 3, 4, 6, 50} {
		if !slices.Contains(n.released, id) {
			t.Errorf("handle %d not released at close (released %v)", id, n.released)
		}
	}
	if slices.Contains(n.released, 5) {
		t.Error("closing the room released the caller's local track")
	}

	// A subscription that races an unpublish hands its track handle straight back.
	r, n = testRoom(t)
	r.handleEvent(&pb.RoomEvent{RoomHandle: proto.Uint64(1), Message: &pb.RoomEvent_TrackSubscribed{TrackSubscribed: &pb.TrackSubscribed{
		ParticipantIdentity: proto.String("bob"), Track: &pb.OwnedTrack{Handle: oh(60), Info: trackInfo("TR_GONE", pb.TrackKind_KIND_AUDIO)}}}})
	if got := drain(r); len(got) != 0 || !slices.Contains(n.released, 60) {
		t.Fatalf("events %v, released %v", got, n.released)
	}
}

func TestEveryRoomEventKindIsTranslatedOrListed(t *testing.T) {
	cases := roomEventCases()
	maps.Copy(cases, trackCases())
	fields := (&pb.RoomEvent{}).ProtoReflect().Descriptor().Oneofs().ByName("message").Fields()
	for i := range fields.Len() {
		name := string(fields.Get(i).Name())
		_, tested := cases[name]
		_, listed := notSurfaced[name]
		switch {
		case tested && listed:
			t.Errorf("%s is both translated and listed as not surfaced", name)
		case !tested && !listed:
			t.Errorf("room event %s is neither translated (with a case here) nor listed in notSurfaced", name)
		}
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r, n := testRoom(t)
			n.buffers[77] = []byte("hi")
			if got := string(c.msg.ProtoReflect().WhichOneof(c.msg.ProtoReflect().Descriptor().Oneofs().ByName("message")).Name()); got != name {
				t.Fatalf("case %s builds a %s event", name, got)
			}
			if c.check == nil {
				return // covered by a test of its own
			}
			r.handleEvent(c.msg)
			c.check(t, r, n, drain(r))
		})
	}
}

func TestUnhandledStreamsAndDataTracksGiveTheirHandlesBack(t *testing.T) {
	r, n := testRoom(t)
	r.handleEvent(&pb.RoomEvent{RoomHandle: proto.Uint64(1), Message: &pb.RoomEvent_DataTrackPublished{DataTrackPublished: &pb.DataTrackPublished{
		Track: &pb.OwnedRemoteDataTrack{Handle: oh(40)}}}})
	r.handleEvent(&pb.RoomEvent{RoomHandle: proto.Uint64(1), Message: &pb.RoomEvent_TextStreamOpened{TextStreamOpened: &pb.TextStreamOpened{
		Reader: &pb.OwnedTextStreamReader{Handle: oh(41)}, ParticipantIdentity: proto.String("bob")}}})
	if !slices.Contains(n.released, 40) || !slices.Contains(n.released, 41) {
		t.Fatalf("released %v, want 40 and 41", n.released)
	}
	if got := drain(r); len(got) != 0 {
		t.Fatalf("events %v", got)
	}
}

func TestDisconnectedIsDeliveredExactlyOnce(t *testing.T) {
	// The library's Disconnected, then the room's own teardown: one event.
	r, n := testRoom(t)
	r.handleEvent(&pb.RoomEvent{RoomHandle: proto.Uint64(1), Message: &pb.RoomEvent_Disconnected{Disconnected: &pb.Disconnected{Reason: pb.DisconnectReason_ROOM_DELETED.Enum()}}})
	r.finish(ReasonClientInitiated)
	got := drain(r)
	if len(got) != 1 || got[0] != (Disconnected{Reason: ReasonRoomDeleted}) {
		t.Fatalf("events %#v, want one Disconnected{room_deleted}", got)
	}
	// Teardown without the library's event synthesizes it; a late one is not delivered twice.
	r2, _ := testRoom(t)
	r2.finish(ReasonClientInitiated)
	r2.handleEvent(&pb.RoomEvent{RoomHandle: proto.Uint64(1), Message: &pb.RoomEvent_Disconnected{Disconnected: &pb.Disconnected{Reason: pb.DisconnectReason_CLIENT_INITIATED.Enum()}}})
	got = drain(r2)
	if len(got) != 1 || got[0] != (Disconnected{Reason: ReasonClientInitiated}) {
		t.Fatalf("events %#v, want one Disconnected{client_initiated}", got)
	}
	// Teardown releases every handle: publications, participants, local participant, room.
	for _, id := range []uint64{1, 2, 3, 4, 6} {
		if !slices.Contains(n.released, id) {
			t.Errorf("handle %d not released (released %v)", id, n.released)
		}
	}
}

func TestReconnectedSaysWhetherTheSessionWasRebuilt(t *testing.T) {
	ev := func(m any) *pb.RoomEvent {
		e := &pb.RoomEvent{RoomHandle: proto.Uint64(1)}
		reflect.ValueOf(e).Elem().FieldByName("Message").Set(reflect.ValueOf(m))
		return e
	}
	reconnecting := ev(&pb.RoomEvent_Reconnecting{Reconnecting: &pb.Reconnecting{}})
	reconnected := ev(&pb.RoomEvent_Reconnected{Reconnected: &pb.Reconnected{}})
	last := func(r *room) Reconnected {
		got := drain(r)
		return got[len(got)-1].(Reconnected)
	}
	// Resumed (as seen against livekit-server after a 16 s stall): the local SID is unchanged.
	r, _ := testRoom(t)
	r.handleEvent(reconnecting)
	r.handleEvent(ev(&pb.RoomEvent_ParticipantsUpdated{ParticipantsUpdated: &pb.ParticipantsUpdated{Participants: []*pb.ParticipantInfo{pinfo("me", "Me")}}}))
	r.handleEvent(reconnected)
	if last(r).Rebuilt {
		t.Fatal("a resumed session reported as rebuilt")
	}
	// Rebuilt (a 32 s stall): the remote participants are dropped during the reconnect.
	r.handleEvent(reconnecting)
	r.handleEvent(roomEventCases()["participant_disconnected"].msg)
	r.handleEvent(reconnected)
	if !last(r).Rebuilt {
		t.Fatal("a reconnect that dropped the remote participants not reported as rebuilt")
	}
	// A new local SID alone also says so; the flag does not leak into the next reconnect.
	r.handleEvent(reconnecting)
	newMe := pinfo("me", "Me")
	newMe.Sid = proto.String("PA_new")
	r.handleEvent(ev(&pb.RoomEvent_ParticipantsUpdated{ParticipantsUpdated: &pb.ParticipantsUpdated{Participants: []*pb.ParticipantInfo{newMe}}}))
	r.handleEvent(reconnected)
	if !last(r).Rebuilt || r.local.info.SID != "PA_new" {
		t.Fatal("a new local SID during the reconnect not reported as rebuilt")
	}
	r.handleEvent(reconnecting)
	r.handleEvent(reconnected)
	if last(r).Rebuilt {
		t.Fatal("the rebuilt flag leaked into the next reconnect")
	}
}

func TestUnreadEventsAreBounded(t *testing.T) {
	n := &fakeNative{}
	r := newRoom(n, newConfig([]ConnectOption{WithEventBuffer(4)}), "ws://x", "tok", nil)
	r.init(&pb.ConnectCallback_Result{Room: &pb.OwnedRoom{Handle: oh(1), Info: roomInfo("RM", "r")},
		LocalParticipant: &pb.OwnedParticipant{Handle: oh(2), Info: pinfo("me", "")}})
	for range 10 {
		r.handleEvent(&pb.RoomEvent{RoomHandle: proto.Uint64(1), Message: &pb.RoomEvent_Reconnecting{Reconnecting: &pb.Reconnecting{}}})
	}
	if got := r.events.Len(); got != 4 {
		t.Fatalf("%d events kept, want 4", got)
	}
	if r.events.Dropped() != 6 {
		t.Fatalf("dropped %d, want 6", r.events.Dropped())
	}
}
