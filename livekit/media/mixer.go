package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// ErrMixerClosed is what Read returns after the mixer's Close.
var ErrMixerClosed = errors.New("media: mixer closed")

// ErrInputClosed is what an input's Write returns once the input has left the mixer (Close,
// or the mixer's Close) or after its CloseWrite.
var ErrInputClosed = errors.New("media: mixer input closed")

// Defaults of MixerOptions and MixerInputOptions.
const (
	DefaultMixerFrameSize    = 10 * time.Millisecond
	DefaultMixerInputTimeout = 20 * time.Millisecond
	DefaultMixerInputBuffer  = 200 * time.Millisecond
)

// A mixer that has fallen this far behind its real-time schedule (a reader that stopped for a
// while) starts the schedule again from now, rather than mixing a burst of frames without
// waiting for its live inputs; one that ran this far ahead (its inputs were ahead of real
// time and its reader took frames as fast as they came) is brought back, so that an input
// that then falls silent holds the output up by no more than this.
const mixerMaxLag = 200 * time.Millisecond

// MixerOptions are the parameters of NewMixer. The zero value mixes 48 kHz mono in 10 ms
// frames.
type MixerOptions struct {
	// SampleRate in Hz of the output and of every input; 0 means 48000. Inputs at another
	// rate are refused (resample them first with Resampler).
	SampleRate int
	// NumChannels of the output; 0 means 1. Mono inputs are copied to every channel, and
	// inputs of several channels are averaged into a mono output; other channel counts must
	// match.
	NumChannels int
	// FrameSize is the duration of each output frame, a whole number of samples up to 1 s;
	// 0 means DefaultMixerFrameSize (10 ms).
	FrameSize time.Duration
	// InputTimeout is how long past a frame's slot on the real-time schedule the mixer waits
	// for an input that has less than a frame buffered before it mixes the frame without that
	// input's missing part; 0 means DefaultMixerInputTimeout (20 ms). It is the jitter a live
	// input may have without being heard late.
	InputTimeout time.Duration
}

// MixerInputOptions are the parameters of one input.
type MixerInputOptions struct {
	// Gain multiplies the input's samples (linear: 0.5 is about -6 dB); 0 means 1. SetGain
	// changes it while the mixer runs, SetGain(0) mutes.
	Gain float64
	// Buffer is the most audio the mixer holds for the input; 0 means
	// DefaultMixerInputBuffer (200 ms), and at least two frames. It bounds the latency the
	// mixer adds to the input.
	Buffer time.Duration
	// DropWhenFull makes a write to a full buffer drop the oldest audio instead of waiting
	// for room. Set it for live inputs (a remote participant's stream) so that their latency
	// stays within Buffer even if the reader is slower than they are; leave it unset for
	// inputs that run ahead of real time (a file, text to speech), which are then paced by
	// the mixer's output (backpressure).
	DropWhenFull bool
}

// Mixer mixes any number of audio inputs into one stream of frames of a fixed rate, channel
// count and size, in pure Go. Inputs come and go while it runs: AddInput (you Write frames),
// AddStream (an iterator such as AudioStream.Frames) or AddChannel; each has its own gain.
// Read (or Frames) returns the mixed frames; the sum is saturated to the int16 range, never
// wrapped.
//
// Timing: the mixer returns a frame as soon as every input has a whole frame buffered, so
// inputs that run ahead of real time are mixed as fast as the reader takes them (feeding an
// AudioSource, whose CaptureFrame waits for playout, paces them). When an input has less, the
// mixer waits for it until the frame's slot on a real-time schedule (one FrameSize per frame)
// plus InputTimeout, then mixes what the inputs have: a live input that is late by less than
// InputTimeout is never cut, one that is later is heard a frame later (its audio is kept, not
// dropped), and an input with nothing to say (a text-to-speech input between sentences) does
// not hold the others up. With no inputs it returns silence at real-time pace. An input's
// audio spends at most its Buffer plus a frame and InputTimeout in the mixer.
//
// In steady state neither Read nor an input's Write allocates. One goroutine reads; inputs
// may be written, added and removed from any goroutine.
type Mixer struct {
	rate, channels int
	spf            int // samples per channel per output frame
	frame, timeout time.Duration

	readMu sync.Mutex // one Read at a time
	acc    []float32  // the mix, before saturation; guarded by readMu
	out    AudioFrame // what Frames yields
	timer  *time.Timer

	mu      sync.Mutex
	inputs  []*MixerInput // a new slice on every change, so Read iterates a snapshot
	ending  bool
	closed  bool
	started bool
	base    time.Time // the schedule: frame k is due at base + k*frame
	k       int64

	wake chan struct{} // one slot: something Read waits for may have changed
}

