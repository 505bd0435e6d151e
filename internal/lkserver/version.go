package lkserver

import (
	_ "embed"
	"strings"
)

//go:embed version.env
var versionEnv string

// Version is the livekit-server version the tests are pinned to, read from
// internal/lkserver/version.env (the file scripts/install-livekit-server.sh
// reads too).
var Version = pin(versionEnv, "LIVEKIT_SERVER_VERSION")

// pin returns the value of key in a KEY=value file ("" when absent).
func pin(env, key string) string {
	for line := range strings.Lines(env) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && k == key {
			return v
		}
	}
	return ""
}
