// Package faultnet provides network faults for tests on machines without
// tc/netem or a packet filter: a private network namespace that a server can
// be moved into ([NetNS]), and a userspace TCP+UDP [Proxy] that is the only
// way into that namespace and can delay, drop and black-hole traffic.
//
// The design keeps every port number unchanged. A server started inside a
// [NetNS] binds its usual ports on the namespace's own loopback; the proxy
// listens on the same port numbers on the caller's loopback and forwards each
// TCP connection and each UDP flow through a socket created inside the
// namespace. A WebRTC server that advertises 127.0.0.1:<port> as its ICE
// candidate is therefore reached through the proxy, and it cannot reach the
// client's own candidates directly (the namespace has no other interface and
// no route out), so no ICE pair bypasses the proxy.
//
// Namespaces need Linux and root (CAP_SYS_ADMIN); [Supported] tells whether
// they can be created.
package faultnet
