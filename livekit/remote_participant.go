package livekit

import pb "github.com/livekit-ffi-go/sdk/proto"

// RemoteParticipant is another participant in the room. It stays readable after the
// participant leaves (Info then reports its last known state).
type RemoteParticipant struct {
	participant
	publications map[string]*RemoteTrackPublication // by SID; guarded by r.mu
	readers      readers                            // streams reading from the participant
	dataTracks   map[string]*RemoteDataTrack        // by SID; guarded by r.mu (data_track.go)
}

// Identity reports the participant's identity.
func (p *RemoteParticipant) Identity() string { return p.identity }

// SID reports the participant's server id.
func (p *RemoteParticipant) SID() string { return p.snapshot().SID }

// Info returns a snapshot of the participant's state.
func (p *RemoteParticipant) Info() ParticipantInfo { return p.snapshot() }

// TrackPublications lists the participant's publications.
func (p *RemoteParticipant) TrackPublications() []*RemoteTrackPublication {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	out := make([]*RemoteTrackPublication, 0, len(p.publications))
	for _, pub := range p.publications {
		out = append(out, pub)
	}
	return out
}

// TrackPublication returns the publication with this SID, or nil.
func (p *RemoteParticipant) TrackPublication(sid string) *RemoteTrackPublication {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	return p.publications[sid]
}

// release ends the streams reading from the participant, drops its publications (and their
// tracks), then its handle.
func (p *RemoteParticipant) release(err error) {
	p.readers.endAll(err)
	p.r.mu.Lock()
	pubs := p.publications
	p.publications = map[string]*RemoteTrackPublication{}
	dts := p.dataTracks
	p.dataTracks = nil
	p.r.mu.Unlock()
	for _, t := range dts {
		t.release(err)
	}
	for _, pub := range pubs {
		pub.release(err)
	}
	p.handle.Close()
}

// newRemotePublication takes ownership of a publication of rp. The caller adds it to
// rp.publications under the room's lock.
func (r *room) newRemotePublication(rp *RemoteParticipant, op *pb.OwnedTrackPublication) *RemoteTrackPublication {
	return &RemoteTrackPublication{r: r, handle: r.lib.own(op.GetHandle().GetId(), "remote publication"),
		participant: rp, info: publicationInfoFrom(op.GetInfo())}
}
