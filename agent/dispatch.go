package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/agent/internal/agentpb"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

// DispatchClient calls the server's AgentDispatchService (Twirp, binary protobuf): it asks
// for an agent in a room, lists a room's dispatches and deletes one. Backends use it to send
// an agent to a room that already exists. Safe for concurrent use.
type DispatchClient struct {
	base   string // http(s)://host[/path]
	minter *tokensource.Minter
	http   *http.Client
}

// DispatchOption configures NewDispatchClient.
type DispatchOption func(*DispatchClient)

// WithDispatchHTTPClient sets the HTTP client (default: one with a 30 s timeout). The
// context of each call bounds it too.
func WithDispatchHTTPClient(c *http.Client) DispatchOption {
	return func(d *DispatchClient) {
		if c != nil {
			d.http = c
		}
	}
}

// NewDispatchClient returns a client for the server at serverURL (ws, wss, http or https)
// that signs each call with apiKey and apiSecret (a short-lived token with roomAdmin for the
// call's room).
func NewDispatchClient(serverURL, apiKey, apiSecret string, opts ...DispatchOption) (*DispatchClient, error) {
	ws, err := wsURL(strings.TrimSpace(serverURL))
	if err != nil {
		return nil, err
	}
	m, err := tokensource.NewMinter(apiKey, apiSecret, ws, tokensource.WithTTL(5*time.Minute))
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	base := "http" + strings.TrimPrefix(ws, "ws")
	d := &DispatchClient{base: base, minter: m, http: &http.Client{Timeout: 30 * time.Second}}
	for _, o := range opts {
		if o != nil {
			o(d)
		}
	}
	return d, nil
}

// Dispatch is a request for an agent in a room, and the jobs it started.
type Dispatch struct {
	ID         string
	AgentName  string
	Room       string
	Metadata   string
	Attributes map[string]string
	CreatedAt  time.Time
	DeletedAt  time.Time // zero while the dispatch lives
	Jobs       []DispatchJob
}

// DispatchJob is a job a dispatch started, as the server recorded it.
type DispatchJob struct {
	ID       string
	Type     JobType
	Status   JobStatus
	Error    string
	WorkerID string
	// Identity is the agent participant's identity in the room.
	Identity  string
	StartedAt time.Time
	EndedAt   time.Time
}

// DispatchOptions are the optional fields of CreateDispatch.
type DispatchOptions struct {
	// Metadata and Attributes reach the job (JobInfo.Metadata, JobInfo.Attributes).
	Metadata   string
	Attributes map[string]string
}

// APIError is a non-2xx answer of the server's Twirp API.
type APIError struct {
	Method     string // e.g. "CreateDispatch"
	HTTPStatus int
	Code       string // Twirp code, e.g. "not_found", "unauthenticated", "invalid_argument"
	Message    string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("agent: %s: HTTP %d: %s: %s", e.Method, e.HTTPStatus, e.Code, e.Message)
}

// CreateDispatch asks the server to dispatch agentName into room (created if it does not
// exist yet, when the server allows that). A worker registered with that agent name gets
// the job.
func (d *DispatchClient) CreateDispatch(ctx context.Context, room, agentName string, o DispatchOptions) (Dispatch, error) {
	if room == "" {
		return Dispatch{}, errors.New("agent: CreateDispatch needs a room")
	}
	var resp agentpb.AgentDispatch
	err := d.call(ctx, "CreateDispatch", room, &agentpb.CreateAgentDispatchRequest{
		Room: room, AgentName: agentName, Metadata: o.Metadata, Attributes: o.Attributes,
	}, &resp)
	return dispatchOf(&resp), err
}

// ListDispatches returns the dispatches of room.
func (d *DispatchClient) ListDispatches(ctx context.Context, room string) ([]Dispatch, error) {
	return d.list(ctx, room, "")
}

// GetDispatch returns one dispatch of room; an unknown id is an error.
func (d *DispatchClient) GetDispatch(ctx context.Context, room, id string) (Dispatch, error) {
	if id == "" {
		return Dispatch{}, errors.New("agent: GetDispatch needs a dispatch id")
	}
	all, err := d.list(ctx, room, id)
	if err != nil {
		return Dispatch{}, err
	}
	for _, x := range all {
		if x.ID == id {
			return x, nil
		}
	}
	return Dispatch{}, &APIError{Method: "ListDispatch", HTTPStatus: http.StatusNotFound, Code: "not_found", Message: "no dispatch " + clip(id) + " in room " + clip(room)}
}

