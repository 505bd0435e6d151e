package livekit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// LiveKit's RPC error codes (the same in every LiveKit SDK). Codes 1001-1999 are reserved for
// these; applications may use any other code in an *RPCError their handler returns.
const (
	RPCApplicationError        = 1500 // the handler failed
	RPCConnectionTimeout       = 1501 // no acknowledgement from the recipient in time
	RPCResponseTimeout         = 1502 // no response from the recipient in time
	RPCRecipientDisconnected   = 1503 // the recipient left before answering
	RPCResponsePayloadTooLarge = 1504
	RPCSendFailed              = 1505
	RPCUnsupportedMethod       = 1400 // the recipient has no handler for the method
	RPCRecipientNotFound       = 1401
	RPCRequestPayloadTooLarge  = 1402
	RPCUnsupportedServer       = 1403
	RPCUnsupportedVersion      = 1404
)

// MaxRPCPayloadBytes is the largest request or response payload RPC carries.
const MaxRPCPayloadBytes = 15360

// RPCError is the error of a remote procedure call: one of LiveKit's codes above, or one an
// application handler chose. A handler that returns an *RPCError passes it to the caller as is.
type RPCError struct {
	Code    int
	Message string
	Data    string
}

func (e *RPCError) Error() string {
	if e.Data != "" {
		return fmt.Sprintf("livekit: rpc error %d: %s (%s)", e.Code, e.Message, quote(e.Data))
	}
	return fmt.Sprintf("livekit: rpc error %d: %s", e.Code, e.Message)
}

// RPCParams are the parameters of one PerformRPC call.
type RPCParams struct {
	Destination string // identity of the participant to call
	Method      string
	Payload     string
	// ResponseTimeout bounds the wait for the answer (library default: 15 s). The handler on
	// the other side gets it as its deadline.
	ResponseTimeout time.Duration
}

// RPCInvocation is one incoming call, as a handler sees it.
type RPCInvocation struct {
	CallerIdentity  string
	RequestID       string
	Method          string
	Payload         string
	ResponseTimeout time.Duration
}

// RPCHandler answers a call. Its ctx ends at the caller's response timeout or when the room
// closes. A returned *RPCError reaches the caller as is; any other error reaches it as
// RPCApplicationError with the error's text. The response payload is limited to
// MaxRPCPayloadBytes.
type RPCHandler func(ctx context.Context, inv RPCInvocation) (string, error)

// PerformRPC calls method on the participant params.Destination and returns its response
// payload. Failures of the call itself are *RPCError (errors.As): RPCUnsupportedMethod,
// RPCResponseTimeout, RPCRecipientNotFound ... A payload over MaxRPCPayloadBytes is refused
// with RPCRequestPayloadTooLarge before anything is sent. ctx bounds the wait too; a room
// that closes ends it with ErrClosed.
func (p *LocalParticipant) PerformRPC(ctx context.Context, params RPCParams) (string, error) {
	if len(params.Payload) > MaxRPCPayloadBytes {
		return "", &RPCError{Code: RPCRequestPayloadTooLarge, Message: "Request payload too large"}
	}
	req := &pb.PerformRpcRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		DestinationIdentity:    proto.String(params.Destination),
		Method:                 proto.String(params.Method),
		Payload:                proto.String(params.Payload),
	}
	if params.ResponseTimeout > 0 {
		ms := max(params.ResponseTimeout.Milliseconds(), 1)
		req.ResponseTimeoutMs = proto.Uint32(uint32(min(ms, 1<<31)))
	}
	cb, err := call[*pb.PerformRpcCallback](ctx, p.r, "perform rpc", req, engine.CallOptions{})
	if err != nil {
		return "", err
	}
	if e := cb.GetError(); e != nil {
		return "", &RPCError{Code: int(e.GetCode()), Message: e.GetMessage(), Data: e.GetData()}
	}
	return cb.GetPayload(), nil
}

// rpcServer answers the calls the library forwards for registered methods.
type rpcServer struct {
	mu       sync.Mutex
	handlers map[string]RPCHandler
	sub      *engine.Subscription
	ctx      context.Context // ends when the room closes: handlers answer RPCRecipientDisconnected
	cancel   context.CancelFunc
	stopped  bool
	wg       sync.WaitGroup // answering goroutines
}

// RegisterRPCMethod makes h answer calls of method. A method can have one handler; a
// second registration is an error until UnregisterRPCMethod. Each call runs on its own
// goroutine.
func (p *LocalParticipant) RegisterRPCMethod(method string, h RPCHandler) error {
	const op = "register rpc method"
	if h == nil {
		return invalid(op, "nil handler")
	}
	s := &p.rpc
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || p.r.isClosed() {
		return &RequestError{Op: op, Err: ErrClosed}
	}
	if _, dup := s.handlers[method]; dup {
		return invalid(op, "method %q already has a handler", quote(method))
	}
	if s.sub == nil && p.r.c != nil {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		sub, err := p.r.c.Subscribe(engine.RPCInvocations, p.handle.ID(), p.onInvocation)
		if err != nil {
			return &RequestError{Op: op, Err: err}
		}
		s.sub = sub
	}
	if _, err := request[*pb.RegisterRpcMethodResponse](p.r, op, &pb.RegisterRpcMethodRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		Method:                 proto.String(method),
	}); err != nil {
		return err
	}
	if s.handlers == nil {
		s.handlers = map[string]RPCHandler{}
	}
	s.handlers[method] = h
	return nil
}

