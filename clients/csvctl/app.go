package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
)

// Exit codes; see the package documentation.
const (
	exitOK           = 0
	exitError        = 1
	exitUsage        = 2
	exitJobFailed    = 3
	exitJobCancelled = 4
	exitInterrupted  = 130
)

// Defaults of the global flags and limits.
const (
	defaultAddr            = "127.0.0.1:50051"
	defaultTimeout         = 30 * time.Second
	defaultMaxMessageBytes = 8 << 20
	// defaultReconnects bounds how often watch resumes a broken event stream
	// in a row before giving up.
	defaultReconnects = 5
	// defaultReconnectDelay is the first pause before resuming a broken event
	// stream; it doubles on each consecutive attempt up to maxReconnectDelay.
	defaultReconnectDelay = 500 * time.Millisecond
	maxReconnectDelay     = 8 * time.Second
	// flushTimeout bounds how long csvctl waits on exit for spans to export.
	flushTimeout = 5 * time.Second
	// tracerName is the instrumentation scope of csvctl's own spans.
	tracerName = "github.com/csvmesh/csvmesh/clients/csvctl"
)

// app is one invocation of csvctl: its output streams, environment, global
// flags and the hooks tests replace.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	// stderrTTY reports whether stderr is a terminal, which decides whether
	// progress bars are drawn.
	stderrTTY bool
	// dialOptions are appended to the connection's options (tests dial a
	// bufconn listener through them).
	dialOptions []grpc.DialOption
	// tracerProvider, when set, is used instead of one built from the
	// environment; it is not shut down by the app.
	tracerProvider trace.TracerProvider
	// reconnectDelay is the first pause before watch resumes a broken stream.
	reconnectDelay time.Duration

	// Global flags.
	addr       string
	timeout    time.Duration
	maxMessage byteSize

	// tp is the tracer provider of this run, set by run.
	tp trace.TracerProvider
}

// run executes csvctl with args (without the program name) and returns the
// process exit code. It is main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return newApp(stdout, stderr).run(ctx, args)
}

// newApp returns an app writing to stdout and stderr, reading the process
// environment.
func newApp(stdout, stderr io.Writer) *app {
	return &app{
		stdout:         stdout,
		stderr:         stderr,
		getenv:         os.Getenv,
		now:            time.Now,
		stderrTTY:      isTerminal(stderr),
		reconnectDelay: defaultReconnectDelay,
	}
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}

// command describes one subcommand.
type command struct {
	name    string
	args    string // the positional arguments, for the usage line
	summary string // one line, for the command list
	details string // more paragraphs for `csvctl help <command>`
	nargs   int    // the exact number of positional arguments
	// setup defines the command's flags on fs and returns the function that
	// runs it with the positional arguments once fs is parsed.
	setup func(a *app, fs *flag.FlagSet) func(ctx context.Context, args []string) int
}

// commands lists csvctl's subcommands in the order help shows them.
func commands() []*command {
	return []*command{
		uploadCommand(),
		watchCommand(),
		getCommand(),
		listCommand(),
		cancelCommand(),
		reportCommand(),
		schemaCommand(),
		downloadCommand(),
	}
}

// lookupCommand returns the command called name, or nil.
func lookupCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// globalFlags defines the flags every command accepts on fs.
func (a *app) globalFlags(fs *flag.FlagSet) {
	fs.StringVar(&a.addr, "addr", a.addr, "ingest service `address` (host:port or a gRPC target); env CSVCTL_ADDR")
	fs.DurationVar(&a.timeout, "timeout", a.timeout, "deadline of each unary call (get, list, cancel, report); 0 means none")
	fs.Var(&a.maxMessage, "max-message-size", "largest gRPC message sent or received (`SIZE`)")
}

// run parses the global flags and the command line, sets up tracing, and
// runs the command inside the root span "csvctl <command>".
func (a *app) run(ctx context.Context, args []string) int {
	a.addr = defaultAddr
	if v := a.getenv("CSVCTL_ADDR"); v != "" {
		a.addr = v
	}
	a.timeout = defaultTimeout
	a.maxMessage = defaultMaxMessageBytes

	fs := flag.NewFlagSet("csvctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.globalFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.printUsage(a.stdout)
			return exitOK
		}
		return a.usageError(nil, err.Error())
	}
	rest := fs.Args()
	if len(rest) == 0 {
		a.printUsage(a.stderr)
		return exitUsage
	}
	name, args := rest[0], rest[1:]
	if name == "help" {
		return a.help(args)
	}
	c := lookupCommand(name)
	if c == nil {
		return a.usageError(nil, fmt.Sprintf("unknown command %q", name))
	}

	cfs := flag.NewFlagSet("csvctl "+c.name, flag.ContinueOnError)
	cfs.SetOutput(io.Discard)
	runCmd := c.setup(a, cfs)
	a.globalFlags(cfs)
	pos, err := parseInterleaved(cfs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.printCommandUsage(a.stdout, c, cfs)
			return exitOK
		}
		return a.usageError(c, err.Error())
	}
	if len(pos) != c.nargs {
		return a.usageError(c, fmt.Sprintf("want %d argument(s) (%s), got %d", c.nargs, c.args, len(pos)))
	}

	tp, shutdown := a.setupTracing(ctx)
	a.tp = tp
	defer func() {
		// Flush even when ctx was cancelled by Ctrl-C.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
		defer cancel()
		if err := shutdown(fctx); err != nil {
			fmt.Fprintf(a.stderr, "csvctl: flush traces: %v\n", err)
		}
	}()
	ctx, span := tp.Tracer(tracerName).Start(ctx, "csvctl "+c.name,
		trace.WithAttributes(attribute.String("server.address", a.addr)))
	code := runCmd(ctx, pos)
	span.SetAttributes(attribute.Int("csvctl.exit_code", code))
	if code != exitOK {
		span.SetStatus(otelcodes.Error, fmt.Sprintf("exit code %d", code))
	}
	span.End()
	return code
}

