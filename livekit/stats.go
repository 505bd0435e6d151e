package livekit

import (
	"context"
	"encoding/json"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// RTCStats is one WebRTC statistics object (https://www.w3.org/TR/webrtc-stats/).
type RTCStats struct {
	// Type is the report type in the library's spelling: "outbound_rtp", "inbound_rtp",
	// "media_source", "candidate_pair", "transport", "codec" ...
	Type      string
	ID        string
	Timestamp time.Time
	// Values holds the report's fields by their protobuf names (bytes_sent, packets_lost ...):
	// numbers as float64, strings, bools.
	Values map[string]any
}

// SessionStats are the statistics of the room's two peer connections. With livekit-ffi 0.13.2
// against livekit-server v1.13.5, every report (inbound ones of a receiving room too) comes in
// Publisher and Subscriber stays empty.
type SessionStats struct {
	Publisher  []RTCStats
	Subscriber []RTCStats
}

// SessionStats returns the WebRTC statistics of the room's connections.
func (r *Room) SessionStats(ctx context.Context) (SessionStats, error) {
	const op = "get session stats"
	cb, err := call[*pb.GetSessionStatsCallback](ctx, r.room, op, &pb.GetSessionStatsRequest{RoomHandle: proto.Uint64(r.handle.ID())}, engine.CallOptions{})
	if err != nil {
		return SessionStats{}, err
	}
	res := cb.GetResult()
	return SessionStats{Publisher: statsFrom(res.GetPublisherStats()), Subscriber: statsFrom(res.GetSubscriberStats())}, nil
}

// TrackStats returns the WebRTC statistics of one track of this room, local or remote.
func (r *Room) TrackStats(ctx context.Context, t Track) ([]RTCStats, error) {
	const op = "get track stats"
	if t == nil {
		return nil, invalid(op, "nil track")
	}
	cb, err := call[*pb.GetStatsCallback](ctx, r.room, op, &pb.GetStatsRequest{TrackHandle: proto.Uint64(t.base().handle.ID())}, engine.CallOptions{})
	if err != nil {
		return nil, err
	}
	return statsFrom(cb.GetStats()), nil
}

func statsFrom(in []*pb.RtcStats) []RTCStats {
	out := make([]RTCStats, 0, len(in))
	for _, s := range in {
		m := s.ProtoReflect()
		fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("stats"))
		if fd == nil {
			continue
		}
		st := RTCStats{Type: string(fd.Name()), Values: map[string]any{}}
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m.Get(fd).Message().Interface())
		var groups map[string]any
		if err != nil || json.Unmarshal(b, &groups) != nil {
			continue
		}
		// Each report is a few groups (rtc, stream, sent, outbound ...): flatten them.
		for g, v := range groups {
			sub, ok := v.(map[string]any)
			if !ok {
				st.Values[g] = v
				continue
			}
			if g == "rtc" {
				st.ID, _ = sub["id"].(string)
				if ts, ok := sub["timestamp"].(string); ok {
					var ms json.Number = json.Number(ts)
					if v, err := ms.Int64(); err == nil {
						st.Timestamp = statsTime(v)
					}
				}
				continue
			}
			for k, v := range sub {
				st.Values[k] = numeric(v)
			}
		}
		out = append(out, st)
	}
	return out
}

// numeric turns protojson's quoted 64-bit integers back into numbers.
func numeric(v any) any {
	if s, ok := v.(string); ok {
		if n, err := json.Number(s).Float64(); err == nil && s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') {
			return n
		}
	}
	return v
}

// statsTime reads a report's timestamp: microseconds since the epoch in WebRTC's native
// stats, milliseconds in some reports.
func statsTime(v int64) time.Time {
	if v > 1e14 {
		return time.UnixMicro(v)
	}
	return unixTime(v)
}
