package nativelib_test

import (
	"errors"
	"net/url"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/livekit-ffi-go/sdk/ffi"
	"github.com/livekit-ffi-go/sdk/internal/nativelib"
)

func TestPinsCoverTheFivePlatforms(t *testing.T) {
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	want := map[string]string{
		"linux-x86_64": "manylinux_2_28_x86_64", "linux-aarch64": "manylinux_2_28_aarch64",
		"macos-aarch64": "macosx_11_0_arm64", "macos-x86_64": "macosx_10_15_x86_64", "windows-x86_64": "win_amd64",
	}
	got := nativelib.Platforms()
	if len(got) != len(want) {
		t.Fatalf("%d platforms pinned, want %d", len(got), len(want))
	}
	for _, p := range got {
		if want[p.Name] != p.WheelTag() || !p.TagFits(p.WheelTag()) {
			t.Errorf("%s: wheel tag %q, want %q", p.Name, p.WheelTag(), want[p.Name])
		}
		if !hex64.MatchString(p.WheelSHA256) || !hex64.MatchString(p.LibSHA256) {
			t.Errorf("%s: malformed pins %q %q", p.Name, p.WheelSHA256, p.LibSHA256)
		}
		if !strings.HasPrefix(p.WheelFile, "livekit-"+nativelib.WheelVersion+"-") {
			t.Errorf("%s: wheel %s is not livekit==%s", p.Name, p.WheelFile, nativelib.WheelVersion)
		}
		wantGlibc := map[bool]string{true: "2.28", false: ""}[p.GOOS == "linux"]
		if p.MinGlibc() != wantGlibc {
			t.Errorf("%s: MinGlibc %q, want %q", p.Name, p.MinGlibc(), wantGlibc)
		}
	}
}

// The pins and the code generated from the schema must be of one release.
func TestPinnedVersionIsTheOneFFISpeaks(t *testing.T) {
	if nativelib.FFIVersion == "" || nativelib.FFIVersion != ffi.PinnedVersion() {
		t.Fatalf("pins.env pins livekit-ffi %q, package ffi %q", nativelib.FFIVersion, ffi.PinnedVersion())
	}
}

func TestLookupTakesGoAndWheelNames(t *testing.T) {
	for _, pair := range [][3]string{
		{"linux", "amd64", "linux-x86_64"}, {"linux", "x86_64", "linux-x86_64"}, {"linux", "aarch64", "linux-aarch64"},
		{"macos", "arm64", "macos-aarch64"}, {"darwin", "amd64", "macos-x86_64"}, {"windows", "x86_64", "windows-x86_64"},
	} {
		p, err := nativelib.Lookup(pair[0], pair[1])
		if err != nil || p.Name != pair[2] {
			t.Errorf("Lookup(%s, %s) = %q, %v; want %s", pair[0], pair[1], p.Name, err, pair[2])
		}
	}
	var ue *nativelib.UnsupportedError
	if _, err := nativelib.Lookup("linux", "386"); !errors.As(err, &ue) || !strings.Contains(err.Error(), "LIVEKIT_LIB_PATH") {
		t.Errorf("Lookup(linux, 386) = %v", err)
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"2.28", "2.28", 0}, {"2.17", "2.28", -1}, {"2.36", "2.28", 1}, {"2.4", "2.28", -1}, {"3", "2.99", 1}} {
		if got := nativelib.CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestCheckGlibc(t *testing.T) {
	linux, _ := nativelib.Lookup("linux", "amd64")
	mac, _ := nativelib.Lookup("darwin", "arm64")
	if err := nativelib.CheckGlibc(linux, "2.28", nil); err != nil {
		t.Error(err)
	}
	if err := nativelib.CheckGlibc(linux, "2.27", nil); err == nil || !strings.Contains(err.Error(), "glibc 2.27") {
		t.Errorf("2.27: %v", err)
	}
	if err := nativelib.CheckGlibc(linux, "", nativelib.ErrNoGlibc); err == nil || !strings.Contains(err.Error(), "not glibc") {
		t.Errorf("musl: %v", err)
	}
	if err := nativelib.CheckGlibc(linux, "", errors.New("cannot tell")); err != nil {
		t.Errorf("unknown glibc must be left to the loader: %v", err)
	}
	if err := nativelib.CheckGlibc(mac, "", errors.New("not Linux")); err != nil {
		t.Errorf("macOS: %v", err)
	}
}

// HostGlibc reads the version off libc.so.6; glibc's own getconf must agree.
func TestHostGlibcAgreesWithGetconf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	out, err := exec.Command("getconf", "GNU_LIBC_VERSION").Output()
	if err != nil {
		t.Skipf("getconf GNU_LIBC_VERSION: %v (not glibc?)", err)
	}
	want := strings.TrimPrefix(strings.TrimSpace(string(out)), "glibc ")
	got, err := nativelib.HostGlibc()
	if err != nil || got != want {
		t.Fatalf("HostGlibc = %q, %v; getconf says %q", got, err, want)
	}
}

func TestIndexParsingResolvesLinksAndHashes(t *testing.T) {
	base, _ := url.Parse("https://mirror.example/simple/livekit/")
	html := `<a href="../../packages/ab/livekit-1.2.0-py3-none-win_amd64.whl#sha256=00ff" data-x="1">livekit-1.2.0-py3-none-win_amd64.whl</a>
<A HREF='https://files.example/x/livekit-1.2.0.tar.gz'>livekit-1.2.0.tar.gz</A>`
	files := nativelib.ParseHTMLIndex(base, []byte(html))
	if len(files) != 2 || files[0].URL != "https://mirror.example/packages/ab/livekit-1.2.0-py3-none-win_amd64.whl" || files[0].SHA256 != "00ff" ||
		files[1].Name != "livekit-1.2.0.tar.gz" || files[1].SHA256 != "" {
		t.Fatalf("HTML: %+v", files)
	}
	js := `{"meta":{"api-version":"1.1"},"files":[{"filename":"a.whl","url":"/f/a.whl","hashes":{"sha256":"aa"}}]}`
	files, err := nativelib.ParseJSONIndex(base, []byte(js))
	if err != nil || len(files) != 1 || files[0].URL != "https://mirror.example/f/a.whl" || files[0].SHA256 != "aa" {
		t.Fatalf("JSON: %+v %v", files, err)
	}
}
