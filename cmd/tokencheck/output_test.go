package main

import (
	"bytes"
	"io"
	"strings"
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
