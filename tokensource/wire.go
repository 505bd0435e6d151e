package tokensource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Wire types of the token endpoint contract. Field order here is the order
// of keys on the wire.

type wireRequest struct {
	RoomName              string            `json:"room_name,omitempty"`
	ParticipantName       string            `json:"participant_name,omitempty"`
	ParticipantIdentity   string            `json:"participant_identity,omitempty"`
	ParticipantMetadata   string            `json:"participant_metadata,omitempty"`
	ParticipantAttributes map[string]string `json:"participant_attributes,omitempty"`
	RoomConfig            *wireRoomConfig   `json:"room_config,omitempty"`
}

type wireRoomConfig struct {
	Agents []wireAgent `json:"agents"`
}

type wireAgent struct {
	AgentName  string `json:"agent_name,omitempty"`
	Metadata   string `json:"metadata,omitempty"`
	Deployment string `json:"deployment,omitempty"`
}

// encodeRequest builds the request body: unset fields are omitted, no
// options give "{}", and room_config appears only when an agent field is set,
// with exactly one agents entry.
func encodeRequest(o Options) []byte {
	w := wireRequest{
		RoomName:            o.RoomName,
		ParticipantName:     o.ParticipantName,
		ParticipantIdentity: o.ParticipantIdentity,
		ParticipantMetadata: o.ParticipantMetadata,
	}
	if len(o.ParticipantAttributes) > 0 {
		w.ParticipantAttributes = o.ParticipantAttributes
	}
	if o.HasAgent() {
		w.RoomConfig = &wireRoomConfig{Agents: []wireAgent{{
			AgentName:  o.AgentName,
			Metadata:   o.AgentMetadata,
			Deployment: o.AgentDeployment,
		}}}
	}
	b, err := json.Marshal(w)
	if err != nil {
		// Only strings and a map of strings: Marshal cannot fail.
		panic("tokensource: encoding request: " + err.Error())
	}
	return b
}

// wireRequestIn accepts the snake_case request and, like LiveKit's own test
// token server, the older camelCase keys.
type wireRequestIn struct {
	RoomName                   string            `json:"room_name"`
	RoomNameCamel              string            `json:"roomName"`
	ParticipantName            string            `json:"participant_name"`
	ParticipantNameCamel       string            `json:"participantName"`
	ParticipantIdentity        string            `json:"participant_identity"`
	ParticipantIdentityCamel   string            `json:"participantIdentity"`
	ParticipantMetadata        string            `json:"participant_metadata"`
	ParticipantMetadataCamel   string            `json:"participantMetadata"`
	ParticipantAttributes      map[string]string `json:"participant_attributes"`
	ParticipantAttributesCamel map[string]string `json:"participantAttributes"`
	RoomConfig                 *wireRoomConfigIn `json:"room_config"`
	RoomConfigCamel            *wireRoomConfigIn `json:"roomConfig"`
}

type wireRoomConfigIn struct {
	Agents []struct {
		AgentName      string `json:"agent_name"`
		AgentNameCamel string `json:"agentName"`
		Metadata       string `json:"metadata"`
		Deployment     string `json:"deployment"`
	} `json:"agents"`
}

var errManyAgents = errors.New("tokensource: request dispatches more than one agent")

// decodeRequest is the inverse of encodeRequest, used by Handler.
func decodeRequest(body []byte) (Options, error) {
	var o Options
	if len(bytes.TrimSpace(body)) == 0 {
		return o, nil
	}
	var w wireRequestIn
	if err := json.Unmarshal(body, &w); err != nil {
		return o, fmt.Errorf("tokensource: malformed request body: %w", err)
	}
	o.RoomName = first(w.RoomName, w.RoomNameCamel)
	o.ParticipantName = first(w.ParticipantName, w.ParticipantNameCamel)
	o.ParticipantIdentity = first(w.ParticipantIdentity, w.ParticipantIdentityCamel)
	o.ParticipantMetadata = first(w.ParticipantMetadata, w.ParticipantMetadataCamel)
	o.ParticipantAttributes = w.ParticipantAttributes
	if len(o.ParticipantAttributes) == 0 {
		o.ParticipantAttributes = w.ParticipantAttributesCamel
	}
	if len(o.ParticipantAttributes) == 0 {
		o.ParticipantAttributes = nil
	}
	rc := w.RoomConfig
	if rc == nil {
		rc = w.RoomConfigCamel
	}
	if rc != nil {
		switch len(rc.Agents) {
		case 0:
		case 1:
			a := rc.Agents[0]
			o.AgentName = first(a.AgentName, a.AgentNameCamel)
			o.AgentMetadata = a.Metadata
			o.AgentDeployment = a.Deployment
		default:
			return o, errManyAgents
		}
	}
	return o, nil
}

