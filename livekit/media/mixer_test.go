package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/dsp"
)

func newMixer(t testing.TB, o MixerOptions) *Mixer {
	t.Helper()
	m, err := NewMixer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func addInput(t testing.TB, m *Mixer, o MixerInputOptions) *MixerInput {
	t.Helper()
	in, err := m.AddInput(o)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func frameOf(rate, ch int, data []int16) *AudioFrame {
	return &AudioFrame{Data: data, SampleRate: rate, NumChannels: ch, SamplesPerChannel: len(data) / ch}
}

// readN reads n frames and returns their samples, concatenated.
func readN(t testing.TB, m *Mixer, n int) []int16 {
	t.Helper()
	var out []int16
	f := &AudioFrame{}
	for range n {
		if err := m.Read(ctxT(t), f); err != nil {
			t.Fatal(err)
		}
		out = append(out, f.Data...)
	}
	return out
}

// amplitude estimates the peak amplitude of the freq Hz component of samples (a whole number
// of its periods).
func amplitude(samples []int16, rate int, freq float64) float64 {
	return 2 * math.Sqrt(dsp.Goertzel(samples, rate, freq)) / float64(len(samples))
}

func TestMixerTwoTonesAtTheirGains(t *testing.T) {
	const rate = 48000
	m := newMixer(t, MixerOptions{SampleRate: rate})
	a := addInput(t, m, MixerInputOptions{Gain: 0.5, Buffer: 2 * time.Second})
	b := addInput(t, m, MixerInputOptions{Gain: 0.25, Buffer: 2 * time.Second})
	if err := a.Write(ctxT(t), frameOf(rate, 1, dsp.Tone(440, rate, 1, rate, 10000, 0))); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ctxT(t), frameOf(rate, 1, dsp.Tone(1000, rate, 1, rate, 10000, 0))); err != nil {
		t.Fatal(err)
	}
	both := readN(t, m, 50) // 500 ms
	if a4, b1 := amplitude(both, rate, 440), amplitude(both, rate, 1000); math.Abs(a4-5000) > 50 || math.Abs(b1-2500) > 25 {
		t.Fatalf("mixed amplitudes: 440 Hz %.0f (want 5000), 1000 Hz %.0f (want 2500)", a4, b1)
	}

	// Remove the 1000 Hz input mid-run: its buffered half second goes with it.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	if err := b.Write(ctxT(t), frameOf(rate, 1, make([]int16, 480))); !errors.Is(err, ErrInputClosed) {
		t.Fatalf("write after Close: %v, want ErrInputClosed", err)
	}
	if got := m.NumInputs(); got != 1 {
		t.Fatalf("%d inputs after removing one of two", got)
	}
	// Changing a gain while running takes effect from the next frame.
	if err := a.SetGain(1); err != nil {
		t.Fatal(err)
	}
	alone := readN(t, m, 20) // 200 ms
	if a4, b1 := amplitude(alone, rate, 440), amplitude(alone, rate, 1000); math.Abs(a4-10000) > 100 || b1 > 20 {
		t.Fatalf("after removal: 440 Hz %.0f (want 10000), 1000 Hz %.0f (want 0)", a4, b1)
	}
}

func TestMixerSaturatesInsteadOfWrapping(t *testing.T) {
	m := newMixer(t, MixerOptions{SampleRate: 8000})
	spf := 80
	for _, v := range []int16{30000, 30000, -30000} {
		in := addInput(t, m, MixerInputOptions{})
		data := make([]int16, spf)
		for i := range data {
			data[i] = v
			if i%2 == 1 {
				data[i] = -v
			}
		}
		if err := in.Write(ctxT(t), frameOf(8000, 1, data)); err != nil {
			t.Fatal(err)
		}
	}
	out := readN(t, m, 1)
	// 30000+30000-30000 = 30000 on even samples, the negation on odd ones: within range.
	if out[0] != 30000 || out[1] != -30000 {
		t.Fatalf("in-range sum: %d %d", out[0], out[1])
	}

	m2 := newMixer(t, MixerOptions{SampleRate: 8000})
	loud := addInput(t, m2, MixerInputOptions{Gain: 2})
	in2 := addInput(t, m2, MixerInputOptions{})
	up, down := make([]int16, spf), make([]int16, spf)
	for i := range up {
		up[i], down[i] = 20000, 20000
		if i%2 == 1 {
			up[i], down[i] = -20000, math.MinInt16
		}
	}
	if err := loud.Write(ctxT(t), frameOf(8000, 1, up)); err != nil {
		t.Fatal(err)
	}
	if err := in2.Write(ctxT(t), frameOf(8000, 1, down)); err != nil {
		t.Fatal(err)
	}
	out = readN(t, m2, 1)
	for i, v := range out {
		want := int16(math.MaxInt16)
		if i%2 == 1 {
			want = math.MinInt16
		}
		if v != want {
			t.Fatalf("sample %d = %d, want %d (saturated)", i, v, want)
		}
	}
}

