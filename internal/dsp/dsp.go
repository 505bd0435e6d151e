// Package dsp holds the small signal measurements the media tests and benchmarks need: tone
// generation, tone detection (Goertzel), level (RMS) and onset detection. Pure Go, no
// allocation beyond the generated tones.
package dsp

import "math"

// Goertzel returns the power of samples at freq Hz, as the squared magnitude of the DFT term at
// that (not necessarily integer-bin) frequency. For interleaved audio pass one channel.
func Goertzel(samples []int16, sampleRate int, freq float64) float64 {
	if len(samples) == 0 || sampleRate <= 0 {
		return 0
	}
	w := 2 * math.Pi * freq / float64(sampleRate)
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	if p < 0 { // rounding near zero
		return 0
	}
	return p
}

// DominantFrequency scans lo..hi Hz in steps of step Hz and returns the frequency with the
// most Goertzel power. Its resolution is limited by step and by the window length: a window of
// n samples separates tones about sampleRate/n Hz apart.
func DominantFrequency(samples []int16, sampleRate int, lo, hi, step float64) float64 {
	if step <= 0 || hi < lo {
		return 0
	}
	best, bestP := lo, -1.0
	for f := lo; f <= hi+step/2; f += step {
		if p := Goertzel(samples, sampleRate, f); p > bestP {
			best, bestP = f, p
		}
	}
	return best
}

// RMS returns the root mean square of samples in sample units (full scale is 32768).
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, x := range samples {
		v := float64(x)
		sum += v * v
	}
	return math.Sqrt(sum / float64(len(samples)))
}

// Channel returns channel ch of interleaved samples with the given channel count, as a new
// slice.
func Channel(samples []int16, channels, ch int) []int16 {
	if channels <= 0 || ch < 0 || ch >= channels {
		return nil
	}
	out := make([]int16, 0, len(samples)/channels)
	for i := ch; i < len(samples); i += channels {
		out = append(out, samples[i])
	}
	return out
}

// Tone returns n frames of a sine wave at freq Hz with the given peak amplitude (in sample
// units, clamped to the int16 range) and starting phase (radians), interleaved over channels
// with the same value in every channel.
func Tone(freq float64, sampleRate, channels, n int, amplitude, phase float64) []int16 {
	if channels <= 0 || n <= 0 || sampleRate <= 0 {
		return nil
	}
	out := make([]int16, n*channels)
	w := 2 * math.Pi * freq / float64(sampleRate)
	for i := 0; i < n; i++ {
		v := clamp16(amplitude * math.Sin(phase+w*float64(i)))
		for c := 0; c < channels; c++ {
			out[i*channels+c] = v
		}
	}
	return out
}

func clamp16(v float64) int16 {
	v = math.Round(v)
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}

// Onset returns the index of the first sample at which the RMS over the window samples ending
// there reaches threshold, or -1 if it never does. With window 1 it is the first sample whose
// absolute value reaches threshold. It is meant for latency measurement: play a tone after
// silence, find where it starts on the far side.
func Onset(samples []int16, window int, threshold float64) int {
	if window < 1 {
		window = 1
	}
	limit := threshold * threshold * float64(window)
	var sum float64
	for i, x := range samples {
		v := float64(x)
		sum += v * v
		if i >= window {
			old := float64(samples[i-window])
			sum -= old * old
			if sum < 0 { // rounding
				sum = 0
			}
		}
		if sum >= limit {
			return i
		}
	}
	return -1
}
