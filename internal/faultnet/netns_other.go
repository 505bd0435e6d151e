//go:build !(linux && (amd64 || arm64))

package faultnet

import (
	"context"
	"errors"
	"net"
)

// NetNS is a private network namespace; only available on Linux (amd64, arm64).
type NetNS struct{}

var errUnsupported = errors.New("faultnet: network namespaces need Linux")

// ErrClosed is returned by methods of a closed NetNS or Proxy.
var ErrClosed = errors.New("faultnet: closed")

// NewNetNS fails outside Linux.
func NewNetNS() (*NetNS, error) { return nil, errUnsupported }

// EnterLocked fails outside Linux.
func (n *NetNS) EnterLocked() error { return errUnsupported }

// Do fails outside Linux.
func (n *NetNS) Do(f func() error) error { return errUnsupported }

// DialContext fails outside Linux.
func (n *NetNS) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return nil, errUnsupported
}

// Close does nothing outside Linux.
func (n *NetNS) Close() error { return nil }

// Supported reports false outside Linux.
func Supported() (bool, string) { return false, errUnsupported.Error() }
