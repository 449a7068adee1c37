package analyzer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	analyzerv1 "github.com/csvmesh/csvmesh/gen/csvmesh/analyzer/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/internal/grpctest"
	"github.com/csvmesh/csvmesh/services/internal/storage"
)

// testServer is an analyzer served over bufconn.
type testServer struct {
	client analyzerv1.AnalyzerServiceClient
	// handlerErrs receives what each Analyze handler returned, once it has.
	handlerErrs chan error
}

func startServer(t *testing.T, store storage.Store, opts ...Option) *testServer {
	t.Helper()
	ts := &testServer{handlerErrs: make(chan error, 16)}
	srv := grpc.NewServer(grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		err := h(srv, ss)
		ts.handlerErrs <- err
		return err
	}))
	opts = append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	analyzerv1.RegisterAnalyzerServiceServer(srv, NewServer(store, opts...))
	conn := grpctest.Serve(t, srv)
	ts.client = analyzerv1.NewAnalyzerServiceClient(conn)
	return ts
}

func newDir(t *testing.T) *storage.Dir {
	t.Helper()
	d, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func putObject(t *testing.T, store storage.Store, key, data string) {
	t.Helper()
	w, err := store.Create(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, data); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// collect reads a stream to its end and returns the progress messages, the
// results and the final error.
func collect(stream grpc.ServerStreamingClient[analyzerv1.AnalyzeResponse]) (progress []*analyzerv1.AnalysisProgress, results []*analyzerv1.AnalysisResult, lastIsResult bool, err error) {
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			return progress, results, lastIsResult, nil
		}
		if err != nil {
			return progress, results, lastIsResult, err
		}
		if p := msg.GetProgress(); p != nil {
			progress = append(progress, p)
			lastIsResult = false
		}
		if r := msg.GetResult(); r != nil {
			results = append(results, r)
			lastIsResult = true
		}
	}
}

