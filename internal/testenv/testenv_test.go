package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDefaultRouteDetection(t *testing.T) {
	dir := t.TempDir()
	v4 := filepath.Join(dir, "route")
	os.WriteFile(v4, []byte("Iface\tDestination\tGateway\nveth0\t0000D50A\t00000000\neth0\t00000000\t0100A8C0\n"), 0o644)
	if !hasDefaultRoute(v4, 1, "00000000") {
		t.Fatal("a default route via eth0 was not found")
	}
	os.WriteFile(v4, []byte("Iface\tDestination\tGateway\nveth0\t0000D50A\t00000000\n"), 0o644)
	if hasDefaultRoute(v4, 1, "00000000") {
		t.Fatal("a /24 route was taken for a default route")
	}
	if hasDefaultRoute(filepath.Join(dir, "missing"), 1, "00000000") {
		t.Fatal("a missing table has no routes")
	}
}
