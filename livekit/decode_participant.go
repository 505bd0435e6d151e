package livekit

import (
	"maps"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// participantConnected decodes ParticipantConnected: a remote participant joined; one with the
// same identity still known is replaced and its streams end.
func (r *room) participantConnected(m *pb.ParticipantConnected) change {
	rp := r.newRemote(m.GetInfo())
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
}

// participantDisconnected decodes ParticipantDisconnected: a remote participant left; its
// streams end.
func (r *room) participantDisconnected(m *pb.ParticipantDisconnected) change {
	id := m.GetParticipantIdentity()
	reason := DisconnectReason(m.GetDisconnectReason())
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
}

// participantActive decodes ParticipantActive: a participant is fully connected (its media can
// flow).
func (r *room) participantActive(m *pb.ParticipantActive) change {
	id := m.GetParticipantIdentity()
	return change{apply: func() Event {
		if p := r.participantLocked(id); p != nil {
			p.info.State = ParticipantStateActive
		}
		return ParticipantActive{Identity: id}
	}}
}

// participantsUpdated decodes ParticipantsUpdated: the server's snapshot of participants; a new
// SID for the local participant means a new session.
func (r *room) participantsUpdated(m *pb.ParticipantsUpdated) change {
	var infos []ParticipantInfo
	for _, pi := range m.GetParticipants() {
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
}

// participantMetadataChanged decodes ParticipantMetadataChanged.
func (r *room) participantMetadataChanged(m *pb.ParticipantMetadataChanged) change {
	id, v := m.GetParticipantIdentity(), m.GetMetadata()
	return r.updateParticipant(id, func(p *ParticipantInfo) { p.Metadata = v }, ParticipantMetadataChanged{Identity: id, Metadata: v})
}

// participantNameChanged decodes ParticipantNameChanged.
func (r *room) participantNameChanged(m *pb.ParticipantNameChanged) change {
	id, v := m.GetParticipantIdentity(), m.GetName()
	return r.updateParticipant(id, func(p *ParticipantInfo) { p.Name = v }, ParticipantNameChanged{Identity: id, Name: v})
}

// participantAttributesChanged decodes ParticipantAttributesChanged: carries both the changed
// attributes (for the event) and all of them (for the state).
func (r *room) participantAttributesChanged(m *pb.ParticipantAttributesChanged) change {
	a := m
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
}

// participantPermissionChanged decodes ParticipantPermissionChanged.
func (r *room) participantPermissionChanged(m *pb.ParticipantPermissionChanged) change {
	id := m.GetParticipantIdentity()
	perm := permissionFrom(m.GetPermission())
	return r.updateParticipant(id, func(p *ParticipantInfo) { p.Permission = perm },
		ParticipantPermissionChanged{Identity: id, Permission: perm})
}

// activeSpeakersChanged decodes ActiveSpeakersChanged.
func (r *room) activeSpeakersChanged(m *pb.ActiveSpeakersChanged) change {
	out := ActiveSpeakersChanged{Identities: m.GetParticipantIdentities()}
	return change{apply: func() Event { return out }}
}

// connectionQualityChanged decodes ConnectionQualityChanged.
func (r *room) connectionQualityChanged(m *pb.ConnectionQualityChanged) change {
	out := ConnectionQualityChanged{Identity: m.GetParticipantIdentity(),
		Quality: ConnectionQuality(m.GetQuality())}
	return change{apply: func() Event { return out }}
}

// participantEncryptionStatusChanged decodes ParticipantEncryptionStatusChanged.
func (r *room) participantEncryptionStatusChanged(m *pb.ParticipantEncryptionStatusChanged) change {
	out := ParticipantEncryptionStatusChanged{Identity: m.GetParticipantIdentity(),
		IsEncrypted: m.GetIsEncrypted()}
	return change{apply: func() Event { return out }}
}

// encryptionStateChanged decodes E2EeStateChanged.
func (r *room) encryptionStateChanged(m *pb.E2EeStateChanged) change {
	out := EncryptionStateChanged{Identity: m.GetParticipantIdentity(),
		State: EncryptionState(m.GetState())}
	return change{apply: func() Event { return out }}
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

func (r *room) updateParticipant(identity string, fn func(*ParticipantInfo), out Event) change {
	return change{apply: func() Event {
		if p := r.participantLocked(identity); p != nil {
			fn(&p.info)
		}
		return out
	}}
}
