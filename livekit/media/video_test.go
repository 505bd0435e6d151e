package media

import (
	"image"
	"image/color"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/internal/mediapb"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

func TestFrameSizeAndPlanes(t *testing.T) {
	cases := []struct {
		t       VideoBufferType
		size    int
		strides []int
	}{
		{I420, 15 + 6 + 6, []int{5, 3, 3}},
		{I420A, 15 + 6 + 6 + 15, []int{5, 3, 3, 5}},
		{I422, 15 + 9 + 9, []int{5, 3, 3}},
		{I444, 45, []int{5, 5, 5}},
		{I010, 30 + 12 + 12, []int{10, 6, 6}},
		{NV12, 15 + 12, []int{5, 6}},
		{RGBA, 60, []int{20}}, {BGRA, 60, []int{20}}, {ARGB, 60, []int{20}}, {ABGR, 60, []int{20}},
		{RGB24, 45, []int{15}},
	}
	for _, c := range cases {
		n, err := FrameSize(c.t, 5, 3)
		if err != nil || n != c.size {
			t.Errorf("FrameSize(%v, 5, 3) = %d, %v; want %d", c.t, n, err, c.size)
			continue
		}
		f := NewVideoFrame(c.t, 5, 3)
		if err := f.Validate(); err != nil {
			t.Errorf("%v: %v", c.t, err)
		}
		s := f.Strides()
		planes := f.Planes()
		if len(s) != len(c.strides) || len(planes) != len(s) {
			t.Errorf("%v: strides %v planes %d, want %v", c.t, s, len(planes), c.strides)
			continue
		}
		total := 0
		for i := range s {
			if s[i] != c.strides[i] {
				t.Errorf("%v: strides %v, want %v", c.t, s, c.strides)
			}
			total += len(planes[i])
		}
		if total != c.size {
			t.Errorf("%v: planes cover %d bytes, want %d", c.t, total, c.size)
		}
		planes[len(planes)-1][0] = 7 // shares memory with Data
		if f.Data[c.size-len(planes[len(planes)-1])] != 7 {
			t.Errorf("%v: planes do not share Data", c.t)
		}
		p, ok := mediapb.BufferType(int(c.t))
		back, ok2 := mediapb.MediaBufferType(p)
		if !ok || !ok2 || VideoBufferType(back) != c.t || c.t.String() != p.String() {
			t.Errorf("%v: proto mapping %v %v %v", c.t, p, back, c.t.String())
		}
	}
	if _, ok := mediapb.BufferType(0); ok {
		t.Error("the zero VideoBufferType maps to a protocol value")
	}
	if _, ok := mediapb.MediaBufferType(pb.VideoBufferType(42)); ok {
		t.Error("unknown protocol value mapped")
	}
	if VideoBufferType(99).String() != "VideoBufferType(99)" {
		t.Error(VideoBufferType(99).String())
	}
}

func TestVideoValidate(t *testing.T) {
	bad := []*VideoFrame{
		nil,
		{Type: I420, Width: 2, Height: 2, Data: make([]byte, 5)},
		{Type: I420, Width: 2, Height: 2, Data: make([]byte, 7)},
		{Type: RGBA, Width: -1, Height: 2},
		{Type: RGBA, Width: 20000, Height: 2},
		{Type: 77, Width: 2, Height: 2, Data: make([]byte, 16)},
		{Type: RGBA, Width: 1, Height: 1, Data: make([]byte, 4), Rotation: 30},
	}
	for i, f := range bad {
		if f.Validate() == nil {
			t.Errorf("frame %d: accepted", i)
		}
	}
	if (&VideoFrame{Type: I420, Width: 2, Height: 2, Data: make([]byte, 5)}).Planes() != nil {
		t.Error("Planes of an invalid frame")
	}
	for _, r := range []VideoRotation{Rotation0, Rotation90, Rotation180, Rotation270} {
		p, ok := mediapb.Rotation(int(r))
		if !ok || VideoRotation(mediapb.Degrees(p)) != r {
			t.Errorf("rotation %d does not round-trip", r)
		}
	}
}

func TestToImageI420SharesData(t *testing.T) {
	f := NewVideoFrame(I420, 4, 2)
	copy(f.Data, []byte{10, 20, 30, 40, 50, 60, 70, 80, 100, 110, 200, 210})
	img, err := f.ToImage()
	if err != nil {
		t.Fatal(err)
	}
	m := img.(*image.YCbCr)
	if m.SubsampleRatio != image.YCbCrSubsampleRatio420 || m.Bounds() != image.Rect(0, 0, 4, 2) {
		t.Fatalf("image %v %v", m.SubsampleRatio, m.Bounds())
	}
	if got := m.YCbCrAt(3, 1); got != (color.YCbCr{Y: 80, Cb: 110, Cr: 210}) {
		t.Errorf("YCbCrAt(3,1) = %v", got)
	}
	f.Data[0] = 99
	if m.YCbCrAt(0, 0).Y != 99 {
		t.Error("image does not share the frame's data")
	}
	for _, typ := range []VideoBufferType{I422, I444} {
		img, err := NewVideoFrame(typ, 3, 3).ToImage()
		if err != nil {
			t.Fatal(err)
		}
		want := map[VideoBufferType]image.YCbCrSubsampleRatio{I422: image.YCbCrSubsampleRatio422, I444: image.YCbCrSubsampleRatio444}[typ]
		if img.(*image.YCbCr).SubsampleRatio != want {
			t.Errorf("%v: ratio %v", typ, img.(*image.YCbCr).SubsampleRatio)
		}
	}
	for _, typ := range []VideoBufferType{NV12, BGRA, I010, I420A} {
		if _, err := NewVideoFrame(typ, 2, 2).ToImage(); err == nil {
			t.Errorf("%v: ToImage succeeded", typ)
		}
	}
}

func TestToImageRGBA(t *testing.T) {
	f := NewVideoFrame(RGBA, 2, 1)
	copy(f.Data, []byte{1, 2, 3, 255, 4, 5, 6, 255})
	img, err := f.ToImage()
	if err != nil {
		t.Fatal(err)
	}
	if got := img.(*image.RGBA).RGBAAt(1, 0); got != (color.RGBA{4, 5, 6, 255}) {
		t.Errorf("RGBAAt(1,0) = %v", got)
	}
}

func TestFrameFromImageYCbCr(t *testing.T) {
	// Odd size: chroma is (w+1)/2 x (h+1)/2.
	m := image.NewYCbCr(image.Rect(0, 0, 5, 3), image.YCbCrSubsampleRatio420)
	for i := range m.Y {
		m.Y[i] = byte(i)
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = byte(100+i), byte(200+i)
	}
	f := FrameFromImage(m)
	if f.Type != I420 || f.Width != 5 || f.Height != 3 {
		t.Fatalf("frame %v %dx%d", f.Type, f.Width, f.Height)
	}
	p := f.Planes()
	for i := range p[0] {
		if p[0][i] != byte(i) {
			t.Fatalf("Y plane %v", p[0])
		}
	}
	for i := range p[1] {
		if p[1][i] != byte(100+i) || p[2][i] != byte(200+i) {
			t.Fatalf("chroma %v %v", p[1], p[2])
		}
	}
	// A sub-image: copy only its part, with chroma from the right place.
	big := image.NewYCbCr(image.Rect(0, 0, 8, 8), image.YCbCrSubsampleRatio420)
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			big.Y[big.YOffset(x, y)] = byte(10*y + x)
			big.Cb[big.COffset(x, y)] = byte(10*(y/2) + x/2)
		}
	}
	sub := big.SubImage(image.Rect(2, 4, 6, 8)).(*image.YCbCr)
	g := FrameFromImage(sub)
	if g.Type != I420 || g.Width != 4 || g.Height != 4 {
		t.Fatalf("sub-image frame %v %dx%d", g.Type, g.Width, g.Height)
	}
	q := g.Planes()
	if q[0][0] != 42 || q[0][5] != 53 || q[1][0] != 21 || q[1][3] != 32 {
		t.Errorf("sub-image planes Y %v Cb %v", q[0], q[1])
	}
	// Round trip through ToImage gives the same pixels.
	back, _ := f.ToImage()
	for y := 0; y < 3; y++ {
		for x := 0; x < 5; x++ {
			if back.At(x, y) != m.At(x, y) {
				t.Fatalf("pixel (%d,%d) differs", x, y)
			}
		}
	}
	// 4:4:4 and odd-origin 4:2:0 sub-images.
	m444 := image.NewYCbCr(image.Rect(0, 0, 3, 2), image.YCbCrSubsampleRatio444)
	m444.Cr[5] = 77
	if h := FrameFromImage(m444); h.Type != I444 || h.Planes()[2][5] != 77 {
		t.Errorf("4:4:4 frame %v", h.Type)
	}
	if h := FrameFromImage(big.SubImage(image.Rect(1, 1, 5, 5))); h.Type != RGBA {
		t.Errorf("odd-origin 4:2:0 sub-image became %v, want the RGBA fallback", h.Type)
	}
}

