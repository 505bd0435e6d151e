package engine

import "errors"

// Dispose closes every room the library still has, stops delivering events and releases the
// client's goroutines. Pending calls fail with ErrDisposed. Never call it from an event
// subscriber: it waits for the dispatcher. Load initializes anew afterwards.
func (c *Client) Dispose() error {
	globalMu.Lock()
	defer globalMu.Unlock()
	c.mu.Lock()
	if errors.Is(c.failed, ErrDisposed) {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()

	// The library closes its rooms and still reports on them while it does, so the pump
	// keeps running until it returns. After it returns no more callbacks come.
	nativeDispose()

	c.mu.Lock()
	c.failed = ErrDisposed
	c.mu.Unlock()
	c.failWaiters(all, ErrDisposed)
	if active.Load() == c {
		active.Store(nil)
	}
	c.events.Close()
	c.wg.Wait() // the dispatcher routes what the library sent while disposing
	c.mu.Lock()
	c.routes = map[routeKey]*Subscription{}
	c.raws.Store(0)
	c.mu.Unlock()
	if global == c {
		global = nil
	}
	return nil
}
