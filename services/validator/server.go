package validator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/internal/dialect"
	"github.com/csvmesh/csvmesh/services/internal/parquetout"
	"github.com/csvmesh/csvmesh/services/internal/storage"
	"github.com/csvmesh/csvmesh/services/internal/tableschema"
	"github.com/csvmesh/csvmesh/services/internal/telemetry"
)

// DefaultProgressInterval is how often Server streams progress by default.
const DefaultProgressInterval = time.Second

// Server implements validatorv1.ValidatorServiceServer over a storage.Store.
type Server struct {
	validatorv1.UnimplementedValidatorServiceServer
	store storage.Store
	opts  options
}

type options struct {
	maxFieldBytes    int
	maxFields        int
	maxRecordBytes   int
	progressInterval time.Duration
	errorBatchSize   int
	workers          int
	blockSize        int
	spillDir         string
	uniqueBudget     int64
	logger           *slog.Logger
}

// Option configures a Server.
type Option func(*options)

// WithMaxFieldBytes bounds the size of one field; longer fields make their
// row a malformed-row. Default csvparse.DefaultMaxFieldBytes.
func WithMaxFieldBytes(n int) Option { return func(o *options) { o.maxFieldBytes = n } }

// WithMaxFields bounds the number of fields in one record; more make the
// row a malformed-row. Default csvparse.DefaultMaxFields.
func WithMaxFields(n int) Option { return func(o *options) { o.maxFields = n } }

// WithMaxRecordBytes bounds the size of one record, and so the parser's
// buffers; longer records are malformed-rows. Default
// csvparse.DefaultMaxRecordBytes.
func WithMaxRecordBytes(n int) Option { return func(o *options) { o.maxRecordBytes = n } }

// WithProgressInterval sets how often progress is streamed; 0 means only
// once, before the result. Default DefaultProgressInterval.
func WithProgressInterval(d time.Duration) Option { return func(o *options) { o.progressInterval = d } }

// WithErrorBatchSize sets how many row errors go in one RowErrorBatch.
// Default DefaultErrorBatchSize.
func WithErrorBatchSize(n int) Option { return func(o *options) { o.errorBatchSize = n } }

// WithWorkers sets how many goroutines check rows per request; default
// GOMAXPROCS.
func WithWorkers(n int) Option { return func(o *options) { o.workers = n } }

// WithBlockSize sets the size of the blocks a file is cut into; default
// DefaultBlockSize.
func WithBlockSize(n int) Option { return func(o *options) { o.blockSize = n } }

// WithSpillDir sets the directory for temporary files: the keys of unique
// and primary key checks beyond their memory budget, and the normalized rows
// of an inferred schema until it is known. Default: the system's temporary
// directory.
func WithSpillDir(dir string) Option { return func(o *options) { o.spillDir = dir } }

// WithUniqueMemoryBudget bounds the memory of all the unique and primary
// key checks of a request together (split evenly between them); default
// the uniq package's.
func WithUniqueMemoryBudget(n int64) Option { return func(o *options) { o.uniqueBudget = n } }

