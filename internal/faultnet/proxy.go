package faultnet

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Faults is what a [Proxy] route does to the traffic it forwards, in both
// directions. The zero value forwards everything at once.
type Faults struct {
	// Delay is added to every UDP datagram and every TCP chunk (what one
	// read returned) before it is forwarded. Order is kept.
	Delay time.Duration
	// Drop is the probability (0 to 1) that a UDP datagram is discarded.
	// TCP routes ignore it (a TCP stream cannot lose bytes; use Delay,
	// Blackhole or [Proxy.CutTCP]).
	Drop float64
	// Blackhole discards UDP datagrams and holds TCP data while set; held
	// TCP data is forwarded, in order, once it is cleared. Established TCP
	// connections stay open, as with a network that silently stops
	// delivering.
	Blackhole bool
}

// Route is one forwarded port.
type Route struct {
	// Name groups routes for [Proxy.SetFaults] and [Proxy.Stats].
	Name string
	// Network is "tcp" or "udp".
	Network string
	// Listen is the address the proxy listens on, e.g. "127.0.0.1:7880".
	Listen string
	// Target is the address the proxy forwards to, reached through the
	// proxy's dial function.
	Target string
}

// Stats counts what a route forwarded. Client is the side that connected
// to the proxy (or sent the first datagram), server the target.
type Stats struct {
	ToServerBytes   int64
	ToClientBytes   int64
	ToServerPackets int64 // datagrams, or TCP chunks
	ToClientPackets int64
	Dropped         int64 // UDP datagrams discarded by Drop, Blackhole or a full queue
	Conns           int64 // TCP connections accepted, or UDP flows (client addresses) seen
}

func (s Stats) add(o Stats) Stats {
	return Stats{
		s.ToServerBytes + o.ToServerBytes, s.ToClientBytes + o.ToClientBytes,
		s.ToServerPackets + o.ToServerPackets, s.ToClientPackets + o.ToClientPackets,
		s.Dropped + o.Dropped, s.Conns + o.Conns,
	}
}

// DialFunc opens the proxy's connection to a target: net.Dialer.DialContext
// for a target in the same namespace, [NetNS.DialContext] for one inside a
// private namespace. For "udp" it must return a connected UDP socket.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Proxy forwards TCP connections and UDP flows from its listen addresses to
// targets, applying [Faults]. Create it with [NewProxy]; Close it when done.
type Proxy struct {
	dial   DialFunc
	routes []*route
	closed chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
}

type route struct {
	Route
	p      *Proxy
	faults atomic.Pointer[Faults]

	toServerBytes, toClientBytes     atomic.Int64
	toServerPackets, toClientPackets atomic.Int64
	dropped, conns                   atomic.Int64

	ln net.Listener // tcp
	pc *net.UDPConn // udp

	mu    sync.Mutex
	tcp   map[*tcpConn]struct{}
	flows map[netip.AddrPort]*flow
}

// NewProxy listens on every route's Listen address and starts forwarding.
// When a listen fails (e.g. the port is taken, which errors.Is reports as
// syscall.EADDRINUSE) nothing is left open.
func NewProxy(dial DialFunc, routes ...Route) (*Proxy, error) {
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	p := &Proxy{dial: dial, closed: make(chan struct{})}
	for _, rt := range routes {
		r := &route{Route: rt, p: p, tcp: map[*tcpConn]struct{}{}, flows: map[netip.AddrPort]*flow{}}
		r.faults.Store(&Faults{})
		var err error
		switch rt.Network {
		case "tcp":
			r.ln, err = net.Listen("tcp", rt.Listen)
		case "udp":
			var a *net.UDPAddr
			if a, err = net.ResolveUDPAddr("udp", rt.Listen); err == nil {
				r.pc, err = net.ListenUDP("udp", a)
			}
		default:
			err = fmt.Errorf("unknown network %q", rt.Network)
		}
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("faultnet: route %s %s %s: %w", rt.Name, rt.Network, rt.Listen, err)
		}
		p.routes = append(p.routes, r)
	}
	for _, r := range p.routes {
		p.wg.Add(1)
		if r.ln != nil {
			go r.serveTCP()
		} else {
			go r.serveUDP()
		}
	}
	return p, nil
}

