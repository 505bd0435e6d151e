package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/livekit-ffi-go/sdk/livekit/media"
)

func writeFile(t *testing.T, rate, ch int, samples []int16) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "a.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(f, rate, ch)
	if err != nil {
		t.Fatal(err)
	}
	// In two writes, to exercise streaming.
	half := len(samples) / 2
	if err := w.Write(samples[:half]); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(samples[half:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := w.Write([]int16{1}); err == nil {
		t.Error("Write after Close accepted")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 2, 1000, 4801} {
		samples := make([]int16, 2*n)
		for i := range samples {
			samples[i] = int16(i*37 - 20000)
		}
		b := writeFile(t, 44100, 2, samples)
		if len(b) != 44+4*n {
			t.Fatalf("%d frames: file is %d bytes", n, len(b))
		}
		if got := binary.LittleEndian.Uint32(b[40:]); got != uint32(4*n) {
			t.Errorf("data size %d", got)
		}
		if got := binary.LittleEndian.Uint32(b[4:]); got != uint32(36+4*n) {
			t.Errorf("RIFF size %d", got)
		}
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if r.Format() != (Format{SampleRate: 44100, NumChannels: 2}) {
			t.Fatalf("format %+v", r.Format())
		}
		var got []int16
		for {
			f, err := r.ReadFrame(480)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Validate() != nil || f.SampleRate != 44100 || f.NumChannels != 2 {
				t.Fatalf("frame %+v", f)
			}
			got = append(got, f.Data...)
		}
		if len(got) != len(samples) || (n > 0 && !equal(got, samples)) {
			t.Fatalf("%d frames: read %d samples back", n, len(got))
		}
	}
}

func equal(a, b []int16) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

func TestWriteFrameAndOffset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write([]byte("junk")) // the WAV starts mid-file
	w, err := NewWriter(f, 16000, 1)
	if err != nil {
		t.Fatal(err)
	}
	fr := media.NewAudioFrame(16000, 1, 160)
	fr.Data[5] = 99
	if err := w.WriteFrame(fr); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(media.NewAudioFrame(48000, 1, 480)); err == nil {
		t.Error("frame of another rate accepted")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 4+44+320 {
		t.Errorf("left at %d", pos)
	}
	b, _ := os.ReadFile(path)
	r, err := NewReader(bytes.NewReader(b[4:]))
	if err != nil {
		t.Fatal(err)
	}
	p := make([]int16, 1000)
	n, err := r.Read(p)
	if n != 160 || err != nil || p[5] != 99 {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if n, err := r.Read(p); n != 0 || err != io.EOF {
		t.Fatalf("Read at end = %d, %v", n, err)
	}
}

// header builds a WAV header by hand for the malformed cases.
func header(tag, ch uint16, rate uint32, align, bits uint16, extra ...[]byte) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF\x00\x00\x00\x00WAVE")
	for _, e := range extra {
		b.Write(e)
	}
	b.WriteString("fmt ")
	binary.Write(&b, binary.LittleEndian, uint32(16))
	for _, v := range []any{tag, ch, rate, rate * uint32(align), align, bits} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(4))
	b.Write([]byte{1, 0, 2, 0})
	return b.Bytes()
}

func TestReaderHeaders(t *testing.T) {
	if _, err := NewReader(bytes.NewReader(header(1, 1, 8000, 2, 16))); err != nil {
		t.Fatalf("valid header refused: %v", err)
	}
	// An odd-sized LIST chunk before fmt is skipped with its pad byte.
	list := append([]byte("LIST\x03\x00\x00\x00abc"), 0)
	r, err := NewReader(bytes.NewReader(header(1, 1, 8000, 2, 16, list)))
	if err != nil {
		t.Fatalf("LIST chunk: %v", err)
	}
	if f, err := r.ReadFrame(10); err != nil || f.SamplesPerChannel != 2 || f.Data[1] != 2 {
		t.Fatalf("ReadFrame %v %v", f, err)
	}
	bad := map[string][]byte{
		"empty":      nil,
		"not riff":   []byte("RIFX\x00\x00\x00\x00WAVEfmt "),
		"float":      header(3, 1, 8000, 4, 32),
		"8-bit":      header(1, 1, 8000, 1, 8),
		"no channel": header(1, 0, 8000, 0, 16),
		"zero rate":  header(1, 1, 0, 2, 16),
		"bad align":  header(1, 2, 8000, 2, 16),
		"no fmt":     []byte("RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00"),
		"huge chunk": append([]byte("RIFF\x00\x00\x00\x00WAVEjunk"), 0xff, 0xff, 0xff, 0x7f),
		"cut":        header(1, 1, 8000, 2, 16)[:30],
	}
	for name, b := range bad {
		if _, err := NewReader(bytes.NewReader(b)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

func TestReaderTruncatedAndStreamed(t *testing.T) {
	b := header(1, 1, 8000, 2, 16)
	cut := b[:len(b)-1] // half of the last sample is missing
	r, _ := NewReader(bytes.NewReader(cut))
	p := make([]int16, 4)
	if _, err := r.Read(p); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated data: %v", err)
	}
	// A streamed file whose data size was never fixed (0) is read to EOF.
	s := append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(s[len(s)-8:], 0)
	s = append(s, 3, 0)
	r, err := NewReader(bytes.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	n, err := r.Read(p)
	if n != 3 || err != nil || p[2] != 3 {
		t.Fatalf("streamed read = %d %v %v", n, err, p)
	}
	if _, err := r.Read(p); err != io.EOF {
		t.Fatalf("streamed end: %v", err)
	}
}

func FuzzReader(f *testing.F) {
	f.Add(header(1, 1, 8000, 2, 16))
	f.Add(header(1, 2, 48000, 4, 16, []byte("LIST\x01\x00\x00\x00a\x00")))
	f.Add(header(0xFFFE, 1, 8000, 2, 16))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		if fm := r.Format(); fm.NumChannels < 1 || fm.SampleRate < 1 {
			t.Fatalf("accepted format %+v", fm)
		}
		for i := 0; i < 100; i++ {
			fr, err := r.ReadFrame(7)
			if err != nil {
				return
			}
			if err := fr.Validate(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
