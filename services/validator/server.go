package validator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/internal/storage"
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
	maxFieldBytes     int
	maxFields         int
	maxRecordBytes    int
	maxRejectRowBytes int
	progressInterval  time.Duration
	errorBatchSize    int
	maxStreamedErrors int
	logger            *slog.Logger
}

// Option configures a Server.
type Option func(*options)

// WithMaxFieldBytes bounds the size of one field; longer fields reject their
// row with code field_too_long. Default csvparse.DefaultMaxFieldBytes.
func WithMaxFieldBytes(n int) Option { return func(o *options) { o.maxFieldBytes = n } }

// WithMaxFields bounds the number of fields in one record; more reject the
// row with code field_count. Default csvparse.DefaultMaxFields.
func WithMaxFields(n int) Option { return func(o *options) { o.maxFields = n } }

// WithMaxRecordBytes bounds the size of one record, and so the parser's
// buffer; longer records are rejected with code record_too_long. Default
// csvparse.DefaultMaxRecordBytes.
func WithMaxRecordBytes(n int) Option { return func(o *options) { o.maxRecordBytes = n } }

// WithMaxRejectRowBytes bounds the row text written to the rejects output.
// Default DefaultMaxRejectRowBytes.
func WithMaxRejectRowBytes(n int) Option { return func(o *options) { o.maxRejectRowBytes = n } }

// WithProgressInterval sets how often progress is streamed; 0 or less means
// only once, before the result. Default DefaultProgressInterval.
func WithProgressInterval(d time.Duration) Option { return func(o *options) { o.progressInterval = d } }

// WithErrorBatchSize sets how many row errors go in one RowErrorBatch.
// Default DefaultErrorBatchSize.
func WithErrorBatchSize(n int) Option { return func(o *options) { o.errorBatchSize = n } }

// WithMaxStreamedErrors caps the row errors sent over the stream per
// request; the rejects output and the counts in the result always cover all
// rows. Negative means none. Default DefaultMaxStreamedErrors.
func WithMaxStreamedErrors(n int) Option { return func(o *options) { o.maxStreamedErrors = n } }

