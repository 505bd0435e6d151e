package engine

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/livekit-ffi-go/sdk/internal/queue"
)

// Options configure the process-wide client. The zero value finds the library on its own and
// forwards only the library's errors to slog.Default().
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
	// client is unusable afterwards; the library's advice is to end the process.
	OnPanic func(*PanicError)

	// SkipVersionCheck loads a library that reports another version than PinnedVersion, or
	// that cannot report its version at all.
	SkipVersionCheck bool
}

// LevelTrace is the slog level used for the library's TRACE records.
const LevelTrace = slog.LevelDebug - 4

// LevelOff as Options.LogLevel turns the library's log forwarding off.
const LevelOff = slog.Level(1 << 20)

var (
	globalMu   sync.Mutex
	global     *Client
	globalOpts Options
	// active is the client that the C callback feeds; nil while none is initialized.
	active atomic.Pointer[Client]
)

// Load loads and initializes the native library once per process and returns the client.
// A later call returns the same client; it fails if it asks for something the loaded client
// does not have (another library path, logger, level, panic hook or version policy). Fields
// left at their zero value match anything, so Load(Options{}) always returns the loaded
// client. After Dispose, Load initializes the library again.
func Load(opts Options) (*Client, error) {
	globalMu.Lock()
	defer globalMu.Unlock()
	if global != nil {
		if err := sameOptions(globalOpts, opts, global.path); err != nil {
			return nil, err
		}
		return global, nil
	}
	c, err := newClient(opts)
	if err != nil {
		return nil, err
	}
	global, globalOpts = c, opts
	return c, nil
}

// sameOptions reports how want differs from the options the client was loaded with.
func sameOptions(have, want Options, loadedPath string) error {
	var diff []string
	if want.LibraryPath != "" && want.LibraryPath != have.LibraryPath && want.LibraryPath != loadedPath {
		diff = append(diff, fmt.Sprintf("library %s (loaded: %s)", want.LibraryPath, loadedPath))
	}
	if want.Logger != nil && want.Logger != have.Logger {
		diff = append(diff, "another Logger")
	}
	if want.LogLevel != 0 && want.LogLevel != have.LogLevel {
		diff = append(diff, fmt.Sprintf("LogLevel %v (loaded: %v)", want.LogLevel, have.LogLevel))
	}
	if want.OnPanic != nil {
		diff = append(diff, "an OnPanic hook (set it on the first Load)")
	}
	if want.SkipVersionCheck && !have.SkipVersionCheck {
		diff = append(diff, "SkipVersionCheck")
	}
	if len(diff) == 0 {
		return nil
	}
	return fmt.Errorf("livekit ffi: already loaded with other options; this Load asks for %s (load once, before the first connect, or Dispose first)", strings.Join(diff, ", "))
}

// Default is Load with the zero Options: the loaded client, or a new one with defaults.
func Default() (*Client, error) { return Load(Options{}) }

// Client speaks the livekit-ffi protocol. There is one per process (the library has global
// state). Its methods are safe for concurrent use.
type Client struct {
	path    string
	version string
	log     *slog.Logger
	level   slog.Level
	onPanic func(*PanicError)

	events *queue.Queue[[]byte]    // raw events from the C callback, in arrival order
	logs   *queue.Queue[[]logItem] // filtered log records, for the logging goroutine
	wg     sync.WaitGroup

	nextID atomic.Uint64

	mu       sync.Mutex
	waiters  map[waitKey]*waiter
	routes   map[routeKey]*Subscription
	flights  map[uint64]*Flight
	flightN  uint64 // flights ever made: the next one's index
	failed   error  // sticky: a *PanicError or ErrDisposed
	panicked *PanicError

	raws    atomic.Int64 // subscriptions with a raw function
	handles atomic.Int64 // outstanding owned handles
	leaked  atomic.Int64 // handles dropped by the GC safety net
}

func newClient(opts Options) (*Client, error) {
	path, version, err := openLibrary(opts.LibraryPath, opts.SkipVersionCheck)
	if err != nil {
		return nil, err
	}
	c := &Client{
		path:    path,
		version: version,
		log:     opts.Logger,
		level:   opts.LogLevel,
		onPanic: opts.OnPanic,
		events:  queue.New[[]byte](),
		logs:    queue.New[[]logItem](),
		waiters: map[waitKey]*waiter{},
		routes:  map[routeKey]*Subscription{},
		flights: map[uint64]*Flight{},
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.level == 0 {
		c.level = levelFromEnv(os.Getenv("LIVEKIT_FFI_LOG"))
	}
	// Client-chosen async ids live far above the library's own id counter (handles and
	// server-chosen async ids share it), so the two can never meet.
	c.nextID.Store(1 << 48)

	c.wg.Add(2)
	go c.dispatch()
	go func() { defer c.wg.Done(); c.logs.Drain(nil, c.emitLogs) }()
	active.Store(c)
	nativeInitialize(c.level != LevelOff, SDKName, SDKVersion)
	return c, nil
}

func levelFromEnv(s string) slog.Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "trace":
		return LevelTrace
	case "debug":
		return slog.LevelDebug
	case "info":
		return slog.LevelInfo
	case "warn", "warning":
		return slog.LevelWarn
	case "off", "none":
		return LevelOff
	}
	return slog.LevelError
}

// LibraryPath reports the file the library was loaded from.
func (c *Client) LibraryPath() string { return c.path }

// LibraryVersion reports the livekit-ffi version the library reports ("" if it cannot say,
// which only a client loaded with SkipVersionCheck accepts).
func (c *Client) LibraryVersion() string { return c.version }

// Err returns the reason the client is unusable: a *PanicError after a library panic,
// ErrDisposed after Dispose, or nil.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

// onEvent is called by the C callback on a library thread. It must only copy and enqueue.
func onEvent(b []byte) {
	if c := active.Load(); c != nil {
		if c.deliverDirect(b) {
			return
		}
		c.events.Push(b)
	}
}

// reportCallbackPanic is the last resort if onEvent itself panics; it must not panic again.
func reportCallbackPanic(r any) {
	fmt.Fprintf(os.Stderr, "livekit ffi: internal error in event callback: %v\n", r)
}

// routePanic makes a library panic sticky, fails every pending call and tells the user once.
func (c *Client) routePanic(msg string) {
	perr := &PanicError{Message: msg}
	c.mu.Lock()
	first := c.panicked == nil
	if first {
		c.panicked = perr
		if c.failed == nil {
			c.failed = perr
		}
	}
	c.mu.Unlock()
	c.failWaiters(all, perr)
	if !first {
		return
	}
	c.log.Error("livekit ffi: native library panicked; the client is unusable", "message", msg)
	if c.onPanic != nil {
		go c.onPanic(perr)
	}
}
