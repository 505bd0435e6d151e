// Package examples holds the example programs; the tests build them and run them against a
// real livekit-server (inside the private network namespace: scripts/netns.sh).
package examples

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/devenv"
	"github.com/livekit-ffi-go/sdk/internal/testenv"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// rsEnv builds rpc and send-file and starts a server; it returns the binaries' directory and
// a function minting tokens for one room.
func rsEnv(t *testing.T) (string, func(identity string) []string) {
	t.Helper()
	if _, err := testenv.LoadLibrary(); err != nil {
		testenv.Server(t)
		t.Skip("native library not usable:", err)
	}
	dir := build(t, "rpc", "send-file")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := devenv.Start(ctx)
	if err != nil {
		testenv.Server(t)
		t.Skip("no livekit-server:", err)
	}
	t.Cleanup(func() { e.Close() })
	room := "examples-" + t.Name()
	return dir, func(identity string) []string {
		tok, err := e.Minter.Mint(tokensource.Options{RoomName: room, ParticipantIdentity: identity})
		if err != nil {
			t.Fatal(err)
		}
		return []string{"LIVEKIT_URL=" + e.Server.URL(), "LIVEKIT_TOKEN=" + tok}
	}
}

func TestRPCExample(t *testing.T) {
	dir, tok := rsEnv(t)
	if code := start(t, dir, "rpc", nil, "dance").wait(t, 10*time.Second); code != 2 {
		t.Fatalf("bad mode: exit %d", code)
	}
	server := start(t, dir, "rpc", tok("responder"), "serve")
	call := start(t, dir, "rpc", tok("caller"), "call", "--to", "responder", "--method", "reverse", "--payload", "héllo")
	if code := call.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("call: exit %d, stderr:\n%s\nserver:\n%s", code, call.stderr.String(), server.stderr.String())
	}
	if got := strings.TrimSpace(call.stdout.String()); got != "olléh" {
		t.Fatalf("reverse returned %q", got)
	}
	fail := start(t, dir, "rpc", tok("caller2"), "call", "--to", "responder", "--method", "fail", "--payload", "nope")
	if code := fail.wait(t, 60*time.Second); code != 1 || !strings.Contains(fail.stderr.String(), "error 1500: nope") {
		t.Fatalf("fail: exit %d, stderr:\n%s", code, fail.stderr.String())
	}
	server.cmd.Process.Signal(syscall.SIGINT)
	if code := server.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("serve after SIGINT: exit %d, stderr:\n%s", code, server.stderr.String())
	}
}

func TestSendFileExample(t *testing.T) {
	dir, tok := rsEnv(t)
	inbox := t.TempDir()
	src := filepath.Join(t.TempDir(), "payload.bin")
	data := make([]byte, 1<<20+3)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	recv := start(t, dir, "send-file", tok("bob"), "receive", "--dir", inbox, "--count", "1")
	send := start(t, dir, "send-file", tok("alice"), "send", "--to", "bob", src)
	if code := send.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("send: exit %d, stderr:\n%s", code, send.stderr.String())
	}
	if code := recv.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("receive: exit %d, stderr:\n%s", code, recv.stderr.String())
	}
	got, err := os.ReadFile(filepath.Join(inbox, "payload.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("received file: %v (%d bytes, want %d)", err, len(got), len(data))
	}
	if p := strings.TrimSpace(recv.stdout.String()); p != filepath.Join(inbox, "payload.bin") {
		t.Fatalf("receive printed %q", p)
	}
}
