// Command csvctl is the command-line client of csvmesh's ingest service: it
// uploads CSV files, follows and inspects their jobs, prints their
// statistical reports and downloads their artifacts.
//
// Usage:
//
//	csvctl [global flags] <command> [flags] [arguments]
//
//	csvctl upload [--schema FILE] [--delimiter C] [--idempotency-key K] [--no-sha] [--follow] [--chunk-size SIZE] FILE
//	csvctl watch [--reconnects N] JOB
//	csvctl get [-o table|json] JOB
//	csvctl list [--page-size N] [--page-token T] [--all] [-o table|json]
//	csvctl cancel JOB
//	csvctl report [-o table|json] [--width N] JOB
//	csvctl download [-o FILE] JOB ARTIFACT
//	csvctl help [command]
//
// Global flags (accepted before or after the command):
//
//	--addr HOST:PORT        ingest's gRPC address; default $CSVCTL_ADDR, else 127.0.0.1:50051
//	--timeout DURATION      deadline of each unary call (get, list, cancel, report); default 30s, 0 for none
//	--max-message-size SIZE largest gRPC message sent or received; default 8MiB
//
// JOB is a job's resource name, `jobs/abc`, or just its id, `abc`. ARTIFACT
// is one of source, normalized, rejects or report. SIZE is a byte count with
// an optional unit: B, K/KiB, M/MiB, G/GiB (powers of 1024) or KB, MB, GB
// (powers of 1000).
//
// The schema file of upload is the JSON form (protojson) of
// csvmesh.type.v1.Schema, for example
//
//	{"fields": [{"name": "price", "type": "FIELD_TYPE_NUMBER", "required": true}]}
//
// where a type may also be written short and in any case: string (or text),
// integer (or int), number (or float, double, decimal), boolean (or bool),
// date, datetime (or timestamp).
//
// Exit codes:
//
//	0    success; for watch and upload --follow: the job SUCCEEDED
//	1    the command failed (RPC error, file error, invalid input)
//	2    usage error (unknown command or flag, wrong arguments)
//	3    watch / upload --follow: the job FAILED
//	4    watch / upload --follow: the job was CANCELLED
//	130  interrupted (Ctrl-C or SIGTERM); an upload in flight is cancelled
//
// Tracing: every run is one trace whose root span is "csvctl <command>"; the
// W3C trace context is sent with every call, so an upload's trace starts in
// the client. Spans are exported only when OTEL_TRACES_EXPORTER,
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set
// (see go.opentelemetry.io/contrib/exporters/autoexport), and flushed on exit.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, restore the default behaviour so that a
		// second Ctrl-C kills csvctl at once.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
