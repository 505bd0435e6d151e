// Package wav reads and writes 16-bit PCM WAV files as streams of media.AudioFrame, for the
// examples and for tests that want to listen to what came out.
package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// Format is the audio format of a file.
type Format struct {
	SampleRate  int
	NumChannels int
}

// ErrFormat is wrapped by errors about files that are not 16-bit PCM WAV.
var ErrFormat = errors.New("wav: not a 16-bit PCM WAV file")

const (
	formatPCM        = 1
	formatExtensible = 0xFFFE
	maxChunkSkip     = 1 << 20 // a larger non-audio chunk before "data" means a broken or hostile file
)

// Reader streams the samples of a WAV file.
type Reader struct {
	r      io.Reader
	format Format
	left   int64 // bytes of sample data left; -1: until EOF (a streamed file whose size was never written)
	buf    []byte
	odd    bool // a lone byte was read at the end
}

// NewReader reads the header of a 16-bit PCM WAV stream (RIFF, WAVE_FORMAT_PCM or
// WAVE_FORMAT_EXTENSIBLE with PCM data), skipping chunks other than "fmt " and "data". The
// reader is then positioned at the first sample.
func NewReader(r io.Reader) (*Reader, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: short header: %v", ErrFormat, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE signature", ErrFormat)
	}
	rd := &Reader{r: r}
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return nil, fmt.Errorf("%w: no data chunk: %v", ErrFormat, err)
		}
		id, size := string(ch[0:4]), binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return nil, fmt.Errorf("%w: fmt chunk of %d bytes", ErrFormat, size)
			}
			b := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, fmt.Errorf("%w: short fmt chunk: %v", ErrFormat, err)
			}
			if err := rd.parseFmt(b[:size]); err != nil {
				return nil, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrFormat)
			}
			rd.left = int64(size)
			if size == 0 || size == math.MaxUint32 {
				rd.left = -1 // written by a streaming writer that never came back to fix it
			}
			return rd, nil
		default:
			n := int64(size) + int64(size%2)
			if n > maxChunkSkip {
				return nil, fmt.Errorf("%w: %q chunk of %d bytes before the data", ErrFormat, id, size)
			}
			if _, err := io.CopyN(io.Discard, r, n); err != nil {
				return nil, fmt.Errorf("%w: short %q chunk: %v", ErrFormat, id, err)
			}
		}
	}
}

func (rd *Reader) parseFmt(b []byte) error {
	tag := binary.LittleEndian.Uint16(b[0:2])
	channels := int(binary.LittleEndian.Uint16(b[2:4]))
	rate := int(binary.LittleEndian.Uint32(b[4:8]))
	align := int(binary.LittleEndian.Uint16(b[12:14]))
	bits := int(binary.LittleEndian.Uint16(b[14:16]))
	if tag == formatExtensible {
		// cbSize, validBits, channelMask, then the sub-format GUID whose first two bytes are the
		// format tag.
		if len(b) < 40 {
			return fmt.Errorf("%w: short WAVE_FORMAT_EXTENSIBLE header", ErrFormat)
		}
		tag = binary.LittleEndian.Uint16(b[24:26])
	}
	switch {
	case tag != formatPCM:
		return fmt.Errorf("%w: format tag %#x", ErrFormat, tag)
	case bits != 16:
		return fmt.Errorf("%w: %d bits per sample", ErrFormat, bits)
	case channels < 1 || channels > 64:
		return fmt.Errorf("%w: %d channels", ErrFormat, channels)
	case rate < 1 || rate > 768000:
		return fmt.Errorf("%w: sample rate %d", ErrFormat, rate)
	case align != 2*channels:
		return fmt.Errorf("%w: block align %d for %d channels", ErrFormat, align, channels)
	}
	rd.format = Format{SampleRate: rate, NumChannels: channels}
	return nil
}

// Format is the file's sample rate and channel count.
func (rd *Reader) Format() Format { return rd.format }

// Read reads interleaved samples into p and returns how many it read. It returns io.EOF at the
// end of the data; a file cut short mid-sample ends with io.ErrUnexpectedEOF.
func (rd *Reader) Read(p []int16) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	want := int64(2 * len(p))
	if rd.left >= 0 && want > rd.left {
		want = rd.left
	}
	if want == 0 {
		return 0, io.EOF
	}
	if int64(cap(rd.buf)) < want {
		rd.buf = make([]byte, want)
	}
	b := rd.buf[:want]
	n, err := io.ReadFull(rd.r, b)
	if rd.left >= 0 {
		rd.left -= int64(n)
	}
	if n%2 == 1 {
		rd.odd = true
		n--
	}
	for i := 0; i < n/2; i++ {
		p[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		if rd.left > 0 || rd.odd {
			err = io.ErrUnexpectedEOF
		} else {
			err = nil
			rd.left = 0
		}
		if n == 0 && err == nil {
			err = io.EOF
		}
	}
	return n / 2, err
}

