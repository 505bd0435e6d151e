package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExitCodeMapping(t *testing.T) {
	tests := []struct {
		code int
		sig  os.Signal
		want int
	}{
		{exitOK, nil, exitOK},
		{exitJoin, nil, exitJoin},
		{exitOK, os.Interrupt, 130},           // a watch ended cleanly by Ctrl-C
		{exitToken, os.Interrupt, 130},        // a fetch cut short
		{exitNoRefresh, syscall.SIGTERM, 143}, // no refresh because it was stopped
		{exitInterrupted, syscall.SIGTERM, 143},
		{exitUsage, os.Interrupt, exitUsage}, // nothing ran
	}
	for _, tt := range tests {
		if got := exitCode(tt.code, tt.sig); got != tt.want {
			t.Errorf("exitCode(%d, %v) = %d, want %d", tt.code, tt.sig, got, tt.want)
		}
	}
}

// startTC starts the binary and returns it with its output buffers.
func startTC(t *testing.T, env []string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(baseEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stdout, &stderr
}

func waitCode(t *testing.T, cmd *exec.Cmd, stdout, stderr *bytes.Buffer) result {
	t.Helper()
	err := cmd.Wait()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatal(err)
	}
	t.Logf("exit %d\nstdout:\n%sstderr:\n%s", r.code, r.stdout, r.stderr)
	return r
}

// A signal during a fetch from an endpoint that never answers: the run is
// cut short and reports it with 128 + the signal number.
func TestExitCodeWhenInterrupted(t *testing.T) {
	for _, tt := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			arrived := make(chan struct{}, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				arrived <- struct{}{}
				<-r.Context().Done() // never answer
			}))
			defer srv.Close()
			cmd, stdout, stderr := startTC(t, nil, "--endpoint", srv.URL, "--timeout", "1m", "--json")
			select {
			case <-arrived:
			case <-time.After(time.Minute):
				t.Fatal("the request never arrived")
			}
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			r := waitCode(t, cmd, stdout, stderr)
			r.wantCode(t, tt.want)
		})
	}
}

// SIGINT while --dev waits for livekit-server to become ready is an
// interruption (130), not "server not ready". A script that never listens
// stands in for the server.
func TestExitCodeWhenInterruptedDuringDevStart(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "started")
	script := filepath.Join(dir, "livekit-server")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntouch '"+marker+"'\nexec sleep 120\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd, stdout, stderr := startTC(t, []string{"LIVEKIT_SERVER_BIN=" + script}, "--dev", "--json")
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stand-in server never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	r := waitCode(t, cmd, stdout, stderr)
	r.wantCode(t, exitInterrupted)
	r.events = parseEvents(t, r.stdout)
	ev := r.one(t, "error")
	wantField(t, ev, "stage", "dev")
	if msg, _ := ev["message"].(string); !strings.Contains(msg, "interrupted") || strings.Contains(msg, "not ready") {
		t.Errorf("message = %q, want it to say interrupted", msg)
	}
}
