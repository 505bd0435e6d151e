#!/usr/bin/env bash
# One benchmark session: livekit-server (the anchors' config) plus the Go harness and the
# Python anchor, one after the other, inside one private network namespace.
#
# Usage (from the repository root, after building the harness and creating the venv):
#   go build -o /tmp/bench-audio ./bench/audio/
#   python3 -m venv /tmp/pyv && /tmp/pyv/bin/pip install livekit==1.2.0 livekit-api numpy
#   scripts/netns.sh bench/audio/run.sh
#
# Environment: LIVEKIT_SERVER_BIN, BENCH_AUDIO (/tmp/bench-audio), PY (/tmp/pyv/bin/python),
# ANCHORS (/work/shared/anchors), CPU_FOR (60s).
set -euo pipefail
bin="${BENCH_AUDIO:-/tmp/bench-audio}"
py="${PY:-/tmp/pyv/bin/python}"
anchors="${ANCHORS:-/work/shared/anchors}"
cpu_for="${CPU_FOR:-60s}"

"${LIVEKIT_SERVER_BIN:-livekit-server}" --config "$anchors/livekit-server.yaml" >/tmp/bench-audio-server.log 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null || true' EXIT
for _ in $(seq 100); do
	if (exec 3<>/dev/tcp/127.0.0.1/7880) 2>/dev/null; then break; fi
	sleep 0.1
done

echo "# round 1: go, then python" >&2
"$bin" --queues 50ms,1000ms,fast --pace clock,ahead
QMS=50 "$py" "$anchors/py-audio-bench.py"
QMS=1000 "$py" "$anchors/py-audio-bench.py"
echo "# round 2: python, then go" >&2
QMS=50 "$py" "$anchors/py-audio-bench.py"
QMS=1000 "$py" "$anchors/py-audio-bench.py"
"$bin" --queues 50ms,1000ms,fast --pace clock,ahead
echo "# cpu" >&2
DURATION="${cpu_for%s}" "$py" "$(dirname "$0")/py-cpu.py"
"$bin" --skip-capture --queues '' --cpu-for "$cpu_for"
