#!/usr/bin/env bash
# Run a command inside a fresh private network namespace (see
# docs of the test environment: nothing the tests send may leave the machine).
#
# Usage: scripts/netns.sh <command> [args...]
#
# The namespace gets loopback up plus one veth interface with 10.213.0.2/24 so
# that WebRTC has a non-loopback interface to gather on; the host end of the
# veth pair has no address, so there is no route out. The namespace (and with
# it the veth pair) is always deleted on exit. The command's exit code is
# passed through.
#
# Environment:
#   LIVEKIT_NETNS  auto (default): use a namespace when possible (root and a
#                  working `ip netns`), otherwise run the command directly on
#                  the host (tests then use the host loopback only).
#                  require: fail when a namespace cannot be created.
#                  off: always run directly on the host.
#
# Inside the namespace the command sees LIVEKIT_NETNS_NAME=<namespace name>
# (tests use it to enable checks that are only safe there); in the fallback
# it is unset.
#
# One line on stderr says which mode was used:
#   netns: running inside private network namespace lktest-123
#   netns: fallback to host loopback (reason)
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 <command> [args...]" >&2
	exit 2
fi

mode="${LIVEKIT_NETNS:-auto}"
case "$mode" in
auto | require | off) ;;
*)
	echo "netns: invalid LIVEKIT_NETNS=$mode (want auto, require or off)" >&2
	exit 2
	;;
esac

fallback() {
	local reason="$1"
	shift
	if [[ "$mode" == require ]]; then
		echo "netns: ERROR: cannot create a private network namespace ($reason) and LIVEKIT_NETNS=require" >&2
		exit 1
	fi
	echo "netns: fallback to host loopback ($reason)" >&2
	unset LIVEKIT_NETNS_NAME
	exec "$@"
}

if [[ "$mode" == off ]]; then
	fallback "LIVEKIT_NETNS=off" "$@"
fi
if [[ "$(id -u)" -ne 0 ]]; then
	fallback "not root" "$@"
fi
if ! command -v ip >/dev/null 2>&1; then
	fallback "iproute2 'ip' command not found" "$@"
fi

# Unique per run: pid plus a random suffix (pids can repeat across containers
# sharing a network namespace list).
id="$$$(printf '%04x' $((RANDOM % 65536)))"
ns="lktest-$id"
# Interface names are limited to 15 characters: "lkh" + pid (at most 7
# digits, pid_max is 4194304) + 4 hex digits = at most 14.
veth_host="lkh${id}"
veth_ns="lkn${id}"

cleanup() {
	# Processes left inside the namespace (e.g. a livekit-server whose test
	# binary was killed) were started by this run: end them by pid, then
	# delete the namespace. Deleting it also removes the veth pair; delete the
	# host end explicitly too in case the namespace was never completed.
	local pids
	pids="$(ip netns pids "$ns" 2>/dev/null || true)"
	if [[ -n "$pids" ]]; then
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
	fi
	ip netns del "$ns" >/dev/null 2>&1 || true
	ip link del "$veth_host" >/dev/null 2>&1 || true
}

if ! err="$(ip netns add "$ns" 2>&1)"; then
	fallback "ip netns add failed: ${err//$'\n'/ }" "$@"
fi
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

setup() {
	ip netns exec "$ns" ip link set lo up &&
		ip link add "$veth_host" type veth peer name "$veth_ns" netns "$ns" &&
		ip netns exec "$ns" ip addr add 10.213.0.2/24 dev "$veth_ns" &&
		ip netns exec "$ns" ip link set "$veth_ns" up &&
		ip link set "$veth_host" up
}
if ! err="$(setup 2>&1)"; then
	cleanup
	trap - EXIT
	fallback "namespace setup failed: ${err//$'\n'/ }" "$@"
fi

echo "netns: running inside private network namespace $ns" >&2
# Not exec: the namespace must be deleted afterwards. The command runs in the
# background so that a signal to this script is handled at once: it is
# forwarded to the command as SIGTERM, then the EXIT trap cleans up.
# (<&0: keep stdin, which bash would otherwise replace by /dev/null.)
LIVEKIT_NETNS_NAME="$ns" ip netns exec "$ns" "$@" <&0 &
child=$!
signalled=0
forward() {
	signalled=$1
	kill -TERM "$child" 2>/dev/null || true
}
trap 'forward 130' INT
trap 'forward 143' TERM
rc=0
wait "$child" || rc=$?
# wait returns early (status > 128) when a trapped signal arrives; keep
# waiting until the command has really exited.
while [[ "$signalled" -eq 0 ]] && kill -0 "$child" 2>/dev/null; do
	rc=0
	wait "$child" || rc=$?
done
if [[ "$signalled" -ne 0 ]]; then
	# Give the command a grace period to clean up after SIGTERM; whatever is
	# still running in the namespace afterwards is killed by the EXIT trap.
	for _ in $(seq 50); do
		kill -0 "$child" 2>/dev/null || break
		sleep 0.2
	done
	exit "$signalled"
fi
exit "$rc"
