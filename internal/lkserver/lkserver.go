// Package lkserver starts a real livekit-server for tests.
//
// The server binary is found by [Find] (install it with
// scripts/install-livekit-server.sh). [Start] picks free ports, writes a
// config with a fresh API key and secret, starts the process and waits until
// it answers HTTP. Run tests that start servers inside the private network
// namespace created by scripts/netns.sh so that no traffic leaves the machine
// (see the test environment notes); outside a namespace the server binds only
// to loopback.
//
// Faults: [Server.Pause], [Server.Resume] and [Server.Stall] freeze the
// process with SIGSTOP; [Server.Kill] and [Server.Restart] crash it and bring
// it back on the same ports; Config.BehindProxy puts it behind a
// [faultnet.Proxy] that delays, drops or black-holes signalling and media.
// [StartCluster] starts a private redis-server ([StartRedis], found by
// [FindRedis]; Debian package redis-server) and several nodes sharing it.
//
// This package deliberately depends on nothing else in the module except
// internal/faultnet (a leaf): callers mint admin tokens themselves.
package lkserver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/livekit-ffi-go/sdk/internal/cachedir"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/faultnet"
)

// InstallScript is the script that installs the server binary.
const InstallScript = "scripts/install-livekit-server.sh"

// EnvServerBin names the environment variable that points at an existing
// livekit-server binary.
const EnvServerBin = "LIVEKIT_SERVER_BIN"

// ErrNotFound is returned (wrapped) by [Find] when no binary is available.
var ErrNotFound = errors.New("livekit-server binary not found")

// CachePath returns where scripts/install-livekit-server.sh installs the
// binary: ${XDG_CACHE_HOME:-$HOME/.cache}/livekit-ffi-go/livekit-server/<Version>/livekit-server.
// It returns "" when neither XDG_CACHE_HOME nor HOME is set.
func CachePath() string {
	root := cachedir.Root()
	if root == "" {
		return ""
	}
	return filepath.Join(root, "livekit-server", Version, "livekit-server")
}

// Find returns the path of the livekit-server binary: $LIVEKIT_SERVER_BIN if
// set, else [CachePath] if it exists, else "livekit-server" on $PATH. The
// error wraps [ErrNotFound] and names the install script.
func Find() (string, error) {
	if p := os.Getenv(EnvServerBin); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v (run %s, or unset %s)", ErrNotFound, EnvServerBin, p, err, InstallScript, EnvServerBin)
		}
		return p, nil
	}
	cache := CachePath()
	if cache != "" && checkExecutable(cache) == nil {
		return cache, nil
	}
	if p, err := exec.LookPath("livekit-server"); err == nil {
		return p, nil
	}
	where := "$" + EnvServerBin + " unset"
	if cache != "" {
		where += ", not at " + cache
	}
	return "", fmt.Errorf("%w (%s, not on $PATH): run %s (builds livekit-server %s with go install, ~5 min the first time) or set %s", ErrNotFound, where, InstallScript, Version, EnvServerBin)
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return errors.New("not executable")
	}
	return nil
}