// WithLogger sets the logger; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// NewServer returns a Server reading sources from and writing outputs to
// store.
func NewServer(store storage.Store, opts ...Option) *Server {
	o := options{
		progressInterval:  DefaultProgressInterval,
		errorBatchSize:    DefaultErrorBatchSize,
		maxStreamedErrors: DefaultMaxStreamedErrors,
		maxRejectRowBytes: DefaultMaxRejectRowBytes,
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
// request's byte range of the source object, streams progress and row error
// batches, writes the normalized and rejects objects (both or neither), and
// ends the stream with one result. Errors carry canonical codes:
// InvalidArgument (with BadRequest details) for a bad request, NotFound for
// a missing source, FailedPrecondition (with PreconditionFailure details)
// for a file that cannot be validated at all, Canceled or DeadlineExceeded
// when the call ends early.
func (s *Server) Validate(req *validatorv1.ValidateRequest, stream grpc.ServerStreamingServer[validatorv1.ValidateResponse]) error {
	ctx := telemetry.WithAttrs(stream.Context(),
		slog.String("job", req.GetJob()), slog.String("source", req.GetSource().GetKey()))
	log := s.opts.logger
	start := time.Now()
	cfg, err := s.config(req)
	if err != nil {
		return s.status(ctx, err)
	}
	res, err := s.validate(ctx, req, cfg, stream)
	if err != nil {
		return s.status(ctx, err)
	}
	log.InfoContext(ctx, "validated",
		slog.Int64("rows_total", res.GetRowsTotal()), slog.Int64("rows_valid", res.GetRowsValid()),
		slog.Int64("rows_rejected", res.GetRowsRejected()), slog.Int64("bytes_read", res.GetBytesRead()),
		slog.Duration("elapsed", time.Since(start)))
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

// config checks req and turns it into a Config.
func (s *Server) config(req *validatorv1.ValidateRequest) (Config, error) {
	var v []*errdetails.BadRequest_FieldViolation
	add := func(field, desc string) {
		v = append(v, &errdetails.BadRequest_FieldViolation{Field: field, Description: desc})
	}
	src, norm, rej := req.GetSource().GetKey(), req.GetNormalizedOutput().GetKey(), req.GetRejectsOutput().GetKey()
	if src == "" {
		add("source.key", "the source object is required")
	}
	if norm == "" {
		add("normalized_output.key", "the normalized output object is required")
	}
	if rej == "" {
		add("rejects_output.key", "the rejects output object is required")
	}
	if norm != "" && (norm == src || norm == rej) {
		add("normalized_output.key", "the normalized output must differ from the source and the rejects output")
	}
	if rej != "" && rej == src {
		add("rejects_output.key", "the rejects output must differ from the source")
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
	var delim byte
	switch d := req.GetDialect().GetDelimiter(); {
	case d == "":
	case len(d) == 1:
		delim = d[0]
	default:
		add("dialect.delimiter", fmt.Sprintf("%q is not a single ASCII character", d))
	}
	if len(v) > 0 {
		return Config{}, &requestError{violations: v}
	}
	cfg := Config{
		Delimiter:         delim,
		Schema:            req.GetSchema(),
		FirstLine:         req.GetFirstLine(),
		FirstRecord:       req.GetFirstRecord(),
		FirstOffset:       req.GetRange().GetOffset(),
		MaxRecordBytes:    s.opts.maxRecordBytes,
		MaxFieldBytes:     s.opts.maxFieldBytes,
		MaxFields:         s.opts.maxFields,
		MaxRejectRowBytes: s.opts.maxRejectRowBytes,
		ProgressInterval:  s.opts.progressInterval,
		ErrorBatchSize:    s.opts.errorBatchSize,
		MaxStreamedErrors: s.opts.maxStreamedErrors,
	}
	if !req.GetRangeHasHeader() {
		cfg.Header = req.GetHeader()
	}
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// validate runs the engine between storage objects. Outputs are committed
// only when everything succeeded.
func (s *Server) validate(ctx context.Context, req *validatorv1.ValidateRequest, cfg Config, stream grpc.ServerStreamingServer[validatorv1.ValidateResponse]) (*validatorv1.ValidationResult, error) {
	obj, err := s.store.Open(ctx, req.GetSource().GetKey())
	if err != nil {
		return nil, keyError("source.key", "read the source object", err)
	}
	defer obj.Close()
	src, n, err := storage.RangeReader(obj, req.GetRange().GetOffset(), req.GetRange().GetLength())
	if err != nil {
		return nil, badField("range", fmt.Sprintf("bytes %d+%d are outside the %d-byte source object",
			req.GetRange().GetOffset(), req.GetRange().GetLength(), obj.Size()))
	}
	cfg.TotalBytes = n
	normW, err := s.store.Create(ctx, req.GetNormalizedOutput().GetKey())
	if err != nil {
		return nil, keyError("normalized_output.key", "create the normalized output", err)
	}
	defer normW.Abort()
	rejW, err := s.store.Create(ctx, req.GetRejectsOutput().GetKey())
	if err != nil {
		return nil, keyError("rejects_output.key", "create the rejects output", err)
	}
	defer rejW.Abort()

	res, err := Run(ctx, src, normW, rejW, cfg, streamSink{stream})
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := normW.Commit(); err != nil {
		return nil, fmt.Errorf("commit normalized output: %w", err)
	}
	if err := rejW.Commit(); err != nil {
		// Both or neither: take the normalized output back.
		if derr := s.store.Delete(context.WithoutCancel(ctx), req.GetNormalizedOutput().GetKey()); derr != nil {
			s.opts.logger.ErrorContext(ctx, "delete normalized output after failed commit", slog.Any("error", derr))
		}
		return nil, fmt.Errorf("commit rejects output: %w", err)
	}
	if err := stream.Send(&validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_Result{Result: res}}); err != nil {
		return nil, err
	}
	return res, nil
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
	log := s.opts.logger
	var (
		reqErr  *requestError
		cfgErr  *ConfigError
		fileErr *FileError
		nf      *notFoundError
	)
	switch {
	case errors.As(err, &reqErr):
		return withDetails(codes.InvalidArgument, "invalid request: "+reqErr.violations[0].GetDescription(),
			&errdetails.BadRequest{FieldViolations: reqErr.violations})
	case errors.As(err, &cfgErr):
		return withDetails(codes.InvalidArgument, "invalid request: "+cfgErr.Description,
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: cfgErr.Field, Description: cfgErr.Description}}})
	case errors.As(err, &fileErr):
		return withDetails(codes.FailedPrecondition, fileErr.Msg,
			&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
				Type: fileErr.Type, Subject: "source", Description: fileErr.Msg}}})
	case errors.As(err, &nf):
		return status.Errorf(codes.NotFound, "the %s object does not exist", map[string]string{
			"source.key": "source", "normalized_output.key": "normalized output", "rejects_output.key": "rejects output"}[nf.field])
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
	log.ErrorContext(ctx, "validation failed", slog.Any("error", err))
	return status.Error(codes.Internal, "validation failed because of an internal error; see the validator's logs")
}

// withDetails returns a status error with code c, message msg and detail.
func withDetails(c codes.Code, msg string, detail protoadapt.MessageV1) error {
	st := status.New(c, msg)
	if d, err := st.WithDetails(detail); err == nil {
		st = d
	}
	return st.Err()
}

// streamSink sends engine events on a Validate stream.
type streamSink struct {
	stream grpc.ServerStreamingServer[validatorv1.ValidateResponse]
}

// Progress implements EventSink.
func (s streamSink) Progress(p *validatorv1.ValidationProgress) error {
	return s.stream.Send(&validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_Progress{Progress: p}})
}

// RowErrors implements EventSink.
func (s streamSink) RowErrors(b *validatorv1.RowErrorBatch) error {
	return s.stream.Send(&validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_RowErrors{RowErrors: b}})
}
