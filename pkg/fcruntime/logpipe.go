package fcruntime

import (
	"bytes"
	"os"
	"sync"
)

// maxLine caps a line; a longer one is passed on in pieces.
const maxLine = 1 << 20

// logPipe turns what a process writes to one pipe into lines. Reads and line handling
// happen under mu, so sync can drain the pipe and know that every byte written before
// it was called has been passed on.
type logPipe struct {
	f    *os.File
	emit func(line []byte)
	mu   sync.Mutex
	buf  []byte // a partial line
	tmp  []byte
	done chan struct{}
	sys  pipeSys
}

func newLogPipe(f *os.File, emit func([]byte)) (*logPipe, error) {
	p := &logPipe{f: f, emit: emit, tmp: make([]byte, 64<<10), done: make(chan struct{})}
	if err := p.sys.init(f); err != nil {
		return nil, err
	}
	return p, nil
}

// consume splits data into lines; p.mu must be held.
func (p *logPipe) consume(data []byte) {
	p.buf = append(p.buf, data...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		p.emitLine(p.buf[:i])
		p.buf = p.buf[i+1:]
	}
	for len(p.buf) >= maxLine {
		p.emitLine(p.buf[:maxLine])
		p.buf = p.buf[maxLine:]
	}
	if len(p.buf) == 0 {
		p.buf = nil // let a large buffer go
	}
}

func (p *logPipe) emitLine(line []byte) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	p.emit(append([]byte(nil), line...))
}

// flush passes on a last line without a newline; p.mu must be held.
func (p *logPipe) flush() {
	if len(p.buf) > 0 {
		p.emitLine(p.buf)
		p.buf = nil
	}
}

// close stops the reader and waits for it if it was started.
func (p *logPipe) close() {
	_ = p.f.Close()
	select {
	case <-p.done:
	default:
		if p.sys.started() {
			<-p.done
		}
	}
}