// SetFaults sets the faults of the routes named name ("" for all routes).
// It applies at once, also to traffic already queued.
func (p *Proxy) SetFaults(name string, f Faults) {
	for _, r := range p.routes {
		if name == "" || r.Name == name {
			r.faults.Store(&f)
		}
	}
}

// Stats sums the counters of the routes named name ("" for all routes).
func (p *Proxy) Stats(name string) Stats {
	var s Stats
	for _, r := range p.routes {
		if name == "" || r.Name == name {
			s = s.add(Stats{
				r.toServerBytes.Load(), r.toClientBytes.Load(),
				r.toServerPackets.Load(), r.toClientPackets.Load(),
				r.dropped.Load(), r.conns.Load(),
			})
		}
	}
	return s
}

// CutTCP closes every established TCP connection of the routes named name
// ("" for all), both towards the client and towards the server, as a
// network failure that the peers notice would. The routes keep accepting
// new connections. It returns how many connections it closed.
func (p *Proxy) CutTCP(name string) int {
	n := 0
	for _, r := range p.routes {
		if name != "" && r.Name != name {
			continue
		}
		r.mu.Lock()
		conns := make([]*tcpConn, 0, len(r.tcp))
		for c := range r.tcp {
			conns = append(conns, c)
		}
		r.mu.Unlock()
		for _, c := range conns {
			c.close()
			n++
		}
	}
	return n
}

// Close stops listening, closes every connection and flow and waits for the
// proxy's goroutines to end.
func (p *Proxy) Close() error {
	p.once.Do(func() {
		close(p.closed)
		for _, r := range p.routes {
			if r.ln != nil {
				r.ln.Close()
			}
			if r.pc != nil {
				r.pc.Close()
			}
			r.mu.Lock()
			for c := range r.tcp {
				c.close()
			}
			for _, f := range r.flows {
				f.conn.Close()
			}
			r.mu.Unlock()
		}
	})
	p.wg.Wait()
	return nil
}

// waitTurn blocks until at+Delay (re-reading the faults so that changes
// apply to queued data) and, when hold is set, while Blackhole is set. It
// returns false when done or the proxy is closed first.
func (r *route) waitTurn(at time.Time, hold bool, done <-chan struct{}) bool {
	const tick = 10 * time.Millisecond
	for {
		f := r.faults.Load()
		wait := time.Until(at.Add(f.Delay))
		if hold && f.Blackhole {
			wait = tick
		}
		if wait <= 0 {
			return true
		}
		t := time.NewTimer(min(wait, tick))
		select {
		case <-t.C:
		case <-done:
			t.Stop()
			return false
		case <-r.p.closed:
			t.Stop()
			return false
		}
	}
}

// --- TCP ----------------------------------------------------------------

type tcpConn struct {
	client, server net.Conn
	done           chan struct{}
	once           sync.Once
}

func (c *tcpConn) close() {
	c.once.Do(func() {
		close(c.done)
		c.client.Close()
		c.server.Close()
	})
}

func (r *route) serveTCP() {
	defer r.p.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.conns.Add(1)
		r.p.wg.Add(1)
		go r.handleTCP(c)
	}
}