type wireResponse struct {
	ServerURL        string `json:"server_url,omitempty"`
	ParticipantToken string `json:"participant_token,omitempty"`
	ParticipantName  string `json:"participant_name,omitempty"`
	RoomName         string `json:"room_name,omitempty"`
}

// wireResponseIn reads snake_case keys and falls back, field by field, to
// the camelCase keys older token servers send. Unknown keys are ignored.
type wireResponseIn struct {
	ServerURL             string `json:"server_url"`
	ServerURLCamel        string `json:"serverUrl"`
	ParticipantToken      string `json:"participant_token"`
	ParticipantTokenCamel string `json:"participantToken"`
	ParticipantName       string `json:"participant_name"`
	ParticipantNameCamel  string `json:"participantName"`
	RoomName              string `json:"room_name"`
	RoomNameCamel         string `json:"roomName"`
}

// errMalformedResponse wraps JSON errors. encoding/json's messages describe
// types and offsets, never the values, so no token can leak through them.
var errMalformedResponse = errors.New("tokensource: malformed token endpoint response")

// decodeResponse parses and validates a token endpoint response body.
func decodeResponse(body []byte) (Response, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Response{}, fmt.Errorf("%w: not a JSON object", errMalformedResponse)
	}
	var w wireResponseIn
	if err := json.Unmarshal(trimmed, &w); err != nil {
		return Response{}, fmt.Errorf("%w: %v", errMalformedResponse, scrubJSONError(err))
	}
	r := Response{
		ServerURL:        first(w.ServerURL, w.ServerURLCamel),
		ParticipantToken: first(w.ParticipantToken, w.ParticipantTokenCamel),
		ParticipantName:  first(w.ParticipantName, w.ParticipantNameCamel),
		RoomName:         first(w.RoomName, w.RoomNameCamel),
	}
	return r.checked()
}

// scrubJSONError keeps the kind of a JSON error but drops anything that could
// quote the input.
func scrubJSONError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at offset %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q has JSON type %s", te.Field, te.Value)
	}
	return "invalid JSON"
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// maxRequestBytes bounds what Handler reads from a request.
const maxRequestBytes = 64 << 10

// Handler serves the token endpoint contract on top of src: it decodes the
// JSON request body (snake_case, camelCase accepted; an empty body means no
// options), calls src.Fetch with the request's context and answers 200 with
// a snake_case JSON body. Any method is accepted, since some clients send the
// body with GET.
//
// A request it cannot decode gets 400. When src fails with an error that
// wraps an *HTTPError with a 4xx status, that status is passed through, so a
// source can refuse options it does not allow; any other failure is a 500.
// Error bodies are {"error": "<status text>"} and never include src's error,
// which might carry details meant for the server's own logs.
func Handler(src Configurable) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
		if err != nil {
			writeJSONError(w, http.StatusBadRequest)
			return
		}
		if len(body) > maxRequestBytes {
			writeJSONError(w, http.StatusRequestEntityTooLarge)
			return
		}
		opts, err := decodeRequest(body)
		if err != nil {
			writeJSONError(w, http.StatusBadRequest)
			return
		}
		resp, err := src.Fetch(r.Context(), opts)
		if err == nil {
			resp, err = resp.checked()
		}
		if err != nil {
			status := http.StatusInternalServerError
			var he *HTTPError
			if errors.As(err, &he) && he.StatusCode >= 400 && he.StatusCode < 500 {
				status = he.StatusCode
			}
			writeJSONError(w, status)
			return
		}
		b, _ := json.Marshal(wireResponse(resp))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	})
}

func writeJSONError(w http.ResponseWriter, status int) {
	b, _ := json.Marshal(map[string]string{"error": http.StatusText(status)})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