func (d *DispatchClient) list(ctx context.Context, room, id string) ([]Dispatch, error) {
	if room == "" {
		return nil, errors.New("agent: listing dispatches needs a room")
	}
	var resp agentpb.ListAgentDispatchResponse
	if err := d.call(ctx, "ListDispatch", room, &agentpb.ListAgentDispatchRequest{Room: room, DispatchId: id}, &resp); err != nil {
		return nil, err
	}
	out := make([]Dispatch, 0, len(resp.GetAgentDispatches()))
	for _, x := range resp.GetAgentDispatches() {
		out = append(out, dispatchOf(x))
	}
	return out, nil
}

// DeleteDispatch deletes a dispatch; the server terminates its jobs (their contexts end with
// ErrJobTerminated).
func (d *DispatchClient) DeleteDispatch(ctx context.Context, room, id string) (Dispatch, error) {
	if room == "" || id == "" {
		return Dispatch{}, errors.New("agent: DeleteDispatch needs a room and a dispatch id")
	}
	var resp agentpb.AgentDispatch
	err := d.call(ctx, "DeleteDispatch", room, &agentpb.DeleteAgentDispatchRequest{Room: room, DispatchId: id}, &resp)
	return dispatchOf(&resp), err
}

func (d *DispatchClient) call(ctx context.Context, method, room string, req, resp proto.Message) error {
	if ctx == nil {
		return errors.New("agent: nil context")
	}
	tok, err := d.minter.MintWithGrant("agent-dispatch-client", tokensource.VideoGrant{RoomAdmin: true, Room: room})
	if err != nil {
		return fmt.Errorf("agent: %s: %w", method, err)
	}
	body, err := proto.Marshal(req)
	if err != nil {
		return fmt.Errorf("agent: %s: %w", method, err)
	}
	u := d.base + "/twirp/livekit.AgentDispatchService/" + method
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("agent: %s: %w", method, err)
	}
	hreq.Header.Set("Content-Type", "application/protobuf")
	hreq.Header.Set("Authorization", "Bearer "+tok)
	hresp, err := d.http.Do(hreq)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message below already
		}
		return fmt.Errorf("agent: %s at %s: %w", method, d.base, err)
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, maxMessageBytes))
	if err != nil {
		return fmt.Errorf("agent: %s: read the answer: %w", method, err)
	}
	if hresp.StatusCode/100 != 2 {
		e := &APIError{Method: method, HTTPStatus: hresp.StatusCode}
		var te struct {
			Code string `json:"code"`
			Msg  string `json:"msg"`
		}
		if json.Unmarshal(data, &te) == nil && (te.Code != "" || te.Msg != "") {
			e.Code, e.Message = te.Code, scrub(te.Msg)
		} else {
			e.Message = scrub(string(data))
		}
		return e
	}
	if err := proto.Unmarshal(data, resp); err != nil {
		return fmt.Errorf("agent: %s: the answer does not decode: %w", method, err)
	}
	return nil
}

func dispatchOf(x *agentpb.AgentDispatch) Dispatch {
	d := Dispatch{
		ID: x.GetId(), AgentName: x.GetAgentName(), Room: x.GetRoom(), Metadata: x.GetMetadata(),
		Attributes: maps.Clone(x.GetAttributes()),
		CreatedAt:  nanos(x.GetState().GetCreatedAt()), DeletedAt: nanos(x.GetState().GetDeletedAt()),
	}
	for _, j := range x.GetState().GetJobs() {
		st := j.GetState()
		d.Jobs = append(d.Jobs, DispatchJob{
			ID: j.GetId(), Type: JobType(j.GetType()), Status: JobStatus(st.GetStatus()), Error: st.GetError(),
			WorkerID: st.GetWorkerId(), Identity: st.GetParticipantIdentity(),
			StartedAt: nanos(st.GetStartedAt()), EndedAt: nanos(st.GetEndedAt()),
		})
	}
	return d
}

func nanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
