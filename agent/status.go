package agent

import (
	"context"
	"encoding/json"
	"expvar"
	"fmt"
	"net/http"
	"slices"
)

// State is where a worker is in its life.
type State int

const (
	// StateIdle: created, Run not called yet.
	StateIdle State = iota
	// StateConnecting: connecting or reconnecting to the server; running jobs go on.
	StateConnecting
	// StateRegistered: registered and taking jobs (as capacity allows).
	StateRegistered
	// StateDraining: Drain was called; no new jobs, running ones finish.
	StateDraining
	// StateClosed: closed; Run has returned or is about to.
	StateClosed
)

func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateConnecting:
		return "connecting"
	case StateRegistered:
		return "registered"
	case StateDraining:
		return "draining"
	case StateClosed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// MarshalText makes a State read as its name in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ServerInfo is what the server said about itself at registration.
type ServerInfo struct {
	Version       string `json:"version,omitempty"`
	Region        string `json:"region,omitempty"`
	NodeID        string `json:"node_id,omitempty"`
	Protocol      int    `json:"protocol,omitempty"`
	AgentProtocol int    `json:"agent_protocol,omitempty"`
}

// Counters count what a worker did since it was created.
type Counters struct {
	Registrations     uint64 `json:"registrations"` // successful registrations (1 + reconnects)
	JobsStarted       uint64 `json:"jobs_started"`
	JobsSucceeded     uint64 `json:"jobs_succeeded"`
	JobsFailed        uint64 `json:"jobs_failed"`
	JobsDeclined      uint64 `json:"jobs_declined"`
	MalformedMessages uint64 `json:"malformed_messages"` // server messages that did not decode
}

// Snapshot is a worker's state at one moment.
type Snapshot struct {
	State     State  `json:"state"`
	WorkerID  string `json:"worker_id,omitempty"` // the server's id for the current registration
	AgentName string `json:"agent_name"`
	// Jobs are the ids of the running jobs; Pending counts jobs accepted or being decided
	// and not yet running.
	Jobs    []string `json:"jobs"`
	Pending int      `json:"pending"`
	MaxJobs int      `json:"max_jobs,omitempty"`
	// Load is what the worker reports (0-1); Full whether it reports itself full.
	Load      float64    `json:"load"`
	Full      bool       `json:"full"`
	Server    ServerInfo `json:"server"`
	LastError string     `json:"last_error,omitempty"` // why the last connection ended, if it did
	Counters  Counters   `json:"counters"`
}

// Snapshot returns the worker's state now.
func (w *Worker) Snapshot() Snapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	full, load := w.capacityLocked()
	s := Snapshot{
		State: w.state, AgentName: w.opts.AgentName, Pending: len(w.pending) + w.deciding, MaxJobs: w.opts.MaxJobs,
		Load: load, Full: full, Server: w.server, Counters: w.counts, Jobs: make([]string, 0, len(w.jobs)),
	}
	if w.state == StateRegistered || w.state == StateDraining {
		s.WorkerID = w.workerID
	}
	if w.lastErr != nil {
		s.LastError = w.lastErr.Error()
	}
	for id := range w.jobs {
		s.Jobs = append(s.Jobs, id)
	}
	slices.Sort(s.Jobs)
	return s
}

// WaitFor waits until the worker's snapshot satisfies cond, and returns that snapshot, or
// ctx's error. For example, to wait for the registration:
//
//	w.WaitFor(ctx, func(s agent.Snapshot) bool { return s.State == agent.StateRegistered })
func (w *Worker) WaitFor(ctx context.Context, cond func(Snapshot) bool) (Snapshot, error) {
	for {
		w.mu.Lock()
		ch := w.changed
		w.mu.Unlock()
		s := w.Snapshot()
		if cond(s) {
			return s, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return s, ctx.Err()
		}
	}
}

// Var returns the worker's Snapshot as an expvar.Var, for expvar.Publish (the name is yours
// to choose, so several workers can share a process):
//
//	expvar.Publish("agent_worker", w.Var())
func (w *Worker) Var() expvar.Var { return expvar.Func(func() any { return w.Snapshot() }) }

// HealthHandler returns an http.Handler for a health check: 200 with the Snapshot as JSON
// while the worker is registered (or draining), 503 with the same body otherwise
// (connecting, closed).
func (w *Worker) HealthHandler() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s := w.Snapshot()
		rw.Header().Set("Content-Type", "application/json")
		rw.Header().Set("Cache-Control", "no-store")
		if s.State != StateRegistered && s.State != StateDraining {
			rw.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(rw).Encode(s)
	})
}
