package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func TestLoggerAddsTraceAndAttrs(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, "ingest", slog.LevelInfo)
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	ctx, span := tp.Tracer("test").Start(context.Background(), "op")
	defer span.End()
	ctx = WithAttrs(ctx, slog.String("job", "abc"))
	ctx = WithAttrs(ctx, slog.Int("attempt", 2))

	log.InfoContext(ctx, "hello", "k", "v")
	log.Info("no context")
	log.DebugContext(ctx, "below the level")

	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), buf.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal(lines[0], &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(lines[1], &second); err != nil {
		t.Fatal(err)
	}
	sc := span.SpanContext()
	want := map[string]any{
		"msg": "hello", "service": "ingest", "job": "abc", "attempt": float64(2), "k": "v",
		"trace_id": sc.TraceID().String(), "span_id": sc.SpanID().String(),
	}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("line 1 %s = %v, want %v (%s)", k, first[k], v, lines[0])
		}
	}
	if _, ok := second["trace_id"]; ok {
		t.Errorf("a line without a span has a trace_id: %s", lines[1])
	}
	if second["service"] != "ingest" {
		t.Errorf("line 2 has no service: %s", lines[1])
	}
}

func TestTraceparentRoundTrip(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	ctx, span := tp.Tracer("test").Start(context.Background(), "upload")
	defer span.End()
	tpHeader := Traceparent(ctx)
	if tpHeader == "" {
		t.Fatal("no traceparent for a recording span")
	}
	restored := ContextWithTraceparent(context.Background(), tpHeader)
	sc := trace.SpanContextFromContext(restored)
	if sc.TraceID() != span.SpanContext().TraceID() || sc.SpanID() != span.SpanContext().SpanID() || !sc.IsRemote() {
		t.Errorf("restored %v, want the span %v as a remote parent", sc, span.SpanContext())
	}
	if got := Traceparent(context.Background()); got != "" {
		t.Errorf("Traceparent without a span = %q, want empty", got)
	}
	if got := ContextWithTraceparent(context.Background(), "garbage"); trace.SpanContextFromContext(got).IsValid() {
		t.Error("a malformed traceparent produced a valid span context")
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn,
		"warning": slog.LevelWarn, "error": slog.LevelError, "bogus": slog.LevelInfo,
	} {
		if got := ParseLevel(in); got != want {
			t.Errorf("ParseLevel(%q) = %v, want %v", in, got, want)
		}
	}
}
