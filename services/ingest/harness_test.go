package ingest

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	analyzerv1 "github.com/csvmesh/csvmesh/gen/csvmesh/analyzer/v1"
	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/ingest/jobstore"
	"github.com/csvmesh/csvmesh/services/internal/grpctest"
	"github.com/csvmesh/csvmesh/services/internal/grpcx"
	"github.com/csvmesh/csvmesh/services/internal/storage"
)

// spans records every span of the test binary; TestMain installs it so that
// trace ids exist and propagate over gRPC as they do in csvmeshd.
var spans = tracetest.NewSpanRecorder()

func TestMain(m *testing.M) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	code := m.Run()
	_ = tp.Shutdown(context.Background())
	os.Exit(code)
}

const waitLimit = 20 * time.Second

// quiet discards the logs of the servers under test; run with -v and set
// it to slog.Default() to see them.
var quiet = slog.New(slog.DiscardHandler)

// eventually polls cond until it holds, failing the test after waitLimit.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// harness is an ingest server with its downstream services, all in process
// over bufconn, with storage and the job database in a temporary directory.
type harness struct {
	t      *testing.T
	root   string
	store  *storage.Dir
	dbPath string
	vconn  validatorv1.ValidatorServiceClient
	aconn  analyzerv1.AnalyzerServiceClient

	jobs   *jobstore.Store
	srv    *Server
	client ingestv1.IngestServiceClient
	stop   func()
}

// newHarness serves val and an as the downstream services and starts an
// ingest server in front of them.
func newHarness(t *testing.T, mk func(storage.Store) (validatorv1.ValidatorServiceServer, analyzerv1.AnalyzerServiceServer), opts ...Option) *harness {
	t.Helper()
	dir := t.TempDir()
	store, err := storage.NewDir(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	val, an := mk(store)
	// Stop waits for the handlers: a fake still writing outputs when a test
	// ends would race with the removal of its temporary directory.
	down := grpcx.NewServer(grpcx.ServerConfig{Logger: quiet}, grpc.WaitForHandlers(true))
	validatorv1.RegisterValidatorServiceServer(down, val)
	analyzerv1.RegisterAnalyzerServiceServer(down, an)
	conn := grpctest.Serve(t, down)
	h := &harness{
		t:      t,
		root:   store.Root(),
		store:  store,
		dbPath: filepath.Join(dir, "jobs.db"),
		vconn:  validatorv1.NewValidatorServiceClient(conn),
		aconn:  analyzerv1.NewAnalyzerServiceClient(conn),
	}
	h.startIngest(true, opts...)
	return h
}

// startIngest opens the database and serves a new ingest Server; with
// start false its workers are not started.
func (h *harness) startIngest(start bool, opts ...Option) {
	t := h.t
	t.Helper()
	jobs, err := jobstore.Open(h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]Option{WithRetry(3, time.Millisecond), WithProgressInterval(0), WithLogger(quiet)}, opts...)
	srv := NewServer(h.store, jobs, h.vconn, h.aconn, opts...)
	if start {
		if err := srv.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	gs := grpcx.NewServer(grpcx.ServerConfig{Logger: quiet})
	ingestv1.RegisterIngestServiceServer(gs, srv)
	lis := grpctest.Listen(t, gs)
	h.jobs, h.srv = jobs, srv
	h.client = ingestv1.NewIngestServiceClient(grpctest.Dial(t, lis))
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			srv.Stop()
			gs.Stop()
			if err := jobs.Close(); err != nil {
				t.Errorf("close job store: %v", err)
			}
		})
	}
	t.Cleanup(h.stop)
}

// restart stops the ingest server and serves a new one on the same
// database and storage.
func (h *harness) restart(opts ...Option) {
	h.stop()
	h.startIngest(true, opts...)
}