// WithLogger sets the logger; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// NewServer returns a Server reading sources from and writing outputs to
// store.
func NewServer(store storage.Store, opts ...Option) *Server {
	o := options{
		progressInterval: DefaultProgressInterval,
		errorBatchSize:   DefaultErrorBatchSize,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return &Server{store: store, opts: o}
}

// Validate implements validatorv1.ValidatorServiceServer. It reads the
// request's byte range of the source object, streams progress and the
// error sample, and writes the normalized, rejects and, when asked for,
// Parquet, schema and error report objects: all of them, committed at the
// end, or none. It ends the stream with one result. Errors carry canonical
// codes: InvalidArgument (with BadRequest details) for a bad request,
// dialect or schema, NotFound for a missing source, FailedPrecondition
// (with PreconditionFailure details) for a file that cannot be validated at
// all, Canceled or DeadlineExceeded when the call ends early.
func (s *Server) Validate(req *validatorv1.ValidateRequest, stream grpc.ServerStreamingServer[validatorv1.ValidateResponse]) error {
	ctx := telemetry.WithAttrs(stream.Context(),
		slog.String("job", req.GetJob()), slog.String("source", req.GetSource().GetKey()))
	start := time.Now()
	cfg, err := s.config(req)
	if err != nil {
		return s.status(ctx, err)
	}
	res, err := s.validate(ctx, req, cfg, stream)
	if err != nil {
		return s.status(ctx, err)
	}
	s.opts.logger.InfoContext(ctx, "validated",
		slog.Int64("rows_total", res.GetRowsTotal()), slog.Int64("rows_valid", res.GetRowsValid()),
		slog.Int64("rows_rejected", res.GetRowsRejected()), slog.Int64("bytes_read", res.GetBytesRead()),
		slog.Bool("schema_inferred", res.GetSchemaInferred()), slog.Duration("elapsed", time.Since(start)))
	return nil
}

// requestError is a request that fails validation, with every violation.
type requestError struct {
	violations []*errdetails.BadRequest_FieldViolation
}

func (e *requestError) Error() string {
	return fmt.Sprintf("invalid request: %s: %s", e.violations[0].GetField(), e.violations[0].GetDescription())
}

func badField(field, desc string) *requestError {
	return &requestError{violations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: desc}}}
}

// outputField names an output of a request.
type outputField struct {
	field string
	ref   *typev1.ObjectRef
}

// outputFields lists a request's outputs; the first two are required.
func outputFields(req *validatorv1.ValidateRequest) []outputField {
	return []outputField{
		{"normalized_output.key", req.GetNormalizedOutput()},
		{"rejects_output.key", req.GetRejectsOutput()},
		{"parquet_output.key", req.GetParquetOutput()},
		{"schema_output.key", req.GetSchemaOutput()},
		{"error_report_output.key", req.GetErrorReportOutput()},
	}
}

