//go:build cgo

package engine

/*
#cgo linux LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

// The C ABI of liblivekit_ffi, declared here because the header it ships is C++.
typedef void (*lk_callback)(const uint8_t *data, size_t len);
typedef void (*lk_initialize_fn)(lk_callback cb, bool capture_logs, const char *sdk, const char *sdk_version);
typedef uint64_t (*lk_request_fn)(const uint8_t *data, size_t len, const uint8_t **res_ptr, size_t *res_len);
typedef bool (*lk_drop_handle_fn)(uint64_t handle);
typedef void (*lk_dispose_fn)(void);

// uniffi's build_version call (present in livekit-ffi 0.13+): lets us check the version before
// initializing anything.
typedef struct { uint64_t capacity; uint64_t len; uint8_t *data; } lk_rust_buffer;
typedef struct { int8_t code; lk_rust_buffer error_buf; } lk_call_status;
typedef lk_rust_buffer (*lk_build_version_fn)(lk_call_status *status);
typedef void (*lk_rustbuffer_free_fn)(lk_rust_buffer buf, lk_call_status *status);

static lk_initialize_fn lk_initialize;
static lk_request_fn lk_request;
static lk_drop_handle_fn lk_drop_handle;
static lk_dispose_fn lk_dispose;
static lk_build_version_fn lk_build_version;
static lk_rustbuffer_free_fn lk_rustbuffer_free;

extern void lkgoOnEvent(uint8_t *data, size_t len);

static void lk_trampoline(const uint8_t *data, size_t len) {
	lkgoOnEvent((uint8_t *)data, len);
}

// lk_probe loads the library and checks its entry points without using it. Returns the dlopen
// handle, or NULL with *err (owned by the caller) or *missing (the first absent symbol) set.
static void *lk_probe(const char *path, char **err, const char **missing) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *e = dlerror();
		*err = malloc(1024);
		snprintf(*err, 1024, "%s", e ? e : "dlopen failed");
		return NULL;
	}
	static const char *names[] = {"livekit_ffi_initialize", "livekit_ffi_request",
		"livekit_ffi_drop_handle", "livekit_ffi_dispose"};
	for (int i = 0; i < 4; i++) {
		if (dlsym(h, names[i]) == NULL) {
			*missing = names[i];
			dlclose(h);
			return NULL;
		}
	}
	return h;
}

// lk_commit makes a probed library the one in use. Its handle is kept for the life of the
// process: Rust libraries do not survive dlclose.
static void lk_commit(void *h) {
	lk_initialize = (lk_initialize_fn)dlsym(h, "livekit_ffi_initialize");
	lk_request = (lk_request_fn)dlsym(h, "livekit_ffi_request");
	lk_drop_handle = (lk_drop_handle_fn)dlsym(h, "livekit_ffi_drop_handle");
	lk_dispose = (lk_dispose_fn)dlsym(h, "livekit_ffi_dispose");
	lk_build_version = (lk_build_version_fn)dlsym(h, "uniffi_livekit_ffi_fn_func_build_version");
	lk_rustbuffer_free = (lk_rustbuffer_free_fn)dlsym(h, "ffi_livekit_ffi_rustbuffer_free");
}

static void lk_close(void *h) { dlclose(h); }

// lk_version copies the library's version into out (NUL-terminated). Returns 0 if unknown.
static int lk_version(char *out, size_t cap) {
	if (lk_build_version == NULL || cap == 0) return 0;
	lk_call_status st = {0};
	lk_rust_buffer b = lk_build_version(&st);
	if (st.code != 0) return 0;
	size_t n = b.len < cap - 1 ? b.len : cap - 1;
	for (size_t i = 0; i < n; i++) out[i] = (char)b.data[i];
	out[n] = 0;
	if (lk_rustbuffer_free != NULL) {
		lk_call_status st2 = {0};
		lk_rustbuffer_free(b, &st2);
	}
	return 1;
}

static void lk_call_initialize(bool capture_logs, const char *sdk, const char *version) {
	lk_initialize(lk_trampoline, capture_logs, sdk, version);
}

static uint64_t lk_call_request(const uint8_t *data, size_t len, const uint8_t **res, size_t *res_len) {
	return lk_request(data, len, res, res_len);
}

static bool lk_call_drop(uint64_t h) { return lk_drop_handle(h); }

// lk_call_send sends a request whose response is not needed and drops the response, in one
// cgo call and with the out-parameters on the C stack (Go would move them to its heap).
static bool lk_call_send(const uint8_t *data, size_t len) {
	const uint8_t *res = NULL;
	size_t res_len = 0;
	uint64_t h = lk_request(data, len, &res, &res_len);
	if (h == 0) return false;
	lk_drop_handle(h);
	return true;
}
static void lk_call_dispose(void) { lk_dispose(); }
static const void *lk_ptr(uint64_t addr) { return (const void *)(uintptr_t)addr; }

// lk_emit feeds n copies of an event through the same trampoline the library calls, from C.
// Benchmarks use it to measure the pump without the library's own costs.
static void lk_emit(const uint8_t *data, size_t len, int n) {
	for (int i = 0; i < n; i++) lk_trampoline(data, len);
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

const cgoEnabled = true

var openMu sync.Mutex
var openedPath string

// openNative loads the library at path (a file path, or a bare name for the system search).
// Only one library can be in use per process; asking for the same one again is a no-op.
func openNative(path string) error {
	openMu.Lock()
	defer openMu.Unlock()
	if openedPath == path {
		return nil
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var cerr *C.char
	var missing *C.char
	h := C.lk_probe(cpath, &cerr, &missing)
	if h == nil {
		if cerr != nil {
			defer C.free(unsafe.Pointer(cerr))
			return &LoadError{Path: path, Reason: C.GoString(cerr)}
		}
		return &LoadError{Path: path, Reason: "it does not export " + C.GoString(missing) + ", so it is not a livekit-ffi library"}
	}
	if openedPath != "" {
		C.lk_close(h)
		return fmt.Errorf("%w: already loaded from %s, cannot also load %s", ErrLibrary, openedPath, path)
	}
	C.lk_commit(h)
	openedPath = path
	return nil
}

// nativeVersion returns the version the loaded library reports, or "" if it cannot say.
func nativeVersion() string {
	var buf [64]C.char
	if C.lk_version(&buf[0], C.size_t(len(buf))) == 0 {
		return ""
	}
	return C.GoString(&buf[0])
}

func nativeInitialize(captureLogs bool, sdk, version string) {
	csdk := C.CString(sdk)
	cver := C.CString(version)
	C.lk_call_initialize(C.bool(captureLogs), csdk, cver)
	C.free(unsafe.Pointer(csdk))
	C.free(unsafe.Pointer(cver))
}

// nativeRequest sends one serialized FfiRequest and returns a copy of the serialized response.
func nativeRequest(req []byte) ([]byte, bool) {
	if len(req) == 0 {
		return nil, false
	}
	var res *C.uint8_t
	var resLen C.size_t
	h := C.lk_call_request((*C.uint8_t)(unsafe.Pointer(&req[0])), C.size_t(len(req)), &res, &resLen)
	runtime.KeepAlive(req)
	if h == 0 {
		return nil, false
	}
	out := C.GoBytes(unsafe.Pointer(res), C.int(resLen))
	C.lk_call_drop(h)
	return out, true
}

// nativeSend sends one serialized FfiRequest whose response is not needed (an asynchronous
// request: the async id is ours) and drops the response without copying it.
func nativeSend(req []byte) bool {
	if len(req) == 0 {
		return false
	}
	ok := C.lk_call_send((*C.uint8_t)(unsafe.Pointer(&req[0])), C.size_t(len(req)))
	runtime.KeepAlive(req)
	return bool(ok)
}

func nativeDropHandle(id uint64) bool { return bool(C.lk_call_drop(C.uint64_t(id))) }

func nativeDispose() { C.lk_call_dispose() }

// nativeCopy copies n bytes of library memory at addr (an OwnedBuffer's data pointer).
func nativeCopy(addr, n uint64) []byte {
	if addr == 0 || n == 0 {
		return []byte{}
	}
	return C.GoBytes(C.lk_ptr(C.uint64_t(addr)), C.int(n))
}

// nativeEmit runs data through the C callback path n times (benchmarks only).
func nativeEmit(data []byte, n int) {
	C.lk_emit((*C.uint8_t)(unsafe.Pointer(&data[0])), C.size_t(len(data)), C.int(n))
	runtime.KeepAlive(data)
}

//export lkgoOnEvent
func lkgoOnEvent(data *C.uint8_t, n C.size_t) {
	// Runs on a library thread: copy, enqueue, return. A panic must not cross into Rust.
	defer func() {
		if r := recover(); r != nil {
			reportCallbackPanic(r)
		}
	}()
	if c := active.Load(); c != nil && n > 0 {
		// A flight's completion, and a stream frame a raw subscriber takes, are read in
		// place; everything else is copied and queued.
		ev := unsafe.Slice((*byte)(unsafe.Pointer(data)), int(n))
		if c.completeFlight(ev) || c.routeRaw(ev) {
			return
		}
	}
	onEvent(C.GoBytes(unsafe.Pointer(data), C.int(n)))
}
