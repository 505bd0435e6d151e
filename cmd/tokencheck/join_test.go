package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"github.com/livekit-ffi-go/sdk/internal/testenv"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/testnet"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// These tests join real rooms: they need the native library and, for --dev,
// the livekit-server binary. Without them they skip, unless
// LIVEKIT_REQUIRE_SERVER=1 or LIVEKIT_REQUIRE_LIB=1 (scripts/test.sh sets
// both), where that is a failure. Run them inside a private network namespace
// (scripts/netns.sh): WebRTC gathers candidates on every interface it finds.

// requireLib and requireDev are the project's one gate (internal/testenv).
func requireLib(t *testing.T) { t.Helper(); testenv.Library(t) }

func requireDev(t *testing.T) { t.Helper(); testenv.Server(t) }

// jwtLike matches anything shaped like a whole JWT.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)

func (r result) wantNoJWT(t *testing.T) {
	t.Helper()
	if m := jwtLike.FindString(r.stdout + r.stderr); m != "" {
		t.Errorf("a full token was printed: %s", tokensource.Redact(m))
	}
}

// order returns the event names in order.
func (r result) order() []string {
	var names []string
	for _, ev := range r.events {
		names = append(names, ev["event"].(string))
	}
	return names
}

func TestDevJoinWatchExpectRefresh(t *testing.T) {
	requireDev(t)
	r := runTC(t, nil, "--dev", "--join", "--watch", "5s", "--expect-refresh", "--json")
	r.wantCode(t, exitOK)
	r.wantNoJWT(t)

	dev := r.one(t, "dev")
	tok := r.one(t, "token")
	if tok["valid"] != true {
		t.Errorf("token valid = %v", tok["valid"])
	}
	wantField(t, tok, "source", "dev")
	wantField(t, tok, "identity", "tokencheck")
	wantField(t, tok, "server_url", dev["server_url"].(string))
	// Every documented key is present, even when empty (no --name here).
	for _, k := range []string{"name", "issued_at", "not_before", "expires_at"} {
		if _, ok := tok[k]; !ok {
			t.Errorf("token event has no %q key: %v", k, tok)
		}
	}
	room, _ := tok["room"].(string)
	if !strings.HasPrefix(room, "tokencheck-") {
		t.Errorf("room = %q, want a tokencheck-<random> default", room)
	}

	conn := r.one(t, "connected")
	wantField(t, conn, "room", room)
	wantField(t, conn, "identity", "tokencheck")
	if ps, ok := conn["participants"].([]any); !ok || len(ps) != 0 {
		t.Errorf("participants = %v, want an empty list", conn["participants"])
	}

	refreshes := r.named("token_refreshed")
	if len(refreshes) == 0 {
		t.Fatalf("no token_refreshed event")
	}
	for _, ev := range refreshes {
		wantField(t, ev, "identity", "tokencheck")
		s, _ := ev["expires_at"].(string)
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			t.Errorf("token_refreshed expires_at = %q: %v", s, err)
		}
	}
	wantField(t, r.one(t, "disconnected"), "reason", "client_initiated")
	if len(r.named("error")) != 0 {
		t.Errorf("error events in a successful run")
	}

	// dev, token, connected, (refreshes and room events), disconnected.
	names := r.order()
	if names[0] != "dev" || names[1] != "token" || names[2] != "connected" || names[len(names)-1] != "disconnected" {
		t.Errorf("event order %v", names)
	}
}

// Human mode with --expect-refresh alone: it stops at the first refresh.
func TestDevHumanUntilFirstRefresh(t *testing.T) {
	requireDev(t)
	r := runTC(t, nil, "--dev", "--expect-refresh", "--room", "human-room", "--identity", "human")
	r.wantCode(t, exitOK)
	r.wantNoJWT(t)
	for _, want := range []string{"dev: livekit-server running at ws://", "dev: token endpoint at http://"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	for _, want := range []string{"identity    human", "room        human-room", "expires     in ", `connected to room "human-room"`, `token refreshed by the server for "human"`, "disconnected (client_initiated)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if n := strings.Count(r.stdout, "token refreshed"); n != 1 {
		t.Errorf("%d refreshes reported, want exactly the first one", n)
	}
}

// Ctrl-C while watching: a clean disconnect, and exit 130 although the
// refresh that --expect-refresh asks for had arrived: the run was
// interrupted.
func TestDevInterruptWhileWatching(t *testing.T) {
	requireDev(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--dev", "--watch", "10m", "--expect-refresh", "--json")
	cmd.Env = baseEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	sc := bufio.NewScanner(pipe)
	signalled := false
	for sc.Scan() {
		line := sc.Text()
		stdout.WriteString(line + "\n")
		if ev := parseEvent(t, line); ev["event"] == "token_refreshed" && !signalled {
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			signalled = true
		}
	}
	err = cmd.Wait()
	r := result{stdout: stdout.String(), stderr: stderr.String(), events: parseEvents(t, stdout.String())}
	t.Logf("stdout:\n%sstderr:\n%s", r.stdout, r.stderr)
	if !signalled {
		t.Fatalf("no token_refreshed event before exit (err %v)", err)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	r.wantCode(t, exitInterrupted)
	r.one(t, "connected")
	wantField(t, r.one(t, "disconnected"), "reason", "client_initiated")
	r.wantNoJWT(t)
}

// A server that is not there: exit 3 with a join error, the token never
// echoed. Only the native library is needed (the port is closed).
func TestJoinFailure(t *testing.T) {
	requireLib(t)
	tok, err := newMinter(t).Mint(tokensource.Options{RoomName: "r", ParticipantIdentity: "j"})
	if err != nil {
		t.Fatal(err)
	}
	r := runTC(t, nil, "--token", tok, "--url", "ws://"+testnet.ClosedPort(t), "--join", "--timeout", "20s", "--json")
	r.wantCode(t, exitJoin)
	r.wantAbsent(t, "the token", tok)
	r.wantNoJWT(t)
	r.one(t, "token")
	wantField(t, r.one(t, "error"), "stage", "join")
	if len(r.named("connected")) != 0 {
		t.Errorf("connected event although the join failed")
	}
}