func TestServerAnalyze(t *testing.T) {
	header, lines := genCSV(11, 3000)
	data := header + strings.Join(lines, "")
	shardStart := len(header) + len(strings.Join(lines[:1000], ""))
	shardLen := len(strings.Join(lines[1000:2500], ""))
	qs := []float64{0.75, 0.1, 0.5}

	for _, tc := range []struct {
		name      string
		rng       *typev1.ByteRange
		hasHeader bool
		want      string // the bytes the report must cover
		output    string
	}{
		{"whole-file", nil, true, data, "reports/whole.json"},
		{"whole-file-no-output", &typev1.ByteRange{}, true, data, ""},
		{"shard", &typev1.ByteRange{Offset: int64(shardStart), Length: int64(shardLen)}, false, data[shardStart : shardStart+shardLen], "reports/shard.json"},
		{"last-shard", &typev1.ByteRange{Offset: int64(shardStart)}, false, data[shardStart:], "reports/last.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newDir(t)
			putObject(t, store, "normalized/trades.csv", data)
			tmp := t.TempDir()
			ts := startServer(t, store, WithProgressInterval(time.Nanosecond), WithMemoryBudget(64<<10), WithTempDir(tmp))
			req := &analyzerv1.AnalyzeRequest{
				Job:            "jobs/j1",
				Source:         &typev1.ObjectRef{Key: "normalized/trades.csv"},
				Range:          tc.rng,
				RangeHasHeader: tc.hasHeader,
				Schema:         testSchema(),
				Quantiles:      qs,
				// Exact figures past the 64 KiB budget: text columns spill.
				ExactCategorical: true,
			}
			if tc.output != "" {
				req.ReportOutput = &typev1.ObjectRef{Key: tc.output}
			}
			stream, err := ts.client.Analyze(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			progress, results, lastIsResult, err := collect(stream)
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			if len(results) != 1 || !lastIsResult {
				t.Fatalf("%d results, last message a result: %v; want exactly one, last", len(results), lastIsResult)
			}
			if len(progress) < 2 {
				t.Fatalf("%d progress messages, want several", len(progress))
			}
			for i, p := range progress {
				if p.GetBytesTotal() != int64(len(tc.want)) {
					t.Errorf("progress %d: bytes_total %d, want %d", i, p.GetBytesTotal(), len(tc.want))
				}
				if i > 0 && (p.GetBytesRead() < progress[i-1].GetBytesRead() || p.GetRowsRead() < progress[i-1].GetRowsRead()) {
					t.Errorf("progress went backwards: %v then %v", progress[i-1], p)
				}
			}
			wantRep, err := Analyze(context.Background(), strings.NewReader(tc.want), testSchema(), tc.hasHeader, qs, Config{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if last := progress[len(progress)-1]; last.GetBytesRead() != int64(len(tc.want)) || last.GetRowsRead() != wantRep.GetRowCount() {
				t.Errorf("last progress %v, want all %d bytes and %d rows", last, len(tc.want), wantRep.GetRowCount())
			}
			res := results[0]
			for _, d := range compareReports(res.GetReport(), wantRep, 1e-12) {
				t.Error(d)
			}
			if tc.output == "" {
				if res.GetReportSizeBytes() != 0 {
					t.Errorf("report_size_bytes = %d without report_output", res.GetReportSizeBytes())
				}
			} else {
				obj, err := store.Open(context.Background(), tc.output)
				if err != nil {
					t.Fatalf("report object: %v", err)
				}
				b, err := io.ReadAll(obj)
				obj.Close()
				if err != nil {
					t.Fatal(err)
				}
				if int64(len(b)) != res.GetReportSizeBytes() {
					t.Errorf("report object has %d bytes, report_size_bytes %d", len(b), res.GetReportSizeBytes())
				}
				if !strings.Contains(string(b), `"row_count"`) || !strings.Contains(string(b), "\n  ") {
					t.Errorf("report JSON is not indented with proto names:\n%.200s", b)
				}
				stored := &typev1.Report{}
				if err := protojson.Unmarshal(b, stored); err != nil {
					t.Fatalf("report object: %v", err)
				}
				if !proto.Equal(stored, res.GetReport()) {
					t.Error("stored report differs from the streamed one")
				}
			}
			if err := <-ts.handlerErrs; err != nil {
				t.Errorf("handler returned %v", err)
			}
			assertEmptyDir(t, tmp)
		})
	}
}

// failingStore fails Create with an error whose text must not reach clients.
type failingStore struct{ storage.Store }

func (failingStore) Create(context.Context, string) (storage.Writer, error) {
	return nil, errors.New("mkdir /var/lib/secret: disk on fire")
}

func TestServerErrors(t *testing.T) {
	good := "a,b\n1,x\n2,y\n"
	schema := &typev1.Schema{Fields: []*typev1.Field{
		{Name: "a", Type: typev1.FieldType_FIELD_TYPE_INTEGER},
		{Name: "b", Type: typev1.FieldType_FIELD_TYPE_STRING},
	}}
	valid := func() *analyzerv1.AnalyzeRequest {
		return &analyzerv1.AnalyzeRequest{
			Job:            "jobs/j2",
			Source:         &typev1.ObjectRef{Key: "in/good.csv"},
			RangeHasHeader: true,
			Schema:         schema,
			ReportOutput:   &typev1.ObjectRef{Key: "out/report.json"},
		}
	}
	for _, tc := range []struct {
		name      string
		edit      func(r *analyzerv1.AnalyzeRequest)
		failing   bool
		wantCode  codes.Code
		wantField string // BadRequest field violation, for InvalidArgument
		wantType  string // PreconditionFailure violation type, for FailedPrecondition
	}{
		{name: "no-source", edit: func(r *analyzerv1.AnalyzeRequest) { r.Source = nil }, wantCode: codes.InvalidArgument, wantField: "source.key"},
		{name: "no-schema", edit: func(r *analyzerv1.AnalyzeRequest) { r.Schema = nil }, wantCode: codes.InvalidArgument, wantField: "schema.fields"},
		{name: "unspecified-type", edit: func(r *analyzerv1.AnalyzeRequest) {
			r.Schema = &typev1.Schema{Fields: []*typev1.Field{{Name: "a"}, {Name: "b", Type: typev1.FieldType_FIELD_TYPE_STRING}}}
		}, wantCode: codes.InvalidArgument, wantField: "schema.fields[0].type"},
		{name: "quantile-above-one", edit: func(r *analyzerv1.AnalyzeRequest) { r.Quantiles = []float64{0.5, 1.5} }, wantCode: codes.InvalidArgument, wantField: "quantiles[1]"},
		{name: "quantile-twice", edit: func(r *analyzerv1.AnalyzeRequest) { r.Quantiles = []float64{0.5, 0.5} }, wantCode: codes.InvalidArgument, wantField: "quantiles[1]"},
		{name: "negative-offset", edit: func(r *analyzerv1.AnalyzeRequest) { r.Range = &typev1.ByteRange{Offset: -1} }, wantCode: codes.InvalidArgument, wantField: "range.offset"},
		{name: "negative-length", edit: func(r *analyzerv1.AnalyzeRequest) { r.Range = &typev1.ByteRange{Length: -1} }, wantCode: codes.InvalidArgument, wantField: "range.length"},
		{name: "range-past-end", edit: func(r *analyzerv1.AnalyzeRequest) { r.Range = &typev1.ByteRange{Offset: 4, Length: int64(len(good))} }, wantCode: codes.InvalidArgument, wantField: "range"},
		{name: "offset-past-end", edit: func(r *analyzerv1.AnalyzeRequest) { r.Range = &typev1.ByteRange{Offset: int64(len(good)) + 1} }, wantCode: codes.InvalidArgument, wantField: "range"},
		{name: "invalid-source-key", edit: func(r *analyzerv1.AnalyzeRequest) { r.Source.Key = "../etc/passwd" }, wantCode: codes.InvalidArgument, wantField: "source.key"},
		{name: "invalid-output-key", edit: func(r *analyzerv1.AnalyzeRequest) { r.ReportOutput.Key = "/abs" }, wantCode: codes.InvalidArgument, wantField: "report_output.key"},
		{name: "missing-source", edit: func(r *analyzerv1.AnalyzeRequest) { r.Source.Key = "in/missing.csv" }, wantCode: codes.NotFound},
		{name: "header-mismatch", edit: func(r *analyzerv1.AnalyzeRequest) { r.Source.Key = "in/other-header.csv" }, wantCode: codes.FailedPrecondition, wantType: "HEADER"},
		{name: "malformed", edit: func(r *analyzerv1.AnalyzeRequest) { r.Source.Key = "in/malformed.csv" }, wantCode: codes.FailedPrecondition, wantType: "FORMAT"},
		{name: "storage-failure", edit: func(*analyzerv1.AnalyzeRequest) {}, failing: true, wantCode: codes.Internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newDir(t)
			putObject(t, dir, "in/good.csv", good)
			putObject(t, dir, "in/other-header.csv", "a,c\n1,x\n")
			putObject(t, dir, "in/malformed.csv", "a,b\n1,x\nseven,y\n")
			var store storage.Store = dir
			if tc.failing {
				store = failingStore{dir}
			}
			ts := startServer(t, store)
			req := valid()
			tc.edit(req)
			stream, err := ts.client.Analyze(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			_, results, _, err := collect(stream)
			if len(results) != 0 {
				t.Errorf("got %d results with an error", len(results))
			}
			st := status.Convert(err)
			if st.Code() != tc.wantCode {
				t.Fatalf("code %v (%v), want %v", st.Code(), err, tc.wantCode)
			}
			if strings.Contains(st.Message(), "secret") || strings.Contains(st.Message(), "fire") {
				t.Errorf("message leaks an internal error: %q", st.Message())
			}
			var fields, types []string
			var resource *errdetails.ResourceInfo
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.BadRequest:
					for _, v := range d.GetFieldViolations() {
						fields = append(fields, v.GetField())
					}
				case *errdetails.PreconditionFailure:
					for _, v := range d.GetViolations() {
						types = append(types, v.GetType())
					}
				case *errdetails.ResourceInfo:
					resource = d
				}
			}
			if tc.wantField != "" && (len(fields) == 0 || fields[0] != tc.wantField) {
				t.Errorf("field violations %v, want %s first", fields, tc.wantField)
			}
			if tc.wantType != "" && (len(types) != 1 || types[0] != tc.wantType) {
				t.Errorf("precondition violations %v, want %s", types, tc.wantType)
			}
			if tc.wantCode == codes.NotFound && resource.GetResourceName() != req.GetSource().GetKey() {
				t.Errorf("resource info %v, want the source key", resource)
			}
			if _, err := dir.Stat(context.Background(), "out/report.json"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("a report was written despite the error (stat: %v)", err)
			}
		})
	}
}

