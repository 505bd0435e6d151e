package livekit

import (
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// trackPublished decodes TrackPublished: takes the publication's handle at once; one that raced
// its participant's departure is closed.
func (r *room) trackPublished(m *pb.TrackPublished) change {
	id := m.GetParticipantIdentity()
	op := m.GetPublication()
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
}

// trackUnpublished decodes TrackUnpublished: ends the streams of the publication's track.
func (r *room) trackUnpublished(m *pb.TrackUnpublished) change {
	id, sid := m.GetParticipantIdentity(), m.GetPublicationSid()
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
}

// trackSubscribed decodes TrackSubscribed: takes the track's handle at once; one that raced an
// unpublish or a departure is released.
func (r *room) trackSubscribed(m *pb.TrackSubscribed) change {
	id := m.GetParticipantIdentity()
	ot := m.GetTrack()
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
}

// trackUnsubscribed decodes TrackUnsubscribed: ends the streams of the track.
func (r *room) trackUnsubscribed(m *pb.TrackUnsubscribed) change {
	id, sid := m.GetParticipantIdentity(), m.GetTrackSid()
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
}

// trackSubscriptionFailed decodes TrackSubscriptionFailed.
func (r *room) trackSubscriptionFailed(m *pb.TrackSubscriptionFailed) change {
	f := m
	out := TrackSubscriptionFailed{Identity: f.GetParticipantIdentity(), TrackSID: f.GetTrackSid(), Error: f.GetError()}
	return change{apply: func() Event { return out }}
}

// trackMuted decodes TrackMuted.
func (r *room) trackMuted(m *pb.TrackMuted) change {
	id, sid := m.GetParticipantIdentity(), m.GetTrackSid()
	return change{apply: func() Event {
		r.setMutedLocked(id, sid, true)
		return TrackMuted{Identity: id, TrackSID: sid}
	}}
}

// trackUnmuted decodes TrackUnmuted.
func (r *room) trackUnmuted(m *pb.TrackUnmuted) change {
	id, sid := m.GetParticipantIdentity(), m.GetTrackSid()
	return change{apply: func() Event {
		r.setMutedLocked(id, sid, false)
		return TrackUnmuted{Identity: id, TrackSID: sid}
	}}
}

// localTrackPublished decodes LocalTrackPublished.
func (r *room) localTrackPublished(m *pb.LocalTrackPublished) change {
	sid := m.GetTrackSid()
	return change{apply: func() Event {
		pub := r.local.publications[sid]
		if pub == nil {
			return nil
		}
		return LocalTrackPublished{Publication: pub}
	}}
}

// localTrackUnpublished decodes LocalTrackUnpublished: closes the publication's handle.
func (r *room) localTrackUnpublished(m *pb.LocalTrackUnpublished) change {
	sid := m.GetPublicationSid()
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
}

// localTrackSubscribed decodes LocalTrackSubscribed.
func (r *room) localTrackSubscribed(m *pb.LocalTrackSubscribed) change {
	sid := m.GetTrackSid()
	return change{apply: func() Event {
		if pub := r.local.publications[sid]; pub != nil {
			return LocalTrackSubscribed{Publication: pub}
		}
		return nil
	}}
}

// localTrackRepublished decodes LocalTrackRepublished: a reconnect that rebuilt the session
// published the track again, under a new SID.
func (r *room) localTrackRepublished(m *pb.LocalTrackRepublished) change {
	rp := m
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
