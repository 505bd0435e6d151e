// Package procstat samples the memory and thread use of the current process
// for soak runs: resident set size and native threads from
// /proc/self/status (Linux), Go heap figures from runtime/metrics, and the
// goroutine count. A [Sampler] writes one JSON object per line.
//
// RSS includes memory that the native library's allocator (glibc malloc)
// keeps after freeing it; the Go heap figures do not. Comparing both tells a
// Go leak from native growth.
package procstat

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sample is one measurement. Fields read from /proc are 0 where it is not
// available (not Linux).
type Sample struct {
	Time    time.Time `json:"time"`
	Elapsed float64   `json:"elapsed_s"` // seconds since the Sampler started

	RSSBytes     int64 `json:"rss_bytes"`      // VmRSS
	RSSPeakBytes int64 `json:"rss_peak_bytes"` // VmHWM
	Threads      int   `json:"threads"`        // native threads (Go's and the library's)

	Goroutines      int    `json:"goroutines"`
	GoHeapBytes     uint64 `json:"go_heap_bytes"`     // live and not yet swept heap objects
	GoMappedBytes   uint64 `json:"go_mapped_bytes"`   // all memory the Go runtime has mapped
	GoReleasedBytes uint64 `json:"go_released_bytes"` // mapped but returned to the OS
	GCCycles        uint64 `json:"gc_cycles"`

	// Extra holds the caller's own figures (rooms, packets sent...).
	Extra map[string]any `json:"extra,omitempty"`
}

var metricNames = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/gc/cycles/total:gc-cycles",
}

// Read takes one sample now.
func Read() (Sample, error) {
	s := Sample{Time: time.Now(), Goroutines: runtime.NumGoroutine()}
	ms := make([]metrics.Sample, len(metricNames))
	for i, n := range metricNames {
		ms[i].Name = n
	}
	metrics.Read(ms)
	u := func(i int) uint64 {
		if ms[i].Value.Kind() == metrics.KindUint64 {
			return ms[i].Value.Uint64()
		}
		return 0
	}
	s.GoHeapBytes, s.GoMappedBytes, s.GoReleasedBytes, s.GCCycles = u(0), u(1), u(2), u(3)

	f, err := os.Open("/proc/self/status")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return s, nil // not Linux: Go figures only
		}
		return s, err
	}
	defer f.Close()
	st, err := ParseStatus(f)
	if err != nil {
		return s, err
	}
	s.RSSBytes, s.RSSPeakBytes, s.Threads = st.RSSBytes, st.RSSPeakBytes, st.Threads
	return s, nil
}

// Status is what ParseStatus takes from a /proc/<pid>/status file.
type Status struct {
	RSSBytes     int64 // VmRSS
	RSSPeakBytes int64 // VmHWM
	Threads      int
}

// ParseStatus reads VmRSS, VmHWM and Threads from the text of a
// /proc/<pid>/status file. It fails when VmRSS or Threads is missing.
func ParseStatus(r io.Reader) (Status, error) {
	var st Status
	var haveRSS, haveThreads bool
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		switch key {
		case "VmRSS", "VmHWM":
			kb, err := strconv.ParseInt(fields[0], 10, 64)
			if err != nil || len(fields) < 2 || fields[1] != "kB" {
				return st, fmt.Errorf("procstat: bad %s line %q", key, sc.Text())
			}
			if key == "VmRSS" {
				st.RSSBytes, haveRSS = kb*1024, true
			} else {
				st.RSSPeakBytes = kb * 1024
			}
		case "Threads":
			n, err := strconv.Atoi(fields[0])
			if err != nil {
				return st, fmt.Errorf("procstat: bad Threads line %q", sc.Text())
			}
			st.Threads, haveThreads = n, true
		}
	}
	if err := sc.Err(); err != nil {
		return st, err
	}
	if !haveRSS || !haveThreads {
		return st, errors.New("procstat: VmRSS or Threads missing from status")
	}
	return st, nil
}

// Sampler writes a Sample as one JSON line to W at start, every Interval,
// and once more when Run's context ends.
type Sampler struct {
	W io.Writer
	// Interval between samples; default 10s.
	Interval time.Duration
	// Extra, when set, is called for every sample; its result goes into
	// Sample.Extra. It must be safe to call from Run's goroutine.
	Extra func() map[string]any

	mu   sync.Mutex
	last Sample
}

// Run samples until ctx ends, then writes a last sample and returns nil,
// or returns the first write or read error.
func (s *Sampler) Run(ctx context.Context) error {
	interval := s.Interval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	start := time.Now()
	enc := json.NewEncoder(s.W)
	write := func() error {
		smp, err := Read()
		if err != nil {
			return err
		}
		smp.Elapsed = smp.Time.Sub(start).Seconds()
		if s.Extra != nil {
			smp.Extra = s.Extra()
		}
		s.mu.Lock()
		s.last = smp
		s.mu.Unlock()
		return enc.Encode(smp)
	}
	if err := write(); err != nil {
		return err
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return write()
		case <-t.C:
			if err := write(); err != nil {
				return err
			}
		}
	}
}

// Last returns the most recent sample written (zero before the first).
func (s *Sampler) Last() Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}