// ReadFrame reads up to samplesPerChannel samples of every channel. The last frame of a file may
// be shorter; after it ReadFrame returns io.EOF.
func (rd *Reader) ReadFrame(samplesPerChannel int) (*media.AudioFrame, error) {
	if samplesPerChannel <= 0 {
		return nil, fmt.Errorf("wav: ReadFrame of %d samples", samplesPerChannel)
	}
	ch := rd.format.NumChannels
	buf := make([]int16, samplesPerChannel*ch)
	n := 0
	for n < len(buf) {
		m, err := rd.Read(buf[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	n -= n % ch // a partial last sample frame is dropped
	if n == 0 {
		return nil, io.EOF
	}
	return &media.AudioFrame{Data: buf[:n], SampleRate: rd.format.SampleRate, NumChannels: ch, SamplesPerChannel: n / ch}, nil
}

// Writer writes a 16-bit PCM WAV file. The header is written first with zero sizes and fixed on
// Close, so the file is complete only after Close.
type Writer struct {
	w      io.WriteSeeker
	start  int64 // offset of the RIFF header
	format Format
	n      int64 // sample bytes written
	buf    []byte
	closed bool
	err    error
}

const headerSize = 44

// maxData keeps the RIFF size (data + 36) within 32 bits.
const maxData = math.MaxUint32 - 36 - 1

// NewWriter writes a WAV header for sampleRate Hz, numChannels channels to w at its current
// position.
func NewWriter(w io.WriteSeeker, sampleRate, numChannels int) (*Writer, error) {
	if sampleRate < 1 || sampleRate > 768000 || numChannels < 1 || numChannels > 64 {
		return nil, fmt.Errorf("wav: unsupported format %d Hz, %d channels", sampleRate, numChannels)
	}
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	wr := &Writer{w: w, start: start, format: Format{SampleRate: sampleRate, NumChannels: numChannels}}
	if _, err := w.Write(wr.header()); err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	return wr, nil
}

func (wr *Writer) header() []byte {
	h := make([]byte, headerSize)
	ch, rate := wr.format.NumChannels, wr.format.SampleRate
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+wr.n))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], formatPCM)
	binary.LittleEndian.PutUint16(h[22:], uint16(ch))
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*2*ch))
	binary.LittleEndian.PutUint16(h[32:], uint16(2*ch))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(wr.n))
	return h
}

// Write appends interleaved samples. Writing a partial sample frame (a count not a multiple of
// the channel count) is allowed; the file is valid as long as the total is whole frames.
func (wr *Writer) Write(samples []int16) error {
	if wr.closed {
		return errors.New("wav: write after Close")
	}
	if wr.err != nil {
		return wr.err
	}
	if wr.n+2*int64(len(samples)) > maxData {
		return errors.New("wav: file would exceed 4 GiB")
	}
	if cap(wr.buf) < 2*len(samples) {
		wr.buf = make([]byte, 2*len(samples))
	}
	b := wr.buf[:2*len(samples)]
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	n, err := wr.w.Write(b)
	wr.n += int64(n)
	if err != nil {
		wr.err = fmt.Errorf("wav: %w", err)
	}
	return wr.err
}

// WriteFrame appends a frame, which must have the writer's format.
func (wr *Writer) WriteFrame(f *media.AudioFrame) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if f.SampleRate != wr.format.SampleRate || f.NumChannels != wr.format.NumChannels {
		return fmt.Errorf("wav: frame is %d Hz %d ch, file is %d Hz %d ch",
			f.SampleRate, f.NumChannels, wr.format.SampleRate, wr.format.NumChannels)
	}
	return wr.Write(f.Data)
}

// Close writes the final sizes into the header and leaves w positioned after the data. It does
// not close w. It is idempotent.
func (wr *Writer) Close() error {
	if wr.closed {
		return wr.err
	}
	wr.closed = true
	if wr.err != nil {
		return wr.err
	}
	end := wr.start + headerSize + wr.n
	if wr.n%2 == 1 { // cannot happen with 16-bit samples unless a write was torn; pad anyway
		if _, err := wr.w.Write([]byte{0}); err != nil {
			wr.err = fmt.Errorf("wav: %w", err)
			return wr.err
		}
		end++
	}
	if _, err := wr.w.Seek(wr.start, io.SeekStart); err != nil {
		wr.err = fmt.Errorf("wav: %w", err)
		return wr.err
	}
	if _, err := wr.w.Write(wr.header()); err != nil {
		wr.err = fmt.Errorf("wav: %w", err)
		return wr.err
	}
	if _, err := wr.w.Seek(end, io.SeekStart); err != nil {
		wr.err = fmt.Errorf("wav: %w", err)
	}
	return wr.err
}
