package livekit

// StreamHandlesHeld counts the data stream reader and writer handles a room holds.
func StreamHandlesHeld(r *Room) int64 { return r.local.streams.unclaimed.Load() }
