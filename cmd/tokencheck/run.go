package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/devenv"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// Exit codes.
const (
	exitOK        = 0 // everything asked for worked
	exitToken     = 1 // fetching or validating the token failed
	exitUsage     = 2 // bad command line
	exitJoin      = 3 // joining the room failed, or the server ended the session early
	exitNoRefresh = 4 // --expect-refresh and no refresh arrived
	exitMedia     = 5 // --media: a check or a threshold failed

	exitInterrupted = 130 // SIGINT (Ctrl-C): 128 + 2, as shells report it
	exitTerminated  = 143 // SIGTERM: 128 + 15
)

// disconnectTimeout bounds the clean disconnect at the end (also after Ctrl-C).
const disconnectTimeout = 5 * time.Second

// run is the whole program: it returns the exit code. ctx is cancelled on
// SIGINT/SIGTERM.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	start := time.Now()
	sec := &secrets{}
	tty := isTerminal(stderr)
	stdout = scrubWriter{w: stdout, s: sec}
	stderr = scrubWriter{w: stderr, s: sec}

	cfg, err := parseFlags(args, os.Getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "tokencheck: %v\nRun 'tokencheck -h' for usage.\n", err)
		return exitUsage
	}
	sec.add(cfg.apiSecret, "[api secret]")
	if !cfg.showToken {
		sec.add(cfg.token, tokensource.Redact(cfg.token))
		// Also any token-shaped text: a server quotes a rejected token as it saw it, not
		// always as it was given (the library trims it first).
		sec.maskTokens()
	}
	out := newPrinter(cfg.json, stdout, stderr, tty)

	var env *devenv.Env
	if cfg.source == srcDev {
		stop := out.progress(func() string { return "starting livekit-server..." })
		env, err = devenv.Start(ctx)
		stop()
		if err != nil && ctx.Err() != nil {
			// Cut short by a signal: not a server that failed to start.
			out.fail("dev", "interrupted while starting livekit-server")
			return exitInterrupted
		}
		if err != nil {
			out.fail("dev", err.Error())
			return exitToken
		}
		defer func() {
			if err := env.Close(); err != nil {
				out.info("dev: stopping the server: %v", err)
			}
		}()
		out.dev(devEvent{ServerURL: env.Server.URL(), Endpoint: env.EndpointURL, PID: env.Server.PID(), Log: env.Server.LogPath,
			ElapsedMS: time.Since(start).Milliseconds()})
		if cfg.req.RoomName == "" {
			cfg.req.RoomName = "tokencheck-" + strings.ToLower(rand.Text()[:8])
		}
		if cfg.req.ParticipantIdentity == "" {
			cfg.req.ParticipantIdentity = "tokencheck"
		}
	}

	src, peerSrc, where, err := newSource(cfg, env)
	if err != nil {
		out.fail("fetch", err.Error())
		return exitToken
	}
	fetchCtx, cancel := context.WithTimeout(ctx, cfg.timeout)
	stop := out.progress(func() string { return "fetching token from " + where + "..." })
	fetchStart := time.Now()
	resp, err := src.Fetch(fetchCtx)
	fetched := time.Now()
	stop()
	cancel()
	if err != nil {
		out.fail("fetch", err.Error())
		return exitToken
	}
	if !cfg.showToken {
		sec.add(resp.ParticipantToken, tokensource.Redact(resp.ParticipantToken))
	}

	tev := inspect(resp, time.Now(), cfg.leeway)
	tev.Source, tev.From = string(cfg.source), where
	if cfg.showToken {
		tev.Token = resp.ParticipantToken
	} else {
		tev.TokenRedacted = tokensource.Redact(resp.ParticipantToken)
	}
	out.token(tev)
	if !tev.Valid {
		return exitToken
	}
	if !cfg.join {
		return exitOK
	}
	if cfg.media.on {
		p := &probe{cfg: cfg, out: out, sec: sec, start: start, peerSrc: peerSrc, where: where}
		p.steps.TokenFetchMS = ms(fetched.Sub(fetchStart))
		return p.run(ctx, resp)
	}
	return join(ctx, cfg, resp, out, sec, start)
}

// newSource builds the Fixed source cfg asks for and a short description of
// it for messages (no secrets in it). peer is the configurable source under
// it, for --media to fetch the second participant's token (nil for a literal
// token).
func newSource(cfg *config, env *devenv.Env) (src tokensource.Fixed, peer tokensource.Configurable, where string, err error) {
	if cfg.source == srcLiteral {
		return tokensource.Literal(tokensource.Response{ServerURL: cfg.url, ParticipantToken: cfg.token}), nil, "command line", nil
	}
	c, where, err := configurable(cfg, env)
	if err != nil {
		return nil, nil, "", err
	}
	return tokensource.Bind(c, cfg.req), c, where, nil
}

