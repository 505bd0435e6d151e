package livekit

import (
	"maps"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// ParticipantInfo is a snapshot of a participant's state. Live objects (*LocalParticipant,
// *RemoteParticipant) return a fresh one from Info; events carry the one taken when they
// happened.
type ParticipantInfo struct {
	SID        string
	Identity   string
	Name       string
	Metadata   string
	Attributes map[string]string
	Kind       ParticipantKind
	State      ParticipantState
	// Permission is what the server lets the participant do.
	Permission ParticipantPermission
	// DisconnectReason says why the participant left (ReasonUnknown while it is present).
	DisconnectReason DisconnectReason
}

// ParticipantPermission is what a participant may do in the room.
type ParticipantPermission struct {
	CanSubscribe      bool
	CanPublish        bool
	CanPublishData    bool
	CanPublishSources []TrackSource
	Hidden            bool
	CanUpdateMetadata bool
}

func participantInfoFrom(info *pb.ParticipantInfo) ParticipantInfo {
	p := ParticipantInfo{
		SID:              info.GetSid(),
		Identity:         info.GetIdentity(),
		Name:             info.GetName(),
		Metadata:         info.GetMetadata(),
		Attributes:       maps.Clone(info.GetAttributes()),
		Kind:             ParticipantKind(info.GetKind()),
		State:            ParticipantState(info.GetState()),
		DisconnectReason: DisconnectReason(info.GetDisconnectReason()),
	}
	if p.Attributes == nil {
		p.Attributes = map[string]string{}
	}
	if perm := info.GetPermission(); perm != nil {
		p.Permission = permissionFrom(perm)
	}
	return p
}

func permissionFrom(perm *pb.ParticipantPermission) ParticipantPermission {
	out := ParticipantPermission{
		CanSubscribe:      perm.GetCanSubscribe(),
		CanPublish:        perm.GetCanPublish(),
		CanPublishData:    perm.GetCanPublishData(),
		Hidden:            perm.GetHidden(),
		CanUpdateMetadata: perm.GetCanUpdateMetadata(),
	}
	for _, s := range perm.GetCanPublishSources() {
		out.CanPublishSources = append(out.CanPublishSources, TrackSource(s))
	}
	return out
}

// clone returns a copy that shares no map or slice with p.
func (p ParticipantInfo) clone() ParticipantInfo {
	p.Attributes = maps.Clone(p.Attributes)
	if p.Attributes == nil {
		p.Attributes = map[string]string{}
	}
	p.Permission.CanPublishSources = append([]TrackSource(nil), p.Permission.CanPublishSources...)
	return p
}

// participant is what local and remote participants share: a handle and state guarded by
// the room's lock. Identity never changes, so it is readable without the lock.
type participant struct {
	r        *room
	handle   owned
	identity string
	info     ParticipantInfo // guarded by r.mu
}

func (p *participant) snapshot() ParticipantInfo {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	return p.info.clone()
}
