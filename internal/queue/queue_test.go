package queue

import (
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
