// Command send-file sends a file to a participant over a LiveKit data stream, or receives
// files into a directory.
//
//	send-file send    --url ws://127.0.0.1:7880 --token $TOKEN --to bob report.pdf
//	send-file receive --url ws://127.0.0.1:7880 --token $TOKEN --dir ./inbox [--count 1]
//
// send waits for --to to join (up to --wait), sends the file on topic "files", waits for the
// receiver to confirm it (an RPC call back, up to --wait) and leaves.
// receive writes every file sent to it on that topic into --dir, under the sender's file
// name (its last path element only) and prints each path on stdout; it stops after --count
// files (0: until Ctrl-C). --url and --token default to $LIVEKIT_URL and $LIVEKIT_TOKEN.
// Exit codes: 0 done, 1 failure, 2 usage.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
)

// topic is the data stream topic files travel on; the receiver confirms each file by calling
// ackMethod on the sender with the stream's id.
const (
	topic     = "files"
	ackMethod = "send-file.received"
)

func main() { os.Exit(run(os.Args[1:])) }

const usage = "usage: send-file send --to IDENTITY FILE | send-file receive --dir DIR (send-file send -h)"

func run(args []string) int {
	if len(args) == 0 || (args[0] != "send" && args[0] != "receive") {
		fmt.Fprintln(os.Stderr, usage)
		return 2
	}
	mode := args[0]
	fs := flag.NewFlagSet("send-file "+mode, flag.ContinueOnError)
	url := fs.String("url", os.Getenv("LIVEKIT_URL"), "LiveKit server `URL` (default $LIVEKIT_URL)")
	token := fs.String("token", os.Getenv("LIVEKIT_TOKEN"), "participant `token` (default $LIVEKIT_TOKEN)")
	to := fs.String("to", "", "send: `identity` of the receiver (required)")
	wait := fs.Duration("wait", 30*time.Second, "send: how long to wait for --to to join")
	dir := fs.String("dir", "", "receive: `directory` to write files into (required)")
	count := fs.Int("count", 0, "receive: stop after this many files (0: until Ctrl-C)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	ok := *url != "" && *token != ""
	if mode == "send" {
		ok = ok && *to != "" && fs.NArg() == 1
	} else {
		ok = ok && *dir != "" && fs.NArg() == 0 && *count >= 0
	}
	if !ok {
		fmt.Fprintln(os.Stderr, usage)
		fs.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if mode == "send" {
		err = send(ctx, *url, *token, *to, fs.Arg(0), *wait)
	} else {
		err = receive(ctx, *url, *token, *dir, *count)
	}
	if err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "send-file:", err)
		return 1
	}
	return 0
}

func send(ctx context.Context, url, token, to, path string, wait time.Duration) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	room, err := livekit.Connect(ctx, url, token)
	if err != nil {
		return err
	}
	defer room.Close()
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
	// SendFile returns once the library has sent the file; leaving at once could still cut
	// the transfer short, so wait for the receiver to confirm it over RPC.
	acks := make(chan string, 1)
	err = room.LocalParticipant().RegisterRPCMethod(ackMethod, func(_ context.Context, inv livekit.RPCInvocation) (string, error) {
		select {
		case acks <- inv.Payload:
		default:
		}
		return "", nil
	})
	if err != nil {
		return err
	}
	info, err := room.LocalParticipant().SendFile(ctx, path, livekit.StreamBytesOptions{Topic: topic, Destinations: []string{to}})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "send-file: sent %s (%d bytes, %s) to %s as stream %s\n", info.Name, st.Size(), info.MimeType, to, info.ID)
	for {
		select {
		case id := <-acks:
			if id == info.ID {
				fmt.Fprintf(os.Stderr, "send-file: %s confirmed\n", to)
				return nil
			}
		case <-time.After(wait):
			return fmt.Errorf("%s did not confirm within %v", to, wait)
		case <-ctx.Done():
			return nil
		}
	}
}

func receive(ctx context.Context, url, token, dir string, count int) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	type result struct {
		path string
		err  error
	}
	results := make(chan result)
	// The handler may run before Connect has returned the room.
	var roomReady atomic.Pointer[livekit.Room]
	localParticipant := func() *livekit.LocalParticipant {
		if r := roomReady.Load(); r != nil {
			return r.LocalParticipant()
		}
		return nil
	}
	done := make(chan struct{})
	defer close(done)
	// Registered as a connect option: a sender may start the moment we join.
	handler := func(r *livekit.ByteStreamReader, from string) {
		// Never let the sender choose the directory: keep the last element of its name.
		name := filepath.Base(r.Info().Name)
		if name == "." || name == ".." || name == string(filepath.Separator) {
			name = r.Info().ID
		}
		p, err := r.WriteToFile(ctx, abs, name)
		if err == nil {
			fmt.Fprintf(os.Stderr, "send-file: received %s from %s\n", name, from)
			if lp := localParticipant(); lp != nil {
				if _, err := lp.PerformRPC(ctx, livekit.RPCParams{Destination: from, Method: ackMethod, Payload: r.Info().ID, ResponseTimeout: 5 * time.Second}); err != nil {
					fmt.Fprintf(os.Stderr, "send-file: could not confirm to %s: %v\n", from, err)
				}
			}
		}
		select {
		case results <- result{p, err}:
		case <-done:
		}
	}
	room, err := livekit.Connect(ctx, url, token, livekit.WithByteStreamHandler(topic, handler))
	if err != nil {
		return err
	}
	defer room.Close()
	roomReady.Store(room)
	fmt.Fprintf(os.Stderr, "send-file: receiving into %s as %s\n", abs, room.LocalParticipant().Identity())
	for n := 0; count == 0 || n < count; n++ {
		select {
		case res := <-results:
			if res.err != nil {
				return res.err
			}
			fmt.Println(res.path)
		case <-room.Done():
			return fmt.Errorf("disconnected: %v", room.DisconnectReason())
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}
