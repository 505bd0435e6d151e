// Command soak keeps room traffic going for hours and records, every 10 s,
// the process's resident memory, native threads, Go heap and goroutines as
// JSON lines, so that leaks (Go or native) and allocator growth show up as
// trends.
//
// Run it inside the private network namespace (the server and all WebRTC
// traffic must stay on this machine); build it first, since nothing outside
// is reachable from inside:
//
//	go build -o /tmp/soak ./bench/soak
//	LIVEKIT_SERVER_BIN=$(scripts/install-livekit-server.sh | tail -n1) \
//	  scripts/netns.sh /tmp/soak -duration 2h -out soak.jsonl
//
// glibc malloc, used by the native library, keeps freed memory in per-thread
// arenas (the probe saw RSS reach 1.3 GB while nothing leaked). The
// environment variable MALLOC_ARENA_MAX=2 caps the arenas; glibc reads it at
// process start, so setting it from Go is too late. -malloc-arena-max N
// (default 2) therefore re-executes the program with MALLOC_ARENA_MAX=N when
// the environment does not already say so; -malloc-arena-max 0 leaves the
// environment alone (glibc's default: 8 arenas per core). Compare a run of
// each. Setting it by hand is equivalent:
//
//	MALLOC_ARENA_MAX=2 scripts/netns.sh /tmp/soak -malloc-arena-max 0 ...
//
// Output: the first line is {"config": {...}} (flags, Go version,
// GOMAXPROCS, MALLOC_ARENA_MAX, server URL); every further line is one
// procstat.Sample, whose "extra" field carries the traffic counters. Progress
// and errors go to stderr. Without -url it starts its own livekit-server
// (internal/lkserver); with -url, -api-key and -api-secret it uses that one.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/livekit-ffi-go/sdk/ffi"
	"github.com/livekit-ffi-go/sdk/internal/lkserver"
	"github.com/livekit-ffi-go/sdk/internal/procstat"
	"github.com/livekit-ffi-go/sdk/livekit"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

type config struct {
	Duration       time.Duration
	Interval       time.Duration
	Rooms          int
	Participants   int
	MallocArenaMax int
	Out            string
	URL            string
	APIKey         string
	APISecret      string
	Trim           bool
	NoServer       bool
}

func main() {
	var cfg config
	flag.DurationVar(&cfg.Duration, "duration", time.Hour, "how long to run")
	flag.DurationVar(&cfg.Interval, "interval", 10*time.Second, "time between samples")
	flag.IntVar(&cfg.Rooms, "rooms", 20, "rooms kept busy at once")
	flag.IntVar(&cfg.Participants, "participants", 2, "participants per room")
	flag.IntVar(&cfg.MallocArenaMax, "malloc-arena-max", 2, "re-execute with MALLOC_ARENA_MAX set to this (0: leave the environment alone)")
	flag.StringVar(&cfg.Out, "out", "-", "JSON lines output file (- for stdout)")
	flag.StringVar(&cfg.URL, "url", "", "use this server (ws://...) instead of starting one")
	flag.StringVar(&cfg.APIKey, "api-key", "", "API key of the -url server")
	flag.StringVar(&cfg.APISecret, "api-secret", "", "API secret of the -url server")
	flag.BoolVar(&cfg.Trim, "trim", false, "call ffi.TrimNativeMemory (malloc_trim) after every cycle's rooms have closed")
	flag.BoolVar(&cfg.NoServer, "no-server", false, "start no server and no traffic: the bare process baseline")
	flag.Parse()

	if need, env := arenaReexec(cfg.MallocArenaMax, os.Getenv("MALLOC_ARENA_MAX")); need {
		exe, err := os.Executable()
		if err == nil {
			err = syscall.Exec(exe, os.Args, append(os.Environ(), env))
		}
		fmt.Fprintf(os.Stderr, "soak: cannot re-execute with %s: %v\n", env, err)
		os.Exit(1)
	}

	out := io.Writer(os.Stdout)
	if cfg.Out != "-" {
		f, err := os.Create(cfg.Out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			os.Exit(1)
		}
		defer f.Close()
		out = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, out); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		stop()
		os.Exit(1)
	}
}

// arenaReexec says whether the process must re-execute itself to get
// MALLOC_ARENA_MAX=want (want 0: never), and the variable to add.
func arenaReexec(want int, current string) (bool, string) {
	if want <= 0 || current == strconv.Itoa(want) {
		return false, ""
	}
	return true, "MALLOC_ARENA_MAX=" + strconv.Itoa(want)
}

// counters are the traffic figures every sample carries.
type counters struct {
	joins, leaves, sent, received, errors atomic.Int64
}

func (c *counters) snapshot() map[string]any {
	return map[string]any{
		"joins": c.joins.Load(), "leaves": c.leaves.Load(),
		"packets_sent": c.sent.Load(), "packets_received": c.received.Load(),
		"errors": c.errors.Load(),
	}
}

