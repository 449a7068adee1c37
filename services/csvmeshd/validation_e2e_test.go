package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/internal/tableschema"
)

// update rewrites the golden files in testdata instead of comparing with
// them: go test ./services/csvmeshd/ -run TestValidationEveryErrorType -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The every_error fixture: a trades file with one row for every error type
// (and for each kind of constraint), checked against
// testdata/every_error.schema.json with the encoding given as UTF-8 (the
// file has one invalid UTF-8 byte).
const (
	everyErrorCSV    = "testdata/every_error.csv"
	everyErrorSchema = "testdata/every_error.schema.json"
	everyErrorGolden = "testdata/every_error.rejects.golden.csv"
)

// everyErrorNormalized is the normalized output of the fixture: its three
// valid rows.
const everyErrorNormalized = "id,symbol,side,price,qty,ref,day\n" +
	"1,AAPL,BUY,189.5,100,r1,2024-01-02\n" +
	"2,MSFT,SELL,411.25,50,r2,2024-01-03\n" +
	"16,TXN,SELL,10,5,r17,2024-01-17\n"

// everyErrorRows are the fixture's expected row counts.
var everyErrorRows = struct{ total, valid, rejected int64 }{total: 18, valid: 3, rejected: 15}

// everyErrorCounts are the fixture's expected error counts, sorted by
// sortCounts. The sample errors carry the field numbers of extra cells (8
// here); their count is the row's.
var everyErrorCounts = []*typev1.ErrorCount{
	{Type: "blank-row", Count: 1},
	{Type: "constraint-error", FieldName: "symbol", FieldNumber: 2, Count: 3}, // minLength, maxLength, pattern
	{Type: "constraint-error", FieldName: "side", FieldNumber: 3, Count: 1},   // enum
	{Type: "constraint-error", FieldName: "price", FieldNumber: 4, Count: 2},  // minimum, maximum
	{Type: "constraint-error", FieldName: "qty", FieldNumber: 5, Count: 1},    // required
	{Type: "encoding-error", FieldName: "ref", FieldNumber: 6, Count: 1},
	{Type: "extra-cell", Count: 1},                                      // counted for the row: extra cells sit at any position
	{Type: "malformed-row", FieldName: "ref", FieldNumber: 6, Count: 1}, // the field whose quoting is broken
	{Type: "missing-cell", FieldName: "day", FieldNumber: 7, Count: 1},
	{Type: "primary-key", Count: 1},
	{Type: "type-error", FieldName: "price", FieldNumber: 4, Count: 1},
	{Type: "unique-error", FieldName: "ref", FieldNumber: 6, Count: 1},
}

// everyErrorSamples are the fixture's errors in file order: row number and
// type.
var everyErrorSamples = []string{
	"4 blank-row", "5 extra-cell", "6 missing-cell", "7 type-error", "8 constraint-error", "9 constraint-error",
	"10 constraint-error", "11 constraint-error", "12 constraint-error", "13 constraint-error", "14 constraint-error",
	"15 unique-error", "16 primary-key", "17 encoding-error", "18 malformed-row",
}

func sortCounts(c []*typev1.ErrorCount) []*typev1.ErrorCount {
	out := slices.Clone(c)
	slices.SortFunc(out, func(a, b *typev1.ErrorCount) int {
		if x := strings.Compare(a.GetType(), b.GetType()); x != 0 {
			return x
		}
		return int(a.GetFieldNumber() - b.GetFieldNumber())
	})
	return out
}

func readFixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// uploadWith uploads data over gRPC with md (whose file name it sets) and
// returns the job.
func (c *client) uploadWith(t *testing.T, md *ingestv1.UploadMetadata, data []byte) *ingestv1.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stream, err := c.UploadFile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Metadata{Metadata: md}}); err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 64 {
		chunk := data[off:min(off+64, len(data))]
		if err := stream.Send(&ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Chunk{Chunk: chunk}}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatalf("upload %s: %v", md.GetFileName(), err)
	}
	return resp.GetJob()
}

