package grpcx

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"google.golang.org/grpc/grpclog"
)

// SetLogger routes grpc-go's own log (connection errors, transport
// warnings) to log, so that every line a service writes is JSON. gRPC's
// informational chatter is logged at debug level.
func SetLogger(log *slog.Logger) {
	grpclog.SetLoggerV2(&slogGRPC{log: log.With(slog.String("component", "grpc"))})
}

type slogGRPC struct{ log *slog.Logger }

func (l *slogGRPC) out(level slog.Level, msg string) {
	l.log.Log(context.Background(), level, msg)
}

func (l *slogGRPC) Info(args ...any)   { l.out(slog.LevelDebug, fmt.Sprint(args...)) }
func (l *slogGRPC) Infoln(args ...any) { l.out(slog.LevelDebug, fmt.Sprint(args...)) }
func (l *slogGRPC) Infof(format string, args ...any) {
	l.out(slog.LevelDebug, fmt.Sprintf(format, args...))
}
func (l *slogGRPC) Warning(args ...any)   { l.out(slog.LevelWarn, fmt.Sprint(args...)) }
func (l *slogGRPC) Warningln(args ...any) { l.out(slog.LevelWarn, fmt.Sprint(args...)) }
func (l *slogGRPC) Warningf(format string, args ...any) {
	l.out(slog.LevelWarn, fmt.Sprintf(format, args...))
}
func (l *slogGRPC) Error(args ...any)   { l.out(slog.LevelError, fmt.Sprint(args...)) }
func (l *slogGRPC) Errorln(args ...any) { l.out(slog.LevelError, fmt.Sprint(args...)) }
func (l *slogGRPC) Errorf(format string, args ...any) {
	l.out(slog.LevelError, fmt.Sprintf(format, args...))
}
func (l *slogGRPC) Fatal(args ...any)   { l.out(slog.LevelError, fmt.Sprint(args...)); os.Exit(1) }
func (l *slogGRPC) Fatalln(args ...any) { l.out(slog.LevelError, fmt.Sprint(args...)); os.Exit(1) }
func (l *slogGRPC) Fatalf(format string, args ...any) {
	l.out(slog.LevelError, fmt.Sprintf(format, args...))
	os.Exit(1)
}

// V reports whether verbosity level v is enabled: only at debug level.
func (l *slogGRPC) V(v int) bool { return l.log.Enabled(context.Background(), slog.LevelDebug) }
