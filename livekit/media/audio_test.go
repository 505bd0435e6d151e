package media

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/dsp"
)

func TestResampleTone(t *testing.T) {
	c := needLib(t)
	before := c.OutstandingHandles()
	r, err := NewResampler(48000, 16000, 1, ResamplerMedium)
	if err != nil {
		t.Fatal(err)
	}
	tone := dsp.Tone(1000, 48000, 1, 48000, 8000, 0)
	var out []int16
	empty := 0
	for i := 0; i < len(tone); i += 480 {
		f := &AudioFrame{Data: tone[i : i+480], SampleRate: 48000, NumChannels: 1, SamplesPerChannel: 480}
		o, err := r.Push(f)
		if err != nil {
			t.Fatal(err)
		}
		if o == nil {
			empty++
			continue
		}
		if o.SampleRate != 16000 || o.NumChannels != 1 || o.Validate() != nil {
			t.Fatalf("output frame %d Hz %d ch: %v", o.SampleRate, o.NumChannels, o.Validate())
		}
		out = append(out, o.Data...)
	}
	pushed := len(out)
	if o, err := r.Flush(); err != nil {
		t.Fatal(err)
	} else if o != nil {
		out = append(out, o.Data...)
	}
	t.Logf("48k->16k: %d pushes without output, %d samples before flush, %d after", empty, pushed, len(out))
	if d := len(out) - 16000; d < -4 || d > 4 {
		t.Errorf("got %d samples, want 16000 within 4", len(out))
	}
	if f := dsp.DominantFrequency(out[1600:], 16000, 900, 1100, 0.5); math.Abs(f-1000) > 2 {
		t.Errorf("tone came out at %g Hz", f)
	}
	if lvl := dsp.RMS(out[1600:15000]); math.Abs(lvl-8000/math.Sqrt2) > 200 {
		t.Errorf("level changed: RMS %g", lvl)
	}
	if _, err := r.Push(NewAudioFrame(16000, 1, 160)); err == nil {
		t.Error("frame at the wrong rate accepted")
	}
	if _, err := r.Push(&AudioFrame{SampleRate: 48000, NumChannels: 1, SamplesPerChannel: 10, Data: make([]int16, 3)}); err == nil {
		t.Error("malformed frame accepted")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := r.Push(NewAudioFrame(48000, 1, 480)); !errors.Is(err, ErrClosed) {
		t.Errorf("Push after Close: %v", err)
	}
	if _, err := r.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: %v", err)
	}
	if after := c.OutstandingHandles(); after != before {
		t.Errorf("outstanding handles %d -> %d", before, after)
	}
}

func TestResampleStereoUp(t *testing.T) {
	needLib(t)
	r, err := NewResampler(16000, 48000, 2, ResamplerHigh)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	in := dsp.Tone(440, 16000, 2, 8000, 5000, 0)
	var out []int16
	for i := 0; i < len(in); i += 320 {
		o, err := r.Push(&AudioFrame{Data: in[i : i+320], SampleRate: 16000, NumChannels: 2, SamplesPerChannel: 160})
		if err != nil {
			t.Fatal(err)
		}
		if o != nil {
			out = append(out, o.Data...)
		}
	}
	if o, _ := r.Flush(); o != nil {
		out = append(out, o.Data...)
	}
	if n := len(out) / 2; n < 24000-6 || n > 24000+6 {
		t.Errorf("got %d samples per channel, want 24000", n)
	}
	right := dsp.Channel(out, 2, 1)
	if f := dsp.DominantFrequency(right[4800:], 48000, 400, 480, 0.5); math.Abs(f-440) > 2 {
		t.Errorf("right channel tone at %g Hz", f)
	}
	if r.OutputSamples(160) != 480 {
		t.Errorf("OutputSamples(160) = %d", r.OutputSamples(160))
	}
}

func TestResamplerArgs(t *testing.T) {
	for _, a := range [][3]int{{0, 16000, 1}, {48000, -1, 1}, {48000, 16000, 0}, {1 << 30, 16000, 1}} {
		if _, err := NewResampler(a[0], a[1], a[2], ResamplerMedium); err == nil {
			t.Errorf("NewResampler%v accepted", a)
		}
	}
	if _, err := NewResampler(48000, 16000, 1, ResamplerQuality(9)); err == nil {
		t.Error("unknown quality accepted")
	}
}