// NewMixer returns a mixer with no inputs.
func NewMixer(opts MixerOptions) (*Mixer, error) {
	rate, ch := opts.SampleRate, opts.NumChannels
	if rate == 0 {
		rate = 48000
	}
	if ch == 0 {
		ch = 1
	}
	if rate < 1000 || rate > 384000 {
		return nil, fmt.Errorf("media: mixer sample rate %d Hz out of range (1000..384000)", rate)
	}
	if ch < 1 || ch > 64 {
		return nil, fmt.Errorf("media: mixer has %d channels, want 1..64", ch)
	}
	fs := opts.FrameSize
	if fs == 0 {
		fs = DefaultMixerFrameSize
	}
	spf := int(int64(rate) * int64(fs) / int64(time.Second))
	if fs < 0 || fs > time.Second || spf < 1 || int64(spf)*int64(time.Second) != int64(rate)*int64(fs) {
		return nil, fmt.Errorf("media: mixer frame size %v is not a whole number of samples at %d Hz up to 1s", opts.FrameSize, rate)
	}
	to := opts.InputTimeout
	if to == 0 {
		to = DefaultMixerInputTimeout
	}
	if to < 0 || to > 10*time.Second {
		return nil, fmt.Errorf("media: mixer input timeout %v out of range (0..10s)", opts.InputTimeout)
	}
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &Mixer{
		rate: rate, channels: ch, spf: spf, frame: fs, timeout: to,
		acc:   make([]float32, spf*ch),
		out:   AudioFrame{Data: make([]int16, spf*ch), SampleRate: rate, NumChannels: ch, SamplesPerChannel: spf},
		timer: t,
		wake:  make(chan struct{}, 1),
	}, nil
}

// SampleRate reports the output's sample rate in Hz.
func (m *Mixer) SampleRate() int { return m.rate }

// NumChannels reports the output's channel count.
func (m *Mixer) NumChannels() int { return m.channels }

// FrameSize reports the duration of each output frame.
func (m *Mixer) FrameSize() time.Duration { return m.frame }

// NumInputs reports how many inputs the mixer has now.
func (m *Mixer) NumInputs() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.inputs)
}

func (m *Mixer) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// MixerInput is one input of a Mixer. Methods are safe for concurrent use.
type MixerInput struct {
	m    *Mixer
	gain atomic.Uint64 // float64 bits
	drop bool

	// Guarded by m.mu.
	ring        []int16 // interleaved in the mixer's channel count
	head, n     int     // first sample, samples buffered
	wrote       bool    // written since the last mixed frame
	writeClosed bool    // no more writes: play out what is buffered, then leave
	removed     bool
	dropped     int64 // samples per channel dropped by DropWhenFull
	err         error

	space  chan struct{} // one slot: the mixer took some audio
	done   chan struct{} // closed when the input has left the mixer
	ctx    context.Context
	cancel context.CancelFunc // ends a feeding goroutine's Write
}

// AddInput adds an input you feed with Write.
func (m *Mixer) AddInput(opts MixerInputOptions) (*MixerInput, error) {
	if opts.Gain < 0 || math.IsNaN(opts.Gain) || math.IsInf(opts.Gain, 0) {
		return nil, fmt.Errorf("media: mixer input gain %v, want a finite value >= 0", opts.Gain)
	}
	buf := opts.Buffer
	if buf == 0 {
		buf = DefaultMixerInputBuffer
	}
	if buf < 0 || buf > time.Minute {
		return nil, fmt.Errorf("media: mixer input buffer %v out of range (up to 1m)", opts.Buffer)
	}
	// At least two frames, so that a whole frame fits while the next one is being written.
	spc := max(int(int64(m.rate)*int64(buf)/int64(time.Second)), 2*m.spf)
	in := &MixerInput{m: m, drop: opts.DropWhenFull, ring: make([]int16, spc*m.channels),
		space: make(chan struct{}, 1), done: make(chan struct{})}
	in.ctx, in.cancel = context.WithCancel(context.Background())
	g := opts.Gain
	if g == 0 {
		g = 1
	}
	in.gain.Store(math.Float64bits(g))
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
		return nil, ErrMixerClosed
	case m.ending:
		return nil, errors.New("media: mixer input added after EndInput")
	}
	inputs := make([]*MixerInput, len(m.inputs), len(m.inputs)+1)
	copy(inputs, m.inputs)
	m.inputs = append(inputs, in)
	m.signal()
	return in, nil
}