// Config configures [Start]. The zero value is ready to use.
type Config struct {
	// Binary is the livekit-server executable; default [Find].
	Binary string
	// BindAddress is the address the HTTP/WebSocket API binds to; default
	// 127.0.0.1.
	BindAddress string
	// NodeIP is the IP the server advertises in ICE candidates; default
	// BindAddress when it is a specific IP, else 127.0.0.1.
	NodeIP string
	// APIKey and APISecret are the server's single key pair; generated when
	// empty (the secret is 48 hex characters). A given secret shorter than
	// 32 characters is rejected by the server's config check.
	APIKey    string
	APISecret string
	// UDPPorts is the size of the RTC UDP port range; default 20.
	UDPPorts int
	// LogLevel is the server's log level; default "info".
	LogLevel string
	// ExtraYAML is appended to the generated config, for top-level keys
	// other than port, bind_addresses, rtc, keys, logging and
	// enable_participant_data_blob (e.g.
	// "room:\n  empty_timeout: 1\n").
	ExtraYAML string
	// Dir holds the config and the log file. When empty a temporary
	// directory is created and removed by Stop.
	Dir string
	// ReadyTimeout bounds the wait for the server to answer HTTP; default
	// 30s. The context given to Start bounds it too.
	ReadyTimeout time.Duration
	// StopGrace is how long Stop waits after SIGTERM before SIGKILL;
	// default 5s.
	StopGrace time.Duration
	// LogTailBytes is how much of the server output LogTail keeps; default
	// 64 KiB.
	LogTailBytes int
	// Output, when set, also receives everything the server writes.
	Output io.Writer
	// BehindProxy runs the server in a private network namespace of its
	// own (Linux, root; see [faultnet.Supported]) that is reachable only
	// through a [faultnet.Proxy] listening on the same loopback ports in
	// the caller's namespace ([Server.Proxy]). Clients use URL() as usual;
	// signalling, ICE/TCP and ICE/UDP then all pass the proxy, whose
	// faults the test sets (routes [RouteSignal], [RouteRTCTCP],
	// [RouteRTCUDP]). BindAddress and NodeIP must stay 127.0.0.1.
	BehindProxy bool
}

// Route names of [Server.Proxy], for [faultnet.Proxy.SetFaults] and
// [faultnet.Proxy.Stats].
const (
	RouteSignal = "signal"  // HTTP: WebSocket signalling and Twirp (TCP)
	RouteRTCTCP = "rtc-tcp" // ICE over TCP (rtc.tcp_port)
	RouteRTCUDP = "rtc-udp" // ICE over UDP (the rtc port range)
)

// Server is a running livekit-server process. Stop it when done.
type Server struct {
	// APIKey and APISecret are the server's key pair.
	APIKey    string
	APISecret string
	// Host is the address clients connect to (127.0.0.1 by default).
	Host string
	// HTTPPort serves HTTP, WebSocket signalling and Twirp.
	HTTPPort int
	// RTCTCPPort is the ICE/TCP port; UDPPortStart..UDPPortEnd the ICE/UDP
	// range (inclusive).
	RTCTCPPort   int
	UDPPortStart int
	UDPPortEnd   int
	// Dir holds ConfigPath and LogPath.
	Dir        string
	ConfigPath string
	LogPath    string
	// Proxy is the only way to the server when Config.BehindProxy is set;
	// nil otherwise.
	Proxy *faultnet.Proxy

	cfg       Config
	ns        *faultnet.NetNS // with BehindProxy
	tail      *tailBuffer
	removeDir bool
	grace     time.Duration

	mu      sync.Mutex
	p       *proc  // the current run; replaced by Restart
	nodeID  string // what the current run logged
	stopped bool

	stopOnce sync.Once
	stopErr  error
}

const maxStartAttempts = 3

// Start starts a livekit-server and waits until it answers HTTP. ctx bounds
// only the startup; the process lives until Stop or Kill. When a port turns
// out to be taken by the time the server binds it, Start retries with fresh
// ports.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 1; attempt <= maxStartAttempts; attempt++ {
		s, err := start(ctx, cfg)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errAddrInUse) || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

var errAddrInUse = errors.New("address already in use")

func (c *Config) defaults() error {
	if c.Binary == "" {
		p, err := Find()
		if err != nil {
			return err
		}
		c.Binary = p
	}
	if c.BindAddress == "" {
		c.BindAddress = "127.0.0.1"
	}
	if c.NodeIP == "" {
		ip := net.ParseIP(c.BindAddress)
		if ip != nil && !ip.IsUnspecified() {
			c.NodeIP = c.BindAddress
		} else {
			c.NodeIP = "127.0.0.1"
		}
	}
	if c.APIKey == "" {
		c.APIKey = "APItest" + rand.Text()[:12]
	}
	if c.APISecret == "" {
		c.APISecret = rand.Text() + rand.Text()
	}
	if strings.ContainsAny(c.APIKey+c.APISecret, ":\n\"'# ") {
		return errors.New("lkserver: API key and secret must not contain YAML special characters")
	}
	if c.UDPPorts <= 0 {
		c.UDPPorts = 20
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = 30 * time.Second
	}
	if c.StopGrace <= 0 {
		c.StopGrace = 5 * time.Second
	}
	if c.LogTailBytes <= 0 {
		c.LogTailBytes = 64 << 10
	}
	if c.BehindProxy && (c.BindAddress != "127.0.0.1" || c.NodeIP != "127.0.0.1") {
		return errors.New("lkserver: BehindProxy needs BindAddress and NodeIP 127.0.0.1")
	}
	return nil
}

