package tokensource

import "time"

// Test clocks. They are not public API: tests of this package and of
// package tokensource_test set them here.

// WithClock sets the clock a Cache uses for validity checks.
func WithClock(now func() time.Time) CacheOption { return func(c *Cache) { c.now = now } }

// WithMinterClock sets the clock a Minter uses for iat, nbf and exp.
func WithMinterClock(now func() time.Time) MinterOption { return func(m *Minter) { m.now = now } }
