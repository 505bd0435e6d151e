package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/livekit-ffi-go/sdk/agent/internal/agentpb"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// Worker registers with a LiveKit server as an agent worker and runs the jobs the server
// dispatches to it, many at once, in this process. Create it with NewWorker, run it with Run,
// stop it with Drain or Close. Its methods are safe for concurrent use.
type Worker struct {
	opts   Options
	url    string // the server's WebSocket URL
	minter *tokensource.Minter
	log    *slog.Logger

	// dial and connectRoom are the worker's two ways out; tests replace them.
	dial        func(ctx context.Context) (conn, error)
	connectRoom func(ctx context.Context, url, token string, opts ...livekit.ConnectOption) (*livekit.Room, jobRoom, error)
	now         func() time.Time

	jobsCtx    context.Context // parent of every job's context; ends on Close
	cancelJobs context.CancelCauseFunc
	closing    chan struct{} // closed by Close
	runDone    chan struct{} // closed when Run returns
	jobsWG     sync.WaitGroup

	mu       sync.Mutex
	state    State
	changed  chan struct{} // closed and replaced on every change of what Snapshot shows
	started  bool
	closed   bool
	draining bool
	conn     conn // the registered connection, nil between connections
	workerID string
	server   ServerInfo
	lastErr  error
	jobs     map[string]*runningJob
	pending  map[string]*pendingJob // accepted, waiting for the assignment
	deciding int                    // requests in the request handler (they hold a slot)
	counts   Counters
}

// jobRoom is what the worker needs of a job's room: to notice its end and to close it.
type jobRoom interface {
	Done() <-chan struct{}
	Close() error
}

type pendingJob struct {
	info   JobInfo
	accept AcceptOptions
	timer  *time.Timer
}

type runningJob struct {
	info    JobInfo
	accept  AcceptOptions
	ctx     context.Context
	cancel  context.CancelCauseFunc
	started time.Time
}

// NewWorker checks o and returns a worker that has not connected yet.
func NewWorker(o Options) (*Worker, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	u, _ := wsURL(o.URL)
	m, err := tokensource.NewMinter(o.APIKey, o.APISecret, u, tokensource.WithTTL(time.Hour))
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	w := &Worker{
		opts:    o,
		url:     u,
		minter:  m,
		log:     o.Logger,
		now:     time.Now,
		closing: make(chan struct{}),
		runDone: make(chan struct{}),
		changed: make(chan struct{}),
		jobs:    map[string]*runningJob{},
		pending: map[string]*pendingJob{},
	}
	w.jobsCtx, w.cancelJobs = context.WithCancelCause(context.Background())
	w.dial = w.dialWebSocket
	w.connectRoom = func(ctx context.Context, url, token string, opts ...livekit.ConnectOption) (*livekit.Room, jobRoom, error) {
		r, err := livekit.Connect(ctx, url, token, opts...)
		if err != nil {
			return nil, nil, err
		}
		return r, r, nil
	}
	return w, nil
}

// Run connects, registers and serves jobs until the worker is stopped: by Close, by Drain
// (once the jobs are done), or by ctx ending (which closes the worker). It reconnects and
// re-registers when the connection drops, with backoff and jitter, leaving running jobs
// alone. It returns nil when the worker was stopped, and an error when it gave up: the
// server refused the registration (errors.Is ErrUnauthorized) or could not be reached
// MaxRetries times in a row. Either way every job has ended when it returns. Run may be
// called once.
func (w *Worker) Run(ctx context.Context) error {
	w.mu.Lock()
	if w.started {
		w.mu.Unlock()
		return errors.New("agent: Worker.Run called twice")
	}
	w.started = true
	w.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { w.Close() })
	defer stop()
	defer close(w.runDone)

	err := w.loop()
	w.shutdown(ErrWorkerClosed)
	w.setState(StateClosed)
	return err
}

func (w *Worker) loop() error {
	attempt := 0
	for {
		if w.isClosing() {
			return nil
		}
		w.setState(StateConnecting)
		registered := false
		c, err := w.dial(w.closingCtx())
		if err == nil {
			registered, err = w.serve(c)
		}
		if registered {
			attempt = 0
		}
		if w.isClosing() {
			return nil
		}
		w.mu.Lock()
		w.lastErr = err
		w.mu.Unlock()
		if errors.Is(err, ErrUnauthorized) {
			w.log.Error("agent: the server refused the worker's registration", "error", err)
			return err
		}
		attempt++
		if w.opts.MaxRetries >= 0 && attempt > w.opts.MaxRetries {
			return fmt.Errorf("agent: giving up after %d failed attempts to reach %s: %w", attempt, w.url, err)
		}
		d := backoff(attempt, w.opts.MaxBackoff, rand.Float64)
		w.log.Warn("agent: connection to the server lost; reconnecting", "error", err, "attempt", attempt, "in", d)
		select {
		case <-time.After(d):
		case <-w.closing:
			return nil
		}
	}
}

// backoff is the wait before reconnect attempt n (1, 2 ...): minBackoff doubled per attempt
// up to max, then a random point in its upper half, so that workers that lost the same
// server do not come back in step.
func backoff(n int, max time.Duration, random func() float64) time.Duration {
	d := max
	if n >= 1 && n < 30 {
		d = min(minBackoff<<(n-1), max)
	}
	return d/2 + time.Duration(random()*float64(d/2))
}

