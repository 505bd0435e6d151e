// Package queue provides an unbounded FIFO whose Push never blocks.
//
// It sits between a producer that must never wait (the native library's callback thread, the
// event dispatcher) and a consumer that may be slow (user code). Memory, not the producer, absorbs
// a burst.
package queue

import "sync"

// Queue is an unbounded FIFO safe for one or more producers and one consumer.
// The zero value is not usable; call New.
type Queue[T any] struct {
	mu     sync.Mutex
	items  []T
	head   int
	closed bool
	ready  chan struct{} // has a token while items are waiting or the queue is closed
}

// New returns an empty queue.
func New[T any]() *Queue[T] {
	return &Queue[T]{ready: make(chan struct{}, 1)}
}

// Push appends v. It never blocks. It reports false if the queue was closed.
func (q *Queue[T]) Push(v T) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, v)
	q.mu.Unlock()
	q.signal()
	return true
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
		// More waiting: keep the consumer awake.
		defer q.signal()
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
