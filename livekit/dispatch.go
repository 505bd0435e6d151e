package livekit

import (
	"maps"
	"time"

	pb "github.com/livekit-ffi-go/sdk/proto"
	"github.com/livekit-ffi-go/sdk/tokensource"
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

// decode is the one switch over the library's room events.
func (r *room) decode(ev *pb.RoomEvent) change {
	switch m := ev.Message.(type) {
	case *pb.RoomEvent_ParticipantConnected:
		rp := r.newRemote(m.ParticipantConnected.GetInfo())
		var old *RemoteParticipant
		return change{apply: func() Event {
			old = r.remotes[rp.identity]
			r.remotes[rp.identity] = rp
			return ParticipantConnected{Participant: rp, Info: rp.info.clone()}
		}, after: func() {
			if old != nil {
				old.release(ErrParticipantLeft)
			}
		}}
	case *pb.RoomEvent_ParticipantDisconnected:
		id := m.ParticipantDisconnected.GetParticipantIdentity()
		reason := DisconnectReason(m.ParticipantDisconnected.GetDisconnectReason())
		var rp *RemoteParticipant
		return change{apply: func() Event {
			rp = r.remotes[id]
			delete(r.remotes, id)
			if r.state == StateReconnecting {
				r.rebuilt = true // a full reconnect drops every remote participant
			}
			if rp != nil {
				rp.info.State = ParticipantStateDisconnected
				rp.info.DisconnectReason = reason
			}
			return ParticipantDisconnected{Participant: rp, Identity: id, Reason: reason}
		}, after: func() {
			if rp != nil {
				rp.release(ErrParticipantLeft)
			}
		}}
	case *pb.RoomEvent_ParticipantActive:
		id := m.ParticipantActive.GetParticipantIdentity()
		return change{apply: func() Event {
			if p := r.participantLocked(id); p != nil {
				p.info.State = ParticipantStateActive
			}
			return ParticipantActive{Identity: id}
		}}
	case *pb.RoomEvent_ParticipantsUpdated:
		var infos []ParticipantInfo
		for _, pi := range m.ParticipantsUpdated.GetParticipants() {
			infos = append(infos, participantInfoFrom(pi))
		}
		return change{apply: func() Event {
			for _, in := range infos {
				p := r.participantLocked(in.Identity)
				if p == nil {
					continue
				}
				if p == &r.local.participant && in.SID != "" && in.SID != p.info.SID && p.info.SID != "" {
					r.rebuilt = true // a new session
				}
				p.info = in.clone()
			}
			return ParticipantsUpdated{Participants: infos}
		}}
	case *pb.RoomEvent_ConnectionStateChanged:
		s := ConnectionState(m.ConnectionStateChanged.GetState())
		return change{apply: func() Event {
			r.state = s
			return ConnectionStateChanged{State: s}
		}}
	case *pb.RoomEvent_Reconnecting:
		return change{apply: func() Event {
			r.state = StateReconnecting
			r.rebuilt = false
			return Reconnecting{}
		}}
	case *pb.RoomEvent_Reconnected:
		return change{apply: func() Event {
			r.state = StateConnected
			out := Reconnected{Rebuilt: r.rebuilt}
			r.rebuilt = false
			return out
		}}
	case *pb.RoomEvent_Disconnected:
		reason := DisconnectReason(m.Disconnected.GetReason())
		return change{apply: func() Event {
			r.state = StateDisconnected
			if r.reason == ReasonUnknown {
				r.reason = reason
			}
			if r.sawDisconnected {
				return nil // already delivered (Disconnect synthesized it)
			}
			r.sawDisconnected = true
			return Disconnected{Reason: reason}
		}, after: func() {
			r.markDone()
			r.local.stopServing(0) // RPC calls and stream reads end: the library ends neither
			// The library completes nothing that was in flight once the room is gone.
			if r.c != nil {
				r.c.FailOwner(r.handle.ID(), ErrClosed)
			}
		}}
	case *pb.RoomEvent_Eos:
		// The library's stream for this room ended: nothing more will come.
		return change{apply: func() Event {
			if !r.sawEnd {
				r.sawEnd = true
				close(r.ended)
			}
			return nil
		}}
	case *pb.RoomEvent_DataPacketReceived:
		d := m.DataPacketReceived
		from := d.GetParticipantIdentity()
		switch v := d.Value.(type) {
		case *pb.DataPacketReceived_User:
			out := DataReceived{
				Data:     r.lib.copyBuffer(v.User.GetData()),
				Topic:    v.User.GetTopic(),
				From:     from,
				Reliable: d.GetKind() == pb.DataPacketKind_KIND_RELIABLE,
			}
			return change{apply: func() Event { return out }}
		case *pb.DataPacketReceived_SipDtmf:
			out := SIPDTMFReceived{From: from, Code: v.SipDtmf.GetCode(), Digit: v.SipDtmf.GetDigit()}
			return change{apply: func() Event { return out }}
		}
		dropAll(r.lib, ev)
		return change{}
	case *pb.RoomEvent_RoomSidChanged:
		sid := m.RoomSidChanged.GetSid()
		return change{apply: func() Event {
			r.info.SID = sid
			return RoomSIDChanged{SID: sid}
		}}
	case *pb.RoomEvent_RoomMetadataChanged:
		md := m.RoomMetadataChanged.GetMetadata()
		return change{apply: func() Event {
			r.info.Metadata = md
			return RoomMetadataChanged{Metadata: md}
		}}
	case *pb.RoomEvent_RoomUpdated:
		info := roomInfoFrom(m.RoomUpdated)
		return change{apply: func() Event {
			r.info = info
			return RoomUpdated{Info: info}
		}}
	case *pb.RoomEvent_Moved:
		info := roomInfoFrom(m.Moved)
		return change{apply: func() Event {
			r.info = info
			return RoomMoved{Info: info}
		}}
	case *pb.RoomEvent_ParticipantMetadataChanged:
		id, v := m.ParticipantMetadataChanged.GetParticipantIdentity(), m.ParticipantMetadataChanged.GetMetadata()
		return r.updateParticipant(id, func(p *ParticipantInfo) { p.Metadata = v }, ParticipantMetadataChanged{Identity: id, Metadata: v})
	case *pb.RoomEvent_ParticipantNameChanged:
		id, v := m.ParticipantNameChanged.GetParticipantIdentity(), m.ParticipantNameChanged.GetName()
		return r.updateParticipant(id, func(p *ParticipantInfo) { p.Name = v }, ParticipantNameChanged{Identity: id, Name: v})
	case *pb.RoomEvent_ParticipantAttributesChanged:
		a := m.ParticipantAttributesChanged
		changed := map[string]string{}
		for _, e := range a.GetChangedAttributes() {
			changed[e.GetKey()] = e.GetValue()
		}
		all := map[string]string{}
		for _, e := range a.GetAttributes() {
			all[e.GetKey()] = e.GetValue()
		}
		return r.updateParticipant(a.GetParticipantIdentity(), func(p *ParticipantInfo) { p.Attributes = maps.Clone(all) },
			ParticipantAttributesChanged{Identity: a.GetParticipantIdentity(), Changed: changed})
	case *pb.RoomEvent_ParticipantPermissionChanged:
		id := m.ParticipantPermissionChanged.GetParticipantIdentity()
		perm := permissionFrom(m.ParticipantPermissionChanged.GetPermission())
		return r.updateParticipant(id, func(p *ParticipantInfo) { p.Permission = perm },
			ParticipantPermissionChanged{Identity: id, Permission: perm})
	case *pb.RoomEvent_ActiveSpeakersChanged:
		out := ActiveSpeakersChanged{Identities: m.ActiveSpeakersChanged.GetParticipantIdentities()}
		return change{apply: func() Event { return out }}
	case *pb.RoomEvent_ConnectionQualityChanged:
		out := ConnectionQualityChanged{Identity: m.ConnectionQualityChanged.GetParticipantIdentity(),
			Quality: ConnectionQuality(m.ConnectionQualityChanged.GetQuality())}
		return change{apply: func() Event { return out }}
	case *pb.RoomEvent_ParticipantEncryptionStatusChanged:
		out := ParticipantEncryptionStatusChanged{Identity: m.ParticipantEncryptionStatusChanged.GetParticipantIdentity(),
			IsEncrypted: m.ParticipantEncryptionStatusChanged.GetIsEncrypted()}
		return change{apply: func() Event { return out }}
	case *pb.RoomEvent_E2EeStateChanged:
		out := EncryptionStateChanged{Identity: m.E2EeStateChanged.GetParticipantIdentity(),
			State: EncryptionState(m.E2EeStateChanged.GetState())}
		return change{apply: func() Event { return out }}
	case *pb.RoomEvent_TranscriptionReceived:
		t := m.TranscriptionReceived
		out := TranscriptionReceived{Identity: t.GetParticipantIdentity(), TrackSID: t.GetTrackSid()}
		for _, s := range t.GetSegments() {
			out.Segments = append(out.Segments, TranscriptionSegment{
				ID: s.GetId(), Text: s.GetText(), Final: s.GetFinal(), Language: s.GetLanguage(),
				Start: time.Duration(s.GetStartTime()) * time.Millisecond,
				End:   time.Duration(s.GetEndTime()) * time.Millisecond,
			})
		}
		return change{apply: func() Event { return out }}
	case *pb.RoomEvent_ChatMessage:
		out := ChatMessageReceived{From: m.ChatMessage.GetParticipantIdentity(), Message: chatMessageFrom(m.ChatMessage.GetMessage())}
		return change{apply: func() Event { return out }}
	case *pb.RoomEvent_TrackPublished:
		id := m.TrackPublished.GetParticipantIdentity()
		op := m.TrackPublished.GetPublication()
		h := r.lib.own(op.GetHandle().GetId(), "remote publication")
		var orphan bool
		var old *RemoteTrackPublication
		return change{apply: func() Event {
			rp := r.remotes[id]
			if rp == nil {
				orphan = true // raced the participant's departure
				return nil
			}
			pub := &RemoteTrackPublication{r: r, handle: h, participant: rp, info: publicationInfoFrom(op.GetInfo())}
			old = rp.publications[pub.info.SID]
			rp.publications[pub.info.SID] = pub
			return TrackPublished{Participant: rp, Publication: pub, Info: pub.info}
		}, after: func() {
			if orphan {
				h.Close()
			}
			if old != nil {
				old.release(ErrTrackEnded)
			}
		}}
	case *pb.RoomEvent_TrackUnpublished:
		id, sid := m.TrackUnpublished.GetParticipantIdentity(), m.TrackUnpublished.GetPublicationSid()
		var pub *RemoteTrackPublication
		return change{apply: func() Event {
			rp := r.remotes[id]
			if rp == nil || rp.publications[sid] == nil {
				return nil
			}
			pub = rp.publications[sid]
			delete(rp.publications, sid)
			return TrackUnpublished{Participant: rp, Publication: pub, Info: pub.info}
		}, after: func() {
			if pub != nil {
				pub.release(ErrTrackEnded)
			}
		}}
	case *pb.RoomEvent_TrackSubscribed:
		id := m.TrackSubscribed.GetParticipantIdentity()
		ot := m.TrackSubscribed.GetTrack()
		t := newRemoteTrack(r.lib.own(ot.GetHandle().GetId(), "remote track"), ot.GetInfo())
		var drop Track
		return change{apply: func() Event {
			rp := r.remotes[id]
			var pub *RemoteTrackPublication
			if rp != nil {
				pub = rp.publications[t.SID()]
			}
			if pub == nil {
				drop = t // raced an unpublish or a departure
				return nil
			}
			drop = pub.track
			pub.track = t
			return TrackSubscribed{Participant: rp, Publication: pub, Track: t}
		}, after: func() {
			if drop != nil {
				drop.base().release(ErrTrackEnded)
			}
		}}
	case *pb.RoomEvent_TrackUnsubscribed:
		id, sid := m.TrackUnsubscribed.GetParticipantIdentity(), m.TrackUnsubscribed.GetTrackSid()
		var t Track
		return change{apply: func() Event {
			rp := r.remotes[id]
			if rp == nil || rp.publications[sid] == nil || rp.publications[sid].track == nil {
				return nil
			}
			pub := rp.publications[sid]
			t, pub.track = pub.track, nil
			return TrackUnsubscribed{Participant: rp, Publication: pub, Track: t}
		}, after: func() {
			if t != nil {
				t.base().release(ErrTrackEnded)
			}
		}}
	case *pb.RoomEvent_TrackSubscriptionFailed:
		f := m.TrackSubscriptionFailed
		out := TrackSubscriptionFailed{Identity: f.GetParticipantIdentity(), TrackSID: f.GetTrackSid(), Error: f.GetError()}
		return change{apply: func() Event { return out }}
	case *pb.RoomEvent_TrackMuted:
		id, sid := m.TrackMuted.GetParticipantIdentity(), m.TrackMuted.GetTrackSid()
		return change{apply: func() Event {
			r.setMutedLocked(id, sid, true)
			return TrackMuted{Identity: id, TrackSID: sid}
		}}
	case *pb.RoomEvent_TrackUnmuted:
		id, sid := m.TrackUnmuted.GetParticipantIdentity(), m.TrackUnmuted.GetTrackSid()
		return change{apply: func() Event {
			r.setMutedLocked(id, sid, false)
			return TrackUnmuted{Identity: id, TrackSID: sid}
		}}
	case *pb.RoomEvent_LocalTrackPublished:
		sid := m.LocalTrackPublished.GetTrackSid()
		return change{apply: func() Event {
			pub := r.local.publications[sid]
			if pub == nil {
				return nil
			}
			return LocalTrackPublished{Publication: pub}
		}}
	case *pb.RoomEvent_LocalTrackUnpublished:
		sid := m.LocalTrackUnpublished.GetPublicationSid()
		var pub *LocalTrackPublication
		return change{apply: func() Event {
			pub = r.local.publications[sid]
			if pub == nil {
				return nil
			}
			delete(r.local.publications, sid)
			return LocalTrackUnpublished{Publication: pub}
		}, after: func() {
			if pub != nil {
				pub.handle.Close()
			}
		}}
	case *pb.RoomEvent_LocalTrackSubscribed:
		sid := m.LocalTrackSubscribed.GetTrackSid()
		return change{apply: func() Event {
			if pub := r.local.publications[sid]; pub != nil {
				return LocalTrackSubscribed{Publication: pub}
			}
			return nil
		}}
	case *pb.RoomEvent_LocalTrackRepublished:
		rp := m.LocalTrackRepublished
		info := publicationInfoFrom(rp.GetInfo())
		return change{apply: func() Event {
			for sid, pub := range r.local.publications {
				if pub.handle.ID() != rp.GetPublicationHandle() {
					continue
				}
				delete(r.local.publications, sid)
				pub.info = info
				r.local.publications[info.SID] = pub
				pub.track.base().setSID(info.SID)
				r.rebuilt = true
				return LocalTrackRepublished{Publication: pub, PreviousSID: rp.GetPreviousSid()}
			}
			return nil
		}}
	case *pb.RoomEvent_TextStreamOpened:
		return r.textStreamOpened(m.TextStreamOpened)
	case *pb.RoomEvent_ByteStreamOpened:
		return r.byteStreamOpened(m.ByteStreamOpened)
	case *pb.RoomEvent_DataTrackPublished:
		return r.dataTrackPublished(m.DataTrackPublished)
	case *pb.RoomEvent_DataTrackUnpublished:
		return r.dataTrackUnpublished(m.DataTrackUnpublished)
	case *pb.RoomEvent_TokenRefreshed:
		tok := m.TokenRefreshed.GetToken()
		out := TokenRefreshed{Token: tok}
		if claims, err := tokensource.Parse(tok); err == nil {
			out.Claims, out.Identity, out.ExpiresAt = claims, claims.Identity, claims.ExpiresAt
		} else {
			r.log.Warn("livekit: refreshed token does not decode", "err", err)
		}
		// The source gets the token before the application hears of it.
		if r.onToken != nil {
			r.onToken(tok)
		}
		return change{apply: func() Event {
			r.token = tok
			return out
		}}
	}
	// A kind listed in notSurfaced, or one a newer library adds: return what it owns.
	dropAll(r.lib, ev)
	return change{}
}

// participantLocked finds a participant's state by identity, local or remote. r.mu is held.
func (r *room) participantLocked(identity string) *participant {
	if r.local != nil && identity == r.local.identity {
		return &r.local.participant
	}
	if rp := r.remotes[identity]; rp != nil {
		return &rp.participant
	}
	return nil
}

// setMutedLocked records a mute change of a local or remote publication. r.mu is held.
func (r *room) setMutedLocked(identity, sid string, muted bool) {
	if r.local != nil && identity == r.local.identity {
		if pub := r.local.publications[sid]; pub != nil {
			pub.info.Muted = muted
			pub.track.base().setMuted(muted)
		}
		return
	}
	if rp := r.remotes[identity]; rp != nil {
		if pub := rp.publications[sid]; pub != nil {
			pub.info.Muted = muted
			if pub.track != nil {
				pub.track.base().setMuted(muted)
			}
		}
	}
}

func (r *room) updateParticipant(identity string, fn func(*ParticipantInfo), out Event) change {
	return change{apply: func() Event {
		if p := r.participantLocked(identity); p != nil {
			fn(&p.info)
		}
		return out
	}}
}

func roomInfoFrom(in *pb.RoomInfo) RoomInfo {
	return RoomInfo{
		SID:              in.GetSid(),
		Name:             in.GetName(),
		Metadata:         in.GetMetadata(),
		NumParticipants:  int(in.GetNumParticipants()),
		NumPublishers:    int(in.GetNumPublishers()),
		MaxParticipants:  int(in.GetMaxParticipants()),
		ActiveRecording:  in.GetActiveRecording(),
		CreationTime:     unixTime(in.GetCreationTime()),
		EmptyTimeout:     time.Duration(in.GetEmptyTimeout()) * time.Second,
		DepartureTimeout: time.Duration(in.GetDepartureTimeout()) * time.Second,
	}
}

// unixTime reads a timestamp the library gives in seconds or milliseconds since the epoch.
func unixTime(v int64) time.Time {
	switch {
	case v <= 0:
		return time.Time{}
	case v > 1e11: // milliseconds
		return time.UnixMilli(v)
	}
	return time.Unix(v, 0)
}

func chatMessageFrom(m *pb.ChatMessage) ChatMessage {
	out := ChatMessage{
		ID:        m.GetId(),
		Timestamp: unixTime(m.GetTimestamp()),
		Message:   m.GetMessage(),
		Deleted:   m.GetDeleted(),
		Generated: m.GetGenerated(),
	}
	if m.EditTimestamp != nil {
		out.Edited = unixTime(m.GetEditTimestamp())
	}
	return out
}
