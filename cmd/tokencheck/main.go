// Command tokencheck fetches a LiveKit access token from any token source,
// shows and validates its claims, and optionally joins the room through the
// native SDK (LiveKit's Rust FFI library) to watch the token refreshes the
// server pushes.
//
// Usage:
//
//	tokencheck --endpoint https://example.com/token --header 'Authorization: Bearer X' --room r --identity me
//	tokencheck --token eyJ... --url wss://my.livekit.cloud --join
//	tokencheck --sandbox-id my-sandbox-1a2b                        # or $LIVEKIT_SANDBOX_ID
//	tokencheck --api-key K --api-secret S --url ws://localhost:7880 --room r --attribute k=v
//	tokencheck --dev --join --watch 15s --expect-refresh           # local server, no account
//	tokencheck --dev --join --media --json                         # audio, video, data, RPC between two participants
//
// Exactly one source is used: --token/--url (literal), --endpoint (HTTP token
// endpoint, with repeatable --header and --method), --sandbox-id (LiveKit
// Cloud's development token server, --sandbox-base-url to override), the
// local minter (--api-key/--api-secret/--url, defaulting to $LIVEKIT_API_KEY,
// $LIVEKIT_API_SECRET, $LIVEKIT_URL) or --dev, which starts a local
// livekit-server and an in-process token endpoint. Environment defaults only
// complete a source; they never conflict with an explicit one.
//
// Request options (--room, --identity, --name, --metadata, repeatable
// --attribute k=v, --agent-name, --agent-metadata, --agent-deployment) go to
// configurable sources.
//
// --join connects with the fetched token; --watch D stays joined for D and
// reports each token refresh; --expect-refresh fails (exit 4) when none
// arrives. Ctrl-C (or SIGTERM) while watching disconnects cleanly, and the
// interrupted run exits 130 (143). --timeout bounds the fetch and the
// connect.
//
// --media (implies --join) joins a second participant, B, with a second
// token: a configurable source is asked for the identity + "-peer" (or
// --peer-identity) in the same room; with a literal --token, B's token is
// --peer-token. A publishes a microphone track of 1 kHz tone bursts (100 ms
// every 500 ms) and a 320x240, 30 fps camera track whose picture carries the
// frame counter as black and white blocks; B subscribes to both, detects the
// burst onsets and reads the counters back, so glass-to-glass latency is
// measured on one clock. Then A sends data packets that B echoes and calls an
// RPC method B registered. Each check is one "media_check" event (audio,
// video, data, rpc, steps), then "media_result". --media-duration D (5s),
// --media-audio-only, --media-video-only; thresholds --max-audio-latency,
// --max-video-latency, --min-fps.
//
// Output is a readable summary (with a progress spinner on stderr when it is
// a terminal), or with --json one JSON object per line on stdout, each with an
// "event" field: dev, token, connected, token_refreshed,
// participant_connected, participant_disconnected, reconnecting, reconnected,
// room_sid, disconnected, error; with --media also media_check and
// media_result (and a second token event with "role": "peer"). The token
// is printed only with --show-token; otherwise only its redacted form
// appears, in output and in errors alike.
//
// Exit codes: 0 ok; 1 fetching or validating the token failed; 2 usage
// error; 3 joining failed (or the server ended the session early); 4
// --expect-refresh and no refresh arrived; 5 a --media check or threshold
// failed (the error event names the check and why); 130 interrupted by SIGINT
// (Ctrl-C); 143 terminated by SIGTERM. An interrupted run exits 130 or 143
// whatever it was doing, as a shell reports a command killed by the signal.
//
// --join needs the native library (scripts/build-ffi.sh, or
// $LIVEKIT_LIB_PATH); --dev also needs livekit-server
// (scripts/install-livekit-server.sh, or $LIVEKIT_SERVER_BIN). `make demo`
// builds both and runs the --dev check inside a private network namespace.
package main

import (
	"context"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var got atomic.Value // the first signal, an os.Signal
	go func() {
		sig := <-sigs
		got.Store(sig)
		// Restore the default handling so that a second Ctrl-C ends a
		// stuck clean-up at once.
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		cancel()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	sig, _ := got.Load().(os.Signal)
	os.Exit(exitCode(code, sig))
}

// exitCode is the process exit code for a run that returned code: an
// interrupted run exits 128 plus the signal number, as shells report a
// command the signal killed, whatever the run was doing when it came (a
// watch that ended cleanly, a fetch or a server start cut short), so that
// scripts can tell "stopped" from "failed" and from "ok". A usage error
// (found before anything ran) keeps its code.
func exitCode(code int, sig os.Signal) int {
	if code == exitUsage {
		return code
	}
	switch sig {
	case os.Interrupt:
		return exitInterrupted
	case syscall.SIGTERM:
		return exitTerminated
	}
	return code
}
