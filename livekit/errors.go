package livekit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/livekit-ffi-go/sdk/internal/redact"
	"github.com/livekit-ffi-go/sdk/tokensource"
)

var (
	// ErrInvalidCredentials reports an empty server URL or token, caught before any connect.
	ErrInvalidCredentials = errors.New("livekit: empty server URL or token")

	// ErrClosed reports that the room was disconnected or closed. A call that was in flight
	// when the room closed ends with it too: the library may or may not have acted on it.
	ErrClosed = errors.New("livekit: room is closed")

	// ErrTrackEnded ends a stream whose track went away: unsubscribed or unpublished.
	ErrTrackEnded = errors.New("livekit: track ended")

	// ErrSourceClosed reports a capture into (or a track made from) an audio or video source
	// after its Close.
	ErrSourceClosed = errors.New("livekit: source closed")

	// ErrNotEncrypted is returned by the E2EE controls of a room connected without
	// WithEncryption.
	ErrNotEncrypted = errors.New("livekit: room is not end-to-end encrypted")

	// ErrParticipantLeft ends a stream whose participant left the room.
	ErrParticipantLeft = errors.New("livekit: participant left")

	// ErrInvalidArgument is the class of errors about arguments refused before they reach the
	// library (a nil context, an oversized payload ...). errors.Is matches it.
	ErrInvalidArgument = errors.New("livekit: invalid argument")
)

// maxQuoted bounds how much of a caller's input an error message repeats.
const maxQuoted = 256

// ConnectError is the library's or the server's reason a connect failed. Anything in the
// message that looks like a token is redacted.
type ConnectError struct {
	URL     string // the server URL, cut to a readable length
	Message string
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("livekit: connect to %s failed: %s", e.URL, e.Message)
}

// Unauthorized reports whether the server refused the token (HTTP 401): expired, revoked,
// signed with another key, or not a token at all.
func (e *ConnectError) Unauthorized() bool { return strings.Contains(e.Message, "401 Unauthorized") }

// RequestError reports a failed request to the native engine, in the style of url.Error: the
// operation ("publish data", "set metadata" ...) and either the library's message or the
// underlying error (a context's, ErrClosed, an ffi error), which Unwrap returns.
type RequestError struct {
	Op      string
	Message string // the library's reason, if it gave one
	Err     error  // the cause, if the call did not complete
}

func (e *RequestError) Error() string {
	switch {
	case e.Err != nil && e.Message != "":
		return "livekit: " + e.Op + ": " + e.Message + ": " + e.Err.Error()
	case e.Err != nil:
		return "livekit: " + e.Op + ": " + e.Err.Error()
	}
	return "livekit: " + e.Op + ": " + e.Message
}

func (e *RequestError) Unwrap() error { return e.Err }

// invalid builds an ErrInvalidArgument error for op.
func invalid(op, format string, args ...any) error {
	return &RequestError{Op: op, Message: fmt.Sprintf(format, args...), Err: ErrInvalidArgument}
}

// quote cuts user input to a length an error message can carry and masks tokens in it.
func quote(s string) string {
	s = redactTokens(s)
	if len(s) <= maxQuoted {
		return s
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:maxQuoted], len(s))
}

// redactTokens masks every JWT-shaped substring: the server quotes a rejected token in full,
// and not always as the caller wrote it (the library trims it first).
func redactTokens(s string) string { return redact.JWTs(s, tokensource.Redact) }
