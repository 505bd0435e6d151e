package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/livekit-ffi-go/sdk/internal/nativelib"
)

// wheelCache is where the install step (scripts/test.sh: livekit-ffi download --all) left the
// real wheels, read before any test points LIVEKIT_FFI_CACHE elsewhere.
var wheelCache = nativelib.WheelDir()

// realWheel returns the cached, checked real wheel of a platform; the tests serve it from a
// loopback index. Missing: skip, or fail under LIVEKIT_REQUIRE_LIB=1 (scripts/test.sh).
func realWheel(t *testing.T, p nativelib.Platform) []byte {
	t.Helper()
	path := filepath.Join(wheelCache, p.WheelFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != p.WheelSHA256 {
			t.Fatalf("cached %s does not match its pin", path)
		}
		return b
	}
	msg := fmt.Sprintf("%s not cached (%v); run: go run ./cmd/livekit-ffi download --all", p.WheelFile, err)
	if os.Getenv("LIVEKIT_REQUIRE_LIB") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return nil
}

// index is a loopback PyPI simple index serving the real wheels.
type index struct {
	*httptest.Server
	t          *testing.T
	html       bool                                                  // PEP 503 HTML instead of PEP 691 JSON
	listSHA    map[string]string                                     // sha256 the listing states, by file
	serve      func(w http.ResponseWriter, name string, body []byte) // nil: the real bytes
	fileHits   atomic.Int32
	wheelBytes map[string][]byte
}

func newIndex(t *testing.T, platforms ...nativelib.Platform) *index {
	ix := &index{t: t, listSHA: map[string]string{}, wheelBytes: map[string][]byte{}}
	for _, p := range platforms {
		ix.wheelBytes[p.WheelFile] = realWheel(t, p)
		ix.listSHA[p.WheelFile] = p.WheelSHA256
	}
	ix.Server = httptest.NewServer(http.HandlerFunc(ix.handle))
	t.Cleanup(ix.Close)
	return ix
}

func (ix *index) URL() string { return ix.Server.URL + "/simple/" }

func (ix *index) handle(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/simple/livekit/":
		if ix.html {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<!DOCTYPE html><html><body>\n")
			for name := range ix.wheelBytes {
				fmt.Fprintf(w, "<a href=\"../../files/%s#sha256=%s\" data-requires-python=\"&gt;=3.9.0\">%s</a><br/>\n", name, ix.listSHA[name], name)
			}
			fmt.Fprint(w, "</body></html>")
			return
		}
		type file struct {
			Filename string            `json:"filename"`
			URL      string            `json:"url"`
			Hashes   map[string]string `json:"hashes"`
		}
		var page struct {
			Files []file `json:"files"`
		}
		page.Files = append(page.Files, file{Filename: "livekit-0.0.1-py3-none-any.whl", URL: "../../files/old.whl", Hashes: map[string]string{"sha256": strings.Repeat("0", 64)}})
		for name := range ix.wheelBytes {
			page.Files = append(page.Files, file{Filename: name, URL: "../../files/" + name, Hashes: map[string]string{"sha256": ix.listSHA[name]}})
		}
		w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
		json.NewEncoder(w).Encode(page)
	case strings.HasPrefix(r.URL.Path, "/files/"):
		ix.fileHits.Add(1)
		name := strings.TrimPrefix(r.URL.Path, "/files/")
		body, ok := ix.wheelBytes[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if ix.serve != nil {
			ix.serve(w, name, body)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	default:
		http.NotFound(w, r)
	}
}

// isolate gives the test its own empty cache and no library chosen by hand.
func isolate(t *testing.T) (cache string) {
	cache = t.TempDir()
	t.Setenv("LIVEKIT_FFI_CACHE", cache)
	t.Setenv("LIVEKIT_LIB_PATH", "")
	os.Unsetenv("LIVEKIT_LIB_PATH")
	t.Setenv("LIVEKIT_FFI_INDEX", "")
	return cache
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) lastLine() string {
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	return lines[len(lines)-1]
}

func runCLI(t *testing.T, c *cli, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	if c == nil {
		c = newCLI(nil, nil)
	}
	c.stdout, c.stderr = &out, &errb
	code := c.run(context.Background(), args)
	t.Logf("livekit-ffi %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	return result{code, out.String(), errb.String()}
}

func host(t *testing.T) nativelib.Platform {
	p, err := nativelib.Host()
	if err != nil {
		t.Skipf("no pinned library for this machine: %v", err)
	}
	return p
}

// entries lists a directory; a directory that does not exist is empty.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name())
	}
	return names
}