// config checks req and turns it into a Config.
func (s *Server) config(req *validatorv1.ValidateRequest) (Config, error) {
	var v []*errdetails.BadRequest_FieldViolation
	add := func(field, desc string) {
		v = append(v, &errdetails.BadRequest_FieldViolation{Field: field, Description: desc})
	}
	src := req.GetSource().GetKey()
	if src == "" {
		add("source.key", "the source object is required")
	}
	seen := map[string]string{src: "the source"}
	for i, o := range outputFields(req) {
		key := o.ref.GetKey()
		switch {
		case key == "" && i < 2:
			add(o.field, fmt.Sprintf("the %s object is required", outputName(o.field)))
		case key == "" && o.ref != nil:
			add(o.field, fmt.Sprintf("the %s object has no key; leave it unset for no %s", outputName(o.field), outputName(o.field)))
		case key == "":
		case seen[key] != "":
			add(o.field, fmt.Sprintf("the %s must differ from %s", outputName(o.field), seen[key]))
		default:
			seen[key] = "the " + outputName(o.field)
		}
	}
	if r := req.GetRange(); r.GetOffset() < 0 || r.GetLength() < 0 {
		add("range", "the byte range's offset and length cannot be negative")
	}
	if req.GetFirstLine() < 0 {
		add("first_line", "the first line cannot be negative")
	}
	if req.GetFirstRecord() < 0 {
		add("first_record", "the first record cannot be negative")
	}
	if !req.GetRangeHasHeader() && len(req.GetHeader()) == 0 {
		add("header", "the header is required when the range has no header row (range_has_header is false)")
	}
	if req.GetRangeHasHeader() && len(req.GetHeader()) > 0 {
		add("header", "give either a header or range_has_header, not both")
	}
	if len(v) > 0 {
		return Config{}, &requestError{violations: v}
	}
	cfg := Config{
		Dialect:            req.GetDialect(),
		Schema:             req.GetSchema(),
		Options:            req.GetOptions(),
		FirstLine:          req.GetFirstLine(),
		FirstRecord:        req.GetFirstRecord(),
		FirstOffset:        req.GetRange().GetOffset(),
		MaxRecordBytes:     s.opts.maxRecordBytes,
		MaxFieldBytes:      s.opts.maxFieldBytes,
		MaxFields:          s.opts.maxFields,
		Workers:            s.opts.workers,
		BlockSize:          s.opts.blockSize,
		SpillDir:           s.opts.spillDir,
		UniqueMemoryBudget: s.opts.uniqueBudget,
		ProgressInterval:   s.opts.progressInterval,
		ErrorBatchSize:     s.opts.errorBatchSize,
	}
	if !req.GetRangeHasHeader() {
		cfg.Header = req.GetHeader()
	}
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// outputName names the output of a request field in messages.
func outputName(field string) string {
	switch field {
	case "normalized_output.key":
		return "normalized output"
	case "rejects_output.key":
		return "rejects output"
	case "parquet_output.key":
		return "Parquet output"
	case "schema_output.key":
		return "schema output"
	case "error_report_output.key":
		return "error report output"
	}
	return "source"
}

// output is an object being written.
type output struct {
	field string
	key   string
	w     storage.Writer
	n     countingWriter
}

// validate runs the engine between storage objects. Outputs are committed
// only when everything succeeded.
func (s *Server) validate(ctx context.Context, req *validatorv1.ValidateRequest, cfg Config, stream grpc.ServerStreamingServer[validatorv1.ValidateResponse]) (*validatorv1.ValidationResult, error) {
	obj, err := s.store.Open(ctx, req.GetSource().GetKey())
	if err != nil {
		return nil, keyError("source.key", "read the source object", err)
	}
	defer obj.Close()
	off, length, size := req.GetRange().GetOffset(), req.GetRange().GetLength(), obj.Size()
	if length == 0 {
		length = size - off
	}
	if off > size || length < 0 || off+length > size {
		return nil, badField("range", fmt.Sprintf("bytes %d+%d are outside the %d-byte source object",
			req.GetRange().GetOffset(), req.GetRange().GetLength(), size))
	}
	outs := make(map[string]*output)
	for _, o := range outputFields(req) {
		if o.ref.GetKey() == "" {
			continue
		}
		w, err := s.store.Create(ctx, o.ref.GetKey())
		if err != nil {
			return nil, keyError(o.field, "create the "+outputName(o.field), err)
		}
		defer w.Abort()
		out := &output{field: o.field, key: o.ref.GetKey(), w: w}
		out.n.w = w
		outs[o.field] = out
	}
	norm, rej, pq := outs["normalized_output.key"], outs["rejects_output.key"], outs["parquet_output.key"]
	sink := &sampleSink{stream: stream}
	inferring := len(req.GetSchema().GetFields()) == 0

	var runNorm io.Writer = &norm.n
	var conv *conversion
	defer func() {
		if conv != nil {
			conv.abort(context.Canceled)
		}
	}()
	var tmp *os.File
	if inferring {
		// The normalized rows wait in a temporary file until the schema
		// is known: Renormalize rewrites them, and Parquet needs it.
		if tmp, err = os.CreateTemp(s.opts.spillDir, "csvmesh-normalized-*.csv"); err != nil {
			return nil, fmt.Errorf("create a temporary file: %w", err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		runNorm = tmp
	} else if pq != nil {
		conv = startConversion(ctx, &pq.n, req.GetSchema())
		runNorm = io.MultiWriter(&norm.n, conv)
	}
	var rewrite []bool
	res, err := Run(ctx, io.NewSectionReader(obj, off, length), length,
		Outputs{Normalized: runNorm, Rejects: &rej.n, Rewrite: &rewrite}, cfg, sink)
	if err != nil {
		return nil, err
	}
	if inferring {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("read the temporary file: %w", err)
		}
		var dst io.Writer = &norm.n
		if pq != nil {
			conv = startConversion(ctx, &pq.n, res.GetSchema())
			dst = io.MultiWriter(&norm.n, conv)
		}
		if slices.Contains(rewrite, true) {
			err = Renormalize(ctx, tmp, dst, res.GetSchema(), rewrite, cfg.Workers)
		} else if _, err = io.Copy(dst, tmp); err != nil {
			err = fmt.Errorf("write normalized output: %w", err)
		}
		if err != nil {
			return nil, err
		}
	}
	res.NormalizedSizeBytes = norm.n.n
	if conv != nil {
		c := conv
		conv = nil
		switch err := c.finish(); {
		case errors.As(err, new(*parquetout.Error)):
			// A value the Parquet file cannot hold (such as a nanosecond
			// timestamp after the first row group chose microseconds): the
			// rows are valid, so the job goes on without the Parquet file
			// and says why.
			pq.w.Abort()
			delete(outs, "parquet_output.key")
			res.Warnings = append(res.Warnings, "no Parquet file was written: "+strings.TrimPrefix(err.Error(), "parquetout: "))
		case err != nil:
			return nil, fmt.Errorf("write Parquet output: %w", err)
		default:
			res.ParquetSizeBytes = pq.n.n
		}
	}
	if o := outs["schema_output.key"]; o != nil {
		b, err := tableschema.MarshalJSON(res.GetSchema())
		if err != nil {
			return nil, fmt.Errorf("write schema output: %w", err)
		}
		if _, err := o.n.Write(append(b, '\n')); err != nil {
			return nil, fmt.Errorf("write schema output: %w", err)
		}
		res.SchemaSizeBytes = o.n.n
	}
	if o := outs["error_report_output.key"]; o != nil {
		b, err := MarshalErrorReport(res, sink.sample, sampleSize(cfg.Options))
		if err != nil {
			return nil, fmt.Errorf("write error report output: %w", err)
		}
		if _, err := o.n.Write(b); err != nil {
			return nil, fmt.Errorf("write error report output: %w", err)
		}
		res.ErrorReportSizeBytes = o.n.n
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.commit(ctx, req, outs); err != nil {
		return nil, err
	}
	if err := stream.Send(&validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_Result{Result: res}}); err != nil {
		return nil, err
	}
	return res, nil
}

// sampleSize is the error sample size opts ask for.
func sampleSize(opts *typev1.ValidationOptions) int {
	if n := opts.GetErrorSampleSize(); n > 0 {
		return int(n)
	}
	return DefaultErrorSampleSize
}

// commit commits every output, or, when one fails, deletes those already
// committed.
func (s *Server) commit(ctx context.Context, req *validatorv1.ValidateRequest, outs map[string]*output) error {
	var done []string
	for _, f := range outputFields(req) {
		o := outs[f.field]
		if o == nil {
			continue
		}
		if err := o.w.Commit(); err != nil {
			for _, key := range done {
				if derr := s.store.Delete(context.WithoutCancel(ctx), key); derr != nil {
					s.opts.logger.ErrorContext(ctx, "delete an output after a failed commit", slog.String("key", key), slog.Any("error", derr))
				}
			}
			return fmt.Errorf("commit the %s: %w", outputName(o.field), err)
		}
		done = append(done, o.key)
	}
	return nil
}

// conversion converts the normalized rows written to it into Parquet on
// its own goroutine. Once the conversion has failed on a value, writes are
// discarded, so the normalized output it tees from carries on.
type conversion struct {
	pw     *io.PipeWriter
	done   chan error
	failed bool
}

func startConversion(ctx context.Context, dst io.Writer, s *typev1.Schema) *conversion {
	pr, pw := io.Pipe()
	c := &conversion{pw: pw, done: make(chan error, 1)}
	go func() {
		_, err := parquetout.Convert(ctx, pr, dst, s, parquetout.Options{})
		if err != nil {
			pr.CloseWithError(err) // writers fail instead of blocking
		} else {
			pr.Close()
		}
		c.done <- err
	}()
	return c
}

// Write implements io.Writer.
func (c *conversion) Write(p []byte) (int, error) {
	if c.failed {
		return len(p), nil
	}
	n, err := c.pw.Write(p)
	if errors.As(err, new(*parquetout.Error)) {
		c.failed = true
		return len(p), nil
	}
	return n, err
}

// finish ends the input and waits for the conversion.
func (c *conversion) finish() error {
	c.pw.Close()
	return <-c.done
}

// abort stops the conversion and waits for it.
func (c *conversion) abort(err error) {
	c.pw.CloseWithError(err)
	<-c.done
}

// keyError classifies a storage error about the object named by field.
func keyError(field, what string, err error) error {
	switch {
	case errors.Is(err, storage.ErrInvalidKey):
		return badField(field, "the object key is not valid: use a relative slash-separated path without . or .. parts")
	case errors.Is(err, storage.ErrNotFound):
		return &notFoundError{field: field, err: err}
	}
	return fmt.Errorf("%s: %w", what, err)
}

type notFoundError struct {
	field string
	err   error
}

func (e *notFoundError) Error() string { return e.err.Error() }
func (e *notFoundError) Unwrap() error { return e.err }

// status maps an error to a gRPC status at the service boundary, logging
// what the client does not see.
func (s *Server) status(ctx context.Context, err error) error {
	var (
		reqErr    *requestError
		cfgErr    *ConfigError
		dialErr   *dialect.FieldError
		schemaErr *tableschema.SchemaError
		fileErr   *FileError
		nf        *notFoundError
	)
	switch {
	case errors.As(err, &reqErr):
		return withDetails(codes.InvalidArgument, "invalid request: "+reqErr.violations[0].GetDescription(),
			&errdetails.BadRequest{FieldViolations: reqErr.violations})
	case errors.As(err, &cfgErr):
		return badRequest(cfgErr.Field, cfgErr.Description)
	case errors.As(err, &dialErr):
		return badRequest(dialErr.Field, dialErr.Description)
	case errors.As(err, &schemaErr):
		field := "schema"
		if schemaErr.Path != "" {
			field += "." + schemaErr.Path
		}
		return badRequest(field, schemaErr.Msg)
	case errors.As(err, &fileErr):
		return withDetails(codes.FailedPrecondition, fileErr.Msg,
			&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
				Type: fileErr.Type, Subject: "source", Description: fileErr.Msg}}})
	case errors.As(err, &nf):
		return status.Errorf(codes.NotFound, "the %s object does not exist", outputName(nf.field))
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "validation canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "validation deadline exceeded")
	}
	if ctx.Err() != nil {
		// A failed Send, typically: the client is gone.
		return status.FromContextError(ctx.Err()).Err()
	}
	if st, ok := status.FromError(err); ok && st.Code() != codes.Unknown {
		return st.Err()
	}
	s.opts.logger.ErrorContext(ctx, "validation failed", slog.Any("error", err))
	return status.Error(codes.Internal, "validation failed because of an internal error; see the validator's logs")
}

// badRequest returns an InvalidArgument status about one request field.
func badRequest(field, desc string) error {
	return withDetails(codes.InvalidArgument, "invalid request: "+desc,
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: desc}}})
}

// withDetails returns a status error with code c, message msg and detail.
func withDetails(c codes.Code, msg string, detail protoadapt.MessageV1) error {
	st := status.New(c, msg)
	if d, err := st.WithDetails(detail); err == nil {
		st = d
	}
	return st.Err()
}

// sampleSink sends engine events on a Validate stream and keeps the error
// sample for the error report.
type sampleSink struct {
	stream grpc.ServerStreamingServer[validatorv1.ValidateResponse]
	sample []*typev1.RowError
}

// Progress implements EventSink.
func (s *sampleSink) Progress(p *validatorv1.ValidationProgress) error {
	return s.stream.Send(&validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_Progress{Progress: p}})
}

// RowErrors implements EventSink.
func (s *sampleSink) RowErrors(b *validatorv1.RowErrorBatch) error {
	s.sample = append(s.sample, b.GetErrors()...)
	return s.stream.Send(&validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_RowErrors{RowErrors: b}})
}
