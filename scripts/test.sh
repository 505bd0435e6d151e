#!/usr/bin/env bash
# The project's test command.
#
# Usage: scripts/test.sh [--quick]
#
#   1 checks     go mod download, go vet ./..., gofmt
#   2 pure Go    CGO_ENABLED=0 go build ./... and go test ./tokensource/... ./ffi/
#                ./internal/engine/ ./internal/apicheck/ ./livekit/... (the room's event
#                translation runs without the library)
#   3 deps       native library (scripts/build-ffi.sh) and every platform's wheel
#                (livekit-ffi download --all), generated-code drift
#                check (scripts/gen-proto.sh --check), livekit-server
#                (scripts/install-livekit-server.sh; ~5 min the first time)
#                and redis-server (Debian package; .ci/run installs it)
#   4 tests      go test -race ./... inside a private network namespace
#                (scripts/netns.sh) with the server and library required
#   5 fuzz       10 s each of FuzzParse and FuzzDecodeResponse (tokensource)
#
#   --quick      skip -race in step 4 and skip step 5
#
# Environment: LIVEKIT_NETNS (auto|require|off, see scripts/netns.sh),
# LIVEKIT_LIB_PATH and LIVEKIT_SERVER_BIN (use these instead of the cache),
# LIVEKIT_REDIS_BIN (redis-server to use instead of the one on PATH),
# FUZZTIME (default 10s), GO_TEST_FLAGS (extra flags for step 4, e.g. -v).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

quick=0
for arg in "$@"; do
	case "$arg" in
	--quick) quick=1 ;;
	-h | --help)
		sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "test.sh: unknown argument: $arg (see --help)" >&2
		exit 2
		;;
	esac
done

fuzztime="${FUZZTIME:-10s}"
suite_start=$(date +%s)
summary=()
current=""
step_start=0

step() {
	finish_step
	current="$1"
	step_start=$(date +%s)
	printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$current" >&2
}
finish_step() {
	if [[ -n "$current" ]]; then
		summary+=("$(printf '%-5s %5ss  %s' ok $(($(date +%s) - step_start)) "$current")")
		current=""
	fi
}
skip_step() {
	finish_step
	summary+=("$(printf '%-5s %6s  %s' skip '' "$1")")
}
on_exit() {
	local rc=$?
	if [[ -n "$current" ]]; then
		if [[ $rc -eq 0 ]]; then
			finish_step
		else
			summary+=("$(printf '%-5s %5ss  %s' FAIL $(($(date +%s) - step_start)) "$current")")
		fi
	fi
	{
		echo
		echo "==> summary"
		printf '  %s\n' "${summary[@]}"
		if [[ $rc -eq 0 ]]; then
			echo "PASS (total $(($(date +%s) - suite_start))s)"
		else
			echo "FAIL (exit $rc, total $(($(date +%s) - suite_start))s)"
		fi
	} >&2
}
trap on_exit EXIT

# --- 1: static checks --------------------------------------------------------
step "go mod download"
go mod download

step "go vet ./..."
go vet ./...

step "gofmt"
rc=0
unformatted="$(gofmt -l . 2>&1)" || rc=$?
if [[ $rc -ne 0 ]]; then
	echo "gofmt failed:" >&2
	echo "$unformatted" >&2
	exit 1
fi
if [[ -n "$unformatted" ]]; then
	echo "gofmt: these files need 'gofmt -w':" >&2
	echo "$unformatted" >&2
	exit 1
fi

# --- 2: pure Go --------------------------------------------------------------
step "pure Go: CGO_ENABLED=0 go build ./... and go test ./tokensource/... ./ffi/ ./internal/engine/ ./internal/apicheck/ ./livekit/..."
CGO_ENABLED=0 go build ./...
CGO_ENABLED=0 go test -count=1 ./tokensource/... ./ffi/ ./internal/engine/ ./internal/apicheck/ ./livekit/...

