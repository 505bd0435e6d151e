package lkserver

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/livekit-ffi-go/sdk/internal/faultnet"
)

func TestPauseResume(t *testing.T) {
	s := startServer(t, Config{})
	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	// The kernel still accepts the connection; nothing answers.
	if code, _, err := httpGet(s.HTTPURL() + "/"); err == nil {
		t.Errorf("paused server answered %d", code)
	}
	begin := time.Now()
	if err := s.Resume(); err != nil {
		t.Fatal(err)
	}
	if code, _, err := httpGet(s.HTTPURL() + "/"); err != nil || code != http.StatusOK {
		t.Errorf("after Resume: %d, %v", code, err)
	}
	t.Logf("answered %v after SIGCONT", time.Since(begin).Round(time.Millisecond))
	if err := s.Stall(200 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// Stop of a paused server must not hang until the grace runs out.
	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	begin = time.Now()
	if err := s.Stop(); err != nil {
		t.Errorf("Stop of a paused server: %v", err)
	}
	t.Logf("stopped a paused server in %v", time.Since(begin).Round(time.Millisecond))
	if err := s.Resume(); err == nil {
		t.Error("Resume after Stop succeeded")
	}
}

func TestRestartSamePorts(t *testing.T) {
	s := startServer(t, Config{})
	ctx := t.Context()
	if err := s.CallRoomService(ctx, "CreateRoom", createToken(t, s), map[string]any{"name": "before"}, nil); err != nil {
		t.Fatal(err)
	}
	pid, done := s.PID(), s.Done()
	begin := time.Now()
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed and ready again on port %d in %v", s.HTTPPort, time.Since(begin).Round(time.Millisecond))
	select {
	case <-done:
	default:
		t.Error("the old process's Done is not closed")
	}
	if s.PID() == pid {
		t.Error("same PID after Restart")
	}
	if code, _, err := httpGet(s.HTTPURL() + "/"); err != nil || code != http.StatusOK {
		t.Errorf("after Restart: %d, %v", code, err)
	}
	// A single node keeps rooms in memory: they are gone.
	if rooms := listRooms(t, s); len(rooms) != 0 {
		t.Errorf("rooms after Restart: %v", rooms)
	}
	s.Kill()
	if err := s.Restart(ctx); err != nil {
		t.Fatalf("Restart after Kill: %v", err)
	}
}

func createToken(t *testing.T, s *Server) string {
	t.Helper()
	return signToken(t, s, jwt.MapClaims{
		"iss": s.APIKey, "sub": "creator",
		"exp":   time.Now().Add(time.Minute).Unix(),
		"video": map[string]any{"roomCreate": true, "roomList": true},
	})
}

func signToken(t *testing.T, s *Server, claims jwt.MapClaims) string {
	t.Helper()
	tk, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(s.APISecret))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// listRooms returns the names of the rooms s knows.
func listRooms(t *testing.T, s *Server) []string {
	t.Helper()
	var resp struct {
		Rooms []struct {
			Name string `json:"name"`
		} `json:"rooms"`
	}
	if err := s.CallRoomService(t.Context(), "ListRooms", createToken(t, s), struct{}{}, &resp); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range resp.Rooms {
		names = append(names, r.Name)
	}
	return names
}

// joinSignal opens the signalling WebSocket as participant identity of room
// (a raw HTTP upgrade: the module's SDK is not used here) and returns what
// the server sent within d. The connection is closed when the test ends.
func joinSignal(t *testing.T, s *Server, room, identity string, d time.Duration) []byte {
	t.Helper()
	tok := signToken(t, s, jwt.MapClaims{
		"iss": s.APIKey, "sub": identity,
		"nbf":   time.Now().Add(-time.Minute).Unix(),
		"exp":   time.Now().Add(10 * time.Minute).Unix(),
		"video": map[string]any{"room": room, "roomJoin": true, "canPublish": true, "canSubscribe": true},
	})
	c, err := net.DialTimeout("tcp", net.JoinHostPort(s.Host, fmt.Sprint(s.HTTPPort)), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET /rtc?access_token=%s&protocol=15&auto_subscribe=1&sdk=go HTTP/1.1\r\n"+
		"Host: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", tok, s.Host)
	c.SetReadDeadline(time.Now().Add(d))
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("signal upgrade: %v", err)
	}
	if !strings.Contains(status, " 101 ") {
		rest, _ := io.ReadAll(io.LimitReader(br, 512))
		t.Fatalf("signal upgrade: %q %q", status, rest)
	}
	var got bytes.Buffer
	io.Copy(&got, br) // until the deadline; the connection stays open
	return got.Bytes()
}

// The server runs in its own namespace and is reachable only through the
// proxy: signalling passes it (byte counters), its faults apply, and the
// server advertises ICE candidates on the proxied ports.
func TestBehindProxy(t *testing.T) {
	requireServer(t)
	if ok, why := faultnet.Supported(); !ok {
		t.Skipf("skipping: %s", why)
	}
	s := startServer(t, Config{BehindProxy: true})
	if s.Proxy == nil {
		t.Fatal("no Proxy")
	}
	self, _ := os.Readlink("/proc/self/ns/net")
	srv, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", s.PID()))
	if err != nil || srv == self {
		t.Fatalf("server namespace %q, ours %q (%v)", srv, self, err)
	}
	sig := s.Proxy.Stats(RouteSignal)
	if sig.Conns == 0 || sig.ToServerBytes == 0 || sig.ToClientBytes == 0 {
		t.Errorf("readiness checks did not pass the proxy: %+v", sig)
	}

	// Signal delay applies to Twirp too: one request, one response.
	timeList := func() time.Duration {
		begin := time.Now()
		listRooms(t, s)
		return time.Since(begin)
	}
	base := timeList()
	s.Proxy.SetFaults(RouteSignal, faultnet.Faults{Delay: 150 * time.Millisecond})
	slow := timeList()
	s.Proxy.SetFaults(RouteSignal, faultnet.Faults{})
	t.Logf("ListRooms: %v direct, %v with 150ms each way", base.Round(time.Millisecond), slow.Round(time.Millisecond))
	if slow < 300*time.Millisecond {
		t.Errorf("ListRooms with 150ms each way took %v", slow)
	}
	s.Proxy.SetFaults(RouteSignal, faultnet.Faults{Blackhole: true})
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	err = s.CallRoomService(ctx, "ListRooms", createToken(t, s), struct{}{}, nil)
	cancel()
	s.Proxy.SetFaults(RouteSignal, faultnet.Faults{})
	if err == nil {
		t.Error("ListRooms through a blackhole succeeded")
	}

	// A participant's signalling passes the proxy, and the server offers ICE
	// candidates on the proxied ports.
	before := s.Proxy.Stats(RouteSignal)
	got := joinSignal(t, s, "proxied", "alice", 2*time.Second)
	after := s.Proxy.Stats(RouteSignal)
	t.Logf("signal: %d bytes from the server; proxy signal stats %+v", len(got), after)
	if after.ToClientBytes-before.ToClientBytes < int64(len(got)) || len(got) == 0 {
		t.Errorf("join response %d bytes, proxy forwarded %d", len(got), after.ToClientBytes-before.ToClientBytes)
	}
	if !bytes.Contains(got, []byte("alice")) {
		t.Errorf("no join response naming the participant in %q", got)
	}
	ids, err := s.ListParticipants(t.Context(), "proxied", adminToken(t, s, "proxied"))
	t.Logf("participants of the proxied room while joined: %v, %v", ids, err)
}