func run(ctx context.Context, cfg config, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	if !cfg.NoServer && cfg.URL == "" {
		startCtx, cancelStart := context.WithTimeout(ctx, time.Minute)
		s, err := lkserver.Start(startCtx, lkserver.Config{LogLevel: "warn"})
		cancelStart()
		if err != nil {
			return err
		}
		defer s.Stop()
		cfg.URL, cfg.APIKey, cfg.APISecret = s.URL(), s.APIKey, s.APISecret
		fmt.Fprintf(os.Stderr, "soak: livekit-server %s at %s (pid %d)\n", lkserver.Version, s.URL(), s.PID())
	}
	if !cfg.NoServer && (cfg.APIKey == "" || cfg.APISecret == "") {
		return errors.New("-url needs -api-key and -api-secret")
	}

	header := map[string]any{"config": map[string]any{
		"duration":              cfg.Duration.String(),
		"interval":              cfg.Interval.String(),
		"rooms":                 cfg.Rooms,
		"participants_per_room": cfg.Participants,
		"malloc_arena_max_flag": cfg.MallocArenaMax,
		"url":                   cfg.URL,
		"no_server":             cfg.NoServer,
		"trim":                  cfg.Trim,
		"go":                    runtime.Version(),
		"gomaxprocs":            runtime.GOMAXPROCS(0),
		"malloc_arena_max":      os.Getenv("MALLOC_ARENA_MAX"),
		"start":                 time.Now().UTC(),
	}}
	if err := json.NewEncoder(out).Encode(header); err != nil {
		return err
	}

	var c counters
	sampler := &procstat.Sampler{W: out, Interval: cfg.Interval, Extra: c.snapshot}
	done := make(chan error, 1)
	go func() { done <- sampler.Run(ctx) }()
	var trafficErr error
	if !cfg.NoServer {
		trafficErr = traffic(ctx, cfg, &c)
	}
	<-ctx.Done()
	if err := <-done; err != nil {
		return err
	}
	last := sampler.Last()
	fmt.Fprintf(os.Stderr, "soak: done after %.0fs: rss %d MiB (peak %d MiB), threads %d, goroutines %d, go heap %d MiB\n",
		last.Elapsed, last.RSSBytes>>20, last.RSSPeakBytes>>20, last.Threads, last.Goroutines, last.GoHeapBytes>>20)
	return trafficErr
}

// traffic keeps cfg.Rooms rooms busy on the server at cfg.URL until ctx ends, in cycles:
// cfg.Participants participants per room join at once (tokens minted with cfg.APIKey and
// cfg.APISecret), each sends a reliable and a lossy 1 KiB packet every 100 ms for 20 s, then
// they all leave and the next cycle starts. Joins, leaves, packets sent and received and errors
// go to c; an error is counted, not fatal.
func traffic(ctx context.Context, cfg config, c *counters) error {
	minter, err := tokensource.NewMinter(cfg.APIKey, cfg.APISecret, cfg.URL)
	if err != nil {
		return err
	}
	payload := make([]byte, 1024)
	for cycle := 0; ctx.Err() == nil; cycle++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var rooms []*livekit.Room
		for r := range cfg.Rooms {
			for p := range cfg.Participants {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tok, err := minter.Mint(tokensource.Options{RoomName: fmt.Sprintf("soak-%d-%d", cycle, r), ParticipantIdentity: fmt.Sprintf("p%d", p)})
					if err != nil {
						c.errors.Add(1)
						return
					}
					jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					room, err := livekit.Connect(jctx, cfg.URL, tok, livekit.WithEventHandler(func(ev livekit.Event) {
						if _, ok := ev.(livekit.DataReceived); ok {
							c.received.Add(1)
						}
					}))
					cancel()
					if err != nil {
						c.errors.Add(1)
						return
					}
					c.joins.Add(1)
					mu.Lock()
					rooms = append(rooms, room)
					mu.Unlock()
				}()
			}
		}
		wg.Wait()
		end := time.After(20 * time.Second)
		tick := time.NewTicker(100 * time.Millisecond)
	send:
		for {
			select {
			case <-ctx.Done():
				break send
			case <-end:
				break send
			case <-tick.C:
				for _, room := range rooms {
					for _, lossy := range []bool{false, true} {
						pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
						err := room.LocalParticipant().PublishData(pctx, payload, livekit.DataOptions{Lossy: lossy})
						cancel()
						switch {
						case err == nil:
							c.sent.Add(1)
						case ctx.Err() == nil: // the run ending is not an error
							c.errors.Add(1)
						}
					}
				}
			}
		}
		tick.Stop()
		for _, room := range rooms {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if room.Close() != nil {
					c.errors.Add(1)
				}
				c.leaves.Add(1)
			}()
		}
		wg.Wait()
		if cfg.Trim {
			ffi.TrimNativeMemory()
		}
	}
	return nil
}
