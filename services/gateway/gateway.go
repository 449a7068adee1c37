// Package gateway serves csvmesh's public API as REST/JSON. It is a
// grpc-gateway reverse proxy in front of ingest: every request becomes a gRPC
// call on a client connection to ingest, so deadlines, cancellation and the
// W3C trace context travel from the HTTP caller into ingest and beyond.
//
// Routes (JSON bodies use the proto field names, snake_case, and omit unset
// fields):
//
//	GET  /v1/jobs/{job}                                  GetJob
//	GET  /v1/jobs?page_size=&page_token=                 ListJobs
//	POST /v1/jobs/{job}:cancel                           CancelJob
//	GET  /v1/jobs/{job}:watch?after_sequence=            WatchJob, NDJSON
//	GET  /v1/jobs/{job}/artifacts/{artifact}:stream      DownloadArtifact, NDJSON
//	POST /v1/jobs:upload                                 UploadFile, streamed body
//	GET  /v1/jobs/{job}/artifacts/{artifact}:download    DownloadArtifact, raw bytes
//	GET  /openapi.json, /v1/openapi.json                 the OpenAPI v2 document
//	GET  /healthz                                        ingest's gRPC health
//
// Errors everywhere have the HTTP status that runtime.HTTPStatusFromCode gives
// the gRPC code (NOT_FOUND 404, INVALID_ARGUMENT and FAILED_PRECONDITION 400,
// RESOURCE_EXHAUSTED 429, UNAVAILABLE 503, ...) and grpc-gateway's JSON
// status body, {"code": 5, "message": "...", "details": [{"@type": ...}]}.
// Two statuses are not derived from a gRPC code: 413 when an upload is larger
// than the configured limit, and 415 when an upload's Content-Type is not
// accepted.
//
// The streaming routes (:watch and :stream) answer newline-delimited JSON
// (Content-Type application/x-ndjson), one object per gRPC message, each
// written and flushed as soon as the message arrives:
//
//	{"result":{"event":{"sequence":"1","event_time":"...","state":"STATE_PENDING","state_change":{...}}}}
//
// An error that ends the stream is one last line {"error":{"code":..,
// "message":..,"details":[..]}}; when it happens before the first message
// the response also has the error's HTTP status.
//
// Uploads, POST /v1/jobs:upload, are streamed into ingest's client-streaming
// UploadFile chunk by chunk, never held whole in memory. The upload metadata
// are named:
//
//	file_name, sha256, idempotency_key  the file
//	schema                              a Frictionless Table Schema as JSON text,
//	                                    sent as UploadMetadata.table_schema
//	delimiter, quote_char, double_quote, escape_char, header_rows,
//	skip_initial_space, comment_prefix, encoding
//	                                    the dialect (UploadMetadata.dialect)
//	max_invalid_rows, max_invalid_ratio, error_sample_size, neutralize_formulas
//	                                    the validation options
//	percentiles, columns                the analysis options, each one value
//	                                    separated by commas (0.1,0.5,0.9;
//	                                    price,qty)
//	exact_categorical                   the analysis option (a boolean)
//
// Booleans are parsed with strconv.ParseBool (true, false, 1, 0, ...),
// integers as decimal, percentiles as decimal numbers (spaces around each
// allowed), column names exactly as given; a value that does not parse, or a schema that is not
// a JSON object, is answered 400 with a BadRequest field violation naming the
// parameter, before ingest is called. Two encodings:
//
//   - a raw body with Content-Type text/csv or application/octet-stream; the
//     metadata comes from the query (file_name is required; the
//     Idempotency-Key header may carry idempotency_key); a Content-Length
//     becomes the declared size, which ingest checks.
//   - multipart/form-data with the metadata as form fields, all before the
//     part named "file", whose filename is the default file_name; the schema
//     may also be a file part named "schema" holding the JSON. Each field is
//     bounded by WithMaxFormFieldBytes. Nothing may follow the file part.
//
// The answer is the UploadFileResponse, {"job": {...}}. A client that goes
// away mid-body cancels the gRPC stream, so ingest keeps nothing.
//
// Raw downloads, GET .../artifacts/{artifact}:download, stream the artifact's
// bytes as the body with the artifact's Content-Type and a
// Content-Disposition attachment filename "{job}-" and the artifact's file
// name: source.csv, normalized.csv, normalized.parquet (artifact parquet),
// rejects.csv, schema.json, errors.json or report.json. An error after the
// first byte aborts the response, so the client sees a truncated transfer
// rather than a short file.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
)

