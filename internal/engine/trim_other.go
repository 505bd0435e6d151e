//go:build !cgo || !linux

package engine

// TrimNativeMemory asks the C allocator to return freed memory to the system. It does
// nothing here (only glibc has malloc_trim) and reports false.
func TrimNativeMemory() bool { return false }
