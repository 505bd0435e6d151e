#!/usr/bin/env bash
# Gets liblivekit_ffi for the one pinned livekit-ffi version (ffi/version.env), verifies it and
# installs it into a cache dir. Prints the library path as the last line of stdout; everything
# else goes to stderr.
#
# Order (first that works wins):
#   1. $LIVEKIT_LIB_PATH            an explicit library the caller chose (checked, not checksummed)
#   2. the installed copy           cache dir, checksum matches the pin
#   3. GitHub release zip           what real users' machines reach
#   4. PyPI wheel livekit==<pin>    bundles the same release binary; reachable where GitHub is not
#
# Usage: scripts/build-ffi.sh [--print-wheel] [--force]
#   --print-wheel  print the verified wheel path instead (scripts/gen-proto.sh reads the schema from it)
#   --force        ignore the installed copy and fetch again
# Env: LIVEKIT_LIB_PATH, LIVEKIT_FFI_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/livekit-ffi-go),
#      LIVEKIT_FFI_SKIP_GITHUB=1 (skip step 3), PYTHON (default python3).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../ffi/version.env
. "$root/ffi/version.env"

say() { printf 'build-ffi: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

mode=lib
force=0
for arg in "$@"; do
  case "$arg" in
    --print-wheel) mode=wheel ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (see --help)" ;;
  esac
done

PYTHON=${PYTHON:-python3}
ver=$LIVEKIT_FFI_VERSION

case "$(uname -s)" in
  Linux) os=linux; libname=liblivekit_ffi.so ;;
  Darwin) os=macos; libname=liblivekit_ffi.dylib ;;
  *) die "unsupported OS $(uname -s); set LIVEKIT_LIB_PATH to a liblivekit_ffi you built" ;;
esac
case "$(uname -m)" in
  x86_64|amd64) arch=x86_64 ;;
  aarch64|arm64) arch=aarch64 ;;
  *) die "unsupported CPU $(uname -m); set LIVEKIT_LIB_PATH to a liblivekit_ffi you built" ;;
esac

pin_var() { local n="$1_${os}_${arch}"; printf '%s' "${!n:-}"; }
lib_sha=$(pin_var LIVEKIT_LIB_SHA256)
wheel_sha=$(pin_var LIVEKIT_WHEEL_SHA256)

cache=${LIVEKIT_FFI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/livekit-ffi-go}
dest_dir="$cache/livekit-ffi/$ver/$os-$arch"
dest="$dest_dir/$libname"
wheel_dir="$cache/wheels"

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# check_lib PATH: loads the library, checks the four C entry points and, where the library has
# the call, that it reports the pinned version. Prints nothing on success.
check_lib() {
  "$PYTHON" - "$1" "$ver" <<'PY'
import ctypes, sys
path, want = sys.argv[1], sys.argv[2]
try:
    lib = ctypes.CDLL(path)
except OSError as e:
    sys.exit(f"cannot load {path}: {e}")
missing = [s for s in ("livekit_ffi_initialize", "livekit_ffi_request",
                       "livekit_ffi_drop_handle", "livekit_ffi_dispose") if not hasattr(lib, s)]
if missing:
    sys.exit(f"{path} does not export {', '.join(missing)}: not a livekit-ffi library")
if hasattr(lib, "uniffi_livekit_ffi_fn_func_build_version"):
    class RustBuffer(ctypes.Structure):
        _fields_ = [("capacity", ctypes.c_uint64), ("len", ctypes.c_uint64), ("data", ctypes.c_void_p)]
    class CallStatus(ctypes.Structure):
        _fields_ = [("code", ctypes.c_int8), ("error_buf", RustBuffer)]
    fn = lib.uniffi_livekit_ffi_fn_func_build_version
    fn.restype = RustBuffer
    fn.argtypes = [ctypes.POINTER(CallStatus)]
    st = CallStatus()
    buf = fn(ctypes.byref(st))
    got = ctypes.string_at(buf.data, buf.len).decode() if st.code == 0 else "?"
    if got != want:
        sys.exit(f"{path} is livekit-ffi {got}, this checkout pins {want}")
PY
}

install_lib() { # install_lib SRC: verify checksum, then copy into the cache atomically
  local src=$1 got
  got=$(sha256 "$src")
  if [ -n "$lib_sha" ] && [ "$got" != "$lib_sha" ]; then
    say "checksum mismatch for $src: got $got, pinned $lib_sha"
    return 1
  fi
  check_lib "$src" || return 1
  mkdir -p "$dest_dir"
  cp "$src" "$dest.tmp.$$"
  mv -f "$dest.tmp.$$" "$dest"
  say "installed $dest"
}

