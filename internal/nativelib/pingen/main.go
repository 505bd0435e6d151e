// Command pingen writes internal/nativelib/pins.env: for one livekit wheel release, the wheel
// of each platform the SDK supports, its sha256 and the sha256 of the library inside it. It
// reads the index's listing, downloads every wheel (checking the sha256 the index states) and
// hashes the library. Run it through scripts/pin-ffi.sh when moving to another release.
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"

	"github.com/livekit-ffi-go/sdk/internal/nativelib"
)

func main() {
	wheel := flag.String("wheel", nativelib.WheelVersion, "livekit wheel version on PyPI")
	ffiVersion := flag.String("ffi", nativelib.FFIVersion, "livekit-ffi version that wheel carries (read it off the library: ffi.Client.LibraryVersion)")
	index := flag.String("index", nativelib.IndexURL(os.Getenv), "simple repository index")
	out := flag.String("o", "internal/nativelib/pins.env", "file to write")
	check := flag.Bool("check", false, "fail if the file differs from what would be written")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	text, err := generate(ctx, *wheel, *ffiVersion, *index)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pin-ffi:", err)
		os.Exit(1)
	}
	if *check {
		have, _ := os.ReadFile(*out)
		if !bytes.Equal(have, []byte(text)) {
			fmt.Fprintf(os.Stderr, "pin-ffi: %s is not what the index says; run scripts/pin-ffi.sh\n", *out)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "pin-ffi: %s matches the index\n", *out)
		return
	}
	if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "pin-ffi:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "pin-ffi: wrote %s\n", *out)
}

func generate(ctx context.Context, wheel, ffiVersion, index string) (string, error) {
	files, err := nativelib.ListFiles(ctx, http.DefaultClient, index, nativelib.Project)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# The one pinned livekit-ffi release and, for each platform, the official livekit wheel\n"+
		"# that carries it: the wheel's file name and sha256 and the sha256 of the library inside.\n"+
		"# Written by scripts/pin-ffi.sh; do not edit. Embedded by internal/nativelib (cmd/livekit-ffi,\n"+
		"# package ffi).\n")
	fmt.Fprintf(&b, "LIVEKIT_FFI_VERSION=%s\nLIVEKIT_WHEEL_VERSION=%s\n", ffiVersion, wheel)
	fetch := &nativelib.Fetcher{Client: http.DefaultClient, Index: index,
		Log: func(f string, a ...any) { fmt.Fprintf(os.Stderr, "pin-ffi: "+f+"\n", a...) }}
	for _, p := range nativelib.Unpinned() {
		var match []nativelib.IndexFile
		for _, f := range files {
			name := strings.TrimSuffix(f.Name, ".whl")
			parts := strings.Split(name, "-")
			if len(parts) == 5 && parts[0] == nativelib.Project && parts[1] == wheel && strings.HasSuffix(f.Name, ".whl") && p.TagFits(parts[4]) {
				match = append(match, f)
			}
		}
		if len(match) != 1 {
			return "", fmt.Errorf("livekit==%s: want one wheel for %s, the index lists %d", wheel, p.Name, len(match))
		}
		if match[0].SHA256 == "" {
			return "", fmt.Errorf("the index lists no sha256 for %s", match[0].Name)
		}
		p.WheelFile, p.WheelSHA256 = match[0].Name, match[0].SHA256
		dir := nativelib.WheelDir()
		if dir == "" {
			dir = os.TempDir()
		}
		path, err := fetch.Wheel(ctx, p, dir)
		if err != nil {
			return "", err
		}
		libSHA, err := memberSHA256(path, "livekit/rtc/resources/"+p.LibFile)
		if err != nil {
			return "", err
		}
		kf, kw, kl := p.PinKeys()
		fmt.Fprintf(&b, "%s=%s\n%s=%s\n%s=%s\n", kf, p.WheelFile, kw, p.WheelSHA256, kl, libSHA)
	}
	return b.String(), nil
}

func memberSHA256(wheel, member string) (string, error) {
	z, err := zip.OpenReader(wheel)
	if err != nil {
		return "", err
	}
	defer z.Close()
	r, err := z.Open(member)
	if err != nil {
		return "", fmt.Errorf("%s: %w", wheel, err)
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
