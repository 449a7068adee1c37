// Command csvctl is the command-line client of csvmesh's ingest service: it
// uploads CSV files, follows and inspects their jobs, prints their
// statistical reports and downloads their artifacts.
//
// Usage:
//
//	csvctl [global flags] <command> [flags] [arguments]
//
//	csvctl upload [--schema FILE] [dialect flags] [validation flags]
//	              [--idempotency-key K] [--no-sha] [--follow] [--chunk-size SIZE] FILE
//	csvctl watch [--reconnects N] JOB
//	csvctl get [-o table|json] JOB
//	csvctl list [--page-size N] [--page-token T] [--all] [-o table|json]
//	csvctl cancel JOB
//	csvctl report [-o table|json] [--width N] JOB
//	csvctl schema JOB
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
// is one of source, normalized, parquet, rejects, schema, errors or report.
// SIZE is a byte count with an optional unit: B, K/KiB, M/MiB, G/GiB (powers
// of 1024) or KB, MB, GB (powers of 1000).
//
// The schema file of upload is a Frictionless Table Schema in JSON, at most
// 1 MiB, for example
//
//	{"fields": [{"name": "id", "type": "integer", "constraints": {"required": true}},
//	            {"name": "price", "type": "number"}],
//	 "primaryKey": ["id"]}
//
// A file that is not one JSON object is refused before the upload with exit
// code 2; the server checks the schema itself. Without --schema the schema
// is inferred from the whole file; `csvctl schema JOB` prints a job's schema
// (its schema.json artifact), to be edited and sent back with --schema.
//
// Dialect flags of upload (unset ones are detected from the file):
//
//	--delimiter C           field delimiter, one character or \t
//	--quote-char C          quote character (default ")
//	--escape-char C         character escaping a quote inside quotes (default none)
//	--no-double-quote       a quote inside quotes is not written twice
//	--header-rows N         header rows; 0 for none (default 1)
//	--skip-initial-space    ignore spaces right after a delimiter
//	--comment-prefix TEXT   skip lines starting with TEXT
//	--encoding NAME         utf-8, utf-8-sig, utf-16le, utf-16be, windows-1252 or iso-8859-1
//
// Validation flags of upload:
//
//	--max-invalid-rows N    fail the job when more than N rows are invalid
//	--max-invalid-ratio R   fail the job when a larger share of rows than R (0 to 1) is invalid
//	--error-sample-size N   row errors kept as a sample and streamed, up to 10000 (default 100)
//	--neutralize-formulas   prefix text cells starting with = + - @ with ' in the outputs
//
// Analysis flags of upload (what the report holds):
//
//	--percentiles P,P,...   percentiles as fractions, such as 0.1,0.5,0.9; the median is always added
//	--columns NAME,NAME,... analyze only these columns, names exactly as in the header
//
// get prints the job with the dialect given and the one used (given and
// detected), the schema (marked when inferred), the error total, the error
// counts as a table by type and field, the first row errors, the warnings
// and the artifacts. watch prints each row error as
//
//	row 7 (line 8, byte 312) field 4 "price" type-error: "12x" is not a number
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
