package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRelTime(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	cases := []struct {
		t    *time.Time
		want string
	}{
		{at(9*time.Minute + 58*time.Second), "in 9m58s (2026-01-02T15:09:58Z)"},
		{at(-2 * time.Second), "2s ago (2026-01-02T14:59:58Z)"},
		{at(300 * time.Millisecond), "now (2026-01-02T15:00:00Z)"},
		{nil, "none (no exp claim)"},
	}
	for _, tc := range cases {
		if got := relTime(tc.t, now, "exp"); got != tc.want {
			t.Errorf("relTime = %q, want %q", got, tc.want)
		}
	}
}

func TestFmtDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		412*time.Millisecond + 400*time.Microsecond: "412ms",
		2*time.Second + 345*time.Millisecond:        "2.35s",
		9*time.Minute + 58*time.Second + 400e6:      "9m58s",
	} {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestScrubWriter(t *testing.T) {
	var buf bytes.Buffer
	s := &secrets{}
	w := scrubWriter{w: &buf, s: s}
	s.add("eyJhbGciOiJIUzI1NiJ9.payload.signature", "[token]")
	s.add("short", "[x]") // too short to scrub safely: ignored
	io.WriteString(w, "auth eyJhbGciOiJIUzI1NiJ9.payload.signature failed; short\n")
	if got, want := buf.String(), "auth [token] failed; short\n"; got != want {
		t.Errorf("scrubbed %q, want %q", got, want)
	}
	// With token masking on, a token nobody registered (say, the trimmed form a server
	// quotes) is redacted by its shape.
	buf.Reset()
	s.maskTokens()
	unknown := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	io.WriteString(w, "401 invalid token: "+unknown+"\n")
	if strings.Contains(buf.String(), "c2lnbmF0dXJlLXNpZ25hdHVyZQ") || !strings.Contains(buf.String(), "eyJhbGci") {
		t.Errorf("scrubbed %q: want the token redacted to its prefix", buf.String())
	}
}

// Source selection, in process: which flags and variables pick which source.
func TestPickSource(t *testing.T) {
	env := map[string]string{envAPIKey: "k", envAPISecret: "s", envURL: "ws://env"}
	getenv := func(k string) string { return env[k] }
	cases := []struct {
		args []string
		want sourceKind
	}{
		{nil, srcMinter},
		{[]string{"--endpoint", "http://127.0.0.1/t"}, srcEndpoint},
		{[]string{"--dev"}, srcDev},
		{[]string{"--token", "t"}, srcLiteral},
		{[]string{"--sandbox-id", "sb"}, srcSandbox},
		{[]string{"--api-secret", "s2"}, srcMinter},
	}
	for _, tc := range cases {
		c, err := parseFlags(tc.args, getenv, io.Discard)
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if c.source != tc.want {
			t.Errorf("%v: source %s, want %s", tc.args, c.source, tc.want)
		}
	}
	c, err := parseFlags([]string{"--dev", "--watch", "5s"}, getenv, io.Discard)
	if err != nil || !c.join {
		t.Errorf("--watch should imply --join (err %v)", err)
	}
	_, err = parseFlags([]string{"--endpoint", "http://127.0.0.1/t", "--url", "ws://x"}, getenv, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--url") {
		t.Errorf("--url with --endpoint: err %v, want a usage error naming --url", err)
	}
}

// The spinner (human mode on a terminal) redraws from its own goroutine
// while events are printed: run both at once under -race.
func TestSpinnerWithConcurrentOutput(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	w := writerFunc(func(b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(b)
	})
	p := newPrinter(false, w, w, true)
	var n atomic.Int64
	stop := p.progress(func() string { return fmt.Sprintf("waiting (%d)", n.Load()) })
	for i := range 5 {
		n.Add(1)
		p.refreshed(refreshedEvent{Identity: "me", ElapsedMS: int64(i)})
		time.Sleep(30 * time.Millisecond) // let the spinner redraw in between
	}
	stop()
	stop() // idempotent
	p.disconnected("client_initiated")

	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !strings.Contains(out, "waiting (") {
		t.Errorf("spinner never drew:\n%q", out)
	}
	if got := strings.Count(out, "token refreshed by the server"); got != 5 {
		t.Errorf("%d refresh lines, want 5", got)
	}
	// After stop, the last thing on the line is the disconnect, not a spinner.
	if !strings.HasSuffix(out, "disconnected (client_initiated)\n") {
		t.Errorf("output does not end with the disconnect line:\n%q", out)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