func TestMixerRemixesChannels(t *testing.T) {
	stereo := newMixer(t, MixerOptions{SampleRate: 16000, NumChannels: 2})
	in := addInput(t, stereo, MixerInputOptions{})
	mono := make([]int16, 160)
	for i := range mono {
		mono[i] = int16(i)
	}
	if err := in.Write(ctxT(t), frameOf(16000, 1, mono)); err != nil {
		t.Fatal(err)
	}
	out := readN(t, stereo, 1)
	for i := range mono {
		if out[2*i] != mono[i] || out[2*i+1] != mono[i] {
			t.Fatalf("mono to stereo, sample %d: %d %d want %d", i, out[2*i], out[2*i+1], mono[i])
		}
	}

	down := newMixer(t, MixerOptions{SampleRate: 16000})
	in = addInput(t, down, MixerInputOptions{})
	st := make([]int16, 320)
	for i := range 160 {
		st[2*i], st[2*i+1] = 100, 300
	}
	if err := in.Write(ctxT(t), frameOf(16000, 2, st)); err != nil {
		t.Fatal(err)
	}
	for i, v := range readN(t, down, 1) {
		if v != 200 {
			t.Fatalf("stereo to mono, sample %d = %d, want the average 200", i, v)
		}
	}
}

func TestMixerRefusesBadInput(t *testing.T) {
	for _, o := range []MixerOptions{
		{SampleRate: -1}, {SampleRate: 500}, {NumChannels: -2}, {NumChannels: 65},
		{SampleRate: 44100, FrameSize: 7 * time.Millisecond}, // 308.7 samples
		{FrameSize: -time.Millisecond}, {FrameSize: 2 * time.Second}, {FrameSize: time.Nanosecond},
		{InputTimeout: -1}, {InputTimeout: time.Minute},
	} {
		if _, err := NewMixer(o); err == nil || !strings.HasPrefix(err.Error(), "media: mixer") {
			t.Errorf("NewMixer(%+v) = %v, want a mixer error", o, err)
		}
	}
	m := newMixer(t, MixerOptions{SampleRate: 48000, NumChannels: 2})
	for _, o := range []MixerInputOptions{{Gain: -1}, {Gain: math.NaN()}, {Gain: math.Inf(1)}, {Buffer: -1}, {Buffer: time.Hour}} {
		if _, err := m.AddInput(o); err == nil {
			t.Errorf("AddInput(%+v) accepted", o)
		}
	}
	in := addInput(t, m, MixerInputOptions{})
	for name, f := range map[string]*AudioFrame{
		"nil":         nil,
		"short data":  {Data: make([]int16, 10), SampleRate: 48000, NumChannels: 2, SamplesPerChannel: 480},
		"other rate":  frameOf(44100, 2, make([]int16, 882)),
		"3 channels":  frameOf(48000, 3, make([]int16, 1440)),
		"no channels": {Data: nil, SampleRate: 48000},
	} {
		if err := in.Write(ctxT(t), f); err == nil {
			t.Errorf("Write(%s) accepted", name)
		}
	}
	//lint:ignore SA1012 a nil context is the bad input under test
	if err := in.Write(nil, frameOf(48000, 2, make([]int16, 960))); err == nil {
		t.Error("Write(nil ctx) accepted")
	}
	//lint:ignore SA1012 a nil context is the bad input under test
	if err := m.Read(nil, &AudioFrame{}); err == nil {
		t.Error("Read(nil ctx) accepted")
	}
	if err := m.Read(ctxT(t), nil); err == nil {
		t.Error("Read(nil frame) accepted")
	}
	if err := in.SetGain(-0.5); err == nil || in.Gain() != 1 {
		t.Errorf("SetGain(-0.5) = %v, gain now %v", err, in.Gain())
	}
	if _, err := m.AddStream(nil, MixerInputOptions{}); err == nil {
		t.Error("AddStream(nil) accepted")
	}
	if _, err := m.AddChannel(nil, MixerInputOptions{}); err == nil {
		t.Error("AddChannel(nil) accepted")
	}
	m.EndInput()
	if _, err := m.AddInput(MixerInputOptions{}); err == nil {
		t.Error("AddInput after EndInput accepted")
	}
	m.Close()
	if _, err := m.AddInput(MixerInputOptions{}); !errors.Is(err, ErrMixerClosed) {
		t.Errorf("AddInput after Close: %v", err)
	}
	if err := in.Write(ctxT(t), frameOf(48000, 2, make([]int16, 960))); !errors.Is(err, ErrInputClosed) {
		t.Errorf("Write after the mixer's Close: %v", err)
	}
}