// upload sends data in chunks of chunkSize after md and returns the job.
func upload(ctx context.Context, c ingestv1.IngestServiceClient, md *ingestv1.UploadMetadata, data []byte, chunkSize int) (*ingestv1.Job, error) {
	stream, err := c.UploadFile(ctx)
	if err != nil {
		return nil, err
	}
	msgs := []*ingestv1.UploadFileRequest{}
	if md != nil {
		msgs = append(msgs, &ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Metadata{Metadata: md}})
	}
	for off := 0; off < len(data); off += chunkSize {
		end := min(off+chunkSize, len(data))
		msgs = append(msgs, &ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Chunk{Chunk: data[off:end]}})
	}
	for _, m := range msgs {
		if err := stream.Send(m); err != nil {
			if errors.Is(err, io.EOF) {
				break // the server answered early; CloseAndRecv has its status
			}
			return nil, err
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	return resp.GetJob(), nil
}

func (h *harness) mustUpload(md *ingestv1.UploadMetadata, data []byte) *ingestv1.Job {
	h.t.Helper()
	job, err := upload(context.Background(), h.client, md, data, 5)
	if err != nil {
		h.t.Fatalf("upload: %v", err)
	}
	return job
}

// watchAll watches the job from after until the stream ends and returns
// the events.
func (h *harness) watchAll(name string, after int64) []*ingestv1.JobEvent {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	stream, err := h.client.WatchJob(ctx, &ingestv1.WatchJobRequest{Name: name, AfterSequence: after})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []*ingestv1.JobEvent
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			h.t.Fatalf("watch %s: %v", name, err)
		}
		out = append(out, resp.GetEvent())
	}
}

// waitDone waits until the job is terminal and returns it.
func (h *harness) waitDone(name string) *ingestv1.Job {
	h.t.Helper()
	h.watchAll(name, 0)
	resp, err := h.client.GetJob(context.Background(), &ingestv1.GetJobRequest{Name: name})
	if err != nil {
		h.t.Fatal(err)
	}
	if !terminal(resp.GetJob().GetState()) {
		h.t.Fatalf("job %s is %s after its watch ended", name, resp.GetJob().GetState())
	}
	return resp.GetJob()
}

// waitState waits until the job reaches state (by watching its events).
func (h *harness) waitState(name string, state ingestv1.Job_State) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	stream, err := h.client.WatchJob(ctx, &ingestv1.WatchJobRequest{Name: name})
	if err != nil {
		h.t.Fatal(err)
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			h.t.Fatalf("job %s never reached %s: %v", name, state, err)
		}
		if resp.GetEvent().GetState() == state {
			return
		}
	}
}

// download fetches an artifact and returns its content type and bytes.
func (h *harness) download(name string) (string, []byte, error) {
	stream, err := h.client.DownloadArtifact(context.Background(), &ingestv1.DownloadArtifactRequest{Name: name})
	if err != nil {
		return "", nil, err
	}
	var (
		ct  string
		buf bytes.Buffer
	)
	for i := 0; ; i++ {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return ct, buf.Bytes(), nil
		}
		if err != nil {
			return "", nil, err
		}
		if i == 0 {
			ct = resp.GetContentType()
		} else if resp.GetContentType() != "" {
			return "", nil, fmt.Errorf("message %d carries a content type", i)
		}
		buf.Write(resp.GetChunk())
	}
}

