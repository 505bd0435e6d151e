package engine

import (
	_ "embed"
	"strings"
)

//go:embed version.env
var versionEnv string

// SDKName is what this SDK reports to the library, and through it to the server.
const SDKName = "go"

// SDKVersion is this SDK's version, reported to the server with SDKName.
const SDKVersion = "0.1.0"

// PinnedVersion is the livekit-ffi version this module's protocol code was generated from
// (internal/engine/version.env). A library reporting another version is refused.
func PinnedVersion() string { return pin("LIVEKIT_FFI_VERSION") }

func pin(key string) string {
	for line := range strings.Lines(versionEnv) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && k == key {
			return v
		}
	}
	return ""
}
