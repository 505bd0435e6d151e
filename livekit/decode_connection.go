package livekit

import (
	"time"

	pb "github.com/livekit-ffi-go/sdk/proto"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// connectionStateChanged decodes ConnectionStateChanged.
func (r *room) connectionStateChanged(m *pb.ConnectionStateChanged) change {
	s := ConnectionState(m.GetState())
	return change{apply: func() Event {
		r.state = s
		return ConnectionStateChanged{State: s}
	}}
}

// reconnecting decodes Reconnecting.
func (r *room) reconnecting(m *pb.Reconnecting) change {
	return change{apply: func() Event {
		r.state = StateReconnecting
		r.rebuilt = false
		return Reconnecting{}
	}}
}

// reconnected decodes Reconnected: reports whether the session was rebuilt while it was away.
func (r *room) reconnected(m *pb.Reconnected) change {
	return change{apply: func() Event {
		r.state = StateConnected
		out := Reconnected{Rebuilt: r.rebuilt}
		r.rebuilt = false
		return out
	}}
}

// roomDisconnected decodes Disconnected: is delivered once (Disconnect may have synthesized
// it); afterwards the room is done and whatever was in flight fails.
func (r *room) roomDisconnected(m *pb.Disconnected) change {
	reason := DisconnectReason(m.GetReason())
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
}

// roomEOS decodes Eos: the library's stream for this room ended: nothing more will come.
func (r *room) roomEOS(m *pb.RoomEOS) change {
	// The library's stream for this room ended: nothing more will come.
	return change{apply: func() Event {
		if !r.sawEnd {
			r.sawEnd = true
			close(r.ended)
		}
		return nil
	}}
}

// roomSidChanged decodes RoomSidChanged.
func (r *room) roomSidChanged(m *pb.RoomSidChanged) change {
	sid := m.GetSid()
	return change{apply: func() Event {
		r.info.SID = sid
		return RoomSIDChanged{SID: sid}
	}}
}

// roomMetadataChanged decodes RoomMetadataChanged.
func (r *room) roomMetadataChanged(m *pb.RoomMetadataChanged) change {
	md := m.GetMetadata()
	return change{apply: func() Event {
		r.info.Metadata = md
		return RoomMetadataChanged{Metadata: md}
	}}
}

// roomUpdated decodes RoomUpdated.
func (r *room) roomUpdated(m *pb.RoomInfo) change {
	info := roomInfoFrom(m)
	return change{apply: func() Event {
		r.info = info
		return RoomUpdated{Info: info}
	}}
}

// roomMoved decodes Moved.
func (r *room) roomMoved(m *pb.RoomInfo) change {
	info := roomInfoFrom(m)
	return change{apply: func() Event {
		r.info = info
		return RoomMoved{Info: info}
	}}
}

// tokenRefreshed decodes TokenRefreshed: keeps the newest token and hands it to the token
// source, if it takes one.
func (r *room) tokenRefreshed(m *pb.TokenRefreshed) change {
	tok := m.GetToken()
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
