package procstat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const status = `Name:	soak
Umask:	0022
State:	S (sleeping)
VmPeak:	 2345678 kB
VmHWM:	  204800 kB
VmRSS:	  102400 kB
RssAnon:	   90000 kB
Threads:	44
SigQ:	0/127573
`

func TestParseStatus(t *testing.T) {
	st, err := ParseStatus(strings.NewReader(status))
	if err != nil {
		t.Fatal(err)
	}
	if st.RSSBytes != 102400*1024 || st.RSSPeakBytes != 204800*1024 || st.Threads != 44 {
		t.Errorf("got %+v", st)
	}
	for name, bad := range map[string]string{
		"no rss":     "Threads:\t3\n",
		"no threads": "VmRSS:\t 1 kB\n",
		"bad unit":   "VmRSS:\t 1 MB\nThreads:\t3\n",
		"bad number": "VmRSS:\t 1 kB\nThreads:\tmany\n",
	} {
		if _, err := ParseStatus(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRead(t *testing.T) {
	s, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	if s.Goroutines < 1 || s.GoHeapBytes == 0 || s.GoMappedBytes < s.GoHeapBytes || s.GCCycles > 1<<40 {
		t.Errorf("Go figures: %+v", s)
	}
	if runtime.GOOS == "linux" && (s.RSSBytes <= 0 || s.Threads < 1 || s.RSSPeakBytes < s.RSSBytes) {
		t.Errorf("/proc figures: %+v", s)
	}
}

// syncBuffer is a bytes.Buffer safe for the sampler's writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestSamplerWritesJSONLines(t *testing.T) {
	var out syncBuffer
	n := 0
	s := &Sampler{W: &out, Interval: 20 * time.Millisecond, Extra: func() map[string]any {
		n++
		return map[string]any{"rooms": n}
	}}
	ctx, cancel := context.WithTimeout(t.Context(), 110*time.Millisecond)
	defer cancel()
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	var lines []Sample
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		var smp Sample
		if err := json.Unmarshal(sc.Bytes(), &smp); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, smp)
	}
	// First at start, ~5 ticks (fewer on a loaded machine), one at the end.
	if len(lines) < 3 || len(lines) > 9 {
		t.Fatalf("%d samples:\n%s", len(lines), out.String())
	}
	for i := 1; i < len(lines); i++ {
		if lines[i].Elapsed < lines[i-1].Elapsed {
			t.Errorf("elapsed goes back: %v then %v", lines[i-1].Elapsed, lines[i].Elapsed)
		}
	}
	last := lines[len(lines)-1]
	if last.Extra["rooms"] != float64(len(lines)) {
		t.Errorf("extra of the last sample %v, want rooms=%d", last.Extra, len(lines))
	}
	if got := s.Last(); got.Extra["rooms"] != len(lines) {
		t.Errorf("Last() = %+v", got)
	}
	if !strings.Contains(out.String(), `"rss_bytes"`) || !strings.Contains(out.String(), `"threads"`) {
		t.Errorf("missing fields: %s", out.String())
	}
}
