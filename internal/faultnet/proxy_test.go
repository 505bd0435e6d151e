package faultnet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// echoTCP serves a TCP echo on ln until the test ends.
func echoTCP(t *testing.T, ln net.Listener) {
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
}

// echoUDP echoes datagrams on pc until the test ends.
func echoUDP(t *testing.T, pc net.PacketConn) {
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
}

func freeAddr(t *testing.T, network string) string {
	t.Helper()
	if network == "tcp" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

func newEchoProxy(t *testing.T) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echoTCP(t, ln)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echoUDP(t, pc)
	p, err := NewProxy(nil,
		Route{Name: "sig", Network: "tcp", Listen: freeAddr(t, "tcp"), Target: ln.Addr().String()},
		Route{Name: "media", Network: "udp", Listen: freeAddr(t, "udp"), Target: pc.LocalAddr().String()},
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func (p *Proxy) listenAddr(name string) string {
	for _, r := range p.routes {
		if r.Name == name {
			return r.Listen
		}
	}
	return ""
}

// roundTripTCP writes msg and reads it back, returning the time it took.
func roundTripTCP(t *testing.T, c net.Conn, msg []byte) time.Duration {
	t.Helper()
	begin := time.Now()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo %q, want %q", got, msg)
	}
	return time.Since(begin)
}

func TestProxyTCPDelayBlackholeCut(t *testing.T) {
	p := newEchoProxy(t)
	c, err := net.Dial("tcp", p.listenAddr("sig"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if d := roundTripTCP(t, c, []byte("hello")); d > 200*time.Millisecond {
		t.Errorf("no-fault round trip took %v", d)
	}
	p.SetFaults("sig", Faults{Delay: 100 * time.Millisecond})
	if d := roundTripTCP(t, c, []byte("slow")); d < 200*time.Millisecond || d > time.Second {
		t.Errorf("round trip with 100ms each way took %v", d)
	}
	// Blackhole holds data, then delivers it in order.
	p.SetFaults("sig", Faults{Blackhole: true})
	go func() {
		time.Sleep(300 * time.Millisecond)
		p.SetFaults("sig", Faults{})
	}()
	if d := roundTripTCP(t, c, []byte("held")); d < 250*time.Millisecond {
		t.Errorf("round trip through a 300ms blackhole took %v", d)
	}
	// The counters are bumped after each write returns: let them settle.
	time.Sleep(50 * time.Millisecond)
	st := p.Stats("sig")
	if st.Conns != 1 || st.ToServerBytes != int64(len("helloslowheld")) || st.ToClientBytes != st.ToServerBytes {
		t.Errorf("stats %+v", st)
	}
	if n := p.CutTCP("sig"); n != 1 {
		t.Errorf("CutTCP closed %d connections, want 1", n)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("read after CutTCP: %v, want EOF/reset", err)
	}
	// New connections still work.
	c2, err := net.Dial("tcp", p.listenAddr("sig"))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	roundTripTCP(t, c2, []byte("again"))
}

func TestProxyUDPDropAndDelay(t *testing.T) {
	p := newEchoProxy(t)
	c, err := net.Dial("udp", p.listenAddr("media"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// count sends n datagrams and counts the echoes that come back.
	count := func(n int) int {
		got := 0
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, 100)
			for {
				c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
				if _, err := c.Read(buf); err != nil {
					return
				}
				got++
			}
		}()
		for range n {
			c.Write([]byte("ping"))
			time.Sleep(time.Millisecond)
		}
		<-done
		return got
	}
	if got := count(100); got != 100 {
		t.Errorf("no faults: %d/100 echoes", got)
	}
	// 30% each way: about 49% of the round trips survive.
	p.SetFaults("media", Faults{Drop: 0.3})
	got := count(400)
	t.Logf("drop 30%% each way: %d/400 echoes (expect ~196)", got)
	if got < 120 || got > 270 {
		t.Errorf("drop 30%% each way: %d/400 echoes", got)
	}
	p.SetFaults("media", Faults{Blackhole: true})
	if got := count(20); got != 0 {
		t.Errorf("blackhole: %d echoes", got)
	}
	p.SetFaults("media", Faults{Delay: 150 * time.Millisecond})
	begin := time.Now()
	c.Write([]byte("late"))
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d < 300*time.Millisecond {
		t.Errorf("delayed echo after %v", d)
	}
	st := p.Stats("media")
	t.Logf("stats %+v", st)
	if st.Conns != 1 || st.Dropped == 0 || st.ToServerPackets == 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestProxyListenConflict(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = NewProxy(nil, Route{Name: "x", Network: "tcp", Listen: ln.Addr().String(), Target: "127.0.0.1:1"})
	if err == nil {
		t.Fatal("NewProxy on a taken port succeeded")
	}
}

// A server inside a NetNS is reachable only through the proxy, on the same
// port number.
func TestNetNSProxy(t *testing.T) {
	if ok, why := Supported(); !ok {
		t.Skip(why)
	}
	ns, err := NewNetNS()
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	port := freeAddr(t, "tcp")
	_, portStr, _ := net.SplitHostPort(port)
	var ln net.Listener
	if err := ns.Do(func() (err error) {
		ln, err = net.Listen("tcp", "127.0.0.1:"+portStr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	echoTCP(t, ln)
	var pc net.PacketConn
	if err := ns.Do(func() (err error) {
		pc, err = net.ListenPacket("udp", "127.0.0.1:"+portStr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	echoUDP(t, pc)

	// Nothing listens on that port in this namespace.
	if c, err := net.DialTimeout("tcp", port, time.Second); err == nil {
		c.Close()
		t.Fatal("the namespace's listener is reachable without the proxy")
	}
	p, err := NewProxy(ns.DialContext,
		Route{Name: "t", Network: "tcp", Listen: port, Target: port},
		Route{Name: "u", Network: "udp", Listen: port, Target: port},
	)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", port)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTripTCP(t, c, []byte("through the namespace"))
	u, err := net.Dial("udp", port)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.Write([]byte("dgram"))
	u.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 10)
	n, err := u.Read(buf)
	if err != nil || string(buf[:n]) != "dgram" {
		t.Fatalf("udp echo %q, %v", buf[:n], err)
	}
	time.Sleep(50 * time.Millisecond)
	if st := p.Stats(""); st.ToServerBytes != int64(len("through the namespace")+len("dgram")) {
		t.Errorf("stats %+v", st)
	}
}
