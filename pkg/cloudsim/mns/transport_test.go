package mns_test

import (
	"bufio"
	"fmt"
	"net"
	"sync/atomic"

	"github.com/valyala/fasthttp"
)

// loopback is a fasthttp.RoundTripper that sends every request, whatever its Host, to
// one loopback address, one connection per request. The SDK keeps the real endpoint
// name in the Host header, which is how the emulated MNS tells accounts and regions
// apart. (v1.0.11 stores SetProxy's URL but never uses it; SetTransport works.)
type loopback struct {
	addr   string
	dialed *atomic.Int64
}

func (l loopback) RoundTrip(_ *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (bool, error) {
	conn, err := net.Dial("tcp", l.addr)
	if err != nil {
		return false, fmt.Errorf("dial %s: %w", l.addr, err)
	}
	defer conn.Close()
	l.dialed.Add(1)
	bw := bufio.NewWriter(conn)
	if err := req.Write(bw); err != nil {
		return false, fmt.Errorf("write request: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return false, fmt.Errorf("flush request: %w", err)
	}
	if err := resp.Read(bufio.NewReader(conn)); err != nil {
		return false, fmt.Errorf("read response: %w", err)
	}
	return false, nil
}
