package livekit

import (
	"context"
	"errors"
	"io"
	"iter"
	"sync"

	"github.com/livekit-ffi-go/sdk/internal/engine"
	"github.com/livekit-ffi-go/sdk/internal/queue"
	pb "github.com/livekit-ffi-go/sdk/proto"
)

// ErrStreamClosed is what Recv returns after the stream's own Close.
var ErrStreamClosed = errors.New("livekit: stream closed")

// mediaStream is what audio and video streams share: the library's stream handle, a
// subscription that turns each event into a T on the dispatcher goroutine (copying the frame
// out and releasing the native buffer at once), a bounded queue that drops the oldest item
// when the reader falls behind, and the end of the stream, whoever causes it.
//
// Streams end with io.EOF when the library ends them, ErrTrackEnded or ErrParticipantLeft
// when what they read from goes away, ErrClosed when the room closes, and ErrStreamClosed
// after Close. Frames already queued are still returned first.
type mediaStream[T any] struct {
	c      *engine.Client
	handle owned
	sub    *engine.Subscription
	q      *queue.Queue[T]
	from   *readers // the track's or participant's readers this stream is attached to
	evict  func(T)  // gives back what a dropped item holds (pooled buffers); may be nil

	mu  sync.Mutex
	err error // why the stream ended; nil while it runs
}

// decodeFunc turns one of the library's stream events into an item (ok) or reports the end
// of the stream (eos). It runs on the dispatcher: copy, release, return.
type decodeFunc[T any] func(ev *pb.FfiEvent) (item T, ok, eos bool)

// rawDecodeFunc takes a stream event in the library's memory, on the library's thread (see
// engine.RawFunc): a frame it copies out, releasing the native buffer, comes back with ok. What it
// does not take (the end of the stream, anything unexpected) it leaves untouched for the
// decodeFunc on the dispatcher.
type rawDecodeFunc[T any] func(ev []byte) (item T, ok bool)

// startStream wires a stream the library just created (handle) to its subscriber and to what
// it reads from. On failure the handle is closed. The library's end of stream races the room's
// own account of why (the track or the participant went away): eos names the reason the
// library ends such a stream for (nil: io.EOF), so that Recv reports the same error whichever
// the dispatcher sees first.
// raw, if set, takes frames before they are copied and decoded (see rawDecodeFunc).
func startStream[T any](c *engine.Client, kind engine.EventKind, h owned, from *readers, capacity int, raw rawDecodeFunc[T], decode decodeFunc[T], evict func(T), eos func() error) (*mediaStream[T], error) {
	s := &mediaStream[T]{c: c, handle: h, q: queue.NewBounded[T](capacity), from: from, evict: evict}
	fn := func(ev *pb.FfiEvent) {
		item, ok, end := decode(ev)
		if end {
			var why error
			if from != nil {
				why = endedErr(from)
			}
			if why == nil && eos != nil {
				why = eos()
			}
			if why == nil {
				why = io.EOF
			}
			s.end(why)
			return
		}
		if ok {
			s.push(item)
		}
	}
	var sub *engine.Subscription
	var err error
	if raw != nil {
		sub, err = c.SubscribeRaw(kind, h.ID(), func(ev []byte) bool {
			item, ok := raw(ev)
			if ok {
				s.push(item)
			}
			return ok
		}, fn)
	} else {
		sub, err = c.Subscribe(kind, h.ID(), fn)
	}
	if err != nil {
		h.Close()
		return nil, err
	}
	s.sub = sub
	if from != nil {
		if ok, why := from.attach(s); !ok {
			s.end(why)
			return nil, why
		}
	}
	return s, nil
}

// push queues an item, dropping the oldest when the reader is behind.
func (s *mediaStream[T]) push(item T) {
	if evicted, pushed := s.q.PushEvict(item); !pushed {
		s.give(item) // ended meanwhile
	} else {
		for _, e := range evicted {
			s.give(e)
		}
	}
}

func (s *mediaStream[T]) give(item T) {
	if s.evict != nil {
		s.evict(item)
	}
}

// end stops the stream with err (the first reason wins): no more items are queued, the
// library's stream is released, and Recv returns err once the queue is drained.
func (s *mediaStream[T]) end(err error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = err
	s.mu.Unlock()
	if s.sub != nil {
		s.sub.Close()
	}
	s.q.Close()
	if s.from != nil {
		s.from.detach(s)
	}
	// After the subscription is closed no more frames come; the library may still send a
	// frame or two for the handle, which the dispatcher drops with its buffer.
	s.handle.Close()
}

// recv returns the next item, waiting for one. After the end it returns the reason.
func (s *mediaStream[T]) recv(ctx context.Context) (T, error) {
	item, err := s.q.Next(ctx)
	if errors.Is(err, queue.ErrDone) {
		s.mu.Lock()
		err = s.err
		s.mu.Unlock()
	}
	return item, err
}

// all is recv as a sequence for range loops; it stops after the first error, which it yields
// unless it is io.EOF.
func (s *mediaStream[T]) all(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			item, err := s.recv(ctx)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					var zero T
					yield(zero, err)
				}
				return
			}
			if !yield(item, nil) {
				return
			}
		}
	}
}

// close ends the stream with ErrStreamClosed and gives back what is still queued.
func (s *mediaStream[T]) close() {
	s.end(ErrStreamClosed)
	for {
		item, ok, _ := s.q.Pop()
		if !ok {
			return
		}
		s.give(item)
	}
}

// dropped reports how many items the reader lost by falling behind.
func (s *mediaStream[T]) dropped() uint64 { return s.q.Dropped() }

// ended reports why the stream ended, or nil while it runs.
func (s *mediaStream[T]) ended() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// endedErr reports why rs ended, or nil while what it reads from is alive.
func endedErr(rs *readers) error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.ended {
		return rs.err
	}
	return nil
}
