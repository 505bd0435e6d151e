#!/usr/bin/env bash
# Gets liblivekit_ffi for the pinned livekit-ffi release (internal/nativelib/pins.env) with
# cmd/livekit-ffi, the same pure-Go command users run with `go run`: it downloads the official
# livekit wheel from PyPI (cached), checks the wheel's and the library's sha256 against the
# pins and installs the library where package ffi looks for it. Prints the library path as the
# last line of stdout; everything else goes to stderr.
#
# Usage: scripts/build-ffi.sh [--force] [--print-wheel]
#   --force        install again even if a checked copy is installed
#   --print-wheel  print the checked wheel's path instead (scripts/gen-proto.sh reads the schema from it)
# Env: LIVEKIT_LIB_PATH (a library chosen by hand: printed as is, ffi checks its version when it
#      loads it), LIVEKIT_FFI_CACHE (cache root, default ${XDG_CACHE_HOME:-$HOME/.cache}/livekit-ffi-go),
#      LIVEKIT_FFI_INDEX (a PyPI mirror).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

args=(install)
for arg in "$@"; do
	case "$arg" in
	--force) args+=(--force) ;;
	--print-wheel) args=(download) ;;
	-h | --help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "build-ffi: unknown argument: $arg (see --help)" >&2; exit 2 ;;
	esac
done

if [[ ${args[0]} == install && -n "${LIVEKIT_LIB_PATH:-}" ]]; then
	[[ -f "$LIVEKIT_LIB_PATH" ]] || { echo "build-ffi: error: LIVEKIT_LIB_PATH=$LIVEKIT_LIB_PATH does not exist" >&2; exit 1; }
	echo "build-ffi: using LIVEKIT_LIB_PATH" >&2
	printf '%s\n' "$LIVEKIT_LIB_PATH"
	exit 0
fi
exec go run ./cmd/livekit-ffi "${args[@]}"
