package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Handler serves GET /liveness and /readiness, Felix's endpoints. The
// optional query parameter group (felix, bgp, node) narrows the check to
// one group's components. 200 when healthy, 503 otherwise; the body is the
// JSON Status.
func Handler(a *Aggregator) http.Handler {
	mux := http.NewServeMux()
	serve := func(liveness bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			group := r.URL.Query().Get("group")
			st := a.Status(group)
			ok := st.Ready
			if liveness {
				ok = st.Live
			}
			w.Header().Set("Content-Type", "application/json")
			if !ok {
				w.Header().Set("X-Health-Problem", st.Problem(liveness, group))
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			_ = json.NewEncoder(w).Encode(st)
		}
	}
	mux.HandleFunc("GET /liveness", serve(true))
	mux.HandleFunc("GET /readiness", serve(false))
	return mux
}

// Server is the health HTTP server.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Listen binds the health endpoint on addr (host:port; port 0 picks one).
func Listen(addr string, a *Aggregator) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("health endpoint %s: %w; set FELIX_HEALTHPORT / FELIX_HEALTHHOST to a free address", addr, err)
	}
	return &Server{ln: ln, srv: &http.Server{Handler: Handler(a), ReadHeaderTimeout: 5 * time.Second}}, nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve answers probes until ctx ends.
func (s *Server) Serve(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = s.srv.Shutdown(sctx)
		case <-done:
		}
	}()
	err := s.srv.Serve(s.ln)
	close(done)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
