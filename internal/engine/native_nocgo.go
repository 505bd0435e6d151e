//go:build !cgo

package engine

// Without cgo the package still compiles, so pure-Go users of the module build everywhere;
// every entry point that needs the native library returns ErrNoCgo.

const cgoEnabled = false

func openNative(string) error               { return ErrNoCgo }
func nativeVersion() string                 { return "" }
func nativeInitialize(bool, string, string) {}
func nativeRequest([]byte) ([]byte, bool)   { return nil, false }
func nativeSend([]byte) bool                { return false }
func nativeDropHandle(uint64) bool          { return false }
func nativeDispose()                        {}
func nativeCopy(uint64, uint64) []byte      { return nil }
func nativeEmit([]byte, int)                {}