// UnregisterRPCMethod removes method's handler; later calls get RPCUnsupportedMethod.
func (p *LocalParticipant) UnregisterRPCMethod(method string) error {
	s := &p.rpc
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.handlers[method]; !ok {
		return nil
	}
	delete(s.handlers, method)
	_, err := request[*pb.UnregisterRpcMethodResponse](p.r, "unregister rpc method", &pb.UnregisterRpcMethodRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		Method:                 proto.String(method),
	})
	return err
}

// onInvocation runs on the dispatcher: it only starts the call's goroutine.
func (p *LocalParticipant) onInvocation(ev *pb.FfiEvent) {
	inv := ev.GetRpcMethodInvocation()
	if inv == nil {
		return
	}
	s := &p.rpc
	s.mu.Lock()
	h, stopped := s.handlers[inv.GetMethod()], s.stopped
	if !stopped {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if stopped {
		go p.respond(inv.GetInvocationId(), "", &RPCError{Code: RPCRecipientDisconnected, Message: "Recipient disconnected"})
		return
	}
	go func() {
		defer s.wg.Done()
		p.serve(h, inv)
	}()
}

// serve runs one call and always answers it.
func (p *LocalParticipant) serve(h RPCHandler, ev *pb.RpcMethodInvocationEvent) {
	id := ev.GetInvocationId()
	if h == nil {
		p.respond(id, "", &RPCError{Code: RPCUnsupportedMethod, Message: "Method not supported at destination"})
		return
	}
	inv := RPCInvocation{
		CallerIdentity:  ev.GetCallerIdentity(),
		RequestID:       ev.GetRequestId(),
		Method:          ev.GetMethod(),
		Payload:         ev.GetPayload(),
		ResponseTimeout: time.Duration(ev.GetResponseTimeoutMs()) * time.Millisecond,
	}
	ctx, cancel := context.WithTimeout(p.rpc.ctx, inv.ResponseTimeout)
	defer cancel()
	type result struct {
		payload string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		var res result
		defer func() {
			if v := recover(); v != nil {
				p.r.log.Error("livekit: rpc handler panicked", "method", inv.Method, "panic", v)
				res = result{err: &RPCError{Code: RPCApplicationError, Message: "Application error in method handler"}}
			}
			done <- res
		}()
		res.payload, res.err = h(ctx, inv)
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		if p.rpc.ctx.Err() != nil {
			res.err = &RPCError{Code: RPCRecipientDisconnected, Message: "Recipient disconnected"}
		} else {
			res.err = &RPCError{Code: RPCResponseTimeout, Message: "Response timeout"}
		}
	}
	if res.err == nil && len(res.payload) > MaxRPCPayloadBytes {
		res.err = &RPCError{Code: RPCResponsePayloadTooLarge, Message: "Response payload too large"}
	}
	var rerr *RPCError
	if res.err != nil && !errors.As(res.err, &rerr) {
		rerr = &RPCError{Code: RPCApplicationError, Message: res.err.Error()}
	}
	p.respond(id, res.payload, rerr)
}

func (p *LocalParticipant) respond(id uint64, payload string, e *RPCError) {
	req := &pb.RpcMethodInvocationResponseRequest{
		LocalParticipantHandle: proto.Uint64(p.handle.ID()),
		InvocationId:           proto.Uint64(id),
	}
	if e != nil {
		pe := &pb.RpcError{Code: proto.Uint32(uint32(e.Code)), Message: proto.String(e.Message)}
		if e.Data != "" {
			pe.Data = proto.String(e.Data)
		}
		req.Error = pe
	} else {
		req.Payload = proto.String(payload)
	}
	if p.r.c == nil {
		return
	}
	// Not through request: a room that is closing still answers (RPCRecipientDisconnected).
	resp, err := p.r.c.Request(req)
	if err != nil {
		p.r.log.Debug("livekit: rpc response not sent", "err", err)
		return
	}
	if msg := resp.GetRpcMethodInvocationResponse().GetError(); msg != "" {
		// "No caller found": the caller stopped waiting (timed out).
		p.r.log.Debug("livekit: rpc response not delivered", "err", msg)
	}
}

// stop ends every call in progress with RPCRecipientDisconnected and waits (bounded) until
// they are answered; calls arriving later are answered the same way. It is idempotent.
func (s *rpcServer) stop(wait time.Duration) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// release ends the subscription; stop must have run.
func (s *rpcServer) release() {
	s.stop(time.Second)
	s.mu.Lock()
	sub := s.sub
	s.sub = nil
	s.mu.Unlock()
	if sub != nil {
		sub.Close()
	}
}
