// Package y4m reads and writes YUV4MPEG2 (.y4m) streams of 8-bit 4:2:0 video as I420
// media.VideoFrame values, for the examples and for tests that want to look at what came out.
// ffmpeg reads and writes the format: ffmpeg -i in.mp4 -pix_fmt yuv420p out.y4m.
package y4m

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// ErrFormat is wrapped by errors about streams that are not 8-bit 4:2:0 YUV4MPEG2.
var ErrFormat = errors.New("y4m: not an 8-bit 4:2:0 YUV4MPEG2 stream")

const (
	magic      = "YUV4MPEG2"
	frameTag   = "FRAME"
	maxLine    = 4096
	maxDim     = 16384
	readChunk  = 1 << 20
	defaultFPS = 30
)

// Header is what a stream's header says.
type Header struct {
	Width, Height  int
	FPSNum, FPSDen int    // frame rate FPSNum/FPSDen; 30/1 when the header gives none
	Colorspace     string // the C parameter: "420jpeg", "420paldv", "420", "420mpeg2" or "" (absent)
}

// Reader reads frames from a YUV4MPEG2 stream.
type Reader struct {
	r      *bufio.Reader
	header Header
	size   int
	n      int64 // frames read
}

// NewReader reads the stream header. Only 8-bit 4:2:0 streams are accepted (C420jpeg,
// C420paldv, C420, C420mpeg2 or no C parameter).
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReader(r)
	line, err := readLine(br)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	fields := strings.Split(line, " ")
	if fields[0] != magic {
		return nil, fmt.Errorf("%w: no %s signature", ErrFormat, magic)
	}
	h := Header{FPSNum: defaultFPS, FPSDen: 1}
	for _, f := range fields[1:] {
		if f == "" {
			continue
		}
		v := f[1:]
		switch f[0] {
		case 'W':
			h.Width, err = dim(v)
		case 'H':
			h.Height, err = dim(v)
		case 'F':
			h.FPSNum, h.FPSDen, err = ratio(v)
			if err == nil && (h.FPSNum == 0 || h.FPSDen == 0) {
				err = fmt.Errorf("frame rate %s", v)
			}
		case 'C':
			switch v {
			case "420jpeg", "420paldv", "420", "420mpeg2":
				h.Colorspace = v
			default:
				err = fmt.Errorf("colorspace C%s is not 8-bit 4:2:0", v)
			}
		case 'I', 'A', 'X':
			// Interlacing, aspect ratio and extensions do not change the sample layout.
		default:
			err = fmt.Errorf("unknown parameter %q", f)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
	}
	if h.Width == 0 || h.Height == 0 {
		return nil, fmt.Errorf("%w: header lacks width or height", ErrFormat)
	}
	size, err := media.FrameSize(media.I420, h.Width, h.Height)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return &Reader{r: br, header: h, size: size}, nil
}

func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		b = append(b, chunk...)
		if len(b) > maxLine {
			return "", errors.New("line too long")
		}
		if err == nil {
			return string(b[:len(b)-1]), nil
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF && len(b) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
	}
}

func dim(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxDim {
		return 0, fmt.Errorf("size %q out of range (1..%d)", v, maxDim)
	}
	return n, nil
}

func ratio(v string) (int, int, error) {
	a, b, ok := strings.Cut(v, ":")
	n, err1 := strconv.Atoi(a)
	d, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 0 || d < 0 || n > 1<<20 || d > 1<<20 {
		return 0, 0, fmt.Errorf("ratio %q", v)
	}
	return n, d, nil
}

// Header returns the stream header.
func (r *Reader) Header() Header { return r.header }

// ReadFrame reads the next frame as a new I420 frame whose Timestamp is its index divided by
// the frame rate. It returns io.EOF after the last frame.
func (r *Reader) ReadFrame() (*media.VideoFrame, error) {
	f := &media.VideoFrame{}
	if err := r.ReadFrameInto(f); err != nil {
		return nil, err
	}
	return f, nil
}

// ReadFrameInto reads the next frame into f, reusing f.Data when it is large enough.
func (r *Reader) ReadFrameInto(f *media.VideoFrame) error {
	line, err := readLine(r.r)
	if err == io.EOF {
		return io.EOF
	}
	if err != nil {
		return fmt.Errorf("%w: frame %d: %v", ErrFormat, r.n, err)
	}
	if line != frameTag && !strings.HasPrefix(line, frameTag+" ") {
		return fmt.Errorf("%w: frame %d: expected FRAME, got %.20q", ErrFormat, r.n, line)
	}
	// Grow the buffer as data arrives, so a header that claims a huge size costs memory only
	// if the data is really there.
	buf := f.Data[:0]
	for len(buf) < r.size {
		k := min(r.size-len(buf), readChunk)
		buf = grow(buf, k)
		if _, err := io.ReadFull(r.r, buf[len(buf)-k:]); err != nil {
			f.Data = buf[:0] // keep the capacity for the caller's next try
			return fmt.Errorf("%w: frame %d: stream ends inside the frame: %v", ErrFormat, r.n, io.ErrUnexpectedEOF)
		}
	}
	h := r.header
	*f = media.VideoFrame{
		Type: media.I420, Width: h.Width, Height: h.Height, Data: buf,
		Timestamp: time.Duration(r.n) * time.Second * time.Duration(h.FPSDen) / time.Duration(h.FPSNum),
	}
	r.n++
	return nil
}

func grow(b []byte, k int) []byte {
	if cap(b)-len(b) >= k {
		return b[:len(b)+k]
	}
	nb := make([]byte, len(b)+k, max(len(b)+k, 2*cap(b)))
	copy(nb, b)
	return nb
}

// Writer writes I420 frames as a YUV4MPEG2 stream.
type Writer struct {
	w             io.Writer
	width, height int
	err           error
}

// NewWriter writes the stream header (C420jpeg, progressive, square pixels) to w.
func NewWriter(w io.Writer, width, height, fpsNum, fpsDen int) (*Writer, error) {
	if _, err := media.FrameSize(media.I420, width, height); err != nil {
		return nil, fmt.Errorf("y4m: %w", err)
	}
	if fpsNum <= 0 || fpsDen <= 0 {
		return nil, fmt.Errorf("y4m: frame rate %d/%d", fpsNum, fpsDen)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s W%d H%d F%d:%d Ip A1:1 C420jpeg\n", magic, width, height, fpsNum, fpsDen)
	if _, err := w.Write(b.Bytes()); err != nil {
		return nil, fmt.Errorf("y4m: %w", err)
	}
	return &Writer{w: w, width: width, height: height}, nil
}

var frameLine = []byte(frameTag + "\n")

// WriteFrame writes f, which must be a valid I420 frame of the stream's size.
func (w *Writer) WriteFrame(f *media.VideoFrame) error {
	if w.err != nil {
		return w.err
	}
	if err := f.Validate(); err != nil {
		return err
	}
	if f.Type != media.I420 || f.Width != w.width || f.Height != w.height {
		return fmt.Errorf("y4m: stream is I420 %dx%d, frame is %v %dx%d (Convert it first)", w.width, w.height, f.Type, f.Width, f.Height)
	}
	if _, err := w.w.Write(frameLine); err != nil {
		w.err = fmt.Errorf("y4m: %w", err)
		return w.err
	}
	if _, err := w.w.Write(f.Data); err != nil {
		w.err = fmt.Errorf("y4m: %w", err)
	}
	return w.err
}
