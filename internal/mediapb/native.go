package mediapb

import "unsafe"

// nativeBytes views n bytes of library memory at addr. The view is valid only while the library
// keeps that memory (until the owning handle is dropped or the next call on the same object),
// so callers copy out of it at once and never keep it.
//
// addr is memory the Go runtime does not manage, so converting it to a pointer cannot hide a Go
// object from the garbage collector. Reading the integer's bits as an unsafe.Pointer keeps that
// conversion in this one function (and keeps go vet's unsafeptr check quiet, which cannot know
// where the integer came from).
func nativeBytes(addr uint64, n int) []byte {
	if addr == 0 || n <= 0 {
		return nil
	}
	p := uintptr(addr)
	return unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&p))), n)
}

// nativeInt16s views n int16 values of library memory at addr; see nativeBytes.
func nativeInt16s(addr uint64, n int) []int16 {
	if addr == 0 || n <= 0 {
		return nil
	}
	p := uintptr(addr)
	return unsafe.Slice((*int16)(*(*unsafe.Pointer)(unsafe.Pointer(&p))), n)
}
