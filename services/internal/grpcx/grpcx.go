// Package grpcx is the one place where csvmesh assembles its gRPC servers and
// clients: message size limits, keepalive, OpenTelemetry stats handlers,
// panic recovery and access logs on the server side; reflection and
// grpc.health.v1 on every server; graceful shutdown with a drain deadline.
package grpcx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
)

// DefaultMaxMessageBytes is the default limit on one gRPC message in either
// direction: 8 MiB, enough for a 4 MiB upload chunk plus framing and for a
// large report, small enough to bound memory per stream.
const DefaultMaxMessageBytes = 8 << 20

// DefaultMaxConcurrentStreams is the default limit on concurrent calls on
// one connection (grpc-go's own default is unlimited).
const DefaultMaxConcurrentStreams = 256

// ServerConfig configures a gRPC server.
type ServerConfig struct {
	// MaxRecvBytes and MaxSendBytes limit one message; 0 means
	// DefaultMaxMessageBytes.
	MaxRecvBytes, MaxSendBytes int
	// MaxConcurrentStreams limits concurrent calls on one connection; 0 means
	// DefaultMaxConcurrentStreams.
	MaxConcurrentStreams uint32
	// Logger receives access logs and recovered panics; nil means slog.Default().
	Logger *slog.Logger
}

// NewServer returns a gRPC server with csvmesh's options: explicit message
// limits, keepalive, the otelgrpc server stats handler (which continues the
// caller's W3C trace context), panic recovery and access logs.
func NewServer(cfg ServerConfig, extra ...grpc.ServerOption) *grpc.Server {
	if cfg.MaxRecvBytes <= 0 {
		cfg.MaxRecvBytes = DefaultMaxMessageBytes
	}
	if cfg.MaxSendBytes <= 0 {
		cfg.MaxSendBytes = DefaultMaxMessageBytes
	}
	if cfg.MaxConcurrentStreams == 0 {
		cfg.MaxConcurrentStreams = DefaultMaxConcurrentStreams
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	opts := []grpc.ServerOption{
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.MaxRecvMsgSize(cfg.MaxRecvBytes),
		grpc.MaxSendMsgSize(cfg.MaxSendBytes),
		grpc.MaxConcurrentStreams(cfg.MaxConcurrentStreams),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 2 * time.Minute, Timeout: 20 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.ChainUnaryInterceptor(unaryRecover(log)),
		grpc.ChainStreamInterceptor(streamRecover(log)),
	}
	return grpc.NewServer(append(opts, extra...)...)
}

func unaryRecover(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		start := time.Now()
		defer func() {
			if r := recover(); r != nil {
				log.ErrorContext(ctx, "panic in handler", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
			logCall(ctx, log, info.FullMethod, start, err)
		}()
		return handler(ctx, req)
	}
}

func streamRecover(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		start := time.Now()
		defer func() {
			if r := recover(); r != nil {
				log.ErrorContext(ss.Context(), "panic in handler", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
			logCall(ss.Context(), log, info.FullMethod, start, err)
		}()
		return handler(srv, ss)
	}
}

func logCall(ctx context.Context, log *slog.Logger, method string, start time.Time, err error) {
	if method == "/grpc.health.v1.Health/Check" || method == "/grpc.health.v1.Health/Watch" {
		return
	}
	code := status.Code(err)
	level := slog.LevelInfo
	switch code {
	case codes.OK, codes.Canceled, codes.NotFound, codes.InvalidArgument, codes.FailedPrecondition,
		codes.AlreadyExists, codes.ResourceExhausted, codes.OutOfRange:
	default:
		level = slog.LevelError
	}
	attrs := []any{"method", method, "code", code.String(), "duration_ms", time.Since(start).Milliseconds()}
	if err != nil {
		attrs = append(attrs, "error", status.Convert(err).Message())
	}
	log.Log(ctx, level, "grpc call", attrs...)
}

// Serve registers reflection and grpc.health.v1 on srv (reporting SERVING for
// every name in services and for the server as a whole), serves lis until ctx
// is done, then stops gracefully: in-flight calls get drain to finish before
// the server is stopped hard. It returns nil after a shutdown requested
// through ctx.
func Serve(ctx context.Context, srv *grpc.Server, lis net.Listener, drain time.Duration, services ...string) error {
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	reflection.Register(srv)
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	for _, s := range services {
		hs.SetServingStatus(s, healthpb.HealthCheckResponse_SERVING)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		if err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("grpcx: serve %s: %w", lis.Addr(), err)
		}
		return nil
	case <-ctx.Done():
	}
	hs.Shutdown()
	done := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(done)
	}()
	t := time.NewTimer(drain)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		srv.Stop()
		<-done
	}
	<-errc
	return nil
}

// ClientConfig configures a gRPC client connection.
type ClientConfig struct {
	// MaxRecvBytes and MaxSendBytes limit one message; 0 means
	// DefaultMaxMessageBytes.
	MaxRecvBytes, MaxSendBytes int
}

// Dial returns a client connection to target (host:port or any gRPC target
// string) with the otelgrpc client stats handler, which injects the caller's
// W3C trace context, and explicit message limits. Connections are plaintext:
// csvmesh's services talk over loopback or a private network; put TLS in
// front (or add credentials with extra) elsewhere.
func Dial(target string, cfg ClientConfig, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	if cfg.MaxRecvBytes <= 0 {
		cfg.MaxRecvBytes = DefaultMaxMessageBytes
	}
	if cfg.MaxSendBytes <= 0 {
		cfg.MaxSendBytes = DefaultMaxMessageBytes
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(cfg.MaxRecvBytes),
			grpc.MaxCallSendMsgSize(cfg.MaxSendBytes),
		),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 2 * time.Minute, Timeout: 20 * time.Second}),
	}
	conn, err := grpc.NewClient(target, append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("grpcx: dial %s: %w", target, err)
	}
	return conn, nil
}
