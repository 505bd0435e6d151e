package lkserver

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// requireRedis returns the redis-server binary, or skips the test when it
// is missing, unless LIVEKIT_REQUIRE_SERVER is set, in which case a missing
// binary fails the test (clusters are part of the server suite).
func requireRedis(t *testing.T) string {
	t.Helper()
	p, err := FindRedis()
	if err != nil {
		if v := os.Getenv("LIVEKIT_REQUIRE_SERVER"); v != "" && v != "0" {
			t.Fatalf("LIVEKIT_REQUIRE_SERVER=%s: %v", v, err)
		}
		t.Skipf("skipping: %v", err)
	}
	return p
}

func startCluster(t *testing.T, n int) *Cluster {
	t.Helper()
	requireServer(t)
	requireRedis(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	begin := time.Now()
	c, err := StartCluster(ctx, ClusterConfig{}, n)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("redis at %s, %d nodes ready in %v", c.Redis.Addr, n, time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			for i, s := range c.Nodes {
				t.Logf("node %d log tail:\n%s", i, s.LogTail())
			}
		}
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

func TestFindRedisError(t *testing.T) {
	t.Setenv(EnvRedisBin, "")
	t.Setenv("PATH", t.TempDir())
	_, err := FindRedis()
	if err == nil || !strings.Contains(err.Error(), "Debian package "+RedisPackage) {
		t.Errorf("FindRedis without redis-server: %v", err)
	}
	t.Setenv(EnvRedisBin, "/nonexistent/redis-server")
	if _, err := FindRedis(); err == nil || !strings.Contains(err.Error(), EnvRedisBin) {
		t.Errorf("FindRedis with a bad %s: %v", EnvRedisBin, err)
	}
}

func TestRedisStartStop(t *testing.T) {
	requireRedis(t)
	r, err := StartRedis(t.Context(), RedisConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Do(t.Context(), "SET", "k", "v w"); err != nil {
		t.Fatal(err)
	}
	if v, err := r.Do(t.Context(), "GET", "k"); err != nil || v != "v w" {
		t.Errorf("GET = %v, %v", v, err)
	}
	// No persistence.
	if v, err := r.Do(t.Context(), "CONFIG", "GET", "save"); err != nil || fmt.Sprint(v) != "[save ]" {
		t.Errorf("CONFIG GET save = %v, %v", v, err)
	}
	if v, err := r.Do(t.Context(), "CONFIG", "GET", "bind"); err != nil || !strings.Contains(fmt.Sprint(v), "127.0.0.1") {
		t.Errorf("CONFIG GET bind = %v, %v", v, err)
	}
	// Pause: nothing answers; Resume: it does again.
	if err := r.Pause(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	_, err = r.Do(ctx, "PING")
	cancel()
	if err == nil {
		t.Error("paused redis answered")
	}
	if err := r.Resume(); err != nil {
		t.Fatal(err)
	}
	if v, err := r.Do(t.Context(), "PING"); err != nil || v != "PONG" {
		t.Errorf("PING after Resume = %v, %v", v, err)
	}
	// Restart: same port, empty.
	pid := r.PID()
	if err := r.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r.PID() == pid {
		t.Error("same PID after Restart")
	}
	if v, err := r.Do(t.Context(), "GET", "k"); err != nil || v != nil {
		t.Errorf("GET after Restart = %v, %v; want nil (no persistence)", v, err)
	}
	if err := r.Pause(); err != nil { // Stop must not hang on a paused server
		t.Fatal(err)
	}
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.Dir); !os.IsNotExist(err) {
		t.Errorf("%s not removed: %v", r.Dir, err)
	}
	if _, err := r.Do(t.Context(), "PING"); err == nil {
		t.Error("redis answers after Stop")
	}
}

// Two nodes share rooms through Redis: a room created through node 0 is
// listed by node 1; the server places rooms on nodes itself (or where
// CreateRoom's node_id says), and a participant whose signal connection
// goes to the other node is relayed to the hosting node.
func TestClusterSharesRooms(t *testing.T) {
	c := startCluster(t, 2)
	ctx := t.Context()
	a, b := c.Nodes[0], c.Nodes[1]
	if a.NodeID() == "" || b.NodeID() == "" || a.NodeID() == b.NodeID() {
		t.Fatalf("node IDs %q %q", a.NodeID(), b.NodeID())
	}
	for i, s := range c.Nodes {
		if log := s.LogTail(); strings.Contains(log, "single-node routing") || !strings.Contains(log, "connecting to redis") {
			t.Errorf("node %d does not route through redis", i)
		}
	}
	if a.HTTPPort == b.HTTPPort || a.RTCTCPPort == b.RTCTCPPort || (a.UDPPortStart <= b.UDPPortEnd && b.UDPPortStart <= a.UDPPortEnd) {
		t.Errorf("ports overlap: %d/%d/%d-%d and %d/%d/%d-%d", a.HTTPPort, a.RTCTCPPort, a.UDPPortStart, a.UDPPortEnd, b.HTTPPort, b.RTCTCPPort, b.UDPPortStart, b.UDPPortEnd)
	}
	if a.APISecret != b.APISecret || a.APIKey != c.APIKey {
		t.Error("nodes do not share the key pair")
	}

	sid, err := c.CreateRoom(ctx, a, "shared", nil)
	if err != nil {
		t.Fatal(err)
	}
	rooms, err := b.ListRooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rooms, "shared") {
		t.Fatalf("node 1 lists %v, want the room created through node 0", rooms)
	}
	host, err := c.RoomNode(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("room shared (%s) created through node 0 is hosted on node %d (%s)", sid, slices.Index(c.Nodes, host), host.NodeID())

	// Where does the server put rooms created through node 0?
	counts := make([]int, len(c.Nodes))
	for i := range 10 {
		name := fmt.Sprintf("spread-%d", i)
		if _, err := c.CreateRoom(ctx, a, name, nil); err != nil {
			t.Fatal(err)
		}
		h, err := c.RoomNode(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		counts[slices.Index(c.Nodes, h)]++
	}
	t.Logf("10 rooms created through node 0: %v per node (default node_selector: any, sort_by random)", counts)

	// Pinned: created through node 0, hosted on node 1.
	if _, err := c.CreateRoom(ctx, a, "pinned", b); err != nil {
		t.Fatal(err)
	}
	if h, err := c.RoomNode(ctx, "pinned"); err != nil || h != b {
		t.Fatalf("pinned room on %v, %v; want node 1", h, err)
	}
	// A participant signalling to node 0 joins the room on node 1.
	got := joinSignal(t, a, "pinned", "alice", 2*time.Second)
	if !bytes.Contains(got, []byte("alice")) {
		t.Fatalf("no join response through node 0 (%d bytes)", len(got))
	}
	for _, s := range c.Nodes {
		ids, err := s.ListParticipants(ctx, "pinned", adminToken(t, s, "pinned"))
		if err != nil || !slices.Equal(ids, []string{"alice"}) {
			t.Errorf("node %s lists participants %v, %v", s.NodeID(), ids, err)
		}
	}
	if h, err := c.RoomNode(ctx, "pinned"); err != nil || h != b {
		t.Errorf("after the join through node 0 the room is on %v, %v", h, err)
	}
}

// Losing Redis loses the rooms; the nodes register themselves again with
// their next stats update (every ~2 s here) and the cluster takes new rooms.
// While Redis is paused, API calls wait for it.
func TestClusterRedisRestart(t *testing.T) {
	c := startCluster(t, 2)
	ctx := t.Context()
	if _, err := c.CreateRoom(ctx, c.Nodes[0], "before", c.Nodes[1]); err != nil {
		t.Fatal(err)
	}
	if err := c.Redis.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	for {
		ids, err := c.RegisteredNodes(ctx)
		if err == nil && len(ids) == len(c.Nodes) {
			break
		}
		if time.Since(begin) > 15*time.Second {
			t.Fatalf("nodes not registered again 15 s after the Redis restart: %v, %v", ids, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("both nodes registered again %v after the Redis restart", time.Since(begin).Round(100*time.Millisecond))
	if rooms, err := c.Nodes[0].ListRooms(ctx); err != nil || len(rooms) != 0 {
		t.Errorf("rooms after losing Redis: %v, %v", rooms, err)
	}
	if _, err := c.CreateRoom(ctx, c.Nodes[0], "after", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RoomNode(ctx, "after"); err != nil {
		t.Error(err)
	}

	if err := c.Redis.Pause(); err != nil {
		t.Fatal(err)
	}
	const pause = time.Second
	go func() {
		time.Sleep(pause)
		c.Redis.Resume()
	}()
	begin = time.Now()
	rooms, err := c.Nodes[1].ListRooms(ctx)
	took := time.Since(begin)
	t.Logf("ListRooms during a %v Redis pause: %v, %v after %v", pause, rooms, err, took.Round(time.Millisecond))
	if err != nil || !slices.Equal(rooms, []string{"after"}) || took < pause-100*time.Millisecond {
		t.Errorf("ListRooms during a Redis pause: %v, %v after %v", rooms, err, took)
	}
}
