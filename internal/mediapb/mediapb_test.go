package mediapb

import (
	"bytes"
	"github.com/livekit-ffi-go/sdk/internal/engine"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/livekit-ffi-go/sdk/proto"
)

func TestLayoutSizes(t *testing.T) {
	// 5x3: odd sizes are where chroma rounding goes wrong.
	cases := []struct {
		t      pb.VideoBufferType
		total  int
		planes int
	}{
		{pb.VideoBufferType_I420, 15 + 2*(3*2), 3},
		{pb.VideoBufferType_I420A, 15 + 2*(3*2) + 15, 4},
		{pb.VideoBufferType_I422, 15 + 2*(3*3), 3},
		{pb.VideoBufferType_I444, 3 * 15, 3},
		{pb.VideoBufferType_I010, 30 + 2*(6*2), 3},
		{pb.VideoBufferType_NV12, 15 + 6*2, 2},
		{pb.VideoBufferType_RGBA, 60, 1},
		{pb.VideoBufferType_ABGR, 60, 1},
		{pb.VideoBufferType_RGB24, 45, 1},
	}
	for _, c := range cases {
		planes, total, err := Layout(c.t, 5, 3)
		if err != nil {
			t.Fatalf("%v: %v", c.t, err)
		}
		if total != c.total || len(planes) != c.planes {
			t.Errorf("%v 5x3: total %d planes %d, want %d and %d", c.t, total, len(planes), c.total, c.planes)
		}
		end := 0
		for _, p := range planes {
			if p.Offset != end {
				t.Errorf("%v: planes not contiguous: %+v", c.t, planes)
			}
			end += p.Size()
		}
	}
	for _, bad := range []struct {
		t    pb.VideoBufferType
		w, h int
	}{{99, 2, 2}, {pb.VideoBufferType_I420, 0, 2}, {pb.VideoBufferType_I420, 2, -1}, {pb.VideoBufferType_RGBA, 1 << 20, 2}} {
		if _, _, err := Layout(bad.t, bad.w, bad.h); err == nil {
			t.Errorf("Layout(%v, %d, %d) accepted", bad.t, bad.w, bad.h)
		}
	}
}