// gatedStore serves objects whose reads past gateAt block until the context
// given to Open is done, then carry on: the analysis must notice the
// cancellation itself.
type gatedStore struct {
	storage.Store
	gateAt  int64
	reached chan struct{}
	once    sync.Once
	mu      sync.Mutex
	end     int64 // the furthest byte read
}

func (g *gatedStore) Open(ctx context.Context, key string) (storage.Object, error) {
	obj, err := g.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return &gatedObject{Object: obj, ctx: ctx, g: g}, nil
}

type gatedObject struct {
	storage.Object
	ctx context.Context
	g   *gatedStore
}

func (o *gatedObject) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > o.g.gateAt {
		o.g.once.Do(func() { close(o.g.reached) })
		<-o.ctx.Done()
	}
	n, err := o.Object.ReadAt(p, off)
	o.g.mu.Lock()
	o.g.end = max(o.g.end, off+int64(n))
	o.g.mu.Unlock()
	return n, err
}

// TestServerCancel cancels an analysis halfway through the file, with and
// without spill files, and checks that it stops promptly with Canceled and
// leaves nothing behind.
func TestServerCancel(t *testing.T) {
	header, lines := genCSV(12, 20000)
	data := header + strings.Join(lines, "")
	for _, tc := range []struct {
		name   string
		budget int64
		spill  bool
	}{
		{"in-memory", 0, false},
		{"spilling", 16 << 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newDir(t)
			putObject(t, dir, "normalized/big.csv", data)
			store := &gatedStore{Store: dir, gateAt: int64(len(data) / 2), reached: make(chan struct{})}
			tmp := t.TempDir()
			ts := startServer(t, store, WithMemoryBudget(tc.budget), WithTempDir(tmp))

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stream, err := ts.client.Analyze(ctx, &analyzerv1.AnalyzeRequest{
				Source:         &typev1.ObjectRef{Key: "normalized/big.csv"},
				RangeHasHeader: true,
				Schema:         testSchema(),
				ReportOutput:   &typev1.ObjectRef{Key: "reports/big.json"},
				// Only exact text columns spill to files.
				ExactCategorical: tc.spill,
			})
			if err != nil {
				t.Fatal(err)
			}
			<-store.reached
			if dirHasFiles(t, tmp) != tc.spill {
				t.Errorf("spill files before the cancellation: %v, want %v", !tc.spill, tc.spill)
			}
			cancel()
			if _, _, _, err := collect(stream); status.Code(err) != codes.Canceled {
				t.Errorf("client got %v, want Canceled", err)
			}
			if err := <-ts.handlerErrs; status.Code(err) != codes.Canceled {
				t.Errorf("handler returned %v, want Canceled", err)
			}
			// Stopping promptly: within about progressEvery rows of the
			// gate, far from the end of the file.
			if store.end > store.gateAt+int64(len(data))/4 {
				t.Errorf("read up to byte %d of %d after the cancellation at %d", store.end, len(data), store.gateAt)
			}
			assertEmptyDir(t, tmp)
			if _, err := dir.Stat(context.Background(), "reports/big.json"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("a report was written despite the cancellation (stat: %v)", err)
			}
		})
	}
}

