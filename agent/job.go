package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"

	"github.com/livekit-ffi-go/sdk/agent/internal/agentpb"
	"github.com/livekit-ffi-go/sdk/livekit"
)

// Why a job's context ended (context.Cause of the context Entrypoint gets).
var (
	// ErrJobTerminated: the server ended the job (its dispatch was deleted, its room closed).
	ErrJobTerminated = errors.New("agent: job terminated by the server")
	// ErrRoomDisconnected: the job's room disconnected.
	ErrRoomDisconnected = errors.New("agent: job room disconnected")
	// ErrWorkerClosed: the worker was closed (Close, or the context given to Run ended).
	ErrWorkerClosed = errors.New("agent: worker closed")
	// ErrDrainTimeout: Drain's context ended before the job did.
	ErrDrainTimeout = errors.New("agent: drain deadline passed")
)

var (
	// ErrAnswered is returned by JobRequest.Accept and Decline after the first answer.
	ErrAnswered = errors.New("agent: job request already answered")
	// ErrUnauthorized wraps the error of a registration the server refused (HTTP 401 or
	// 403: a wrong API key or secret, or a token without the agent grant).
	ErrUnauthorized = errors.New("agent: registration refused")
)

// JobInfo describes a job as the server offered it.
type JobInfo struct {
	ID         string
	DispatchID string
	Type       JobType
	// AgentName is the name the job was dispatched to ("" for automatic dispatch).
	AgentName string
	// Metadata and Attributes come from the dispatch: the token's room_config.agents entry or
	// the dispatch API's request.
	Metadata   string
	Attributes map[string]string
	Deployment string
	Room       RoomInfo
	// Participant is the participant a publisher or participant job is about; nil for room
	// jobs.
	Participant *ParticipantInfo
}

// RoomInfo is the job's room as the server described it in the offer.
type RoomInfo struct {
	Name     string
	SID      string
	Metadata string
}

// ParticipantInfo is a participant as the server described it in the offer.
type ParticipantInfo struct {
	Identity   string
	SID        string
	Name       string
	Metadata   string
	Attributes map[string]string
	// Kind is the participant's kind as LiveKit names it: "standard", "ingress", "egress",
	// "sip", "agent" ...
	Kind string
}

func jobInfo(j *agentpb.Job) JobInfo {
	info := JobInfo{
		ID:         j.GetId(),
		DispatchID: j.GetDispatchId(),
		Type:       JobType(j.GetType()),
		AgentName:  j.GetAgentName(),
		Metadata:   j.GetMetadata(),
		Attributes: maps.Clone(j.GetAttributes()),
		Deployment: j.GetDeployment(),
		Room:       RoomInfo{Name: j.GetRoom().GetName(), SID: j.GetRoom().GetSid(), Metadata: j.GetRoom().GetMetadata()},
	}
	if p := j.Participant; p != nil {
		info.Participant = &ParticipantInfo{
			Identity:   p.GetIdentity(),
			SID:        p.GetSid(),
			Name:       p.GetName(),
			Metadata:   p.GetMetadata(),
			Attributes: maps.Clone(p.GetAttributes()),
			Kind:       kindName(p.GetKind()),
		}
	}
	return info
}

func kindName(k agentpb.ParticipantInfo_Kind) string {
	if name, ok := agentpb.ParticipantInfo_Kind_name[int32(k)]; ok {
		return strings.ToLower(name)
	}
	return fmt.Sprintf("kind(%d)", int32(k))
}

// AcceptOptions are what the agent joins a job's room with. The server mints the agent's
// token from them (with the agent kind and the worker's permissions, and the attribute
// lk.agent_name set to the worker's agent name).
type AcceptOptions struct {
	// Identity defaults to "agent-" + the job id.
	Identity   string
	Name       string
	Metadata   string
	Attributes map[string]string
}

// JobRequest is a job the server offers; the worker's RequestHandler answers it once, with
// Accept or Decline.
type JobRequest struct {
	Info JobInfo
	// Resuming is true when the job ran on another worker before (the server migrated it).
	Resuming bool

	mu     sync.Mutex
	answer *AcceptOptions // nil: declined
	done   bool
}

// Accept takes the job. The worker then waits for the server's assignment and runs the
// job. It returns ErrAnswered after the first answer.
func (r *JobRequest) Accept(o AcceptOptions) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return ErrAnswered
	}
	if o.Identity == "" {
		o.Identity = "agent-" + r.Info.ID
	}
	o.Attributes = maps.Clone(o.Attributes)
	r.answer, r.done = &o, true
	return nil
}

// Decline refuses the job; the server offers it to another worker. It returns ErrAnswered
// after the first answer.
func (r *JobRequest) Decline() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return ErrAnswered
	}
	r.done = true
	return nil
}

// result returns the answer; an unanswered request is declined.
func (r *JobRequest) result() (*AcceptOptions, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	answered := r.done
	r.done = true
	return r.answer, answered
}

// Job is a running job: what Entrypoint gets.
type Job struct {
	Info JobInfo
	// Accepted is what the agent joined the room with.
	Accepted AcceptOptions
	// Room is the job's room, connected through the native engine. The worker closes it
	// after Entrypoint returns; do not close it yourself.
	Room *livekit.Room
	// URL is the server URL the room is connected to.
	URL string

	logger *slog.Logger
}

// Logger returns the worker's logger with the job's id (job_id) and room (room) on every
// record.
func (j *Job) Logger() *slog.Logger { return j.logger }

// JobStatus is a job's state as the server records it.
type JobStatus int

const (
	JobPending JobStatus = iota
	JobRunning
	JobSuccess
	JobFailed
)

func (s JobStatus) String() string {
	switch s {
	case JobPending:
		return "pending"
	case JobRunning:
		return "running"
	case JobSuccess:
		return "success"
	case JobFailed:
		return "failed"
	}
	return fmt.Sprintf("JobStatus(%d)", int(s))
}
