package mediaprobe

import (
	"sync"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// The frame counter in the picture: codeBits blocks in codeRows rows of codeCols across the
// middle half of the frame, white for 1. The low 20 bits are the counter, the top 4 a check
// (see codeWord), so a picture that is not a code (all black, mid-transition blur) is
// rejected rather than misread.
const (
	codeCols    = 8
	codeRows    = 3
	codeBits    = codeCols * codeRows
	counterBits = 20
	black       = 16
	white       = 235
	// barFrames is the period of the bar under the code that moves with the counter (for
	// a viewer; ReadCounter ignores it).
	barFrames = 30
)

// MaxCounter is the largest counter a picture carries; DrawCounter keeps the low bits.
const MaxCounter = 1<<counterBits - 1

func codeCheck(c uint32) uint32 {
	c &= MaxCounter
	return (c ^ c>>4 ^ c>>8 ^ c>>12 ^ c>>16 ^ 0xA) & 0xF
}

func codeWord(c uint32) uint32 {
	c &= MaxCounter
	return c | codeCheck(c)<<counterBits
}

// codeRect is block bit's rectangle in a w x h picture.
func codeRect(bit, w, h int) (x0, y0, x1, y1 int) {
	col, row := bit%codeCols, bit/codeCols
	top, band := h/4, h/2
	return col * w / codeCols, top + row*band/codeRows, (col + 1) * w / codeCols, top + (row+1)*band/codeRows
}

// DrawCounter paints c into an I420 frame: a grey picture with the code blocks, and a bar
// under them that moves with the counter.
func DrawCounter(f *media.VideoFrame, c uint32) {
	planes, strides := f.Planes(), f.Strides()
	y, ys := planes[0], strides[0]
	for row := 0; row < f.Height; row++ {
		line := y[row*ys : row*ys+f.Width]
		for x := range line {
			line[x] = 96
		}
	}
	word := codeWord(c)
	for bit := 0; bit < codeBits; bit++ {
		v := byte(black)
		if word>>bit&1 == 1 {
			v = white
		}
		x0, y0, x1, y1 := codeRect(bit, f.Width, f.Height)
		for row := y0; row < y1; row++ {
			line := y[row*ys : row*ys+f.Width]
			for x := x0; x < x1; x++ {
				line[x] = v
			}
		}
	}
	bar := int(c%barFrames) * f.Width / barFrames
	for row := f.Height * 7 / 8; row < f.Height*15/16; row++ {
		line := y[row*ys : row*ys+f.Width]
		for x := bar; x < bar+f.Width/barFrames && x < f.Width; x++ {
			line[x] = white
		}
	}
	for _, pl := range planes[1:] {
		for i := range pl {
			pl[i] = 128
		}
	}
}

// ReadCounter decodes the counter from the luma plane of a frame of any size: the mean of the
// middle half of each block, thresholded at mid-grey. ok is false for a picture that does not
// carry a valid code.
func ReadCounter(f *media.VideoFrame) (c uint32, ok bool) {
	if f == nil || (f.Type != media.I420 && f.Type != media.I420A && f.Type != media.I422 && f.Type != media.I444) {
		return 0, false
	}
	planes, strides := f.Planes(), f.Strides()
	if len(planes) == 0 || f.Width < codeCols*2 || f.Height < codeRows*4 {
		return 0, false
	}
	y, ys := planes[0], strides[0]
	var word uint32
	for bit := 0; bit < codeBits; bit++ {
		x0, y0, x1, y1 := codeRect(bit, f.Width, f.Height)
		qx, qy := (x1-x0)/4, (y1-y0)/4
		var sum, n int
		for row := y0 + qy; row < y1-qy; row++ {
			for x := x0 + qx; x < x1-qx; x++ {
				sum += int(y[row*ys+x])
				n++
			}
		}
		if n > 0 && sum/n > (black+white)/2 {
			word |= 1 << bit
		}
	}
	c = word & MaxCounter
	if word>>counterBits != codeCheck(c) {
		return 0, false
	}
	return c, true
}

// VideoReceiver keeps what a reader of the counter track saw. It is safe for concurrent use.
type VideoReceiver struct {
	mu        sync.Mutex
	frames    int
	first     time.Time
	last      time.Time
	w, h      int
	decoded   int
	seen      map[uint32]bool
	maxCode   int64 // highest counter read, -1 before the first
	minCode   int64
	newFrames int // frames with a counter above every earlier one
	firstNew  time.Time
	lastNew   time.Time
	latencies []time.Duration
	dropped   uint64
}

// VideoStats is a snapshot of a VideoReceiver.
type VideoStats struct {
	Frames        int       // frames received
	First, Last   time.Time // arrival of the first and last frame
	Width, Height int       // of the last frame
	Decoded       int       // frames whose counter could be read
	Distinct      int       // distinct counters read
	MinCounter    int64     // lowest counter read; -1 for none
	MaxCounter    int64     // highest counter read; -1 for none
	// NewFrames counts frames whose counter was above every earlier one, the first and the
	// last of them arriving at FirstNew and LastNew: the frame rate a viewer saw.
	NewFrames         int
	FirstNew, LastNew time.Time
	Latencies         []time.Duration // per distinct counter: arrival minus capture
	Dropped           uint64          // frames the stream dropped (SetDropped)
}

// Add takes one frame that arrived at now; sentAt reports when the frame with counter c was
// captured (SendLog.At), false if unknown.
func (r *VideoReceiver) Add(f *media.VideoFrame, now time.Time, sentAt func(c int) (time.Time, bool)) {
	c, ok := ReadCounter(f)
	var sent time.Time
	if ok {
		sent, ok = sentAt(int(c))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frames == 0 {
		r.first, r.maxCode, r.seen = now, -1, map[uint32]bool{}
	}
	r.frames++
	r.last, r.w, r.h = now, f.Width, f.Height
	if !ok {
		return
	}
	r.decoded++
	if r.seen[c] {
		return
	}
	r.seen[c] = true
	r.latencies = append(r.latencies, now.Sub(sent))
	if r.maxCode < 0 {
		r.minCode = int64(c)
	}
	if int64(c) > r.maxCode {
		r.maxCode = int64(c)
		if r.newFrames == 0 {
			r.firstNew = now
		}
		r.newFrames++
		r.lastNew = now
	}
	r.minCode = min(r.minCode, int64(c))
}

// SetDropped records how many frames the stream dropped (VideoStream.Dropped).
func (r *VideoReceiver) SetDropped(n uint64) {
	r.mu.Lock()
	r.dropped = n
	r.mu.Unlock()
}

// Count is the number of frames taken so far.
func (r *VideoReceiver) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frames
}

// Stats returns what the receiver saw so far.
func (r *VideoReceiver) Stats() VideoStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := VideoStats{Frames: r.frames, First: r.first, Last: r.last, Width: r.w, Height: r.h, Decoded: r.decoded,
		Distinct: len(r.seen), MinCounter: -1, MaxCounter: -1, NewFrames: r.newFrames, FirstNew: r.firstNew, LastNew: r.lastNew,
		Latencies: append([]time.Duration(nil), r.latencies...), Dropped: r.dropped}
	if r.frames > 0 && r.maxCode >= 0 {
		s.MinCounter, s.MaxCounter = r.minCode, r.maxCode
	}
	return s
}
