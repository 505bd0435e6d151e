package agent

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/livekit-ffi-go/sdk/agent/internal/agentpb"
	"github.com/livekit-ffi-go/sdk/livekit"
)

// handle acts on one message from the server. It never blocks on user code or the network:
// offers and jobs run on goroutines of their own. A message that does not decode, or names
// no job, is logged and dropped.
func (w *Worker) handle(c conn, b []byte) {
	var m agentpb.ServerMessage
	if err := proto.Unmarshal(b, &m); err != nil {
		w.mu.Lock()
		w.counts.MalformedMessages++
		w.mu.Unlock()
		w.log.Warn("agent: dropped a server message that does not decode", "bytes", len(b), "error", err)
		return
	}
	switch x := m.Message.(type) {
	case *agentpb.ServerMessage_Availability:
		if x.Availability.GetJob().GetId() == "" {
			w.log.Warn("agent: dropped a job offer without a job id")
			return
		}
		id := x.Availability.GetJob().GetId()
		w.mu.Lock()
		_, running := w.jobs[id]
		_, waiting := w.pending[id]
		full, _ := w.capacityLocked()
		take := !running && !waiting && !full
		// The offer holds a slot from now on, so concurrent offers cannot overshoot MaxJobs.
		w.deciding++
		w.mu.Unlock()
		go w.answer(c, x.Availability, take)
	case *agentpb.ServerMessage_Assignment:
		w.assign(x.Assignment)
	case *agentpb.ServerMessage_Termination:
		w.terminate(x.Termination.GetJobId())
	case *agentpb.ServerMessage_Pong, *agentpb.ServerMessage_Register:
		// Any message proves the connection alive; a second registration answer says nothing new.
	default:
		w.log.Debug("agent: ignored a server message of an unknown kind", "bytes", len(b))
	}
}

// answer decides on an offer (handle took its slot; take is false when the worker already
// has the job, is full or is draining) and replies on c.
func (w *Worker) answer(c conn, req *agentpb.AvailabilityRequest, take bool) {
	info := jobInfo(req.GetJob())
	log := w.log.With("job_id", info.ID, "room", info.Room.Name)
	var acc *AcceptOptions
	if take {
		r := &JobRequest{Info: info, Resuming: req.GetResuming()}
		w.decide(r, log)
		acc, _ = r.result()
	} else {
		log.Info("agent: declined a job offer: the worker has it already, is full or is draining")
	}

	w.mu.Lock()
	w.deciding--
	if acc != nil && (w.closed || w.draining) {
		acc = nil
	}
	if acc != nil {
		p := &pendingJob{info: info, accept: *acc}
		p.timer = time.AfterFunc(assignmentTimeout, func() { w.assignmentTimedOut(info.ID, p) })
		w.pending[info.ID] = p
	} else {
		w.counts.JobsDeclined++
	}
	w.notifyLocked()
	w.mu.Unlock()

	resp := &agentpb.AvailabilityResponse{JobId: info.ID, Available: acc != nil}
	if acc != nil {
		resp.ParticipantIdentity, resp.ParticipantName = acc.Identity, acc.Name
		resp.ParticipantMetadata, resp.ParticipantAttributes = acc.Metadata, acc.Attributes
		log.Info("agent: accepted a job", "identity", acc.Identity, "dispatch_id", info.DispatchID, "job_type", info.Type.String())
	}
	w.send(c, &agentpb.WorkerMessage{Message: &agentpb.WorkerMessage_Availability{Availability: resp}})
	w.sendStatus()
}

// decide runs the request handler (or the default, which accepts) with the server's
// deadline; a panic declines.
func (w *Worker) decide(r *JobRequest, log interface {
	Error(string, ...any)
	Warn(string, ...any)
}) {
	if w.opts.RequestHandler == nil {
		r.Accept(AcceptOptions{})
		return
	}
	ctx, cancel := context.WithTimeout(w.jobsCtx, availabilityTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			log.Error("agent: the request handler panicked; declining the job", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			r.Decline()
		}
	}()
	w.opts.RequestHandler(ctx, r)
	if _, answered := r.result(); !answered {
		log.Warn("agent: the request handler answered neither Accept nor Decline; declining the job")
	}
}

func (w *Worker) assignmentTimedOut(id string, p *pendingJob) {
	w.mu.Lock()
	if w.pending[id] != p {
		w.mu.Unlock()
		return
	}
	delete(w.pending, id)
	w.notifyLocked()
	w.mu.Unlock()
	w.log.Warn("agent: an accepted job was never assigned", "job_id", id, "waited", assignmentTimeout)
	w.sendStatus()
}