func TestFrameFromImageRGBAAndOthers(t *testing.T) {
	m := image.NewRGBA(image.Rect(1, 1, 3, 2))
	m.SetRGBA(1, 1, color.RGBA{1, 2, 3, 255})
	m.SetRGBA(2, 1, color.RGBA{4, 5, 6, 255})
	f := FrameFromImage(m)
	if f.Type != RGBA || string(f.Data) != string([]byte{1, 2, 3, 255, 4, 5, 6, 255}) {
		t.Fatalf("RGBA frame %v %v", f.Type, f.Data)
	}
	g := image.NewGray(image.Rect(0, 0, 2, 1))
	g.Pix[0], g.Pix[1] = 0, 200
	f = FrameFromImage(g)
	if f.Type != RGBA || string(f.Data) != string([]byte{0, 0, 0, 255, 200, 200, 200, 255}) {
		t.Fatalf("gray frame %v %v", f.Type, f.Data)
	}
	if FrameFromImage(image.NewRGBA(image.Rect(0, 0, 0, 5))) != nil {
		t.Error("empty image gave a frame")
	}
}

func TestAudioFrame(t *testing.T) {
	f := NewAudioFrame(48000, 2, 480)
	if len(f.Data) != 960 || f.Duration() != 10*time.Millisecond {
		t.Fatalf("len %d duration %v", len(f.Data), f.Duration())
	}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []*AudioFrame{
		nil,
		{SampleRate: 48000, NumChannels: 1, SamplesPerChannel: 10, Data: make([]int16, 9)},
		{SampleRate: 0, NumChannels: 1, SamplesPerChannel: 1, Data: make([]int16, 1)},
		{SampleRate: 8000, NumChannels: 0, SamplesPerChannel: 1},
		{SampleRate: 8000, NumChannels: 1, SamplesPerChannel: 0},
		NewAudioFrame(8000, -1, 10),
	}
	for i, b := range bad {
		if b.Validate() == nil {
			t.Errorf("frame %d accepted", i)
		}
	}
	if (&AudioFrame{}).Duration() != 0 {
		t.Error("zero frame has a duration")
	}
}
