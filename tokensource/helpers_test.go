package tokensource

import (
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// testSig is the signature part of test tokens; tests check it never leaks.
const testSig = "c2lnbmF0dXJlLXRoYXQtbXVzdC1uZXZlci1sZWFr"

// makeToken builds an unsigned-looking JWT (HS256 header, fake signature)
// with the given claims. Dates are Unix seconds.
func makeToken(t testing.TB, claims map[string]any) string {
	t.Helper()
	p, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	return h + "." + base64.RawURLEncoding.EncodeToString(p) + "." + testSig
}

// tokenExp is a token with exp (and sub) only.
func tokenExp(t testing.TB, exp time.Time) string {
	return makeToken(t, map[string]any{"sub": "alice", "exp": exp.Unix()})
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// waitOrFail fails the test if ch does not close within a generous bound;
// it is a hang guard, not a timing assertion.
func waitOrFail(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}
