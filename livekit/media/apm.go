package media

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// APMOptions choose the stages of an AudioProcessor. The zero value enables nothing, so audio
// passes through unchanged.
type APMOptions struct {
	EchoCancellation bool // remove the far end (fed to ProcessReverseStream) from the near end
	NoiseSuppression bool
	GainControl      bool // automatic gain control
	HighPassFilter   bool // remove DC and low-frequency rumble
}

// AudioProcessor is WebRTC's audio processing module (APM) in the native library. It processes
// frames in place, in 10 ms chunks; a frame may hold several chunks. Its methods are safe for
// concurrent use but are serialized, and they run on the calling goroutine (a few hundred
// microseconds per 10 ms), so keep them out of loops that must not stall.
type AudioProcessor struct {
	mu     sync.Mutex
	handle *engine.Handle // nil after Close
	c      *engine.Client
}

// APM sample rates: the ones WebRTC processes natively or resamples to internally, and that the
// library was checked with. The library aborts the process on a buffer that is not whole 10 ms
// chunks, and a rate that is not a multiple of 100 Hz has no whole 10 ms chunk.
var apmRates = map[int]bool{8000: true, 16000: true, 32000: true, 44100: true, 48000: true}

// NewAudioProcessor returns an audio processor with the given stages.
func NewAudioProcessor(opts APMOptions) (*AudioProcessor, error) {
	c, err := engine.Default()
	if err != nil {
		return nil, err
	}
	resp, err := c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_NewApm{NewApm: &pb.NewApmRequest{
		EchoCancellerEnabled:    ptr(opts.EchoCancellation),
		GainControllerEnabled:   ptr(opts.GainControl),
		HighPassFilterEnabled:   ptr(opts.HighPassFilter),
		NoiseSuppressionEnabled: ptr(opts.NoiseSuppression),
	}}})
	if err != nil {
		return nil, fmt.Errorf("media: new audio processor: %w", err)
	}
	id := resp.GetNewApm().GetApm().GetHandle().GetId()
	if id == 0 {
		return nil, fmt.Errorf("media: new audio processor: %s", orUnknown(""))
	}
	return &AudioProcessor{c: c, handle: c.Own(id, "Apm")}, nil
}

// checkAPMFrame refuses what would abort the library: anything but whole 10 ms chunks.
func checkAPMFrame(f *AudioFrame) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if !apmRates[f.SampleRate] {
		return fmt.Errorf("media: audio processing supports 8000, 16000, 32000, 44100 and 48000 Hz, not %d", f.SampleRate)
	}
	if f.NumChannels > 2 {
		return fmt.Errorf("media: audio processing supports 1 or 2 channels, not %d", f.NumChannels)
	}
	if chunk := f.SampleRate / 100; f.SamplesPerChannel%chunk != 0 {
		return fmt.Errorf("media: audio processing needs whole 10 ms chunks (%d samples per channel at %d Hz); frame has %d (%v)",
			chunk, f.SampleRate, f.SamplesPerChannel, f.Duration())
	}
	return nil
}

// ProcessStream processes near-end (microphone) audio in place. f must be a whole number of
// 10 ms chunks at 8, 16, 32, 44.1 or 48 kHz with 1 or 2 channels; anything else is refused
// before it reaches the library, which would abort the process.
func (p *AudioProcessor) ProcessStream(f *AudioFrame) error {
	return p.process(f, false)
}

// ProcessReverseStream feeds far-end (playout) audio, which echo cancellation removes from
// the near end. The same frame rules as ProcessStream apply; f is also modified in place.
func (p *AudioProcessor) ProcessReverseStream(f *AudioFrame) error {
	return p.process(f, true)
}

func (p *AudioProcessor) process(f *AudioFrame, reverse bool) error {
	if err := checkAPMFrame(f); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.handle == nil {
		return ErrClosed
	}
	var msg string
	var err error
	engine.Pin(f.Data, func(addr uint64) {
		h, size := ptr(p.handle.ID()), ptr(uint32(2*len(f.Data)))
		rate, ch := ptr(uint32(f.SampleRate)), ptr(uint32(f.NumChannels))
		var resp *pb.FfiResponse
		if reverse {
			resp, err = p.c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_ApmProcessReverseStream{ApmProcessReverseStream: &pb.ApmProcessReverseStreamRequest{
				ApmHandle: h, DataPtr: ptr(addr), Size: size, SampleRate: rate, NumChannels: ch,
			}}})
			msg = resp.GetApmProcessReverseStream().GetError()
		} else {
			resp, err = p.c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_ApmProcessStream{ApmProcessStream: &pb.ApmProcessStreamRequest{
				ApmHandle: h, DataPtr: ptr(addr), Size: size, SampleRate: rate, NumChannels: ch,
			}}})
			msg = resp.GetApmProcessStream().GetError()
		}
	})
	if err == nil && msg != "" {
		err = errors.New(msg)
	}
	if err != nil {
		return fmt.Errorf("media: audio processing: %w", err)
	}
	return nil
}

// SetStreamDelay tells echo cancellation how far the near end lags the far end: the time from
// a far-end frame reaching ProcessReverseStream to its echo reaching ProcessStream (playout
// plus capture delay). Call it when the delay changes; whole milliseconds are used.
func (p *AudioProcessor) SetStreamDelay(d time.Duration) error {
	ms := d.Milliseconds()
	if ms < 0 || ms > 10000 {
		return fmt.Errorf("media: stream delay %v out of range (0..10s)", d)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.handle == nil {
		return ErrClosed
	}
	resp, err := p.c.Request(&pb.FfiRequest{Message: &pb.FfiRequest_ApmSetStreamDelay{ApmSetStreamDelay: &pb.ApmSetStreamDelayRequest{
		ApmHandle: ptr(p.handle.ID()),
		DelayMs:   ptr(int32(ms)),
	}}})
	if err == nil {
		if msg := resp.GetApmSetStreamDelay().GetError(); msg != "" {
			err = errors.New(msg)
		}
	}
	if err != nil {
		return fmt.Errorf("media: set stream delay: %w", err)
	}
	return nil
}

// Close releases the native processor. It is idempotent.
func (p *AudioProcessor) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.handle == nil {
		return nil
	}
	h := p.handle
	p.handle = nil
	return h.Close()
}