// checkHeader checks, independently of the pins, that a file is a shared library for the
// platform: the format and CPU the loader of that OS expects.
func checkHeader(t *testing.T, p nativelib.Platform, path string) {
	t.Helper()
	switch p.GOOS {
	case "linux":
		f, err := elf.Open(path)
		if err != nil {
			t.Fatalf("%s: not ELF: %v", path, err)
		}
		defer f.Close()
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[p.GOARCH]
		if f.Class != elf.ELFCLASS64 || f.Machine != want || f.Type != elf.ET_DYN {
			t.Fatalf("%s: ELF %v %v %v, want ELFCLASS64 %v ET_DYN", path, f.Class, f.Machine, f.Type, want)
		}
		syms, err := f.DynamicSymbols()
		if err != nil {
			t.Fatal(err)
		}
		exported := map[string]bool{}
		for _, s := range syms {
			if s.Section != elf.SHN_UNDEF {
				exported[s.Name] = true
			}
		}
		for _, name := range []string{"livekit_ffi_initialize", "livekit_ffi_request", "livekit_ffi_drop_handle", "livekit_ffi_dispose"} {
			if !exported[name] {
				t.Errorf("%s does not export %s", path, name)
			}
		}
		// The loader refuses the library if this system's glibc lacks a version it needs; the
		// wheel's manylinux tag (what the install check uses) must cover all of them.
		need, err := nativelib.GlibcNeeded(path)
		if err != nil {
			t.Fatal(err)
		}
		if need == "" || nativelib.CompareVersions(need, p.MinGlibc()) > 0 {
			t.Errorf("%s needs GLIBC_%s, the wheel tag %s promises %s", path, need, p.WheelTag(), p.MinGlibc())
		}
	case "darwin":
		f, err := macho.Open(path)
		if err != nil {
			t.Fatalf("%s: not a thin Mach-O: %v", path, err)
		}
		defer f.Close()
		want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[p.GOARCH]
		if f.Cpu != want || f.Type != macho.TypeDylib {
			t.Fatalf("%s: Mach-O %v %v, want %v dylib", path, f.Cpu, f.Type, want)
		}
	case "windows":
		f, err := pe.Open(path)
		if err != nil {
			t.Fatalf("%s: not PE: %v", path, err)
		}
		defer f.Close()
		if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 || f.Characteristics&pe.IMAGE_FILE_DLL == 0 {
			t.Fatalf("%s: PE machine %#x characteristics %#x, want AMD64 DLL", path, f.Machine, f.Characteristics)
		}
	default:
		t.Fatalf("no header check for %s", p.GOOS)
	}
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestInstallEveryPlatformFromItsRealWheel(t *testing.T) {
	platforms := nativelib.Platforms()
	if len(platforms) != 5 {
		t.Fatalf("pins cover %d platforms, want 5", len(platforms))
	}
	cache := isolate(t)
	ix := newIndex(t, platforms...)
	for _, p := range platforms {
		t.Run(p.Name, func(t *testing.T) {
			dir := t.TempDir()
			r := runCLI(t, nil, "install", "--os", p.GOOS, "--arch", p.GOARCH, "--dir", dir, "--index", ix.URL())
			if r.code != 0 {
				t.Fatalf("install failed: %s", r.stderr)
			}
			lib := filepath.Join(dir, p.LibFile)
			if r.lastLine() != lib {
				t.Fatalf("printed %q, want %q", r.lastLine(), lib)
			}
			if got := fileSHA(t, lib); got != p.LibSHA256 {
				t.Fatalf("installed %s has sha256 %s, pin %s", lib, got, p.LibSHA256)
			}
			checkHeader(t, p, lib)
			if got := entries(t, dir); len(got) != 1 {
				t.Errorf("install dir holds %v, want only %s", got, p.LibFile)
			}
			if got := fileSHA(t, filepath.Join(cache, "wheels", p.WheelFile)); got != p.WheelSHA256 {
				t.Errorf("cached wheel sha256 %s, pin %s", got, p.WheelSHA256)
			}
		})
	}
}

func TestDownloadFromAnHTMLIndex(t *testing.T) {
	cache := isolate(t)
	p := host(t)
	ix := newIndex(t, p)
	ix.html = true
	r := runCLI(t, nil, "download", "--index", ix.URL())
	if r.code != 0 {
		t.Fatalf("download from a PEP 503 index failed: %s", r.stderr)
	}
	if want := filepath.Join(cache, "wheels", p.WheelFile); r.lastLine() != want || fileSHA(t, want) != p.WheelSHA256 {
		t.Fatalf("downloaded %q, want %s with the pinned sha256", r.lastLine(), want)
	}
}

func TestASecondInstallNeedsNoNetwork(t *testing.T) {
	isolate(t)
	p := host(t)
	ix := newIndex(t, p)
	first := runCLI(t, nil, "install", "--index", ix.URL())
	if first.code != 0 {
		t.Fatal(first.stderr)
	}
	ix.Close()
	again := runCLI(t, nil, "install", "--index", ix.URL())
	if again.code != 0 || again.lastLine() != first.lastLine() || !strings.Contains(again.stderr, "already installed") {
		t.Fatalf("second install: exit %d, %q", again.code, again.stderr)
	}
	// The library gone, the checked wheel still cached: reinstalled from it, offline.
	if err := os.Remove(first.lastLine()); err != nil {
		t.Fatal(err)
	}
	fromWheel := runCLI(t, nil, "install", "--index", ix.URL())
	if fromWheel.code != 0 || fileSHA(t, fromWheel.lastLine()) != p.LibSHA256 {
		t.Fatalf("reinstall from the cached wheel: exit %d, %s", fromWheel.code, fromWheel.stderr)
	}
}

func TestCorruptDownloadIsRefusedAndNothingInstalled(t *testing.T) {
	cache := isolate(t)
	p := host(t)
	ix := newIndex(t, p)
	ix.serve = func(w http.ResponseWriter, name string, body []byte) {
		bad := bytes.Clone(body)
		bad[len(bad)/2] ^= 0xff // same length, one byte wrong
		w.Header().Set("Content-Length", strconv.Itoa(len(bad)))
		w.Write(bad)
	}
	dir := filepath.Join(t.TempDir(), "lib")
	r := runCLI(t, nil, "install", "--dir", dir, "--index", ix.URL())
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	for _, want := range []string{p.WheelFile, "sha256", p.WheelSHA256, "nothing installed"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error does not say %q: %s", want, r.stderr)
		}
	}
	if got := entries(t, dir); len(got) > 0 {
		t.Errorf("install dir holds %v after a refused download", got)
	}
	if got := entries(t, filepath.Join(cache, "wheels")); len(got) > 0 {
		t.Errorf("wheel cache holds %v after a refused download", got)
	}
}

