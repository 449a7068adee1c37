package analyzer

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
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/protoadapt"

	analyzerv1 "github.com/csvmesh/csvmesh/gen/csvmesh/analyzer/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/internal/storage"
	"github.com/csvmesh/csvmesh/services/internal/telemetry"
)

// DefaultProgressInterval is how often a stream reports progress when
// WithProgressInterval is not given.
const DefaultProgressInterval = time.Second

// reportJSON is how reports are written to report_output.
var reportJSON = protojson.MarshalOptions{Multiline: true, Indent: "  ", UseProtoNames: true}

// Server implements analyzerv1.AnalyzerServiceServer over a storage.Store.
type Server struct {
	analyzerv1.UnimplementedAnalyzerServiceServer

	store     storage.Store
	budget    int64
	tempDir   string
	maxRecord int
	maxSpill  int64
	interval  time.Duration
	logger    *slog.Logger
	slots     chan struct{} // nil: no limit on concurrent analyses
}

// Option configures a Server.
type Option func(*Server)

// WithMemoryBudget sets the memory budget of each analysis in bytes (see
// Config.MemoryBudget); n <= 0 means DefaultMemoryBudget.
func WithMemoryBudget(n int64) Option { return func(s *Server) { s.budget = n } }

// WithTempDir sets the directory spill files go to; "" means os.TempDir().
func WithTempDir(dir string) Option { return func(s *Server) { s.tempDir = dir } }

// WithMaxSpillBytes bounds the bytes of spill files each analysis writes
// (see Config.MaxSpillBytes); n <= 0 means DefaultMaxSpillBytes. Only
// requests with exact_categorical spill; past the bound their text columns
// switch to sketches.
func WithMaxSpillBytes(n int64) Option { return func(s *Server) { s.maxSpill = n } }

// WithMaxRecordBytes bounds the size of one CSV record the parser buffers
// (see Config.MaxRecordBytes); n <= 0 means the parser's defaults.
func WithMaxRecordBytes(n int) Option { return func(s *Server) { s.maxRecord = n } }

// WithProgressInterval sets the least time between two progress messages of
// a stream; d <= 0 sends one every 1024 rows. Default DefaultProgressInterval.
// Whatever the interval, a last progress message precedes the result.
func WithProgressInterval(d time.Duration) Option { return func(s *Server) { s.interval = d } }

// WithMaxConcurrent bounds how many analyses run at once; more calls wait
// (until their deadline) for one to finish. With the memory budget it bounds
// the analyzer's memory: n x budget. n <= 0 means no limit.
func WithMaxConcurrent(n int) Option {
	return func(s *Server) {
		s.slots = nil
		if n > 0 {
			s.slots = make(chan struct{}, n)
		}
	}
}

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.logger = l } }

