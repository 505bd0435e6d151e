package livekit

import (
	"google.golang.org/protobuf/proto"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

// TrackPermission lets one participant subscribe to all of the local participant's tracks
// (AllowAll) or to the tracks listed by SID.
type TrackPermission struct {
	Identity  string
	AllowAll  bool
	TrackSIDs []string
}

// SetTrackSubscriptionPermissions sets who may subscribe to the local participant's tracks:
// everyone (allParticipantsAllowed, the default), or only what perms allow. The library sends
// the change in the background and does not report whether the server accepted it.
func (p *LocalParticipant) SetTrackSubscriptionPermissions(allParticipantsAllowed bool, perms []TrackPermission) error {
	req := &pb.SetTrackSubscriptionPermissionsRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		AllParticipantsAllowed: proto.Bool(allParticipantsAllowed),
	}
	for _, tp := range perms {
		req.Permissions = append(req.Permissions, &pb.ParticipantTrackPermission{
			ParticipantIdentity: proto.String(tp.Identity),
			AllowAll:            proto.Bool(tp.AllowAll),
			AllowedTrackSids:    tp.TrackSIDs,
		})
	}
	_, err := request[*pb.SetTrackSubscriptionPermissionsResponse](p.r, "set track subscription permissions", req)
	return err
}
