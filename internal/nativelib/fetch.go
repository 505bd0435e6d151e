package nativelib

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
)

const userAgent = "livekit-ffi-go (" + CommandPath + ")"

// NetworkError is a download that did not get through. Its message says how to do without.
type NetworkError struct {
	URL string
	Err error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("cannot download %s: %v\n"+
		"  The library comes from the livekit==%s wheel on PyPI. Without network access, copy liblivekit_ffi "+
		"(livekit-ffi %s) from a machine that has it and set LIVEKIT_LIB_PATH=/path/to/it, or run `%s` "+
		"once the network is back (--index or LIVEKIT_FFI_INDEX names a PyPI mirror)",
		e.URL, e.Err, WheelVersion, FFIVersion, InstallHint())
}

func (e *NetworkError) Unwrap() error { return e.Err }

// ChecksumError is a file whose sha256 is not its pin. Nothing was installed.
type ChecksumError struct {
	File, From string // the file, and where it came from (a URL, a wheel, an index)
	Got, Want  string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s (from %s) has sha256 %s, but livekit-ffi %s pins %s: refused, nothing installed",
		e.File, e.From, e.Got, FFIVersion, e.Want)
}

// FileSHA256 returns the hex sha256 of a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Verify checks that path is the platform's pinned library.
func Verify(p Platform, path string) error {
	got, err := FileSHA256(path)
	if err != nil {
		return err
	}
	if got != p.LibSHA256 {
		return &ChecksumError{File: path, From: "the installed copy", Got: got, Want: p.LibSHA256}
	}
	return nil
}

// Fetcher downloads wheels from a simple repository index.
type Fetcher struct {
	Client *http.Client
	Index  string
	Log    func(format string, args ...any) // progress; nil: quiet
}

func (f *Fetcher) logf(format string, args ...any) {
	if f.Log != nil {
		f.Log(format, args...)
	}
}

// Wheel returns the path of the platform's pinned wheel in dir, downloading it when dir does
// not hold a copy whose sha256 is the pin. A download is written to a temporary file beside
// the destination and renamed into place only once its sha256 matched: an interrupted or
// corrupt download leaves nothing behind.
func (f *Fetcher) Wheel(ctx context.Context, p Platform, dir string) (string, error) {
	dest := filepath.Join(dir, p.WheelFile)
	if got, err := FileSHA256(dest); err == nil {
		if got == p.WheelSHA256 {
			return dest, nil
		}
		f.logf("cached %s has the wrong sha256; downloading it again", dest)
		if err := os.Remove(dest); err != nil {
			return "", writeError(dir, err)
		}
	}
	files, err := ListFiles(ctx, f.Client, f.Index, Project)
	if err != nil {
		return "", err
	}
	var file *IndexFile
	for i := range files {
		if files[i].Name == p.WheelFile {
			file = &files[i]
		}
	}
	if file == nil {
		return "", fmt.Errorf("the index %s does not list %s (livekit==%s for %s)", f.Index, p.WheelFile, WheelVersion, p.Name)
	}
	if file.SHA256 != "" && file.SHA256 != p.WheelSHA256 {
		return "", &ChecksumError{File: p.WheelFile, From: "the index " + f.Index, Got: file.SHA256, Want: p.WheelSHA256}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", writeError(dir, err)
	}
	f.logf("downloading %s from %s", p.WheelFile, file.URL)
	err = writeAtomically(dir, p.WheelFile, 0o644, func(w io.Writer) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, file.URL, nil)
		if err != nil {
			return err
		}
		req.Header.Set("User-Agent", userAgent)
		resp, err := f.Client.Do(req)
		if err != nil {
			return &NetworkError{URL: file.URL, Err: err}
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("download %s: %s", file.URL, resp.Status)
		}
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(w, h), resp.Body); err != nil {
			var we *writeErr
			if errors.As(err, &we) {
				return err
			}
			return &NetworkError{URL: file.URL, Err: fmt.Errorf("download interrupted: %w", err)}
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != p.WheelSHA256 {
			return &ChecksumError{File: p.WheelFile, From: file.URL, Got: got, Want: p.WheelSHA256}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return dest, nil
}

// wheelMember is where the wheels keep the library.
func (p Platform) wheelMember() string { return "livekit/rtc/resources/" + p.LibFile }

// Extract copies the platform's library out of a wheel into dir, atomically, after checking it
// against its pin. It returns the library's path.
func Extract(p Platform, wheel, dir string) (string, error) {
	z, err := zip.OpenReader(wheel)
	if err != nil {
		return "", fmt.Errorf("%s: %w", wheel, err)
	}
	defer z.Close()
	var member *zip.File
	for _, zf := range z.File {
		if zf.Name == p.wheelMember() {
			member = zf
		}
	}
	if member == nil {
		return "", fmt.Errorf("%s has no %s", wheel, p.wheelMember())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", writeError(dir, err)
	}
	err = writeAtomically(dir, p.LibFile, 0o755, func(w io.Writer) error {
		r, err := member.Open()
		if err != nil {
			return err
		}
		defer r.Close()
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(w, h), r); err != nil {
			var we *writeErr
			if errors.As(err, &we) {
				return err
			}
			return fmt.Errorf("%s in %s: %w", p.LibFile, wheel, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != p.LibSHA256 {
			return &ChecksumError{File: p.LibFile, From: wheel, Got: got, Want: p.LibSHA256}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, p.LibFile), nil
}

// CheckWritable creates dir if needed and checks that a file can be created in it.
func CheckWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return writeError(dir, err)
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return writeError(dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// writeErr marks a failure to write the destination (as opposed to reading the source).
type writeErr struct{ err error }

func (e *writeErr) Error() string { return e.err.Error() }
func (e *writeErr) Unwrap() error { return e.err }

type errWriter struct{ f *os.File }

func (w errWriter) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	if err != nil {
		err = &writeErr{err}
	}
	return n, err
}

// writeAtomically writes name in dir through fill, via a temporary file in dir that is synced
// and renamed over name only when fill succeeded; on any failure the temporary file is
// removed and name is left as it was.
func writeAtomically(dir, name string, perm fs.FileMode, fill func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(dir, "."+name+".partial-*")
	if err != nil {
		return writeError(dir, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := fill(errWriter{tmp}); err != nil {
		var we *writeErr
		if errors.As(err, &we) {
			return writeError(dir, we.err)
		}
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		return writeError(dir, err)
	}
	if err := tmp.Sync(); err != nil {
		return writeError(dir, err)
	}
	if err := tmp.Close(); err != nil {
		return writeError(dir, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return writeError(dir, err)
	}
	return nil
}

// writeError names the directory and, for the failures a user can fix, what to do.
func writeError(dir string, err error) error {
	hint := ""
	switch {
	case errors.Is(err, syscall.ENOSPC):
		hint = ": the disk is full; free some space or choose another directory with --dir or LIVEKIT_FFI_CACHE"
	case errors.Is(err, syscall.EROFS), errors.Is(err, fs.ErrPermission):
		hint = ": choose a writable directory with --dir or LIVEKIT_FFI_CACHE"
	}
	return fmt.Errorf("cannot write to %s: %w%s", dir, err, hint)
}
