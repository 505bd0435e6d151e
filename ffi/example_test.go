package ffi_test

import (
	"log"
	"log/slog"

	"github.com/livekit-ffi-go/sdk/ffi"
)

// Choose the library's logging before the first connect. LevelOff stops the library from
// formatting log records at all (a fifth of its CPU per connect); errors then reach nobody.
func ExampleLoad() {
	_, err := ffi.Load(ffi.Options{LogLevel: ffi.LevelOff})
	if err != nil {
		log.Fatal(err) // says how to get the library
	}
}

// Forward the library's warnings and errors to the application's logger, and hear about a
// library panic (after which the process should end).
func ExampleOptions() {
	logger := slog.Default()
	_, err := ffi.Load(ffi.Options{
		Logger:   logger,
		LogLevel: slog.LevelWarn,
		OnPanic:  func(p *ffi.PanicError) { logger.Error("livekit engine panicked", "message", p.Message) },
	})
	if err != nil {
		log.Fatal(err)
	}
}

// A service that joins and leaves many rooms gives the memory the library freed back to the
// system after a teardown, instead of letting glibc's arenas keep it.
func ExampleTrimNativeMemory() {
	// ... rooms closed ...
	ffi.TrimNativeMemory()
}
