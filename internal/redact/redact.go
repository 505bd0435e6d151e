// Package redact finds JWTs in free text (error bodies, log records) so that callers can mask
// them. LiveKit servers and libraries quote rejected tokens in full in their messages.
package redact

import "regexp"

// jwt matches a compact JWS: three base64url segments, the first two non-trivial.
var jwt = regexp.MustCompile(`[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)

// JWTs replaces every JWT-shaped substring of s with mask(token).
func JWTs(s string, mask func(token string) string) string {
	return jwt.ReplaceAllStringFunc(s, mask)
}