// ramp yields n samples counting up from 1, in frames of size samples.
func ramp(n, size int) iter.Seq2[*AudioFrame, error] {
	return func(yield func(*AudioFrame, error) bool) {
		f := NewAudioFrame(48000, 1, size) // reused: the mixer copies
		for i := 0; i < n; i += size {
			k := min(size, n-i)
			f.Data, f.SamplesPerChannel = f.Data[:k], k
			for j := range k {
				f.Data[j] = int16(i + j + 1)
			}
			if !yield(f, nil) {
				return
			}
		}
	}
}

func TestMixerStreamAndChannelInputsPassThroughExactly(t *testing.T) {
	const n = 48000/2 + 123 // not a whole number of frames: the last one is padded
	m := newMixer(t, MixerOptions{InputTimeout: 10 * time.Second})
	s, err := m.AddStream(ramp(n, 333), MixerInputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m.EndInput()
	var got []int16
	for f, err := range m.Frames(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f.Data...)
	}
	<-s.Done()
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	if len(got) != (n+479)/480*480 {
		t.Fatalf("%d samples out, want %d in padded to whole frames", len(got), n)
	}
	for i, v := range got {
		want := int16(i + 1)
		if i >= n {
			want = 0
		}
		if v != want {
			t.Fatalf("sample %d = %d, want %d", i, v, want)
		}
	}

	m2 := newMixer(t, MixerOptions{InputTimeout: 10 * time.Second})
	ch := make(chan *AudioFrame)
	c, err := m2.AddChannel(ch, MixerInputOptions{Buffer: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for f := range ramp(4800, 480) {
			ch <- &AudioFrame{Data: append([]int16(nil), f.Data...), SampleRate: 48000, NumChannels: 1, SamplesPerChannel: len(f.Data)}
		}
		close(ch)
	}()
	m2.EndInput()
	got = got[:0]
	for f, err := range m2.Frames(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f.Data...)
	}
	<-c.Done()
	if len(got) != 4800 {
		t.Fatalf("%d samples from the channel, want 4800", len(got))
	}
	for i, v := range got {
		if v != int16(i+1) {
			t.Fatalf("channel sample %d = %d", i, v)
		}
	}
}