const (
	// DefaultChunkSize is the default size of the chunks an upload body is
	// cut into before it is sent to ingest: 1 MiB.
	DefaultChunkSize = 1 << 20
	// MaxChunkSize is the largest chunk size allowed, the 4 MiB limit on one
	// UploadFileRequest chunk set by the ingest API.
	MaxChunkSize = 4 << 20
	// DefaultMaxUploadBytes is the default limit on the size of an upload
	// request body: ingest's default file limit, 10 GiB, plus 8 MiB of room
	// for a multipart envelope and its fields.
	DefaultMaxUploadBytes = 10<<30 + 8<<20
	// DefaultMaxFormFieldBytes is the default limit on one multipart form
	// field other than the file (such as schema): 1 MiB.
	DefaultMaxFormFieldBytes = 1 << 20
	// DefaultHealthTimeout bounds the gRPC health check behind /healthz.
	DefaultHealthTimeout = 2 * time.Second
)

// Option configures the gateway built by New.
type Option func(*config)

type config struct {
	maxUploadBytes    int64
	chunkSize         int
	maxFormFieldBytes int64
	healthService     string
	healthTimeout     time.Duration
	logger            *slog.Logger
	otelOptions       []otelhttp.Option
}

// WithMaxUploadBytes limits the size of an upload request body. A request
// whose Content-Length exceeds n is answered 413 before any of it is read or
// ingest is called; a body without a Content-Length is cut off with 413 as
// soon as it exceeds n, and the gRPC upload is cancelled. For multipart
// uploads the limit applies to the whole request body. n == 0 removes the
// gateway's limit (ingest enforces its own); n < 0 is an error. The default
// is DefaultMaxUploadBytes.
func WithMaxUploadBytes(n int64) Option {
	return func(c *config) { c.maxUploadBytes = n }
}

// WithChunkSize sets the size of the chunks an upload is sent to ingest in,
// and so the upload buffer per request; it must be between 1 and
// MaxChunkSize. The default is DefaultChunkSize.
func WithChunkSize(n int) Option {
	return func(c *config) { c.chunkSize = n }
}

// WithMaxFormFieldBytes limits the size of each multipart form field that is
// not the file (schema, sha256, ...); a larger one is answered 400. It must
// be positive. The default is DefaultMaxFormFieldBytes.
func WithMaxFormFieldBytes(n int64) Option {
	return func(c *config) { c.maxFormFieldBytes = n }
}

// WithLogger sets the logger for failed requests (5xx answers and aborted
// streams). The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithHealthCheck sets the service name /healthz asks ingest's
// grpc.health.v1 service about and how long it waits for the answer. The
// defaults are "" (the server as a whole) and DefaultHealthTimeout.
func WithHealthCheck(service string, timeout time.Duration) Option {
	return func(c *config) {
		c.healthService = service
		c.healthTimeout = timeout
	}
}

// WithOTelOptions passes options to otelhttp.NewHandler, for example
// otelhttp.WithTracerProvider; by default the global tracer provider and
// propagator are used.
func WithOTelOptions(opts ...otelhttp.Option) Option {
	return func(c *config) { c.otelOptions = append(c.otelOptions, opts...) }
}

// gateway holds what the hand-written handlers need.
type gateway struct {
	cfg    config
	mux    *runtime.ServeMux
	client ingestv1.IngestServiceClient
	health healthpb.HealthClient
}

