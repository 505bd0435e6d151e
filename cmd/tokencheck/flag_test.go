package main

import (
	"strings"
	"testing"
)

func TestFlagParseErrorIsShort(t *testing.T) {
	for _, args := range [][]string{
		{"--bogus-flag"},
		{"--endpoint", "http://127.0.0.1:1/", "--watch=abc"},
		{"--timeout"},
	} {
		r := runTC(t, nil, args...)
		r.wantCode(t, exitUsage)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "tokencheck: ") || lines[1] != "Run 'tokencheck -h' for usage." {
			t.Errorf("%v: want the error and the hint only, got:\n%s", args, r.stderr)
		}
		if strings.Contains(r.stderr, "Usage:") || strings.Contains(r.stderr, "Exit codes") {
			t.Errorf("%v: usage text printed on a parse error", args)
		}
	}
}
