package livekit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/ffi"
	"github.com/livekit-ffi-go/sdk/internal/queue"
	pb "github.com/livekit-ffi-go/sdk/proto"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

var (
	// ErrInvalidCredentials: the server URL or token is empty. Caught before any connect.
	ErrInvalidCredentials = errors.New("livekit: empty server URL or token")
	// ErrClosed: the room was disconnected or closed.
	ErrClosed = errors.New("livekit: room is closed")
)

// ConnectError is the library's or the server's reason a connect failed.
type ConnectError struct {
	URL     string
	Message string
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("livekit: connect to %s failed: %s", e.URL, e.Message)
}

// tokenUpdater is what a caching token source offers the room (tokensource.Cache does).
type tokenUpdater interface {
	UpdateToken(opts tokensource.Options, token string) bool
}

// disconnectTimeout bounds Close's wait for the library to finish disconnecting.
const disconnectTimeout = 10 * time.Second

// Room is a connection to a LiveKit room through the native engine. Its methods are safe for
// concurrent use. Close it when done; a Room that becomes unreachable without Close is
// disconnected and released by a safety net that logs a warning.
type Room struct {
	*room
	cleanup runtime.Cleanup
}

// room is the state the library's events reach. Room wraps it so that the wrapper, not
// this, can become unreachable and trigger the leak safety net.
type room struct {
	c      *ffi.Client
	log    *slog.Logger
	url    string
	handle *ffi.Handle
	sub    *ffi.Subscription
	events *queue.Queue[Event]

	onToken func(string) // hands refreshed tokens to a caching source; may be nil

	mu          sync.Mutex
	name        string
	sid         string
	metadata    string
	token       string
	state       ConnectionState
	local       Participant
	localHandle *ffi.Handle
	remotes     map[string]*remote // by identity
	reason      DisconnectReason
	done        chan struct{}
	doneOnce    sync.Once

	closeOnce sync.Once
	closeErr  error
}

type remote struct {
	p      Participant
	handle *ffi.Handle
}

// Connect joins the room that token grants, on the server at url.
func Connect(ctx context.Context, url, token string, opts ...Option) (*Room, error) {
	return connect(ctx, url, token, newConfig(opts), nil)
}

// ConnectSource fetches credentials from src and joins. If src is tokensource.Bind over a
// tokensource.Cache, refreshed tokens go back to that cache as with ConnectConfigurable.
func ConnectSource(ctx context.Context, src tokensource.Fixed, opts ...Option) (*Room, error) {
	resp, err := src.Fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("livekit: fetch token: %w", err)
	}
	var onToken func(string)
	if u, ok := src.(interface{ UpdateToken(string) bool }); ok {
		onToken = func(tok string) { u.UpdateToken(tok) }
	}
	return connect(ctx, resp.ServerURL, resp.ParticipantToken, newConfig(opts), onToken)
}

// ConnectConfigurable fetches credentials for req from src and joins. If src is a
// tokensource.Cache, tokens the server refreshes during the session are handed back to it,
// so a later connect with the same req starts from the newest token.
func ConnectConfigurable(ctx context.Context, src tokensource.Configurable, req tokensource.Options, opts ...Option) (*Room, error) {
	resp, err := src.Fetch(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("livekit: fetch token: %w", err)
	}
	var onToken func(string)
	if u, ok := src.(tokenUpdater); ok {
		onToken = func(tok string) { u.UpdateToken(req, tok) }
	}
	return connect(ctx, resp.ServerURL, resp.ParticipantToken, newConfig(opts), onToken)
}

