#!/usr/bin/env bash
# Regenerates proto/*.pb.go from the schema embedded in the pinned official livekit wheel
# (internal/engine/version.env), the same artifact the native library comes from.
# Usage: scripts/gen-proto.sh          regenerate in place
#        scripts/gen-proto.sh --check  fail if the committed code differs from a fresh generation
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
PYTHON=${PYTHON:-python3}

wheel=$(scripts/build-ffi.sh --print-wheel | tail -n 1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$PYTHON" proto/internal/protogen/extract.py "$wheel" > "$tmp/schema.pb"
mkdir -p "$tmp/out"
go run ./proto/internal/protogen -in "$tmp/schema.pb" -out "$tmp/out"

if [ "${1:-}" = --check ]; then
  if ! diff -r -x internal -x doc.go -x '*_test.go' proto "$tmp/out" >"$tmp/diff"; then
    head -n 40 "$tmp/diff" >&2
    echo "gen-proto: proto/ differs from the pinned schema; run scripts/gen-proto.sh" >&2
    exit 1
  fi
  echo "gen-proto: proto/ matches the pinned schema" >&2
  exit 0
fi
rm -f proto/*.pb.go
cp "$tmp/out"/*.pb.go proto/
echo "gen-proto: wrote $(ls "$tmp/out" | wc -l) files to proto/" >&2
