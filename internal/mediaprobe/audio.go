package mediaprobe

import (
	"sort"
	"sync"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/dsp"
	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// The tone bursts: 10 ms frames of 48 kHz mono; a burst of ToneHz for BurstLength every
// BurstPeriod, the first BurstOffset after the start (time for a reader to subscribe).
const (
	SampleRate    = 48000
	FrameSamples  = SampleRate / 100 // samples in a 10 ms frame
	ToneHz        = 1000.0
	ToneAmplitude = 16000.0 // peak, in sample units (-6 dBFS); the RMS is about 11300
	BurstPeriod   = 500 * time.Millisecond
	BurstLength   = 100 * time.Millisecond
	BurstOffset   = 250 * time.Millisecond
)

// What the detector looks for: a 1 ms RMS at onsetLevel starts a burst; it re-arms after
// rearmQuiet of RMS under quietLevel.
const (
	onsetWindow = SampleRate / 1000
	onsetLevel  = 3000.0
	quietLevel  = 1000.0
	rearmQuiet  = 20 * SampleRate / 1000
	// The tone frequency is estimated on toneWindowLen samples starting toneSkip after an
	// onset, for the first toneWindows bursts.
	toneSkip      = SampleRate / 100
	toneWindowLen = 60 * SampleRate / 1000
	toneWindows   = 5
)

// BurstFrame reports whether 10 ms frame i (from the start) carries tone, and which of the
// burst's frames it is (k == 0 with on: the onset).
func BurstFrame(i int) (k int, on bool) {
	const perPeriod = int(BurstPeriod / (10 * time.Millisecond))
	const offset = int(BurstOffset / (10 * time.Millisecond))
	const length = int(BurstLength / (10 * time.Millisecond))
	k = (i - offset) % perPeriod
	return k, i >= offset && k < length
}

// ToneBursts writes the burst schedule into 10 ms frames.
type ToneBursts struct {
	tone []int16 // one burst
}

// NewToneBursts prepares the burst's samples.
func NewToneBursts() *ToneBursts {
	return &ToneBursts{tone: dsp.Tone(ToneHz, SampleRate, 1, int(BurstLength/time.Millisecond)*SampleRate/1000, ToneAmplitude, 0)}
}

// Frame fills dst (FrameSamples mono samples) with 10 ms frame i: tone or silence. It reports
// whether the frame is a burst's onset.
func (b *ToneBursts) Frame(i int, dst []int16) (onset bool) {
	k, on := BurstFrame(i)
	if !on {
		clear(dst)
		return false
	}
	copy(dst, b.tone[k*FrameSamples:(k+1)*FrameSamples])
	return k == 0
}

// OnsetDetector finds tone-burst onsets in a stream of mono samples fed in frames, and keeps
// the first bursts' samples for the frequency estimate. The zero value is ready.
type OnsetDetector struct {
	ring    [onsetWindow]float64
	pos     int
	sum     float64 // of the squares in ring: integers, exact in float64
	filled  int
	armed   bool // waiting for an onset (after rearmQuiet of quiet)
	quiet   int
	skip    int // samples to skip before collecting
	collect bool
	cur     []int16
	windows [][]int16
}

// Feed processes samples and returns the indexes in it where bursts start.
func (d *OnsetDetector) Feed(samples []int16) []int {
	var onsets []int
	on2 := onsetLevel * onsetLevel * onsetWindow
	quiet2 := quietLevel * quietLevel * onsetWindow
	for i, x := range samples {
		v := float64(x) * float64(x)
		d.sum += v - d.ring[d.pos]
		d.ring[d.pos] = v
		d.pos = (d.pos + 1) % onsetWindow
		if d.filled < onsetWindow {
			d.filled++
			if d.filled < onsetWindow {
				continue
			}
		}
		if d.collect {
			if d.skip > 0 {
				d.skip--
			} else {
				d.cur = append(d.cur, x)
				if len(d.cur) == toneWindowLen {
					d.windows = append(d.windows, d.cur)
					d.cur, d.collect = nil, false
				}
			}
		}
		switch {
		case d.armed && d.sum >= on2:
			onsets = append(onsets, i)
			d.armed, d.quiet = false, 0
			if len(d.windows) < toneWindows && !d.collect {
				d.collect, d.skip, d.cur = true, toneSkip, make([]int16, 0, toneWindowLen)
			}
		case !d.armed && d.sum < quiet2:
			d.quiet++
			if d.quiet >= rearmQuiet {
				d.armed = true
			}
		case !d.armed:
			d.quiet = 0
		}
	}
	return onsets
}

// ToneFrequency is the median over the collected bursts of the strongest frequency (a 10 Hz
// scan from 100 Hz to 4 kHz, refined to 0.1 Hz); 0 if no burst was collected.
func (d *OnsetDetector) ToneFrequency() float64 {
	var fs []float64
	for _, w := range d.windows {
		coarse := dsp.DominantFrequency(w, SampleRate, 100, 4000, 10)
		fs = append(fs, dsp.DominantFrequency(w, SampleRate, coarse-10, coarse+10, 0.1))
	}
	if len(fs) == 0 {
		return 0
	}
	sort.Float64s(fs)
	return fs[len(fs)/2]
}

// AudioReceiver keeps what a reader of the tone track saw. It is safe for concurrent use.
type AudioReceiver struct {
	mu          sync.Mutex
	frames      int
	first, last time.Time
	rate, ch    int
	frameDur    time.Duration
	det         OnsetDetector
	onsets      []time.Time
	dropped     uint64
}

// AudioStats is a snapshot of an AudioReceiver.
type AudioStats struct {
	Frames        int
	First, Last   time.Time // arrival of the first and last frame
	SampleRate    int
	Channels      int
	FrameDuration time.Duration
	Onsets        []time.Time // when each burst onset was played at the reader
	ToneHz        float64     // 0 if no burst was heard
	Dropped       uint64      // frames the stream dropped (SetDropped)
}

// Add takes one frame that arrived at now. An onset at sample i of n happened (n-i) samples
// before the frame's end, which is now.
func (r *AudioReceiver) Add(f *media.AudioFrame, now time.Time) {
	mono := f.Data
	if f.NumChannels > 1 {
		mono = dsp.Channel(f.Data, f.NumChannels, 0)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frames == 0 {
		r.first = now
	}
	r.frames++
	r.last = now
	r.rate, r.ch, r.frameDur = f.SampleRate, f.NumChannels, f.Duration()
	for _, i := range r.det.Feed(mono) {
		back := time.Duration(len(mono)-i) * time.Second / time.Duration(f.SampleRate)
		r.onsets = append(r.onsets, now.Add(-back))
	}
}

// SetDropped records how many frames the stream dropped (AudioStream.Dropped).
func (r *AudioReceiver) SetDropped(n uint64) {
	r.mu.Lock()
	r.dropped = n
	r.mu.Unlock()
}

// Count is the number of frames taken so far.
func (r *AudioReceiver) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frames
}

// Stats returns what the receiver saw so far.
func (r *AudioReceiver) Stats() AudioStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return AudioStats{Frames: r.frames, First: r.first, Last: r.last, SampleRate: r.rate, Channels: r.ch,
		FrameDuration: r.frameDur, Onsets: append([]time.Time(nil), r.onsets...), ToneHz: r.det.ToneFrequency(), Dropped: r.dropped}
}