// restUpload uploads data through the gateway as a multipart form with
// fields (in order, before the file part) and returns the job's name.
func restUpload(t *testing.T, gateway, name string, fields [][2]string, data []byte) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+gateway+"/v1/jobs:upload", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST upload: %s\n%s", resp.Status, b)
	}
	var up struct {
		Job struct {
			Name string `json:"name"`
		} `json:"job"`
	}
	if err := json.Unmarshal(b, &up); err != nil || up.Job.Name == "" {
		t.Fatalf("REST upload answered %s (%v)", b, err)
	}
	return up.Job.Name
}

// finished follows a job to its end and returns it.
func (c *client) finished(t *testing.T, name string) *ingestv1.Job {
	t.Helper()
	checkEventLog(t, c.watch(t, name, 0, nil), 0)
	got, err := c.GetJob(context.Background(), &ingestv1.GetJobRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return got.GetJob()
}

// downloadAll fetches an artifact and returns its content type and bytes.
func downloadAll(c *client, name string) (string, []byte, error) {
	stream, err := c.DownloadArtifact(context.Background(), &ingestv1.DownloadArtifactRequest{Name: name})
	if err != nil {
		return "", nil, err
	}
	var (
		ct  string
		buf bytes.Buffer
	)
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return ct, buf.Bytes(), nil
		}
		if err != nil {
			return "", nil, err
		}
		if resp.GetContentType() != "" {
			ct = resp.GetContentType()
		}
		buf.Write(resp.GetChunk())
	}
}

// checkRejectsGolden compares the rejects artifact with the golden file,
// byte for byte (or rewrites the golden file with -update).
func checkRejectsGolden(t *testing.T, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(everyErrorGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", everyErrorGolden)
		return
	}
	if want := readFixture(t, everyErrorGolden); !bytes.Equal(got, want) {
		t.Errorf("rejects artifact differs from %s:\n got %q\nwant %q", everyErrorGolden, got, want)
	}
}

// checkEveryErrorValidation checks the validation summary of a job of the
// every_error fixture.
func checkEveryErrorValidation(t *testing.T, job *ingestv1.Job, schema *typev1.Schema) {
	t.Helper()
	v := job.GetValidation()
	if v.GetRowsTotal() != everyErrorRows.total || v.GetRowsValid() != everyErrorRows.valid || v.GetRowsRejected() != everyErrorRows.rejected {
		t.Errorf("rows total/valid/rejected %d/%d/%d, want %d/%d/%d", v.GetRowsTotal(), v.GetRowsValid(), v.GetRowsRejected(),
			everyErrorRows.total, everyErrorRows.valid, everyErrorRows.rejected)
	}
	got, want := sortCounts(v.GetErrorCounts()), everyErrorCounts
	if len(got) != len(want) || !slices.EqualFunc(got, want, func(a, b *typev1.ErrorCount) bool { return proto.Equal(a, b) }) {
		t.Errorf("error counts:\n%s\nwant\n%s", countsText(got), countsText(want))
	}
	if v.GetErrorTotal() != int64(len(everyErrorSamples)) {
		t.Errorf("error total %d, want %d", v.GetErrorTotal(), len(everyErrorSamples))
	}
	var samples []string
	for _, e := range v.GetSampleErrors() {
		samples = append(samples, fmt.Sprintf("%d %s", e.GetRowNumber(), e.GetType()))
		if e.GetMessage() == "" || e.GetLineNumber() != e.GetRowNumber() {
			t.Errorf("sample error %v: no message, or its line is not its row (the file has one line per row)", e)
		}
	}
	if !slices.Equal(samples, everyErrorSamples) {
		t.Errorf("sample errors %q, want %q", samples, everyErrorSamples)
	}
	if v.GetSchemaInferred() || !proto.Equal(v.GetSchema(), schema) {
		t.Errorf("validation schema (inferred %v) %v, want the given %v", v.GetSchemaInferred(), v.GetSchema(), schema)
	}
	if d := v.GetDialect(); d.GetDelimiter() != "," || d.GetEncoding() != "utf-8" {
		t.Errorf("validation dialect %v, want ',' and utf-8", d)
	}
	if t.Failed() {
		for _, e := range v.GetSampleErrors() {
			t.Logf("sample error: %v", e)
		}
	}
}

