package queue

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestFIFOAcrossProducers(t *testing.T) {
	q := New[int]()
	const producers, each = 8, 5000
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				q.Push(p*each + i)
			}
		}()
	}
	go func() { wg.Wait(); q.Close() }()

	last := make([]int, producers)
	for i := range last {
		last[i] = -1
	}
	n := 0
	q.Drain(nil, func(v int) {
		p, i := v/each, v%each
		if i <= last[p] {
			t.Fatalf("producer %d: item %d after %d", p, i, last[p])
		}
		last[p] = i
		n++
	})
	if n != producers*each {
		t.Fatalf("got %d items, want %d", n, producers*each)
	}
}

func TestPushAfterCloseRefused(t *testing.T) {
	q := New[string]()
	if !q.Push("a") {
		t.Fatal("push before close refused")
	}
	q.Close()
	if q.Push("b") {
		t.Fatal("push after close accepted")
	}
	v, ok, done := q.Pop()
	if !ok || v != "a" || done {
		t.Fatalf("Pop = %q %v %v, want queued item", v, ok, done)
	}
	if _, ok, done := q.Pop(); ok || !done {
		t.Fatalf("Pop after drain = ok %v done %v, want done", ok, done)
	}
}

func TestDrainStops(t *testing.T) {
	q := New[int]()
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() { q.Drain(stop, func(int) {}); close(finished) }()
	q.Push(1)
	close(stop)
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("Drain did not return after stop was closed")
	}
}

func BenchmarkPushPop(b *testing.B) {
	q := New[int]()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		q.Push(i)
		q.Pop()
	}
}

func TestBoundedDropsOldestAndCounts(t *testing.T) {
	q := NewBounded[int](3)
	var evicted []int
	for i := range 5 {
		ev, ok := q.PushEvict(i)
		if !ok {
			t.Fatal("push refused")
		}
		evicted = append(evicted, ev...)
	}
	if q.Dropped() != 2 || len(evicted) != 2 || evicted[0] != 0 || evicted[1] != 1 {
		t.Fatalf("dropped %d, evicted %v; want 2 and [0 1]", q.Dropped(), evicted)
	}
	for want := 2; want < 5; want++ {
		v, ok, _ := q.Pop()
		if !ok || v != want {
			t.Fatalf("Pop = %d, %v; want %d", v, ok, want)
		}
	}
}

func TestNextWaitsEndsAndHonorsContext(t *testing.T) {
	q := New[int]()
	go func() { time.Sleep(20 * time.Millisecond); q.Push(7); q.Close() }()
	v, err := q.Next(context.Background())
	if err != nil || v != 7 {
		t.Fatalf("Next = %d, %v", v, err)
	}
	if _, err := q.Next(context.Background()); err != ErrDone {
		t.Fatalf("Next after close = %v, want ErrDone", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := New[int]().Next(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Next on an empty queue = %v, want the context's error", err)
	}
}

func TestClosedQueueWakesEveryConsumer(t *testing.T) {
	q := New[int]()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); q.Next(context.Background()) }()
	}
	time.Sleep(20 * time.Millisecond)
	q.Close()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a consumer was left waiting on a closed queue")
	}
}