func newConfig(opts []Option) *config {
	cfg := &config{}
	for _, o := range opts {
		o(cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	return cfg
}

func connect(ctx context.Context, url, token string, cfg *config, onToken func(string)) (*Room, error) {
	if strings.TrimSpace(url) == "" || strings.TrimSpace(token) == "" {
		return nil, ErrInvalidCredentials
	}
	c, err := ffi.Default()
	if err != nil {
		return nil, err
	}
	req := &pb.FfiRequest{Message: &pb.FfiRequest_Connect{Connect: &pb.ConnectRequest{
		Url:     proto.String(url),
		Token:   proto.String(token),
		Options: cfg.roomOptions(),
	}}}
	call, err := c.Start(req, func(ev *pb.FfiEvent) { abandonConnect(c, ev) })
	if err != nil {
		return nil, fmt.Errorf("livekit: connect to %s: %w", url, err)
	}
	ev, err := call.Wait(ctx)
	if err != nil {
		return nil, fmt.Errorf("livekit: connect to %s: %w", url, err)
	}
	cb := ev.GetConnect()
	if msg := cb.GetError(); msg != "" || cb.GetResult() == nil {
		if msg == "" {
			msg = "no result"
		}
		// The server quotes the rejected token in full; errors end up in logs.
		msg = strings.ReplaceAll(msg, token, tokensource.Redact(token))
		return nil, &ConnectError{URL: url, Message: msg}
	}
	res := cb.GetResult()
	r := &room{
		c:       c,
		log:     cfg.logger,
		url:     url,
		handle:  c.Own(res.GetRoom().GetHandle().GetId(), "room"),
		events:  queue.New[Event](),
		onToken: onToken,
		name:    res.GetRoom().GetInfo().GetName(),
		sid:     res.GetRoom().GetInfo().GetSid(),
		token:   token,
		state:   StateConnected,
		remotes: map[string]*remote{},
		done:    make(chan struct{}),
	}
	r.metadata = res.GetRoom().GetInfo().GetMetadata()
	r.local = participantFrom(res.GetLocalParticipant().GetInfo())
	r.localHandle = c.Own(res.GetLocalParticipant().GetHandle().GetId(), "local participant")
	for _, pt := range res.GetParticipants() {
		p := participantFrom(pt.GetParticipant().GetInfo())
		r.remotes[p.Identity] = &remote{p: p, handle: c.Own(pt.GetParticipant().GetHandle().GetId(), "participant")}
		for _, pub := range pt.GetPublications() {
			// Tracks are not wrapped yet: give their publications back at once.
			c.DropHandle(pub.GetHandle().GetId())
		}
	}

	handler := cfg.handler
	go r.events.Drain(nil, func(e Event) {
		if handler != nil {
			handler(e)
		}
	})
	r.sub, err = c.SubscribeRoom(r.handle.ID(), r.onEvent)
	if err == nil {
		// The library holds the room's events until this request, and gives up on the room
		// (with a panic event) if it does not come within 15 s.
		_, err = c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_ReadyForRoomEvent{
			ReadyForRoomEvent: &pb.ReadyForRoomEventRequest{RoomHandle: proto.Uint64(r.handle.ID())}}})
	}
	if err != nil {
		r.close(ctx)
		return nil, fmt.Errorf("livekit: connect to %s: %w", url, err)
	}
	w := &Room{room: r}
	w.cleanup = runtime.AddCleanup(w, leakedRoom, r)
	return w, nil
}

// abandonConnect cleans up after a connect whose caller gave up before it finished: the
// library connected a room nobody will use, so let it go properly.
func abandonConnect(c *ffi.Client, ev *pb.FfiEvent) {
	res := ev.GetConnect().GetResult()
	if res != nil {
		h := res.GetRoom().GetHandle().GetId()
		c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_ReadyForRoomEvent{ReadyForRoomEvent: &pb.ReadyForRoomEventRequest{RoomHandle: proto.Uint64(h)}}})
		ctx, cancel := context.WithTimeout(context.Background(), disconnectTimeout)
		c.Do(ctx, &pb.FfiRequest{Message: &pb.FfiRequest_Disconnect{Disconnect: &pb.DisconnectRequest{RoomHandle: proto.Uint64(h)}}}, nil)
		cancel()
	}
	for _, id := range ffi.OwnedHandles(ev) {
		c.DropHandle(id)
	}
}

func leakedRoom(r *room) {
	r.log.Warn("livekit: Room was not closed; disconnecting it now", "room", r.name)
	// Cleanups share one goroutine: do the waiting elsewhere.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), disconnectTimeout)
		defer cancel()
		r.close(ctx)
	}()
}

