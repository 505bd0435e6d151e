package media

import (
	"fmt"
	"image"
	"image/draw"
)

// ToImage returns the frame as an image that shares Data (no copy): I420, I422 and I444 become
// *image.YCbCr with subsample ratio 4:2:0, 4:2:2 and 4:4:4, RGBA becomes *image.RGBA. Other
// formats are an error; Convert them to I420 or RGBA first.
//
// The image package reads YCbCr as full-range BT.601 (JFIF), while video is usually
// limited-range, so colours drawn from it are slightly washed out; and *image.RGBA is
// alpha-premultiplied, which matches video RGBA only for opaque pixels.
func (f *VideoFrame) ToImage() (image.Image, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	r := image.Rect(0, 0, f.Width, f.Height)
	var ratio image.YCbCrSubsampleRatio
	switch f.Type {
	case RGBA:
		return &image.RGBA{Pix: f.Data, Stride: 4 * f.Width, Rect: r}, nil
	case I420:
		ratio = image.YCbCrSubsampleRatio420
	case I422:
		ratio = image.YCbCrSubsampleRatio422
	case I444:
		ratio = image.YCbCrSubsampleRatio444
	default:
		return nil, fmt.Errorf("media: no image type shares the layout of %v; Convert to I420 or RGBA first", f.Type)
	}
	p, s := f.Planes(), f.Strides()
	return &image.YCbCr{Y: p[0], Cb: p[1], Cr: p[2], YStride: s[0], CStride: s[1], SubsampleRatio: ratio, Rect: r}, nil
}

// FrameFromImage copies img into a new frame. *image.YCbCr with 4:2:0, 4:2:2 or 4:4:4
// subsampling becomes I420, I422 or I444 with the samples copied as they are, and *image.RGBA
// becomes RGBA byte for byte. Every other image becomes RGBA through image/draw (exact for
// NRGBA, Gray and paletted images; premultiplied colour for translucent pixels); call Convert
// for I420. It returns nil for an empty image.
func FrameFromImage(img image.Image) *VideoFrame {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if _, err := FrameSize(RGBA, w, h); err != nil {
		return nil
	}
	switch m := img.(type) {
	case *image.YCbCr:
		if f := fromYCbCr(m); f != nil {
			return f
		}
	case *image.RGBA:
		f := NewVideoFrame(RGBA, w, h)
		for y := 0; y < h; y++ {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			copy(f.Data[y*4*w:(y+1)*4*w], m.Pix[i:i+4*w])
		}
		return f
	}
	f := NewVideoFrame(RGBA, w, h)
	dst := &image.RGBA{Pix: f.Data, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
	draw.Draw(dst, dst.Rect, img, b.Min, draw.Src)
	return f
}

// fromYCbCr copies the planes of the subsampling ratios we have a format for. A sub-image that
// starts at an odd coordinate does not line up with whole chroma samples; it returns nil for
// those so the caller takes the general path.
func fromYCbCr(m *image.YCbCr) *VideoFrame {
	b := m.Rect
	var t VideoBufferType
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio420:
		t = I420
		if b.Min.X%2 != 0 || b.Min.Y%2 != 0 {
			return nil
		}
	case image.YCbCrSubsampleRatio422:
		t = I422
		if b.Min.X%2 != 0 {
			return nil
		}
	case image.YCbCrSubsampleRatio444:
		t = I444
	default:
		return nil
	}
	w, h := b.Dx(), b.Dy()
	f := NewVideoFrame(t, w, h)
	p, s := f.Planes(), f.Strides()
	if b.Min == (image.Point{}) && m.YStride == s[0] && m.CStride == s[1] &&
		len(m.Y) >= len(p[0]) && len(m.Cb) >= len(p[1]) && len(m.Cr) >= len(p[2]) {
		// Tight planes, as image.NewYCbCr and decoders make them: one copy per plane.
		copy(p[0], m.Y)
		copy(p[1], m.Cb)
		copy(p[2], m.Cr)
		return f
	}
	for y := 0; y < h; y++ {
		i := m.YOffset(b.Min.X, b.Min.Y+y)
		copy(p[0][y*s[0]:(y+1)*s[0]], m.Y[i:i+w])
	}
	rows := len(p[1]) / s[1]
	for y := 0; y < rows; y++ {
		// COffset maps an image coordinate to its chroma sample; row y of the plane holds the
		// samples of image row Min.Y + y*(vertical factor).
		iy := b.Min.Y + y
		if t == I420 {
			iy = b.Min.Y + 2*y
		}
		i := m.COffset(b.Min.X, iy)
		copy(p[1][y*s[1]:(y+1)*s[1]], m.Cb[i:i+s[1]])
		copy(p[2][y*s[1]:(y+1)*s[1]], m.Cr[i:i+s[1]])
	}
	return f
}
