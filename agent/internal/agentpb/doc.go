// Package agentpb holds the Go types of LiveKit's agent worker protocol (livekit_agent.proto,
// livekit_agent_dispatch.proto and the models they use), generated from the livekit/protocol
// release that the pinned livekit-server requires (version.env), pruned to what the worker and
// the dispatch API use. Regenerate with scripts/gen-agent-proto.sh; --check fails on drift.
//
// The protobuf package is renamed (lkgo.livekit) so that a program may also link
// github.com/livekit/protocol without a registration conflict; the wire format is unchanged.
package agentpb
