#!/usr/bin/env bash
# Install livekit-server (pinned version) for the integration tests.
#
# Usage: scripts/install-livekit-server.sh
#
# Prints the path of the livekit-server binary as the LAST line of stdout;
# progress and errors go to stderr. Idempotent: when the binary is already
# installed (and reports the pinned version) it returns at once.
#
# Environment:
#   LIVEKIT_SERVER_BIN  path of an existing livekit-server binary to use
#                       instead of the cache (it must exist and be executable).
#   XDG_CACHE_HOME      cache root (default $HOME/.cache). The binary goes to
#                       $XDG_CACHE_HOME/livekit-ffi-go/livekit-server/<version>/livekit-server
#
# The version is pinned in internal/lkserver/version.env (LIVEKIT_SERVER_VERSION),
# which the Go harness embeds too. Building needs Go and the Go module proxy
# (about 5 minutes on 2 cores the first time).
set -euo pipefail

version_env="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/internal/lkserver/version.env"
LIVEKIT_SERVER_VERSION="$(sed -n 's/^LIVEKIT_SERVER_VERSION=//p' "$version_env" 2>/dev/null | tail -n1)"
[[ "$LIVEKIT_SERVER_VERSION" == v* ]] || {
	echo "install-livekit-server: ERROR: no LIVEKIT_SERVER_VERSION=v... in $version_env" >&2
	exit 1
}
LIVEKIT_SERVER_PKG="github.com/livekit/livekit-server/cmd/server"

log() { echo "install-livekit-server: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# version_ok BIN: true when BIN runs and reports the pinned version.
version_ok() {
	local out
	out="$("$1" --version 2>&1)" || return 1
	[[ "$out" == *"${LIVEKIT_SERVER_VERSION#v}"* ]]
}

if [[ -n "${LIVEKIT_SERVER_BIN:-}" ]]; then
	[[ -x "$LIVEKIT_SERVER_BIN" ]] || die "LIVEKIT_SERVER_BIN=$LIVEKIT_SERVER_BIN is not an executable file"
	if ! version_ok "$LIVEKIT_SERVER_BIN"; then
		log "warning: $LIVEKIT_SERVER_BIN does not report version ${LIVEKIT_SERVER_VERSION#v} (using it anyway, as asked)"
	fi
	echo "$LIVEKIT_SERVER_BIN"
	exit 0
fi

cache_root="${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}"
dest_dir="$cache_root/livekit-ffi-go/livekit-server/$LIVEKIT_SERVER_VERSION"
dest="$dest_dir/livekit-server"

if [[ -x "$dest" ]] && version_ok "$dest"; then
	log "already installed: $dest"
	echo "$dest"
	exit 0
fi

mkdir -p "$dest_dir"
# One build at a time per cache dir; a run that waited finds the binary ready.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$dest_dir/.lock"
	if ! flock -n 9; then
		log "another install is building livekit-server; waiting for it..."
		flock 9
	fi
	if [[ -x "$dest" ]] && version_ok "$dest"; then
		log "installed by another run: $dest"
		echo "$dest"
		exit 0
	fi
fi

command -v go >/dev/null 2>&1 || die "go is not on PATH; it is needed to build livekit-server $LIVEKIT_SERVER_VERSION"

tmp="$(mktemp -d "$dest_dir/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

log "building livekit-server $LIVEKIT_SERVER_VERSION with go install (first time takes ~5 min on 2 cores)..."
start=$(date +%s)
# Build outside the repository so its go.mod (and any GOFLAGS like -mod=mod) does not interfere.
if ! (cd "$tmp" && GOBIN="$tmp/bin" GOFLAGS= GO111MODULE=on \
	go install "$LIVEKIT_SERVER_PKG@$LIVEKIT_SERVER_VERSION" >&2); then
	die "go install $LIVEKIT_SERVER_PKG@$LIVEKIT_SERVER_VERSION failed (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
fi
[[ -x "$tmp/bin/server" ]] || die "go install finished but $tmp/bin/server is missing"
version_ok "$tmp/bin/server" || die "built binary does not report version ${LIVEKIT_SERVER_VERSION#v}: $("$tmp/bin/server" --version 2>&1 | head -1)"
# Atomic rename in the same directory: concurrent runs never see a half-written file.
mv -f "$tmp/bin/server" "$dest"
log "built in $(( $(date +%s) - start ))s: $dest"
echo "$dest"