// Drain stops taking jobs (the worker reports itself full and declines every offer), waits
// for the running jobs to finish, and then closes the worker. When ctx ends first, the
// remaining jobs' contexts end with ErrDrainTimeout, their rooms are closed, and Drain
// returns ctx's error once they are released (entrypoints that do not return within
// ShutdownGrace are reported failed and left behind).
func (w *Worker) Drain(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed && !w.draining {
		w.draining = true
		w.log.Info("agent: draining", "jobs", len(w.jobs), "pending", len(w.pending))
	}
	w.mu.Unlock()
	w.setState(StateDraining)
	w.sendStatus()
	var err error
	for {
		w.mu.Lock()
		n := len(w.jobs) + len(w.pending) + w.deciding
		ch := w.changed
		w.mu.Unlock()
		if n == 0 {
			break
		}
		select {
		case <-ch:
			continue
		case <-ctx.Done():
			err = fmt.Errorf("agent: drain: %w", ctx.Err())
			w.shutdown(ErrDrainTimeout)
		}
		break
	}
	w.Close()
	return err
}

// Close ends everything at once: every job's context ends (ErrWorkerClosed), the worker
// leaves the server, and once every job's Entrypoint has returned (or ShutdownGrace passed)
// and its room is closed, Close returns; Run returns too. Idempotent.
func (w *Worker) Close() error {
	w.mu.Lock()
	first := !w.closed
	w.closed = true
	c := w.conn
	started := w.started
	w.mu.Unlock()
	if first {
		close(w.closing)
		if c != nil {
			c.Close("worker closing")
		}
	}
	w.shutdown(ErrWorkerClosed)
	if started {
		<-w.runDone
	}
	w.setState(StateClosed)
	return nil
}

// shutdown ends every job with cause and waits until each is released.
func (w *Worker) shutdown(cause error) {
	w.mu.Lock()
	for id, p := range w.pending {
		p.timer.Stop()
		delete(w.pending, id)
	}
	jobs := make([]*runningJob, 0, len(w.jobs))
	for _, j := range w.jobs {
		jobs = append(jobs, j)
	}
	w.mu.Unlock()
	for _, j := range jobs {
		j.cancel(cause)
	}
	if cause == ErrWorkerClosed {
		w.cancelJobs(cause)
	}
	w.jobsWG.Wait()
	w.notify()
}

func (w *Worker) isClosing() bool {
	select {
	case <-w.closing:
		return true
	default:
		return false
	}
}

// closingCtx is a context that ends when the worker closes.
func (w *Worker) closingCtx() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-w.closing:
		case <-ctx.Done():
		}
		cancel()
	}()
	return ctx
}

func (w *Worker) setState(s State) {
	w.mu.Lock()
	if w.closed && s != StateClosed {
		s = StateClosed
	} else if w.draining && s == StateRegistered {
		s = StateDraining
	}
	if w.state != s {
		w.state = s
		w.notifyLocked()
	}
	w.mu.Unlock()
}

func (w *Worker) notify() {
	w.mu.Lock()
	w.notifyLocked()
	w.mu.Unlock()
}

func (w *Worker) notifyLocked() {
	close(w.changed)
	w.changed = make(chan struct{})
}

// capacityLocked reports whether the worker takes no more jobs, and its load.
func (w *Worker) capacityLocked() (full bool, load float64) {
	active := len(w.jobs) + len(w.pending) + w.deciding
	if w.opts.Load != nil {
		load = w.opts.Load()
	} else if w.opts.MaxJobs > 0 {
		load = float64(active) / float64(w.opts.MaxJobs)
	}
	load = min(max(load, 0), 1)
	full = w.draining || w.closed ||
		(w.opts.MaxJobs > 0 && active >= w.opts.MaxJobs) ||
		(w.opts.LoadThreshold <= 1 && load >= w.opts.LoadThreshold)
	return full, load
}

func (w *Worker) statusMessage() *agentpb.WorkerMessage {
	w.mu.Lock()
	full, load := w.capacityLocked()
	jobs := len(w.jobs)
	w.mu.Unlock()
	st := agentpb.WorkerStatus_WS_AVAILABLE
	if full {
		st = agentpb.WorkerStatus_WS_FULL
	}
	return &agentpb.WorkerMessage{Message: &agentpb.WorkerMessage_UpdateWorker{UpdateWorker: &agentpb.UpdateWorkerStatus{
		Status: &st, Load: float32(load), JobCount: uint32(jobs),
	}}}
}

// sendStatus reports status, load and job count on the current connection, if any.
func (w *Worker) sendStatus() { w.send(nil, w.statusMessage()) }

// send writes m on c, or on the current connection when c is nil. Without a connection the
// message is dropped: the server that would have read it no longer knows this worker.
func (w *Worker) send(c conn, m *agentpb.WorkerMessage) {
	if c == nil {
		w.mu.Lock()
		c = w.conn
		w.mu.Unlock()
		if c == nil {
			return
		}
	}
	if err := c.Write(m); err != nil {
		w.log.Debug("agent: write to the server failed", "error", err)
	}
}
