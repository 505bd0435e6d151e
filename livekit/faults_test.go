package livekit_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/devenv"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// What the application is told when the server stalls (SIGSTOP), and what happens to reliable
// data published meanwhile. Measured against livekit-server v1.13.5 in the namespace:
//   - 5 s: nothing is noticed; every packet arrives after the stall.
//   - 16 s: Reconnecting at about +15 s, then Reconnected{Rebuilt: false} right after the
//     server comes back: the session resumed, nothing is lost.
//   - 32 s: Reconnecting at +15 s, the remote participant is dropped at about +20 s, then
//     Reconnected{Rebuilt: true}: a full reconnect. Packets handed over before the library
//     noticed the failure can be lost, and PublishData returned nil for them; Rebuilt is the
//     application's cue to resend.
// Under load a 16 s stall also lost the packets of the failure window (17 of 167) although the
// session resumed. The guarantee the tests hold the SDK to: reliable data is never lost without
// a reconnect (Reconnecting, then Reconnected) or a Disconnected telling the application, and
// data flows again after Reconnected.

type stallRun struct {
	sent, received    int
	lost              []int
	reconnectingA     bool
	reconnectedA      *livekit.Reconnected
	reconnectedB      *livekit.Reconnected
	droppedPeerDuring bool
}

func runStall(t *testing.T, stall time.Duration) stallRun {
	t.Helper()
	own, err := devenv.Start(ctxFor(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	name := roomName(t)
	mintOwn := func(id string) string {
		tok, err := own.Minter.Mint(tokensource.Options{RoomName: name, ParticipantIdentity: id})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	evA, evB := newEvents(), newEvents()
	b, err := livekit.Connect(ctxFor(t, 30*time.Second), own.Server.URL(), mintOwn("b"), livekit.WithEventHandler(evB.handle))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, err := livekit.Connect(ctxFor(t, 30*time.Second), own.Server.URL(), mintOwn("a"), livekit.WithEventHandler(evA.handle))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	waitFor(t, evB, 15*time.Second, func(e livekit.ParticipantConnected) bool { return e.Info.Identity == "a" })

	// A publishes a numbered reliable packet every 100 ms from 1 s before the stall until the
	// reconnect (if any) is over plus 2 s.
	var mu sync.Mutex
	sent := 0
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for seq := 0; ; seq++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			var p [4]byte
			binary.BigEndian.PutUint32(p[:], uint32(seq))
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			err := a.LocalParticipant().PublishData(ctx, p[:], livekit.DataOptions{Topic: "seq"})
			cancel()
			if err != nil {
				t.Logf("publish %d: %v", seq, err)
				continue
			}
			mu.Lock()
			sent = seq + 1
			mu.Unlock()
		}
	}()
	time.Sleep(time.Second)
	pid := own.Server.PID()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(stall)
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	var run stallRun
	if _, ok := findEvent[livekit.Reconnecting](evA); ok {
		run.reconnectingA = true
		ra := waitFor[livekit.Reconnected](t, evA, 30*time.Second, nil)
		rb := waitFor[livekit.Reconnected](t, evB, 30*time.Second, nil)
		run.reconnectedA, run.reconnectedB = &ra, &rb
		run.droppedPeerDuring = droppedBeforeReconnected(evB)
	}
	time.Sleep(2 * time.Second)
	close(stop)
	<-done
	// A marker after everything: once it arrives, everything before it that will arrive has.
	if err := a.LocalParticipant().PublishData(ctxFor(t, 10*time.Second), []byte("end"), livekit.DataOptions{Topic: "end"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evB, 20*time.Second, func(e livekit.DataReceived) bool { return e.Topic == "end" })
	got := map[int]bool{}
	for _, ev := range evB.snapshot() {
		if d, ok := ev.(livekit.DataReceived); ok && d.Topic == "seq" {
			got[int(binary.BigEndian.Uint32(d.Data))] = true
		}
	}
	mu.Lock()
	run.sent = sent
	mu.Unlock()
	run.received = len(got)
	for i := range run.sent {
		if !got[i] {
			run.lost = append(run.lost, i)
		}
	}
	t.Logf("stall %v: sent %d, received %d, lost %d; reconnecting=%v rebuilt(A)=%v", stall, run.sent, run.received, len(run.lost),
		run.reconnectingA, run.reconnectedA != nil && run.reconnectedA.Rebuilt)
	if len(run.lost) > 0 {
		t.Logf("A saw: %s", describeBrief(evA.snapshot()))
		t.Logf("B saw: %s", describeBrief(evB.snapshot()))
	}
	return run
}

// findEvent returns the first recorded event of type T.
func findEvent[T livekit.Event](e *events) (T, bool) {
	for _, ev := range e.snapshot() {
		if v, ok := ev.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// droppedBeforeReconnected reports whether e saw a participant leave before its first
// Reconnected: during its own reconnect. A peer whose own session was rebuilt leaves and joins
// again after that, which says nothing about this participant's session.
func droppedBeforeReconnected(e *events) bool {
	for _, ev := range e.snapshot() {
		switch ev.(type) {
		case livekit.Reconnected:
			return false
		case livekit.ParticipantDisconnected:
			return true
		}
	}
	return false
}

func TestServerStallShort(t *testing.T) {
	needEnv(t)
	run := runStall(t, 5*time.Second)
	if run.reconnectingA {
		t.Fatal("a 5 s stall caused a reconnect")
	}
	if len(run.lost) != 0 {
		t.Fatalf("packets lost without any event: %v", run.lost)
	}
}

func TestServerStallResumes(t *testing.T) {
	needEnv(t)
	run := runStall(t, 16*time.Second)
	if !run.reconnectingA || run.reconnectedA == nil {
		t.Fatal("a 16 s stall was not reported as Reconnecting/Reconnected")
	}
	// Even a resumed session can lose the reliable packets handed over between the failure
	// and its detection (seen under load: 17 of 167). That is the engine's; the application
	// was told by Reconnecting/Reconnected, and runStall has checked that data flows again.
	// B saw A dropped during its reconnect only if its session was rebuilt (under load the
	// 16 s stall can tip over into a rebuild; what matters is that it is reported).
	if run.droppedPeerDuring && !run.reconnectedB.Rebuilt {
		t.Fatal("B saw its peer dropped during the reconnect, yet its Reconnected said resumed")
	}
}

func TestServerStallLongRebuildsAndSaysSo(t *testing.T) {
	needEnv(t)
	if testing.Short() {
		t.Skip("a 32 s stall; -short skips it")
	}
	run := runStall(t, 32*time.Second)
	if run.reconnectedA == nil || run.reconnectedB == nil {
		t.Fatal("no Reconnected after a 32 s stall")
	}
	if !run.reconnectedA.Rebuilt || !run.reconnectedB.Rebuilt {
		t.Fatalf("a full reconnect (peer dropped: %v) not reported as rebuilt: A %+v B %+v", run.droppedPeerDuring, *run.reconnectedA, *run.reconnectedB)
	}
}

// A server killed and restarted on the same port has no session to resume: the library
// rebuilds it, and says so.
func TestServerRestartRebuilds(t *testing.T) {
	needEnv(t)
	own, err := devenv.Start(ctxFor(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	name := roomName(t)
	evA, evB := newEvents(), newEvents()
	join := func(id string, ev *events) *livekit.Room {
		tok, err := own.Minter.Mint(tokensource.Options{RoomName: name, ParticipantIdentity: id})
		if err != nil {
			t.Fatal(err)
		}
		r, err := livekit.Connect(ctxFor(t, 30*time.Second), own.Server.URL(), tok, livekit.WithEventHandler(ev.handle))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	join("b", evB)
	a := join("a", evA)
	waitFor(t, evB, 15*time.Second, func(e livekit.ParticipantConnected) bool { return e.Info.Identity == "a" })
	killed := time.Now()
	if err := own.Server.Restart(ctxFor(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	waitFor[livekit.Reconnecting](t, evA, 15*time.Second, nil)
	re := waitFor[livekit.Reconnected](t, evA, 45*time.Second, nil)
	t.Logf("Reconnected{Rebuilt: %v} %v after the restart began", re.Rebuilt, time.Since(killed).Round(100*time.Millisecond))
	if !re.Rebuilt {
		t.Fatal("a reconnect to a restarted server was reported as resumed")
	}
	// Data reaches only participants the server has in the room: wait until B is back and
	// sees A's new session (a rebuild drops and re-adds every participant).
	if rb := waitFor[livekit.Reconnected](t, evB, 45*time.Second, nil); !rb.Rebuilt {
		t.Fatal("B's reconnect to the restarted server was reported as resumed")
	}
	var seen int
	waitFor(t, evB, 20*time.Second, func(e livekit.ParticipantConnected) bool {
		if e.Info.Identity == "a" {
			seen++
		}
		return seen == 2 // the first join, and the one after the rebuild
	})
	if err := a.LocalParticipant().PublishData(ctxFor(t, 10*time.Second), []byte("after"), livekit.DataOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, evB, 20*time.Second, func(e livekit.DataReceived) bool { return string(e.Data) == "after" })
}

// describeBrief lists the connection-level events, for fault reports.
func describeBrief(evs []livekit.Event) string {
	var out []string
	for _, ev := range evs {
		switch e := ev.(type) {
		case livekit.Reconnecting, livekit.Reconnected, livekit.Disconnected, livekit.ConnectionStateChanged:
			out = append(out, fmt.Sprintf("%T%+v", e, e))
		case livekit.ParticipantConnected:
			out = append(out, "ParticipantConnected("+e.Info.Identity+" "+e.Info.SID+")")
		case livekit.ParticipantDisconnected:
			out = append(out, "ParticipantDisconnected("+e.Identity+")")
		}
	}
	return strings.Join(out, " ")
}