func TestIndexStatingAnotherChecksumIsRefusedBeforeDownloading(t *testing.T) {
	isolate(t)
	p := host(t)
	ix := newIndex(t, p)
	ix.listSHA[p.WheelFile] = strings.Repeat("ab", 32)
	r := runCLI(t, nil, "install", "--index", ix.URL())
	if r.code != 1 || !strings.Contains(r.stderr, p.WheelFile) || !strings.Contains(r.stderr, "the index") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := ix.fileHits.Load(); n != 0 {
		t.Fatalf("downloaded %d times after the index stated a foreign checksum", n)
	}
}

func TestInterruptedDownloadLeavesNoFile(t *testing.T) {
	cache := isolate(t)
	p := host(t)
	ix := newIndex(t, p)
	good := runCLI(t, nil, "install", "--index", ix.URL())
	if good.code != 0 {
		t.Fatal(good.stderr)
	}
	if err := os.RemoveAll(filepath.Join(cache, "wheels")); err != nil {
		t.Fatal(err)
	}
	ix.serve = func(w http.ResponseWriter, name string, body []byte) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack() // the connection drops mid-body
		if err == nil {
			conn.Close()
		}
	}
	r := runCLI(t, nil, "install", "--force", "--index", ix.URL())
	if r.code != 1 || !strings.Contains(r.stderr, "interrupted") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := entries(t, filepath.Join(cache, "wheels")); len(got) > 0 {
		t.Errorf("wheel cache holds %v after an interrupted download", got)
	}
	// What was installed before is untouched, and nothing else sits beside it.
	if fileSHA(t, good.lastLine()) != p.LibSHA256 {
		t.Error("the installed library changed")
	}
	if got := entries(t, filepath.Dir(good.lastLine())); len(got) != 1 {
		t.Errorf("install dir holds %v", got)
	}
}

