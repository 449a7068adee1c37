// Package grpctest runs gRPC servers in memory for tests: over a bufconn
// listener, with client connections made the way csvmeshd makes them
// (grpcx.Dial: otelgrpc, explicit limits), everything cleaned up with
// t.Cleanup.
package grpctest

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/test/bufconn"

	"github.com/csvmesh/csvmesh/services/internal/grpcx"
)

// BufSize is the in-memory listener's buffer.
const BufSize = 1 << 20

// Listen serves srv on a new bufconn listener until the test ends (or srv
// is stopped earlier) and returns the listener.
func Listen(t testing.TB, srv *grpc.Server) *bufconn.Listener {
	t.Helper()
	return ListenBuffer(t, srv, BufSize)
}

// ListenBuffer is Listen with a listener buffer of size bytes; a small one
// makes flow control bite early, for tests of streaming under back-pressure.
func ListenBuffer(t testing.TB, srv *grpc.Server, size int) *bufconn.Listener {
	t.Helper()
	lis := bufconn.Listen(size)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-served
	})
	return lis
}

// Dial returns a client connection to lis, closed when the test ends.
func Dial(t testing.TB, lis *bufconn.Listener, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	opts = append([]grpc.DialOption{grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return lis.DialContext(ctx)
	})}, opts...)
	conn, err := grpcx.Dial("passthrough:///bufnet", grpcx.ClientConfig{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Serve serves srv in memory and returns a client connection to it.
func Serve(t testing.TB, srv *grpc.Server) *grpc.ClientConn {
	t.Helper()
	return Dial(t, Listen(t, srv))
}
