package mediaprobe

import (
	"math"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/dsp"
	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// The counter survives drawing and reading at the published size and at
// other sizes (a receiver may get a scaled picture), and a picture that is
// not a code is rejected.
func TestCounterCode(t *testing.T) {
	for _, size := range [][2]int{{VideoWidth, VideoHeight}, {160, 120}, {640, 480}, {322, 242}} {
		f := media.NewVideoFrame(media.I420, size[0], size[1])
		for _, c := range []uint32{0, 1, 2, 29, 30, 1000, MaxCounter} {
			DrawCounter(f, c)
			got, ok := ReadCounter(f)
			if !ok || got != c {
				t.Errorf("%dx%d: counter %d read as %d (ok %v)", size[0], size[1], c, got, ok)
			}
		}
	}
	f := media.NewVideoFrame(media.I420, VideoWidth, VideoHeight)
	if _, ok := ReadCounter(f); ok {
		t.Errorf("an all-black picture read as a counter")
	}
	for i := range f.Data {
		f.Data[i] = 255
	}
	if _, ok := ReadCounter(f); ok {
		t.Errorf("an all-white picture read as a counter")
	}
	// One flipped block is caught by the check bits.
	DrawCounter(f, 12345)
	x0, y0, x1, y1 := codeRect(3, f.Width, f.Height)
	for row := y0; row < y1; row++ {
		for x := x0; x < x1; x++ {
			f.Data[row*f.Width+x] ^= 0xff
		}
	}
	if c, ok := ReadCounter(f); ok {
		t.Errorf("a damaged code read as %d", c)
	}
}

// The onset detector finds each burst once, at its first samples, across
// frame boundaries, and the tone frequency within a fraction of a hertz.
func TestOnsetDetector(t *testing.T) {
	const frames = 300 // 3 s of 10 ms frames
	var d OnsetDetector
	var onsets []int // sample indexes
	tone := dsp.Tone(ToneHz, SampleRate, 1, int(BurstLength/time.Millisecond)*SampleRate/1000, ToneAmplitude, 0)
	var want []int
	for i := 0; i < frames; i++ {
		frame := make([]int16, FrameSamples)
		if k, on := BurstFrame(i); on {
			copy(frame, tone[k*FrameSamples:])
			if k == 0 {
				want = append(want, i*FrameSamples)
			}
		}
		// A little noise, as a codec leaves between bursts.
		for j := range frame {
			frame[j] += int16((j*7919)%61 - 30)
		}
		for _, o := range d.Feed(frame) {
			onsets = append(onsets, i*FrameSamples+o)
		}
	}
	if len(onsets) != len(want) {
		t.Fatalf("onsets at %v, want near %v", onsets, want)
	}
	for i := range want {
		if d := onsets[i] - want[i]; d < 0 || d > onsetWindow {
			t.Errorf("onset %d at sample %d, want within 1 ms after %d", i, onsets[i], want[i])
		}
	}
	if f := d.ToneFrequency(); math.Abs(f-ToneHz) > 1 {
		t.Errorf("tone %.2f Hz, want %.0f", f, ToneHz)
	}
}

func TestBurstSchedule(t *testing.T) {
	var starts []int
	on := 0
	for i := 0; i < 200; i++ {
		k, b := BurstFrame(i)
		if b {
			on++
			if k == 0 {
				starts = append(starts, i)
			}
		}
	}
	if want := []int{25, 75, 125, 175}; !equalInts(starts, want) {
		t.Errorf("bursts start at frames %v, want %v", starts, want)
	}
	if on != 40 {
		t.Errorf("%d frames of tone in 2 s, want 40", on)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMatchOnsets(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	sent := []time.Time{at(250), at(750), at(1250), at(1750)}
	// Burst 2 is missed, burst 3 is heard twice, one onset precedes everything.
	got := []time.Time{at(100), at(310), at(820), at(1800), at(1850)}
	lat, n := MatchOnsets(sent, got, BurstPeriod)
	if n != 3 {
		t.Errorf("%d bursts matched, want 3", n)
	}
	want := []time.Duration{60 * time.Millisecond, 70 * time.Millisecond, 50 * time.Millisecond}
	if len(lat) != len(want) {
		t.Fatalf("latencies %v, want %v", lat, want)
	}
	for i := range want {
		if lat[i] != want[i] {
			t.Errorf("latency %d = %v, want %v", i, lat[i], want[i])
		}
	}
}