// help prints the usage of csvctl or of one command on stdout.
func (a *app) help(args []string) int {
	switch len(args) {
	case 0:
		a.printUsage(a.stdout)
		return exitOK
	case 1:
		c := lookupCommand(args[0])
		if c == nil {
			return a.usageError(nil, fmt.Sprintf("unknown command %q", args[0]))
		}
		fs := flag.NewFlagSet("csvctl "+c.name, flag.ContinueOnError)
		c.setup(a, fs)
		a.globalFlags(fs)
		a.printCommandUsage(a.stdout, c, fs)
		return exitOK
	default:
		return a.usageError(nil, "help takes at most one command")
	}
}

// usageHeader starts csvctl's help, before the command list.
const usageHeader = `csvctl is the command-line client of csvmesh's ingest service.

Usage:
  csvctl [global flags] <command> [flags] [arguments]

Commands:
`

// usageFooter ends csvctl's help.
const usageFooter = `
Global flags (also accepted after the command):
  --addr HOST:PORT         ingest's gRPC address (default $CSVCTL_ADDR, else 127.0.0.1:50051)
  --timeout DURATION       deadline of each unary call, 0 for none (default 30s)
  --max-message-size SIZE  largest gRPC message sent or received (default 8MiB)

JOB is jobs/ID or ID. ARTIFACT is source, normalized, parquet, rejects,
schema, errors or report. SIZE is a byte count with an optional unit: B,
K/KiB, M/MiB, G/GiB (powers of 1024) or KB, MB, GB (powers of 1000).

Exit codes:
  0    success; for watch and upload --follow: the job SUCCEEDED
  1    the command failed
  2    usage error
  3    watch, upload --follow: the job FAILED
  4    watch, upload --follow: the job was CANCELLED
  130  interrupted

Run 'csvctl help <command>' or 'csvctl <command> -h' for a command's flags.
`

// printUsage writes csvctl's help to w.
func (a *app) printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString(usageHeader)
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(&b, "  %-9s %s\n", "help", "Print this help or a command's.")
	b.WriteString(usageFooter)
	io.WriteString(w, b.String())
}

// printCommandUsage writes the help of c, whose flags are defined on fs, to w.
func (a *app) printCommandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: csvctl %s [flags] %s\n\n%s\n", c.name, c.args, c.summary)
	if c.details != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.details))
	}
	fmt.Fprintf(w, "\nFlags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// usageError reports a usage error for c (nil: csvctl itself) and returns
// exitUsage.
func (a *app) usageError(c *command, msg string) int {
	if c == nil {
		fmt.Fprintf(a.stderr, "csvctl: %s\nRun 'csvctl help' for usage.\n", msg)
	} else {
		fmt.Fprintf(a.stderr, "csvctl %s: %s\nRun 'csvctl %s -h' for usage.\n", c.name, msg, c.name)
	}
	return exitUsage
}

// fail reports that what failed because of err and returns the exit code:
// exitInterrupted when ctx was cancelled (Ctrl-C), else exitError.
func (a *app) fail(ctx context.Context, what string, err error) int {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || status.Code(err) == codes.Canceled) {
		fmt.Fprintf(a.stderr, "csvctl: %s: interrupted\n", what)
		return exitInterrupted
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.RecordError(err)
	}
	fmt.Fprintf(a.stderr, "csvctl: %s: %s\n", what, describeError(err))
	return exitError
}

// connect opens a client of the ingest service at a.addr. Connections are
// plaintext, like the rest of csvmesh; the dial itself is lazy, so an
// unreachable server shows up as UNAVAILABLE on the first call.
func (a *app) connect() (ingestv1.IngestServiceClient, func(), error) {
	tp := a.tp
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(tp),
			otelgrpc.WithPropagators(propagation.TraceContext{}),
		)),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(int(a.maxMessage)),
			grpc.MaxCallSendMsgSize(int(a.maxMessage)),
		),
	}
	conn, err := grpc.NewClient(a.addr, append(opts, a.dialOptions...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", a.addr, err)
	}
	return ingestv1.NewIngestServiceClient(conn), func() { conn.Close() }, nil
}

// unary returns ctx with the deadline of one unary call.
func (a *app) unary(ctx context.Context) (context.Context, context.CancelFunc) {
	if a.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, a.timeout)
}
