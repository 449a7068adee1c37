package main

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// exportEnv lists the environment variables that ask for span export.
// Without one of them csvctl exports nothing: autoexport would otherwise
// default to OTLP on localhost and complain on every laptop without a
// collector.
var exportEnv = []string{"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"}

// setupTracing returns the tracer provider of this run and the function that
// flushes and stops it. Spans are always recorded, so calls carry a valid W3C
// traceparent and the server's work joins the client's trace; they are
// exported only when the environment asks for it. A broken exporter
// configuration is reported and tracing continues without export: tracing
// never stops the command.
func (a *app) setupTracing(ctx context.Context) (trace.TracerProvider, func(context.Context) error) {
	if a.tracerProvider != nil {
		return a.tracerProvider, func(context.Context) error { return nil }
	}
	service := "csvctl"
	if v := a.getenv("OTEL_SERVICE_NAME"); v != "" {
		service = v
	}
	res, err := resource.New(ctx,
		resource.WithFromEnv(),
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", service)),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		fmt.Fprintf(a.stderr, "csvctl: tracing resource: %v\n", err)
		res = resource.Default()
	}
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
	}
	if a.exportRequested() {
		exp, err := autoexport.NewSpanExporter(ctx)
		switch {
		case err != nil:
			fmt.Fprintf(a.stderr, "csvctl: tracing exporter (spans will not be exported): %v\n", err)
		case !autoexport.IsNoneSpanExporter(exp):
			opts = append(opts, sdktrace.WithBatcher(exp))
		}
	}
	tp := sdktrace.NewTracerProvider(opts...)
	return tp, tp.Shutdown
}

// exportRequested reports whether the environment asks for span export.
func (a *app) exportRequested() bool {
	for _, k := range exportEnv {
		if a.getenv(k) != "" {
			return true
		}
	}
	return false
}
