package livekit

import (
	"cmp"
	"context"
	"errors"
	"iter"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/queue"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// disconnectTimeout bounds Close's wait for the library to finish disconnecting.
const disconnectTimeout = 10 * time.Second

// lastEventWait bounds how long Disconnect waits, after the library confirmed the disconnect,
// for the room's final events (the library sends Disconnected and its end-of-stream marker
// after its disconnect callback).
const lastEventWait = 2 * time.Second

// Room is a connection to a LiveKit room through the native engine. Its methods are safe for
// concurrent use. Close it when done; a Room that becomes unreachable without Close is
// disconnected and released by a safety net that logs a warning naming where it was
// connected. (The net cannot fire while an event handler still references the Room.)
type Room struct {
	*room
	cleanup runtime.Cleanup
}

// room is the state the library's events reach. Room wraps it so that the wrapper, not
// this, can become unreachable and trigger the leak safety net.
type room struct {
	c         *engine.Client // nil in translation tests
	lib       native
	log       *slog.Logger
	url       string
	handle    owned
	sub       *engine.Subscription
	events    *queue.Queue[Event]
	pull      bool          // events are kept for Events (no handler)
	ended     chan struct{} // closed when the library's last room event (end of stream) arrived
	onToken   func(string)  // hands refreshed tokens to the source; may be nil
	createdAt string
	keyRing   int // the E2EE key ring size; 0 when the room is not encrypted

	mu              sync.Mutex
	info            RoomInfo
	token           string
	state           ConnectionState
	reason          DisconnectReason
	local           *LocalParticipant
	remotes         map[string]*RemoteParticipant // by identity
	closing         bool
	sawDisconnected bool
	rebuilt         bool // the reconnect in progress rebuilt the session
	sawEnd          bool
	done            chan struct{}
	doneOnce        sync.Once

	closeOnce sync.Once
	closeErr  error
}

func newRoom(n native, cfg *config, url, token string, onToken func(string)) *room {
	r := &room{
		lib:     n,
		log:     cfg.logger,
		url:     url,
		token:   token,
		onToken: onToken,
		state:   StateConnected,
		remotes: map[string]*RemoteParticipant{},
		ended:   make(chan struct{}),
		done:    make(chan struct{}),
	}
	if cfg.encryption != nil {
		r.keyRing = cmp.Or(cfg.encryption.KeyRingSize, DefaultKeyRingSize)
	}
	if cfg.handler != nil {
		r.events = queue.New[Event]()
	} else {
		r.events = queue.NewBounded[Event](cfg.eventBuffer)
		r.pull = true
	}
	return r
}

// init takes over what the ConnectCallback brought: the room, the local participant and the
// participants already there.
func (r *room) init(res *pb.ConnectCallback_Result) {
	r.handle = r.lib.own(res.GetRoom().GetHandle().GetId(), "room")
	r.info = roomInfoFrom(res.GetRoom().GetInfo())
	lp := res.GetLocalParticipant()
	r.local = &LocalParticipant{participant: participant{
		r:        r,
		handle:   r.lib.own(lp.GetHandle().GetId(), "local participant"),
		identity: lp.GetInfo().GetIdentity(),
		info:     participantInfoFrom(lp.GetInfo()),
	}, publications: map[string]*LocalTrackPublication{}}
	for _, pt := range res.GetParticipants() {
		rp := r.newRemote(pt.GetParticipant())
		r.remotes[rp.identity] = rp
		for _, op := range pt.GetPublications() {
			pub := r.newRemotePublication(rp, op)
			rp.publications[pub.info.SID] = pub
		}
	}
}

func (r *room) newRemote(op *pb.OwnedParticipant) *RemoteParticipant {
	return &RemoteParticipant{participant: participant{
		r:        r,
		handle:   r.lib.own(op.GetHandle().GetId(), "participant"),
		identity: op.GetInfo().GetIdentity(),
		info:     participantInfoFrom(op.GetInfo()),
	}, publications: map[string]*RemoteTrackPublication{}}
}

func leakedRoom(r *room) {
	r.log.Warn("livekit: Room was not closed; disconnecting it now", "room", r.info.Name, "connected_at", r.createdAt)
	// Cleanups share one goroutine: do the waiting elsewhere.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), disconnectTimeout)
		defer cancel()
		r.close(ctx)
	}()
}

func (r *room) markDone() { r.doneOnce.Do(func() { close(r.done) }) }

func (r *room) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closing || r.state == StateDisconnected && r.sawDisconnected
}

// Name reports the room's name.
func (r *Room) Name() string { r.mu.Lock(); defer r.mu.Unlock(); return r.info.Name }

// SID reports the room's server id ("" until the server has assigned it; see RoomSIDChanged).
// After a full reconnect to a restarted server the server's room may have a new id that the
// library does not report; SID then keeps the old one.
func (r *Room) SID() string { r.mu.Lock(); defer r.mu.Unlock(); return r.info.SID }

// Metadata reports the room's metadata.
func (r *Room) Metadata() string { r.mu.Lock(); defer r.mu.Unlock(); return r.info.Metadata }

