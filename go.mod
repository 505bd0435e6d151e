module github.com/livekit-ffi-go/sdk

go 1.26.0

require (
	github.com/coder/websocket v1.8.15
	github.com/golang-jwt/jwt/v5 v5.3.1
	google.golang.org/protobuf v1.36.12
)
