#!/usr/bin/env bash
# Regenerates internal/nativelib/pins.env, the per-platform pins of the livekit-ffi release:
# for each platform, the official livekit wheel on PyPI, its sha256 and the library's sha256.
# Downloads every wheel (checked against the sha256 the index lists) into the cache.
#
# Usage: scripts/pin-ffi.sh [-wheel 1.2.0 -ffi 0.13.2] [-check] [-index URL]
#   -wheel, -ffi  move to another release (then regenerate proto/: scripts/gen-proto.sh)
#   -check        fail if the committed pins differ from what the index says
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec go run ./internal/nativelib/pingen "$@"
