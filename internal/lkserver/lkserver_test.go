package lkserver

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// requireServer returns the server binary, or skips the test when it is
// missing, unless LIVEKIT_REQUIRE_SERVER is set (scripts/test.sh sets it),
// in which case a missing binary fails the test.
func requireServer(t *testing.T) string {
	t.Helper()
	p, err := Find()
	if err != nil {
		if v := os.Getenv("LIVEKIT_REQUIRE_SERVER"); v != "" && v != "0" {
			t.Fatalf("LIVEKIT_REQUIRE_SERVER=%s: %v", v, err)
		}
		t.Skipf("skipping: %v", err)
	}
	return p
}

func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	requireServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	begin := time.Now()
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("livekit-server ready at %s in %v", s.URL(), time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if t.Failed() {
			t.Logf("server log tail:\n%s", s.LogTail())
		}
	})
	return s
}

// adminToken mints a LiveKit access token with roomAdmin for room, without
// the module's token minter (lkserver stays independent of tokensource).
func adminToken(t *testing.T, s *Server, room string) string {
	t.Helper()
	claims := jwt.MapClaims{
		"iss": s.APIKey,
		"sub": "lkserver-test-admin",
		"nbf": time.Now().Add(-time.Minute).Unix(),
		"exp": time.Now().Add(10 * time.Minute).Unix(),
		"video": map[string]any{
			"room":      room,
			"roomAdmin": true,
			"roomList":  true,
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(s.APISecret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func httpGet(url string) (int, string, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestFindMissing(t *testing.T) {
	t.Setenv(EnvServerBin, "")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("PATH", t.TempDir())
	_, err := Find()
	if err == nil {
		t.Fatal("Find succeeded with no binary anywhere")
	}
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("error does not wrap ErrNotFound: %v", err)
	}
	if !strings.Contains(err.Error(), InstallScript) {
		t.Errorf("error does not name %s: %v", InstallScript, err)
	}
	t.Log(err)

	// A bad explicit path is an error too, not a silent fallback.
	t.Setenv(EnvServerBin, filepath.Join(t.TempDir(), "nope"))
	_, err = Find()
	if err == nil || !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), InstallScript) || !strings.Contains(err.Error(), EnvServerBin) {
		t.Errorf("bad %s: got %v", EnvServerBin, err)
	}
}

func TestFindOrder(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv(EnvServerBin, "")
	t.Setenv("PATH", t.TempDir())
	want := filepath.Join(cache, "livekit-ffi-go", "livekit-server", Version, "livekit-server")
	if got := CachePath(); got != want {
		t.Fatalf("CachePath() = %q, want %q", got, want)
	}
	if err := os.MkdirAll(filepath.Dir(want), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(want, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := Find(); err != nil || got != want {
		t.Errorf("Find() = %q, %v; want the cache path %q", got, err, want)
	}
	explicit := filepath.Join(t.TempDir(), "my-server")
	if err := os.WriteFile(explicit, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvServerBin, explicit)
	if got, err := Find(); err != nil || got != explicit {
		t.Errorf("Find() = %q, %v; want $%s %q", got, err, EnvServerBin, explicit)
	}
}

func TestStartFailsWithLogTail(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "fake-server")
	script := "#!/bin/sh\necho 'fake server: cannot start, config' \"$2\" >&2\nexit 3\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Start(t.Context(), Config{Binary: bin})
	if err == nil {
		t.Fatal("Start succeeded with a binary that exits")
	}
	if !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "fake server: cannot start") {
		t.Errorf("error lacks the reason or the log tail: %v", err)
	}
}

func TestTailBuffer(t *testing.T) {
	b := newTailBuffer(10)
	b.Write([]byte("hello "))
	b.Write([]byte("world"))
	if got := b.String(); got != "ello world" {
		t.Errorf("got %q", got)
	}
	b.Write([]byte("0123456789abc"))
	if got := b.String(); got != "3456789abc" {
		t.Errorf("got %q", got)
	}
}

func TestStartStop(t *testing.T) {
	requireServer(t)
	begin := time.Now()
	s, err := Start(t.Context(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ready in %v at %s (rtc tcp %d, udp %d-%d)", time.Since(begin).Round(time.Millisecond), s.URL(), s.RTCTCPPort, s.UDPPortStart, s.UDPPortEnd)
	if !strings.HasPrefix(s.URL(), "ws://127.0.0.1:") || !strings.HasPrefix(s.HTTPURL(), "http://127.0.0.1:") {
		t.Errorf("URL() = %q, HTTPURL() = %q", s.URL(), s.HTTPURL())
	}
	if s.APIKey == "" || len(s.APISecret) < 32 {
		t.Errorf("key %q, secret of %d chars", s.APIKey, len(s.APISecret))
	}
	if s.UDPPortEnd-s.UDPPortStart+1 != 20 {
		t.Errorf("UDP range %d-%d", s.UDPPortStart, s.UDPPortEnd)
	}
	conf, err := os.ReadFile(s.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"node_ip: 127.0.0.1", "enable_loopback_candidate: true", "use_external_ip: false", s.APIKey + ": " + s.APISecret} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	code, body, err := httpGet(s.HTTPURL() + "/")
	if err != nil || code != http.StatusOK {
		t.Errorf("GET / = %d %q, %v", code, body, err)
	}
	if !strings.Contains(s.LogTail(), "starting LiveKit server") {
		t.Errorf("log tail lacks the start message:\n%s", s.LogTail())
	}

	begin = time.Now()
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("stopped in %v", time.Since(begin).Round(time.Millisecond))
	select {
	case <-s.Done():
	default:
		t.Error("Done not closed after Stop")
	}
	if _, _, err := httpGet(s.HTTPURL() + "/"); err == nil {
		t.Error("server still answers after Stop")
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("temp dir %s not removed: %v", s.Dir, err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestTwoServersAtOnce(t *testing.T) {
	requireServer(t)
	var wg sync.WaitGroup
	servers := make([]*Server, 2)
	errs := make([]error, 2)
	for i := range servers {
		wg.Go(func() {
			servers[i], errs[i] = Start(t.Context(), Config{})
		})
	}
	wg.Wait()
	for i, s := range servers {
		if errs[i] != nil {
			t.Fatalf("server %d: %v", i, errs[i])
		}
		t.Cleanup(func() { s.Stop() })
	}
	a, b := servers[0], servers[1]
	if a.HTTPPort == b.HTTPPort || a.RTCTCPPort == b.RTCTCPPort || a.UDPPortStart == b.UDPPortStart {
		t.Errorf("port collision: %+v vs %+v", a, b)
	}
	if a.UDPPortStart <= b.UDPPortEnd && b.UDPPortStart <= a.UDPPortEnd {
		t.Errorf("UDP ranges overlap: %d-%d and %d-%d", a.UDPPortStart, a.UDPPortEnd, b.UDPPortStart, b.UDPPortEnd)
	}
	if a.APISecret == b.APISecret {
		t.Error("both servers got the same secret")
	}
	for i, s := range servers {
		if code, _, err := httpGet(s.HTTPURL() + "/"); err != nil || code != http.StatusOK {
			t.Errorf("server %d: GET / = %d, %v", i, code, err)
		}
	}
	// Stopping one leaves the other running.
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	if code, _, err := httpGet(b.HTTPURL() + "/"); err != nil || code != http.StatusOK {
		t.Errorf("second server after stopping the first: %d, %v", code, err)
	}
}

func TestKillThenStop(t *testing.T) {
	s := startServer(t, Config{Dir: t.TempDir()})
	s.Kill()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after Kill")
	}
	if _, _, err := httpGet(s.HTTPURL() + "/"); err == nil {
		t.Error("server still answers after Kill")
	}
	s.Kill() // idempotent
	if err := s.Stop(); err != nil {
		t.Errorf("Stop after Kill: %v", err)
	}
	// The log survives in the caller's Dir.
	if b, err := os.ReadFile(s.LogPath); err != nil || len(b) == 0 {
		t.Errorf("log file %s: %d bytes, %v", s.LogPath, len(b), err)
	}
}

func TestGivenKeys(t *testing.T) {
	s := startServer(t, Config{APIKey: "mykey", APISecret: "0123456789abcdef0123456789abcdef"})
	if s.APIKey != "mykey" || s.APISecret != "0123456789abcdef0123456789abcdef" {
		t.Errorf("keys not kept: %q %q", s.APIKey, s.APISecret)
	}
	// The server accepts tokens signed with the given secret.
	ids, err := s.ListParticipants(t.Context(), "no-such-room", adminToken(t, s, "no-such-room"))
	if err != nil {
		var te *TwirpError
		if !errors.As(err, &te) || te.Code == "unauthenticated" || te.HTTPStatus == http.StatusUnauthorized {
			t.Fatalf("token with the given key rejected: %v", err)
		}
	}
	t.Logf("ListParticipants(no-such-room) = %v, %v", ids, err)
}

func TestTwirpErrors(t *testing.T) {
	s := startServer(t, Config{})
	ctx := t.Context()

	// Wrong secret: the server rejects the token.
	bad := &Server{APIKey: s.APIKey, APISecret: strings.Repeat("x", 40)}
	err := s.UpdateParticipantMetadata(ctx, "r1", "alice", "m", adminToken(t, bad, "r1"))
	var te *TwirpError
	if !errors.As(err, &te) {
		t.Fatalf("bad token: want *TwirpError, got %v", err)
	}
	t.Logf("bad token: %v", err)
	// The auth middleware answers plain text, not a Twirp error object.
	if te.HTTPStatus != http.StatusUnauthorized || !strings.Contains(err.Error(), "signature is invalid") {
		t.Errorf("bad token: %+v", te)
	}

	// Valid admin token, but the room does not exist: the Go error carries
	// the Twirp code and message.
	err = s.UpdateParticipantMetadata(ctx, "r1", "alice", "m", adminToken(t, s, "r1"))
	if !errors.As(err, &te) {
		t.Fatalf("missing room: want *TwirpError, got %v", err)
	}
	t.Logf("missing room: %v", err)
	if te.Code == "" || te.Msg == "" || !strings.Contains(err.Error(), te.Msg) || te.Method != "livekit.RoomService/UpdateParticipant" {
		t.Errorf("missing room: %+v", te)
	}
	if te.Code == "unauthenticated" || te.Code == "permission_denied" {
		t.Errorf("admin token rejected: %v", err)
	}
}

func TestCreateRoomAndListParticipants(t *testing.T) {
	s := startServer(t, Config{})
	ctx := t.Context()
	tok := adminToken(t, s, "lobby")
	// CreateRoom needs roomCreate; ListParticipants of a fresh room is empty.
	createTok := func() string {
		claims := jwt.MapClaims{
			"iss": s.APIKey, "sub": "creator",
			"exp":   time.Now().Add(time.Minute).Unix(),
			"video": map[string]any{"roomCreate": true},
		}
		tk, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(s.APISecret))
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}()
	var room struct {
		Name string `json:"name"`
		Sid  string `json:"sid"`
	}
	if err := s.CallRoomService(ctx, "CreateRoom", createTok, map[string]any{"name": "lobby"}, &room); err != nil {
		t.Fatal(err)
	}
	if room.Name != "lobby" || room.Sid == "" {
		t.Errorf("CreateRoom = %+v", room)
	}
	ids, err := s.ListParticipants(ctx, "lobby", tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 0 {
		t.Errorf("participants of an empty room: %v", ids)
	}
	err = s.UpdateParticipantMetadata(ctx, "lobby", "nobody", "m", tok)
	var te *TwirpError
	if !errors.As(err, &te) || te.Code != "not_found" {
		t.Errorf("UpdateParticipant of a missing participant: %v", err)
	}
}

// A port that is taken by the time the server binds it (another process got
// it between the pick and the bind) makes Start retry with fresh ports: both
// when the port is held by something that does not answer and when another
// livekit-server answers on it (the readiness check must not mistake it for
// the new one).
func TestStartRetriesWhenPortTaken(t *testing.T) {
	requireServer(t)
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	other := startServer(t, Config{})
	for name, takenPort := range map[string]int{
		"silent listener":        silent.Addr().(*net.TCPAddr).Port,
		"another livekit-server": other.HTTPPort,
	} {
		t.Run(name, func(t *testing.T) {
			calls := 0
			pickHTTPPort = func(addr string) (int, error) {
				calls++
				if calls == 1 {
					return takenPort, nil
				}
				return freeTCPPort(addr)
			}
			t.Cleanup(func() { pickHTTPPort = freeTCPPort })
			s := startServer(t, Config{})
			if calls != 2 || s.HTTPPort == takenPort {
				t.Errorf("%d port picks, server on %d (taken: %d)", calls, s.HTTPPort, takenPort)
			}
		})
	}
}

func TestVersionPinned(t *testing.T) {
	if !regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`).MatchString(Version) {
		t.Fatalf("Version = %q, want vX.Y.Z from version.env", Version)
	}
}