// jobDirs lists the directories under the store's jobs/.
func (h *harness) jobDirs() []string {
	h.t.Helper()
	entries, err := os.ReadDir(filepath.Join(h.root, "jobs"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func (h *harness) uploadsInFlight() int {
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	return len(h.srv.uploads)
}

func (h *harness) running() int {
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	return len(h.srv.running)
}

// wantCode fails unless err is a status with code c; it returns the status.
func wantCode(t *testing.T, err error, c codes.Code) *status.Status {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != c {
		t.Fatalf("error = %v, want code %s", err, c)
	}
	return st
}

func badRequestFields(st *status.Status) []string {
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}

func hasDetail[T any](st *status.Status) bool {
	for _, d := range st.Details() {
		if _, ok := d.(T); ok {
			return true
		}
	}
	return false
}

// fakeValidator is a ValidatorServiceServer for orchestration tests. Unless
// fn is set it "validates" by counting lines: every line after the header
// that contains "bad" is rejected, every other line is copied to the
// normalized output.
type fakeValidator struct {
	validatorv1.UnimplementedValidatorServiceServer
	store storage.Store
	fn    func(n int, req *validatorv1.ValidateRequest, stream validatorv1.ValidatorService_ValidateServer) error

	mu       sync.Mutex
	calls    int
	traceIDs []string
}

func (v *fakeValidator) Validate(req *validatorv1.ValidateRequest, stream validatorv1.ValidatorService_ValidateServer) error {
	v.mu.Lock()
	v.calls++
	n := v.calls
	v.traceIDs = append(v.traceIDs, trace.SpanContextFromContext(stream.Context()).TraceID().String())
	v.mu.Unlock()
	if v.fn != nil {
		return v.fn(n, req, stream)
	}
	return fakeValidate(v.store, req, stream)
}

func (v *fakeValidator) callCount() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.calls
}

// fakeSchemaJSON is what fakeValidate writes as the schema artifact.
const fakeSchemaJSON = `{"fields":[{"name":"a","type":"string"}]}`

// fakeParquet is what fakeValidate writes as the Parquet artifact.
const fakeParquet = "PAR1 fake PAR1"

// fakeValidate "validates" by lines: every line after the header that
// contains "bad" is a type-error in field a and rejected, every other line
// is copied to the normalized output. It writes every output the request
// names, applies the options' max_invalid_rows (ThresholdExceeded) and
// warns about invalid rows under it.
func fakeValidate(store storage.Store, req *validatorv1.ValidateRequest, stream validatorv1.ValidatorService_ValidateServer) error {
	ctx := stream.Context()
	src, err := store.Open(ctx, req.GetSource().GetKey())
	if err != nil {
		return status.Error(codes.NotFound, err.Error())
	}
	defer src.Close()
	norm, err := store.Create(ctx, req.GetNormalizedOutput().GetKey())
	if err != nil {
		return err
	}
	defer norm.Abort()
	rej, err := store.Create(ctx, req.GetRejectsOutput().GetKey())
	if err != nil {
		return err
	}
	defer rej.Abort()
	fmt.Fprintln(rej, "line,reason")
	sc := bufio.NewScanner(src)
	var total, valid, rejected, bytesRead int64
	header := true
	for sc.Scan() {
		line := sc.Text()
		offset := bytesRead
		bytesRead += int64(len(line)) + 1
		if header {
			header = false
			fmt.Fprintln(norm, line)
			continue
		}
		total++
		if bytes.Contains([]byte(line), []byte("bad")) {
			rejected++
			fmt.Fprintf(rej, "%d,bad\n", total+1)
			if err := stream.Send(&validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_RowErrors{RowErrors: &validatorv1.RowErrorBatch{
				Errors: []*typev1.RowError{fakeRowError(total+1, offset, line)},
			}}}); err != nil {
				return err
			}
		} else {
			valid++
			fmt.Fprintln(norm, line)
		}
		if err := stream.Send(&validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_Progress{Progress: &validatorv1.ValidationProgress{
			BytesRead: bytesRead, BytesTotal: src.Size(), RowsRead: total,
		}}}); err != nil {
			return err
		}
	}
	if header {
		return status.Error(codes.FailedPrecondition, "the file is empty")
	}
	res := &validatorv1.ValidationResult{
		RowsTotal: total, RowsValid: valid, RowsRejected: rejected, BytesRead: bytesRead,
		Schema:         &typev1.Schema{Fields: []*typev1.Field{{Name: "a", Type: typev1.FieldType_FIELD_TYPE_STRING}}},
		SchemaInferred: req.GetSchema() == nil,
		Dialect:        &typev1.Dialect{Delimiter: cmp.Or(req.GetDialect().GetDelimiter(), ","), Encoding: "utf-8"},
		ErrorTotal:     rejected,
	}
	if rejected > 0 {
		res.ErrorCounts = []*typev1.ErrorCount{{Type: "type-error", FieldName: "a", FieldNumber: 1, Count: rejected}}
	}
	if o := req.GetOptions(); o != nil && o.MaxInvalidRows != nil {
		if rejected > o.GetMaxInvalidRows() {
			res.ThresholdExceeded = fmt.Sprintf("%d rows are invalid, more than max_invalid_rows (%d)", rejected, o.GetMaxInvalidRows())
		} else if rejected > 0 {
			res.Warnings = []string{fmt.Sprintf("%d rows are invalid, within max_invalid_rows (%d)", rejected, o.GetMaxInvalidRows())}
		}
	}
	outputs := []struct {
		ref  *typev1.ObjectRef
		body string
		size *int64
	}{
		{req.GetParquetOutput(), fakeParquet, &res.ParquetSizeBytes},
		{req.GetSchemaOutput(), fakeSchemaJSON, &res.SchemaSizeBytes},
		{req.GetErrorReportOutput(), fmt.Sprintf(`{"errorTotal":%d}`, rejected), &res.ErrorReportSizeBytes},
	}
	for _, o := range outputs {
		if o.ref.GetKey() == "" {
			continue
		}
		if err := writeObject(ctx, store, o.ref.GetKey(), o.body); err != nil {
			return err
		}
		*o.size = int64(len(o.body))
	}
	if err := norm.Commit(); err != nil {
		return err
	}
	if err := rej.Commit(); err != nil {
		return err
	}
	return stream.Send(&validatorv1.ValidateResponse{Event: &validatorv1.ValidateResponse_Result{Result: res}})
}

