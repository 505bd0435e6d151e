package media

import (
	"errors"
	"fmt"
	"testing"
)

// gradient fills an I420 frame with a smooth picture: luma ramps left to right, chroma top to
// bottom and right to left, all mild enough that every pixel stays inside the RGB gamut, so a
// round trip measures rounding and not clipping.
func gradient(w, h int) *VideoFrame {
	f := NewVideoFrame(I420, w, h)
	p := f.Planes()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p[0][y*w+x] = byte(60 + 140*x/w)
		}
	}
	cw, ch := (w+1)/2, (h+1)/2
	for y := 0; y < ch; y++ {
		for x := 0; x < cw; x++ {
			p[1][y*cw+x] = byte(118 + 20*y/ch)
			p[2][y*cw+x] = byte(138 - 20*x/cw)
		}
	}
	return f
}

func maxAbsDiff(a, b []byte) int {
	m := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		m = max(m, d)
	}
	return m
}

// toType produces a frame of type t from an I420 source by a supported path.
func toType(t *testing.T, src *VideoFrame, typ VideoBufferType) *VideoFrame {
	t.Helper()
	if typ == I420 {
		return src
	}
	if CanConvert(I420, typ) {
		f, err := Convert(src, typ)
		if err != nil {
			t.Fatalf("I420 -> %v: %v", typ, err)
		}
		return f
	}
	return nil
}

func TestConvertEverySupportedPair(t *testing.T) {
	needLib(t)
	// Odd sizes check that our chroma rounding is the library's: a mismatch aborts it.
	for _, size := range [][2]int{{64, 36}, {33, 17}, {1, 1}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			convertEveryPair(t, size[0], size[1])
		})
	}
}

func convertEveryPair(t *testing.T, w, h int) {
	src := gradient(w, h)
	for from, tos := range conversions {
		in := toType(t, src, from)
		if in == nil {
			// No I420 path to it: build a frame of that type from synthetic data.
			in = synthetic(from, w, h)
		}
		for _, to := range tos {
			t.Run(fmt.Sprintf("%v-%v", from, to), func(t *testing.T) {
				out, err := Convert(in, to)
				if err != nil {
					t.Fatal(err)
				}
				if err := out.Validate(); err != nil {
					t.Fatalf("result invalid: %v", err)
				}
				// Back to I420 both ways and compare: what the pair added is rounding.
				d := maxAbsDiff(toI420(t, in).Data, toI420(t, out).Data)
				t.Logf("%v -> %v -> I420 vs %v -> I420: max abs error %d", from, to, from, d)
				if d > 3 {
					t.Errorf("max abs error %d > 3", d)
				}
			})
		}
	}
}

// toI420 converts f to I420, swizzling ABGR to RGBA in Go first since the library cannot take
// ABGR as a source.
func toI420(t *testing.T, f *VideoFrame) *VideoFrame {
	t.Helper()
	if f.Type == I420 {
		return f
	}
	if f.Type == ABGR {
		rgba := NewVideoFrame(RGBA, f.Width, f.Height)
		for i := 0; i < len(f.Data); i += 4 {
			rgba.Data[i], rgba.Data[i+1], rgba.Data[i+2], rgba.Data[i+3] = f.Data[i+3], f.Data[i+2], f.Data[i+1], f.Data[i]
		}
		f = rgba
	}
	out, err := Convert(f, I420)
	if err != nil {
		t.Fatalf("%v -> I420: %v", f.Type, err)
	}
	return out
}

// synthetic builds a plausible frame of any type: mid-grey for YUV types, a ramp for RGB ones.
func synthetic(t VideoBufferType, w, h int) *VideoFrame {
	f := NewVideoFrame(t, w, h)
	for i := range f.Data {
		f.Data[i] = byte(i)
	}
	switch t {
	case I420A, I422, I444, NV12:
		for i := range f.Data {
			f.Data[i] = 128
		}
	case I010:
		for i := 0; i+1 < len(f.Data); i += 2 {
			f.Data[i], f.Data[i+1] = 0x00, 0x02 // 512, mid-range of 10 bits
		}
	}
	return f
}

func TestConvertRoundTripI420RGBA(t *testing.T) {
	needLib(t)
	src := gradient(1280, 720)
	rgba, err := Convert(src, RGBA)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Convert(rgba, I420)
	if err != nil {
		t.Fatal(err)
	}
	p, q := src.Planes(), back.Planes()
	for i, name := range []string{"Y", "U", "V"} {
		d := maxAbsDiff(p[i], q[i])
		t.Logf("I420->RGBA->I420 plane %s: max abs error %d", name, d)
		if d > 2 {
			t.Errorf("plane %s: max abs error %d > 2", name, d)
		}
	}
}

