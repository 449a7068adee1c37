package grpcx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// startServer serves srv on a bufconn listener until the returned cancel is
// called; done is closed when Serve returns.
func startServer(t *testing.T, srv *grpc.Server, drain time.Duration) (*grpc.ClientConn, context.CancelFunc, chan error) {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, srv, lis, drain, "test.Service") }()
	conn, err := Dial("passthrough:///bufnet", ClientConfig{},
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
	})
	return conn, cancel, done
}

func TestServeRegistersHealthAndReflection(t *testing.T) {
	conn, cancel, done := startServer(t, NewServer(ServerConfig{}), time.Second)
	ctx := context.Background()
	for _, name := range []string{"", "test.Service"} {
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: name})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health %q = %v, %v; want SERVING", name, resp, err)
		}
	}
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	if !strings.Contains(strings.Join(names, ","), "grpc.health.v1.Health") {
		t.Errorf("reflection lists %v, want the health service", names)
	}
	stream.CloseSend()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after shutdown = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context was cancelled")
	}
}

// TestShutdownCutsStreamsAfterDrain checks that a stream that never ends is
// cut once the drain deadline passes, so shutdown cannot hang.
func TestShutdownCutsStreamsAfterDrain(t *testing.T) {
	conn, cancel, done := startServer(t, NewServer(ServerConfig{}), 200*time.Millisecond)
	// Health Watch is a stream that stays open until the server goes away.
	w, err := healthpb.NewHealthClient(conn).Watch(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return: the open stream was not cut after the drain deadline")
	}
	for {
		if _, err := w.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				t.Fatal("stream ended cleanly, want it cut")
			}
			break
		}
	}
}

func TestRecoverTurnsPanicIntoInternal(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	srv := NewServer(ServerConfig{Logger: log})
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "test.Panicker",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Panic",
			Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
				in := new(healthpb.HealthCheckRequest)
				if err := dec(in); err != nil {
					return nil, err
				}
				h := func(ctx context.Context, req any) (any, error) { panic("boom") }
				return icpt(ctx, in, &grpc.UnaryServerInfo{FullMethod: "/test.Panicker/Panic"}, h)
			},
		}},
	}, struct{}{})
	conn, _, _ := startServer(t, srv, time.Second)
	err := conn.Invoke(context.Background(), "/test.Panicker/Panic", &healthpb.HealthCheckRequest{}, new(healthpb.HealthCheckResponse))
	if status.Code(err) != codes.Internal || strings.Contains(status.Convert(err).Message(), "boom") {
		t.Errorf("panicking handler = %v, want Internal without the panic text", err)
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Errorf("the panic was not logged: %s", logs.String())
	}
}

func TestMessageLimits(t *testing.T) {
	srv := NewServer(ServerConfig{MaxRecvBytes: 1024})
	conn, _, _ := startServer(t, srv, time.Second)
	big := &healthpb.HealthCheckRequest{Service: strings.Repeat("x", 2048)}
	_, err := healthpb.NewHealthClient(conn).Check(context.Background(), big)
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("a 2 KiB request to a 1 KiB server = %v, want ResourceExhausted", err)
	}
}
