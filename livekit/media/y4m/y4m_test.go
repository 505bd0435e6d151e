package y4m

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit/media"
)

func TestRoundTrip(t *testing.T) {
	var b bytes.Buffer
	w, err := NewWriter(&b, 5, 3, 25, 1)
	if err != nil {
		t.Fatal(err)
	}
	var frames []*media.VideoFrame
	for i := 0; i < 3; i++ {
		f := media.NewVideoFrame(media.I420, 5, 3)
		for j := range f.Data {
			f.Data[j] = byte(i*50 + j)
		}
		frames = append(frames, f)
		if err := w.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.HasPrefix(b.String(), "YUV4MPEG2 W5 H3 F25:1 Ip A1:1 C420jpeg\nFRAME\n") {
		t.Fatalf("stream starts %q", b.String()[:50])
	}
	if err := w.WriteFrame(media.NewVideoFrame(media.RGBA, 5, 3)); err == nil {
		t.Error("RGBA frame accepted")
	}
	if err := w.WriteFrame(media.NewVideoFrame(media.I420, 6, 3)); err == nil {
		t.Error("frame of another size accepted")
	}
	r, err := NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h != (Header{Width: 5, Height: 3, FPSNum: 25, FPSDen: 1, Colorspace: "420jpeg"}) {
		t.Fatalf("header %+v", h)
	}
	reuse := &media.VideoFrame{}
	for i := 0; i < 3; i++ {
		if err := r.ReadFrameInto(reuse); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(reuse.Data, frames[i].Data) || reuse.Type != media.I420 || reuse.Width != 5 {
			t.Fatalf("frame %d differs", i)
		}
		if want := time.Duration(i) * 40 * time.Millisecond; reuse.Timestamp != want {
			t.Errorf("frame %d timestamp %v, want %v", i, reuse.Timestamp, want)
		}
	}
	if _, err := r.ReadFrame(); err != io.EOF {
		t.Fatalf("after the last frame: %v", err)
	}
}

func TestReaderVariants(t *testing.T) {
	data := strings.Repeat("\x10", 4+1+1)
	for _, hdr := range []string{
		"YUV4MPEG2 W2 H2\n",
		"YUV4MPEG2 W2 H2 C420paldv F30000:1001 It A0:0 XYSCSS=420PALDV\n",
		"YUV4MPEG2 C420 H2 W2\n",
	} {
		r, err := NewReader(strings.NewReader(hdr + "FRAME Ixyz\n" + data))
		if err != nil {
			t.Errorf("%q: %v", hdr, err)
			continue
		}
		f, err := r.ReadFrame()
		if err != nil || f.Validate() != nil {
			t.Errorf("%q: frame %v", hdr, err)
		}
	}
	bad := []string{
		"",
		"YUV4MPEG2",                 // no newline
		"YUV4MPEG W2 H2\n",          // wrong magic
		"YUV4MPEG2 W2\n",            // no height
		"YUV4MPEG2 W0 H2\n",         // zero width
		"YUV4MPEG2 W99999 H2\n",     // too wide
		"YUV4MPEG2 W2 H2 C444\n",    // not 4:2:0
		"YUV4MPEG2 W2 H2 C420p10\n", // not 8-bit
		"YUV4MPEG2 W2 H2 F30:0\n",   // no frame rate
		"YUV4MPEG2 W2 H2 Wx\n",      // not a number
		"YUV4MPEG2 W2 H2 Z1\n",      // unknown parameter
		"YUV4MPEG2 " + strings.Repeat("X", 5000) + "\n",
	}
	for _, s := range bad {
		if _, err := NewReader(strings.NewReader(s)); !errors.Is(err, ErrFormat) {
			t.Errorf("%.30q: err %v", s, err)
		}
	}
	for _, body := range []string{"FRAMX\n" + data, "FRAME\n" + data[:3], "FRAME"} {
		r, _ := NewReader(strings.NewReader("YUV4MPEG2 W2 H2\n" + body))
		if _, err := r.ReadFrame(); !errors.Is(err, ErrFormat) {
			t.Errorf("body %q: err %v", body, err)
		}
	}
	if _, err := NewWriter(io.Discard, 0, 2, 30, 1); err == nil {
		t.Error("zero width accepted")
	}
	if _, err := NewWriter(io.Discard, 2, 2, 30, 0); err == nil {
		t.Error("zero frame rate accepted")
	}
}

func TestHugeHeaderCheap(t *testing.T) {
	// A header that claims 16384x16384 followed by a few bytes must fail without allocating
	// the 400 MB frame.
	r, err := NewReader(strings.NewReader("YUV4MPEG2 W16384 H16384\nFRAME\nabc"))
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = r.ReadFrame()
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("truncated frame accepted")
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
		t.Errorf("reading a 3-byte frame allocated %d bytes", n)
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("YUV4MPEG2 W2 H2 F30:1 C420jpeg\nFRAME\n\x00\x01\x02\x03\x04\x05"))
	f.Add([]byte("YUV4MPEG2 W3 H1 Ip A1:1\nFRAME\n\x00\x01\x02\x03\x04\x05\x06FRAME\n"))
	f.Add([]byte("YUV4MPEG2 W16384 H16384\nFRAME\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		for i := 0; i < 10; i++ {
			fr, err := r.ReadFrame()
			if err != nil {
				return
			}
			if err := fr.Validate(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
