package livekit

import (
	"time"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// dataPacketReceived decodes DataPacketReceived: copies the payload out of library memory (its
// buffer is dropped there).
func (r *room) dataPacketReceived(m *pb.DataPacketReceived) change {
	d := m
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
	dropAll(r.lib, m)
	return change{}
}

// transcriptionReceived decodes TranscriptionReceived.
func (r *room) transcriptionReceived(m *pb.TranscriptionReceived) change {
	t := m
	out := TranscriptionReceived{Identity: t.GetParticipantIdentity(), TrackSID: t.GetTrackSid()}
	for _, s := range t.GetSegments() {
		out.Segments = append(out.Segments, TranscriptionSegment{
			ID: s.GetId(), Text: s.GetText(), Final: s.GetFinal(), Language: s.GetLanguage(),
			Start: time.Duration(s.GetStartTime()) * time.Millisecond,
			End:   time.Duration(s.GetEndTime()) * time.Millisecond,
		})
	}
	return change{apply: func() Event { return out }}
}

// chatMessageReceived decodes ChatMessage.
func (r *room) chatMessageReceived(m *pb.ChatMessageReceived) change {
	out := ChatMessageReceived{From: m.GetParticipantIdentity(), Message: chatMessageFrom(m.GetMessage())}
	return change{apply: func() Event { return out }}
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
