package tokensource

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// step is one scripted answer of a flaky server.
type step struct {
	status     int
	retryAfter string
	hangup     bool   // close the connection without answering
	echo       string // added to the error body
}

// flakyServer answers with steps in order, then with 200 okBody.
func flakyServer(t *testing.T, steps ...step) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every attempt carries the whole body again.
		if b, _ := io.ReadAll(r.Body); string(b) != `{}` {
			t.Errorf("attempt %d sent body %q", calls.Load()+1, b)
		}
		n := int(calls.Add(1)) - 1
		if n >= len(steps) {
			io.WriteString(w, okBody)
			return
		}
		s := steps[n]
		if s.hangup {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		w.WriteHeader(s.status)
		io.WriteString(w, `{"error":"busy `+s.echo+`"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// sleepRecorder replaces real waits between retries.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
	hook  func(n int) // called with the 1-based sleep number
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	n := len(s.waits)
	s.mu.Unlock()
	if s.hook != nil {
		s.hook(n)
	}
	return ctx.Err()
}

func newRetryEndpoint(t *testing.T, url string, opts ...EndpointOption) (*Endpoint, *sleepRecorder) {
	t.Helper()
	e, err := NewEndpoint(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	rec := &sleepRecorder{}
	e.sleep = rec.sleep
	return e, rec
}

func TestRetryTransient(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		calls int32
	}{
		{"503 then 200", []step{{status: 503}}, 2},
		{"429 then 200", []step{{status: 429}}, 2},
		{"502 then 200", []step{{status: 502}}, 2},
		{"504, 503 then 200", []step{{status: 504}, {status: 503}}, 3},
		{"transport error then 200", []step{{hangup: true}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := flakyServer(t, tt.steps...)
			e, rec := newRetryEndpoint(t, srv.URL)
			r, err := e.Fetch(context.Background(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if r.ParticipantToken != "tok" {
				t.Errorf("got %v", r)
			}
			if calls.Load() != tt.calls || len(rec.waits) != int(tt.calls)-1 {
				t.Errorf("%d calls, %d waits; want %d calls", calls.Load(), len(rec.waits), tt.calls)
			}
		})
	}
}

func TestRetryNotForPermanentErrors(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 409, 500, 501} {
		srv, calls := flakyServer(t, step{status: status})
		e, rec := newRetryEndpoint(t, srv.URL)
		_, err := e.Fetch(context.Background(), Options{})
		var he *HTTPError
		if !errors.As(err, &he) || he.StatusCode != status {
			t.Errorf("%d: err = %v", status, err)
		}
		if calls.Load() != 1 || len(rec.waits) != 0 {
			t.Errorf("%d was retried: %d calls", status, calls.Load())
		}
	}
	// A malformed 2xx body is not transient either.
	srv := newRecorder(t, 200, `{`)
	e, _ := newRetryEndpoint(t, srv.URL)
	if _, err := e.Fetch(context.Background(), Options{}); err == nil || srv.calls.Load() != 1 {
		t.Errorf("malformed body: err %v after %d calls", err, srv.calls.Load())
	}
}

func TestRetryBounded(t *testing.T) {
	steps := make([]step, 100)
	for i := range steps {
		steps[i] = step{status: 503}
	}
	for _, max := range []int{0, 1, 3} {
		srv, calls := flakyServer(t, steps...)
		e, rec := newRetryEndpoint(t, srv.URL, WithRetry(max, time.Millisecond))
		_, err := e.Fetch(context.Background(), Options{})
		var he *HTTPError
		if !errors.As(err, &he) || he.StatusCode != 503 {
			t.Errorf("max %d: err = %v", max, err)
		}
		if int(calls.Load()) != max+1 || len(rec.waits) != max {
			t.Errorf("max %d: %d calls, %d waits", max, calls.Load(), len(rec.waits))
		}
	}
	// The default is bounded too.
	srv, calls := flakyServer(t, steps...)
	e, _ := newRetryEndpoint(t, srv.URL)
	_, _ = e.Fetch(context.Background(), Options{})
	if int(calls.Load()) != DefaultMaxRetries+1 {
		t.Errorf("default: %d calls, want %d", calls.Load(), DefaultMaxRetries+1)
	}
}

func TestRetryAfterHonored(t *testing.T) {
	date := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name     string
		value    string
		min, max time.Duration
	}{
		{"zero seconds", "0", 0, 0},
		{"seconds", "1", time.Second, time.Second},
		{"seconds 7", "7", 7 * time.Second, 7 * time.Second},
		{"HTTP date", date, 25 * time.Second, 31 * time.Second},
		{"garbage falls back to backoff", "soon", time.Millisecond * 50, time.Millisecond * 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := flakyServer(t, step{status: 429, retryAfter: tt.value})
			e, rec := newRetryEndpoint(t, srv.URL, WithRetry(2, 100*time.Millisecond))
			if _, err := e.Fetch(context.Background(), Options{}); err != nil {
				t.Fatal(err)
			}
			if calls.Load() != 2 || len(rec.waits) != 1 {
				t.Fatalf("%d calls %d waits", calls.Load(), len(rec.waits))
			}
			if w := rec.waits[0]; w < tt.min || w > tt.max {
				t.Errorf("waited %v, want in [%v, %v]", w, tt.min, tt.max)
			}
		})
	}
}

func TestRetryAfterBeyondDeadlineFailsNow(t *testing.T) {
	srv, calls := flakyServer(t, step{status: 503, retryAfter: "3600"})
	e, rec := newRetryEndpoint(t, srv.URL, WithTimeout(10*time.Second))
	_, err := e.Fetch(context.Background(), Options{})
	var he *HTTPError
	if !errors.As(err, &he) || he.RetryAfter != time.Hour {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 1 || len(rec.waits) != 0 {
		t.Errorf("%d calls, %d waits: should not wait past the deadline", calls.Load(), len(rec.waits))
	}
}

func TestRetryAfterAboveTheCapFailsNow(t *testing.T) {
	// No timeout and no deadline: before the cap, a day-long Retry-After
	// parked Fetch for a day.
	srv, calls := flakyServer(t, step{status: 503, retryAfter: "86400"})
	e, rec := newRetryEndpoint(t, srv.URL, WithTimeout(0))
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		_, err = e.Fetch(context.Background(), Options{})
	}()
	waitOrFail(t, done, "Fetch with Retry-After: 86400")
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 503 || he.RetryAfter != 24*time.Hour {
		t.Fatalf("err = %v, want the 503 with its Retry-After", err)
	}
	if calls.Load() != 1 || len(rec.waits) != 0 {
		t.Errorf("%d calls, %d waits (%v): a Retry-After above the cap must not be waited for", calls.Load(), len(rec.waits), rec.waits)
	}
}

func TestRetryAfterCapBoundary(t *testing.T) {
	tests := []struct {
		value string
		wait  bool
	}{
		{"2", true},  // at the cap: waited for
		{"3", false}, // above it: fail now
	}
	for _, tt := range tests {
		srv, calls := flakyServer(t, step{status: 429, retryAfter: tt.value})
		e, rec := newRetryEndpoint(t, srv.URL, WithTimeout(0))
		e.maxRetryAfter = 2 * time.Second
		_, err := e.Fetch(context.Background(), Options{})
		switch {
		case tt.wait && (err != nil || len(rec.waits) != 1 || rec.waits[0] != 2*time.Second || calls.Load() != 2):
			t.Errorf("Retry-After %s: err %v, waits %v, %d calls; want one 2s wait and success", tt.value, err, rec.waits, calls.Load())
		case !tt.wait && (err == nil || len(rec.waits) != 0 || calls.Load() != 1):
			t.Errorf("Retry-After %s: err %v, waits %v, %d calls; want the 429 at once", tt.value, err, rec.waits, calls.Load())
		}
	}
	if MaxRetryAfter != time.Minute {
		t.Errorf("MaxRetryAfter = %v; the documentation says 60 s", MaxRetryAfter)
	}
}

func TestRetryBackoffGrows(t *testing.T) {
	steps := []step{{status: 503}, {status: 503}, {status: 503}}
	srv, _ := flakyServer(t, steps...)
	e, rec := newRetryEndpoint(t, srv.URL, WithRetry(3, 100*time.Millisecond))
	if _, err := e.Fetch(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	for i, w := range rec.waits {
		full := 100 * time.Millisecond << i
		if w < full/2 || w > full {
			t.Errorf("wait %d = %v, want within [%v, %v]", i, w, full/2, full)
		}
	}
	if got := backoff(time.Second, 30); got > maxBackoff || got < maxBackoff/2 {
		t.Errorf("backoff is not capped: %v", got)
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	steps := make([]step, 10)
	for i := range steps {
		steps[i] = step{status: 503}
	}
	srv, calls := flakyServer(t, steps...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, rec := newRetryEndpoint(t, srv.URL, WithRetry(9, time.Millisecond))
	rec.hook = func(n int) { cancel() } // the caller gives up during the first wait
	_, err := e.Fetch(ctx, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if calls.Load() != 1 {
		t.Errorf("%d calls after cancellation, want 1", calls.Load())
	}

	// The real sleep returns as soon as the context ends.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := sleepCtx(ctx2, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepCtx: %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{" 5 ", 5 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"99999999999", 24 * time.Hour, true},
		{"Thu, 01 Jan 2026 00:00:10 GMT", 10 * time.Second, true},
		{"Wed, 31 Dec 2025 23:59:00 GMT", 0, true}, // in the past: retry now
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRetryLoggingNeverShowsTokens(t *testing.T) {
	tok := makeToken(t, map[string]any{"sub": "alice"})
	srv, _ := flakyServer(t, step{status: 503, echo: tok})
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e, _ := newRetryEndpoint(t, srv.URL, WithLogger(logger))
	if _, err := e.Fetch(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "retrying") || !strings.Contains(out, "503") {
		t.Errorf("retry not logged: %s", out)
	}
	if strings.Contains(out, testSig) || strings.Contains(out, tok) {
		t.Errorf("log leaks the token: %s", out)
	}
}