func start(ctx context.Context, cfg Config) (_ *Server, err error) {
	host := cfg.BindAddress
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = cfg.NodeIP
	}
	s := &Server{
		APIKey:    cfg.APIKey,
		APISecret: cfg.APISecret,
		Host:      host,
		Dir:       cfg.Dir,
		cfg:       cfg,
		tail:      newTailBuffer(cfg.LogTailBytes),
		grace:     cfg.StopGrace,
	}
	if s.Dir == "" {
		d, err := os.MkdirTemp("", "lkserver-")
		if err != nil {
			return nil, fmt.Errorf("lkserver: %w", err)
		}
		s.Dir = d
		s.removeDir = true
	}
	defer func() {
		if err != nil {
			s.closeProxy()
			if s.removeDir {
				os.RemoveAll(s.Dir)
			}
		}
	}()

	if s.HTTPPort, err = pickHTTPPort(cfg.BindAddress); err != nil {
		return nil, err
	}
	for {
		if s.RTCTCPPort, err = freeTCPPort(""); err != nil {
			return nil, err
		}
		if s.RTCTCPPort != s.HTTPPort {
			break
		}
	}
	if s.UDPPortStart, err = freeUDPRange(cfg.UDPPorts); err != nil {
		return nil, err
	}
	s.UDPPortEnd = s.UDPPortStart + cfg.UDPPorts - 1
	if cfg.BehindProxy {
		if err := s.startProxy(); err != nil {
			return nil, err
		}
	}

	s.ConfigPath = filepath.Join(s.Dir, "livekit.yaml")
	if err := os.WriteFile(s.ConfigPath, []byte(s.configYAML(cfg)), 0o600); err != nil {
		return nil, fmt.Errorf("lkserver: write config: %w", err)
	}
	s.LogPath = filepath.Join(s.Dir, "livekit-server.log")
	if err := s.launch(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// startProxy creates the private namespace and the proxy into it, on the
// ports already picked (free in the caller's namespace; the new namespace
// has nothing bound).
func (s *Server) startProxy() error {
	ns, err := faultnet.NewNetNS()
	if err != nil {
		return fmt.Errorf("lkserver: BehindProxy: %w", err)
	}
	s.ns = ns
	addr := func(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
	routes := []faultnet.Route{
		{Name: RouteSignal, Network: "tcp", Listen: addr(s.HTTPPort), Target: addr(s.HTTPPort)},
		{Name: RouteRTCTCP, Network: "tcp", Listen: addr(s.RTCTCPPort), Target: addr(s.RTCTCPPort)},
	}
	for p := s.UDPPortStart; p <= s.UDPPortEnd; p++ {
		routes = append(routes, faultnet.Route{Name: RouteRTCUDP, Network: "udp", Listen: addr(p), Target: addr(p)})
	}
	s.Proxy, err = faultnet.NewProxy(ns.DialContext, routes...)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			err = fmt.Errorf("%w: %w", errAddrInUse, err)
		}
		return fmt.Errorf("lkserver: BehindProxy: %w", err)
	}
	return nil
}

func (s *Server) closeProxy() {
	if s.Proxy != nil {
		s.Proxy.Close()
	}
	if s.ns != nil {
		s.ns.Close()
	}
}

