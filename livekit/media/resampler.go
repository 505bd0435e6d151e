package media

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/mediapb"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// ResamplerQuality trades CPU for fidelity (the soxr quality recipes).
type ResamplerQuality int

// Resampler qualities. The zero value is ResamplerMedium, what the Python SDK uses.
const (
	ResamplerMedium ResamplerQuality = iota
	ResamplerQuick
	ResamplerLow
	ResamplerHigh
	ResamplerVeryHigh
)

func (q ResamplerQuality) proto() (pb.SoxQualityRecipe, bool) {
	switch q {
	case ResamplerMedium:
		return pb.SoxQualityRecipe_SOXR_QUALITY_MEDIUM, true
	case ResamplerQuick:
		return pb.SoxQualityRecipe_SOXR_QUALITY_QUICK, true
	case ResamplerLow:
		return pb.SoxQualityRecipe_SOXR_QUALITY_LOW, true
	case ResamplerHigh:
		return pb.SoxQualityRecipe_SOXR_QUALITY_HIGH, true
	case ResamplerVeryHigh:
		return pb.SoxQualityRecipe_SOXR_QUALITY_VERYHIGH, true
	}
	return 0, false
}

// ErrClosed is returned by methods of a Resampler or AudioProcessor after Close.
var ErrClosed = errors.New("media: closed")

// maxAudioRate bounds sample rates; soxr and WebRTC have no use for more.
const maxAudioRate = 768000

// Resampler converts 16-bit PCM from one sample rate to another (soxr in the native library).
// It keeps state between pushes: feed it one continuous stream and Flush at the end. Its methods
// are safe for concurrent use but are serialized.
type Resampler struct {
	inRate, outRate, channels int

	mu     sync.Mutex
	handle *engine.Handle // nil after Close
	c      *engine.Client
}

// NewResampler returns a resampler from inRate to outRate Hz for frames of numChannels
// interleaved channels.
func NewResampler(inRate, outRate, numChannels int, quality ResamplerQuality) (*Resampler, error) {
	if inRate <= 0 || outRate <= 0 || inRate > maxAudioRate || outRate > maxAudioRate {
		return nil, fmt.Errorf("media: resampler rates %d -> %d Hz out of range (1..%d)", inRate, outRate, maxAudioRate)
	}
	if numChannels <= 0 || numChannels > 64 {
		return nil, fmt.Errorf("media: resampler channel count %d out of range (1..64)", numChannels)
	}
	q, ok := quality.proto()
	if !ok {
		return nil, fmt.Errorf("media: unknown resampler quality %d", quality)
	}
	c, err := engine.Default()
	if err != nil {
		return nil, err
	}
	resp, err := c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_NewSoxResampler{NewSoxResampler: &pb.NewSoxResamplerRequest{
		InputRate:      ptr(float64(inRate)),
		OutputRate:     ptr(float64(outRate)),
		NumChannels:    ptr(uint32(numChannels)),
		InputDataType:  pb.SoxResamplerDataType_SOXR_DATATYPE_INT16I.Enum(),
		OutputDataType: pb.SoxResamplerDataType_SOXR_DATATYPE_INT16I.Enum(),
		QualityRecipe:  q.Enum(),
	}}})
	if err != nil {
		return nil, fmt.Errorf("media: new resampler: %w", err)
	}
	r := resp.GetNewSoxResampler()
	id := r.GetResampler().GetHandle().GetId()
	if msg := r.GetError(); msg != "" || id == 0 {
		if id != 0 {
			c.DropHandle(id)
		}
		return nil, fmt.Errorf("media: new resampler: %s", orUnknown(msg))
	}
	return &Resampler{inRate: inRate, outRate: outRate, channels: numChannels, c: c, handle: c.Own(id, "SoxResampler")}, nil
}

func orUnknown(msg string) string {
	if msg == "" {
		return "library returned no object"
	}
	return msg
}

// Push feeds f, which must have the resampler's input rate and channel count, and returns the
// output ready so far, or nil when there is none yet: soxr works in blocks, so output comes in
// bursts (48 kHz to 16 kHz in 10 ms pushes gives nothing for a few pushes, then a large frame).
func (r *Resampler) Push(f *AudioFrame) (*AudioFrame, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if f.SampleRate != r.inRate || f.NumChannels != r.channels {
		return nil, fmt.Errorf("media: resampler takes %d Hz, %d channels; frame is %d Hz, %d channels",
			r.inRate, r.channels, f.SampleRate, f.NumChannels)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.handle == nil {
		return nil, ErrClosed
	}
	var out *AudioFrame
	var err error
	engine.Pin(f.Data, func(addr uint64) {
		var resp *pb.FfiResponse
		resp, err = r.c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_PushSoxResampler{PushSoxResampler: &pb.PushSoxResamplerRequest{
			ResamplerHandle: ptr(r.handle.ID()),
			DataPtr:         ptr(addr),
			Size:            ptr(uint32(2 * len(f.Data))),
		}}})
		if err == nil {
			p := resp.GetPushSoxResampler()
			out, err = r.output(p.GetOutputPtr(), p.GetSize(), p.GetError())
		}
	})
	if err != nil {
		return nil, fmt.Errorf("media: resampler push: %w", err)
	}
	return out, nil
}

// Flush returns the output still held back at the end of the stream, or nil if there is none.
// The resampler can be used for a new stream afterwards.
func (r *Resampler) Flush() (*AudioFrame, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.handle == nil {
		return nil, ErrClosed
	}
	resp, err := r.c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_FlushSoxResampler{FlushSoxResampler: &pb.FlushSoxResamplerRequest{
		ResamplerHandle: ptr(r.handle.ID()),
	}}})
	if err != nil {
		return nil, fmt.Errorf("media: resampler flush: %w", err)
	}
	p := resp.GetFlushSoxResampler()
	out, err := r.output(p.GetOutputPtr(), p.GetSize(), p.GetError())
	if err != nil {
		return nil, fmt.Errorf("media: resampler flush: %w", err)
	}
	return out, nil
}

// output copies the resampler's output at once: it lives in the resampler's own buffer, which
// the next push or flush overwrites. Called with r.mu held.
func (r *Resampler) output(addr uint64, size uint32, msg string) (*AudioFrame, error) {
	if msg != "" {
		return nil, errors.New(msg)
	}
	frameBytes := 2 * r.channels
	if addr == 0 || int(size) < frameBytes {
		return nil, nil
	}
	if int(size)%frameBytes != 0 {
		return nil, fmt.Errorf("library returned %d bytes, not whole %d-channel samples", size, r.channels)
	}
	data := mediapb.CopySamples(addr, int(size), nil)
	return &AudioFrame{Data: data, SampleRate: r.outRate, NumChannels: r.channels, SamplesPerChannel: len(data) / r.channels}, nil
}

// OutputSamples estimates how many samples per channel n input samples per channel become.
func (r *Resampler) OutputSamples(n int) int {
	return int(math.Round(float64(n) * float64(r.outRate) / float64(r.inRate)))
}

// Close releases the native resampler. It is idempotent.
func (r *Resampler) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.handle == nil {
		return nil
	}
	h := r.handle
	r.handle = nil
	return h.Close()
}

// ptr returns a pointer to v, for the protocol's optional and proto2-required fields.
func ptr[T any](v T) *T { return &v }
