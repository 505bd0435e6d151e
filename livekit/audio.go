package livekit

// LocalAudioTrack is an audio track fed by an AudioSource, to publish with
// LocalParticipant.PublishTrack.
type LocalAudioTrack struct {
	trackBase
}

func (*LocalAudioTrack) isLocalTrack() {}