func configurable(cfg *config, env *devenv.Env) (tokensource.Configurable, string, error) {
	switch cfg.source {
	case srcMinter:
		m, err := tokensource.NewMinter(cfg.apiKey, cfg.apiSecret, cfg.url)
		if err != nil {
			return nil, "", err
		}
		return m, "API key " + cfg.apiKey, nil
	case srcEndpoint, srcDev:
		u := cfg.endpoint
		if cfg.source == srcDev {
			u = env.EndpointURL
		}
		e, err := tokensource.NewEndpoint(u, endpointOptions(cfg)...)
		if err != nil {
			return nil, "", err
		}
		return e, tokensource.RedactURL(u), nil
	case srcSandbox:
		opts := endpointOptions(cfg)
		if cfg.sandboxBase != "" {
			opts = append(opts, tokensource.WithBaseURL(cfg.sandboxBase))
		}
		e, err := tokensource.NewDevServer(cfg.sandboxID, opts...)
		if err != nil {
			return nil, "", err
		}
		return e, tokensource.RedactURL(e.URL()), nil
	}
	return nil, "", fmt.Errorf("unknown source %q", cfg.source)
}

func endpointOptions(cfg *config) []tokensource.EndpointOption {
	// The whole fetch is bounded by --timeout through the context.
	opts := []tokensource.EndpointOption{tokensource.WithTimeout(0)}
	if cfg.method != "" {
		opts = append(opts, tokensource.WithMethod(cfg.method))
	}
	for _, h := range cfg.headers {
		opts = append(opts, tokensource.WithHeader(h.name, h.value))
	}
	return opts
}

// inspect decodes the token (without verifying it) into a token event and
// checks its time window.
func inspect(resp tokensource.Response, now time.Time, leeway time.Duration) tokenEvent {
	ev := tokenEvent{ServerURL: resp.ServerURL, Room: resp.RoomName, Name: resp.ParticipantName}
	c, err := tokensource.Parse(resp.ParticipantToken)
	if err != nil {
		ev.Error = err.Error()
		return ev
	}
	ev.Identity = c.Identity
	if c.Name != "" {
		ev.Name = c.Name
	}
	ev.Metadata = c.Metadata
	ev.Attributes = c.Attributes
	ev.Issuer = c.Issuer
	if c.Video != nil {
		if c.Video.Room != "" {
			ev.Room = c.Video.Room
		}
		ev.Grants = grants(c.Video)
	}
	if c.RoomConfig != nil {
		for _, a := range c.RoomConfig.Agents {
			ev.Agents = append(ev.Agents, a.AgentName)
		}
	}
	ev.IssuedAt, ev.NotBefore, ev.ExpiresAt = timePtr(c.IssuedAt), timePtr(c.NotBefore), timePtr(c.ExpiresAt)
	if err := c.Valid(now, leeway); err != nil {
		ev.Error = err.Error()
		return ev
	}
	ev.Valid = true
	return ev
}