# --- 3: native library and server ------------------------------------------
step "native library (scripts/build-ffi.sh)"
[[ -x scripts/build-ffi.sh ]] || {
	echo "test.sh: scripts/build-ffi.sh is missing or not executable; it provides the native livekit-ffi library" >&2
	exit 1
}
out="$(scripts/build-ffi.sh)" || {
	echo "test.sh: scripts/build-ffi.sh failed" >&2
	exit 1
}
LIVEKIT_LIB_PATH="${out##*$'\n'}"
[[ -f "$LIVEKIT_LIB_PATH" ]] || {
	echo "test.sh: scripts/build-ffi.sh printed '$LIVEKIT_LIB_PATH', which is not a file" >&2
	exit 1
}
export LIVEKIT_LIB_PATH
echo "LIVEKIT_LIB_PATH=$LIVEKIT_LIB_PATH" >&2
# cmd/livekit-ffi's tests serve every platform's real wheel from a loopback index: fetch and
# check them now (cached; about 53 MB the first time), since nothing is reachable in step 4.
go run ./cmd/livekit-ffi download --all >/dev/null

step "generated protocol matches the pinned schema (scripts/gen-proto.sh --check)"
scripts/gen-proto.sh --check

step "generated agent protocol matches the pinned livekit/protocol (scripts/gen-agent-proto.sh --check)"
scripts/gen-agent-proto.sh --check

step "livekit-server (scripts/install-livekit-server.sh)"
out="$(scripts/install-livekit-server.sh)" || {
	echo "test.sh: scripts/install-livekit-server.sh failed" >&2
	exit 1
}
LIVEKIT_SERVER_BIN="${out##*$'\n'}"
export LIVEKIT_SERVER_BIN
echo "LIVEKIT_SERVER_BIN=$LIVEKIT_SERVER_BIN ($("$LIVEKIT_SERVER_BIN" --version 2>&1 | head -n 1))" >&2

step "redis-server (multi-node cluster tests; Debian package redis-server)"
if [[ -n "${LIVEKIT_REDIS_BIN:-}" ]]; then
	[[ -x "$LIVEKIT_REDIS_BIN" ]] || {
		echo "test.sh: LIVEKIT_REDIS_BIN=$LIVEKIT_REDIS_BIN is not an executable file" >&2
		exit 1
	}
elif ! command -v redis-server >/dev/null 2>&1; then
	echo "test.sh: redis-server is not on PATH; install the Debian package redis-server (.ci/run does) or set LIVEKIT_REDIS_BIN" >&2
	exit 1
fi
echo "redis-server: $("${LIVEKIT_REDIS_BIN:-redis-server}" --version 2>&1 | head -n 1)" >&2

# --- 4: the suite inside the namespace --------------------------------------
race=(-race)
if [[ $quick -eq 1 ]]; then
	race=()
fi
# GO_TEST_FLAGS is split on spaces on purpose.
# shellcheck disable=SC2206
extra=(${GO_TEST_FLAGS:-})

# Nothing outside is reachable from inside the namespace: compile every test
# binary first (without running anything) so the build cache is warm.
step "compile tests${race:+ (-race)}"
bindir="$(mktemp -d)"
go test "${race[@]}" -c -o "$bindir/" ./... >/dev/null
rm -rf "$bindir"

step "go test ${race[*]:+${race[*]} }-count=1 ./... (in a private network namespace)"
# -mod=mod lets go fill in go.mod/go.sum from the module cache (GOPROXY=off:
# nothing is downloaded in the namespace). It works on copies (-modfile) so
# the test run never rewrites the working tree's go.mod and go.sum.
modtmp="$(mktemp -d)"
cp go.mod "$modtmp/go.mod"
cp go.sum "$modtmp/go.sum" 2>/dev/null || : >"$modtmp/go.sum"
rc=0
env LIVEKIT_REQUIRE_SERVER=1 LIVEKIT_REQUIRE_LIB=1 \
	GOFLAGS="-mod=mod -modfile=$modtmp/go.mod $(go env GOFLAGS)" GOPROXY=off \
	scripts/netns.sh go test "${race[@]}" -count=1 -timeout 15m "${extra[@]}" ./... || rc=$?
rm -rf "$modtmp"
[[ $rc -eq 0 ]] || exit "$rc"

# --- 5: fuzz smoke -----------------------------------------------------------
if [[ $quick -eq 1 ]]; then
	skip_step "fuzz (--quick)"
else
	for fz in FuzzParse FuzzDecodeResponse; do
		if grep -qs "^func $fz(" tokensource/*_test.go; then
			step "fuzz $fz for $fuzztime (tokensource)"
			go test -run '^$' -fuzz "^$fz\$" -fuzztime "$fuzztime" ./tokensource/
		else
			skip_step "fuzz $fz (not defined in tokensource)"
		fi
	done
fi
finish_step
