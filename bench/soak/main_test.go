package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestArenaReexec(t *testing.T) {
	for _, tc := range []struct {
		want    int
		current string
		need    bool
	}{
		{2, "", true},
		{2, "2", false},
		{2, "8", true},
		{0, "", false},
		{0, "4", false},
	} {
		need, env := arenaReexec(tc.want, tc.current)
		if need != tc.need || (need && env != "MALLOC_ARENA_MAX=2") {
			t.Errorf("arenaReexec(%d, %q) = %v, %q", tc.want, tc.current, need, env)
		}
	}
}

// Without a server the soak writes the config line and samples.
func TestRunBaseline(t *testing.T) {
	var out bytes.Buffer
	cfg := config{Duration: 150 * time.Millisecond, Interval: 50 * time.Millisecond, NoServer: true}
	if err := run(t.Context(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&out)
	var lines []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) < 3 {
		t.Fatalf("%d lines", len(lines))
	}
	if _, ok := lines[0]["config"]; !ok {
		t.Errorf("first line %v has no config", lines[0])
	}
	for _, l := range lines[1:] {
		for _, k := range []string{"rss_bytes", "threads", "goroutines", "go_heap_bytes", "extra"} {
			if _, ok := l[k]; !ok {
				t.Errorf("sample %v lacks %s", l, k)
			}
		}
	}
}
