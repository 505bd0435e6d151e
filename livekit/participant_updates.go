package livekit

import (
	"context"
	"maps"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// SetName changes the participant's display name. It waits for the server's answer and
// returns the library's error if the server refused (the token needs canUpdateOwnMetadata).
// The change comes back as ParticipantNameChanged, and the server then refreshes the token
// (TokenRefreshed carries the new claims).
func (p *LocalParticipant) SetName(ctx context.Context, name string) error {
	_, err := call[*pb.SetLocalNameCallback](ctx, p.r, "set name", &pb.SetLocalNameRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		Name:                   proto.String(name),
	}, engine.CallOptions{})
	return err
}

// SetMetadata changes the participant's metadata, like SetName.
func (p *LocalParticipant) SetMetadata(ctx context.Context, metadata string) error {
	_, err := call[*pb.SetLocalMetadataCallback](ctx, p.r, "set metadata", &pb.SetLocalMetadataRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		Metadata:               proto.String(metadata),
	}, engine.CallOptions{})
	return err
}

// SetAttributes updates the participant's attributes, like SetName. The update is partial:
// keys not in attrs keep their values, and a key whose value is "" is deleted.
func (p *LocalParticipant) SetAttributes(ctx context.Context, attrs map[string]string) error {
	req := &pb.SetLocalAttributesRequest{LocalParticipantHandle: proto.Uint64(p.handle.ID())}
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		req.Attributes = append(req.Attributes, &pb.AttributesEntry{Key: proto.String(k), Value: proto.String(attrs[k])})
	}
	_, err := call[*pb.SetLocalAttributesCallback](ctx, p.r, "set attributes", req, engine.CallOptions{})
	return err
}