func countsText(c []*typev1.ErrorCount) string {
	var b strings.Builder
	for _, e := range c {
		fmt.Fprintf(&b, "  %s %q #%d: %d\n", e.GetType(), e.GetFieldName(), e.GetFieldNumber(), e.GetCount())
	}
	return b.String()
}

// checkOutputs checks the artifacts a job of the every_error fixture lists
// and that each downloads: the rejects byte for byte, the schema as the
// given one, the error report naming every error type, and, when the job
// went on, the normalized CSV and Parquet.
func checkOutputs(t *testing.T, c *client, job *ingestv1.Job, schema *typev1.Schema, wantKinds []ingestv1.Artifact_Kind) {
	t.Helper()
	var kinds []ingestv1.Artifact_Kind
	for _, a := range job.GetArtifacts() {
		kinds = append(kinds, a.GetKind())
	}
	if !slices.Equal(kinds, wantKinds) {
		t.Errorf("artifacts %v, want %v", kinds, wantKinds)
	}
	get := func(seg, wantType string) []byte {
		t.Helper()
		ct, body, err := downloadAll(c, job.GetName()+"/artifacts/"+seg)
		if err != nil {
			t.Fatalf("download %s: %v", seg, err)
		}
		if ct != wantType {
			t.Errorf("%s artifact has content type %q, want %q", seg, ct, wantType)
		}
		return body
	}
	checkRejectsGolden(t, get("rejects", "text/csv"))

	got, err := tableschema.ParseJSON(get("schema", "application/json"))
	if err != nil || !proto.Equal(got, schema) {
		t.Errorf("schema artifact parses to %v (%v), want %v", got, err, schema)
	}
	report := get("errors", "application/json")
	if !json.Valid(report) {
		t.Errorf("error report is not JSON: %q", report)
	}
	for _, ec := range everyErrorCounts {
		if !bytes.Contains(report, []byte(`"`+ec.GetType()+`"`)) {
			t.Errorf("error report does not name %s: %s", ec.GetType(), report)
		}
	}
	if !slices.Contains(wantKinds, ingestv1.Artifact_KIND_NORMALIZED) {
		return
	}
	if norm := get("normalized", "text/csv"); string(norm) != everyErrorNormalized {
		t.Errorf("normalized artifact %q, want %q", norm, everyErrorNormalized)
	}
	pq := get("parquet", "application/vnd.apache.parquet")
	if len(pq) < 12 || string(pq[:4]) != "PAR1" || string(pq[len(pq)-4:]) != "PAR1" {
		t.Errorf("parquet artifact of %d bytes is not a Parquet file", len(pq))
	}
}

