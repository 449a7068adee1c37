package validator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/internal/grpctest"
	"github.com/csvmesh/csvmesh/services/internal/storage"
	"github.com/csvmesh/csvmesh/services/internal/tableschema"
)

// harness runs a Server over bufconn on a storage.Dir in a temp directory.
type harness struct {
	store  storage.Store
	dir    *storage.Dir
	client validatorv1.ValidatorServiceClient
	// done receives the error each Validate handler returned.
	done chan error
}

func newHarness(t *testing.T, store storage.Store, dir *storage.Dir, opts ...Option) *harness {
	t.Helper()
	h := &harness{store: store, dir: dir, done: make(chan error, 16)}
	srv := grpc.NewServer(grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		err := handler(srv, ss)
		h.done <- err
		return err
	}))
	opts = append([]Option{WithLogger(slog.New(slog.DiscardHandler)), WithSpillDir(t.TempDir())}, opts...)
	validatorv1.RegisterValidatorServiceServer(srv, NewServer(store, opts...))
	conn := grpctest.Serve(t, srv)
	h.client = validatorv1.NewValidatorServiceClient(conn)
	return h
}

func newDirHarness(t *testing.T, opts ...Option) *harness {
	dir, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return newHarness(t, dir, dir, opts...)
}

func (h *harness) put(t *testing.T, key, content string) {
	t.Helper()
	w, err := h.store.Create(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := io.WriteString(w, content); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) get(t *testing.T, key string) string {
	t.Helper()
	b, err := os.ReadFile(h.dir.Root() + "/" + key)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// call runs Validate to the end and returns every response.
func (h *harness) call(ctx context.Context, req *validatorv1.ValidateRequest) ([]*validatorv1.ValidateResponse, error) {
	stream, err := h.client.Validate(ctx, req)
	if err != nil {
		return nil, err
	}
	var out []*validatorv1.ValidateResponse
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, msg)
	}
}

// outputKeys are the keys request and fullRequest write.
var outputKeys = []string{"out/normalized.csv", "out/rejects.csv", "out/normalized.parquet", "out/schema.json", "out/errors.json"}

func request(src string) *validatorv1.ValidateRequest {
	return &validatorv1.ValidateRequest{
		Job:              "jobs/j1",
		Source:           &typev1.ObjectRef{Key: src},
		RangeHasHeader:   true,
		NormalizedOutput: &typev1.ObjectRef{Key: outputKeys[0]},
		RejectsOutput:    &typev1.ObjectRef{Key: outputKeys[1]},
	}
}

// fullRequest asks for every output.
func fullRequest(src string) *validatorv1.ValidateRequest {
	req := request(src)
	req.ParquetOutput = &typev1.ObjectRef{Key: outputKeys[2]}
	req.SchemaOutput = &typev1.ObjectRef{Key: outputKeys[3]}
	req.ErrorReportOutput = &typev1.ObjectRef{Key: outputKeys[4]}
	return req
}

// parquetRows returns the number of rows of a Parquet file.
func parquetRows(t *testing.T, b string) int64 {
	t.Helper()
	f, err := parquet.OpenFile(strings.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("open the Parquet output: %v", err)
	}
	return f.NumRows()
}

