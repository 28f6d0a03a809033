//go:build !unix

package fcruntime

import (
	"os"
	"sync/atomic"
)

// pipeSys on systems without the poller's raw reads: lines are read as they come, and
// sync cannot guarantee that earlier output has been passed on.
type pipeSys struct {
	running atomic.Bool
}

func (s *pipeSys) init(*os.File) error { return nil }

func (s *pipeSys) started() bool { return s.running.Load() }

func (p *logPipe) run() {
	p.sys.running.Store(true)
	defer close(p.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := p.f.Read(buf)
		p.mu.Lock()
		if n > 0 {
			p.consume(buf[:n])
		}
		if err != nil {
			p.flush()
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
}

func (p *logPipe) sync() {}
