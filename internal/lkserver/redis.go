package lkserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// EnvRedisBin names the environment variable that points at an existing
// redis-server binary.
const EnvRedisBin = "LIVEKIT_REDIS_BIN"

// RedisPackage is the Debian package that provides redis-server (.ci/run
// installs it on CI machines).
const RedisPackage = "redis-server"

// ErrRedisNotFound is returned (wrapped) by [FindRedis] when no binary is
// available.
var ErrRedisNotFound = errors.New("redis-server binary not found")

// FindRedis returns the path of redis-server: $LIVEKIT_REDIS_BIN if set,
// else redis-server on $PATH. The error wraps [ErrRedisNotFound] and names
// the Debian package.
func FindRedis() (string, error) {
	if p := os.Getenv(EnvRedisBin); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v (install the Debian package %s, or unset %s)", ErrRedisNotFound, EnvRedisBin, p, err, RedisPackage, EnvRedisBin)
		}
		return p, nil
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w ($%s unset, not on $PATH): install the Debian package %s (apt-get install %s; .ci/run does this on CI) or set %s", ErrRedisNotFound, EnvRedisBin, RedisPackage, RedisPackage, EnvRedisBin)
}

// RedisConfig configures [StartRedis]. The zero value is ready to use.
type RedisConfig struct {
	// Binary is the redis-server executable; default [FindRedis].
	Binary string
	// ReadyTimeout bounds the wait for PONG; default 10s.
	ReadyTimeout time.Duration
	// Output, when set, also receives everything redis-server writes.
	Output io.Writer
}

// Redis is a private redis-server on a loopback port with no persistence.
// Stop it when done.
type Redis struct {
	// Addr is host:port, e.g. 127.0.0.1:41234.
	Addr string
	Port int
	// Dir is its working directory (removed by Stop).
	Dir string

	cfg      RedisConfig
	args     []string
	tail     *tailBuffer
	mu       sync.Mutex
	p        *proc // the current run; replaced by Restart
	stopped  bool
	stopOnce sync.Once
	stopErr  error
}

