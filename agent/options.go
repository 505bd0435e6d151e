package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/livekit-ffi-go/sdk/agent/internal/agentpb"
	"github.com/livekit-ffi-go/sdk/livekit"
)

// Version is this package's version, registered with the server as the worker's version
// unless Options.Version says otherwise, and sent as "agents-go:<Version>" in each job room's
// client info.
const Version = "0.1.0"

// JobType says what a worker is dispatched for.
type JobType int

const (
	// JobTypeRoom: one job per room (the default).
	JobTypeRoom JobType = iota
	// JobTypePublisher: one job per participant that publishes.
	JobTypePublisher
	// JobTypeParticipant: one job per participant that joins.
	JobTypeParticipant
)

func (t JobType) String() string {
	switch t {
	case JobTypeRoom:
		return "room"
	case JobTypePublisher:
		return "publisher"
	case JobTypeParticipant:
		return "participant"
	}
	return fmt.Sprintf("JobType(%d)", int(t))
}

func (t JobType) proto() agentpb.JobType { return agentpb.JobType(t) }

// Permissions are what the agent's participant may do in a job's room. The server puts them
// in the token it mints for each job.
type Permissions struct {
	CanPublish        bool
	CanSubscribe      bool
	CanPublishData    bool
	CanUpdateMetadata bool
	// Hidden participants are not visible to the others in the room.
	Hidden bool
}

// DefaultPermissions are used when Options.Permissions is nil: publish, subscribe, data and
// own metadata, not hidden (what the server grants a worker that names none).
var DefaultPermissions = Permissions{CanPublish: true, CanSubscribe: true, CanPublishData: true, CanUpdateMetadata: true}

// Options configure a Worker. Entrypoint is required; every other field has a useful zero
// value.
type Options struct {
	// URL is the LiveKit server (ws://, wss://, http:// or https://), default $LIVEKIT_URL.
	// The worker registers at URL + "/agent"; jobs whose assignment names no URL (the
	// open-source server never does) connect their rooms here too.
	URL string
	// APIKey and APISecret sign the worker's registration token, default $LIVEKIT_API_KEY and
	// $LIVEKIT_API_SECRET.
	APIKey, APISecret string

	// AgentName is the name jobs are dispatched to explicitly (through a token's
	// room_config.agents or the dispatch API). A worker without a name is dispatched
	// automatically into every new room instead.
	AgentName string
	// JobType is what the worker is dispatched for (default JobTypeRoom).
	JobType JobType
	// Permissions of the agent's participant; nil means DefaultPermissions.
	Permissions *Permissions
	// Version is reported at registration (default Version).
	Version string

	// Entrypoint runs each job, on its own goroutine, with the job's room connected. The job
	// lasts until Entrypoint returns: most block until ctx ends, which happens when the server
	// terminates the job (its dispatch or room was deleted), the room disconnects, or the
	// worker shuts down (context.Cause says which: ErrJobTerminated, ErrRoomDisconnected,
	// ErrWorkerClosed, ErrDrainTimeout). A nil return reports the job successful; an error or a
	// panic reports it failed, with the message, and the worker goes on. The room is closed
	// after Entrypoint returns.
	Entrypoint func(ctx context.Context, job *Job) error
	// RequestHandler decides whether to take an offered job, by calling req.Accept or
	// req.Decline before it returns (a handler that answers neither declines). It runs on its
	// own goroutine; ctx ends when the server stops waiting for the answer. Nil accepts every
	// job with the default identity ("agent-" + job id).
	RequestHandler func(ctx context.Context, req *JobRequest)

	// MaxJobs bounds the jobs this worker runs at once (0: no bound). At MaxJobs the worker
	// reports itself full, so the server offers jobs to other workers, and declines any offer
	// that still arrives.
	MaxJobs int
	// Load reports the worker's load, 0 (idle) to 1 (full), which the server uses to spread
	// jobs over workers. Nil: running jobs / MaxJobs, or 0 without MaxJobs. A worker whose Load
	// reaches LoadThreshold reports itself full.
	Load func() float64
	// LoadThreshold is the load at which the worker is full (default 1; a value above 1
	// disables the check).
	LoadThreshold float64
	// StatusInterval is how often load and job count are reported besides every change
	// (default 2.5 s).
	StatusInterval time.Duration

	// PingInterval is how often the worker pings the server (default 5 s); PingTimeout is how
	// long it waits for any message from the server before it treats the connection as dead
	// and reconnects (default 15 s).
	PingInterval, PingTimeout time.Duration
	// MaxRetries bounds consecutive failed attempts to reach the server before Run gives up
	// (default 16; negative: retry forever). Waits between attempts grow from 0.5 s to
	// MaxBackoff (default 10 s), each with random jitter. A successful registration resets
	// the count; a refused registration (wrong key or secret) ends Run at once.
	MaxRetries int
	MaxBackoff time.Duration

	// ShutdownGrace is how long a job's Entrypoint may take to return once its context has
	// ended before the worker closes its room anyway and reports it failed (default 10 s).
	ShutdownGrace time.Duration

	// RoomOptions are added to every job room's connect (the worker adds WithLogger and
	// WithOtherSDKs of its own first, so these may override them).
	RoomOptions []livekit.ConnectOption
	// Logger receives the worker's records (default slog.Default()); records about a job
	// carry its id as job_id.
	Logger *slog.Logger
}

