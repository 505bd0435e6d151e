package lkserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// TwirpError is a non-2xx answer of the server's Twirp API.
type TwirpError struct {
	Method     string // e.g. "livekit.RoomService/UpdateParticipant"
	HTTPStatus int
	Code       string // Twirp error code, e.g. "not_found", "unauthenticated"
	Msg        string // Twirp error message
	Body       string // the raw body when it was not a Twirp error object
}

func (e *TwirpError) Error() string {
	if e.Code != "" || e.Msg != "" {
		return fmt.Sprintf("lkserver: twirp %s: HTTP %d: %s: %s", e.Method, e.HTTPStatus, e.Code, e.Msg)
	}
	return fmt.Sprintf("lkserver: twirp %s: HTTP %d: %s", e.Method, e.HTTPStatus, e.Body)
}

// twirpClient is used for all Twirp calls; requests carry the caller's
// context, the timeout is a backstop.
var twirpClient = &http.Client{Timeout: 30 * time.Second}

// CallRoomService calls livekit.RoomService/<method> over Twirp JSON:
// POST {HTTPURL}/twirp/livekit.RoomService/<method> with body req (marshalled
// with encoding/json, so use protobuf JSON field names) and
// "Authorization: Bearer <adminToken>". The response is decoded into resp
// unless it is nil. A Twirp error answer is returned as *TwirpError.
func (s *Server) CallRoomService(ctx context.Context, method, adminToken string, req, resp any) error {
	return s.callTwirp(ctx, "livekit.RoomService/"+method, adminToken, req, resp)
}

func (s *Server) callTwirp(ctx context.Context, method, token string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("lkserver: twirp %s: marshal request: %w", method, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, s.HTTPURL()+"/twirp/"+method, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("lkserver: twirp %s: %w", method, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Authorization", "Bearer "+token)
	hresp, err := twirpClient.Do(hreq)
	if err != nil {
		return fmt.Errorf("lkserver: twirp %s: %w", method, err)
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("lkserver: twirp %s: read response: %w", method, err)
	}
	if hresp.StatusCode/100 != 2 {
		te := &TwirpError{Method: method, HTTPStatus: hresp.StatusCode}
		var obj struct {
			Code string `json:"code"`
			Msg  string `json:"msg"`
		}
		if json.Unmarshal(data, &obj) == nil && (obj.Code != "" || obj.Msg != "") {
			te.Code, te.Msg = obj.Code, obj.Msg
		} else {
			te.Body = strings.TrimSpace(string(data))
		}
		return te
	}
	if resp != nil {
		if err := json.Unmarshal(data, resp); err != nil {
			return fmt.Errorf("lkserver: twirp %s: decode response: %w", method, err)
		}
	}
	return nil
}

// UpdateParticipantMetadata sets a participant's metadata through
// RoomService/UpdateParticipant. The server then pushes a refreshed token to
// that participant (only when the value differs from the current one).
// adminToken needs a video grant with roomAdmin for room.
func (s *Server) UpdateParticipantMetadata(ctx context.Context, room, identity, metadata, adminToken string) error {
	req := struct {
		Room     string `json:"room"`
		Identity string `json:"identity"`
		Metadata string `json:"metadata"`
	}{room, identity, metadata}
	return s.CallRoomService(ctx, "UpdateParticipant", adminToken, req, nil)
}

// ListParticipants returns the identities of the participants in room
// (RoomService/ListParticipants). adminToken needs a video grant with
// roomAdmin for room.
func (s *Server) ListParticipants(ctx context.Context, room, adminToken string) ([]string, error) {
	req := struct {
		Room string `json:"room"`
	}{room}
	var resp struct {
		Participants []struct {
			Identity string `json:"identity"`
		} `json:"participants"`
	}
	if err := s.CallRoomService(ctx, "ListParticipants", adminToken, req, &resp); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(resp.Participants))
	for _, p := range resp.Participants {
		ids = append(ids, p.Identity)
	}
	return ids, nil
}

// ListRooms returns the names of the rooms the server knows
// (RoomService/ListRooms; in a cluster, all rooms in Redis).
func (s *Server) ListRooms(ctx context.Context) ([]string, error) {
	var resp struct {
		Rooms []struct {
			Name string `json:"name"`
		} `json:"rooms"`
	}
	if err := s.CallRoomService(ctx, "ListRooms", s.selfToken(), struct{}{}, &resp); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(resp.Rooms))
	for _, r := range resp.Rooms {
		names = append(names, r.Name)
	}
	return names, nil
}
