package ffi

import (
	"log/slog"
	"sync"

	"github.com/livekit-ffi-go/sdk/internal/engine"
)

// Options configure how the process loads the library. The zero value finds the library on
// its own and forwards only the library's errors to slog.Default().
type Options struct {
	// LibraryPath names liblivekit_ffi explicitly. Empty: LIVEKIT_LIB_PATH, then beside the
	// executable, then where scripts/build-ffi.sh installs it, then the system search.
	LibraryPath string

	// Logger receives the library's log records. Nil: slog.Default().
	Logger *slog.Logger

	// LogLevel is the lowest library level forwarded to Logger. The zero value means
	// slog.LevelError unless LIVEKIT_FFI_LOG (error, warn, info, debug, trace, off) says
	// otherwise. The library logs hundreds of debug records per connect; they are dropped before
	// they cost anything downstream. LevelOff tells the library not to hand over its records at
	// all, which saves it formatting them (about a fifth of its CPU time per connect, measured).
	LogLevel slog.Level

	// OnPanic, if set, is called once (on its own goroutine) when the library panics. The
	// library is unusable afterwards; its advice is to end the process.
	OnPanic func(*PanicError)

	// SkipVersionCheck loads a library that reports another version than PinnedVersion, or
	// that cannot report its version at all.
	SkipVersionCheck bool
}

// LevelTrace is the slog level used for the library's TRACE records.
const LevelTrace = engine.LevelTrace

// LevelOff as Options.LogLevel turns the library's log forwarding off.
const LevelOff = engine.LevelOff

// Client is the loaded library. There is one per process (the library has global state).
type Client struct{ e *engine.Client }

var (
	faceMu sync.Mutex
	face   *Client
)

// Load loads and initializes the native library once per process. A later call returns the
// same client; it fails if it asks for something the loaded client does not have (another
// library path, logger, level, panic hook or version policy). Fields left at their zero value
// match anything, so Load(Options{}) always returns the loaded client. After Dispose, Load
// initializes the library again.
func Load(opts Options) (*Client, error) {
	e, err := engine.Load(engine.Options{
		LibraryPath:      opts.LibraryPath,
		Logger:           opts.Logger,
		LogLevel:         opts.LogLevel,
		OnPanic:          opts.OnPanic,
		SkipVersionCheck: opts.SkipVersionCheck,
	})
	if err != nil {
		return nil, err
	}
	faceMu.Lock()
	defer faceMu.Unlock()
	if face == nil || face.e != e {
		face = &Client{e: e}
	}
	return face, nil
}

// LibraryPath reports the file the library was loaded from.
func (c *Client) LibraryPath() string { return c.e.LibraryPath() }

// LibraryVersion reports the livekit-ffi version the library reports ("" if it cannot say,
// which only a client loaded with SkipVersionCheck accepts).
func (c *Client) LibraryVersion() string { return c.e.LibraryVersion() }

// Err returns the reason the library is unusable: a *PanicError after a library panic,
// ErrDisposed after Dispose, or nil.
func (c *Client) Err() error { return c.e.Err() }

// Dispose closes every room the library still has, stops delivering events and releases the
// goroutines that deliver them. Calls still pending fail with ErrDisposed. Never call it from
// an event handler: it waits for the events in flight to be delivered. Load initializes anew
// afterwards.
func (c *Client) Dispose() error { return c.e.Dispose() }

// PinnedVersion is the livekit-ffi version this module's protocol code was generated from. A
// library reporting another version is refused unless Options.SkipVersionCheck.
func PinnedVersion() string { return engine.PinnedVersion() }

// TrimNativeMemory asks the C allocator (glibc malloc, which the native library uses) to
// return freed memory to the system, and reports whether it released any. glibc keeps memory
// the library freed in per-thread arenas, so a service that joins and leaves many rooms sees
// its resident size grow without a leak; calling this after a burst of room teardowns, or
// starting the process with MALLOC_ARENA_MAX=2, keeps it down. It does nothing and reports
// false where the C library is not glibc.
func TrimNativeMemory() bool { return engine.TrimNativeMemory() }