// onEvent runs on the room's subscription goroutine: update state, then queue the user event.
func (r *room) onEvent(ev *pb.RoomEvent) {
	var out Event
	switch m := ev.Message.(type) {
	case *pb.RoomEvent_ParticipantConnected:
		info := m.ParticipantConnected.GetInfo()
		p := participantFrom(info.GetInfo())
		h := r.c.Own(info.GetHandle().GetId(), "participant")
		r.mu.Lock()
		if old := r.remotes[p.Identity]; old != nil {
			old.handle.Close()
		}
		r.remotes[p.Identity] = &remote{p: p, handle: h}
		r.mu.Unlock()
		out = ParticipantConnected{Participant: p.clone()}
	case *pb.RoomEvent_ParticipantDisconnected:
		id := m.ParticipantDisconnected.GetParticipantIdentity()
		r.mu.Lock()
		if old := r.remotes[id]; old != nil {
			old.handle.Close()
			delete(r.remotes, id)
		}
		r.mu.Unlock()
		out = ParticipantDisconnected{Identity: id, Reason: DisconnectReason(m.ParticipantDisconnected.GetDisconnectReason())}
	case *pb.RoomEvent_ConnectionStateChanged:
		s := ConnectionState(m.ConnectionStateChanged.GetState())
		r.mu.Lock()
		r.state = s
		r.mu.Unlock()
		out = ConnectionStateChanged{State: s}
	case *pb.RoomEvent_Reconnecting:
		out = Reconnecting{}
	case *pb.RoomEvent_Reconnected:
		out = Reconnected{}
	case *pb.RoomEvent_Disconnected:
		reason := DisconnectReason(m.Disconnected.GetReason())
		r.mu.Lock()
		r.state = StateDisconnected
		r.reason = reason
		r.mu.Unlock()
		r.markDone()
		out = Disconnected{Reason: reason}
	case *pb.RoomEvent_Eos:
		// The library's stream for this room ended: nothing more will come.
		r.mu.Lock()
		r.state = StateDisconnected
		r.mu.Unlock()
		r.markDone()
	case *pb.RoomEvent_DataPacketReceived:
		d := m.DataPacketReceived
		if u := d.GetUser(); u != nil {
			out = DataReceived{
				Data:     r.c.CopyBuffer(u.GetData()),
				Topic:    u.GetTopic(),
				From:     d.GetParticipantIdentity(),
				Reliable: d.GetKind() == pb.DataPacketKind_KIND_RELIABLE,
			}
		}
	case *pb.RoomEvent_RoomSidChanged:
		r.mu.Lock()
		r.sid = m.RoomSidChanged.GetSid()
		r.mu.Unlock()
		out = RoomSIDChanged{SID: m.RoomSidChanged.GetSid()}
	case *pb.RoomEvent_RoomMetadataChanged:
		r.mu.Lock()
		r.metadata = m.RoomMetadataChanged.GetMetadata()
		r.mu.Unlock()
		out = RoomMetadataChanged{Metadata: m.RoomMetadataChanged.GetMetadata()}
	case *pb.RoomEvent_ParticipantMetadataChanged:
		id, v := m.ParticipantMetadataChanged.GetParticipantIdentity(), m.ParticipantMetadataChanged.GetMetadata()
		r.updateParticipant(id, func(p *Participant) { p.Metadata = v })
		out = ParticipantMetadataChanged{Identity: id, Metadata: v}
	case *pb.RoomEvent_ParticipantNameChanged:
		id, v := m.ParticipantNameChanged.GetParticipantIdentity(), m.ParticipantNameChanged.GetName()
		r.updateParticipant(id, func(p *Participant) { p.Name = v })
		out = ParticipantNameChanged{Identity: id, Name: v}
	case *pb.RoomEvent_ParticipantAttributesChanged:
		a := m.ParticipantAttributesChanged
		changed := map[string]string{}
		for _, e := range a.GetChangedAttributes() {
			changed[e.GetKey()] = e.GetValue()
		}
		all := map[string]string{}
		for _, e := range a.GetAttributes() {
			all[e.GetKey()] = e.GetValue()
		}
		r.updateParticipant(a.GetParticipantIdentity(), func(p *Participant) { p.Attributes = all })
		out = ParticipantAttributesChanged{Identity: a.GetParticipantIdentity(), Changed: changed}
	case *pb.RoomEvent_TokenRefreshed:
		out = r.tokenRefreshed(m.TokenRefreshed.GetToken())
	default:
		// Kinds not wrapped yet (tracks, streams ...): return whatever they own.
		for _, id := range ffi.OwnedHandles(ev) {
			r.c.DropHandle(id)
		}
	}
	if out != nil {
		r.events.Push(out)
	}
}

func (r *room) tokenRefreshed(tok string) Event {
	ev := TokenRefreshed{Token: tok}
	if claims, err := tokensource.Parse(tok); err == nil {
		ev.Claims, ev.Identity, ev.ExpiresAt = claims, claims.Identity, claims.ExpiresAt
	} else {
		r.log.Warn("livekit: refreshed token does not decode", "err", err)
	}
	r.mu.Lock()
	r.token = tok
	onToken := r.onToken
	r.mu.Unlock()
	if onToken != nil {
		onToken(tok)
	}
	return ev
}

func (r *room) updateParticipant(identity string, fn func(*Participant)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if identity == r.local.Identity {
		fn(&r.local)
		return
	}
	if rp := r.remotes[identity]; rp != nil {
		fn(&rp.p)
	}
}

func (r *room) markDone() { r.doneOnce.Do(func() { close(r.done) }) }

// Name is the room's name.
func (r *Room) Name() string { r.mu.Lock(); defer r.mu.Unlock(); return r.name }

