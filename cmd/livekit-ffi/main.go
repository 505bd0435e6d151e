// Command livekit-ffi installs the native library (liblivekit_ffi) that package ffi loads: the
// pinned livekit-ffi release, taken from the official livekit wheel on PyPI for this machine or
// a named platform, checked against the sha256 pins this module carries, and put where ffi
// looks for it. It is pure Go, so it runs wherever Go does:
//
//	go run github.com/livekit-ffi-go/sdk/cmd/livekit-ffi install
//
// Inside a module that requires this SDK, `go run` without a version uses the required one,
// whose pins match the code that loads the library. Subcommands:
//
//	install [--os OS --arch ARCH] [--dir DIR] [--force]   download, check and install; print the path
//	path                                                  print where ffi finds the library, or why it cannot
//	verify [--os OS --arch ARCH] [--dir DIR | FILE]       re-check an installed library's sha256
//	download [--all | --os OS --arch ARCH] [--dir DIR]    fetch the checked wheel(s) only; print the path(s)
//	version                                               the pinned release and platforms
//
// Environment: LIVEKIT_FFI_CACHE (cache root), LIVEKIT_LIB_PATH (a library chosen by hand, which
// ffi uses instead), LIVEKIT_FFI_INDEX (a PyPI mirror; also --index).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"

	"github.com/livekit-ffi-go/sdk/internal/nativelib"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := newCLI(os.Stdout, os.Stderr).run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// cli is the command with its outside world, so tests can run it in-process.
type cli struct {
	stdout, stderr io.Writer
	client         *http.Client
	// hostGlibc reports this machine's glibc (tests play an old one).
	hostGlibc func() (string, error)
}

func newCLI(stdout, stderr io.Writer) *cli {
	return &cli{stdout: stdout, stderr: stderr, client: http.DefaultClient, hostGlibc: nativelib.HostGlibc}
}

const usage = `usage: livekit-ffi <command> [flags]

Gets liblivekit_ffi (livekit-ffi %s, from the livekit==%s wheel on PyPI) and installs it
where the SDK's ffi package finds it.

  install [--os OS --arch ARCH] [--dir DIR] [--force]   download, check, install; print the path
  path                                                  where ffi finds the library, or why not
  verify [--os OS --arch ARCH] [--dir DIR | FILE]       re-check an installed library's sha256
  download [--all | --os OS --arch ARCH] [--dir DIR]    fetch the checked wheel(s); print the path(s)
  version                                               the pinned release and its platforms

OS: linux, darwin (macos), windows. ARCH: amd64 (x86_64), arm64 (aarch64). Default: this machine.
DIR: default %s.
Environment: LIVEKIT_FFI_CACHE, LIVEKIT_LIB_PATH, LIVEKIT_FFI_INDEX (a PyPI mirror; or --index).
`

func (c *cli) run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		c.printUsage()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var err error
	switch args[0] {
	case "install":
		err = c.install(ctx, args[1:])
	case "path":
		err = c.path(args[1:])
	case "verify":
		err = c.verify(args[1:])
	case "download":
		err = c.download(ctx, args[1:])
	case "version":
		err = c.version(args[1:])
	default:
		fmt.Fprintf(c.stderr, "livekit-ffi: unknown command %q\n", args[0])
		c.printUsage()
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "livekit-ffi: error: %v\n", err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

func (c *cli) printUsage() {
	dir := "<cache>/livekit-ffi/<version>/<platform>"
	if p, err := nativelib.Host(); err == nil && nativelib.InstallDir(p) != "" {
		dir = nativelib.InstallDir(p)
	}
	fmt.Fprintf(c.stderr, usage, nativelib.FFIVersion, nativelib.WheelVersion, dir)
}

func (c *cli) logf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "livekit-ffi: "+format+"\n", args...)
}

// target holds the flags every command that names a platform shares.
type target struct {
	fs             *flag.FlagSet
	goos, goarch   string
	dir, index     string
	platformChosen bool
}

