package livekit_test

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/livekit-ffi-go/sdk/livekit"
)

var fullLoad = flag.Bool("load.full", false, "run the load tests at full size (20 rooms x 2, 100 concurrent connects)")

// percentile returns the p-th percentile (0..100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}

// Rooms x 2 participants in one process, all connecting at once, exchanging numbered reliable
// packets for the whole run: every connect succeeds, every packet arrives in order, every
// room tears down.
func TestLoadRoomsExchangeData(t *testing.T) {
	needEnv(t)
	rooms, packets := 6, 50
	if *fullLoad {
		rooms, packets = 20, 200
	}
	type pair struct {
		a, b   *livekit.Room
		ev     *events
		connAt [2]time.Duration
	}
	pairs := make([]*pair, rooms)
	var wg sync.WaitGroup
	errs := make(chan error, 2*rooms)
	start := time.Now()
	for i := range pairs {
		p := &pair{ev: newEvents()}
		pairs[i] = p
		name := fmt.Sprintf("%s-load-%d", roomName(t), i)
		wg.Add(2)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			r, err := livekit.Connect(ctxFor(t, 60*time.Second), env.Server.URL(), mint(t, name, "b"), livekit.WithEventHandler(p.ev.handle))
			p.b, p.connAt[1] = r, time.Since(t0)
			if err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			t0 := time.Now()
			r, err := livekit.Connect(ctxFor(t, 60*time.Second), env.Server.URL(), mint(t, name, "a"))
			p.a, p.connAt[0] = r, time.Since(t0)
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("connect under load: %v", err)
	}
	var lat []time.Duration
	for _, p := range pairs {
		lat = append(lat, p.connAt[0], p.connAt[1])
	}
	t.Logf("%d concurrent connects: all in %v; each median %v p90 %v max %v", 2*rooms, time.Since(start).Round(time.Millisecond),
		percentile(lat, 50).Round(time.Millisecond), percentile(lat, 90).Round(time.Millisecond), percentile(lat, 100).Round(time.Millisecond))

	// Audio flows in every room for the rest of the run: each a publishes a tone, each b reads
	// its stream (checked once the data has gone through).
	streams := make([]*livekit.AudioStream, len(pairs))
	for i, p := range pairs {
		publishTone(t, p.a, 440)
		sub := waitFor[livekit.TrackSubscribed](t, p.ev, 30*time.Second, nil)
		st, err := livekit.NewAudioStream(sub.Track, livekit.AudioStreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		streams[i] = st
		defer st.Close()
	}

	// Every a sends numbered packets; every b must get all of them, in order.
	for _, p := range pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := range packets {
				var buf [4]byte
				binary.BigEndian.PutUint32(buf[:], uint32(seq))
				if err := p.a.LocalParticipant().PublishData(ctxFor(t, 30*time.Second), buf[:], livekit.DataOptions{Topic: "load"}); err != nil {
					t.Errorf("publish: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for i, p := range pairs {
		for {
			var seqs []int
			for _, ev := range p.ev.snapshot() {
				if d, ok := ev.(livekit.DataReceived); ok && d.Topic == "load" {
					seqs = append(seqs, int(binary.BigEndian.Uint32(d.Data)))
				}
			}
			if len(seqs) == packets {
				for j, s := range seqs {
					if s != j {
						t.Fatalf("room %d: packet %d arrived at position %d", i, s, j)
					}
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("room %d: %d of %d packets arrived", i, len(seqs), packets)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	for i, st := range streams {
		// At full size two cores run 20 encoders, 20 decoders and the server: the engine's
		// jitter buffer stretches late audio, which moves a 440 Hz tone by up to ~8 Hz.
		t.Run(fmt.Sprintf("audio-%d", i), func(t *testing.T) {
			hearToneWithin(t, ctxFor(t, 20*time.Second), st, 440, 15, 500*time.Millisecond)
		})
	}

	t0 := time.Now()
	for _, p := range pairs {
		wg.Add(2)
		go func() { defer wg.Done(); p.a.Close() }()
		go func() { defer wg.Done(); p.b.Close() }()
	}
	wg.Wait()
	t.Logf("teardown of %d rooms: %v", 2*rooms, time.Since(t0).Round(time.Millisecond))
	for i, p := range pairs {
		// The room's handler runs on its own goroutine and may still be delivering the last
		// events when Close returns.
		waitFor[livekit.Disconnected](t, p.ev, 10*time.Second, nil)
		evs := p.ev.snapshot()
		if _, ok := evs[len(evs)-1].(livekit.Disconnected); !ok {
			t.Fatalf("room %d: last event %T, want Disconnected", i, evs[len(evs)-1])
		}
	}
}

// Many connects at once: all succeed; the latency distribution is logged.
func TestLoadConcurrentConnects(t *testing.T) {
	needEnv(t)
	n := 20
	if *fullLoad {
		n = 100
	}
	name := roomName(t)
	lat := make([]time.Duration, n)
	rooms := make([]*livekit.Room, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			r, err := livekit.Connect(ctx, env.Server.URL(), mint(t, fmt.Sprintf("%s-%d", name, i%10), fmt.Sprintf("p%d", i)))
			lat[i], rooms[i] = time.Since(t0), r
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	total := time.Since(start)
	close(errs)
	for err := range errs {
		t.Errorf("connect: %v", err)
	}
	for _, r := range rooms {
		if r != nil {
			wg.Add(1)
			go func() { defer wg.Done(); r.Close() }()
		}
	}
	wg.Wait()
	t.Logf("%d concurrent connects in %v: median %v p90 %v max %v", n, total.Round(time.Millisecond),
		percentile(lat, 50).Round(time.Millisecond), percentile(lat, 90).Round(time.Millisecond), percentile(lat, 100).Round(time.Millisecond))
}