# fetch_wheel: downloads (or reuses) the pinned wheel, verifies it, prints its path.
fetch_wheel() {
  local plat py_wheel
  case "$os-$arch" in
    linux-x86_64) plat=manylinux_2_28_x86_64 ;;
    linux-aarch64) plat=manylinux_2_28_aarch64 ;;
    *) say "no pinned PyPI wheel for $os-$arch"; return 1 ;;
  esac
  [ -n "$wheel_sha" ] || { say "no wheel checksum pinned for $os-$arch"; return 1; }
  py_wheel="$wheel_dir/livekit-$LIVEKIT_WHEEL_VERSION-py3-none-$plat.whl"
  if [ ! -f "$py_wheel" ] || [ "$(sha256 "$py_wheel")" != "$wheel_sha" ]; then
    command -v "$PYTHON" >/dev/null 2>&1 || { say "$PYTHON not found"; return 1; }
    mkdir -p "$wheel_dir"
    rm -f "$py_wheel"
    say "downloading livekit==$LIVEKIT_WHEEL_VERSION wheel ($plat) from PyPI"
    "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --platform "$plat" \
      --python-version 3.11 --implementation py -d "$wheel_dir" "livekit==$LIVEKIT_WHEEL_VERSION" >&2 || {
      say "pip download failed"; return 1; }
  fi
  [ "$(sha256 "$py_wheel")" = "$wheel_sha" ] || {
    say "wheel checksum mismatch: $py_wheel"; rm -f "$py_wheel"; return 1; }
  printf '%s\n' "$py_wheel"
}

from_wheel() {
  local w tmp
  w=$(fetch_wheel) || return 1
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  "$PYTHON" - "$w" "$tmp" "$libname" <<'PY' || return 1
import sys, zipfile
whl, out, name = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    z.extract(f"livekit/rtc/resources/{name}", out)
PY
  install_lib "$tmp/livekit/rtc/resources/$libname"
}

from_github() {
  [ "${LIVEKIT_FFI_SKIP_GITHUB:-0}" = 1 ] && return 1
  command -v curl >/dev/null 2>&1 || return 1
  local garch=$arch tmp url
  [ "$arch" = aarch64 ] && garch=arm64
  url="https://github.com/livekit/rust-sdks/releases/download/livekit-ffi/v$ver/ffi-$os-$garch.zip"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  say "trying GitHub release $url"
  curl -fsSL --connect-timeout 5 --max-time 180 -o "$tmp/ffi.zip" "$url" 2>/dev/null || {
    say "GitHub release not reachable"; return 1; }
  "$PYTHON" -c 'import sys,zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$tmp/ffi.zip" "$tmp/x" || return 1
  local lib
  lib=$(find "$tmp/x" -name "$libname" | head -n 1)
  [ -n "$lib" ] || { say "release zip has no $libname"; return 1; }
  install_lib "$lib"
}

if [ "$mode" = wheel ]; then
  fetch_wheel || die "cannot get the livekit==$LIVEKIT_WHEEL_VERSION wheel from PyPI"
  exit 0
fi

if [ -n "${LIVEKIT_LIB_PATH:-}" ]; then
  [ -f "$LIVEKIT_LIB_PATH" ] || die "LIVEKIT_LIB_PATH=$LIVEKIT_LIB_PATH does not exist"
  check_lib "$LIVEKIT_LIB_PATH" || die "LIVEKIT_LIB_PATH=$LIVEKIT_LIB_PATH is not usable (see above); unset it to download livekit-ffi $ver"
  say "using LIVEKIT_LIB_PATH"
  printf '%s\n' "$LIVEKIT_LIB_PATH"
  exit 0
fi

if [ "$force" = 0 ] && [ -f "$dest" ] && { [ -z "$lib_sha" ] || [ "$(sha256 "$dest")" = "$lib_sha" ]; }; then
  say "livekit-ffi $ver already installed"
  printf '%s\n' "$dest"
  exit 0
fi

from_github || from_wheel || die "could not get livekit-ffi $ver for $os-$arch.
  Tried: GitHub release, PyPI wheel livekit==$LIVEKIT_WHEEL_VERSION.
  Fix: check network access to PyPI (python3 -m pip download livekit==$LIVEKIT_WHEEL_VERSION),
  or build livekit-ffi $ver yourself and set LIVEKIT_LIB_PATH=/path/to/$libname."
printf '%s\n' "$dest"
