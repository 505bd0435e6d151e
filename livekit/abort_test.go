package livekit_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// Every request that takes an id or a name from the caller (track SIDs, identities, stream
// ids, topics, RPC method names, data-track names, key indexes) with an empty, an unknown and
// an oversized value, through the public API. Some malformed values make the library abort
// the process (an empty track SID did), so the cases run in a child process: the test binary
// again, with LKGO_PROBE_FROM naming the first case to run. The child reports each case as it
// starts and ends; when it dies, the parent records the case that killed it and starts a new
// child from the next one.

// huge is an oversized identifier: far past anything LiveKit carries in one packet.
var huge = strings.Repeat("x", 1<<20)

// probeFixture is what the cases work on: the prober's room and a peer in the same room, both
// end-to-end encrypted with a shared key (so that the E2EE requests reach the library).
type probeFixture struct {
	a, b *livekit.Room
}

func (f *probeFixture) lp() *livekit.LocalParticipant { return f.a.LocalParticipant() }

type probeCase struct {
	name string
	run  func(ctx context.Context, f *probeFixture) error
	want func(error) string // "" if err is what the case expects, else what is wrong
}

// wantInvalid expects a refusal before anything reaches the library.
func wantInvalid(err error) string {
	if errors.Is(err, livekit.ErrInvalidArgument) {
		return ""
	}
	return fmt.Sprintf("want ErrInvalidArgument, got %v", err)
}

var probeCases = []probeCase{
	// Track SIDs.
	{"UnpublishTrack/empty", func(ctx context.Context, f *probeFixture) error { return f.lp().UnpublishTrack(ctx, "") }, wantInvalid},
	{"UnpublishTrack/unknown", func(ctx context.Context, f *probeFixture) error { return f.lp().UnpublishTrack(ctx, "TR_unknown") }, wantInvalid},
	{"UnpublishTrack/malformed", func(ctx context.Context, f *probeFixture) error { return f.lp().UnpublishTrack(ctx, "not-a-sid") }, wantInvalid},
	{"UnpublishTrack/oversized", func(ctx context.Context, f *probeFixture) error { return f.lp().UnpublishTrack(ctx, "TR_"+huge) }, wantInvalid},
}

func TestBadIdentifiersDoNotAbortTheProcess(t *testing.T) {
	if from := os.Getenv("LKGO_PROBE_FROM"); from != "" {
		probeChild(t, from)
		return
	}
	needEnv(t)
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	results := map[int]string{} // case index -> "" (passed) or what went wrong
	for from := 0; from < len(probeCases); {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBadIdentifiersDoNotAbortTheProcess$", "-test.count=1")
		// No server in the child (TestMain starts none): it joins the parent's.
		cmd.Env = append(os.Environ(), "LKGO_PROBE_FROM="+strconv.Itoa(from), "LKGO_PROBE_URL="+env.Server.URL(),
			"LKGO_PROBE_KEY="+env.Server.APIKey, "LKGO_PROBE_SECRET="+env.Server.APISecret, "LKGO_PROBE_ROOM="+roomName(t),
			"LIVEKIT_SERVER_BIN=/nonexistent", "LIVEKIT_REQUIRE_SERVER=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, _ := cmd.Output()
		last := -1 // the last case the child started
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var i int
			line := sc.Text()
			if n, _ := fmt.Sscanf(line, "probe: start %d", &i); n == 1 {
				last = i
			} else if n, _ := fmt.Sscanf(line, "probe: done %d", &i); n == 1 {
				if parts := strings.SplitN(line, " ", 4); len(parts) == 4 {
					results[i] = parts[3]
				}
			}
		}
		if last < 0 {
			t.Fatalf("the child ran no case (exit %v):\n%s\n%.3000s", cmd.ProcessState, out, stderr.String())
		}
		if _, done := results[last]; !done {
			results[last] = fmt.Sprintf("the process died (%v):\n%.1500s", cmd.ProcessState, tail(stderr.String(), 1500))
		}
		from = last + 1
	}
	for i, c := range probeCases {
		res, ran := results[i]
		switch {
		case !ran:
			t.Errorf("%s: not run", c.name)
		case res != "ok":
			t.Errorf("%s: %s", c.name, res)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// probeChild joins the parent's server and runs the cases from index from on.
func probeChild(t *testing.T, from string) {
	start, err := strconv.Atoi(from)
	if err != nil {
		t.Fatal(err)
	}
	minter, err := tokensource.NewMinter(os.Getenv("LKGO_PROBE_KEY"), os.Getenv("LKGO_PROBE_SECRET"), os.Getenv("LKGO_PROBE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	room := os.Getenv("LKGO_PROBE_ROOM")
	join := func(identity string) *livekit.Room {
		tok, err := minter.Mint(tokensource.Options{RoomName: room, ParticipantIdentity: identity})
		if err != nil {
			t.Fatal(err)
		}
		r, err := livekit.Connect(ctxFor(t, 30*time.Second), os.Getenv("LKGO_PROBE_URL"), tok,
			livekit.WithEncryption(livekit.EncryptionOptions{SharedKey: []byte("probe-shared-key")}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	f := &probeFixture{b: join(fmt.Sprintf("peer-%d", start)), a: join(fmt.Sprintf("prober-%d", start))}
	deadline := time.Now().Add(15 * time.Second)
	for f.a.RemoteParticipant(fmt.Sprintf("peer-%d", start)) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the peer did not appear")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := start; i < len(probeCases); i++ {
		c := probeCases[i]
		fmt.Printf("probe: start %d\n", i)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := c.run(ctx, f)
		cancel()
		res := "ok"
		if why := c.want(err); why != "" {
			res = why
		}
		// One line per result: the parent reads it back.
		fmt.Printf("probe: done %d %s\n", i, strings.ReplaceAll(res, "\n", " "))
	}
}
