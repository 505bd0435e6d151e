#!/usr/bin/env bash
# Runs the server-stall fault through LiveKit's Python SDK (same engine build) for comparison with
# the Go SDK's TestServerStall* in livekit/faults_test.go. Needs a venv with livekit==1.2.0:
#   python3 -m venv /tmp/pyv && /tmp/pyv/bin/pip install livekit==1.2.0 livekit-api
# Usage: bench/faults/run.sh [stall seconds...]   (default: 16 32). Runs inside a private
# network namespace (scripts/netns.sh) with its own livekit-server on loopback.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -z "${LIVEKIT_NETNS_NAME:-}" ]]; then
	exec "$root/scripts/netns.sh" "$0" "$@"
fi
py="${PYTHON:-/tmp/pyv/bin/python}"
srv="${LIVEKIT_SERVER_BIN:-$("$root/scripts/install-livekit-server.sh" | tail -n 1)}"
dir="$(mktemp -d)"
trap 'kill -CONT "$pid" 2>/dev/null; kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
cat >"$dir/cfg.yaml" <<YAML
port: 7880
bind_addresses: ["127.0.0.1"]
rtc: {tcp_port: 7881, port_range_start: 50000, port_range_end: 50100, use_external_ip: false, node_ip: 127.0.0.1, enable_loopback_candidate: true}
keys: {devkey: secretsecretsecretsecretsecretsecret}
logging: {level: warn}
YAML
"$srv" --config "$dir/cfg.yaml" >"$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -fs http://127.0.0.1:7880/ >/dev/null && break; sleep 0.2; done
for s in "${@:-16 32}"; do
	for one in $s; do
		"$py" "$root/bench/faults/python_stall.py" ws://127.0.0.1:7880 devkey secretsecretsecretsecretsecretsecret "$pid" "$one"
	done
done