func TestNoNetworkSaysHowToDoWithout(t *testing.T) {
	isolate(t)
	host(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/simple/"
	ln.Close() // nothing listens there now: connection refused, as without network
	r := runCLI(t, nil, "install", "--index", closed)
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	for _, want := range []string{"cannot download", "LIVEKIT_LIB_PATH", "livekit-ffi install"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error does not say %q", want)
		}
	}
}

func TestUnsupportedPlatformNamesWhatExists(t *testing.T) {
	isolate(t)
	for _, pl := range [][2]string{{"freebsd", "amd64"}, {"linux", "riscv64"}, {"windows", "arm64"}} {
		r := runCLI(t, nil, "install", "--os", pl[0], "--arch", pl[1], "--index", "http://127.0.0.1:1/")
		want := pl[0] + "/" + pl[1]
		if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "linux/amd64, linux/arm64, darwin/arm64, darwin/amd64, windows/amd64") {
			t.Errorf("%s: exit %d: %s", want, r.code, r.stderr)
		}
	}
}

func TestOldOrMissingGlibcIsRefusedBeforeDownloading(t *testing.T) {
	isolate(t)
	p := host(t)
	if p.MinGlibc() == "" {
		t.Skip("this platform's library does not use glibc")
	}
	ix := newIndex(t, p)
	cases := []struct {
		name  string
		glibc func() (string, error)
		want  []string
	}{
		{"old", func() (string, error) { return "2.17", nil }, []string{"glibc 2.17", "older than the 2.28", p.WheelTag()}},
		{"musl", func() (string, error) {
			return "", fmt.Errorf("%w (found /lib/ld-musl-x86_64.so.1)", nativelib.ErrNoGlibc)
		}, []string{"not glibc", "2.28"}},
	}
	for _, tc := range cases {
		c := newCLI(nil, nil)
		c.hostGlibc = tc.glibc
		r := runCLI(t, c, "install", "--index", ix.URL())
		if r.code != 1 {
			t.Fatalf("%s: exit %d", tc.name, r.code)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: error does not say %q", tc.name, w)
			}
		}
	}
	if n := ix.fileHits.Load(); n != 0 {
		t.Fatalf("downloaded %d wheels for a machine that cannot run them", n)
	}
	// --os/--arch install for another machine: no check of this one.
	c := newCLI(nil, nil)
	c.hostGlibc = cases[0].glibc
	if r := runCLI(t, c, "install", "--os", p.GOOS, "--arch", p.GOARCH, "--dir", t.TempDir(), "--index", ix.URL()); r.code != 0 {
		t.Fatalf("cross install refused: %s", r.stderr)
	}
}

func TestHostGlibcIsNewEnough(t *testing.T) {
	p := host(t)
	if p.MinGlibc() == "" {
		t.Skip("no glibc")
	}
	v, err := nativelib.HostGlibc()
	if err != nil {
		t.Fatal(err)
	}
	if err := nativelib.CheckGlibc(p, v, nil); err != nil {
		t.Fatalf("this machine: %v", err)
	}
}
