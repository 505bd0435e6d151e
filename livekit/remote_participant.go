package livekit

import pb "github.com/livekit-ffi-go/sdk/proto"

// RemoteParticipant is another participant in the room. It stays readable after the
// participant leaves (Info then reports its last known state).
type RemoteParticipant struct {
	participant
}

// Identity reports the participant's identity.
func (p *RemoteParticipant) Identity() string { return p.identity }

// SID reports the participant's server id.
func (p *RemoteParticipant) SID() string { return p.snapshot().SID }

// Info returns a snapshot of the participant's state.
func (p *RemoteParticipant) Info() ParticipantInfo { return p.snapshot() }

// release drops the participant's handle and everything it owns.
func (p *RemoteParticipant) release() {
	p.handle.Close()
}

// addRemotePublication takes a publication that came with the participant.
func (r *room) addRemotePublication(rp *RemoteParticipant, pub *pb.OwnedTrackPublication) {
	// Tracks are wrapped by the track model; until then give the handle back.
	r.lib.drop(pub.GetHandle().GetId())
}
