package livekit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
)

func rpcCode(t *testing.T, err error) int {
	t.Helper()
	var re *livekit.RPCError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not an *RPCError", err, err)
	}
	return re.Code
}

func TestRPC(t *testing.T) {
	needEnv(t)
	a, b, _ := joinPair(t)
	for len(a.RemoteParticipants()) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	bob := b.LocalParticipant()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(bob.RegisterRPCMethod("echo", func(ctx context.Context, inv livekit.RPCInvocation) (string, error) {
		if inv.CallerIdentity != "alice" || inv.Method != "echo" || inv.RequestID == "" || inv.ResponseTimeout <= 0 {
			return "", fmt.Errorf("bad invocation %+v", inv)
		}
		return "echo:" + inv.Payload, nil
	}))
	must(bob.RegisterRPCMethod("fail", func(ctx context.Context, inv livekit.RPCInvocation) (string, error) {
		return "", errors.New("boom")
	}))
	must(bob.RegisterRPCMethod("custom", func(ctx context.Context, inv livekit.RPCInvocation) (string, error) {
		return "", &livekit.RPCError{Code: 2001, Message: "custom", Data: "d"}
	}))
	must(bob.RegisterRPCMethod("panic", func(ctx context.Context, inv livekit.RPCInvocation) (string, error) {
		panic("handler panic")
	}))
	must(bob.RegisterRPCMethod("slow", func(ctx context.Context, inv livekit.RPCInvocation) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	}))
	must(bob.RegisterRPCMethod("big", func(ctx context.Context, inv livekit.RPCInvocation) (string, error) {
		return strings.Repeat("x", livekit.MaxRPCPayloadBytes+1), nil
	}))
	if err := bob.RegisterRPCMethod("echo", func(context.Context, livekit.RPCInvocation) (string, error) { return "", nil }); !errors.Is(err, livekit.ErrInvalidArgument) {
		t.Fatalf("duplicate registration: %v", err)
	}
	alice := a.LocalParticipant()
	ctx := ctxFor(t, 60*time.Second)
	perform := func(method, payload string, timeout time.Duration) (string, error) {
		return alice.PerformRPC(ctx, livekit.RPCParams{Destination: "bob", Method: method, Payload: payload, ResponseTimeout: timeout})
	}

	if got, err := perform("echo", "hi", 0); err != nil || got != "echo:hi" {
		t.Fatalf("echo: %q %v", got, err)
	}
	_, err := perform("fail", "", 0)
	if rpcCode(t, err) != livekit.RPCApplicationError || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("fail: %v", err)
	}
	_, err = perform("custom", "", 0)
	var re *livekit.RPCError
	if rpcCode(t, err) != 2001 || !errors.As(err, &re) || re.Message != "custom" || re.Data != "d" {
		t.Fatalf("custom: %v", err)
	}
	if _, err = perform("panic", "", 0); rpcCode(t, err) != livekit.RPCApplicationError {
		t.Fatalf("panic: %v", err)
	}
	if _, err = perform("nosuch", "", 0); rpcCode(t, err) != livekit.RPCUnsupportedMethod {
		t.Fatalf("unknown method: %v", err)
	}
	if _, err = perform("big", "", 0); rpcCode(t, err) != livekit.RPCResponsePayloadTooLarge {
		t.Fatalf("big response: %v", err)
	}
	start := time.Now()
	if _, err = perform("slow", "", 2*time.Second); rpcCode(t, err) != livekit.RPCResponseTimeout {
		t.Fatalf("slow: %v", err)
	}
	if d := time.Since(start); d > 6*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	// Very short timeouts once crashed the library (python-sdks #522).
	for _, d := range []time.Duration{time.Millisecond, 100 * time.Millisecond} {
		if _, err = perform("slow", "", d); err == nil {
			t.Fatalf("timeout %v: no error", d)
		}
		t.Logf("timeout %v: %v", d, err)
	}
	if got, err := perform("echo", "after short timeouts", 0); err != nil || got != "echo:after short timeouts" {
		t.Fatalf("echo after short timeouts: %q %v", got, err)
	}
	_, err = alice.PerformRPC(ctx, livekit.RPCParams{Destination: "nobody", Method: "echo", ResponseTimeout: 3 * time.Second})
	if c := rpcCode(t, err); c != livekit.RPCRecipientNotFound && c != livekit.RPCConnectionTimeout {
		t.Fatalf("recipient gone: %v", err)
	}
	t.Logf("recipient gone: %v", err)
	if _, err = perform("echo", strings.Repeat("y", livekit.MaxRPCPayloadBytes+1), 0); rpcCode(t, err) != livekit.RPCRequestPayloadTooLarge {
		t.Fatalf("too large: %v", err)
	}
	if got, err := perform("echo", strings.Repeat("y", livekit.MaxRPCPayloadBytes-5), 0); err != nil || len(got) != livekit.MaxRPCPayloadBytes {
		t.Fatalf("max payload: %d %v", len(got), err)
	}

	// 50 concurrent calls, each answered with its own payload.
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Go(func() {
			p := fmt.Sprint(i)
			got, err := perform("echo", p, 10*time.Second)
			if err == nil && got != "echo:"+p {
				err = fmt.Errorf("call %d got %q", i, got)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	must(bob.UnregisterRPCMethod("echo"))
	if _, err = perform("echo", "", 0); rpcCode(t, err) != livekit.RPCUnsupportedMethod {
		t.Fatalf("after unregister: %v", err)
	}
}

// A handler still running when its room closes is answered RPCRecipientDisconnected at once.
func TestRPCAnsweredWhenResponderCloses(t *testing.T) {
	needEnv(t)
	a, b, _ := joinPair(t)
	for len(a.RemoteParticipants()) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	started := make(chan struct{})
	if err := b.LocalParticipant().RegisterRPCMethod("hang", func(ctx context.Context, inv livekit.RPCInvocation) (string, error) {
		close(started)
		<-ctx.Done()
		return "", ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	go func() {
		<-started
		b.Close()
	}()
	start := time.Now()
	_, err := a.LocalParticipant().PerformRPC(ctxFor(t, 30*time.Second), livekit.RPCParams{Destination: "bob", Method: "hang", ResponseTimeout: 20 * time.Second})
	if c := rpcCode(t, err); c != livekit.RPCRecipientDisconnected {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v", d)
	}
}
