// Command rpc answers or makes LiveKit remote procedure calls.
//
//	rpc serve --url ws://127.0.0.1:7880 --token $TOKEN
//	rpc call  --url ws://127.0.0.1:7880 --token $TOKEN --to responder --method reverse --payload hello
//
// serve registers three methods until Ctrl-C: "echo" (returns the payload), "reverse"
// (returns it reversed) and "fail" (fails with application error code 1500 and the payload
// as message). call waits for the participant --to to join (up to --wait), calls --method
// and prints the response on stdout; an RPC error is printed on stderr with its code.
// --url and --token default to $LIVEKIT_URL and $LIVEKIT_TOKEN. Exit codes: 0 done,
// 1 failure (an RPC error included), 2 usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
)

func main() { os.Exit(run(os.Args[1:])) }

const usage = "usage: rpc serve|call [flags] (rpc serve -h, rpc call -h)"

func run(args []string) int {
	if len(args) == 0 || (args[0] != "serve" && args[0] != "call") {
		fmt.Fprintln(os.Stderr, usage)
		return 2
	}
	mode := args[0]
	fs := flag.NewFlagSet("rpc "+mode, flag.ContinueOnError)
	url := fs.String("url", os.Getenv("LIVEKIT_URL"), "LiveKit server `URL` (default $LIVEKIT_URL)")
	token := fs.String("token", os.Getenv("LIVEKIT_TOKEN"), "participant `token` (default $LIVEKIT_TOKEN)")
	var to, method, payload *string
	var timeout, wait *time.Duration
	if mode == "call" {
		to = fs.String("to", "", "`identity` of the participant to call (required)")
		method = fs.String("method", "echo", "`method` to call")
		payload = fs.String("payload", "", "request `payload`")
		timeout = fs.Duration("timeout", 10*time.Second, "response timeout")
		wait = fs.Duration("wait", 30*time.Second, "how long to wait for --to to join")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *url == "" || *token == "" || fs.NArg() > 0 || (mode == "call" && *to == "") {
		fmt.Fprintln(os.Stderr, "rpc: --url and --token are required (or $LIVEKIT_URL, $LIVEKIT_TOKEN); call needs --to")
		fs.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	room, err := livekit.Connect(ctx, *url, *token)
	if err != nil {
		if ctx.Err() != nil {
			return 0
		}
		fmt.Fprintln(os.Stderr, "rpc:", err)
		return 1
	}
	defer room.Close()
	if mode == "serve" {
		err = serve(ctx, room)
	} else {
		err = call(ctx, room, *to, *method, *payload, *timeout, *wait)
	}
	if err != nil && ctx.Err() == nil {
		var re *livekit.RPCError
		if errors.As(err, &re) {
			fmt.Fprintf(os.Stderr, "rpc: error %d: %s\n", re.Code, re.Message)
		} else {
			fmt.Fprintln(os.Stderr, "rpc:", err)
		}
		return 1
	}
	return 0
}

func serve(ctx context.Context, room *livekit.Room) error {
	lp := room.LocalParticipant()
	methods := map[string]livekit.RPCHandler{
		"echo": func(_ context.Context, inv livekit.RPCInvocation) (string, error) { return inv.Payload, nil },
		"reverse": func(_ context.Context, inv livekit.RPCInvocation) (string, error) {
			r := []rune(inv.Payload)
			slices.Reverse(r)
			return string(r), nil
		},
		"fail": func(_ context.Context, inv livekit.RPCInvocation) (string, error) { return "", errors.New(inv.Payload) },
	}
	for name, h := range methods {
		logged := func(ctx context.Context, inv livekit.RPCInvocation) (string, error) {
			fmt.Fprintf(os.Stderr, "rpc: %s called %s (%d bytes)\n", inv.CallerIdentity, inv.Method, len(inv.Payload))
			return h(ctx, inv)
		}
		if err := lp.RegisterRPCMethod(name, logged); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "rpc: serving echo, reverse and fail as %s\n", lp.Identity())
	select {
	case <-ctx.Done():
	case <-room.Done():
		return fmt.Errorf("disconnected: %v", room.DisconnectReason())
	}
	return nil
}

func call(ctx context.Context, room *livekit.Room, to, method, payload string, timeout, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	// Wait until the receiver's connection is up (active), not just announced: what is sent
	// to a participant still connecting can be lost.
	for p := room.RemoteParticipant(to); p == nil || p.Info().State != livekit.ParticipantStateActive; p = room.RemoteParticipant(to) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not join within %v", to, wait)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(50 * time.Millisecond):
		}
	}
	retryUntil := time.Now().Add(3 * time.Second)
	for {
		resp, err := room.LocalParticipant().PerformRPC(ctx, livekit.RPCParams{Destination: to, Method: method, Payload: payload, ResponseTimeout: timeout})
		var re *livekit.RPCError
		if errors.As(err, &re) && re.Code == livekit.RPCUnsupportedMethod && time.Now().Before(retryUntil) {
			// The responder joined but may not have registered its methods yet.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		if err != nil {
			return err
		}
		fmt.Println(resp)
		return nil
	}
}
