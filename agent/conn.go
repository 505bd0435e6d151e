package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/agent/internal/agentpb"
	"github.com/livekit-ffi-go/sdk/internal/redact"
)

// conn is one WebSocket connection to the server's /agent endpoint, messages in binary
// protobuf.
type conn interface {
	// Write sends one message (safe for concurrent use).
	Write(m *agentpb.WorkerMessage) error
	// Read returns the next message's bytes (one reader at a time).
	Read(ctx context.Context) ([]byte, error)
	// Close ends the connection; reason goes into the close frame.
	Close(reason string)
}

type wsConn struct{ c *websocket.Conn }

func (c wsConn) Write(m *agentpb.WorkerMessage) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	return c.c.Write(ctx, websocket.MessageBinary, b)
}

func (c wsConn) Read(ctx context.Context) ([]byte, error) {
	for {
		typ, b, err := c.c.Read(ctx)
		if err != nil {
			return nil, err
		}
		if typ == websocket.MessageBinary {
			return b, nil
		}
		// The server answers in JSON only to a worker that writes JSON; this one never does.
	}
}

func (c wsConn) Close(reason string) {
	if reason == "" {
		c.c.CloseNow()
		return
	}
	// Close waits for the server's close frame, bounded by the library (5 s each way).
	c.c.Close(websocket.StatusNormalClosure, reason)
}

// dialWebSocket opens <url>/agent with a freshly minted worker token.
func (w *Worker) dialWebSocket(ctx context.Context) (conn, error) {
	tok, err := w.minter.MintWorkerToken()
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	u := w.url + "/agent"
	ctx, cancel := context.WithTimeout(ctx, registerTimeout)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}},
	})
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			var body []byte
			if resp.Body != nil {
				body, _ = io.ReadAll(io.LimitReader(resp.Body, 1024))
			}
			return nil, fmt.Errorf("%w by %s: HTTP %d: %s (check the API key and secret)", ErrUnauthorized, u, resp.StatusCode, scrub(string(body)))
		}
		if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("agent: connect to %s: no answer within %v", u, registerTimeout)
		}
		return nil, fmt.Errorf("agent: connect to %s: %s", u, scrub(err.Error()))
	}
	c.SetReadLimit(maxMessageBytes)
	return wsConn{c}, nil
}

// scrub makes server text safe to repeat: the server quotes a refused token in full.
func scrub(s string) string {
	s = strings.TrimSpace(redact.JWTs(s, func(string) string { return "<token>" }))
	return clip(s)
}

// serve registers on c and handles the server's messages until the connection ends. It
// reports whether the registration succeeded.
func (w *Worker) serve(c conn) (registered bool, err error) {
	defer c.Close("")
	p := w.opts.Permissions
	w.send(c, &agentpb.WorkerMessage{Message: &agentpb.WorkerMessage_Register{Register: &agentpb.RegisterWorkerRequest{
		Type:         w.opts.JobType.proto(),
		AgentName:    w.opts.AgentName,
		Version:      w.opts.Version,
		PingInterval: uint32(max(w.opts.PingInterval/time.Second, 1)),
		AllowedPermissions: &agentpb.ParticipantPermission{
			CanPublish: p.CanPublish, CanSubscribe: p.CanSubscribe, CanPublishData: p.CanPublishData,
			CanUpdateMetadata: p.CanUpdateMetadata, Hidden: p.Hidden, Agent: true,
		},
	}}})

	ctx, cancel := context.WithCancel(w.closingCtx())
	defer cancel()
	rctx, rcancel := context.WithTimeout(ctx, registerTimeout)
	first, err := c.Read(rctx)
	rcancel()
	if err != nil {
		return false, fmt.Errorf("agent: waiting for the registration answer: %w", err)
	}
	var msg agentpb.ServerMessage
	if err := proto.Unmarshal(first, &msg); err != nil || msg.GetRegister() == nil {
		return false, fmt.Errorf("agent: the server's first message is not a registration answer")
	}
	reg := msg.GetRegister()
	si := reg.GetServerInfo()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return true, nil
	}
	w.conn, w.workerID, w.lastErr = c, reg.GetWorkerId(), nil
	w.server = ServerInfo{Version: si.GetVersion(), Region: si.GetRegion(), NodeID: si.GetNodeId(), Protocol: int(si.GetProtocol()), AgentProtocol: int(si.GetAgentProtocol())}
	w.counts.Registrations++
	w.mu.Unlock()
	w.setState(StateRegistered)
	w.log.Info("agent: worker registered", "worker_id", reg.GetWorkerId(), "agent_name", w.opts.AgentName,
		"server_version", si.GetVersion(), "node_id", si.GetNodeId())
	defer func() {
		w.mu.Lock()
		if w.conn == c {
			w.conn = nil
		}
		w.mu.Unlock()
		w.setState(StateConnecting)
	}()
	w.sendStatus()

	var last atomic.Int64 // when the server last said anything
	last.Store(w.now().UnixNano())
	var timedOut atomic.Bool
	go func() {
		ping := time.NewTicker(w.opts.PingInterval)
		status := time.NewTicker(w.opts.StatusInterval)
		defer ping.Stop()
		defer status.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-status.C:
				w.sendStatus()
			case now := <-ping.C:
				if now.Sub(time.Unix(0, last.Load())) > w.opts.PingTimeout {
					timedOut.Store(true)
					c.Close("")
					return
				}
				w.send(c, &agentpb.WorkerMessage{Message: &agentpb.WorkerMessage_Ping{Ping: &agentpb.WorkerPing{Timestamp: now.UnixMilli()}}})
			}
		}
	}()
	for {
		b, err := c.Read(ctx)
		if err != nil {
			if timedOut.Load() {
				return true, fmt.Errorf("agent: the server sent nothing for %v", w.opts.PingTimeout)
			}
			return true, fmt.Errorf("agent: connection to the server: %w", err)
		}
		last.Store(w.now().UnixNano())
		w.handle(c, b)
	}
}
