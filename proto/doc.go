// Package proto holds the Go types of the livekit-ffi protocol (package livekit.proto), generated
// from the schema of the pinned livekit-ffi release (see ffi/version.env).
//
// The schema is read from the FileDescriptorProtos embedded in the official livekit wheel, the
// same artifact the native library comes from, so the types match the library byte for byte.
// Regenerate with scripts/gen-proto.sh; scripts/gen-proto.sh --check fails on drift.
//
// Most programs never need this package: the livekit package wraps it. It is public for those
// who want to send requests the wrapper does not cover yet, through the ffi package.
package proto
