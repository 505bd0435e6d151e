// Package media holds what works with audio and video without a room: frames, conversion
// between pixel formats, resampling and audio processing (echo cancellation, noise
// suppression, gain control). Package livekit uses these types to capture and receive media;
// nothing here needs a connection, a server or network access, only the native library for the
// operations that run in it (Convert, Resampler, AudioProcessor).
//
// # Frames
//
// An AudioFrame is interleaved signed 16-bit PCM. A VideoFrame keeps all its planes in one
// slice, Data, in the tight layout FrameSize describes, the one every SDK on liblivekit_ffi
// uses; Planes and Strides slice it up without copying.
//
// VideoFrame.ToImage views I420, I422, I444 and RGBA frames as *image.YCbCr or *image.RGBA
// sharing Data, so the image, image/draw and image/png packages work on frames directly.
// FrameFromImage goes the other way, copying.
//
// # Inputs that are refused
//
// The native library trusts the sizes it is given, and several malformed inputs abort the whole
// process rather than return an error: a planar buffer whose plane size is not stride*rows, an
// ABGR (or NV12-to-NV12) conversion, audio-processing buffers that are not whole 10 ms chunks.
// This package checks every frame (Validate) and every request against what the library accepts
// before calling it, and returns an error instead: ErrUnsupportedConversion for conversions the
// library does not do, a descriptive error for frames whose Data does not match their size.
package media