// TestValidationEveryErrorType runs a file with an error of every type
// through the four real processes, uploaded with a Table Schema over gRPC
// and over REST, and checks the exact counts, the rejects byte for byte and
// the other artifacts; then the same file over a threshold, which fails the
// job but keeps what explains why.
func TestValidationEveryErrorType(t *testing.T) {
	m := startMesh4(t)
	c := newClient(t, m.ingestAddr)
	data := readFixture(t, everyErrorCSV)
	schemaJSON := readFixture(t, everyErrorSchema)
	schema, err := tableschema.ParseJSON(schemaJSON)
	if err != nil {
		t.Fatal(err)
	}
	st := &structpb.Struct{}
	if err := protojson.Unmarshal(schemaJSON, st); err != nil {
		t.Fatal(err)
	}
	utf8Dialect := &typev1.Dialect{Encoding: "utf-8"}
	succeeded := []ingestv1.Artifact_Kind{
		ingestv1.Artifact_KIND_SOURCE, ingestv1.Artifact_KIND_NORMALIZED, ingestv1.Artifact_KIND_PARQUET, ingestv1.Artifact_KIND_REJECTS,
		ingestv1.Artifact_KIND_SCHEMA, ingestv1.Artifact_KIND_ERROR_REPORT, ingestv1.Artifact_KIND_REPORT,
	}
	failed := []ingestv1.Artifact_Kind{
		ingestv1.Artifact_KIND_SOURCE, ingestv1.Artifact_KIND_REJECTS, ingestv1.Artifact_KIND_SCHEMA, ingestv1.Artifact_KIND_ERROR_REPORT,
	}

	t.Run("gRPC", func(t *testing.T) {
		job := c.uploadWith(t, &ingestv1.UploadMetadata{FileName: "every_error.csv", TableSchema: st, Dialect: utf8Dialect}, data)
		if !proto.Equal(job.GetSchema(), schema) || !proto.Equal(job.GetDialect(), utf8Dialect) {
			t.Errorf("uploaded job has schema %v and dialect %v", job.GetSchema(), job.GetDialect())
		}
		done := c.finished(t, job.GetName())
		if done.GetState() != ingestv1.Job_STATE_SUCCEEDED {
			t.Fatalf("job ended %s: %s", done.GetState(), done.GetFailureReason())
		}
		checkEveryErrorValidation(t, done, schema)
		checkOutputs(t, c, done, schema, succeeded)
		if done.GetReport().GetRowCount() != everyErrorRows.valid {
			t.Errorf("report of %d rows, want %d", done.GetReport().GetRowCount(), everyErrorRows.valid)
		}
	})

	t.Run("REST", func(t *testing.T) {
		name := restUpload(t, m.gatewayAddr, "every_error.csv", [][2]string{
			{"schema", string(schemaJSON)}, {"delimiter", ","}, {"quote_char", `"`}, {"double_quote", "true"},
			{"header_rows", "1"}, {"encoding", "utf-8"}, {"error_sample_size", "20"}, {"neutralize_formulas", "true"},
		}, data)
		done := c.finished(t, name)
		if done.GetState() != ingestv1.Job_STATE_SUCCEEDED {
			t.Fatalf("job ended %s: %s", done.GetState(), done.GetFailureReason())
		}
		if !proto.Equal(done.GetSchema(), schema) || done.GetDialect().GetEncoding() != "utf-8" || done.GetDialect().GetHeaderRows() != 1 ||
			done.GetValidationOptions().GetErrorSampleSize() != 20 || !done.GetValidationOptions().GetNeutralizeFormulas() {
			t.Errorf("REST job has schema %v, dialect %v, options %v", done.GetSchema(), done.GetDialect(), done.GetValidationOptions())
		}
		checkEveryErrorValidation(t, done, schema)
		checkOutputs(t, c, done, schema, succeeded)
	})

	t.Run("REST query parameters", func(t *testing.T) {
		q := url.Values{}
		q.Set("file_name", "every_error.csv")
		q.Set("schema", string(schemaJSON))
		q.Set("encoding", "utf-8")
		q.Set("skip_initial_space", "false")
		resp, err := http.Post("http://"+m.gatewayAddr+"/v1/jobs:upload?"+q.Encode(), "text/csv", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var up struct {
			Job struct {
				Name string `json:"name"`
			} `json:"job"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &up) != nil {
			t.Fatalf("REST upload: %s\n%s", resp.Status, b)
		}
		done := c.finished(t, up.Job.Name)
		if done.GetState() != ingestv1.Job_STATE_SUCCEEDED {
			t.Fatalf("job ended %s: %s", done.GetState(), done.GetFailureReason())
		}
		checkEveryErrorValidation(t, done, schema)
	})

	t.Run("small error sample", func(t *testing.T) {
		job := c.uploadWith(t, &ingestv1.UploadMetadata{FileName: "every_error.csv", TableSchema: st, Dialect: utf8Dialect,
			ValidationOptions: &typev1.ValidationOptions{ErrorSampleSize: 4}}, data)
		events := c.watch(t, job.GetName(), 0, nil)
		checkEventLog(t, events, 0)
		got, err := c.GetJob(context.Background(), &ingestv1.GetJobRequest{Name: job.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		v := got.GetJob().GetValidation()
		var streamed []*typev1.RowError
		for _, e := range events {
			streamed = append(streamed, e.GetRowErrors().GetErrors()...)
		}
		var samples []string
		for _, e := range v.GetSampleErrors() {
			samples = append(samples, fmt.Sprintf("%d %s", e.GetRowNumber(), e.GetType()))
		}
		// The first four errors, in the summary and on the watch stream;
		// the counts and the rejects still cover them all.
		if !slices.Equal(samples, everyErrorSamples[:4]) || !slices.EqualFunc(streamed, v.GetSampleErrors(), func(a, b *typev1.RowError) bool { return proto.Equal(a, b) }) {
			t.Errorf("sample errors %q, %d streamed; want %q on both", samples, len(streamed), everyErrorSamples[:4])
		}
		if v.GetErrorTotal() != int64(len(everyErrorSamples)) || v.GetRowsRejected() != everyErrorRows.rejected {
			t.Errorf("error total %d, rows rejected %d", v.GetErrorTotal(), v.GetRowsRejected())
		}
		_, rejects, err := downloadAll(c, job.GetName()+"/artifacts/rejects")
		if err != nil || !bytes.Equal(rejects, readFixture(t, everyErrorGolden)) {
			t.Errorf("rejects of a job with a small error sample differ from %s (%v)", everyErrorGolden, err)
		}
	})

	t.Run("over the threshold", func(t *testing.T) {
		limit := int64(everyErrorRows.rejected - 1)
		job := c.uploadWith(t, &ingestv1.UploadMetadata{FileName: "every_error.csv", TableSchema: st, Dialect: utf8Dialect,
			ValidationOptions: &typev1.ValidationOptions{MaxInvalidRows: &limit}}, data)
		done := c.finished(t, job.GetName())
		reason := done.GetFailureReason()
		if done.GetState() != ingestv1.Job_STATE_FAILED || !strings.Contains(reason, fmt.Sprint(everyErrorRows.rejected)) || !strings.Contains(reason, fmt.Sprint(limit)) {
			t.Fatalf("job ended %s (%q), want FAILED quoting %d invalid rows and the limit %d", done.GetState(), reason, everyErrorRows.rejected, limit)
		}
		t.Logf("failure reason: %s", reason)
		if done.GetReport() != nil {
			t.Errorf("a job over the threshold was analyzed: %v", done.GetReport())
		}
		checkEveryErrorValidation(t, done, schema)
		checkOutputs(t, c, done, schema, failed)
		for _, seg := range []string{"normalized", "parquet", "report"} {
			if _, _, err := downloadAll(c, done.GetName()+"/artifacts/"+seg); status.Code(err) != codes.FailedPrecondition {
				t.Errorf("download %s of a job over the threshold: %v, want FailedPrecondition", seg, err)
			}
		}
		dir := filepath.Join(m.dataDir, "objects", "jobs", strings.TrimPrefix(done.GetName(), "jobs/"))
		deadline := time.Now().Add(20 * time.Second)
		for {
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if slices.Equal(names, []string{"errors.json", "rejects.csv", "schema.json", "source.csv"}) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the job directory holds %v, want only the listed artifacts", names)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("over the ratio through REST", func(t *testing.T) {
		name := restUpload(t, m.gatewayAddr, "every_error.csv", [][2]string{
			{"schema", string(schemaJSON)}, {"encoding", "utf-8"}, {"max_invalid_ratio", "0.5"},
		}, data)
		done := c.finished(t, name)
		if done.GetState() != ingestv1.Job_STATE_FAILED || done.GetFailureReason() == "" {
			t.Fatalf("job ended %s (%q), want FAILED", done.GetState(), done.GetFailureReason())
		}
		t.Logf("failure reason: %s", done.GetFailureReason())
		checkOutputs(t, c, done, schema, failed)
	})

	t.Run("invalid schema refused", func(t *testing.T) {
		bad := strings.Replace(string(schemaJSON), `"minimum": 0`, `"minimum": "abc"`, 1)
		q := url.Values{}
		q.Set("file_name", "every_error.csv")
		q.Set("schema", bad)
		resp, err := http.Post("http://"+m.gatewayAddr+"/v1/jobs:upload?"+q.Encode(), "text/csv", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "metadata.table_schema.fields[3].constraints.minimum") ||
			!strings.Contains(string(b), `\"abc\" is not a number`) {
			t.Errorf("REST upload of an invalid schema: %s\n%s", resp.Status, b)
		}
	})
}