const (
	defaultStatusInterval = 2500 * time.Millisecond
	defaultPingInterval   = 5 * time.Second
	defaultPingTimeout    = 15 * time.Second
	defaultMaxRetries     = 16
	defaultMaxBackoff     = 10 * time.Second
	defaultShutdownGrace  = 10 * time.Second
	minBackoff            = 500 * time.Millisecond

	// registerTimeout bounds the wait for the server's answer to a registration.
	registerTimeout = 10 * time.Second
	// availabilityTimeout bounds the request handler: the server waits 10 s for the answer
	// (livekit-server's AssignJobTimeout) and the answer must still travel.
	availabilityTimeout = 8 * time.Second
	// assignmentTimeout bounds the wait for the assignment of an accepted job.
	assignmentTimeout = 10 * time.Second
	// writeTimeout bounds one message write.
	writeTimeout = 10 * time.Second
	// maxMessageBytes bounds one server message (a job carries room and participant
	// metadata, at most a few hundred KB on a default server).
	maxMessageBytes = 4 << 20
)

// withDefaults fills in defaults and checks o; the error says which field is wrong.
func (o Options) withDefaults() (Options, error) {
	if o.URL == "" {
		o.URL = os.Getenv("LIVEKIT_URL")
	}
	if o.APIKey == "" {
		o.APIKey = os.Getenv("LIVEKIT_API_KEY")
	}
	if o.APISecret == "" {
		o.APISecret = os.Getenv("LIVEKIT_API_SECRET")
	}
	o.URL = strings.TrimSpace(o.URL)
	switch {
	case o.URL == "":
		return o, errors.New("agent: Options.URL is empty (and $LIVEKIT_URL is not set)")
	case o.APIKey == "" || o.APISecret == "":
		return o, errors.New("agent: Options.APIKey and APISecret are required (or $LIVEKIT_API_KEY and $LIVEKIT_API_SECRET)")
	case o.Entrypoint == nil:
		return o, errors.New("agent: Options.Entrypoint is required")
	case o.JobType < JobTypeRoom || o.JobType > JobTypeParticipant:
		return o, fmt.Errorf("agent: Options.JobType %d is not a job type", int(o.JobType))
	case o.MaxJobs < 0:
		return o, fmt.Errorf("agent: Options.MaxJobs %d is negative", o.MaxJobs)
	case o.LoadThreshold < 0:
		return o, fmt.Errorf("agent: Options.LoadThreshold %v is negative", o.LoadThreshold)
	}
	if _, err := wsURL(o.URL); err != nil {
		return o, err
	}
	if o.Permissions == nil {
		p := DefaultPermissions
		o.Permissions = &p
	}
	if o.Version == "" {
		o.Version = Version
	}
	if o.LoadThreshold == 0 {
		o.LoadThreshold = 1
	}
	o.StatusInterval = positive(o.StatusInterval, defaultStatusInterval)
	o.PingInterval = positive(o.PingInterval, defaultPingInterval)
	o.PingTimeout = positive(o.PingTimeout, defaultPingTimeout)
	o.MaxBackoff = positive(o.MaxBackoff, defaultMaxBackoff)
	o.ShutdownGrace = positive(o.ShutdownGrace, defaultShutdownGrace)
	if o.MaxRetries == 0 {
		o.MaxRetries = defaultMaxRetries
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

func positive(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// wsURL turns a server URL into its WebSocket form (http -> ws, https -> wss), without a
// trailing slash.
func wsURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("agent: server URL %q: %v", clip(raw), err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("agent: server URL %q: scheme must be ws, wss, http or https", clip(raw))
	}
	if u.Host == "" {
		return "", fmt.Errorf("agent: server URL %q has no host", clip(raw))
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return strings.TrimRight(u.String(), "/"), nil
}

// clip bounds how much of the caller's input an error repeats.
func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