// Info reports the server's latest view of the room.
func (r *Room) Info() RoomInfo { r.mu.Lock(); defer r.mu.Unlock(); return r.info }

// ServerURL reports the URL the room connected to.
func (r *Room) ServerURL() string { return r.url }

// Token reports the newest access token: the one joined with, or the server's latest refresh.
func (r *Room) Token() string { r.mu.Lock(); defer r.mu.Unlock(); return r.token }

// ConnectionState reports the current connection state.
func (r *Room) ConnectionState() ConnectionState { r.mu.Lock(); defer r.mu.Unlock(); return r.state }

// DisconnectReason reports why the room disconnected (ReasonUnknown while connected).
func (r *Room) DisconnectReason() DisconnectReason {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reason
}

// LocalParticipant returns this client's participant.
func (r *Room) LocalParticipant() *LocalParticipant { return r.local }

// RemoteParticipants lists the other participants, sorted by identity.
func (r *Room) RemoteParticipants() []*RemoteParticipant {
	r.mu.Lock()
	out := make([]*RemoteParticipant, 0, len(r.remotes))
	for _, rp := range r.remotes {
		out = append(out, rp)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b *RemoteParticipant) int { return strings.Compare(a.identity, b.identity) })
	return out
}

// RemoteParticipant returns the participant with this identity, or nil.
func (r *Room) RemoteParticipant(identity string) *RemoteParticipant {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.remotes[identity]
}

// Done is closed once the room is disconnected, whoever caused it.
func (r *Room) Done() <-chan struct{} { return r.done }

// Events returns the room's events, in order, for a range loop: the pull counterpart of
// WithEventHandler. The sequence ends after the room's last event (Disconnected) or when ctx
// ends; breaking out of the loop leaves later events for the next call. Each event goes to one
// reader: run one loop per room. A room connected with WithEventHandler pushes every event to
// its handler, and Events yields nothing.
//
// Events are kept for Events from the moment the room is connected, up to WithEventBuffer
// (DefaultEventBuffer); past that the oldest are dropped and counted in DroppedEvents.
func (r *Room) Events(ctx context.Context) iter.Seq[Event] {
	return func(yield func(Event) bool) {
		if !r.pull {
			return
		}
		for {
			ev, err := r.events.Next(ctx)
			if err != nil || !yield(ev) {
				return
			}
		}
	}
}

// DroppedEvents reports how many events a room without an event handler dropped because
// nobody read them with Events in time.
func (r *Room) DroppedEvents() uint64 { return r.events.Dropped() }

// Disconnect leaves the room and waits until the library has finished, then releases
// everything the room owns. It is idempotent: later calls return the first call's result.
// ctx bounds the wait; the room's resources are released even if ctx ends first. Calls still
// in flight end with ErrClosed, and the last event delivered is Disconnected.
func (r *Room) Disconnect(ctx context.Context) error {
	r.cleanup.Stop()
	if ctx == nil {
		ctx = context.Background()
	}
	return r.close(ctx)
}

// Close is Disconnect with a bounded wait of its own.
func (r *Room) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), disconnectTimeout)
	defer cancel()
	return r.Disconnect(ctx)
}

func (r *room) close(ctx context.Context) error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closing = true
		r.mu.Unlock()
		r.local.stopServing(time.Second) // answer RPC calls while the room can still send
		if r.c != nil {
			_, err := r.c.Do(ctx, &pb.DisconnectRequest{
				RoomHandle: proto.Uint64(r.handle.ID()),
				Reason:     pb.DisconnectReason_CLIENT_INITIATED.Enum(),
			}, engine.CallOptions{})
			if err != nil && !errors.Is(err, engine.ErrDisposed) {
				r.closeErr = &RequestError{Op: "disconnect", Err: err}
			}
			if err == nil {
				// The library sends the room's last events after it confirms: wait for them
				// so that Disconnected reaches the application.
				t := time.NewTimer(lastEventWait)
				select {
				case <-r.ended:
				case <-t.C:
				case <-ctx.Done():
				}
				t.Stop()
			}
		}
		if r.sub != nil {
			r.sub.Close()
		}
		if r.c != nil {
			r.c.FailOwner(r.handle.ID(), ErrClosed)
		}
		r.finish(ReasonClientInitiated)
	})
	return r.closeErr
}

// finish releases everything the room owns, in order (participants, then the local
// participant, then the room), delivers Disconnected if the library did not, and ends the
// event stream.
func (r *room) finish(reason DisconnectReason) {
	r.mu.Lock()
	r.state = StateDisconnected
	if r.reason == ReasonUnknown {
		r.reason = reason
	}
	if !r.sawDisconnected {
		// Events are pushed under the lock, so this cannot race the library's own.
		r.sawDisconnected = true
		r.events.Push(Disconnected{Reason: r.reason})
	}
	r.events.Close()
	remotes := r.remotes
	r.remotes = map[string]*RemoteParticipant{}
	r.mu.Unlock()
	for _, rp := range remotes {
		rp.release(ErrClosed)
	}
	r.local.release()
	r.handle.Close()
	r.markDone()
}
