package redact

import (
	"strings"
	"testing"
)

func TestJWTsMasksEveryToken(t *testing.T) {
	const a = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	const b = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.b3RoZXJzaWc"
	in := "invalid token: " + a + ", previous " + b + " (version 1.2.3, host a.b.c)"
	got := JWTs(in, func(string) string { return "<jwt>" })
	want := "invalid token: <jwt>, previous <jwt> (version 1.2.3, host a.b.c)"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if strings.Contains(JWTs("no tokens here", func(string) string { return "x" }), "x") {
		t.Fatal("masked text without a token")
	}
}
