//go:build unix

package fcruntime

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"
)

// pipeSys reads the pipe with non-blocking reads through the runtime poller, so that
// a read and the handling of what it returned happen under one lock.
type pipeSys struct {
	rc      syscall.RawConn
	running atomic.Bool
}

func (s *pipeSys) init(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	s.rc = rc
	return nil
}

func (s *pipeSys) started() bool { return s.running.Load() }

// run reads until end of file or close.
func (p *logPipe) run() {
	p.sys.running.Store(true)
	defer close(p.done)
	for {
		var stop bool
		err := p.sys.rc.Read(func(fd uintptr) bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			for {
				n, err := syscall.Read(int(fd), p.tmp)
				switch {
				case n > 0:
					p.consume(p.tmp[:n])
					return true
				case errors.Is(err, syscall.EINTR):
					continue
				case errors.Is(err, syscall.EAGAIN):
					return false // wait until readable
				default: // end of file, or an error
					stop = true
					return true
				}
			}
		})
		if err != nil || stop {
			p.mu.Lock()
			p.flush()
			p.mu.Unlock()
			return
		}
	}
}

// sync passes on every complete line already written to the pipe.
func (p *logPipe) sync() {
	_ = p.sys.rc.Control(func(fd uintptr) { // fails only when the pipe is closed
		p.mu.Lock()
		defer p.mu.Unlock()
		for {
			n, err := syscall.Read(int(fd), p.tmp)
			if n > 0 {
				p.consume(p.tmp[:n])
				continue
			}
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			return
		}
	})
}