// fakeRowError is the error fakeValidate reports for a bad line.
func fakeRowError(line, offset int64, value string) *typev1.RowError {
	return &typev1.RowError{Type: "type-error", RowNumber: line, LineNumber: line, ByteOffset: offset,
		FieldNumber: 1, FieldName: "a", Value: value, Message: "bad row"}
}

// writeObject stores body under key.
func writeObject(ctx context.Context, store storage.Store, key, body string) error {
	w, err := store.Create(ctx, key)
	if err != nil {
		return err
	}
	defer w.Abort()
	if _, err := io.WriteString(w, body); err != nil {
		return err
	}
	return w.Commit()
}

// fakeAnalyzer is an AnalyzerServiceServer for orchestration tests. Unless
// fn is set it writes a small JSON report with the row count.
type fakeAnalyzer struct {
	analyzerv1.UnimplementedAnalyzerServiceServer
	store storage.Store
	fn    func(n int, req *analyzerv1.AnalyzeRequest, stream analyzerv1.AnalyzerService_AnalyzeServer) error

	mu       sync.Mutex
	calls    int
	traceIDs []string
	schemas  []*typev1.Schema
	reqs     []*analyzerv1.AnalyzeRequest
}

func (a *fakeAnalyzer) Analyze(req *analyzerv1.AnalyzeRequest, stream analyzerv1.AnalyzerService_AnalyzeServer) error {
	a.mu.Lock()
	a.calls++
	n := a.calls
	a.traceIDs = append(a.traceIDs, trace.SpanContextFromContext(stream.Context()).TraceID().String())
	a.schemas = append(a.schemas, req.GetSchema())
	a.reqs = append(a.reqs, req)
	a.mu.Unlock()
	if a.fn != nil {
		return a.fn(n, req, stream)
	}
	ctx := stream.Context()
	src, err := a.store.Open(ctx, req.GetSource().GetKey())
	if err != nil {
		return status.Error(codes.NotFound, err.Error())
	}
	defer src.Close()
	b, err := io.ReadAll(src)
	if err != nil {
		return err
	}
	rows := int64(bytes.Count(b, []byte("\n")) - 1)
	if err := stream.Send(&analyzerv1.AnalyzeResponse{Event: &analyzerv1.AnalyzeResponse_Progress{Progress: &analyzerv1.AnalysisProgress{
		BytesRead: int64(len(b)), BytesTotal: int64(len(b)), RowsRead: rows,
	}}}); err != nil {
		return err
	}
	w, err := a.store.Create(ctx, req.GetReportOutput().GetKey())
	if err != nil {
		return err
	}
	defer w.Abort()
	js := fmt.Sprintf(`{"rowCount":%d}`, rows)
	io.WriteString(w, js)
	if err := w.Commit(); err != nil {
		return err
	}
	return stream.Send(&analyzerv1.AnalyzeResponse{Event: &analyzerv1.AnalyzeResponse_Result{Result: &analyzerv1.AnalysisResult{
		Report:          &typev1.Report{RowCount: rows, Columns: []*typev1.ColumnStats{{Name: "a", Type: typev1.FieldType_FIELD_TYPE_STRING, Count: rows}}},
		ReportSizeBytes: int64(len(js)),
	}}})
}

// requests returns the requests the analyzer received, in order.
func (a *fakeAnalyzer) requests() []*analyzerv1.AnalyzeRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.reqs)
}

func (a *fakeAnalyzer) callCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

// newFakeHarness serves val and an (defaults when nil) as the downstream
// services, on the harness's store.
func newFakeHarness(t *testing.T, val *fakeValidator, an *fakeAnalyzer, opts ...Option) *harness {
	t.Helper()
	if val == nil {
		val = &fakeValidator{}
	}
	if an == nil {
		an = &fakeAnalyzer{}
	}
	return newHarness(t, func(store storage.Store) (validatorv1.ValidatorServiceServer, analyzerv1.AnalyzerServiceServer) {
		val.store, an.store = store, store
		return val, an
	}, opts...)
}
