package dsp

import (
	"math"
	"testing"
)

func TestToneAndGoertzel(t *testing.T) {
	const rate = 48000
	s := Tone(1000, rate, 1, 4800, 10000, 0)
	if len(s) != 4800 {
		t.Fatalf("len %d", len(s))
	}
	on := Goertzel(s, rate, 1000)
	off := Goertzel(s, rate, 1500)
	if on < 1000*off {
		t.Fatalf("Goertzel does not single out the tone: on %g off %g", on, off)
	}
	// For a pure tone of amplitude A over N samples the DFT magnitude is A*N/2.
	want := 10000.0 * 4800 / 2
	if got := math.Sqrt(on); math.Abs(got-want)/want > 0.01 {
		t.Fatalf("magnitude %g, want about %g", got, want)
	}
	if Goertzel(nil, rate, 1000) != 0 {
		t.Fatal("empty input should have zero power")
	}
}

func TestDominantFrequency(t *testing.T) {
	for _, f := range []float64{440, 1000, 3150} {
		s := Tone(f, 16000, 1, 16000, 8000, 0.3)
		got := DominantFrequency(s, 16000, 100, 7000, 1)
		if math.Abs(got-f) > 2 {
			t.Errorf("tone %g Hz detected at %g Hz", f, got)
		}
	}
}

func TestToneStereoAndClamp(t *testing.T) {
	s := Tone(500, 8000, 2, 100, 1e6, math.Pi/2)
	if s[0] != math.MaxInt16 || s[1] != math.MaxInt16 {
		t.Fatalf("clamped first frame = %d %d", s[0], s[1])
	}
	for i := 0; i < len(s); i += 2 {
		if s[i] != s[i+1] {
			t.Fatalf("channels differ at frame %d", i/2)
		}
	}
	left := Channel(s, 2, 0)
	if len(left) != 100 {
		t.Fatalf("Channel len %d", len(left))
	}
	if Tone(1, 0, 1, 1, 1, 0) != nil || Channel(s, 2, 2) != nil {
		t.Fatal("invalid arguments should give nil")
	}
}

func TestRMS(t *testing.T) {
	if RMS(nil) != 0 {
		t.Fatal("RMS(nil)")
	}
	if got := RMS([]int16{3, -3, 3, -3}); got != 3 {
		t.Fatalf("RMS square wave = %g", got)
	}
	s := Tone(1000, 48000, 1, 48000, 1000, 0)
	if got, want := RMS(s), 1000/math.Sqrt2; math.Abs(got-want) > 1 {
		t.Fatalf("RMS sine = %g, want %g", got, want)
	}
}

func TestOnset(t *testing.T) {
	s := make([]int16, 1000)
	if Onset(s, 10, 1) != -1 {
		t.Fatal("onset in silence")
	}
	copy(s[600:], Tone(1000, 48000, 1, 400, 10000, math.Pi/2))
	if got := Onset(s, 1, 5000); got != 600 {
		t.Fatalf("window 1 onset = %d, want 600", got)
	}
	got := Onset(s, 48, 3000)
	if got < 600 || got > 650 {
		t.Fatalf("windowed onset = %d, want shortly after 600", got)
	}
	// The window slides: silence after a burst does not keep the level up.
	b := make([]int16, 100)
	b[10] = 30000
	if Onset(b[11:], 5, 1) != -1 {
		t.Fatal("onset after the burst left the window")
	}
}
