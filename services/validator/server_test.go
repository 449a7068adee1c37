package validator

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/internal/grpctest"
	"github.com/csvmesh/csvmesh/services/internal/storage"
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
	opts = append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)
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

func request(src string) *validatorv1.ValidateRequest {
	return &validatorv1.ValidateRequest{
		Job:              "jobs/j1",
		Source:           &typev1.ObjectRef{Key: src},
		RangeHasHeader:   true,
		NormalizedOutput: &typev1.ObjectRef{Key: "out/normalized.csv"},
		RejectsOutput:    &typev1.ObjectRef{Key: "out/rejects.csv"},
	}
}

func TestServerValidate(t *testing.T) {
	h := newDirHarness(t, WithErrorBatchSize(1), WithMaxStreamedErrors(1), WithProgressInterval(0))
	h.put(t, "in/a.csv", "id,price,when\n1,+01.50,2024-01-02 03:04:05\n2,x,2024-01-03T00:00:00Z\n3\n4,NA,2024-01-04\n")
	req := request("in/a.csv")
	req.Schema = schema("id:integer", "price:number", "when:datetime")
	msgs, err := h.call(context.Background(), req)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if err := <-h.done; err != nil {
		t.Fatalf("handler returned %v", err)
	}
	wantNorm := "id,price,when\n1,1.5,2024-01-02T03:04:05Z\n4,,2024-01-04T00:00:00Z\n"
	if got := h.get(t, "out/normalized.csv"); got != wantNorm {
		t.Errorf("normalized:\n got %q\nwant %q", got, wantNorm)
	}
	wantRej := rejectsHeader +
		"3,3,2,price,type,\"column 2 (\"\"price\"\"): \"\"x\"\" is not a number\",\"2,x,2024-01-03T00:00:00Z\"\n" +
		"4,4,0,,field_count,the row has 1 fields but the header has 3,3\n"
	if got := h.get(t, "out/rejects.csv"); got != wantRej {
		t.Errorf("rejects:\n got %q\nwant %q", got, wantRej)
	}
	// One streamed error (the cap), one final progress, then the result.
	if len(msgs) != 3 {
		t.Fatalf("got %d messages, want 3: %v", len(msgs), msgs)
	}
	if e := msgs[0].GetRowErrors().GetErrors(); len(e) != 1 || e[0].GetLine() != 3 || e[0].GetField() != "price" || e[0].GetValue() != "x" {
		t.Errorf("row errors = %v", msgs[0])
	}
	if p := msgs[1].GetProgress(); p == nil || p.GetRowsRead() != 4 || p.GetBytesRead() != p.GetBytesTotal() {
		t.Errorf("progress = %v", msgs[1])
	}
	res := msgs[2].GetResult()
	if res == nil || res.GetRowsTotal() != 4 || res.GetRowsValid() != 2 || res.GetRowsRejected() != 2 ||
		res.GetNormalizedSizeBytes() != int64(len(wantNorm)) || res.GetRejectsSizeBytes() != int64(len(wantRej)) {
		t.Errorf("result = %v", msgs[2])
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
	req.Schema = schema("a:integer", "b:integer")
	msgs, err := h.call(context.Background(), req)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if got, want := h.get(t, "out/normalized.csv"), "a,b\n3,4\n"; got != want {
		t.Errorf("normalized = %q, want %q", got, want)
	}
	if got, want := h.get(t, "out/rejects.csv"), rejectsHeader+"4,3,1,a,type,\"column 1 (\"\"a\"\"): \"\"x\"\" is not an integer\",\"x,6\"\n"; got != want {
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
		{"bad delimiter", func(r *validatorv1.ValidateRequest) { r.Dialect = &typev1.Dialect{Delimiter: ";;"} }, codes.InvalidArgument, "dialect.delimiter", "", ""},
		{"quote delimiter", func(r *validatorv1.ValidateRequest) { r.Dialect = &typev1.Dialect{Delimiter: `"`} }, codes.InvalidArgument, "dialect.delimiter", "", ""},
		{"no header for a shard", func(r *validatorv1.ValidateRequest) { r.RangeHasHeader = false }, codes.InvalidArgument, "header", "", ""},
		{"negative range", func(r *validatorv1.ValidateRequest) { r.Range = &typev1.ByteRange{Offset: -1} }, codes.InvalidArgument, "range", "", ""},
		{"range past the end", func(r *validatorv1.ValidateRequest) { r.Range = &typev1.ByteRange{Offset: 5, Length: 100} }, codes.InvalidArgument, "range", "", ""},
		{"invalid key", func(r *validatorv1.ValidateRequest) { r.Source.Key = "../etc/passwd" }, codes.InvalidArgument, "source.key", "", ""},
		{"bad schema", func(r *validatorv1.ValidateRequest) {
			r.Schema = &typev1.Schema{Fields: []*typev1.Field{{Name: "id"}}}
		}, codes.InvalidArgument, "schema.fields[0].type", "", ""},
		{"missing source", func(r *validatorv1.ValidateRequest) { r.Source.Key = "in/nope.csv" }, codes.NotFound, "", "", "the source object does not exist"},
		{"empty file", func(r *validatorv1.ValidateRequest) { r.Source.Key = "in/empty.csv" }, codes.FailedPrecondition, "", ViolationEmptyFile, "the file is empty"},
		{"header only", func(r *validatorv1.ValidateRequest) { r.Source.Key = "in/header.csv" }, codes.FailedPrecondition, "", ViolationNoDataRows, "the file has a header row but no data rows"},
		{"header mismatch", func(r *validatorv1.ValidateRequest) { r.Schema = schema("id:integer", "price:number") },
			codes.FailedPrecondition, "", ViolationHeaderMismatch, `header column 2 is "px" but the schema expects "price"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := request("in/a.csv")
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
			for _, key := range []string{"out/normalized.csv", "out/rejects.csv"} {
				if _, err := h.store.Stat(context.Background(), key); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("%s exists after a failed call (stat err %v)", key, err)
				}
			}
		})
	}
}

// gatedStore serves objects whose reads past the first block until gate is
// closed, so a test can act while a validation is in progress.
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
	if off > 0 {
		<-o.gate
	}
	return o.Object.ReadAt(p, off)
}

func TestServerCancel(t *testing.T) {
	dir, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store := &gatedStore{Dir: dir, gate: make(chan struct{})}
	// A 1ns interval sends progress as soon as the first block is parsed.
	h := newHarness(t, store, dir, WithProgressInterval(1))
	var content strings.Builder
	content.WriteString("a,b\n")
	for content.Len() < 1<<20 {
		content.WriteString("1,2\n")
	}
	h.put(t, "in/big.csv", content.String())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := h.client.Validate(ctx, request("in/big.csv"))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.Recv()
	if err != nil || msg.GetProgress() == nil {
		t.Fatalf("first message = %v, %v; want progress", msg, err)
	}
	cancel()
	close(store.gate)
	if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
		t.Errorf("client got %v, want Canceled", err)
	}
	if err := <-h.done; status.Code(err) != codes.Canceled {
		t.Errorf("handler returned %v, want Canceled", err)
	}
	for _, key := range []string{"out/normalized.csv", "out/rejects.csv"} {
		if _, err := dir.Stat(context.Background(), key); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s exists after cancellation (stat err %v)", key, err)
		}
	}
	entries, _ := os.ReadDir(dir.Root() + "/out")
	if len(entries) != 0 {
		t.Errorf("out/ holds %d leftover files after cancellation", len(entries))
	}
}
