package livekit

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// SendChatMessage sends a message of LiveKit's chat protocol to destinations (default:
// everyone) and returns it as sent (with its id and timestamp). Receivers get
// ChatMessageReceived.
func (p *LocalParticipant) SendChatMessage(ctx context.Context, text string, destinations []string) (ChatMessage, error) {
	const op = "send chat message"
	cb, err := call[*pb.SendChatMessageCallback](ctx, p.r, op, &pb.SendChatMessageRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		Message:                proto.String(text),
		DestinationIdentities:  destinations,
	}, engine.CallOptions{})
	if err != nil {
		return ChatMessage{}, err
	}
	return chatMessageFrom(cb.GetChatMessage()), nil
}

// EditChatMessage replaces the text of a chat message sent earlier (as SendChatMessage
// returned it) and returns the edited message (same id, Edited set). Receivers get a
// ChatMessageReceived with the same id and Edited set.
func (p *LocalParticipant) EditChatMessage(ctx context.Context, original ChatMessage, text string, destinations []string) (ChatMessage, error) {
	const op = "edit chat message"
	if original.ID == "" {
		return ChatMessage{}, invalid(op, "the original message has no id")
	}
	orig := &pb.ChatMessage{Id: proto.String(original.ID), Timestamp: proto.Int64(original.Timestamp.UnixMilli()),
		Message: proto.String(original.Message), Deleted: proto.Bool(original.Deleted), Generated: proto.Bool(original.Generated)}
	if !original.Edited.IsZero() {
		orig.EditTimestamp = proto.Int64(original.Edited.UnixMilli())
	}
	cb, err := call[*pb.SendChatMessageCallback](ctx, p.r, op, &pb.EditChatMessageRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		EditText:               proto.String(text),
		OriginalMessage:        orig,
		DestinationIdentities:  destinations,
	}, engine.CallOptions{})
	if err != nil {
		return ChatMessage{}, err
	}
	return chatMessageFrom(cb.GetChatMessage()), nil
}

// PublishTranscription publishes segments transcribing the track trackSID of the participant
// identity (often an agent transcribing someone else). Receivers get TranscriptionReceived.
// Start and End are sent in milliseconds.
func (p *LocalParticipant) PublishTranscription(ctx context.Context, identity, trackSID string, segments []TranscriptionSegment) error {
	req := &pb.PublishTranscriptionRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		ParticipantIdentity:    proto.String(identity),
		TrackId:                proto.String(trackSID),
	}
	for _, s := range segments {
		req.Segments = append(req.Segments, &pb.TranscriptionSegment{
			Id: proto.String(s.ID), Text: proto.String(s.Text),
			StartTime: proto.Uint64(uint64(max(s.Start, 0) / time.Millisecond)),
			EndTime:   proto.Uint64(uint64(max(s.End, 0) / time.Millisecond)),
			Final:     proto.Bool(s.Final), Language: proto.String(s.Language),
		})
	}
	_, err := call[*pb.PublishTranscriptionCallback](ctx, p.r, "publish transcription", req, engine.CallOptions{})
	return err
}

// PublishDTMF sends a SIP DTMF tone (code and digit, as SIP defines them) to destinations
// (default: everyone). Receivers get SIPDTMFReceived.
func (p *LocalParticipant) PublishDTMF(ctx context.Context, code uint32, digit string, destinations []string) error {
	_, err := call[*pb.PublishSipDtmfCallback](ctx, p.r, "publish dtmf", &pb.PublishSipDtmfRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		Code:                   proto.Uint32(code),
		Digit:                  proto.String(digit),
		DestinationIdentities:  destinations,
	}, engine.CallOptions{})
	return err
}
