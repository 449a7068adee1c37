package gateway_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/csvmesh/csvmesh/services/gateway"
)

// TestServe checks the graceful shutdown: a request in flight when the
// shutdown starts finishes within the drain, and one that outlasts the drain
// is cut off (its context is cancelled) so that Serve returns.
func TestServe(t *testing.T) {
	tests := []struct {
		name string
		// finish says whether the handler finishes by itself once the
		// shutdown has started; if not, only the end of the drain ends it.
		finish   bool
		drain    time.Duration
		wantBody string // "" when the response must be cut off
	}{
		{name: "in-flight request completes", finish: true, drain: time.Minute, wantBody: "done"},
		{name: "request outlasting the drain is cut off", finish: false, drain: 10 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			started := newSignal()
			release := newSignal()
			handlerCtxDone := make(chan struct{})
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusOK)
				http.NewResponseController(w).Flush()
				started.fire()
				select {
				case <-release.C:
					io.WriteString(w, "done")
				case <-r.Context().Done():
					close(handlerCtxDone)
				}
			})
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(t.Context())
			defer stop()
			served := make(chan error, 1)
			srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Minute}
			shutdownStarted := newSignal()
			srv.RegisterOnShutdown(shutdownStarted.fire)
			go func() { served <- gateway.Serve(ctx, srv, lis, tc.drain) }()

			resp, err := http.Get("http://" + lis.Addr().String() + "/")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			<-started.C
			stop() // begin the shutdown with the request in flight
			if tc.finish {
				<-shutdownStarted.C
				release.fire()
			}
			body, readErr := io.ReadAll(resp.Body)
			if err := <-served; err != nil {
				t.Errorf("Serve = %v, want nil after shutdown", err)
			}
			if tc.wantBody != "" {
				if readErr != nil || string(body) != tc.wantBody {
					t.Errorf("body %q, %v; want %q", body, readErr, tc.wantBody)
				}
				return
			}
			if readErr == nil {
				t.Errorf("body %q read to the end; want the response cut off", body)
			}
			<-handlerCtxDone
		})
	}
}
