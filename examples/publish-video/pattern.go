package main

import (
	"time"

	"github.com/livekit-ffi-go/sdk/livekit/media"
)

// pattern is a generated test picture: colour bars scrolling right over the top three
// quarters, and the frame number in white digits on black below.
type pattern struct {
	w, h, fps int
	n         int
	rows      [4][3]byte // Y, U, V of each bar
}

// The bars' colours (BT.601 limited range, as the library converts).
var barRGB = [4][3]float64{{220, 20, 20}, {20, 220, 20}, {20, 20, 220}, {235, 235, 235}}

func newPattern(w, h, fps int) *pattern {
	p := &pattern{w: w, h: h, fps: fps}
	for i, c := range barRGB {
		r, g, b := c[0], c[1], c[2]
		p.rows[i] = [3]byte{
			byte(16 + 0.257*r + 0.504*g + 0.098*b + 0.5),
			byte(128 - 0.148*r - 0.291*g + 0.439*b + 0.5),
			byte(128 + 0.439*r - 0.368*g - 0.071*b + 0.5),
		}
	}
	return p
}

func (p *pattern) Size() (int, int)        { return p.w, p.h }
func (p *pattern) Interval() time.Duration { return time.Second / time.Duration(p.fps) }

func (p *pattern) Next(f *media.VideoFrame) error {
	n, err := media.FrameSize(media.I420, p.w, p.h)
	if err != nil {
		return err
	}
	if cap(f.Data) < n {
		f.Data = make([]byte, n)
	}
	f.Type, f.Width, f.Height, f.Data = media.I420, p.w, p.h, f.Data[:n]
	pl := f.Planes()
	y, u, v := pl[0], pl[1], pl[2]
	cw := (p.w + 1) / 2
	band := p.h * 3 / 4 &^ 1
	shift := p.n * 4 // pixels per frame
	bar := func(x int) int { return ((x - shift%p.w + p.w) % p.w) * 4 / p.w }
	for row := 0; row < p.h; row++ {
		line := y[row*p.w : (row+1)*p.w]
		if row >= band {
			for i := range line {
				line[i] = 16
			}
			continue
		}
		for x := range line {
			line[x] = p.rows[bar(x)][0]
		}
	}
	for row := 0; row < (p.h+1)/2; row++ {
		ul, vl := u[row*cw:(row+1)*cw], v[row*cw:(row+1)*cw]
		for x := range ul {
			if row*2 >= band {
				ul[x], vl[x] = 128, 128
				continue
			}
			c := p.rows[bar(x*2)]
			ul[x], vl[x] = c[1], c[2]
		}
	}
	p.drawNumber(y, band, p.n)
	p.n++
	return nil
}

// digits is a 3x5 font, one row per 3 bits.
var digits = [10][5]byte{
	{7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
	{7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
}

// drawNumber writes n in white into the luma plane, in the black band starting at row top.
func (p *pattern) drawNumber(y []byte, top, n int) {
	scale := max(1, (p.h-top)/8)
	var ds []int
	for {
		ds = append([]int{n % 10}, ds...)
		if n /= 10; n == 0 {
			break
		}
	}
	x0, y0 := scale, top+(p.h-top-5*scale)/2
	for i, d := range ds {
		for r := 0; r < 5*scale; r++ {
			bits := digits[d][r/scale]
			for c := 0; c < 3*scale; c++ {
				x, yy := x0+i*4*scale+c, y0+r
				if x >= p.w || yy >= p.h || yy < top {
					continue
				}
				if bits&(4>>(c/scale)) != 0 {
					y[yy*p.w+x] = 235
				}
			}
		}
	}
}