// launch starts a server process with the written config and waits until
// it is ready; on failure the process is gone.
func (s *Server) launch(ctx context.Context) error {
	logFile, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("lkserver: open log: %w", err)
	}
	var out io.Writer = io.MultiWriter(logFile, s.tail)
	if s.cfg.Output != nil {
		out = io.MultiWriter(logFile, s.tail, s.cfg.Output)
	}
	cmd := exec.Command(s.cfg.Binary, "--config", s.ConfigPath)
	cmd.Dir = s.Dir
	cmd.Stdout = out
	cmd.Stderr = out
	// Keep the environment (HOME etc.) but drop variables that would
	// override the generated config.
	cmd.Env = filterEnv(os.Environ())
	cmd.SysProcAttr = sysProcAttr()
	var enter func() error
	if s.ns != nil {
		enter = s.ns.EnterLocked
	}
	p, err := startProc(cmd, enter, func() { logFile.Close() })
	if err != nil {
		logFile.Close()
		return fmt.Errorf("lkserver: start %s: %w", s.cfg.Binary, err)
	}
	s.mu.Lock()
	s.p = p
	s.mu.Unlock()

	if err := s.waitReady(ctx, p, s.cfg.ReadyTimeout); err != nil {
		p.kill()
		if strings.Contains(s.tail.String(), "address already in use") {
			err = fmt.Errorf("%w: %w", errAddrInUse, err)
		}
		return err
	}
	id := lastNodeID(s.tail.String())
	s.mu.Lock()
	s.nodeID = id
	s.mu.Unlock()
	return nil
}

var nodeIDPattern = regexp.MustCompile(`starting LiveKit server.*"nodeID": "(ND_[A-Za-z0-9]+)"`)

// lastNodeID finds the node ID in the last start message of log.
func lastNodeID(log string) string {
	m := nodeIDPattern.FindAllStringSubmatch(log, -1)
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1][1]
}

// NodeID is the node ID (ND_...) the current server process logged when it
// started; livekit-server picks a new one at every start. It is "" when the
// start message was not found (e.g. LogLevel above info).
func (s *Server) NodeID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodeID
}

func (s *Server) configYAML(cfg Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "port: %d\n", s.HTTPPort)
	fmt.Fprintf(&b, "bind_addresses: [%q]\n", cfg.BindAddress)
	fmt.Fprintf(&b, "rtc:\n")
	fmt.Fprintf(&b, "  tcp_port: %d\n", s.RTCTCPPort)
	fmt.Fprintf(&b, "  port_range_start: %d\n", s.UDPPortStart)
	fmt.Fprintf(&b, "  port_range_end: %d\n", s.UDPPortEnd)
	fmt.Fprintf(&b, "  use_external_ip: false\n")
	fmt.Fprintf(&b, "  node_ip: %s\n", cfg.NodeIP)
	fmt.Fprintf(&b, "  enable_loopback_candidate: true\n")
	fmt.Fprintf(&b, "keys:\n")
	fmt.Fprintf(&b, "  %s: %s\n", cfg.APIKey, cfg.APISecret)
	fmt.Fprintf(&b, "logging:\n")
	fmt.Fprintf(&b, "  level: %s\n", cfg.LogLevel)
	// Data track schemas are stored as participant data blobs, off by default in
	// livekit-server; the development server has every feature the SDK wraps.
	fmt.Fprintf(&b, "enable_participant_data_blob: true\n")
	if cfg.ExtraYAML != "" {
		b.WriteString(cfg.ExtraYAML)
		if !strings.HasSuffix(cfg.ExtraYAML, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// filterEnv removes LIVEKIT_* variables the server reads as config
// overrides (LIVEKIT_CONFIG, LIVEKIT_KEYS, generated per-key variables...),
// plus NODE_IP and UDP_PORT.
func filterEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "LIVEKIT_") || k == "NODE_IP" || k == "UDP_PORT" || k == "REDIS_HOST" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func (s *Server) waitReady(ctx context.Context, p *proc, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	url := s.HTTPURL() + "/"
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	begin := time.Now()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			// Something answers; make sure it is this server and not
			// another one that got the port between the pick and the bind:
			// only this server accepts a token signed with our secret.
			err := s.CallRoomService(ctx, "ListRooms", s.selfToken(), struct{}{}, nil)
			if err == nil {
				return nil
			}
			var te *TwirpError
			if errors.As(err, &te) && te.HTTPStatus == http.StatusUnauthorized {
				return fmt.Errorf("%w: another server answers on %s: %v", errAddrInUse, url, err)
			}
			// Otherwise (still starting, or it just exited) keep polling.
		}
		select {
		case <-p.exited:
			return fmt.Errorf("lkserver: livekit-server exited before it was ready (%v); log tail:\n%s", p.waitErr, s.errTail())
		case <-ctx.Done():
			return fmt.Errorf("lkserver: livekit-server not ready at %s after %v: %w; log tail:\n%s", url, time.Since(begin).Round(time.Millisecond), ctx.Err(), s.errTail())
		case <-t.C:
		}
	}
}