func TestMixerStreamErrorEndsTheInput(t *testing.T) {
	m := newMixer(t, MixerOptions{})
	boom := errors.New("decoder failed")
	s, err := m.AddStream(func(yield func(*AudioFrame, error) bool) {
		if yield(NewAudioFrame(48000, 1, 480), nil) {
			yield(nil, boom)
		}
	}, MixerInputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := m.AddStream(func(yield func(*AudioFrame, error) bool) {
		yield(NewAudioFrame(16000, 1, 160), nil) // not the mixer's rate
	}, MixerInputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m.EndInput()
	for _, err := range m.Frames(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if !errors.Is(s.Err(), boom) {
		t.Errorf("stream input Err = %v, want %v", s.Err(), boom)
	}
	if e := bad.Err(); e == nil || !strings.Contains(e.Error(), "16000 Hz") {
		t.Errorf("wrong-rate stream input Err = %v", e)
	}
}

// An input that says nothing does not hold the others up; one whose audio is late keeps it
// for the next frame rather than being cut; one that stalls mid-frame is flushed.
func TestMixerLateAndIdleInputs(t *testing.T) {
	m := newMixer(t, MixerOptions{SampleRate: 8000, FrameSize: 10 * time.Millisecond, InputTimeout: time.Millisecond})
	steady := addInput(t, m, MixerInputOptions{Buffer: time.Second})
	idle := addInput(t, m, MixerInputOptions{})
	late := addInput(t, m, MixerInputOptions{})
	ones := make([]int16, 8000)
	for i := range ones {
		ones[i] = 1
	}
	if err := steady.Write(ctxT(t), frameOf(8000, 1, ones)); err != nil {
		t.Fatal(err)
	}
	half := make([]int16, 40)
	for i := range half {
		half[i] = 100
	}
	if err := late.Write(ctxT(t), frameOf(8000, 1, half)); err != nil {
		t.Fatal(err)
	}
	f1 := readN(t, m, 1)
	for i, v := range f1 {
		if v != 1 {
			t.Fatalf("frame 1, sample %d = %d: the late half frame was cut in (want it kept)", i, v)
		}
	}
	if got := late.Buffered(); got != 5*time.Millisecond {
		t.Fatalf("late input holds %v, want its 5ms kept", got)
	}
	// Nothing more arrived for a whole frame: the half frame is played, padded.
	f2 := readN(t, m, 1)
	for i, v := range f2 {
		want := int16(101)
		if i >= 40 {
			want = 1
		}
		if v != want {
			t.Fatalf("frame 2, sample %d = %d, want %d", i, v, want)
		}
	}
	readN(t, m, 5) // the idle input never holds the output up for good
	if idle.Buffered() != 0 || steady.Buffered() != 930*time.Millisecond {
		t.Fatalf("buffered: idle %v, steady %v", idle.Buffered(), steady.Buffered())
	}
}

// The latency an input can add is bounded by its buffer: a live input drops its oldest audio,
// an input that runs ahead waits for room.
func TestMixerBoundedLatency(t *testing.T) {
	// A long InputTimeout: the paced writer below may be starved on a loaded machine, and a
	// mixer on a real-time schedule would fill the gap with silence.
	m := newMixer(t, MixerOptions{InputTimeout: 10 * time.Second})
	live := addInput(t, m, MixerInputOptions{Buffer: 50 * time.Millisecond, DropWhenFull: true})
	second := make([]int16, 48000)
	for i := range second {
		second[i] = int16(i / 48) // the millisecond it belongs to
	}
	if err := live.Write(ctxT(t), frameOf(48000, 1, second)); err != nil {
		t.Fatal(err)
	}
	if b, d := live.Buffered(), live.Dropped(); b != 50*time.Millisecond || d != 950*time.Millisecond {
		t.Fatalf("live input: buffered %v, dropped %v; want 50ms and 950ms", b, d)
	}
	if out := readN(t, m, 1); out[0] != 950 || out[479] != 959 {
		t.Fatalf("first frame from ms %d to %d, want the newest audio (950-959)", out[0], out[479])
	}
	live.Close()

	ahead := addInput(t, m, MixerInputOptions{Buffer: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := ahead.Write(ctx, frameOf(48000, 1, second)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write of 1 s into a full 50 ms buffer nobody reads: %v, want it to wait for ctx", err)
	}
	if b := ahead.Buffered(); b != 50*time.Millisecond {
		t.Fatalf("blocked input holds %v, want its 50ms buffer", b)
	}
	ahead.Close()

	// With a reader, the same write goes through whole, paced by the reader.
	paced := addInput(t, m, MixerInputOptions{Buffer: 50 * time.Millisecond})
	done := make(chan error, 1)
	go func() {
		err := paced.Write(ctxT(t), frameOf(48000, 1, second))
		paced.CloseWrite()
		done <- err
	}()
	m.EndInput()
	var got []int16
	for f, err := range m.Frames(ctxT(t)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f.Data...)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(got) != len(second) {
		t.Fatalf("%d samples out of a paced 1 s write", len(got))
	}
	for i := range got {
		if got[i] != second[i] {
			t.Fatalf("paced sample %d = %d, want %d", i, got[i], second[i])
		}
	}
}

func TestMixerInputsComeAndGoWhileRunning(t *testing.T) {
	m := newMixer(t, MixerOptions{InputTimeout: time.Millisecond})
	ctx := ctxT(t)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				in, err := m.AddInput(MixerInputOptions{Gain: 0.1, DropWhenFull: w%2 == 0})
				if err != nil {
					t.Error(err)
					return
				}
				for range 3 {
					if err := in.Write(ctx, NewAudioFrame(48000, 1, 480)); err != nil {
						t.Error(err)
						return
					}
				}
				if i%2 == 0 {
					in.Close()
				} else {
					in.CloseWrite()
					<-in.Done()
				}
			}
		}()
	}
	stop := make(chan struct{})
	read := make(chan int)
	go func() {
		n := 0
		f := &AudioFrame{}
		for {
			select {
			case <-stop:
				read <- n
				return
			default:
			}
			if err := m.Read(ctx, f); err != nil {
				t.Error(err)
				read <- n
				return
			}
			n++
		}
	}()
	wg.Wait()
	close(stop)
	if n := <-read; n == 0 {
		t.Fatal("no frame read while inputs came and went")
	}
	if got := m.NumInputs(); got != 0 {
		t.Fatalf("%d inputs left after every one was removed", got)
	}
}

func TestMixerEndAndClose(t *testing.T) {
	m := newMixer(t, MixerOptions{})
	m.EndInput()
	if err := m.Read(ctxT(t), &AudioFrame{}); !errors.Is(err, io.EOF) {
		t.Fatalf("Read after EndInput with no inputs: %v, want io.EOF", err)
	}

	m2 := newMixer(t, MixerOptions{})
	errc := make(chan error, 1)
	go func() {
		f := &AudioFrame{}
		for {
			if err := m2.Read(context.Background(), f); err != nil {
				errc <- err
				return
			}
		}
	}()
	time.Sleep(30 * time.Millisecond) // silence at real-time pace meanwhile
	m2.Close()
	if err := <-errc; !errors.Is(err, ErrMixerClosed) {
		t.Fatalf("Read ended with %v, want ErrMixerClosed", err)
	}

	m3 := newMixer(t, MixerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m3.Read(ctx, &AudioFrame{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with a cancelled ctx: %v", err)
	}
	var last error
	for _, err := range m3.Frames(ctx) {
		last = err
	}
	if !errors.Is(last, context.Canceled) {
		t.Fatalf("Frames with a cancelled ctx yielded %v", last)
	}
}

func TestMixerSteadyStateAllocatesNothing(t *testing.T) {
	m := newMixer(t, MixerOptions{})
	var ins []*MixerInput
	for i := range 3 {
		ins = append(ins, addInput(t, m, MixerInputOptions{Gain: float64(i+1) / 4}))
	}
	in := frameOf(48000, 1, dsp.Tone(300, 48000, 1, 480, 1000, 0))
	out := &AudioFrame{}
	ctx := context.Background()
	step := func() {
		for _, x := range ins {
			if err := x.Write(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.Read(ctx, out); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if a := testing.AllocsPerRun(200, step); a != 0 {
		t.Fatalf("%.1f allocations per output frame, want 0", a)
	}
}

// BenchmarkMixer: one op is one 10 ms 48 kHz output frame, each input written one 10 ms frame.
func BenchmarkMixer(b *testing.B) {
	for _, n := range []int{1, 2, 4, 8} {
		for _, ch := range []int{1, 2} {
			b.Run(fmt.Sprintf("inputs=%d/channels=%d", n, ch), func(b *testing.B) {
				m := newMixer(b, MixerOptions{NumChannels: ch})
				var ins []*MixerInput
				for i := range n {
					ins = append(ins, addInput(b, m, MixerInputOptions{Gain: 1 / float64(i+1)}))
				}
				in := frameOf(48000, ch, dsp.Tone(300, 48000, ch, 480, 1000, 0))
				out := &AudioFrame{}
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					for _, x := range ins {
						if err := x.Write(ctx, in); err != nil {
							b.Fatal(err)
						}
					}
					if err := m.Read(ctx, out); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