// TestServerMaxConcurrent checks that an analysis past WithMaxConcurrent
// waits for a slot, gives up at its deadline without writing anything, and
// runs once a slot is free.
func TestServerMaxConcurrent(t *testing.T) {
	header, lines := genCSV(3, 100)
	store := newDir(t)
	putObject(t, store, "normalized/x.csv", header+strings.Join(lines, ""))
	srv := NewServer(store, WithMaxConcurrent(1), WithLogger(slog.New(slog.DiscardHandler)))
	gs := grpc.NewServer()
	analyzerv1.RegisterAnalyzerServiceServer(gs, srv)
	client := analyzerv1.NewAnalyzerServiceClient(grpctest.Serve(t, gs))
	req := &analyzerv1.AnalyzeRequest{
		Job: "jobs/j", Source: &typev1.ObjectRef{Key: "normalized/x.csv"}, RangeHasHeader: true,
		Schema: testSchema(), ReportOutput: &typev1.ObjectRef{Key: "reports/x.json"},
	}

	srv.slots <- struct{}{} // another analysis holds the only slot
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	stream, err := client.Analyze(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := collect(stream); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("analysis without a free slot = %v, want DeadlineExceeded", err)
	}
	if _, err := store.Stat(context.Background(), "reports/x.json"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a report was written by an analysis that never ran: %v", err)
	}

	<-srv.slots // the other analysis ends
	stream, err = client.Analyze(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, results, _, err := collect(stream); err != nil || len(results) != 1 {
		t.Fatalf("analysis with a free slot: %d results, %v", len(results), err)
	}
}