func (c *cli) flags(name string) *target {
	t := &target{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	t.fs.SetOutput(c.stderr)
	t.fs.StringVar(&t.goos, "os", "", "target OS (linux, darwin/macos, windows); default this machine's")
	t.fs.StringVar(&t.goarch, "arch", "", "target CPU (amd64/x86_64, arm64/aarch64); default this machine's")
	t.fs.StringVar(&t.dir, "dir", "", "directory (default: where ffi looks, under the cache)")
	t.fs.StringVar(&t.index, "index", nativelib.IndexURL(os.Getenv), "PyPI simple index (PEP 503/691) to download from")
	return t
}

func (t *target) parse(args []string) error {
	if err := t.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	t.platformChosen = t.goos != "" || t.goarch != ""
	return nil
}

func (t *target) platform() (nativelib.Platform, error) {
	goos, goarch := t.goos, t.goarch
	if goos == "" {
		goos = runtime.GOOS
	}
	if goarch == "" {
		goarch = runtime.GOARCH
	}
	p, err := nativelib.Lookup(goos, goarch)
	if err != nil && !t.platformChosen {
		return p, fmt.Errorf("this machine (%s/%s): %w", runtime.GOOS, runtime.GOARCH, err)
	}
	return p, err
}

// installDir is --dir, else where ffi looks.
func (t *target) installDir(p nativelib.Platform) (string, error) {
	if t.dir != "" {
		return t.dir, nil
	}
	if d := nativelib.InstallDir(p); d != "" {
		return d, nil
	}
	return "", errors.New("no cache directory (neither HOME nor XDG_CACHE_HOME is set): set LIVEKIT_FFI_CACHE or pass --dir")
}

func (c *cli) fetcher(t *target) *nativelib.Fetcher {
	return &nativelib.Fetcher{Client: c.client, Index: t.index, Log: c.logf}
}

// wheelDir is the cache's wheel directory, or a temporary one (removed by cleanup) when the
// cache cannot be written.
func wheelDir() (dir string, cleanup func(), err error) {
	if d := nativelib.WheelDir(); d != "" {
		if err := os.MkdirAll(d, 0o755); err == nil {
			if f, err := os.CreateTemp(d, ".probe-*"); err == nil {
				f.Close()
				os.Remove(f.Name())
				return d, func() {}, nil
			}
		}
	}
	d, err := os.MkdirTemp("", "livekit-ffi-wheel-")
	if err != nil {
		return "", nil, err
	}
	return d, func() { os.RemoveAll(d) }, nil
}

func (c *cli) install(ctx context.Context, args []string) error {
	t := c.flags("install")
	force := t.fs.Bool("force", false, "download and install again even if a checked copy is installed")
	if err := t.parse(args); err != nil {
		return err
	}
	if t.fs.NArg() > 0 {
		return fmt.Errorf("install takes no arguments (got %q)", t.fs.Args())
	}
	p, err := t.platform()
	if err != nil {
		return err
	}
	// The library would fail to load with a loader error naming a symbol version; say it in
	// words now. Only for this machine: --os/--arch install for somewhere else.
	if !t.platformChosen && runtime.GOOS == "linux" {
		v, herr := c.hostGlibc()
		if err := nativelib.CheckGlibc(p, v, herr); err != nil {
			return err
		}
	}
	dir, err := t.installDir(p)
	if err != nil {
		return err
	}
	dest := dir + string(os.PathSeparator) + p.LibFile
	if !*force {
		if nativelib.Verify(p, dest) == nil {
			c.logf("livekit-ffi %s for %s already installed", nativelib.FFIVersion, p.Name)
			fmt.Fprintln(c.stdout, dest)
			return nil
		}
	}
	if err := nativelib.CheckWritable(dir); err != nil {
		return err // before downloading tens of MB for nothing
	}
	wdir, cleanup, err := wheelDir()
	if err != nil {
		return err
	}
	defer cleanup()
	wheel, err := c.fetcher(t).Wheel(ctx, p, wdir)
	if err != nil {
		return err
	}
	path, err := nativelib.Extract(p, wheel, dir)
	if err != nil {
		return err
	}
	c.logf("installed livekit-ffi %s for %s", nativelib.FFIVersion, p.Name)
	fmt.Fprintln(c.stdout, path)
	return nil
}

func (c *cli) download(ctx context.Context, args []string) error {
	t := c.flags("download")
	all := t.fs.Bool("all", false, "every platform")
	if err := t.parse(args); err != nil {
		return err
	}
	var list []nativelib.Platform
	if *all {
		if t.platformChosen {
			return errors.New("--all and --os/--arch exclude each other")
		}
		list = nativelib.Platforms()
	} else {
		p, err := t.platform()
		if err != nil {
			return err
		}
		list = []nativelib.Platform{p}
	}
	dir := t.dir
	if dir == "" {
		if dir = nativelib.WheelDir(); dir == "" {
			return errors.New("no cache directory (neither HOME nor XDG_CACHE_HOME is set): set LIVEKIT_FFI_CACHE or pass --dir")
		}
	}
	f := c.fetcher(t)
	for _, p := range list {
		path, err := f.Wheel(ctx, p, dir)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, path)
	}
	return nil
}

