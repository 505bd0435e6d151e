//go:build cgo && linux

package engine

/*
#include <malloc.h>
static int lk_trim(void) { return malloc_trim(0); }
*/
import "C"

// TrimNativeMemory asks the C allocator (glibc malloc, which the native library uses) to
// return freed memory to the system, and reports whether it released any. glibc keeps memory
// the library freed in per-thread arenas, so a service that joins and leaves many rooms sees
// its resident size grow without a leak; calling this after a burst of room teardowns, or
// starting the process with MALLOC_ARENA_MAX=2, keeps it down (bench/soak.txt).
func TrimNativeMemory() bool { return C.lk_trim() == 1 }
