// Package queue provides a FIFO whose Push never blocks.
//
// It sits between a producer that must never wait (the native library's callback thread, the
// event dispatcher) and a consumer that may be slow (user code). Unbounded, memory absorbs a
// burst; bounded, the oldest items make room for new ones and are counted.
package queue

import (
	"context"
	"errors"
	"sync"
)

// ErrDone is returned by Next once the queue is closed and empty.
var ErrDone = errors.New("queue: closed and drained")

// Queue is a FIFO safe for one or more producers and consumers.
// The zero value is not usable; call New or NewBounded.
type Queue[T any] struct {
	mu      sync.Mutex
	items   []T
	head    int
	limit   int // 0: unbounded
	dropped uint64
	closed  bool
	ready   chan struct{} // has a token while items are waiting or the queue is closed
}

// New returns an empty unbounded queue.
func New[T any]() *Queue[T] {
	return &Queue[T]{ready: make(chan struct{}, 1)}
}

// NewBounded returns an empty queue that holds at most limit items (at least 1): a Push into a
// full queue drops the oldest item and counts it (Dropped).
func NewBounded[T any](limit int) *Queue[T] {
	return &Queue[T]{ready: make(chan struct{}, 1), limit: max(limit, 1)}
}

// Push appends v. It never blocks. It reports false if the queue was closed.
func (q *Queue[T]) Push(v T) bool {
	_, ok := q.PushEvict(v)
	return ok
}

// PushEvict appends v like Push and also returns the item a bounded queue dropped to make
// room (nil when nothing was dropped), so that the caller can release what it held. ok is
// false if the queue was closed.
func (q *Queue[T]) PushEvict(v T) (evicted []T, ok bool) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil, false
	}
	if q.limit > 0 && len(q.items)-q.head >= q.limit {
		var zero T
		evicted = []T{q.items[q.head]}
		q.items[q.head] = zero
		q.head++
		q.dropped++
	}
	q.items = append(q.items, v)
	q.mu.Unlock()
	q.signal()
	return evicted, true
}

// Dropped reports how many items a bounded queue has dropped to make room.
func (q *Queue[T]) Dropped() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

// Next removes and returns the oldest item, waiting for one if the queue is empty. It returns
// ErrDone once the queue is closed and empty, or ctx.Err() if ctx ends first.
func (q *Queue[T]) Next(ctx context.Context) (T, error) {
	for {
		v, ok, done := q.Pop()
		if ok {
			return v, nil
		}
		if done {
			return v, ErrDone
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return v, ctx.Err()
		}
	}
}

func (q *Queue[T]) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// Ready returns a channel that has a value whenever Pop may have something to return.
func (q *Queue[T]) Ready() <-chan struct{} { return q.ready }

// Pop removes and returns the oldest item, or ok=false if the queue is empty. After Close,
// remaining items are still returned, then done=true.
func (q *Queue[T]) Pop() (v T, ok, done bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.items) {
		if q.closed {
			q.signal() // wake the next consumer waiting on a closed queue too
		}
		return v, false, q.closed
	}
	v = q.items[q.head]
	var zero T
	q.items[q.head] = zero
	q.head++
	if q.head == len(q.items) {
		// Reuse the backing array once drained, but let a burst's large array go.
		if cap(q.items) > 1024 {
			q.items = nil
		} else {
			q.items = q.items[:0]
		}
		q.head = 0
	} else {
		// More waiting: keep a consumer awake.
		defer q.signal()
	}
	if q.head > 4096 && q.head*2 > len(q.items) {
		// A bounded queue that never drains would otherwise grow its array forever.
		q.items = append(q.items[:0:0], q.items[q.head:]...)
		q.head = 0
	}
	return v, true, false
}

// Len reports how many items are waiting.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}

// Close stops further pushes. Items already queued can still be popped.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// Drain calls fn for every item, in order, until the queue is closed and empty or stop is
// closed. It is the consumer loop most users of Queue need.
func (q *Queue[T]) Drain(stop <-chan struct{}, fn func(T)) {
	for {
		v, ok, done := q.Pop()
		if ok {
			fn(v)
			continue
		}
		if done {
			return
		}
		select {
		case <-q.ready:
		case <-stop:
			return
		}
	}
}