func TestServerValidate(t *testing.T) {
	h := newDirHarness(t, WithErrorBatchSize(1), WithProgressInterval(0))
	h.put(t, "in/a.csv", "id,price,when\n1,+01.50,2024-01-02 03:04:05\n2,x,2024-01-03T00:00:00Z\n3\n4,,2024-01-04\n")
	req := fullRequest("in/a.csv")
	req.Schema = schema("id:integer", "price:number", "when:datetime")
	req.Options = &typev1.ValidationOptions{ErrorSampleSize: 1}
	msgs, err := h.call(context.Background(), req)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if err := <-h.done; err != nil {
		t.Fatalf("handler returned %v", err)
	}
	wantNorm := "id,price,when\n1,1.50,2024-01-02T03:04:05\n"
	if got := h.get(t, outputKeys[0]); got != wantNorm {
		t.Errorf("normalized:\n got %q\nwant %q", got, wantNorm)
	}
	wantRej := rejectsHeader +
		"3,3,43,type-error,\"row 3, field 2 (\"\"price\"\"): \"\"x\"\" is not a number\",\"2,x,2024-01-03T00:00:00Z\"\n" +
		"4,4,68,missing-cell,row 4: the row has 1 cell but the header has 3: cells 2 to 3 are missing,3\n" +
		"5,5,70,type-error,\"row 5, field 3 (\"\"when\"\"): \"\"2024-01-04\"\" is not a datetime (YYYY-MM-DDTHH:MM:SS[.fraction][Z|±hh:mm])\",\"4,,2024-01-04\"\n"
	if got := h.get(t, outputKeys[1]); got != wantRej {
		t.Errorf("rejects:\n got %q\nwant %q", got, wantRej)
	}
	// One streamed error (the sample size), one final progress, then the result.
	if len(msgs) != 3 {
		t.Fatalf("got %d messages, want 3: %v", len(msgs), msgs)
	}
	if e := msgs[0].GetRowErrors().GetErrors(); len(e) != 1 || e[0].GetRowNumber() != 3 || e[0].GetFieldName() != "price" || e[0].GetValue() != "x" {
		t.Errorf("row errors = %v", msgs[0])
	}
	if p := msgs[1].GetProgress(); p == nil || p.GetRowsRead() != 4 || p.GetBytesRead() != p.GetBytesTotal() {
		t.Errorf("progress = %v", msgs[1])
	}
	res := msgs[2].GetResult()
	sizes := []int64{res.GetNormalizedSizeBytes(), res.GetRejectsSizeBytes(), res.GetParquetSizeBytes(), res.GetSchemaSizeBytes(), res.GetErrorReportSizeBytes()}
	for i, key := range outputKeys {
		if got := int64(len(h.get(t, key))); got != sizes[i] || got == 0 {
			t.Errorf("%s: %d bytes, the result says %d", key, got, sizes[i])
		}
	}
	if res.GetRowsTotal() != 4 || res.GetRowsValid() != 1 || res.GetRowsRejected() != 3 || res.GetErrorTotal() != 4 || res.GetSchemaInferred() {
		t.Errorf("result = %v", res)
	}
	if n := parquetRows(t, h.get(t, outputKeys[2])); n != 1 {
		t.Errorf("the Parquet output has %d rows, want 1", n)
	}
	wantSchema, err := tableschema.MarshalJSON(req.Schema)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.get(t, outputKeys[3]); got != string(wantSchema)+"\n" {
		t.Errorf("schema output:\n got %s\nwant %s", got, wantSchema)
	}
	var report map[string]any
	if err := json.Unmarshal([]byte(h.get(t, outputKeys[4])), &report); err != nil {
		t.Fatalf("error report: %v", err)
	}
	want := map[string]any{
		"valid":              false,
		"rows":               map[string]any{"total": 4.0, "valid": 1.0, "invalid": 3.0},
		"error_total":        4.0,
		"errors_by_type":     map[string]any{"type-error": 2.0, "missing-cell": 2.0},
		"errors_by_field":    map[string]any{"price": 2.0, "when": 2.0},
		"schema_inferred":    false,
		"threshold_exceeded": "",
		"sample_size":        1.0,
		"warnings":           []any{"3 of 4 rows (75%) are invalid; they are in the rejects output"},
		"sample_errors": []any{map[string]any{
			"type": "type-error", "row_number": "3", "line_number": "3", "byte_offset": "43", "field_number": 2.0,
			"field_name": "price", "value": "x", "message": `row 3, field 2 ("price"): "x" is not a number`,
		}},
	}
	for k, v := range want {
		if got, _ := json.Marshal(report[k]); string(got) != mustJSON(t, v) {
			t.Errorf("error report %s = %s, want %s", k, got, mustJSON(t, v))
		}
	}
	if d := report["dialect"].(map[string]any); d["delimiter"] != "," || d["encoding"] != "utf-8" {
		t.Errorf("error report dialect = %v", d)
	}
	if c := report["error_counts"].([]any); len(c) != 4 {
		t.Errorf("error report error_counts = %v, want 4", c)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestServerInfer checks an inferred schema: the normalized rows are
// rewritten in canonical form once it is known, and the Parquet and schema
// outputs use it.
func TestServerInfer(t *testing.T) {
	h := newDirHarness(t, WithProgressInterval(0), WithWorkers(2), WithBlockSize(16))
	h.put(t, "in/a.csv", "id;price;flag;note\n+007;1,5;TRUE;=x\n8;NA;false;y\n9;2,25;True;\"a;b\"\n")
	req := fullRequest("in/a.csv")
	req.Options = &typev1.ValidationOptions{NeutralizeFormulas: true}
	msgs, err := h.call(context.Background(), req)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	res := msgs[len(msgs)-1].GetResult()
	wantNorm := "id,price,flag,note\n7,1.5,true,'=x\n8,,false,y\n9,2.25,true,a;b\n"
	if got := h.get(t, outputKeys[0]); got != wantNorm {
		t.Errorf("normalized:\n got %q\nwant %q", got, wantNorm)
	}
	if res.GetNormalizedSizeBytes() != int64(len(wantNorm)) || !res.GetSchemaInferred() {
		t.Errorf("result = %v", res)
	}
	var types []typev1.FieldType
	for _, f := range res.GetSchema().GetFields() {
		types = append(types, f.GetType())
	}
	wantTypes := []typev1.FieldType{typev1.FieldType_FIELD_TYPE_INTEGER, typev1.FieldType_FIELD_TYPE_NUMBER,
		typev1.FieldType_FIELD_TYPE_BOOLEAN, typev1.FieldType_FIELD_TYPE_STRING}
	if !slices.Equal(types, wantTypes) {
		t.Errorf("inferred types = %v, want %v", types, wantTypes)
	}
	if n := parquetRows(t, h.get(t, outputKeys[2])); n != 3 {
		t.Errorf("the Parquet output has %d rows, want 3", n)
	}
	parsed, err := tableschema.ParseJSON([]byte(h.get(t, outputKeys[3])))
	if err != nil || !proto.Equal(parsed, res.GetSchema()) {
		t.Errorf("schema output = %v (%v), want %v", parsed, err, res.GetSchema())
	}
}

func TestServerShard(t *testing.T) {
	h := newDirHarness(t)
	content := "a,b\n1,2\n3,4\nx,6\n"
	h.put(t, "in/a.csv", content)
	off := strings.Index(content, "3,4")
	req := request("in/a.csv")
	req.RangeHasHeader = false
	req.Header = []string{"a", "b"}
	req.Range = &typev1.ByteRange{Offset: int64(off)}
	req.FirstLine = 3
	req.Dialect = &typev1.Dialect{Delimiter: ","}
	req.Schema = schema("a:integer", "b:integer")
	msgs, err := h.call(context.Background(), req)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if got, want := h.get(t, outputKeys[0]), "a,b\n3,4\n"; got != want {
		t.Errorf("normalized = %q, want %q", got, want)
	}
	if got, want := h.get(t, outputKeys[1]), rejectsHeader+"3,4,12,type-error,\"row 3, field 1 (\"\"a\"\"): \"\"x\"\" is not an integer\",\"x,6\"\n"; got != want {
		t.Errorf("rejects = %q, want %q", got, want)
	}
	if res := msgs[len(msgs)-1].GetResult(); res.GetBytesRead() != int64(len(content)-off) {
		t.Errorf("bytes read = %d, want %d", res.GetBytesRead(), len(content)-off)
	}
}

func TestServerErrors(t *testing.T) {
	h := newDirHarness(t)
	h.put(t, "in/empty.csv", "")
	h.put(t, "in/header.csv", "a,b\n")
	h.put(t, "in/a.csv", "id,px\n1,2\n")
	tests := []struct {
		name      string
		mod       func(*validatorv1.ValidateRequest)
		code      codes.Code
		field     string // BadRequest field, for InvalidArgument
		violation string // PreconditionFailure type, for FailedPrecondition
		msg       string
	}{
		{"no source", func(r *validatorv1.ValidateRequest) { r.Source = nil }, codes.InvalidArgument, "source.key", "", "invalid request: the source object is required"},
		{"no outputs", func(r *validatorv1.ValidateRequest) { r.NormalizedOutput, r.RejectsOutput = nil, nil }, codes.InvalidArgument, "normalized_output.key", "", ""},
		{"output over source", func(r *validatorv1.ValidateRequest) { r.RejectsOutput.Key = "in/a.csv" }, codes.InvalidArgument, "rejects_output.key", "", ""},
		{"two outputs, one key", func(r *validatorv1.ValidateRequest) { r.SchemaOutput.Key = outputKeys[4] }, codes.InvalidArgument, "error_report_output.key", "", ""},
		{"output without a key", func(r *validatorv1.ValidateRequest) { r.ParquetOutput.Key = "" }, codes.InvalidArgument, "parquet_output.key", "", ""},
		{"bad delimiter", func(r *validatorv1.ValidateRequest) { r.Dialect = &typev1.Dialect{Delimiter: ";;"} }, codes.InvalidArgument, "dialect.delimiter", "", ""},
		{"quote delimiter", func(r *validatorv1.ValidateRequest) { r.Dialect = &typev1.Dialect{Delimiter: `"`} }, codes.InvalidArgument, "dialect.delimiter", "", ""},
		{"unknown encoding", func(r *validatorv1.ValidateRequest) { r.Dialect = &typev1.Dialect{Encoding: "ebcdic"} }, codes.InvalidArgument, "dialect.encoding", "", ""},
		{"bad ratio", func(r *validatorv1.ValidateRequest) {
			r.Options = &typev1.ValidationOptions{MaxInvalidRatio: proto.Float64(2)}
		}, codes.InvalidArgument, "options.max_invalid_ratio", "", ""},
		{"no header for a shard", func(r *validatorv1.ValidateRequest) { r.RangeHasHeader = false }, codes.InvalidArgument, "header", "", ""},
		{"negative range", func(r *validatorv1.ValidateRequest) { r.Range = &typev1.ByteRange{Offset: -1} }, codes.InvalidArgument, "range", "", ""},
		{"range past the end", func(r *validatorv1.ValidateRequest) { r.Range = &typev1.ByteRange{Offset: 5, Length: 100} }, codes.InvalidArgument, "range", "", ""},
		{"invalid key", func(r *validatorv1.ValidateRequest) { r.Source.Key = "../etc/passwd" }, codes.InvalidArgument, "source.key", "", ""},
		{"field without a type", func(r *validatorv1.ValidateRequest) {
			r.Schema = &typev1.Schema{Fields: []*typev1.Field{{Name: "id"}}}
		}, codes.InvalidArgument, "schema.fields[0].type", "", ""},
		{"bad constraint", func(r *validatorv1.ValidateRequest) {
			r.Schema = schema("id:integer", "px:integer")
			r.Schema.Fields[1].Constraints = &typev1.FieldConstraints{Minimum: proto.String("abc")}
		}, codes.InvalidArgument, "schema.fields[1].constraints.minimum", "", ""},
		{"missing source", func(r *validatorv1.ValidateRequest) { r.Source.Key = "in/nope.csv" }, codes.NotFound, "", "", "the source object does not exist"},
		{"empty file", func(r *validatorv1.ValidateRequest) { r.Source.Key = "in/empty.csv" }, codes.FailedPrecondition, "", ViolationEmptyFile, "the file is empty"},
		{"header only", func(r *validatorv1.ValidateRequest) { r.Source.Key = "in/header.csv" }, codes.FailedPrecondition, "", ViolationNoDataRows, "the file has a header row but no data rows"},
		{"header mismatch", func(r *validatorv1.ValidateRequest) { r.Schema = schema("id:integer", "price:number") },
			codes.FailedPrecondition, "", ViolationHeaderMismatch, `header column 2 is "px" but the schema expects "price"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := fullRequest("in/a.csv")
			tc.mod(req)
			_, err := h.call(context.Background(), req)
			<-h.done
			st := status.Convert(err)
			if st.Code() != tc.code {
				t.Fatalf("code = %v (%v), want %v", st.Code(), err, tc.code)
			}
			if tc.msg != "" && st.Message() != tc.msg {
				t.Errorf("message = %q, want %q", st.Message(), tc.msg)
			}
			var fields, types []string
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.BadRequest:
					for _, v := range d.GetFieldViolations() {
						fields = append(fields, v.GetField())
					}
				case *errdetails.PreconditionFailure:
					for _, v := range d.GetViolations() {
						types = append(types, v.GetType())
						if v.GetDescription() != st.Message() {
							t.Errorf("violation description %q differs from message %q", v.GetDescription(), st.Message())
						}
					}
				}
			}
			if tc.field != "" && (len(fields) == 0 || fields[0] != tc.field) {
				t.Errorf("BadRequest fields = %v, want %s first", fields, tc.field)
			}
			if tc.violation != "" && (len(types) != 1 || types[0] != tc.violation) {
				t.Errorf("PreconditionFailure types = %v, want %s", types, tc.violation)
			}
			for _, key := range outputKeys {
				if _, err := h.store.Stat(context.Background(), key); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("%s exists after a failed call (stat err %v)", key, err)
				}
			}
		})
	}
}

// gatedStore serves objects whose reads past the first block wait until
// gate is closed, so a test can act while a validation is in progress.
type gatedStore struct {
	*storage.Dir
	gate chan struct{}
}

func (s *gatedStore) Open(ctx context.Context, key string) (storage.Object, error) {
	obj, err := s.Dir.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return &gatedObject{Object: obj, gate: s.gate}, nil
}

type gatedObject struct {
	storage.Object
	gate chan struct{}
}

func (o *gatedObject) ReadAt(p []byte, off int64) (int, error) {
	if off > 64<<10 {
		<-o.gate
	}
	return o.Object.ReadAt(p, off)
}

func TestServerCancel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		schema *typev1.Schema
	}{
		{"schema", schema("a:integer", "b:integer")},
		{"infer", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, err := storage.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			store := &gatedStore{Dir: dir, gate: make(chan struct{})}
			spill := t.TempDir()
			// A negative interval sends progress after every block.
			h := newHarness(t, store, dir, WithProgressInterval(-1), WithBlockSize(4<<10), WithSpillDir(spill))
			var content strings.Builder
			content.WriteString("a,b\n")
			for content.Len() < 1<<20 {
				content.WriteString("1,2\n")
			}
			h.put(t, "in/big.csv", content.String())

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := fullRequest("in/big.csv")
			req.Schema = tc.schema
			stream, err := h.client.Validate(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := stream.Recv()
			if err != nil || msg.GetProgress() == nil {
				t.Fatalf("first message = %v, %v; want progress", msg, err)
			}
			cancel()
			close(store.gate)
			for err == nil {
				_, err = stream.Recv()
			}
			if status.Code(err) != codes.Canceled {
				t.Errorf("client got %v, want Canceled", err)
			}
			if err := <-h.done; status.Code(err) != codes.Canceled {
				t.Errorf("handler returned %v, want Canceled", err)
			}
			for _, key := range outputKeys {
				if _, err := dir.Stat(context.Background(), key); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("%s exists after cancellation (stat err %v)", key, err)
				}
			}
			for _, d := range []string{dir.Root() + "/out", spill} {
				if entries, _ := os.ReadDir(d); len(entries) != 0 {
					t.Errorf("%s holds %d leftover files after cancellation", d, len(entries))
				}
			}
		})
	}
}

// TestErrorReportSchema checks that errors-report.schema.json is valid JSON
// and describes exactly the properties of an ErrorReport.
func TestErrorReportSchema(t *testing.T) {
	b, err := os.ReadFile("errors-report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("errors-report.schema.json: %v", err)
	}
	report, err := MarshalErrorReport(&validatorv1.ValidationResult{}, []*typev1.RowError{{Type: "blank-row"}}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]json.RawMessage
	if err := json.Unmarshal(report, &r); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range r {
		keys = append(keys, k)
		if _, ok := s.Properties[k]; !ok {
			t.Errorf("the JSON Schema does not describe %q", k)
		}
	}
	slices.Sort(keys)
	req := slices.Sorted(slices.Values(s.Required))
	if !slices.Equal(keys, req) {
		t.Errorf("required = %v, report keys %v", req, keys)
	}
	var sample []map[string]json.RawMessage
	if err := json.Unmarshal(r["sample_errors"], &sample); err != nil || len(sample) != 1 || len(sample[0]) != 8 {
		t.Errorf("sample_errors = %s (%v), want one error with its 8 fields", r["sample_errors"], err)
	}
	if !bytes.Contains(r["sample_errors"], []byte(`"row_number": "0"`)) {
		t.Errorf("sample_errors = %s, want protojson int64 strings", r["sample_errors"])
	}
}

// TestServerParquetValueError: a valid datetime the Parquet file cannot
// hold (nanoseconds chose the unit, then a year past 2262) does not fail
// validation: the job's other outputs are written, the Parquet output is
// not, and a warning says why.
func TestServerParquetValueError(t *testing.T) {
	for _, infer := range []bool{false, true} {
		t.Run(fmt.Sprintf("infer=%v", infer), func(t *testing.T) {
			h := newDirHarness(t, WithProgressInterval(0))
			src := "d,n\n2026-01-01T00:00:00.123456789Z,1\n2300-01-01T00:00:00Z,2\n"
			h.put(t, "in/a.csv", src)
			req := fullRequest("in/a.csv")
			if !infer {
				req.Schema = &typev1.Schema{Fields: []*typev1.Field{
					{Name: "d", Type: typev1.FieldType_FIELD_TYPE_DATETIME},
					{Name: "n", Type: typev1.FieldType_FIELD_TYPE_INTEGER},
				}}
			}
			msgs, err := h.call(context.Background(), req)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			res := msgs[len(msgs)-1].GetResult()
			if res.GetRowsValid() != 2 || res.GetParquetSizeBytes() != 0 {
				t.Fatalf("result = %v, want 2 valid rows and no Parquet", res)
			}
			if len(res.GetWarnings()) == 0 || !strings.Contains(res.GetWarnings()[len(res.GetWarnings())-1], "no Parquet file was written: row 3 (line 3), column 1 (\"d\")") {
				t.Errorf("warnings = %q, want one saying why there is no Parquet file", res.GetWarnings())
			}
			if got := h.get(t, outputKeys[0]); got != src {
				t.Errorf("normalized = %q, want %q", got, src)
			}
			if _, err := h.dir.Stat(context.Background(), outputKeys[2]); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Parquet output: Stat = %v, want not found", err)
			}
		})
	}
}
