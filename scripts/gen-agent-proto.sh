#!/usr/bin/env bash
# Regenerates agent/internal/agentpb/*.pb.go, LiveKit's agent worker protocol, from the .proto
# files of the pinned livekit/protocol release (agent/internal/agentpb/version.env), downloaded
# and checksum-verified by the Go module proxy and sum database. The generator
# (agent/internal/agentpb/gen, a module of its own) parses them in process: no protoc.
# Usage: scripts/gen-agent-proto.sh          regenerate in place
#        scripts/gen-agent-proto.sh --check  fail if the committed code differs from a fresh
#                                            generation, or the pin is not what the pinned
#                                            livekit-server's go.mod requires
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
pkg=agent/internal/agentpb

version=$(sed -n 's/^LIVEKIT_PROTOCOL_VERSION=//p' "$pkg/version.env" | tail -n1)
server=$(sed -n 's/^LIVEKIT_SERVER_VERSION=//p' internal/lkserver/version.env | tail -n1)
[[ "$version" == v* && "$server" == v* ]] || { echo "gen-agent-proto: no version pins found" >&2; exit 1; }

# go mod download needs a module to run in; the generator's is a neutral one.
download() { (cd "$pkg/gen" && go mod download -json "$1") | sed -n "s/^[[:space:]]*\"$2\": \"\(.*\)\",\{0,1\}$/\1/p"; }

server_mod=$(download "github.com/livekit/livekit-server@$server" GoMod)
pinned=$(awk '$1 == "github.com/livekit/protocol" { print $2 }' "$server_mod" | head -n1)
if [[ "$pinned" != "$version" ]]; then
	echo "gen-agent-proto: livekit-server $server requires github.com/livekit/protocol $pinned, $pkg/version.env pins $version" >&2
	exit 1
fi

dir=$(download "github.com/livekit/protocol@$version" Dir)
[[ -f "$dir/protobufs/livekit_agent.proto" ]] || { echo "gen-agent-proto: no protobufs/livekit_agent.proto in $dir" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$pkg/gen" && go run . -proto "$dir/protobufs" -out "$tmp")

if [ "${1:-}" = --check ]; then
	if ! diff -r -x gen -x version.env -x doc.go -x diff "$pkg" "$tmp" >"$tmp/diff"; then
		head -n 40 "$tmp/diff" >&2
		echo "gen-agent-proto: $pkg differs from livekit/protocol $version; run scripts/gen-agent-proto.sh" >&2
		exit 1
	fi
	echo "gen-agent-proto: $pkg matches livekit/protocol $version (the version livekit-server $server pins)" >&2
	exit 0
fi
rm -f "$pkg"/*.pb.go
cp "$tmp"/*.pb.go "$pkg/"
echo "gen-agent-proto: wrote $(ls "$tmp"/*.pb.go | wc -l) files to $pkg from livekit/protocol $version" >&2