// New returns the REST gateway as an http.Handler that forwards to ingest
// over conn, normally a connection made with grpcx.Dial (whose otelgrpc
// client handler carries the trace context into ingest). The handler is
// wrapped in otelhttp.NewHandler, so a traceparent header from the caller
// continues through the gateway into ingest. ctx is handed to the generated
// registration functions; the handler does not outlive conn, which the caller
// closes after shutting the HTTP server down.
func New(ctx context.Context, conn grpc.ClientConnInterface, opts ...Option) (http.Handler, error) {
	cfg := config{
		maxUploadBytes:    DefaultMaxUploadBytes,
		chunkSize:         DefaultChunkSize,
		maxFormFieldBytes: DefaultMaxFormFieldBytes,
		healthTimeout:     DefaultHealthTimeout,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if conn == nil {
		return nil, errors.New("gateway: nil gRPC connection")
	}
	if cfg.maxUploadBytes < 0 {
		return nil, fmt.Errorf("gateway: max upload bytes %d is negative", cfg.maxUploadBytes)
	}
	if cfg.chunkSize < 1 || cfg.chunkSize > MaxChunkSize {
		return nil, fmt.Errorf("gateway: chunk size %d outside [1, %d]", cfg.chunkSize, MaxChunkSize)
	}
	if cfg.maxFormFieldBytes < 1 {
		return nil, fmt.Errorf("gateway: max form field bytes %d is not positive", cfg.maxFormFieldBytes)
	}
	if cfg.healthTimeout <= 0 {
		return nil, fmt.Errorf("gateway: health check timeout %v is not positive", cfg.healthTimeout)
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}

	g := &gateway{
		cfg:    cfg,
		client: ingestv1.NewIngestServiceClient(conn),
		health: healthpb.NewHealthClient(conn),
	}
	g.mux = runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &ndjsonMarshaler{JSONPb: runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: false},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: true},
		}}),
		runtime.WithErrorHandler(g.handleError),
		runtime.WithRoutingErrorHandler(routingError),
	)
	if err := ingestv1.RegisterIngestServiceHandlerClient(ctx, g.mux, g.client); err != nil {
		return nil, fmt.Errorf("gateway: register ingest handlers: %w", err)
	}
	routes := []struct {
		method, pattern string
		h               runtime.HandlerFunc
	}{
		{http.MethodPost, uploadPattern, g.upload},
		{http.MethodGet, downloadPattern, g.download},
		{http.MethodGet, "/openapi.json", serveOpenAPI},
		{http.MethodGet, "/v1/openapi.json", serveOpenAPI},
		{http.MethodGet, "/healthz", g.healthz},
	}
	for _, r := range routes {
		if err := g.mux.HandlePath(r.method, r.pattern, r.h); err != nil {
			return nil, fmt.Errorf("gateway: route %s %s: %w", r.method, r.pattern, err)
		}
	}
	otelOpts := append([]otelhttp.Option{
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return r.Method + " " + r.URL.Path
		}),
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" }),
	}, cfg.otelOptions...)
	return otelhttp.NewHandler(g.mux, "gateway", otelOpts...), nil
}

// ndjsonMarshaler is runtime.JSONPb whose streamed responses are labelled
// newline-delimited JSON.
type ndjsonMarshaler struct {
	runtime.JSONPb
}

// StreamContentType implements runtime.StreamContentType.
func (*ndjsonMarshaler) StreamContentType(any) string { return "application/x-ndjson" }

// handleError logs server-side failures and answers with
// runtime.DefaultHTTPErrorHandler.
func (g *gateway) handleError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	code := status.Code(err)
	var hse *runtime.HTTPStatusError
	if errors.As(err, &hse) {
		code = status.Code(hse.Err)
	}
	switch code {
	case codes.Unknown, codes.Internal, codes.Unavailable, codes.DataLoss, codes.DeadlineExceeded, codes.Unimplemented:
		g.cfg.logger.ErrorContext(ctx, "request failed", "method", r.Method, "path", r.URL.Path,
			"code", code.String(), "error", status.Convert(unwrapHTTPStatus(err)).Message())
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// routingError answers requests no route matches: 404 for an unknown path,
// 405 (not grpc-gateway's default 501) for a known path with the wrong method.
func routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	if httpStatus != http.StatusMethodNotAllowed {
		runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, httpStatus)
		return
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, &runtime.HTTPStatusError{
		HTTPStatus: http.StatusMethodNotAllowed,
		Err:        status.Errorf(codes.Unimplemented, "method %s is not allowed on %s", r.Method, r.URL.Path),
	})
}

func unwrapHTTPStatus(err error) error {
	var hse *runtime.HTTPStatusError
	if errors.As(err, &hse) {
		return hse.Err
	}
	return err
}

// writeError answers r with err through the mux's error handler and the
// request's outbound marshaler.
func (g *gateway) writeError(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) {
	_, out := runtime.MarshalerForRequest(g.mux, r)
	runtime.HTTPError(ctx, g.mux, out, w, r, err)
}

// healthz answers 200 {"status":"SERVING"} when ingest's grpc.health.v1
// service says it is serving, else 503 with the reason.
func (g *gateway) healthz(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.healthTimeout)
	defer cancel()
	resp, err := g.health.Check(ctx, &healthpb.HealthCheckRequest{Service: g.cfg.healthService})
	switch {
	case err != nil:
		err = status.Errorf(codes.Unavailable, "ingest health check failed: %s", status.Convert(err).Message())
	case resp.GetStatus() != healthpb.HealthCheckResponse_SERVING:
		err = status.Errorf(codes.Unavailable, "ingest is %s", resp.GetStatus())
	}
	if err != nil {
		g.writeError(r.Context(), w, r, &runtime.HTTPStatusError{HTTPStatus: http.StatusServiceUnavailable, Err: err})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(`{"status":"SERVING"}` + "\n"))
}
