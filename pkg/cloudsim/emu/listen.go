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
func Listen(h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
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
