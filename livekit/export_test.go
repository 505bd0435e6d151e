package livekit

// StreamHandlesHeld counts the data stream reader and writer handles a room holds.
func StreamHandlesHeld(r *Room) int64 { return r.local.streams.unclaimed.Load() }

// FailAudioCapture ends a capture parked in the library with err, the way a failure the
// library reports would.
func FailAudioCapture(s *AudioSource, err error) int { return s.c.FailOwner(s.handle.ID(), err) }
