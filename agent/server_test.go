package agent_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/agent"
	"github.com/livekit-ffi-go/sdk/internal/devenv"
	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/leakcheck"
	"github.com/livekit-ffi-go/sdk/internal/lkserver"
	"github.com/livekit-ffi-go/sdk/internal/testenv"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// env is one livekit-server shared by the tests that do not hurt it.
var env *devenv.Env

// The server tests need the native library and livekit-server; without them they skip
// (fail under LIVEKIT_REQUIRE_SERVER=1). The pure tests run anyway.
func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	if _, err := testenv.LoadLibrary(); err != nil {
		if testenv.RequireServer() {
			fmt.Fprintln(os.Stderr, "FAIL: LIVEKIT_REQUIRE_SERVER=1 but the native library is not usable:", err)
			return 1
		}
		return m.Run()
	}
	if _, err := lkserver.Find(); err != nil {
		if testenv.RequireServer() {
			fmt.Fprintln(os.Stderr, "FAIL: LIVEKIT_REQUIRE_SERVER=1 but", err)
			return 1
		}
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	if env, err = devenv.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: start livekit-server:", err)
		return 1
	}
	code := m.Run()
	env.Close()
	c, _ := engine.Default()
	if n := c.OutstandingHandles(); n != 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d owned handles outstanding after the tests\n", n)
		code = 1
	}
	c.Dispose()
	if err := leakcheck.Wait(15 * time.Second); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		code = 1
	}
	return code
}

func needEnv(t testing.TB) {
	t.Helper()
	if env == nil {
		testenv.Server(t)
		t.Skip("the test server did not start")
	}
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var seq atomic.Int64

func name(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), seq.Add(1))
}

// quiet is the logger for workers in tests (LIVEKIT_TEST_LOG=1 shows it).
func quiet() *slog.Logger {
	if os.Getenv("LIVEKIT_TEST_LOG") == "1" {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// jobs records what the entrypoints of a test's workers saw.
type jobs struct {
	mu      sync.Mutex
	started []*agent.Job
	ended   map[string]error // job id -> context.Cause when the entrypoint returned
	notify  chan struct{}
}

func newJobs() *jobs { return &jobs{ended: map[string]error{}, notify: make(chan struct{}, 1)} }

func (j *jobs) poke() {
	select {
	case j.notify <- struct{}{}:
	default:
	}
}

// entrypoint records the job and blocks until its context ends.
func (j *jobs) entrypoint(ctx context.Context, job *agent.Job) error {
	j.mu.Lock()
	j.started = append(j.started, job)
	j.mu.Unlock()
	j.poke()
	<-ctx.Done()
	j.mu.Lock()
	j.ended[job.Info.ID] = context.Cause(ctx)
	j.mu.Unlock()
	j.poke()
	return nil
}

func (j *jobs) wait(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	for {
		j.mu.Lock()
		ok := cond()
		j.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-j.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %s within %v", what, d)
		}
	}
}

// startWorker runs a worker against srv until the test ends.
func startWorker(t testing.TB, srv *lkserver.Server, o agent.Options) *agent.Worker {
	t.Helper()
	o.URL, o.APIKey, o.APISecret = srv.URL(), srv.APIKey, srv.APISecret
	if o.Logger == nil {
		o.Logger = quiet()
	}
	w, err := agent.NewWorker(o)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	t.Cleanup(func() {
		w.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	if _, err := w.WaitFor(ctxFor(t, 20*time.Second), registered); err != nil {
		t.Fatalf("worker not registered: %v (%+v)", err, w.Snapshot())
	}
	return w
}

func registered(s agent.Snapshot) bool { return s.State == agent.StateRegistered }

// join connects a participant with a token minted by m for opts.
func join(t testing.TB, m *tokensource.Minter, url string, o tokensource.Options, copts ...livekit.ConnectOption) *livekit.Room {
	t.Helper()
	tok, err := m.Mint(o)
	if err != nil {
		t.Fatal(err)
	}
	r, err := livekit.Connect(ctxFor(t, 20*time.Second), url, tok, copts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// waitAgent waits until room sees a remote participant of kind agent and returns it.
func waitAgent(t testing.TB, room *livekit.Room, d time.Duration) *livekit.RemoteParticipant {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for _, p := range room.RemoteParticipants() {
			if p.Info().Kind == livekit.KindAgent {
				return p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	var ids []string
	for _, p := range room.RemoteParticipants() {
		ids = append(ids, p.Identity()+"("+p.Info().Kind.String()+")")
	}
	t.Fatalf("no agent participant in %q within %v; participants: %s", room.Name(), d, strings.Join(ids, ", "))
	return nil
}

func TestTokenDispatchStartsJobWithMetadata(t *testing.T) {
	needEnv(t)
	rec := newJobs()
	agentName := name("tok")
	w := startWorker(t, env.Server, agent.Options{AgentName: agentName, Entrypoint: rec.entrypoint})

	room := name("room")
	user := join(t, env.Minter, env.Server.URL(), tokensource.Options{RoomName: room, ParticipantIdentity: "user",
		AgentName: agentName, AgentMetadata: `{"lang":"fi"}`})
	p := waitAgent(t, user, 20*time.Second)

	rec.wait(t, 10*time.Second, "job", func() bool { return len(rec.started) == 1 })
	rec.mu.Lock()
	job := rec.started[0]
	rec.mu.Unlock()
	if job.Info.Metadata != `{"lang":"fi"}` || job.Info.AgentName != agentName || job.Info.Room.Name != room || job.Info.Type != agent.JobTypeRoom {
		t.Errorf("job info %+v", job.Info)
	}
	if job.Info.DispatchID == "" || job.Info.ID == "" {
		t.Errorf("job without ids: %+v", job.Info)
	}
	if p.Identity() != "agent-"+job.Info.ID || job.Room.LocalParticipant().Identity() != p.Identity() {
		t.Errorf("agent identity %q, job room identity %q, job %s", p.Identity(), job.Room.LocalParticipant().Identity(), job.Info.ID)
	}
	if got := p.Info().Attributes["lk.agent_name"]; got != agentName {
		t.Errorf("agent attribute lk.agent_name %q, want %q", got, agentName)
	}
	s := w.Snapshot()
	if len(s.Jobs) != 1 || s.Jobs[0] != job.Info.ID || s.Counters.JobsStarted != 1 {
		t.Errorf("snapshot %+v", s)
	}
}