// errTail is the end of the log, short enough for an error message.
func (s *Server) errTail() string {
	const max = 4 << 10
	t := s.tail.String()
	if len(t) > max {
		t = t[len(t)-max:]
		if i := strings.IndexByte(t, '\n'); i >= 0 {
			t = t[i+1:]
		}
		t = "...\n" + t
	}
	return t
}

// URL is the WebSocket URL clients connect to, e.g. ws://127.0.0.1:41234.
func (s *Server) URL() string {
	return "ws://" + net.JoinHostPort(s.Host, strconv.Itoa(s.HTTPPort))
}

// HTTPURL is the HTTP base URL (Twirp API, health check), without a
// trailing slash.
func (s *Server) HTTPURL() string {
	return "http://" + net.JoinHostPort(s.Host, strconv.Itoa(s.HTTPPort))
}

func (s *Server) cur() *proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p
}

// PID is the process id of the current server process (a [Server.Restart]
// starts a new one).
func (s *Server) PID() int { return s.cur().cmd.Process.Pid }

// Done is closed when the current server process has exited (a
// [Server.Restart] starts a new one, with a new Done channel).
func (s *Server) Done() <-chan struct{} { return s.cur().exited }

// LogTail returns the last LogTailBytes of the server's output.
func (s *Server) LogTail() string { return s.tail.String() }

// Kill ends the server immediately with SIGKILL, as if it crashed, and
// waits for the process to exit. Restart or Stop may follow.
func (s *Server) Kill() { s.cur().kill() }

// Pause freezes the server with SIGSTOP: it keeps its sockets but answers
// nothing, as a hung or overloaded host would. Connected clients notice
// only through their own timeouts. Resume undoes it; Stop and Kill work on a
// paused server.
func (s *Server) Pause() error {
	p := s.cur()
	if err := p.signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("lkserver: pause: %w", err)
	}
	// Return only once it is frozen, so the caller's next request meets a
	// stopped server.
	if err := waitStopped(p.cmd.Process.Pid, 5*time.Second); err != nil {
		return fmt.Errorf("lkserver: pause: %w", err)
	}
	return nil
}

// Resume continues a paused server with SIGCONT.
func (s *Server) Resume() error {
	if err := s.cur().signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("lkserver: resume: %w", err)
	}
	return nil
}

// Stall pauses the server for d, then resumes it.
func (s *Server) Stall(d time.Duration) error {
	if err := s.Pause(); err != nil {
		return err
	}
	time.Sleep(d)
	return s.Resume()
}

// Restart kills the current server process (if it still runs) and starts
// a new one with the same config: the same ports, keys and, with
// BehindProxy, the same namespace and proxy. Rooms do not survive (a
// single node keeps them in memory). It waits until the new process is
// ready; ctx bounds that wait. It must not run concurrently with Stop.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	stopped, old := s.stopped, s.p
	s.mu.Unlock()
	if stopped {
		return errors.New("lkserver: Restart after Stop")
	}
	old.kill()
	if err := s.launch(ctx); err != nil {
		return fmt.Errorf("lkserver: restart on port %d: %w", s.HTTPPort, err)
	}
	return nil
}

// secondSignalDelay is how long Stop waits after the first SIGTERM before
// sending the second one, which makes livekit-server shut down without
// waiting for participants to leave.
const secondSignalDelay = 300 * time.Millisecond

// Stop ends the server: SIGTERM, a second SIGTERM 300ms later if it still
// runs (the server waits for participants to leave after the first; the
// second forces the shutdown, disconnecting them), then SIGKILL once
// StopGrace has passed. A paused server is resumed first. It closes the
// proxy (BehindProxy) and removes the temporary directory if Start created
// it. Stop is idempotent; it returns an error only when the server had to
// be killed or cleanup failed, not for the exit status of a server that was
// already killed.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.stopped = true
		p := s.p
		s.mu.Unlock()
		s.stopErr = s.stop(p)
	})
	return s.stopErr
}