// SID is the room's server id ("" until the server has assigned it; see RoomSIDChanged).
func (r *Room) SID() string { r.mu.Lock(); defer r.mu.Unlock(); return r.sid }

// Metadata is the room's metadata.
func (r *Room) Metadata() string { r.mu.Lock(); defer r.mu.Unlock(); return r.metadata }

// ServerURL is the URL the room connected to.
func (r *Room) ServerURL() string { return r.url }

// Token is the newest access token: the one joined with, or the server's latest refresh.
func (r *Room) Token() string { r.mu.Lock(); defer r.mu.Unlock(); return r.token }

// ConnectionState is the current connection state.
func (r *Room) ConnectionState() ConnectionState { r.mu.Lock(); defer r.mu.Unlock(); return r.state }

// DisconnectReason says why the room disconnected (ReasonUnknown while connected).
func (r *Room) DisconnectReason() DisconnectReason {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reason
}

// LocalParticipant is this client's participant.
func (r *Room) LocalParticipant() Participant {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.local.clone()
}

// RemoteParticipants lists the other participants, sorted by identity.
func (r *Room) RemoteParticipants() []Participant {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Participant, 0, len(r.remotes))
	for _, rp := range r.remotes {
		out = append(out, rp.p.clone())
	}
	slices.SortFunc(out, func(a, b Participant) int { return strings.Compare(a.Identity, b.Identity) })
	return out
}

// RemoteParticipant returns the participant with this identity.
func (r *Room) RemoteParticipant(identity string) (Participant, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rp, ok := r.remotes[identity]
	if !ok {
		return Participant{}, false
	}
	return rp.p.clone(), true
}

// Done is closed once the room is disconnected, whoever caused it.
func (r *Room) Done() <-chan struct{} { return r.done }

// PublishData sends a data packet to the room (reliable unless WithLossy) and waits until the
// library has handed it to the transport.
func (r *Room) PublishData(ctx context.Context, data []byte, opts ...DataOption) error {
	var dc dataConfig
	for _, o := range opts {
		o(&dc)
	}
	r.mu.Lock()
	lp := r.localHandle
	r.mu.Unlock()
	if lp == nil || lp.Closed() {
		return ErrClosed
	}
	req := &pb.PublishDataRequest{
		LocalParticipantHandle: proto.Uint64(lp.ID()),
		DataLen:                proto.Uint64(uint64(len(data))),
		Reliable:               proto.Bool(!dc.lossy),
		DestinationIdentities:  dc.destinations,
	}
	if dc.topic != "" {
		req.Topic = proto.String(dc.topic)
	}
	var call *ffi.Call
	var err error
	// The library copies the payload during the request itself.
	ffi.Pin(data, func(addr uint64) {
		req.DataPtr = proto.Uint64(addr)
		call, err = r.c.Start(&pb.FfiRequest{Message: &pb.FfiRequest_PublishData{PublishData: req}}, nil)
	})
	if err != nil {
		return fmt.Errorf("livekit: publish data: %w", err)
	}
	ev, err := call.Wait(ctx)
	if err != nil {
		return fmt.Errorf("livekit: publish data: %w", err)
	}
	if msg := ev.GetPublishData().GetError(); msg != "" {
		return fmt.Errorf("livekit: publish data: %s", msg)
	}
	return nil
}

// Disconnect leaves the room and waits until the library has finished, then releases
// everything the room owns. It is idempotent: later calls return the first call's result.
// ctx bounds the wait; the room's resources are released even if ctx ends first.
func (r *Room) Disconnect(ctx context.Context) error {
	r.cleanup.Stop()
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
		_, err := r.c.Do(ctx, &pb.FfiRequest{Message: &pb.FfiRequest_Disconnect{Disconnect: &pb.DisconnectRequest{
			RoomHandle: proto.Uint64(r.handle.ID()),
			Reason:     pb.DisconnectReason_CLIENT_INITIATED.Enum(),
		}}}, nil)
		if err != nil && !errors.Is(err, ffi.ErrDisposed) {
			r.closeErr = fmt.Errorf("livekit: disconnect: %w", err)
		}
		// Events still queued (the library sends the room's last ones before completing the
		// disconnect) are delivered; later ones are dropped with their handles.
		if r.sub != nil {
			r.sub.Close()
		}
		r.mu.Lock()
		r.state = StateDisconnected
		if r.reason == ReasonUnknown {
			r.reason = ReasonClientInitiated
		}
		remotes := r.remotes
		r.remotes = map[string]*remote{}
		lp := r.localHandle
		r.mu.Unlock()
		for _, rp := range remotes {
			rp.handle.Close()
		}
		lp.Close()
		r.handle.Close()
		r.markDone()
		r.events.Close()
	})
	return r.closeErr
}
