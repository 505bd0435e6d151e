package livekit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	pb "github.com/livekit-ffi-go/sdk/proto"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// maxErrorMessage bounds how much of the library's message a ConnectError repeats (the
// library quotes the whole URL, however long).
const maxErrorMessage = 1024

// Connect joins the room that token grants, on the server at url. Surrounding white space is
// trimmed from both (the library trims the token itself). ctx bounds the whole connect; a
// connect that completes after ctx ended is disconnected and released in the background.
func Connect(ctx context.Context, url, token string, opts ...ConnectOption) (*Room, error) {
	return connect(ctx, url, token, newConfig(opts), nil)
}

// ConnectWith fetches credentials from src and joins. To join with request options (room name,
// identity ...) through a configurable source, pass tokensource.Bind(src, options).
//
// If src implements tokensource.TokenUpdater (Bind over a tokensource.Cache does), every token
// the server refreshes during the session is handed to it, so a later connect through the same
// source starts from the newest token.
func ConnectWith(ctx context.Context, src tokensource.Fixed, opts ...ConnectOption) (*Room, error) {
	if ctx == nil {
		return nil, invalid("connect", "nil context")
	}
	if src == nil {
		return nil, invalid("connect", "nil token source")
	}
	cfg := newConfig(opts)
	resp, err := src.Fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("livekit: fetch token: %w", err)
	}
	var onToken func(string)
	if u, ok := src.(tokensource.TokenUpdater); ok {
		onToken = func(tok string) { u.UpdateToken(tok) }
	}
	room, err := connect(ctx, resp.ServerURL, resp.ParticipantToken, cfg, onToken)
	var cerr *ConnectError
	inv, canInvalidate := src.(tokensource.TokenInvalidator)
	if err == nil || !cfg.authRetry || !canInvalidate || !errors.As(err, &cerr) || !cerr.Unauthorized() {
		return room, err
	}
	// The server refused the token (a cached one revoked, or signed with a rotated key):
	// drop it and try once more with a fresh one.
	cfg.logger.Info("livekit: the server refused the token; fetching a fresh one", "url", quote(resp.ServerURL))
	inv.InvalidateToken()
	resp, ferr := src.Fetch(ctx)
	if ferr != nil {
		return nil, fmt.Errorf("livekit: fetch a fresh token after %w: %w", err, ferr)
	}
	return connect(ctx, resp.ServerURL, resp.ParticipantToken, cfg, onToken)
}

func connect(ctx context.Context, url, token string, cfg *config, onToken func(string)) (*Room, error) {
	if ctx == nil {
		return nil, invalid("connect", "nil context")
	}
	url, token = strings.TrimSpace(url), strings.TrimSpace(token)
	if url == "" || token == "" {
		return nil, ErrInvalidCredentials
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("livekit: connect to %s: %w", quote(url), err)
	}
	c, err := engine.Default()
	if err != nil {
		return nil, err
	}
	call, err := c.Start(&pb.ConnectRequest{
		Url:     proto.String(url),
		Token:   proto.String(token),
		Options: cfg.roomOptions(),
	}, engine.CallOptions{Late: func(ev *pb.FfiEvent) { abandonConnect(c, ev) }})
	if err != nil {
		return nil, fmt.Errorf("livekit: connect to %s: %w", quote(url), err)
	}
	ev, err := call.Wait(ctx)
	if err != nil {
		return nil, fmt.Errorf("livekit: connect to %s: %w", quote(url), err)
	}
	cb := ev.GetConnect()
	if msg := cb.GetError(); msg != "" || cb.GetResult() == nil {
		if msg == "" {
			msg = "no result"
		}
		// The server quotes the rejected token in full; errors end up in logs.
		msg = redactTokens(msg)
		if len(msg) > maxErrorMessage {
			msg = fmt.Sprintf("%s…(%d bytes)", msg[:maxErrorMessage], len(msg))
		}
		return nil, &ConnectError{URL: quote(url), Message: msg}
	}

	// From here the library waits for ReadyForRoomEvent and gives up on the room (with a
	// process-wide panic event) if it does not come within 15 s: whatever happens below, the
	// room is either handed to the caller or disconnected.
	handedOver := false
	defer func() {
		if !handedOver {
			go abandonConnect(c, ev)
		}
	}()
	r := newRoom(lib{c}, cfg, url, token, onToken)
	r.c = c
	r.init(cb.GetResult())
	r.local.streams.preset(cfg) // before any room event: streams can arrive at once
	r.sub, err = c.Subscribe(engine.RoomEvents, r.handle.ID(), r.onFfiEvent)
	if err == nil {
		// The library holds the room's events until this request.
		_, err = c.Request(&pb.ReadyForRoomEventRequest{RoomHandle: proto.Uint64(r.handle.ID())})
	}
	handedOver = true
	if err != nil {
		r.close(context.Background())
		return nil, fmt.Errorf("livekit: connect to %s: %w", quote(url), err)
	}
	if handler := cfg.handler; handler != nil {
		go r.events.Drain(nil, handler)
	}
	w := &Room{room: r}
	if _, file, line, ok := runtime.Caller(2); ok {
		r.createdAt = fmt.Sprintf("%s:%d", file, line)
	}
	w.cleanup = runtime.AddCleanup(w, leakedRoom, r)
	return w, nil
}

// abandonConnect cleans up after a connect whose caller is gone: the library connected a room
// nobody will use, so let it go properly.
func abandonConnect(c *engine.Client, ev *pb.FfiEvent) {
	if res := ev.GetConnect().GetResult(); res != nil {
		h := res.GetRoom().GetHandle().GetId()
		c.Request(&pb.ReadyForRoomEventRequest{RoomHandle: proto.Uint64(h)})
		ctx, cancel := context.WithTimeout(context.Background(), disconnectTimeout)
		c.Do(ctx, &pb.DisconnectRequest{RoomHandle: proto.Uint64(h)}, engine.CallOptions{})
		cancel()
	}
	for _, id := range engine.OwnedHandles(ev) {
		c.DropHandle(id)
	}
}
