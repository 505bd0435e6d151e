//go:build !linux

package lkserver

import (
	"syscall"
	"time"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// waitStopped does not wait outside Linux.
func waitStopped(pid int, timeout time.Duration) error { return nil }
