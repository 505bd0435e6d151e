// Package agent runs LiveKit agent workers over the native engine: a Worker registers with
// livekit-server over a WebSocket (<server>/agent, binary protobuf, LiveKit's
// livekit_agent.proto), the server dispatches jobs to it, and the worker joins each job's
// room through the livekit package and hands it to your Entrypoint. One process runs many
// jobs; many processes (on one machine or many, behind one server or a Redis cluster) share
// the load, which each worker reports.
//
// Dispatch: a worker without an AgentName gets every new room (automatic dispatch). A
// worker with one gets only the rooms that ask for it: a participant's token that names the
// agent (tokensource.Options.AgentName, room_config.agents; it dispatches when that join
// creates the room), or a backend's call to the server API (DispatchClient.CreateDispatch).
// The dispatch's metadata reaches the job (JobInfo.Metadata).
//
//	w, err := agent.NewWorker(agent.Options{
//		URL: "ws://127.0.0.1:7880", APIKey: key, APISecret: secret, AgentName: "echo",
//		Entrypoint: func(ctx context.Context, job *agent.Job) error {
//			job.Logger().Info("joined", "room", job.Room.Name())
//			<-ctx.Done() // the server ended the job, the room closed, or the worker stops
//			return nil
//		},
//	})
//	go func() { <-sigterm; w.Drain(drainCtx) }() // finish running jobs, take no more
//	err = w.Run(ctx)
//
// Lifecycle of a job: the server offers it (RequestHandler: Accept with the identity, name,
// metadata and attributes to join with, or Decline; the default accepts); the server
// assigns it with a token; the worker connects the room, reports the job running and calls
// Entrypoint; when Entrypoint returns the room is closed and the job reported successful
// (nil) or failed (an error or a panic, which never take the worker down).
//
// The worker reconnects with backoff and jitter when it loses the server, and re-registers;
// running jobs are not touched by that (their rooms follow the engine's own reconnect
// rules). Snapshot, Var (expvar) and HealthHandler show its state.
package agent
