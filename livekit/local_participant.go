package livekit

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// MaxDataBytes is the largest payload plus topic PublishData accepts: the negotiated data
// channel message limit of LiveKit servers (64,000 bytes). The packet's framing takes a few
// dozen bytes of that, so the library may still refuse a payload just under the limit; send
// anything larger as a data stream.
const MaxDataBytes = 64000

// LocalParticipant is this client's participant in a room: it publishes data, tracks and
// data tracks, sends data streams, and makes and answers RPC calls. It is valid while its room
// is; after the room closes its methods return ErrClosed.
type LocalParticipant struct {
	participant
	publications map[string]*LocalTrackPublication // by SID; guarded by r.mu
	rpc          rpcServer                         // RPC methods this participant answers (rpc.go)
	streams      streamState                       // data stream writers, handlers, readers (streams.go)
	dataTracks   dataTrackSet                      // published data tracks (data_track.go)
}

// Identity reports the participant's identity (from the token).
func (p *LocalParticipant) Identity() string { return p.identity }

// SID reports the participant's server id.
func (p *LocalParticipant) SID() string { return p.snapshot().SID }

// Info returns a snapshot of the participant's state.
func (p *LocalParticipant) Info() ParticipantInfo { return p.snapshot() }

// DataOptions are the parameters of one PublishData call. The zero value sends a reliable
// packet with no topic to everyone in the room.
type DataOptions struct {
	// Topic tags the packet so receivers can tell kinds of messages apart.
	Topic string
	// Destinations limits delivery to these participant identities (default: everyone).
	Destinations []string
	// Lossy sends the packet unreliably (no retransmission, no ordering): for data where only
	// the latest value matters.
	Lossy bool
}

// PublishData sends a data packet to the room and waits until the library has handed it to
// the transport. A ctx that has already ended sends nothing; cancelling ctx after the packet
// is sent stops the wait, not the packet (it may still be delivered). If the room closes
// while the call waits, it returns ErrClosed (delivery unknown). len(data)+len(Topic) must not
// exceed MaxDataBytes.
func (p *LocalParticipant) PublishData(ctx context.Context, data []byte, opts DataOptions) error {
	const op = "publish data"
	if n := len(data) + len(opts.Topic); n > MaxDataBytes {
		return invalid(op, "%d bytes of payload and topic exceed the %d-byte packet limit (use a data stream)", n, MaxDataBytes)
	}
	req := &pb.PublishDataRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		DataLen:                proto.Uint64(uint64(len(data))),
		Reliable:               proto.Bool(!opts.Lossy),
		DestinationIdentities:  opts.Destinations,
	}
	if opts.Topic != "" {
		req.Topic = proto.String(opts.Topic)
	}
	var err error
	// The library copies the payload during the request itself.
	engine.Pin(data, func(addr uint64) {
		req.DataPtr = proto.Uint64(addr)
		_, err = call[*pb.PublishDataCallback](ctx, p.r, op, req, engine.CallOptions{})
	})
	return err
}

// stopServing answers the RPC calls in progress (RPCRecipientDisconnected) and ends the
// incoming data streams being read (ErrClosed). wait bounds the wait for the answers.
func (p *LocalParticipant) stopServing(wait time.Duration) {
	if p == nil {
		return
	}
	p.rpc.stop(wait)
	p.streams.stop()
}

// release drops the participant's publications and handle. The tracks stay the caller's.
func (p *LocalParticipant) release() {
	if p == nil {
		return
	}
	p.rpc.release()
	p.streams.release(p.r.lib)
	p.dataTracks.release()
	p.r.mu.Lock()
	pubs := p.publications
	p.publications = map[string]*LocalTrackPublication{}
	p.r.mu.Unlock()
	for _, pub := range pubs {
		pub.handle.Close()
	}
	if p.handle != nil {
		p.handle.Close()
	}
}
