package testenv

import (
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MintAt signs a LiveKit access token issued at a chosen time, so tests can make tokens that
// are expired or not valid yet (tokensource.Minter always mints from now).
func MintAt(apiKey, apiSecret, room, identity, name string, issued time.Time, ttl time.Duration) (string, error) {
	iat := issued.Unix()
	claims := jwt.MapClaims{"iss": apiKey, "sub": identity, "iat": iat, "nbf": iat, "exp": iat + int64(ttl/time.Second),
		"video": map[string]any{"roomJoin": true, "room": room}}
	if name != "" {
		claims["name"] = name
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(apiSecret))
}
