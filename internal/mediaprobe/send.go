package mediaprobe

import (
	"context"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// SendLog records when what was captured (onsets, or frames by counter), in order. It is safe
// for concurrent use.
type SendLog struct {
	mu    sync.Mutex
	times []time.Time
	count int // frames captured
}

// Add records a frame captured at t; a marked frame (an onset, a counted picture) is kept.
func (l *SendLog) Add(t time.Time, mark bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	if mark {
		l.times = append(l.times, t)
	}
}

// Snapshot returns the marked times and how many frames were captured.
func (l *SendLog) Snapshot() (marked []time.Time, frames int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.times), l.count
}

// At returns the i-th marked time.
func (l *SendLog) At(i int) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < 0 || i >= len(l.times) {
		return time.Time{}, false
	}
	return l.times[i], true
}

// SleepUntil waits until t or ctx's end.
func SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SendAudio captures 10 ms frames of the tone bursts into src (48 kHz mono), paced by the
// clock from t0 for d, and logs the capture time of each burst's onset.
func SendAudio(ctx context.Context, src *livekit.AudioSource, t0 time.Time, d time.Duration, log *SendLog) error {
	frame := media.NewAudioFrame(SampleRate, 1, FrameSamples)
	bursts := NewToneBursts()
	n := int(d / (10 * time.Millisecond))
	for i := 0; i < n; i++ {
		if err := SleepUntil(ctx, t0.Add(time.Duration(i)*10*time.Millisecond)); err != nil {
			return err
		}
		onset := bursts.Frame(i, frame.Data)
		t := time.Now()
		if err := src.CaptureFrame(ctx, frame); err != nil {
			return err
		}
		log.Add(t, onset)
	}
	return nil
}

// SendVideo captures fps I420 frames of w x h a second into src from t0 for d, each carrying
// its counter, and logs every frame's capture time (index = counter).
func SendVideo(ctx context.Context, src *livekit.VideoSource, w, h, fps int, t0 time.Time, d time.Duration, log *SendLog) error {
	frame := media.NewVideoFrame(media.I420, w, h)
	n := int(d * time.Duration(fps) / time.Second)
	for i := 0; i < n; i++ {
		at := t0.Add(time.Duration(i) * time.Second / time.Duration(fps))
		if err := SleepUntil(ctx, at); err != nil {
			return err
		}
		DrawCounter(frame, uint32(i))
		t := time.Now()
		frame.Timestamp = t.Sub(t0)
		if err := src.CaptureFrame(frame); err != nil {
			return err
		}
		log.Add(t, true)
	}
	return nil
}

// MatchOnsets pairs each onset heard with the latest burst sent before it (within period: a
// latency of a whole period or more would be read as a shorter one). It returns the
// latencies, one per burst (its earliest detection), and how many bursts were matched.
func MatchOnsets(sent, got []time.Time, period time.Duration) ([]time.Duration, int) {
	var lat []time.Duration
	matched := map[int]bool{}
	for _, g := range got {
		i := sort.Search(len(sent), func(i int) bool { return sent[i].After(g) }) - 1
		if i < 0 || matched[i] {
			continue
		}
		if d := g.Sub(sent[i]); d < period {
			matched[i] = true
			lat = append(lat, d)
		}
	}
	return lat, len(matched)
}

// Percentile is the q-quantile (nearest rank) of ds; ok is false for none. ds is not changed.
func Percentile(ds []time.Duration, q float64) (d time.Duration, ok bool) {
	if len(ds) == 0 {
		return 0, false
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	i = min(max(i, 0), len(s)-1)
	return s[i], true
}