func TestConvertRefused(t *testing.T) {
	needLib(t)
	cases := []struct{ from, to VideoBufferType }{
		{ABGR, I420}, {ABGR, RGBA}, {RGB24, RGBA}, {ARGB, RGBA}, {I420A, RGBA}, {NV12, I444}, {NV12, NV12}, {I420, I010},
	}
	for _, c := range cases {
		_, err := Convert(synthetic(c.from, 8, 8), c.to)
		if !errors.Is(err, ErrUnsupportedConversion) {
			t.Errorf("%v -> %v: err %v, want ErrUnsupportedConversion", c.from, c.to, err)
		}
	}
	// Still alive: a supported conversion works afterwards.
	if _, err := Convert(gradient(8, 8), RGBA); err != nil {
		t.Fatal(err)
	}
}

func TestConvertRefusesBadFrames(t *testing.T) {
	bad := []*VideoFrame{
		{Type: I420, Width: 4, Height: 4, Data: make([]byte, 23)}, // one byte short of 24
		{Type: I420, Width: 4, Height: 4, Data: make([]byte, 25)},
		{Type: RGBA, Width: 0, Height: 4},
		{Type: 0, Width: 4, Height: 4, Data: make([]byte, 64)},
		{Type: I420, Width: 4, Height: 4, Data: make([]byte, 24), Rotation: 45},
		nil,
	}
	for i, f := range bad {
		if _, err := Convert(f, RGBA); err == nil {
			t.Errorf("frame %d accepted", i)
		}
	}
}

func TestConvertIntoReuses(t *testing.T) {
	needLib(t)
	src := gradient(320, 240)
	dst := &VideoFrame{Type: RGBA}
	if err := ConvertInto(dst, src); err != nil {
		t.Fatal(err)
	}
	buf := &dst.Data[0]
	src.Data[0] = 200
	src.Timestamp = 5
	if err := ConvertInto(dst, src); err != nil {
		t.Fatal(err)
	}
	if &dst.Data[0] != buf {
		t.Error("second conversion reallocated the destination")
	}
	if dst.Timestamp != 5 || dst.Width != 320 {
		t.Errorf("metadata not carried: %+v", dst.Timestamp)
	}
	flipped := &VideoFrame{Type: RGBA}
	if err := ConvertFlipped(flipped, src); err != nil {
		t.Fatal(err)
	}
	row := 320 * 4
	last := dst.Data[len(dst.Data)-row:]
	if maxAbsDiff(flipped.Data[:row], last) != 0 {
		t.Error("flipped first row differs from the last row")
	}
}

func TestConvertColours(t *testing.T) {
	needLib(t)
	// Pure red in BT.601 limited range is Y 81, U 90, V 240.
	red := NewVideoFrame(RGBA, 4, 4)
	for i := 0; i < len(red.Data); i += 4 {
		copy(red.Data[i:], []byte{255, 0, 0, 255})
	}
	yuv, err := Convert(red, I420)
	if err != nil {
		t.Fatal(err)
	}
	p := yuv.Planes()
	if d := maxAbsDiff(p[0], []byte{81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81, 81}); d > 2 {
		t.Errorf("Y of red = %v", p[0])
	}
	if u, v := int(p[1][0]), int(p[2][0]); u < 88 || u > 92 || v < 238 || v > 242 {
		t.Errorf("U, V of red = %d, %d; want about 90, 240", u, v)
	}
	// Memory order of the packed formats: red is R first in RGBA, third in BGRA, second in
	// ARGB, last in ABGR; RGB24 is R, G, B.
	want := map[VideoBufferType][]byte{
		RGBA: {255, 0, 0, 255}, BGRA: {0, 0, 255, 255}, ARGB: {255, 255, 0, 0}, ABGR: {255, 0, 0, 255}, RGB24: {255, 0, 0},
	}
	for typ, px := range want {
		out, err := Convert(yuv, typ)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(out.Data[:len(px)], px); d > 3 {
			t.Errorf("red as %v = %v, want about %v", typ, out.Data[:len(px)], px)
		}
	}
}

func TestConcurrentConvert(t *testing.T) {
	needLib(t)
	src := gradient(64, 64)
	want, err := Convert(src, RGBA)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			dst := &VideoFrame{Type: RGBA}
			for i := 0; i < 50; i++ {
				if err := ConvertInto(dst, src); err != nil {
					done <- err
					return
				}
				if maxAbsDiff(dst.Data, want.Data) != 0 {
					done <- fmt.Errorf("concurrent conversion differs")
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
