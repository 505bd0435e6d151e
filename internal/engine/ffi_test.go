//go:build cgo

package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/internal/leakcheck"
	"github.com/livekit-ffi-go/sdk/internal/testnet"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// The tests load the real library. Without it they skip, unless LIVEKIT_REQUIRE_LIB=1
// (scripts/test.sh sets it), where a missing library fails the run.
func TestMain(m *testing.M) {
	if _, err := Load(testOptions); err != nil {
		if os.Getenv("LIVEKIT_REQUIRE_LIB") == "1" {
			fmt.Fprintln(os.Stderr, "FAIL: LIVEKIT_REQUIRE_LIB=1 and the native library is not usable:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "SKIP: native library not available:", err)
		os.Exit(0)
	}
	code := m.Run()
	if c, err := Load(testOptions); err == nil {
		if n := c.OutstandingHandles(); n != 0 && code == 0 {
			fmt.Fprintf(os.Stderr, "FAIL: %d owned handles outstanding after the tests\n", n)
			code = 1
		}
		c.Dispose()
	}
	if code == 0 {
		if err := leakcheck.Wait(10 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// testOptions keep the library's error logs (failed connects are the point of several tests)
// out of the test output.
var testOptions = Options{Logger: slog.New(slog.DiscardHandler)}

func client(t testing.TB) *Client {
	t.Helper()
	c, err := Load(testOptions)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func connectRequest(url string, retries uint32, timeout time.Duration) *pb.FfiRequest {
	return &pb.FfiRequest{Message: &pb.FfiRequest_Connect{Connect: &pb.ConnectRequest{
		Url:   proto.String(url),
		Token: proto.String("not-a-token"),
		Options: &pb.RoomOptions{
			JoinRetries:      proto.Uint32(retries),
			ConnectTimeoutMs: proto.Uint64(uint64(timeout / time.Millisecond)),
		},
	}}}
}

func TestLoadReportsPinnedVersion(t *testing.T) {
	c := client(t)
	if got := c.LibraryVersion(); got != PinnedVersion() {
		t.Fatalf("library reports %q, pinned %q", got, PinnedVersion())
	}
	if c.LibraryPath() == "" {
		t.Fatal("empty library path")
	}
}

func TestSyncRequestReturnsOwnedHandle(t *testing.T) {
	c := client(t)
	resp, err := c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_NewSoxResampler{NewSoxResampler: &pb.NewSoxResamplerRequest{
		InputRate: proto.Float64(48000), OutputRate: proto.Float64(16000), NumChannels: proto.Uint32(1),
		InputDataType: pb.SoxResamplerDataType_SOXR_DATATYPE_INT16I.Enum(), OutputDataType: pb.SoxResamplerDataType_SOXR_DATATYPE_INT16I.Enum(),
		QualityRecipe: pb.SoxQualityRecipe_SOXR_QUALITY_MEDIUM.Enum(),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.GetNewSoxResampler()
	id := r.GetResampler().GetHandle().GetId()
	if id == 0 {
		t.Fatalf("no owned handle in %v", resp)
	}
	if !c.DropHandle(id) {
		t.Fatal("first drop of a fresh handle failed")
	}
	if c.DropHandle(id) {
		t.Fatal("second drop of the same handle succeeded")
	}

	// The same through Own/Close: idempotent, and counted.
	before := c.OutstandingHandles()
	resp, err = c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_NewAudioResampler{NewAudioResampler: &pb.NewAudioResamplerRequest{}}})
	if err != nil {
		t.Fatal(err)
	}
	h := c.Own(resp.GetNewAudioResampler().GetResampler().GetHandle().GetId(), "audio resampler")
	if got := c.OutstandingHandles(); got != before+1 {
		t.Fatalf("outstanding = %d, want %d", got, before+1)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if got := c.OutstandingHandles(); got != before {
		t.Fatalf("outstanding after Close = %d, want %d", got, before)
	}
}

func TestRequestErrors(t *testing.T) {
	c := client(t)
	if _, err := c.Request(&pb.FfiRequest{}); err == nil {
		t.Fatal("empty request accepted")
	}
	// A bogus handle: the library refuses and says nothing more.
	_, err := c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_ReadyForRoomEvent{ReadyForRoomEvent: &pb.ReadyForRoomEventRequest{RoomHandle: proto.Uint64(1 << 40)}}})
	if !errors.Is(err, ErrRequestFailed) || !strings.Contains(err.Error(), "ready_for_room_event") {
		t.Fatalf("err = %v, want ErrRequestFailed naming the request", err)
	}
	// Missing required field: caught before the library sees it.
	_, err = c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_Connect{Connect: &pb.ConnectRequest{Url: proto.String("ws://x")}}})
	if err == nil || !strings.Contains(err.Error(), "required") {
		t.Fatalf("err = %v, want a required-field error", err)
	}
	if _, err := c.Start(&pb.FfiRequest{Message: &pb.FfiRequest_NewAudioResampler{NewAudioResampler: &pb.NewAudioResamplerRequest{}}}, CallOptions{}); err == nil {
		t.Fatal("Start accepted a synchronous request")
	}
}

func TestAsyncConnectToClosedPortFails(t *testing.T) {
	c := client(t)
	call, err := c.Start(connectRequest("ws://"+testnet.ClosedPort(t), 0, 2*time.Second), CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev, err := call.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cb := ev.GetConnect()
	if cb.GetAsyncId() != call.ID() {
		t.Fatalf("callback async id %d, want %d", cb.GetAsyncId(), call.ID())
	}
	if !strings.Contains(strings.ToLower(cb.GetError()), "refused") {
		t.Fatalf("callback error %q, want connection refused", cb.GetError())
	}
}

func TestCancelledWaitLeavesNothingBehind(t *testing.T) {
	c := client(t)
	late := make(chan *pb.FfiEvent, 1)
	call, err := c.Start(connectRequest("ws://"+testnet.SilentListener(t), 0, 1500*time.Millisecond), CallOptions{Late: func(ev *pb.FfiEvent) { late <- ev }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	ev, err := call.Wait(ctx)
	if !errors.Is(err, context.Canceled) || ev != nil {
		t.Fatalf("Wait = %v, %v; want context.Canceled", ev, err)
	}
	select {
	case ev := <-late:
		if ev.GetConnect().GetAsyncId() != call.ID() {
			t.Fatalf("late completion for %d, want %d", ev.GetConnect().GetAsyncId(), call.ID())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the late completion never reached its LateFunc")
	}
	if n := c.Pending(); n != 0 {
		t.Fatalf("%d calls still registered after the late completion", n)
	}
}

func TestConcurrentAsyncRequestsCompleteOnce(t *testing.T) {
	c := client(t)
	addr := "ws://" + testnet.ClosedPort(t)
	const workers, each = 50, 20
	var seen sync.Map
	var completions atomic.Int64
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				call, err := c.Start(connectRequest(addr, 0, 2*time.Second), CallOptions{})
				if err != nil {
					errs <- err
					return
				}
				ev, err := call.Wait(ctx)
				if err != nil {
					errs <- err
					return
				}
				if got := ev.GetConnect().GetAsyncId(); got != call.ID() {
					errs <- fmt.Errorf("completion %d delivered to call %d", got, call.ID())
					return
				}
				if _, dup := seen.LoadOrStore(call.ID(), true); dup {
					errs <- fmt.Errorf("completion %d delivered twice", call.ID())
					return
				}
				completions.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := completions.Load(); got != workers*each {
		t.Fatalf("%d completions, want %d", got, workers*each)
	}
	if n := c.Pending(); n != 0 {
		t.Fatalf("%d waiters left", n)
	}
}

func TestOwnedHandlesFindsNestedHandles(t *testing.T) {
	ev := &pb.FfiEvent{Message: &pb.FfiEvent_Connect{Connect: &pb.ConnectCallback{
		AsyncId: proto.Uint64(1),
		Message: &pb.ConnectCallback_Result_{Result: &pb.ConnectCallback_Result{
			Room:             &pb.OwnedRoom{Handle: &pb.FfiOwnedHandle{Id: proto.Uint64(10)}},
			LocalParticipant: &pb.OwnedParticipant{Handle: &pb.FfiOwnedHandle{Id: proto.Uint64(11)}},
			Participants: []*pb.ConnectCallback_ParticipantWithTracks{{
				Participant:  &pb.OwnedParticipant{Handle: &pb.FfiOwnedHandle{Id: proto.Uint64(12)}},
				Publications: []*pb.OwnedTrackPublication{{Handle: &pb.FfiOwnedHandle{Id: proto.Uint64(13)}}},
			}},
		}},
	}}}
	ids := OwnedHandles(ev)
	slices.Sort(ids)
	got := fmt.Sprint(ids)
	if got != "[10 11 12 13]" {
		t.Fatalf("OwnedHandles = %s, want [10 11 12 13]", got)
	}
}

func TestRoomEventsReachSubscriberInOrder(t *testing.T) {
	c := client(t)
	const handle, n = 1 << 45, 2000
	var got []uint64
	done := make(chan struct{})
	sub, err := c.Subscribe(RoomEvents, handle, func(ev *pb.FfiEvent) {
		got = append(got, uint64(len(ev.GetRoomEvent().GetRoomSidChanged().GetSid())))
		if len(got) == n {
			close(done)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := c.Subscribe(RoomEvents, handle, func(*pb.FfiEvent) {}); err == nil {
		t.Fatal("second subscriber for one room accepted")
	}
	// Feed events through the C callback path, from C, as the library does.
	for i := range n {
		b, _ := proto.Marshal(&pb.FfiEvent{Message: &pb.FfiEvent_RoomEvent{RoomEvent: &pb.RoomEvent{
			RoomHandle: proto.Uint64(handle),
			Message:    &pb.RoomEvent_RoomSidChanged{RoomSidChanged: &pb.RoomSidChanged{Sid: proto.String(strings.Repeat("x", i))}},
		}}})
		nativeEmit(b, 1)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("only %d of %d events arrived", len(got), n)
	}
	for i, v := range got {
		if v != uint64(i) {
			t.Fatalf("event %d arrived at position %d", v, i)
		}
	}
}

func TestVersionMismatchIsRefused(t *testing.T) {
	c := client(t)
	saved := versionEnv
	versionEnv = "LIVEKIT_FFI_VERSION=0.0.1\n"
	defer func() { versionEnv = saved }()
	_, _, err := openLibrary(c.LibraryPath(), false)
	var verr *VersionError
	if !errors.As(err, &verr) || !errors.Is(err, ErrLibrary) {
		t.Fatalf("err = %v, want a VersionError", err)
	}
	for _, want := range []string{PinnedVersion(), c.LibraryVersion(), "build-ffi.sh", "LIVEKIT_LIB_PATH"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, _, err := openLibrary(c.LibraryPath(), true); err != nil {
		t.Fatalf("SkipVersionCheck still refused: %v", err)
	}
}

func TestMissingAndWrongLibraryErrors(t *testing.T) {
	t.Run("missing file", func(t *testing.T) {
		_, _, err := openLibrary("/nonexistent/liblivekit_ffi.so", false)
		var lerr *LoadError
		if !errors.As(err, &lerr) || !errors.Is(err, ErrLibrary) {
			t.Fatalf("err = %v, want a LoadError", err)
		}
		for _, want := range []string{"/nonexistent/liblivekit_ffi.so", "no such file", "scripts/build-ffi.sh", "LIVEKIT_LIB_PATH"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
	})
	t.Run("env path missing", func(t *testing.T) {
		t.Setenv("LIVEKIT_LIB_PATH", "/nonexistent/env/liblivekit_ffi.so")
		_, _, err := openLibrary("", false)
		if err == nil || !strings.Contains(err.Error(), "/nonexistent/env/liblivekit_ffi.so") {
			t.Fatalf("err = %v, want it to name LIVEKIT_LIB_PATH's file", err)
		}
	})
	t.Run("not a livekit library", func(t *testing.T) {
		other := findSystemLibrary(t)
		_, _, err := openLibrary(other, false)
		if err == nil || !strings.Contains(err.Error(), "not a livekit-ffi library") {
			t.Fatalf("err = %v, want 'not a livekit-ffi library'", err)
		}
	})
	t.Run("not a library at all", func(t *testing.T) {
		f := t.TempDir() + "/liblivekit_ffi.so"
		os.WriteFile(f, []byte("garbage"), 0o644)
		_, _, err := openLibrary(f, false)
		var lerr *LoadError
		if !errors.As(err, &lerr) || lerr.Path != f {
			t.Fatalf("err = %v, want a LoadError for %s", err, f)
		}
	})
}

// findSystemLibrary returns some shared library that is surely not livekit-ffi.
func findSystemLibrary(t *testing.T) string {
	for _, p := range []string{"/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/aarch64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libm.so.6", "/lib/aarch64-linux-gnu/libm.so.6"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("no system library found to load")
	return ""
}

// captureHandler records what reaches slog.
type captureHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r)
	h.mu.Unlock()
	return nil
}
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }
func (h *captureHandler) snapshot() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]slog.Record(nil), h.recs...)
}

// reload disposes the process client and loads a new one with opts; the default comes back
// when the test ends.
func reload(t *testing.T, opts Options) *Client {
	t.Helper()
	if err := client(t).Dispose(); err != nil {
		t.Fatal(err)
	}
	c, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Dispose()
		if _, err := Load(testOptions); err != nil {
			t.Fatal(err)
		}
	})
	return c
}

func TestLogsReachSlogFilteredByLevel(t *testing.T) {
	h := &captureHandler{}
	c := reload(t, Options{Logger: slog.New(h), LogLevel: slog.LevelWarn})
	// A refused request makes the library log an error ("handle not found" or similar).
	c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_ReadyForRoomEvent{ReadyForRoomEvent: &pb.ReadyForRoomEventRequest{RoomHandle: proto.Uint64(1 << 41)}}})
	// A failed connect logs at every level, debug included.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Do(ctx, connectRequest("ws://"+testnet.ClosedPort(t), 0, time.Second), CallOptions{}); err != nil {
		t.Fatal(err)
	}
	// The library flushes logs at least once a second.
	deadline := time.Now().Add(10 * time.Second)
	for len(h.snapshot()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	recs := h.snapshot()
	if len(recs) == 0 {
		t.Fatal("no library log record reached the handler")
	}
	for _, r := range recs {
		if r.Level < slog.LevelWarn {
			t.Fatalf("record below the filter reached the handler: %v %q", r.Level, r.Message)
		}
	}
}

func TestPanicFailsPendingWaitersAndIsExposed(t *testing.T) {
	var hook atomic.Pointer[PanicError]
	hooked := make(chan struct{})
	c := reload(t, Options{Logger: slog.New(slog.DiscardHandler), OnPanic: func(p *PanicError) { hook.Store(p); close(hooked) }})
	call, err := c.Start(connectRequest("ws://"+testnet.SilentListener(t), 0, 20*time.Second), CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cf := newCaptureFlight(t, c, 10)
	if _, err := cf.capture(480); err != nil {
		t.Fatal(err)
	}
	if err := cf.send(48000 / 2); err != nil { // parked for about 0.5 s
		t.Fatal(err)
	}
	// A Panic event as the library sends it (for example when ReadyForRoomEventRequest does
	// not come in time), through the real C callback path. The library's own panics in
	// requests abort the process in this build, so they cannot be provoked here.
	ev, _ := proto.Marshal(&pb.FfiEvent{Message: &pb.FfiEvent_Panic{Panic: &pb.Panic{Message: proto.String("room task died")}}})
	nativeEmit(ev, 1)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = call.Wait(ctx)
	var perr *PanicError
	if !errors.As(err, &perr) || perr.Message != "room task died" {
		t.Fatalf("pending call got %v, want a PanicError with the library's message", err)
	}
	if !errors.As(c.Err(), &perr) {
		t.Fatalf("Err() = %v, want the PanicError", c.Err())
	}
	if _, err := cf.f.Wait(); !errors.As(err, &perr) {
		t.Fatalf("pending flight call got %v, want the PanicError", err)
	}
	if err := cf.send(480); !errors.As(err, &perr) {
		t.Fatalf("flight send after panic: %v, want the PanicError", err)
	}
	if _, err := c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_NewAudioResampler{NewAudioResampler: &pb.NewAudioResamplerRequest{}}}); !errors.As(err, &perr) {
		t.Fatalf("request after panic: %v, want the PanicError", err)
	}
	select {
	case <-hooked:
		if hook.Load().Message != perr.Message {
			t.Fatalf("OnPanic got %q, Err has %q", hook.Load().Message, perr.Message)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnPanic was not called")
	}
}

func TestDisposeFailsPendingAndReleasesGoroutines(t *testing.T) {
	c := reload(t, testOptions)
	// Cleanups run last-registered first: this check runs after the listener below is closed
	// and before the default client is loaded again.
	t.Cleanup(func() {
		if err := leakcheck.Wait(10 * time.Second); err != nil {
			t.Error(err)
		}
	})
	call, err := c.Start(connectRequest("ws://"+testnet.SilentListener(t), 0, 20*time.Second), CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := c.Subscribe(RoomEvents, 1<<44, func(*pb.FfiEvent) {})
	if err != nil {
		t.Fatal(err)
	}
	_ = sub
	if err := c.Dispose(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := call.Wait(ctx); !errors.Is(err, ErrDisposed) {
		t.Fatalf("pending call after Dispose: %v, want ErrDisposed", err)
	}
	if _, err := c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_NewAudioResampler{NewAudioResampler: &pb.NewAudioResamplerRequest{}}}); !errors.Is(err, ErrDisposed) {
		t.Fatalf("request after Dispose: %v, want ErrDisposed", err)
	}
	if err := c.Dispose(); err != nil {
		t.Fatalf("second Dispose: %v", err)
	}
}

func BenchmarkRequestRoundTrip(b *testing.B) {
	c := client(b)
	req := &pb.FfiRequest{Message: &pb.FfiRequest_NewAudioResampler{NewAudioResampler: &pb.NewAudioResamplerRequest{}}}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Request(req)
		if err != nil {
			b.Fatal(err)
		}
		c.DropHandle(resp.GetNewAudioResampler().GetResampler().GetHandle().GetId())
	}
}

func BenchmarkEventPump(b *testing.B) {
	c := client(b)
	const handle = 1 << 46
	var got atomic.Int64
	done := make(chan struct{}, 1)
	var want atomic.Int64
	sub, err := c.Subscribe(RoomEvents, handle, func(*pb.FfiEvent) {
		if got.Add(1) == want.Load() {
			done <- struct{}{}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	ev, _ := proto.Marshal(&pb.FfiEvent{Message: &pb.FfiEvent_RoomEvent{RoomEvent: &pb.RoomEvent{
		RoomHandle: proto.Uint64(handle),
		Message: &pb.RoomEvent_TokenRefreshed{TokenRefreshed: &pb.TokenRefreshed{
			Token: proto.String(strings.Repeat("t", 400))}},
	}}})
	want.Store(int64(b.N))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	nativeEmit(ev, b.N)
	<-done
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkEventPumpLatency is one event at a time from the C callback to a goroutine waiting
// for what its subscriber forwards: "dispatcher" is the path of most events (callback, copy,
// queue, dispatcher, decode, subscriber, the reader's wake-up), "raw" the path of stream frames
// a raw subscriber takes in place (callback, subscriber, the reader's wake-up). It is the hop's
// latency, where BenchmarkEventPump is its throughput.
func BenchmarkEventPumpLatency(b *testing.B) {
	c := client(b)
	const handle = 1 << 46
	ev, _ := proto.Marshal(&pb.FfiEvent{Message: &pb.FfiEvent_AudioStreamEvent{AudioStreamEvent: &pb.AudioStreamEvent{
		StreamHandle: proto.Uint64(handle),
		Message: &pb.AudioStreamEvent_FrameReceived{FrameReceived: &pb.AudioFrameReceived{Frame: &pb.OwnedAudioFrameBuffer{
			Handle: &pb.FfiOwnedHandle{Id: proto.Uint64(0)},
			Info: &pb.AudioFrameBufferInfo{DataPtr: proto.Uint64(0), NumChannels: proto.Uint32(1),
				SampleRate: proto.Uint32(48000), SamplesPerChannel: proto.Uint32(480)}}}}}}})
	got := make(chan struct{}, 1)
	run := func(b *testing.B, sub *Subscription, err error) {
		if err != nil {
			b.Fatal(err)
		}
		defer sub.Close()
		b.ReportAllocs()
		for b.Loop() {
			go nativeEmit(ev, 1) // as from a library thread: the reader is not the caller
			<-got
		}
	}
	b.Run("dispatcher", func(b *testing.B) {
		sub, err := c.Subscribe(AudioStreamEvents, handle, func(*pb.FfiEvent) { got <- struct{}{} })
		run(b, sub, err)
	})
	b.Run("raw", func(b *testing.B) {
		sub, err := c.SubscribeRaw(AudioStreamEvents, handle, func([]byte) bool { got <- struct{}{}; return true }, func(*pb.FfiEvent) {})
		run(b, sub, err)
	})
}

func TestLogFilterKeepsOrderAndLevels(t *testing.T) {
	h := &captureHandler{}
	reload(t, Options{Logger: slog.New(h), LogLevel: slog.LevelWarn})
	var recs []*pb.LogRecord
	for i, lvl := range []pb.LogLevel{pb.LogLevel_LOG_TRACE, pb.LogLevel_LOG_ERROR, pb.LogLevel_LOG_DEBUG, pb.LogLevel_LOG_WARN, pb.LogLevel_LOG_INFO, pb.LogLevel_LOG_ERROR} {
		recs = append(recs, &pb.LogRecord{Level: lvl.Enum(), Target: proto.String("test"), Message: proto.String(fmt.Sprintf("record %d", i))})
	}
	ev, _ := proto.Marshal(&pb.FfiEvent{Message: &pb.FfiEvent_Logs{Logs: &pb.LogBatch{Records: recs}}})
	nativeEmit(ev, 1)
	want := []string{"record 1", "record 3", "record 5"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []string
		for _, r := range h.snapshot() {
			if strings.HasPrefix(r.Message, "record ") {
				got = append(got, r.Message)
			}
		}
		if slices.Equal(got, want) {
			return
		}
		if len(got) > len(want) || time.Now().After(deadline) {
			t.Fatalf("handler got %q, want %q", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLogRecordsNeverCarryTokens(t *testing.T) {
	h := &captureHandler{}
	reload(t, Options{Logger: slog.New(h), LogLevel: slog.LevelError})
	const tok = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	msg := "error while connecting to a room: 401 Unauthorized - invalid token: " + tok + ", error: token is expired"
	ev, _ := proto.Marshal(&pb.FfiEvent{Message: &pb.FfiEvent_Logs{Logs: &pb.LogBatch{Records: []*pb.LogRecord{{
		Level: pb.LogLevel_LOG_ERROR.Enum(), Target: proto.String("test"), Message: proto.String(msg)}}}}})
	nativeEmit(ev, 1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, r := range h.snapshot() {
			if strings.Contains(r.Message, "invalid token") {
				if strings.Contains(r.Message, "c2lnbmF0dXJl") || strings.Contains(r.Message, "eyJzdWIi") {
					t.Fatalf("log record carries the token: %q", r.Message)
				}
				if !strings.Contains(r.Message, "token is expired") {
					t.Fatalf("redaction ate the rest of the message: %q", r.Message)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the record never reached the handler")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func emit(t testing.TB, ev *pb.FfiEvent) {
	t.Helper()
	b, err := proto.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	nativeEmit(b, 1)
}

func TestEventsRouteByKindAndHandle(t *testing.T) {
	c := client(t)
	const handle = 1 << 43
	audio := make(chan *pb.FfiEvent, 4)
	video := make(chan *pb.FfiEvent, 4)
	sa, err := c.Subscribe(AudioStreamEvents, handle, func(ev *pb.FfiEvent) { audio <- ev })
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	sv, err := c.Subscribe(VideoStreamEvents, handle, func(ev *pb.FfiEvent) { video <- ev })
	if err != nil {
		t.Fatal(err)
	}
	eos := func(h uint64) *pb.FfiEvent {
		return &pb.FfiEvent{Message: &pb.FfiEvent_AudioStreamEvent{AudioStreamEvent: &pb.AudioStreamEvent{
			StreamHandle: proto.Uint64(h), Message: &pb.AudioStreamEvent_Eos{Eos: &pb.AudioStreamEOS{}}}}}
	}
	emit(t, eos(handle+1)) // another stream: nobody listens
	emit(t, &pb.FfiEvent{Message: &pb.FfiEvent_VideoStreamEvent{VideoStreamEvent: &pb.VideoStreamEvent{
		StreamHandle: proto.Uint64(handle), Message: &pb.VideoStreamEvent_Eos{Eos: &pb.VideoStreamEOS{}}}}})
	emit(t, eos(handle))
	select {
	case ev := <-audio:
		if ev.GetAudioStreamEvent().GetStreamHandle() != handle {
			t.Fatalf("audio subscriber got stream %d", ev.GetAudioStreamEvent().GetStreamHandle())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("audio event not delivered")
	}
	select {
	case ev := <-video:
		if ev.GetVideoStreamEvent() == nil {
			t.Fatalf("video subscriber got %v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("video event not delivered")
	}
	sv.Close()
	emit(t, &pb.FfiEvent{Message: &pb.FfiEvent_VideoStreamEvent{VideoStreamEvent: &pb.VideoStreamEvent{
		StreamHandle: proto.Uint64(handle), Message: &pb.VideoStreamEvent_Eos{Eos: &pb.VideoStreamEOS{}}}}})
	emit(t, eos(handle)) // the audio route still works, and arrives after the video event above
	<-audio
	select {
	case ev := <-video:
		t.Fatalf("closed subscription still got %v", ev)
	default:
	}
	if len(audio) != 0 {
		t.Fatal("the unsubscribed stream's event reached the wrong subscriber")
	}
}

func TestSubscriberPanicDoesNotStopThePump(t *testing.T) {
	c := client(t)
	const handle = 1 << 42
	s1, err := c.Subscribe(RPCInvocations, handle, func(*pb.FfiEvent) { panic("subscriber bug") })
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	got := make(chan struct{}, 1)
	s2, err := c.Subscribe(RPCInvocations, handle+1, func(*pb.FfiEvent) { got <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	inv := func(h uint64) *pb.FfiEvent {
		return &pb.FfiEvent{Message: &pb.FfiEvent_RpcMethodInvocation{RpcMethodInvocation: &pb.RpcMethodInvocationEvent{
			LocalParticipantHandle: proto.Uint64(h), InvocationId: proto.Uint64(1), Method: proto.String("m"),
			RequestId: proto.String("r"), CallerIdentity: proto.String("c"), Payload: proto.String(""), ResponseTimeoutMs: proto.Uint32(1)}}}
	}
	emit(t, inv(handle))
	emit(t, inv(handle+1))
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the pump stopped after a subscriber panicked")
	}
}

func TestFailOwnerEndsItsCallsOnly(t *testing.T) {
	c := client(t)
	addr := "ws://" + testnet.SilentListener(t)
	mine, err := c.Start(connectRequest(addr, 0, 3*time.Second), CallOptions{Owner: 77})
	if err != nil {
		t.Fatal(err)
	}
	abandoned, err := c.Start(connectRequest(addr, 0, 3*time.Second), CallOptions{Owner: 77})
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.Start(connectRequest(addr, 0, 3*time.Second), CallOptions{Owner: 78})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := abandoned.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned wait: %v", err)
	}
	gone := errors.New("owner went away")
	if n := c.FailOwner(77, gone); n != 2 {
		t.Fatalf("FailOwner ended %d calls, want 2 (one waited for, one abandoned)", n)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if _, err := mine.Wait(wctx); !errors.Is(err, gone) {
		t.Fatalf("owned call: %v, want the owner's error", err)
	}
	if _, err := other.Wait(wctx); err != nil {
		t.Fatalf("another owner's call: %v, want its real completion", err)
	}
	if n := c.Pending(); n != 0 {
		t.Fatalf("%d calls still registered", n)
	}
}

func TestDoWithEndedContextSendsNothing(t *testing.T) {
	c := client(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := c.nextID.Load()
	if _, err := c.Do(ctx, connectRequest("ws://"+testnet.ClosedPort(t), 0, time.Second), CallOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Do = %v, want context.Canceled", err)
	}
	if c.nextID.Load() != before {
		t.Fatal("a request was sent with an ended context")
	}
}

func TestOnCompleteRunsBeforeLaterEvents(t *testing.T) {
	c := client(t)
	const handle = 1 << 41
	var completed atomic.Bool
	call, err := c.Start(connectRequest("ws://"+testnet.SilentListener(t), 0, 2*time.Second), CallOptions{
		OnComplete: func(*pb.FfiEvent) { completed.Store(true) },
	})
	if err != nil {
		t.Fatal(err)
	}
	sawCompleted := make(chan bool, 1)
	sub, err := c.Subscribe(RoomEvents, handle, func(*pb.FfiEvent) { sawCompleted <- completed.Load() })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	// The completion, then a room event, as the library sends a publish's callback before
	// the LocalTrackPublished that follows it.
	emit(t, &pb.FfiEvent{Message: &pb.FfiEvent_Connect{Connect: &pb.ConnectCallback{
		AsyncId: proto.Uint64(call.ID()), Message: &pb.ConnectCallback_Error{Error: "synthetic"}}}})
	emit(t, &pb.FfiEvent{Message: &pb.FfiEvent_RoomEvent{RoomEvent: &pb.RoomEvent{RoomHandle: proto.Uint64(handle),
		Message: &pb.RoomEvent_RoomSidChanged{RoomSidChanged: &pb.RoomSidChanged{Sid: proto.String("x")}}}}})
	select {
	case ok := <-sawCompleted:
		if !ok {
			t.Fatal("the room event was routed before the completion's OnComplete ran")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("room event not delivered")
	}
	ev, err := call.Wait(context.Background())
	if err != nil || ev.GetConnect().GetError() != "synthetic" {
		t.Fatalf("Wait = %v, %v", ev, err)
	}
}

func TestLoadRefusesDifferentOptions(t *testing.T) {
	c := client(t)
	if got, err := Load(Options{}); err != nil || got != c {
		t.Fatalf("Load(zero options) = %v, %v; want the loaded client", got, err)
	}
	if got, err := Load(testOptions); err != nil || got != c {
		t.Fatalf("Load(same options) = %v, %v", got, err)
	}
	for name, o := range map[string]Options{
		"logger":  {Logger: slog.New(slog.DiscardHandler)},
		"level":   {LogLevel: slog.LevelDebug},
		"path":    {LibraryPath: "/elsewhere/liblivekit_ffi.so"},
		"onpanic": {OnPanic: func(*PanicError) {}},
	} {
		if _, err := Load(o); err == nil || !strings.Contains(err.Error(), "already loaded") {
			t.Errorf("%s: Load = %v, want an 'already loaded' error", name, err)
		}
	}
}

func TestLibraryWithoutVersionCallIsRefused(t *testing.T) {
	c := client(t)
	saved := libraryVersion
	libraryVersion = func() string { return "" }
	defer func() { libraryVersion = saved }()
	_, _, err := openLibrary(c.LibraryPath(), false)
	var verr *VersionError
	if !errors.As(err, &verr) || !strings.Contains(err.Error(), "cannot report") {
		t.Fatalf("err = %v, want a VersionError saying the version is unknown", err)
	}
	if _, _, err := openLibrary(c.LibraryPath(), true); err != nil {
		t.Fatalf("SkipVersionCheck still refused: %v", err)
	}
}

func TestLevelOffForwardsNothing(t *testing.T) {
	h := &captureHandler{}
	c := reload(t, Options{Logger: slog.New(h), LogLevel: LevelOff})
	// A failing connect makes the library log at error level.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev, err := c.Do(ctx, connectRequest("ws://"+testnet.ClosedPort(t), 0, time.Second), CallOptions{})
	if err != nil || ev.GetConnect().GetError() == "" {
		t.Fatalf("connect to a closed port: %v %v", ev, err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(h.snapshot()); n != 0 {
		t.Fatalf("%d records reached the handler with logging off", n)
	}
}

// A capture's completion goes from the callback straight to its waiter, decoded there; an
// abandoned one still reaches its Late func through the dispatcher.
func TestDirectCompletionsReachTheirWaiter(t *testing.T) {
	c := client(t)
	addr := "ws://" + testnet.SilentListener(t)
	// Any registered call will do as the waiter; the completion is emitted by hand.
	call, err := c.Start(connectRequest(addr, 0, 2*time.Second), CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key := waitKey{kind: eventOneof.Fields().ByName("capture_audio_frame").Number(), id: call.ID()}
	w := &waiter{done: make(chan result, 1)}
	c.mu.Lock()
	c.waiters[key] = w
	c.mu.Unlock()
	emit(t, &pb.FfiEvent{Message: &pb.FfiEvent_CaptureAudioFrame{CaptureAudioFrame: &pb.CaptureAudioFrameCallback{
		AsyncId: proto.Uint64(call.ID()), Error: proto.String("queue full")}}})
	select {
	case r := <-w.done:
		if r.raw == nil {
			t.Fatal("the completion did not take the direct path")
		}
		ev, err := r.event()
		if err != nil || ev.GetCaptureAudioFrame().GetAsyncId() != call.ID() || ev.GetCaptureAudioFrame().GetError() != "queue full" {
			t.Fatalf("decoded %v, %v", ev, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the direct completion never arrived")
	}
	// Abandoned: the same kind goes through the dispatcher to Late.
	late := make(chan *pb.FfiEvent, 1)
	w2 := &waiter{done: make(chan result, 1), abandoned: true, opts: CallOptions{Late: func(ev *pb.FfiEvent) { late <- ev }}}
	key.id++
	c.mu.Lock()
	c.waiters[key] = w2
	c.mu.Unlock()
	emit(t, &pb.FfiEvent{Message: &pb.FfiEvent_CaptureAudioFrame{CaptureAudioFrame: &pb.CaptureAudioFrameCallback{AsyncId: proto.Uint64(key.id)}}})
	select {
	case ev := <-late:
		if ev.GetCaptureAudioFrame().GetAsyncId() != key.id {
			t.Fatalf("late got %v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the abandoned completion never reached Late")
	}
	if _, err := call.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Without an explicit choice the sources are tried in order: one with nothing to offer, or
// whose file is absent, is skipped, and the first that loads is version-checked and used.
func TestSourcesAreTriedInOrder(t *testing.T) {
	c := client(t)
	t.Setenv("LIVEKIT_LIB_PATH", "")
	saved := sources
	defer func() { sources = saved }()
	var asked []string
	src := func(name, path string) source {
		return source{where: name, path: func() string { asked = append(asked, name); return path }}
	}
	sources = []source{src("empty", ""), src("absent", t.TempDir()+"/liblivekit_ffi.so"), src("real", c.LibraryPath()), src("after", "/never")}
	path, version, err := openLibrary("", false)
	if err != nil || path != c.LibraryPath() || version != PinnedVersion() {
		t.Fatalf("openLibrary = %q, %q, %v; want %q, %q", path, version, err, c.LibraryPath(), PinnedVersion())
	}
	if !slices.Equal(asked, []string{"empty", "absent", "real"}) {
		t.Fatalf("sources asked: %v, want empty, absent, real and no further", asked)
	}
}