func (c *cli) verify(args []string) error {
	t := c.flags("verify")
	if err := t.parse(args); err != nil {
		return err
	}
	p, err := t.platform()
	if err != nil {
		return err
	}
	var path string
	switch {
	case t.fs.NArg() > 1:
		return fmt.Errorf("verify takes at most one file (got %q)", t.fs.Args())
	case t.fs.NArg() == 1:
		path = t.fs.Arg(0)
	default:
		dir, err := t.installDir(p)
		if err != nil {
			return err
		}
		path = dir + string(os.PathSeparator) + p.LibFile
	}
	if err := nativelib.Verify(p, path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: not installed; run `%s`", path, nativelib.InstallHint())
		}
		return fmt.Errorf("%w; run `%s --force` to replace it", err, nativelib.InstallHint())
	}
	c.logf("%s is livekit-ffi %s for %s (sha256 %s)", path, nativelib.FFIVersion, p.Name, p.LibSHA256)
	fmt.Fprintln(c.stdout, path)
	return nil
}

// path says where package ffi finds the library when nothing is given in code: LIVEKIT_LIB_PATH
// wins, then the install directory. (A library beside the program's own executable comes
// before the install directory; that is the program's, not this command's.)
func (c *cli) path(args []string) error {
	fs := flag.NewFlagSet("path", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if env := os.Getenv("LIVEKIT_LIB_PATH"); env != "" {
		if _, err := os.Stat(env); err != nil {
			return fmt.Errorf("LIVEKIT_LIB_PATH=%s: %w (ffi uses only that file while the variable is set)", env, err)
		}
		c.logf("LIVEKIT_LIB_PATH is set: ffi loads that file")
		fmt.Fprintln(c.stdout, env)
		return nil
	}
	p, err := nativelib.Host()
	if err != nil {
		return fmt.Errorf("this machine (%s/%s): %w", runtime.GOOS, runtime.GOARCH, err)
	}
	dir := nativelib.InstallDir(p)
	if dir == "" {
		return errors.New("no cache directory (neither HOME nor XDG_CACHE_HOME is set) and no LIVEKIT_LIB_PATH: set one of them, or LIVEKIT_FFI_CACHE")
	}
	lib := dir + string(os.PathSeparator) + p.LibFile
	if err := nativelib.Verify(p, lib); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("livekit-ffi %s is not installed in %s; run `%s` (or set LIVEKIT_LIB_PATH)", nativelib.FFIVersion, dir, nativelib.InstallHint())
		}
		return fmt.Errorf("%w; run `%s --force`", err, nativelib.InstallHint())
	}
	fmt.Fprintln(c.stdout, lib)
	return nil
}

func (c *cli) version(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("version takes no arguments")
	}
	fmt.Fprintf(c.stdout, "livekit-ffi %s (livekit==%s wheels)\n", nativelib.FFIVersion, nativelib.WheelVersion)
	for _, p := range nativelib.Platforms() {
		req := ""
		if g := p.MinGlibc(); g != "" {
			req = "  glibc >= " + g
		}
		fmt.Fprintf(c.stdout, "  %-7s %-5s %-14s %-50s lib sha256 %s…%s\n", p.GOOS, p.GOARCH, p.Name, p.WheelFile, p.LibSHA256[:16], req)
	}
	return nil
}