func TestVideoBufferInfo(t *testing.T) {
	info, err := VideoBufferInfo(pb.VideoBufferType_I420, 5, 3, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proto.Marshal(info); err != nil {
		t.Fatalf("required fields missing: %v", err)
	}
	want := [][3]uint64{{1000, 5, 15}, {1015, 3, 6}, {1021, 3, 6}}
	for i, c := range info.GetComponents() {
		if got := [3]uint64{c.GetDataPtr(), uint64(c.GetStride()), uint64(c.GetSize())}; got != want[i] {
			t.Errorf("component %d = %v, want %v", i, got, want[i])
		}
	}
	if info.Stride != nil {
		t.Error("planar info carries a stride")
	}
	rgba, err := VideoBufferInfo(pb.VideoBufferType_RGBA, 5, 3, 8)
	if err != nil || rgba.GetStride() != 20 || len(rgba.Components) != 0 || rgba.GetDataPtr() != 8 {
		t.Fatalf("RGBA info %v, %v", rgba, err)
	}
	if _, err := VideoBufferInfo(pb.VideoBufferType_I420, 5, 3, 0); err == nil {
		t.Error("address 0 accepted")
	}
	planes, _, _ := Layout(pb.VideoBufferType_I420, 5, 3)
	planes[1].Stride = 2
	if _, err := VideoBufferInfoPlanes(pb.VideoBufferType_I420, 5, 3, planes, 1000); err == nil {
		t.Error("short chroma stride accepted")
	}
}

func TestCopyVideoStrided(t *testing.T) {
	// A 3x2 I420 frame stored with stride 8 for luma and 4 for chroma, as a decoder might.
	src := make([]byte, 8*2+4+4)
	copy(src[0:], []byte{1, 2, 3})
	copy(src[8:], []byte{4, 5, 6})
	src[16], src[17] = 7, 8
	src[20], src[21] = 9, 10
	var out []byte
	var err error
	engine.Pin(src, func(addr uint64) {
		info := &pb.VideoBufferInfo{
			Type: pb.VideoBufferType_I420.Enum(), Width: proto.Uint32(3), Height: proto.Uint32(2),
			DataPtr: proto.Uint64(addr),
			Components: []*pb.VideoBufferInfo_ComponentInfo{
				{DataPtr: proto.Uint64(addr), Stride: proto.Uint32(8), Size: proto.Uint32(16)},
				{DataPtr: proto.Uint64(addr + 16), Stride: proto.Uint32(4), Size: proto.Uint32(4)},
				{DataPtr: proto.Uint64(addr + 20), Stride: proto.Uint32(4), Size: proto.Uint32(4)},
			},
		}
		out, err = CopyVideo(info, make([]byte, 0, 64))
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !bytes.Equal(out, want) {
		t.Fatalf("copied %v, want %v", out, want)
	}
	if cap(out) != 64 {
		t.Error("dst not reused")
	}
}

func TestCopyVideoPackedAndShort(t *testing.T) {
	src := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	engine.Pin(src, func(addr uint64) {
		info := &pb.VideoBufferInfo{
			Type: pb.VideoBufferType_RGBA.Enum(), Width: proto.Uint32(1), Height: proto.Uint32(2),
			DataPtr: proto.Uint64(addr),
		}
		out, err := CopyVideo(info, nil)
		if err != nil || !bytes.Equal(out, src) {
			t.Errorf("packed copy %v %v", out, err)
		}
		info.Width = proto.Uint32(2) // now 16 bytes are needed but the stride says 4
		info.Stride = proto.Uint32(4)
		if _, err := CopyVideo(info, nil); err == nil {
			t.Error("stride shorter than a row accepted")
		}
		i420 := &pb.VideoBufferInfo{
			Type: pb.VideoBufferType_I420.Enum(), Width: proto.Uint32(2), Height: proto.Uint32(2),
			DataPtr: proto.Uint64(addr),
			Components: []*pb.VideoBufferInfo_ComponentInfo{
				{DataPtr: proto.Uint64(addr), Stride: proto.Uint32(2), Size: proto.Uint32(3)},
				{DataPtr: proto.Uint64(addr), Stride: proto.Uint32(1), Size: proto.Uint32(1)},
				{DataPtr: proto.Uint64(addr), Stride: proto.Uint32(1), Size: proto.Uint32(1)},
			},
		}
		if _, err := CopyVideo(i420, nil); err == nil {
			t.Error("component smaller than its plane accepted")
		}
		i420.Components = i420.Components[:2]
		if _, err := CopyVideo(i420, nil); err == nil {
			t.Error("missing component accepted")
		}
	})
}

func TestAudio(t *testing.T) {
	src := []int16{1, -2, 3, -4, 5, -6}
	engine.Pin(src, func(addr uint64) {
		if addr%2 != 0 {
			t.Errorf("address %#x not aligned", addr)
		}
		info := AudioFrameBufferInfo(addr, 48000, 2, 3)
		if _, err := proto.Marshal(info); err != nil {
			t.Fatal(err)
		}
		got := CopyAudio(info, nil)
		if len(got) != 6 || got[5] != -6 {
			t.Errorf("CopyAudio = %v", got)
		}
		if got := CopySamples(addr, 5, make([]int16, 0, 10)); len(got) != 2 || cap(got) != 10 {
			t.Errorf("CopySamples odd size = %v (cap %d)", got, cap(got))
		}
	})
	if got := CopySamples(0, 10, nil); len(got) != 0 {
		t.Errorf("null address gave %v", got)
	}
	engine.Pin([]byte(nil), func(addr uint64) {
		if addr != 0 {
			t.Error("empty slice has an address")
		}
	})
}

func TestI010Strides(t *testing.T) {
	// Capture: byte strides. Luma 10 bytes a row, 30 bytes; chroma 6 bytes a row, 2 rows.
	capture, err := VideoBufferInfo(pb.VideoBufferType_I010, 5, 3, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// Convert: the same sizes, strides in samples.
	convert, err := ConvertBufferInfo(pb.VideoBufferType_I010, 5, 3, 1000)
	if err != nil {
		t.Fatal(err)
	}
	wantCapture := [][3]uint64{{1000, 10, 30}, {1030, 6, 12}, {1042, 6, 12}}
	wantConvert := [][3]uint64{{1000, 5, 30}, {1030, 3, 12}, {1042, 3, 12}}
	for i := range 3 {
		c, v := capture.GetComponents()[i], convert.GetComponents()[i]
		if got := [3]uint64{c.GetDataPtr(), uint64(c.GetStride()), uint64(c.GetSize())}; got != wantCapture[i] {
			t.Errorf("capture component %d = %v, want %v", i, got, wantCapture[i])
		}
		if got := [3]uint64{v.GetDataPtr(), uint64(v.GetStride()), uint64(v.GetSize())}; got != wantConvert[i] {
			t.Errorf("convert component %d = %v, want %v", i, got, wantConvert[i])
		}
	}
	a, _ := VideoBufferInfo(pb.VideoBufferType_I420A, 5, 3, 1000)
	b, _ := ConvertBufferInfo(pb.VideoBufferType_I420A, 5, 3, 1000)
	if !proto.Equal(a, b) {
		t.Error("capture and convert infos differ for a type other than I010")
	}
	src := make([]byte, 54)
	for i := range src {
		src[i] = byte(i)
	}
	engine.Pin(src, func(addr uint64) {
		for _, build := range []func(pb.VideoBufferType, int, int, uint64) (*pb.VideoBufferInfo, error){VideoBufferInfo, ConvertBufferInfo} {
			in, _ := build(pb.VideoBufferType_I010, 5, 3, addr)
			out, err := CopyVideo(in, nil)
			if err != nil || !bytes.Equal(out, src) {
				t.Errorf("I010 copy: %v %v", out, err)
			}
		}
	})
}