func (s *Server) stop(p *proc) error {
	var errs []error
	select {
	case <-p.exited:
	default:
		_ = p.signal(syscall.SIGCONT)
		_ = p.signal(syscall.SIGTERM)
		deadline := time.NewTimer(s.grace)
		defer deadline.Stop()
		second := time.NewTimer(min(s.grace/2, secondSignalDelay))
		defer second.Stop()
	wait:
		for {
			select {
			case <-p.exited:
				break wait
			case <-second.C:
				// The first SIGTERM drains: the server waits for all
				// participants to leave. It is also ignored when it arrives
				// within ~100ms of the server starting to serve HTTP
				// (livekit-server marks itself running only then). The
				// second SIGTERM forces the shutdown.
				_ = p.signal(syscall.SIGTERM)
			case <-deadline.C:
				p.kill()
				errs = append(errs, fmt.Errorf("lkserver: livekit-server did not exit within %v of SIGTERM; killed; log tail:\n%s", s.grace, s.errTail()))
				break wait
			}
		}
	}
	s.closeProxy()
	if s.removeDir {
		if err := os.RemoveAll(s.Dir); err != nil {
			errs = append(errs, fmt.Errorf("lkserver: %w", err))
		}
	}
	return errors.Join(errs...)
}

// pickHTTPPort is freeTCPPort; tests replace it to force a collision.
var pickHTTPPort = freeTCPPort

// freeTCPPort returns a TCP port that is currently free on addr ("" = all
// interfaces).
func freeTCPPort(addr string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return 0, fmt.Errorf("lkserver: find free TCP port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var (
	udpMu       sync.Mutex
	udpReserved = map[int]bool{} // range starts handed out by this process
)

// UDP ranges are picked below the kernel's default ephemeral range
// (32768-60999) so that outgoing sockets of other programs rarely land in
// them.
const (
	udpLow  = 20000
	udpHigh = 32700
)

// freeUDPRange returns the first port of n consecutive UDP ports that are
// currently free on all interfaces and not handed out before by this process.
func freeUDPRange(n int) (int, error) {
	udpMu.Lock()
	defer udpMu.Unlock()
	slots := (udpHigh - udpLow) / n
	for range 200 {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(slots)))
		if err != nil {
			return 0, err
		}
		base := udpLow + int(i.Int64())*n
		if udpReserved[base] {
			continue
		}
		if udpRangeFree(base, n) {
			udpReserved[base] = true
			return base, nil
		}
	}
	return 0, fmt.Errorf("lkserver: no range of %d free UDP ports in %d-%d", n, udpLow, udpHigh)
}

func udpRangeFree(base, n int) bool {
	conns := make([]net.PacketConn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for p := base; p < base+n; p++ {
		c, err := net.ListenPacket("udp", ":"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		conns = append(conns, c)
	}
	return true
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return n, nil
	}
	if over := len(t.buf) + len(p) - t.max; over > 0 {
		t.buf = t.buf[:copy(t.buf, t.buf[over:])]
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.Clone(t.buf))
}

// selfToken is a short-lived access token for this server with roomList,
// minted here (HS256) so that the package needs no token library.
func (s *Server) selfToken() string {
	return s.grantToken(map[string]any{"roomList": true})
}

// grantToken is a short-lived access token with the given video grant.
func (s *Server) grantToken(video map[string]any) string {
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{
		"iss":   s.APIKey,
		"sub":   "lkserver",
		"nbf":   now.Add(-time.Minute).Unix(),
		"exp":   now.Add(5 * time.Minute).Unix(),
		"video": video,
	})
	enc := base64.RawURLEncoding
	unsigned := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims)
	mac := hmac.New(sha256.New, []byte(s.APISecret))
	mac.Write([]byte(unsigned))
	return unsigned + "." + enc.EncodeToString(mac.Sum(nil))
}