// StartRedis starts redis-server bound to 127.0.0.1 on a free port, with
// RDB snapshots and the append-only file off and its own temporary
// directory, and waits until it answers PING.
func StartRedis(ctx context.Context, cfg RedisConfig) (*Redis, error) {
	if cfg.Binary == "" {
		p, err := FindRedis()
		if err != nil {
			return nil, err
		}
		cfg.Binary = p
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 10 * time.Second
	}
	var lastErr error
	for range maxStartAttempts {
		r, err := startRedis(ctx, cfg)
		if err == nil {
			return r, nil
		}
		lastErr = err
		if !errors.Is(err, errAddrInUse) || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func startRedis(ctx context.Context, cfg RedisConfig) (_ *Redis, err error) {
	port, err := freeTCPPort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "lkredis-")
	if err != nil {
		return nil, fmt.Errorf("lkserver: %w", err)
	}
	r := &Redis{
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Port: port, Dir: dir,
		cfg: cfg, tail: newTailBuffer(16 << 10),
		args: []string{
			"--port", strconv.Itoa(port),
			"--bind", "127.0.0.1",
			"--save", "",
			"--appendonly", "no",
			"--dir", dir,
			"--daemonize", "no",
			"--logfile", "",
			"--protected-mode", "yes",
		},
	}
	if err := r.launch(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return r, nil
}

// launch starts a redis-server process and waits for PONG; on failure the
// process is gone.
func (r *Redis) launch(ctx context.Context) error {
	var out io.Writer = r.tail
	if r.cfg.Output != nil {
		out = io.MultiWriter(r.tail, r.cfg.Output)
	}
	cmd := exec.Command(r.cfg.Binary, r.args...)
	cmd.Dir = r.Dir
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	p, err := startProc(cmd, nil, nil)
	if err != nil {
		return fmt.Errorf("lkserver: start %s: %w", r.cfg.Binary, err)
	}
	r.mu.Lock()
	r.p = p
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.ReadyTimeout)
	defer cancel()
	for {
		reply, perr := r.Do(ctx, "PING")
		if perr == nil && reply == "PONG" {
			return nil
		}
		select {
		case <-p.exited:
			err := fmt.Errorf("lkserver: redis-server exited before it was ready (%v); output:\n%s", p.waitErr, r.tail.String())
			if strings.Contains(r.tail.String(), "Address already in use") {
				err = fmt.Errorf("%w: %w", errAddrInUse, err)
			}
			return err
		case <-ctx.Done():
			p.kill()
			return fmt.Errorf("lkserver: redis-server not ready on %s: %w (last: %v); output:\n%s", r.Addr, ctx.Err(), perr, r.tail.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (r *Redis) cur() *proc {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.p
}

// PID is the current redis-server process id.
func (r *Redis) PID() int { return r.cur().cmd.Process.Pid }

// Kill ends redis-server with SIGKILL and waits for it to exit.
func (r *Redis) Kill() { r.cur().kill() }

// Pause freezes redis-server with SIGSTOP (connections stay open, nothing
// answers) and returns once it is stopped. Resume undoes it.
func (r *Redis) Pause() error {
	p := r.cur()
	if err := p.signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("lkserver: pause redis: %w", err)
	}
	if err := waitStopped(p.cmd.Process.Pid, 5*time.Second); err != nil {
		return fmt.Errorf("lkserver: pause redis: %w", err)
	}
	return nil
}

// Resume continues a paused redis-server.
func (r *Redis) Resume() error {
	if err := r.cur().signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("lkserver: resume redis: %w", err)
	}
	return nil
}

// Restart kills redis-server (if it runs) and starts a new one on the same
// port. Nothing is persisted, so the new one is empty: every room, node
// registration and participant record is gone, as after losing an
// unreplicated Redis. It must not run concurrently with Stop.
func (r *Redis) Restart(ctx context.Context) error {
	r.mu.Lock()
	stopped, old := r.stopped, r.p
	r.mu.Unlock()
	if stopped {
		return errors.New("lkserver: redis Restart after Stop")
	}
	old.kill()
	if err := r.launch(ctx); err != nil {
		return fmt.Errorf("lkserver: restart redis on port %d: %w", r.Port, err)
	}
	return nil
}

// Stop ends redis-server (SIGTERM, SIGKILL after 5s) and removes its
// directory. It is idempotent.
func (r *Redis) Stop() error {
	r.stopOnce.Do(func() {
		r.mu.Lock()
		r.stopped = true
		p := r.p
		r.mu.Unlock()
		var errs []error
		_ = p.signal(syscall.SIGCONT)
		if p.signal(syscall.SIGTERM) == nil {
			select {
			case <-p.exited:
			case <-time.After(5 * time.Second):
				p.kill()
				errs = append(errs, errors.New("lkserver: redis-server did not exit within 5s of SIGTERM; killed"))
			}
		}
		if err := os.RemoveAll(r.Dir); err != nil {
			errs = append(errs, fmt.Errorf("lkserver: %w", err))
		}
		r.stopErr = errors.Join(errs...)
	})
	return r.stopErr
}

// Do sends one command and returns the reply: a string for simple and bulk
// strings (nil for a null bulk string), an int64 for integers, []any for
// arrays; an error reply is returned as an error. It opens a connection per
// call: enough for tests that inspect what livekit-server stored.
func (r *Redis) Do(ctx context.Context, args ...string) (any, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	} else {
		c.SetDeadline(time.Now().Add(10 * time.Second))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		return nil, err
	}
	return readRESP(bufio.NewReader(c))
}

func readRESP(br *bufio.Reader) (any, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("lkserver: redis: empty reply line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, fmt.Errorf("lkserver: redis: %s", body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readRESP(br); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("lkserver: redis: unexpected reply %q", line)
}
