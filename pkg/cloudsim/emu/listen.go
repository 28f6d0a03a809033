package emu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Server is one emulated endpoint listening on loopback.
type Server struct {
	Addr string // host:port on 127.0.0.1
	srv  *http.Server
}

// Listen serves h on a free loopback port.
func Listen(h http.Handler) (*Server, error) { return ListenAt("127.0.0.1:0", h) }

// ListenAt serves h on addr (host:port), which must be a loopback address: the
// emulated cloud accepts any signature its keyring knows and is never for a network.
func ListenAt(addr string, h http.Handler) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("listen on %q: not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	s := &Server{Addr: ln.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(fmt.Sprintf("cloudsim: serve %s: %v", s.Addr, err))
		}
	}()
	return s, nil
}

// URL returns the endpoint as http://host:port.
func (s *Server) URL() string { return "http://" + s.Addr }

// Close stops the server.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}
