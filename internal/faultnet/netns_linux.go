//go:build linux && (amd64 || arm64)

package faultnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

// NetNS is a private network namespace with only a loopback interface (up).
// It lives until Close (and until processes started inside have exited).
type NetNS struct {
	mu sync.Mutex
	f  *os.File // /proc/thread-self/ns/net of the namespace; nil after Close
}

// NewNetNS creates a network namespace with its loopback interface up. The
// caller's own namespace is not changed.
func NewNetNS() (*NetNS, error) {
	type result struct {
		f   *os.File
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// This thread enters the new namespace and never leaves it: it is
		// not unlocked, so the runtime discards it when this goroutine ends.
		runtime.LockOSThread()
		if err := syscall.Unshare(syscall.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("faultnet: unshare(CLONE_NEWNET): %w (needs root)", err)}
			return
		}
		f, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
		if err != nil {
			ch <- result{err: fmt.Errorf("faultnet: %w", err)}
			return
		}
		if err := loopbackUp(); err != nil {
			f.Close()
			ch <- result{err: fmt.Errorf("faultnet: bring lo up in the new namespace: %w", err)}
			return
		}
		ch <- result{f: f}
	}()
	r := <-ch
	if r.err != nil {
		return nil, r.err
	}
	return &NetNS{f: r.f}, nil
}

// loopbackUp sets IFF_UP on "lo" in the calling thread's namespace.
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var ifr [40]byte // struct ifreq: name[16], then a union; flags is a short at 16
	copy(ifr[:], "lo")
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		return fmt.Errorf("SIOCGIFFLAGS: %w", e)
	}
	flags := *(*uint16)(unsafe.Pointer(&ifr[16]))
	*(*uint16)(unsafe.Pointer(&ifr[16])) = flags | syscall.IFF_UP
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		return fmt.Errorf("SIOCSIFFLAGS: %w", e)
	}
	return nil
}

// ErrClosed is returned by methods of a closed NetNS or Proxy.
var ErrClosed = errors.New("faultnet: closed")

// EnterLocked moves the calling OS thread into the namespace for good. The
// caller must have called runtime.LockOSThread and must never unlock: the
// thread is then discarded when its goroutine ends. Processes started from
// that thread (os/exec) run inside the namespace.
func (n *NetNS) EnterLocked() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.f == nil {
		return ErrClosed
	}
	if err := setns(int(n.f.Fd())); err != nil {
		return fmt.Errorf("faultnet: setns: %w", err)
	}
	return nil
}

// Do runs f on an OS thread inside the namespace. Sockets f creates belong to
// the namespace and keep working from any goroutine afterwards.
func (n *NetNS) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		// The thread is never unlocked: the runtime discards it when this
		// goroutine ends, so no other goroutine ever runs in the namespace
		// by accident. (A new thread per call is cheap next to a dial.)
		runtime.LockOSThread()
		if err := n.EnterLocked(); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

// DialContext dials addr from inside the namespace.
func (n *NetNS) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := n.Do(func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// Close releases the namespace handle. The kernel removes the namespace
// once no process or socket uses it any more.
func (n *NetNS) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.f == nil {
		return nil
	}
	err := n.f.Close()
	n.f = nil
	return err
}

func setns(fd int) error {
	_, _, e := syscall.Syscall(sysSetns, uintptr(fd), syscall.CLONE_NEWNET, 0)
	if e != 0 {
		return e
	}
	return nil
}

// Supported reports whether NewNetNS can work here (Linux, running as root),
// with the reason when it cannot.
func Supported() (bool, string) {
	if os.Geteuid() != 0 {
		return false, "not root (network namespaces need CAP_SYS_ADMIN)"
	}
	n, err := NewNetNS()
	if err != nil {
		return false, err.Error()
	}
	n.Close()
	return true, ""
}