// NewServer returns an analyzer that reads sources from and writes reports
// to store.
func NewServer(store storage.Store, opts ...Option) *Server {
	s := &Server{store: store, interval: DefaultProgressInterval}
	for _, o := range opts {
		o(s)
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	return s
}

// config returns the engine configuration of one analysis.
func (s *Server) config() Config {
	return Config{MemoryBudget: s.budget, TempDir: s.tempDir, MaxRecordBytes: s.maxRecord, MaxSpillBytes: s.maxSpill}
}

// Analyze implements analyzerv1.AnalyzerServiceServer. It reads the requested
// range of the source object, streams progress, writes the report to
// report_output when one is set (all or nothing) and sends exactly one
// result.
func (s *Server) Analyze(req *analyzerv1.AnalyzeRequest, stream grpc.ServerStreamingServer[analyzerv1.AnalyzeResponse]) error {
	ctx := telemetry.WithAttrs(stream.Context(), slog.String("job", req.GetJob()))
	if s.slots != nil {
		select {
		case s.slots <- struct{}{}:
			defer func() { <-s.slots }()
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
	start := time.Now()
	res, err := s.analyze(ctx, req, stream)
	if err != nil {
		st := s.toStatus(ctx, req, err)
		s.logger.LogAttrs(ctx, levelFor(st.Code()), "analysis failed",
			slog.String("source", req.GetSource().GetKey()), slog.String("code", st.Code().String()),
			slog.String("error", err.Error()))
		return st.Err()
	}
	s.logger.LogAttrs(ctx, slog.LevelInfo, "analysis done",
		slog.String("source", req.GetSource().GetKey()), slog.Int64("rows", res.GetReport().GetRowCount()),
		slog.Int64("report_bytes", res.GetReportSizeBytes()), slog.Duration("elapsed", time.Since(start)))
	return nil
}

func levelFor(c codes.Code) slog.Level {
	switch c {
	case codes.Internal, codes.Unknown, codes.DataLoss:
		return slog.LevelError
	case codes.Canceled, codes.DeadlineExceeded:
		return slog.LevelInfo
	}
	return slog.LevelWarn
}

// analyze does the work of Analyze; errors are domain errors, mapped to
// statuses by toStatus.
func (s *Server) analyze(ctx context.Context, req *analyzerv1.AnalyzeRequest, stream grpc.ServerStreamingServer[analyzerv1.AnalyzeResponse]) (*analyzerv1.AnalysisResult, error) {
	if v := checkRequest(req); len(v) > 0 {
		return nil, &badRequestError{violations: v}
	}
	quantiles, err := NormalizeQuantiles(req.GetQuantiles())
	if err != nil {
		return nil, err // checkRequest has caught it; kept for safety
	}

	obj, err := s.store.Open(ctx, req.GetSource().GetKey())
	if err != nil {
		return nil, &objectError{field: "source.key", err: err}
	}
	defer obj.Close()
	offset, length := req.GetRange().GetOffset(), req.GetRange().GetLength()
	if size := obj.Size(); offset > size || length > size-offset {
		return nil, &badRequestError{violations: []*errdetails.BadRequest_FieldViolation{{
			Field:       "range",
			Description: fmt.Sprintf("byte range %d+%d is outside the %d-byte object", offset, length, size),
		}}}
	}
	r, total, err := storage.RangeReader(obj, offset, length)
	if err != nil {
		return nil, err
	}

	// Progress is sent from the engine's goroutine. A failed send means the
	// stream is gone; cancelling stops the engine at its next check.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var last time.Time
	send := func(bytesRead, rowsRead int64) error {
		return stream.Send(&analyzerv1.AnalyzeResponse{Event: &analyzerv1.AnalyzeResponse_Progress{
			Progress: &analyzerv1.AnalysisProgress{BytesRead: bytesRead, BytesTotal: total, RowsRead: rowsRead},
		}})
	}
	progress := func(bytesRead, rowsRead int64) {
		if now := time.Now(); now.Sub(last) >= s.interval {
			last = now
			if err := send(bytesRead, rowsRead); err != nil {
				cancel(err)
			}
		}
	}

	cfg := s.config()
	cfg.Columns = req.GetColumns()
	cfg.ExactCategorical = req.GetExactCategorical()
	p, err := AnalyzePartial(ctx, r, req.GetSchema(), req.GetRangeHasHeader(), cfg, progress)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	report, err := p.Report(ctx, quantiles)
	if err != nil {
		return nil, err
	}
	if err := send(total, p.Rows()); err != nil {
		return nil, err
	}

	res := &analyzerv1.AnalysisResult{Report: report}
	if key := req.GetReportOutput().GetKey(); key != "" {
		n, err := s.writeReport(ctx, key, report)
		if err != nil {
			return nil, err
		}
		res.ReportSizeBytes = n
	}
	if err := stream.Send(&analyzerv1.AnalyzeResponse{Event: &analyzerv1.AnalyzeResponse_Result{Result: res}}); err != nil {
		return nil, err
	}
	return res, nil
}

// writeReport stores report as JSON under key, all or nothing, and returns
// its size.
func (s *Server) writeReport(ctx context.Context, key string, report *typev1.Report) (int64, error) {
	b, err := reportJSON.Marshal(report)
	if err != nil {
		return 0, fmt.Errorf("encode report: %w", err)
	}
	b = append(b, '\n')
	w, err := s.store.Create(ctx, key)
	if err != nil {
		return 0, &objectError{field: "report_output.key", err: err}
	}
	defer w.Abort()
	if _, err := w.Write(b); err != nil {
		return 0, fmt.Errorf("write report: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := w.Commit(); err != nil {
		return 0, fmt.Errorf("commit report: %w", err)
	}
	return int64(len(b)), nil
}

// checkRequest returns the request's field violations.
func checkRequest(req *analyzerv1.AnalyzeRequest) []*errdetails.BadRequest_FieldViolation {
	var v []*errdetails.BadRequest_FieldViolation
	add := func(field, format string, args ...any) {
		v = append(v, &errdetails.BadRequest_FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	if req.GetSource().GetKey() == "" {
		add("source.key", "the source object is required")
	}
	if r := req.GetRange(); r.GetOffset() < 0 {
		add("range.offset", "must not be negative, got %d", r.GetOffset())
	} else if r.GetLength() < 0 {
		add("range.length", "must not be negative, got %d", r.GetLength())
	}
	if len(req.GetSchema().GetFields()) == 0 {
		add("schema.fields", "the schema must have at least one field")
	}
	for i, f := range req.GetSchema().GetFields() {
		if err := CheckSchema(&typev1.Schema{Fields: []*typev1.Field{f}}); err != nil {
			add(fmt.Sprintf("schema.fields[%d].type", i), "field %q has no valid type (%v)", f.GetName(), f.GetType())
		}
	}
	seen := make(map[float64]bool)
	for i, q := range req.GetQuantiles() {
		switch {
		case !(q >= 0 && q <= 1):
			add(fmt.Sprintf("quantiles[%d]", i), "must be in [0, 1], got %v", q)
		case seen[q]:
			add(fmt.Sprintf("quantiles[%d]", i), "%v is given twice", q)
		}
		seen[q] = true
	}
	fields := make(map[string]bool, len(req.GetSchema().GetFields()))
	for _, f := range req.GetSchema().GetFields() {
		fields[f.GetName()] = true
	}
	named := make(map[string]int, len(req.GetColumns()))
	for i, name := range req.GetColumns() {
		field := fmt.Sprintf("columns[%d]", i)
		j, twice := named[name]
		switch {
		case name == "":
			add(field, "the column name must not be empty")
		case twice:
			add(field, "%q repeats columns[%d]", name, j)
		case !fields[name]:
			add(field, "%q is not a field of the schema", name)
		}
		if !twice {
			named[name] = i
		}
	}
	return v
}

// badRequestError carries field violations of a request.
type badRequestError struct {
	violations []*errdetails.BadRequest_FieldViolation
}

func (e *badRequestError) Error() string {
	return fmt.Sprintf("invalid request: %s: %s", e.violations[0].GetField(), e.violations[0].GetDescription())
}

// objectError is a storage error about the object named by a request field.
type objectError struct {
	field string
	err   error
}

func (e *objectError) Error() string { return e.field + ": " + e.err.Error() }
func (e *objectError) Unwrap() error { return e.err }

// toStatus maps an error of analyze to a gRPC status. Messages are written
// for the caller; causes that are not the caller's business are logged, not
// returned.
func (s *Server) toStatus(ctx context.Context, req *analyzerv1.AnalyzeRequest, err error) *status.Status {
	var br *badRequestError
	var oe *objectError
	switch {
	case errors.As(err, &br):
		return withDetails(codes.InvalidArgument, "invalid analyze request", &errdetails.BadRequest{FieldViolations: br.violations})
	case errors.Is(err, ErrInvalidQuantile), errors.Is(err, ErrInvalidSchema), errors.Is(err, ErrInvalidColumns):
		return withDetails(codes.InvalidArgument, "invalid analyze request", &errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "request", Description: err.Error()}},
		})
	case errors.As(err, &oe) && errors.Is(err, storage.ErrInvalidKey):
		return withDetails(codes.InvalidArgument, "invalid object key", &errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: oe.field, Description: "not a valid object key"}},
		})
	case errors.As(err, &oe) && errors.Is(err, storage.ErrNotFound) && oe.field == "source.key":
		return withDetails(codes.NotFound, fmt.Sprintf("source object %q not found", req.GetSource().GetKey()), &errdetails.ResourceInfo{
			ResourceType: "object", ResourceName: req.GetSource().GetKey(), Description: "the normalized CSV to analyze",
		})
	case errors.Is(err, ErrHeaderMismatch):
		return withDetails(codes.FailedPrecondition, "the source's header does not match the schema", &errdetails.PreconditionFailure{
			Violations: []*errdetails.PreconditionFailure_Violation{{Type: "HEADER", Subject: req.GetSource().GetKey(), Description: err.Error()}},
		})
	case errors.Is(err, ErrMalformedInput):
		return withDetails(codes.FailedPrecondition, "the source is not normalized CSV of the schema", &errdetails.PreconditionFailure{
			Violations: []*errdetails.PreconditionFailure_Violation{{Type: "FORMAT", Subject: req.GetSource().GetKey(), Description: err.Error()}},
		})
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		// Also covers errors caused by the cancellation, such as a failed send.
		return status.FromContextError(ctxErr)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err)
	}
	if st, ok := status.FromError(err); ok && st.Code() != codes.Unknown && st.Code() != codes.Internal {
		// A stream send failed with a status of the transport.
		return st
	}
	return status.New(codes.Internal, "internal error")
}

// withDetails returns a status with one detail; should attaching it fail,
// the status goes without.
func withDetails(c codes.Code, msg string, detail protoadapt.MessageV1) *status.Status {
	st := status.New(c, msg)
	if ds, err := st.WithDetails(detail); err == nil {
		return ds
	}
	return st
}