// grants lists the permissions a video grant gives, with the server's
// defaults for unset fields (publish, subscribe and data default to true).
func grants(g *tokensource.VideoGrant) []string {
	var out []string
	add := func(name string, on bool) {
		if on {
			out = append(out, name)
		}
	}
	orDefault := func(b *bool, def bool) bool {
		if b == nil {
			return def
		}
		return *b
	}
	add("roomJoin", g.RoomJoin)
	add("roomAdmin", g.RoomAdmin)
	add("roomCreate", g.RoomCreate)
	add("roomList", g.RoomList)
	add("roomRecord", g.RoomRecord)
	add("canPublish", orDefault(g.CanPublish, true))
	add("canSubscribe", orDefault(g.CanSubscribe, true))
	add("canPublishData", orDefault(g.CanPublishData, true))
	add("canUpdateOwnMetadata", orDefault(g.CanUpdateOwnMetadata, false))
	add("hidden", g.Hidden)
	add("agent", g.Agent)
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// join connects with exactly the token that was inspected, then watches the
// room as cfg asks and disconnects cleanly.
func join(ctx context.Context, cfg *config, resp tokensource.Response, out *printer, sec *secrets, start time.Time) int {
	// The native library logs through slog.Default; route it through the
	// scrubbing stderr, warnings and up.
	slog.SetDefault(slog.New(slog.NewTextHandler(out.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))

	connectCtx, cancel := context.WithTimeout(ctx, cfg.timeout)
	stop := out.progress(func() string { return "joining " + resp.ServerURL + "..." })
	// Without an event handler the room keeps its events for room.Events, in order.
	room, err := livekit.Connect(connectCtx, resp.ServerURL, resp.ParticipantToken,
		livekit.WithAutoSubscribe(false)) // tokencheck needs no media
	stop()
	cancel()
	if err != nil {
		out.fail("join", err.Error())
		return exitJoin
	}
	defer room.Close()

	local := room.LocalParticipant()
	var others []string
	for _, p := range room.RemoteParticipants() {
		others = append(others, p.Identity())
	}
	out.connected(connectedEvent{Room: room.Name(), SID: room.SID(), Identity: local.Identity(),
		Participants: others, ElapsedMS: time.Since(start).Milliseconds()})

	w := &watcher{cfg: cfg, out: out, sec: sec, start: start, sid: room.SID()}
	// How long to stay: --watch; or, for --expect-refresh alone, until the
	// first refresh (at most --timeout); or not at all for a bare --join.
	stay := cfg.watch
	untilRefresh := false
	if stay == 0 && cfg.expectRefresh {
		stay, untilRefresh = cfg.timeout, true
	}
	deadline := time.Now().Add(stay)
	var serverEnded bool
	if stay > 0 {
		watchCtx, cancelWatch := context.WithTimeout(ctx, stay)
		stop := out.progress(func() string {
			left := time.Until(deadline).Round(time.Second)
			return fmt.Sprintf("joined; watching for token refreshes (%d so far), %s left, Ctrl-C to stop", w.refreshes.Load(), left)
		})
		for ev := range room.Events(watchCtx) {
			w.handle(ev)
			if _, ok := ev.(livekit.Disconnected); ok {
				serverEnded = true
			}
			if untilRefresh && w.refreshes.Load() > 0 {
				break
			}
		}
		cancelWatch()
		stop()
		if ctx.Err() != nil {
			out.info("interrupted; disconnecting")
		}
	}

	if !serverEnded {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), disconnectTimeout)
		if err := room.Disconnect(dctx); err != nil {
			out.info("disconnect: %v", err)
		}
		cancel()
		// Print what is left, in order, up to the room's last event.
		rest, cancelRest := context.WithTimeout(context.WithoutCancel(ctx), disconnectTimeout)
		for ev := range room.Events(rest) {
			w.handle(ev)
		}
		cancelRest()
	}
	reason := w.reason
	if reason == "" {
		reason = "client_initiated"
		if serverEnded {
			reason = "unknown"
		}
	}
	out.disconnected(reason)

	switch {
	case serverEnded:
		out.fail("watch", "the room was disconnected before the watch ended ("+reason+")")
		return exitJoin
	case cfg.expectRefresh && w.refreshes.Load() == 0:
		out.fail("watch", fmt.Sprintf("no token refresh arrived within %s of joining", fmtDur(stay)))
		return exitNoRefresh
	}
	return exitOK
}

// watcher reports room events.
type watcher struct {
	cfg       *config
	out       *printer
	sec       *secrets
	start     time.Time
	refreshes atomic.Int64 // also read by the progress spinner's goroutine
	sid       string       // the room SID last reported
	reason    string       // from the Disconnected event
}

func (w *watcher) handle(ev livekit.Event) {
	switch ev := ev.(type) {
	case livekit.TokenRefreshed:
		re := refreshedEvent{Identity: ev.Identity, ExpiresAt: timePtr(ev.ExpiresAt), ElapsedMS: time.Since(w.start).Milliseconds()}
		if w.cfg.showToken {
			re.Token = ev.Token
		} else {
			w.sec.add(ev.Token, tokensource.Redact(ev.Token))
			re.TokenRedacted = tokensource.Redact(ev.Token)
		}
		w.out.refreshed(re)
		w.refreshes.Add(1)
	case livekit.Disconnected:
		w.reason = ev.Reason.String()
	case livekit.ParticipantConnected:
		w.out.room(roomEvent{Event: "participant_connected", Identity: ev.Info.Identity})
	case livekit.ParticipantDisconnected:
		w.out.room(roomEvent{Event: "participant_disconnected", Identity: ev.Identity, Reason: ev.Reason.String()})
	case livekit.Reconnecting:
		w.out.room(roomEvent{Event: "reconnecting"})
	case livekit.Reconnected:
		w.out.room(roomEvent{Event: "reconnected"})
	case livekit.RoomSIDChanged:
		if ev.SID != w.sid {
			w.sid = ev.SID
			w.out.room(roomEvent{Event: "room_sid", SID: ev.SID})
		}
	}
}
