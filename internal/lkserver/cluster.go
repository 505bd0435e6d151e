package lkserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ClusterConfig configures [StartCluster]. The zero value is ready to use.
type ClusterConfig struct {
	// Node is the template for every node: Binary, APIKey/APISecret (one
	// pair for the whole cluster, generated when empty), UDPPorts,
	// LogLevel, ExtraYAML, timeouts and Output apply to each. Dir must be
	// empty (every node gets its own temporary directory), BindAddress and
	// NodeIP default to 127.0.0.1, and BehindProxy is not supported (the
	// nodes must reach the shared redis-server). ExtraYAML must not set
	// "redis:"; StartCluster writes that key.
	Node Config
	// Redis configures the shared redis-server.
	Redis RedisConfig
}

// Cluster is a redis-server and livekit-server nodes that share it, as in
// a multi-node deployment: rooms and participants are stored in Redis, a
// room runs on one node, and the other nodes relay the signal connections
// of its participants to that node over Redis (psrpc). Close it when done.
type Cluster struct {
	Redis *Redis
	// Nodes are the livekit-server nodes; each has its own HTTP, ICE/TCP
	// and ICE/UDP ports and the same key pair. Kill, Pause, Restart etc.
	// act on one node.
	Nodes []*Server
	// APIKey and APISecret are shared by all nodes.
	APIKey    string
	APISecret string
}

// StartCluster starts one redis-server and n livekit-server nodes that use
// it, and waits until every node answers HTTP and has registered itself in
// Redis. ctx bounds only the startup. On error nothing is left running.
func StartCluster(ctx context.Context, cfg ClusterConfig, n int) (_ *Cluster, err error) {
	if n < 1 {
		return nil, errors.New("lkserver: StartCluster needs at least one node")
	}
	if cfg.Node.Dir != "" || cfg.Node.BehindProxy {
		return nil, errors.New("lkserver: StartCluster: the node template must not set Dir or BehindProxy")
	}
	if err := cfg.Node.defaults(); err != nil {
		return nil, err
	}
	c := &Cluster{APIKey: cfg.Node.APIKey, APISecret: cfg.Node.APISecret}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if c.Redis, err = StartRedis(ctx, cfg.Redis); err != nil {
		return nil, err
	}
	node := cfg.Node
	node.ExtraYAML = fmt.Sprintf("redis:\n  address: %s\n", c.Redis.Addr) + cfg.Node.ExtraYAML
	for i := range n {
		s, err := Start(ctx, node)
		if err != nil {
			return nil, fmt.Errorf("lkserver: cluster node %d: %w", i, err)
		}
		c.Nodes = append(c.Nodes, s)
	}
	if err := c.waitRegistered(ctx, cfg.Node.ReadyTimeout); err != nil {
		return nil, err
	}
	return c, nil
}

// waitRegistered waits until the node IDs of all nodes are in Redis.
func (c *Cluster) waitRegistered(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		ids, err := c.RegisteredNodes(ctx)
		missing := 0
		for _, s := range c.Nodes {
			if !slices.Contains(ids, s.NodeID()) {
				missing++
			}
		}
		if err == nil && missing == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lkserver: %d of %d cluster nodes not registered in redis (registered: %v, last error: %v): %w", missing, len(c.Nodes), ids, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Redis keys livekit-server v1.13 uses (pkg/routing/redisrouter.go).
const (
	redisNodesKey    = "nodes"         // hash: node ID -> livekit.Node
	redisRoomNodeKey = "room_node_map" // hash: room name -> node ID
)

// RegisteredNodes returns the node IDs registered in Redis. A killed node
// stays registered (it has no chance to remove itself); livekit-server
// treats a node as unavailable once its stats are 5 s old.
func (c *Cluster) RegisteredNodes(ctx context.Context) ([]string, error) {
	reply, err := c.Redis.Do(ctx, "HKEYS", redisNodesKey)
	if err != nil {
		return nil, err
	}
	return stringsOf(reply), nil
}

// RoomNodeID returns the ID of the node the room is assigned to ("" when the
// room is not assigned).
func (c *Cluster) RoomNodeID(ctx context.Context, room string) (string, error) {
	reply, err := c.Redis.Do(ctx, "HGET", redisRoomNodeKey, room)
	if err != nil {
		return "", err
	}
	id, _ := reply.(string)
	return id, nil
}

// RoomNode returns the node that hosts room. The error says so when the
// room is not assigned, or assigned to a node ID no current process has
// (e.g. a node that was restarted: it came back with a new ID).
func (c *Cluster) RoomNode(ctx context.Context, room string) (*Server, error) {
	id, err := c.RoomNodeID(ctx, room)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, fmt.Errorf("lkserver: room %q is not assigned to a node", room)
	}
	if s := c.Node(id); s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("lkserver: room %q is assigned to node %s, which is not a running node of this cluster", room, id)
}

// Node returns the node whose current process has the given node ID, or
// nil.
func (c *Cluster) Node(id string) *Server {
	for _, s := range c.Nodes {
		if s.NodeID() == id {
			return s
		}
	}
	return nil
}

// CreateRoom creates room through the RoomService of node via. With host
// nil the server places the room on a node of its choosing (livekit-server's
// default selector picks a random available node, not necessarily via);
// otherwise on host. It returns the room's SID.
func (c *Cluster) CreateRoom(ctx context.Context, via *Server, room string, host *Server) (string, error) {
	req := map[string]any{"name": room}
	if host != nil {
		req["node_id"] = host.NodeID()
	}
	var resp struct {
		Sid string `json:"sid"`
	}
	err := via.CallRoomService(ctx, "CreateRoom", via.grantToken(map[string]any{"roomCreate": true}), req, &resp)
	return resp.Sid, err
}

// Close stops every node, then redis-server. It is idempotent.
func (c *Cluster) Close() error {
	var errs []error
	for _, s := range c.Nodes {
		errs = append(errs, s.Stop())
	}
	if c.Redis != nil {
		errs = append(errs, c.Redis.Stop())
	}
	return errors.Join(errs...)
}

func stringsOf(reply any) []string {
	arr, _ := reply.([]any)
	out := make([]string, 0, len(arr))
	for _, v := range arr {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