// assign starts a job the worker accepted.
func (w *Worker) assign(a *agentpb.JobAssignment) {
	id := a.GetJob().GetId()
	w.mu.Lock()
	p := w.pending[id]
	if p == nil {
		w.mu.Unlock()
		w.log.Warn("agent: ignored the assignment of a job this worker did not accept", "job_id", id)
		return
	}
	p.timer.Stop()
	delete(w.pending, id)
	if w.closed {
		w.mu.Unlock()
		return
	}
	j := &runningJob{info: p.info, accept: p.accept, started: w.now()}
	j.ctx, j.cancel = context.WithCancelCause(w.jobsCtx)
	w.jobs[id] = j
	w.counts.JobsStarted++
	w.jobsWG.Add(1)
	w.notifyLocked()
	w.mu.Unlock()

	url := w.url
	if u := a.GetUrl(); u != "" {
		url = u
	}
	go w.run(j, url, a.GetToken())
}

// terminate ends a job on the server's word.
func (w *Worker) terminate(id string) {
	w.mu.Lock()
	j := w.jobs[id]
	if p := w.pending[id]; p != nil {
		p.timer.Stop()
		delete(w.pending, id)
		w.notifyLocked()
	}
	w.mu.Unlock()
	if j != nil {
		w.log.Info("agent: the server terminated a job", "job_id", id)
		j.cancel(ErrJobTerminated)
	}
}

// run connects the job's room, runs Entrypoint and releases everything.
func (w *Worker) run(j *runningJob, url, token string) {
	defer w.jobsWG.Done()
	log := w.log.With("job_id", j.info.ID, "room", j.info.Room.Name)
	opts := append([]livekit.ConnectOption{livekit.WithLogger(log), livekit.WithOtherSDKs("agents-go:" + Version)}, w.opts.RoomOptions...)
	room, jr, err := w.connectRoom(j.ctx, url, token, opts...)
	if err != nil {
		log.Error("agent: could not connect the job's room", "error", err)
		w.finish(j, JobFailed, "connect to the room: "+err.Error(), log)
		return
	}
	w.send(nil, jobStatus(j.info.ID, agentpb.JobStatus_JS_RUNNING, ""))
	log.Info("agent: job running", "identity", j.accept.Identity, "url", url)

	go func() {
		select {
		case <-jr.Done():
			j.cancel(ErrRoomDisconnected)
		case <-j.ctx.Done():
		}
	}()

	job := &Job{Info: j.info, Accepted: j.accept, Room: room, URL: url, logger: log}
	result := make(chan error, 1)
	go func() { result <- w.callEntrypoint(j.ctx, job, log) }()
	var abandoned bool
	select {
	case err = <-result:
	case <-j.ctx.Done():
		select {
		case err = <-result:
		case <-time.After(w.opts.ShutdownGrace):
			abandoned = true
			err = fmt.Errorf("the entrypoint did not return within %v after its context ended (%v)", w.opts.ShutdownGrace, context.Cause(j.ctx))
			log.Error("agent: abandoning a job whose entrypoint does not return", "error", err)
		}
	}
	cause := context.Cause(j.ctx)
	j.cancel(nil)
	if cerr := jr.Close(); cerr != nil {
		log.Debug("agent: closing the job's room", "error", cerr)
	}
	switch {
	case abandoned:
		w.finish(j, JobFailed, err.Error(), log)
	case err == nil,
		cause != nil && (errors.Is(err, context.Canceled) || errors.Is(err, cause)):
		w.finish(j, JobSuccess, "", log)
	default:
		w.finish(j, JobFailed, err.Error(), log)
	}
}

// callEntrypoint runs Entrypoint; a panic becomes an error.
func (w *Worker) callEntrypoint(ctx context.Context, job *Job, log interface{ Error(string, ...any) }) (err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("agent: the entrypoint panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("entrypoint panicked: %v", p)
		}
	}()
	return w.opts.Entrypoint(ctx, job)
}

func (w *Worker) finish(j *runningJob, st JobStatus, msg string, log interface{ Info(string, ...any) }) {
	w.mu.Lock()
	delete(w.jobs, j.info.ID)
	if st == JobSuccess {
		w.counts.JobsSucceeded++
	} else {
		w.counts.JobsFailed++
	}
	w.notifyLocked()
	w.mu.Unlock()
	ps := agentpb.JobStatus_JS_SUCCESS
	if st == JobFailed {
		ps = agentpb.JobStatus_JS_FAILED
	}
	w.send(nil, jobStatus(j.info.ID, ps, msg))
	w.sendStatus()
	log.Info("agent: job ended", "status", st.String(), "error", msg, "ran", w.now().Sub(j.started).Round(time.Millisecond))
}

func jobStatus(id string, st agentpb.JobStatus, msg string) *agentpb.WorkerMessage {
	return &agentpb.WorkerMessage{Message: &agentpb.WorkerMessage_UpdateJob{UpdateJob: &agentpb.UpdateJobStatus{
		JobId: id, Status: st, Error: clip(msg),
	}}}
}
