package lkserver

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

// proc is one run of a child process.
type proc struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	waitErr error         // valid after exited is closed
}

// startProc starts cmd and waits for it on one goroutine locked to its OS
// thread: Pdeathsig (Linux) fires when the thread that forked the child
// exits, so that thread must live exactly as long as the child. The
// goroutine never unlocks, so the thread ends with it, after the child has
// exited. enter, when set, runs first on that thread (e.g. to move it into a
// network namespace, which the child then inherits); onExit runs after the
// child has exited, before exited is closed.
func startProc(cmd *exec.Cmd, enter func() error, onExit func()) (*proc, error) {
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if enter != nil {
			if err := enter(); err != nil {
				started <- err
				return
			}
		}
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.waitErr = cmd.Wait()
		if onExit != nil {
			onExit()
		}
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

var errExited = errors.New("process has exited")

func (p *proc) signal(sig os.Signal) error {
	select {
	case <-p.exited:
		return errExited
	default:
	}
	return p.cmd.Process.Signal(sig)
}

// kill sends SIGKILL (it also ends a stopped process) and waits for the exit.
func (p *proc) kill() {
	_ = p.signal(syscall.SIGKILL)
	<-p.exited
}