// noise returns n samples of uniform white noise, the same every run.
func noise(n int, amplitude float64) []int16 {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]int16, n)
	for i := range out {
		out[i] = int16((rng.Float64()*2 - 1) * amplitude)
	}
	return out
}

func TestAPMNoiseSuppression(t *testing.T) {
	c := needLib(t)
	before := c.OutstandingHandles()
	p, err := NewAudioProcessor(APMOptions{NoiseSuppression: true})
	if err != nil {
		t.Fatal(err)
	}
	const rate = 48000
	in := noise(3*rate, 6000)
	out := append([]int16(nil), in...)
	for i := 0; i < len(out); i += 480 {
		if err := p.ProcessStream(&AudioFrame{Data: out[i : i+480], SampleRate: rate, NumChannels: 1, SamplesPerChannel: 480}); err != nil {
			t.Fatal(err)
		}
	}
	lin, lout := dsp.RMS(in[2*rate:]), dsp.RMS(out[2*rate:])
	t.Logf("white noise RMS over the last second: %.0f in, %.0f out (%.1f dB)", lin, lout, 20*math.Log10(lout/lin))
	if lout > lin/2 {
		t.Errorf("noise suppression left RMS %.0f of %.0f", lout, lin)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if after := c.OutstandingHandles(); after != before {
		t.Errorf("outstanding handles %d -> %d", before, after)
	}
}

func TestAPMFrameRules(t *testing.T) {
	needLib(t)
	p, err := NewAudioProcessor(APMOptions{EchoCancellation: true, GainControl: true, HighPassFilter: true, NoiseSuppression: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	refused := []*AudioFrame{
		NewAudioFrame(48000, 1, 720),  // 15 ms: would abort the library
		NewAudioFrame(48000, 1, 1),    // less than a chunk
		NewAudioFrame(22050, 1, 2205), // no whole 10 ms chunk exists
		NewAudioFrame(12000, 1, 120),  // not a rate we checked
		NewAudioFrame(48000, 3, 480),  // three channels
		{SampleRate: 48000, NumChannels: 1, SamplesPerChannel: 480, Data: make([]int16, 479)},
	}
	for _, f := range refused {
		if err := p.ProcessStream(f); err == nil {
			t.Errorf("ProcessStream accepted %d Hz %d ch %d samples", f.SampleRate, f.NumChannels, f.SamplesPerChannel)
		}
		if err := p.ProcessReverseStream(f); err == nil {
			t.Errorf("ProcessReverseStream accepted %d Hz %d ch %d samples", f.SampleRate, f.NumChannels, f.SamplesPerChannel)
		}
	}
	// Still alive; 20 ms (two chunks), stereo and 44.1 kHz all work.
	for _, f := range []*AudioFrame{NewAudioFrame(48000, 1, 960), NewAudioFrame(48000, 2, 480), NewAudioFrame(44100, 1, 441), NewAudioFrame(16000, 1, 320)} {
		copy(f.Data, dsp.Tone(300, f.SampleRate, f.NumChannels, f.SamplesPerChannel, 3000, 0))
		if err := p.ProcessReverseStream(f); err != nil {
			t.Errorf("reverse %v at %d Hz: %v", f.Duration(), f.SampleRate, err)
		}
		if err := p.ProcessStream(f); err != nil {
			t.Errorf("forward %v at %d Hz x%d: %v", f.Duration(), f.SampleRate, f.NumChannels, err)
		}
	}
	if err := p.SetStreamDelay(40 * time.Millisecond); err != nil {
		t.Error(err)
	}
	if err := p.SetStreamDelay(-time.Second); err == nil {
		t.Error("negative delay accepted")
	}
	p.Close()
	if err := p.ProcessStream(NewAudioFrame(48000, 1, 480)); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if err := p.SetStreamDelay(0); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestAudioConcurrentUseAndClose(t *testing.T) {
	needLib(t)
	r, err := NewResampler(48000, 24000, 1, ResamplerQuick)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewAudioProcessor(APMOptions{NoiseSuppression: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			f := NewAudioFrame(48000, 1, 480)
			for i := 0; i < 50; i++ {
				// Errors are expected once Close wins the race; crashes and data races are not.
				if _, err := r.Push(f); err != nil && !errors.Is(err, ErrClosed) {
					t.Error(err)
					return
				}
				if err := p.ProcessStream(f); err != nil && !errors.Is(err, ErrClosed) {
					t.Error(err)
					return
				}
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	r.Close()
	p.Close()
	for g := 0; g < 4; g++ {
		<-done
	}
}