// AddStream adds an input fed from seq (AudioStream.Frames, say) by a goroutine of the mixer.
// The input ends when seq does; an error seq yields ends it too, and Err reports it. The
// goroutine stops pulling from seq when the input is removed, at seq's next frame (end seq's
// context to stop it sooner).
func (m *Mixer) AddStream(seq iter.Seq2[*AudioFrame, error], opts MixerInputOptions) (*MixerInput, error) {
	if seq == nil {
		return nil, errors.New("media: nil mixer stream")
	}
	in, err := m.AddInput(opts)
	if err != nil {
		return nil, err
	}
	go func() {
		defer in.CloseWrite()
		for f, err := range seq {
			if err != nil {
				in.fail(err)
				return
			}
			if f == nil {
				continue
			}
			if !in.feed(f) {
				return
			}
		}
	}()
	return in, nil
}

// AddChannel adds an input fed from ch by a goroutine of the mixer. The input ends when ch is
// closed (after playing what it buffered) or when it is removed.
func (m *Mixer) AddChannel(ch <-chan *AudioFrame, opts MixerInputOptions) (*MixerInput, error) {
	if ch == nil {
		return nil, errors.New("media: nil mixer channel")
	}
	in, err := m.AddInput(opts)
	if err != nil {
		return nil, err
	}
	go func() {
		defer in.CloseWrite()
		for {
			select {
			case f, ok := <-ch:
				if !ok {
					return
				}
				if f != nil && !in.feed(f) {
					return
				}
			case <-in.done:
				return
			}
		}
	}()
	return in, nil
}

// feed writes one frame for a feeding goroutine; false means stop feeding.
func (in *MixerInput) feed(f *AudioFrame) bool {
	err := in.Write(in.ctx, f)
	if err == nil {
		return true
	}
	if !errors.Is(err, ErrInputClosed) && in.ctx.Err() == nil {
		in.fail(err)
	}
	return false
}

func (in *MixerInput) fail(err error) {
	in.m.mu.Lock()
	if in.err == nil {
		in.err = err
	}
	in.m.mu.Unlock()
}

// SetGain changes the input's gain (linear, >= 0; 0 mutes) from the next mixed frame on.
func (in *MixerInput) SetGain(g float64) error {
	if g < 0 || math.IsNaN(g) || math.IsInf(g, 0) {
		return fmt.Errorf("media: mixer input gain %v, want a finite value >= 0", g)
	}
	in.gain.Store(math.Float64bits(g))
	return nil
}

// Gain reports the input's gain.
func (in *MixerInput) Gain() float64 { return math.Float64frombits(in.gain.Load()) }