func (r *route) handleTCP(client net.Conn) {
	defer r.p.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	go func() {
		select {
		case <-r.p.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	server, err := r.p.dial(ctx, "tcp", r.Target)
	cancel()
	if err != nil {
		client.Close()
		return
	}
	c := &tcpConn{client: client, server: server, done: make(chan struct{})}
	r.mu.Lock()
	select {
	case <-r.p.closed:
		r.mu.Unlock()
		c.close()
		return
	default:
	}
	r.tcp[c] = struct{}{}
	r.mu.Unlock()

	var wg sync.WaitGroup
	wg.Go(func() { r.pipe(c, client, server, &r.toServerBytes, &r.toServerPackets) })
	wg.Go(func() { r.pipe(c, server, client, &r.toClientBytes, &r.toClientPackets) })
	wg.Wait()
	r.mu.Lock()
	delete(r.tcp, c)
	r.mu.Unlock()
}

type chunk struct {
	b  []byte
	at time.Time
}

// pipe copies src to dst through a delay line; when either side ends, the
// whole connection is closed.
func (r *route) pipe(c *tcpConn, src, dst net.Conn, bytes, packets *atomic.Int64) {
	defer c.close()
	q := make(chan chunk, 256)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case q <- chunk{buf[:n], time.Now()}:
				case <-c.done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	for ch := range q {
		if !r.waitTurn(ch.at, true, c.done) {
			break
		}
		if _, err := dst.Write(ch.b); err != nil {
			break
		}
		bytes.Add(int64(len(ch.b)))
		packets.Add(1)
	}
}

// --- UDP ----------------------------------------------------------------

// flow is one client address's UDP traffic, forwarded through its own
// connected socket towards the target.
type flow struct {
	client   netip.AddrPort
	conn     net.Conn
	toServer chan chunk
}

func (r *route) serveUDP() {
	defer r.p.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, from, err := r.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		f := r.flowFor(from)
		if f == nil {
			r.dropped.Add(1)
			continue
		}
		if r.dropNow() {
			r.dropped.Add(1)
			continue
		}
		select {
		case f.toServer <- chunk{append([]byte(nil), buf[:n]...), time.Now()}:
		default:
			r.dropped.Add(1) // queue full: as a congested link would
		}
	}
}

func (r *route) dropNow() bool {
	f := r.faults.Load()
	return f.Blackhole || (f.Drop > 0 && rand.Float64() < f.Drop)
}

func (r *route) flowFor(client netip.AddrPort) *flow {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f, ok := r.flows[client]; ok {
		return f
	}
	select {
	case <-r.p.closed:
		return nil
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := r.p.dial(ctx, "udp", r.Target)
	if err != nil {
		return nil
	}
	f := &flow{client: client, conn: conn, toServer: make(chan chunk, 1024)}
	r.flows[client] = f
	r.conns.Add(1)
	r.p.wg.Add(2)
	go r.flowToServer(f)
	go r.flowToClient(f)
	return f
}

func (r *route) flowToServer(f *flow) {
	defer r.p.wg.Done()
	for {
		select {
		case ch := <-f.toServer:
			if !r.waitTurn(ch.at, false, nil) {
				return
			}
			if _, err := f.conn.Write(ch.b); err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue // e.g. ECONNREFUSED while the server restarts
			}
			r.toServerBytes.Add(int64(len(ch.b)))
			r.toServerPackets.Add(1)
		case <-r.p.closed:
			return
		}
	}
}

func (r *route) flowToClient(f *flow) {
	defer r.p.wg.Done()
	q := make(chan chunk, 1024)
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(q)
		buf := make([]byte, 64<<10)
		for {
			n, err := f.conn.Read(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue // ECONNREFUSED from an earlier write: keep the flow
			}
			if r.dropNow() {
				r.dropped.Add(1)
				continue
			}
			select {
			case q <- chunk{append([]byte(nil), buf[:n]...), time.Now()}:
			case <-done:
				return
			default:
				r.dropped.Add(1)
			}
		}
	}()
	for ch := range q {
		if !r.waitTurn(ch.at, false, nil) {
			return
		}
		if _, err := r.pc.WriteToUDPAddrPort(ch.b, f.client); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		r.toClientBytes.Add(int64(len(ch.b)))
		r.toClientPackets.Add(1)
	}
}
