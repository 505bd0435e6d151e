module github.com/livekit-ffi-go/sdk

go 1.26.0

require google.golang.org/protobuf v1.36.12

require (
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	golang.org/x/sync v0.25.0 // indirect
)