// Write copies f into the input's buffer. f must have the mixer's sample rate; its channels
// are remixed (see MixerOptions.NumChannels); any length is fine. When the buffer is full,
// Write waits for the mixer to take audio (or, with DropWhenFull, drops the oldest), until
// ctx ends. It returns ErrInputClosed once the input has left the mixer or after CloseWrite.
func (in *MixerInput) Write(ctx context.Context, f *AudioFrame) error {
	if ctx == nil {
		return errors.New("media: mixer write: nil context")
	}
	if err := f.Validate(); err != nil {
		return err
	}
	m := in.m
	if f.SampleRate != m.rate {
		return fmt.Errorf("media: mixer input frame is %d Hz, the mixer %d Hz (resample with Resampler)", f.SampleRate, m.rate)
	}
	if f.NumChannels != m.channels && f.NumChannels != 1 && m.channels != 1 {
		return fmt.Errorf("media: mixer cannot remix %d channels to %d", f.NumChannels, m.channels)
	}
	src := f.Data
	for len(src) > 0 {
		m.mu.Lock()
		if in.removed || in.writeClosed {
			m.mu.Unlock()
			return ErrInputClosed
		}
		ch := m.channels
		free := (len(in.ring) - in.n) / ch
		want := len(src) / f.NumChannels
		if free < want && in.drop {
			// Keep the newest audio: what does not fit pushes the oldest out.
			over := min(want-free, in.n/ch)
			in.head = (in.head + over*ch) % len(in.ring)
			in.n -= over * ch
			in.dropped += int64(over)
			free += over
			if free < want { // the frame alone is larger than the buffer: keep its tail
				skip := want - free
				in.dropped += int64(skip)
				src = src[skip*f.NumChannels:]
				want = free
			}
		}
		k := min(free, want)
		if k > 0 {
			in.put(src[:k*f.NumChannels], f.NumChannels)
			src = src[k*f.NumChannels:]
			in.wrote = true
			if in.n >= m.spf*ch {
				m.signal()
			}
		}
		m.mu.Unlock()
		if len(src) == 0 {
			return nil
		}
		if k == 0 {
			select {
			case <-in.space:
			case <-in.done:
				return ErrInputClosed
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// put appends interleaved samples of srcCh channels, remixed; the caller holds m.mu and has
// checked there is room.
func (in *MixerInput) put(src []int16, srcCh int) {
	ch, size := in.m.channels, len(in.ring)
	tail := (in.head + in.n) % size
	switch {
	case srcCh == ch:
		k := copy(in.ring[tail:], src)
		copy(in.ring, src[k:])
	case srcCh == 1: // mono to every channel
		for _, v := range src {
			for range ch {
				in.ring[tail] = v
				tail++
				if tail == size {
					tail = 0
				}
			}
		}
	default: // several channels averaged into mono
		for i := 0; i < len(src); i += srcCh {
			var sum int32
			for _, v := range src[i : i+srcCh] {
				sum += int32(v)
			}
			in.ring[tail] = int16(sum / int32(srcCh))
			tail++
			if tail == size {
				tail = 0
			}
		}
	}
	in.n += len(src) / srcCh * ch
}

// CloseWrite ends the input: what it has buffered is still mixed, then it leaves the mixer
// (Done). Later writes fail with ErrInputClosed. It is idempotent.
func (in *MixerInput) CloseWrite() error {
	m := in.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if !in.writeClosed && !in.removed {
		in.writeClosed = true
		if in.n == 0 {
			m.removeLocked(in)
		}
		m.signal()
	}
	return nil
}

// Close removes the input at once, dropping what it has buffered. It is idempotent.
func (in *MixerInput) Close() error {
	m := in.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(in)
	m.signal()
	return nil
}

// Done is closed when the input has left the mixer: after Close, the mixer's Close, or once
// everything written before CloseWrite (or the end of its stream) has been mixed.
func (in *MixerInput) Done() <-chan struct{} { return in.done }

// Err reports why a stream or channel input stopped early (an error from its iterator, a
// frame the mixer refused), or nil.
func (in *MixerInput) Err() error {
	in.m.mu.Lock()
	defer in.m.mu.Unlock()
	return in.err
}

// Buffered reports how much audio the input holds, waiting to be mixed.
func (in *MixerInput) Buffered() time.Duration {
	in.m.mu.Lock()
	defer in.m.mu.Unlock()
	return in.m.samplesDuration(in.n / in.m.channels)
}

// Dropped reports how much audio DropWhenFull has dropped.
func (in *MixerInput) Dropped() time.Duration {
	in.m.mu.Lock()
	defer in.m.mu.Unlock()
	return in.m.samplesDuration(int(in.dropped))
}

func (m *Mixer) samplesDuration(n int) time.Duration {
	return time.Duration(int64(n) * int64(time.Second) / int64(m.rate))
}

// removeLocked takes in out of the mixer; the caller holds m.mu.
func (m *Mixer) removeLocked(in *MixerInput) {
	if in.removed {
		return
	}
	in.removed = true
	in.n = 0
	inputs := make([]*MixerInput, 0, len(m.inputs))
	for _, x := range m.inputs {
		if x != in {
			inputs = append(inputs, x)
		}
	}
	m.inputs = inputs
	close(in.done)
	in.cancel()
}

// EndInput says no input will be added: Read returns io.EOF once every input has ended
// (CloseWrite, the end of its stream, or Close) and its audio has been mixed.
func (m *Mixer) EndInput() {
	m.mu.Lock()
	m.ending = true
	m.mu.Unlock()
	m.signal()
}

// Close stops the mixer at once: every input is removed and Read returns ErrMixerClosed. It
// is idempotent.
func (m *Mixer) Close() error {
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		for _, in := range m.inputs {
			in.removed = true
			in.n = 0
			close(in.done)
			in.cancel()
		}
		m.inputs = nil
	}
	m.mu.Unlock()
	m.signal()
	return nil
}

// Read mixes the next frame into dst, growing dst.Data if it is too small (so a reused dst
// costs no allocation) and setting its rate, channels and length. It waits as described for
// Mixer, until ctx ends. After EndInput, once every input has ended, it returns io.EOF;
// after Close, ErrMixerClosed.
func (m *Mixer) Read(ctx context.Context, dst *AudioFrame) error {
	if ctx == nil {
		return errors.New("media: mixer read: nil context")
	}
	if dst == nil {
		return errors.New("media: mixer read: nil frame")
	}
	m.readMu.Lock()
	defer m.readMu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return ErrMixerClosed
		}
		if m.ending && len(m.inputs) == 0 {
			m.mu.Unlock()
			return io.EOF
		}
		now := time.Now()
		if !m.started {
			m.started, m.base, m.k = true, now, 0
		}
		at := time.Duration(m.k) * m.frame
		due := m.base.Add(at + m.timeout)
		switch lag := now.Sub(due); {
		case lag > mixerMaxLag:
			m.base = now.Add(-at)
			due = now.Add(m.timeout)
		case -lag > mixerMaxLag+m.timeout:
			m.base = now.Add(mixerMaxLag - at)
			due = now.Add(mixerMaxLag + m.timeout)
		}
		ready := len(m.inputs) > 0
		for _, in := range m.inputs {
			if in.n < m.spf*m.channels && !in.writeClosed {
				ready = false
				break
			}
		}
		if ready || !now.Before(due) {
			inputs := m.inputs
			m.mixLocked(inputs)
			m.k++
			m.mu.Unlock()
			m.emit(dst)
			return nil
		}
		m.mu.Unlock()
		m.timer.Reset(due.Sub(now))
		select {
		case <-m.wake:
			m.timer.Stop()
		case <-m.timer.C:
		case <-ctx.Done():
			m.timer.Stop()
			return ctx.Err()
		}
	}
}

// mixLocked adds one frame of every input into m.acc and consumes it; the caller holds m.mu
// and readMu.
func (m *Mixer) mixLocked(inputs []*MixerInput) {
	clear(m.acc)
	want := m.spf * m.channels
	for _, in := range inputs {
		take := min(in.n, want)
		if take < want && !in.writeClosed && in.wrote {
			// Audio is arriving, just late: keep it whole for the next frame rather than
			// cut it with silence.
			take = 0
		}
		in.wrote = false
		if take > 0 {
			g := float32(math.Float64frombits(in.gain.Load()))
			size := len(in.ring)
			first := min(take, size-in.head)
			addScaled(m.acc[:first], in.ring[in.head:in.head+first], g)
			addScaled(m.acc[first:take], in.ring[:take-first], g)
			in.head = (in.head + take) % size
			in.n -= take
			select {
			case in.space <- struct{}{}:
			default:
			}
		}
		if in.writeClosed && in.n == 0 {
			m.removeLocked(in)
		}
	}
}

func addScaled(acc []float32, src []int16, g float32) {
	src = src[:len(acc)]
	if g == 1 {
		for i, v := range src {
			acc[i] += float32(v)
		}
		return
	}
	for i, v := range src {
		acc[i] += float32(v) * g
	}
}

// emit saturates the mix into dst.
func (m *Mixer) emit(dst *AudioFrame) {
	n := len(m.acc)
	if cap(dst.Data) < n {
		dst.Data = make([]int16, n)
	}
	dst.Data = dst.Data[:n]
	dst.SampleRate, dst.NumChannels, dst.SamplesPerChannel = m.rate, m.channels, m.spf
	for i, v := range m.acc {
		switch {
		case v >= math.MaxInt16:
			dst.Data[i] = math.MaxInt16
		case v <= math.MinInt16:
			dst.Data[i] = math.MinInt16
		default:
			dst.Data[i] = int16(v)
		}
	}
}

// Frames is Read as a sequence for range loops. The frame it yields is the mixer's own and is
// overwritten by the next one: copy it to keep it (AudioSource.CaptureFrame copies). It
// stops at io.EOF, or yields the error that ends it (ErrMixerClosed, ctx's error).
func (m *Mixer) Frames(ctx context.Context) iter.Seq2[*AudioFrame, error] {
	return func(yield func(*AudioFrame, error) bool) {
		for {
			err := m.Read(ctx, &m.out)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(&m.out, nil) {
				return
			}
		}
	}
}
