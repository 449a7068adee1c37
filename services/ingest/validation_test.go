package ingest

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/internal/tableschema"
)

// tableSchema is the Struct of a Table Schema written as JSON.
func tableSchema(t *testing.T, js string) *structpb.Struct {
	t.Helper()
	st := &structpb.Struct{}
	if err := protojson.Unmarshal([]byte(js), st); err != nil {
		t.Fatalf("table schema %s: %v", js, err)
	}
	return st
}

// sendMetadataOnly sends md as the first message of an upload and waits for
// the answer without sending any chunk or closing the stream: only an
// upload the server answers from the metadata alone returns.
func sendMetadataOnly(t *testing.T, h *harness, md *ingestv1.UploadMetadata) (*ingestv1.Job, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	stream, err := h.client.UploadFile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&ingestv1.UploadFileRequest{Payload: &ingestv1.UploadFileRequest_Metadata{Metadata: md}}); err != nil {
		t.Fatal(err)
	}
	resp := &ingestv1.UploadFileResponse{}
	err = stream.RecvMsg(resp)
	return resp.GetJob(), err
}

func fieldViolations(t *testing.T, err error) (field, desc string) {
	t.Helper()
	st := wantCode(t, err, codes.InvalidArgument)
	fields := badRequestFields(st)
	if len(fields) != 1 {
		t.Fatalf("BadRequest fields %v in %v, want one", fields, st)
	}
	return fields[0], strings.TrimPrefix(st.Message(), fields[0]+": ")
}

// TestUploadMetadataRefusedAtOnce checks that an invalid Table Schema,
// dialect or validation options fail an upload from its metadata alone,
// before any byte of the file is stored, naming the field and the problem.
func TestUploadMetadataRefusedAtOnce(t *testing.T) {
	bigDescription := `{"fields":[{"name":"a","type":"string","description":"` + strings.Repeat("d", MaxTableSchemaBytes) + `"}]}`
	neg, ratioHigh, ratioLow := int64(-1), 1.5, -0.1
	nan := math.NaN()
	headerRows := int32(-1)
	tests := []struct {
		name  string
		md    *ingestv1.UploadMetadata
		field string
		desc  []string // substrings of the description; the first is its start
	}{
		// Table Schema: the path of the problem under metadata.table_schema,
		// and tableschema's message.
		{name: "fields not an array", md: &ingestv1.UploadMetadata{TableSchema: tableSchema(t, `{"fields":{"name":"a"}}`)},
			field: "metadata.table_schema.fields", desc: []string{"fields"}},
		{name: "no fields", md: &ingestv1.UploadMetadata{TableSchema: tableSchema(t, `{"fields":[]}`)},
			field: "metadata.table_schema.fields", desc: []string{"fields"}},
		{name: "type of the wrong JSON type", md: &ingestv1.UploadMetadata{TableSchema: tableSchema(t, `{"fields":[{"name":"a","type":5}]}`)},
			field: "metadata.table_schema.fields[0].type", desc: []string{`fields[0] ("a"): type`}},
		{name: "unknown type", md: &ingestv1.UploadMetadata{TableSchema: tableSchema(t, `{"fields":[{"name":"a","type":"string"},{"name":"b","type":"money"}]}`)},
			field: "metadata.table_schema.fields[1].type", desc: []string{`fields[1] ("b"): type`, "money"}},
		{name: "bad pattern", md: &ingestv1.UploadMetadata{TableSchema: tableSchema(t, `{"fields":[{"name":"a","type":"string","constraints":{"pattern":"(["}}]}`)},
			field: "metadata.table_schema.fields[0].constraints.pattern", desc: []string{`fields[0] ("a"): constraints.pattern`}},
		{name: "minimum not a number", md: &ingestv1.UploadMetadata{TableSchema: tableSchema(t, `{"fields":[{"name":"id","type":"integer"},{"name":"sym","type":"string"},{"name":"price","type":"number","constraints":{"minimum":"abc"}}]}`)},
			field: "metadata.table_schema.fields[2].constraints.minimum", desc: []string{`fields[2] ("price"): constraints.minimum: "abc" is not a number`}},
		{name: "primary key names no field", md: &ingestv1.UploadMetadata{TableSchema: tableSchema(t, `{"fields":[{"name":"a","type":"string"}],"primaryKey":["b"]}`)},
			field: "metadata.table_schema.primaryKey[0]", desc: []string{"primaryKey[0]", `"b"`}},
		{name: "schema over 1 MiB", md: &ingestv1.UploadMetadata{TableSchema: tableSchema(t, bigDescription)},
			field: "metadata.table_schema", desc: []string{"the table schema is", "1048576"}},
		// Dialect: dialect.Check's field, under metadata.
		{name: "two-character quote", md: &ingestv1.UploadMetadata{Dialect: &typev1.Dialect{QuoteChar: "''"}},
			field: "metadata.dialect.quote_char", desc: []string{"quote_char must be one ASCII character"}},
		{name: "negative header rows", md: &ingestv1.UploadMetadata{Dialect: &typev1.Dialect{HeaderRows: &headerRows}},
			field: "metadata.dialect.header_rows", desc: []string{"header_rows must be between 0 and"}},
		{name: "unknown encoding", md: &ingestv1.UploadMetadata{Dialect: &typev1.Dialect{Encoding: "ebcdic"}},
			field: "metadata.dialect.encoding", desc: []string{`encoding "ebcdic" is not supported`}},
		// Validation options.
		{name: "negative max_invalid_rows", md: &ingestv1.UploadMetadata{ValidationOptions: &typev1.ValidationOptions{MaxInvalidRows: &neg}},
			field: "metadata.validation_options.max_invalid_rows", desc: []string{"the largest number of invalid rows cannot be negative; got -1"}},
		{name: "max_invalid_ratio above 1", md: &ingestv1.UploadMetadata{ValidationOptions: &typev1.ValidationOptions{MaxInvalidRatio: &ratioHigh}},
			field: "metadata.validation_options.max_invalid_ratio", desc: []string{"the largest share of invalid rows must be in [0, 1]; got 1.5"}},
		{name: "negative max_invalid_ratio", md: &ingestv1.UploadMetadata{ValidationOptions: &typev1.ValidationOptions{MaxInvalidRatio: &ratioLow}},
			field: "metadata.validation_options.max_invalid_ratio", desc: []string{"the largest share of invalid rows must be in [0, 1]; got -0.1"}},
		{name: "NaN max_invalid_ratio", md: &ingestv1.UploadMetadata{ValidationOptions: &typev1.ValidationOptions{MaxInvalidRatio: &nan}},
			field: "metadata.validation_options.max_invalid_ratio", desc: []string{"the largest share of invalid rows must be in [0, 1]; got NaN"}},
		{name: "negative error_sample_size", md: &ingestv1.UploadMetadata{ValidationOptions: &typev1.ValidationOptions{ErrorSampleSize: -1}},
			field: "metadata.validation_options.error_sample_size", desc: []string{"the error sample size must be in [0, 10000] (0 means 100); got -1"}},
		{name: "error_sample_size over the limit", md: &ingestv1.UploadMetadata{ValidationOptions: &typev1.ValidationOptions{ErrorSampleSize: MaxErrorSampleSize + 1}},
			field: "metadata.validation_options.error_sample_size", desc: []string{"the error sample size must be in [0, 10000] (0 means 100); got 10001"}},
	}
	h := newFakeHarness(t, blockingValidator(), nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.md.FileName = "f.csv"
			_, err := sendMetadataOnly(t, h, tc.md)
			field, desc := fieldViolations(t, err)
			if field != tc.field {
				t.Errorf("field violation %q (%s), want %q", field, desc, tc.field)
			}
			if !strings.HasPrefix(desc, tc.desc[0]) {
				t.Errorf("description %q does not start with %q", desc, tc.desc[0])
			}
			for _, s := range tc.desc[1:] {
				if !strings.Contains(desc, s) {
					t.Errorf("description %q does not contain %q", desc, s)
				}
			}
			eventually(t, "the upload handler to finish", func() bool { return h.uploadsInFlight() == 0 })
			if dirs := h.jobDirs(); len(dirs) != 0 {
				t.Errorf("objects stored for a refused upload: %v", dirs)
			}
		})
	}
	list, err := h.client.ListJobs(context.Background(), &ingestv1.ListJobsRequest{})
	if err != nil || len(list.GetJobs()) != 0 {
		t.Errorf("jobs after refused uploads: %v, %v", list.GetJobs(), err)
	}
}

// TestSchemaErrorDescriptionIsTableSchemas checks that the description of
// a refused Table Schema is tableschema's own message, word for word.
func TestSchemaErrorDescriptionIsTableSchemas(t *testing.T) {
	js := `{"fields":[{"name":"a","type":"string"},{"name":"b","type":"integer","constraints":{"maximum":"x"}}]}`
	var se *tableschema.SchemaError
	schema, perr := tableschema.ParseJSON([]byte(js))
	if perr == nil {
		perr = tableschema.Check(schema)
	}
	if !errors.As(perr, &se) {
		t.Fatalf("tableschema accepts %s (%v)", js, perr)
	}
	h := newFakeHarness(t, blockingValidator(), nil)
	_, err := sendMetadataOnly(t, h, &ingestv1.UploadMetadata{FileName: "f.csv", TableSchema: tableSchema(t, js)})
	field, desc := fieldViolations(t, err)
	if field != "metadata.table_schema."+se.Path || desc != se.Msg {
		t.Errorf("field violation %q: %q, want %q: %q", field, desc, "metadata.table_schema."+se.Path, se.Msg)
	}
}

// TestValidSettingsAccepted checks boundary values of the options and a
// Table Schema upload: the job carries the typed schema, the dialect and
// the options as given.
func TestValidSettingsAccepted(t *testing.T) {
	zero, one, ratioZero, ratioOne := int64(0), int64(1), 0.0, 1.0
	js := `{"fields":[{"name":"id","type":"integer","constraints":{"required":true,"minimum":"1"}},{"name":"side","type":"string","constraints":{"enum":["BUY","SELL"]}}],"primaryKey":["id"],"missingValues":["","NA"]}`
	want, err := tableschema.ParseJSON([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		md   *ingestv1.UploadMetadata
	}{
		{"no settings", &ingestv1.UploadMetadata{}},
		{"table schema", &ingestv1.UploadMetadata{TableSchema: tableSchema(t, js)}},
		{"smallest thresholds", &ingestv1.UploadMetadata{ValidationOptions: &typev1.ValidationOptions{MaxInvalidRows: &zero, MaxInvalidRatio: &ratioZero}}},
		{"largest ratio and sample", &ingestv1.UploadMetadata{ValidationOptions: &typev1.ValidationOptions{MaxInvalidRows: &one, MaxInvalidRatio: &ratioOne, ErrorSampleSize: MaxErrorSampleSize, NeutralizeFormulas: true}}},
		{"full dialect", &ingestv1.UploadMetadata{Dialect: &typev1.Dialect{Delimiter: ";", QuoteChar: "'", EscapeChar: `\`, SkipInitialSpace: true, CommentPrefix: "#", Encoding: "windows-1252"}}},
	}
	h := newFakeHarness(t, blockingValidator(), nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.md.FileName = "f.csv"
			job, err := upload(context.Background(), h.client, tc.md, []byte(sampleCSV), 5)
			if err != nil {
				t.Fatalf("upload: %v", err)
			}
			wantSchema := (*typev1.Schema)(nil)
			if tc.md.GetTableSchema() != nil {
				wantSchema = want
				if len(job.GetSchema().GetFields()) != 2 || job.GetSchema().GetFields()[0].GetName() != "id" ||
					job.GetSchema().GetFields()[0].GetType() != typev1.FieldType_FIELD_TYPE_INTEGER ||
					!job.GetSchema().GetFields()[0].GetConstraints().GetRequired() ||
					strings.Join(job.GetSchema().GetPrimaryKey(), ",") != "id" {
					t.Errorf("job schema %v", job.GetSchema())
				}
			}
			if !proto.Equal(job.GetSchema(), wantSchema) || !proto.Equal(job.GetDialect(), tc.md.GetDialect()) ||
				!proto.Equal(job.GetValidationOptions(), tc.md.GetValidationOptions()) {
				t.Errorf("job has schema %v, dialect %v, options %v; want %v, %v, %v",
					job.GetSchema(), job.GetDialect(), job.GetValidationOptions(), wantSchema, tc.md.GetDialect(), tc.md.GetValidationOptions())
			}
		})
	}
}

// TestJobSettingsSurviveRestart uploads a job with a Table Schema, a
// dialect and options, restarts ingest while the job validates, and checks
// that the resumed validation gets the same settings from the job store.
func TestJobSettingsSurviveRestart(t *testing.T) {
	js := `{"fields":[{"name":"a","type":"string","constraints":{"required":true,"maxLength":10}}],"primaryKey":["a"]}`
	schema, err := tableschema.ParseJSON([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	noDouble, headerRows := false, int32(1)
	maxRows, maxRatio := int64(5), 0.5
	meta := &ingestv1.UploadMetadata{
		FileName:          "f.csv",
		TableSchema:       tableSchema(t, js),
		Dialect:           &typev1.Dialect{Delimiter: ";", QuoteChar: "'", DoubleQuote: &noDouble, EscapeChar: `\`, HeaderRows: &headerRows, Encoding: "windows-1252"},
		ValidationOptions: &typev1.ValidationOptions{MaxInvalidRows: &maxRows, MaxInvalidRatio: &maxRatio, ErrorSampleSize: 7, NeutralizeFormulas: true},
	}
	var (
		mu   sync.Mutex
		reqs []*validatorv1.ValidateRequest
	)
	val := &fakeValidator{}
	val.fn = func(n int, req *validatorv1.ValidateRequest, s validatorv1.ValidatorService_ValidateServer) error {
		mu.Lock()
		reqs = append(reqs, req)
		mu.Unlock()
		if n == 1 {
			<-s.Context().Done()
			return s.Context().Err()
		}
		return fakeValidate(val.store, req, s)
	}
	h := newFakeHarness(t, val, nil)
	job := h.mustUpload(meta, []byte(sampleCSV))
	id := strings.TrimPrefix(job.GetName(), "jobs/")
	eventually(t, "the first validation to start", func() bool { return val.callCount() == 1 })
	h.restart()
	done := h.waitDone(job.GetName())
	if done.GetState() != ingestv1.Job_STATE_SUCCEEDED || val.callCount() != 2 {
		t.Fatalf("job ended %s (%q) after %d validations", done.GetState(), done.GetFailureReason(), val.callCount())
	}
	if !proto.Equal(done.GetSchema(), schema) || !proto.Equal(done.GetDialect(), meta.GetDialect()) || !proto.Equal(done.GetValidationOptions(), meta.GetValidationOptions()) {
		t.Errorf("after a restart the job has schema %v, dialect %v, options %v", done.GetSchema(), done.GetDialect(), done.GetValidationOptions())
	}
	mu.Lock()
	defer mu.Unlock()
	for i, req := range reqs {
		if !proto.Equal(req.GetSchema(), schema) || !proto.Equal(req.GetDialect(), meta.GetDialect()) || !proto.Equal(req.GetOptions(), meta.GetValidationOptions()) {
			t.Errorf("validation %d got schema %v, dialect %v, options %v", i+1, req.GetSchema(), req.GetDialect(), req.GetOptions())
		}
		outputs := map[string]string{
			"normalized": req.GetNormalizedOutput().GetKey(), "rejects": req.GetRejectsOutput().GetKey(),
			"parquet": req.GetParquetOutput().GetKey(), "schema": req.GetSchemaOutput().GetKey(), "errors": req.GetErrorReportOutput().GetKey(),
		}
		want := map[string]string{
			"normalized": "normalized.csv", "rejects": "rejects.csv", "parquet": "normalized.parquet", "schema": "schema.json", "errors": "errors.json",
		}
		for k, key := range outputs {
			if key != "jobs/"+id+"/"+want[k] {
				t.Errorf("validation %d writes the %s output to %q, want jobs/%s/%s", i+1, k, key, id, want[k])
			}
		}
	}
}

// TestThresholdsAndWarnings runs jobs whose invalid rows are over, under or
// without a threshold of their options.
func TestThresholdsAndWarnings(t *testing.T) {
	zero, one := int64(0), int64(1)
	var (
		src  = ingestv1.Artifact_KIND_SOURCE
		norm = ingestv1.Artifact_KIND_NORMALIZED
		parq = ingestv1.Artifact_KIND_PARQUET
		rej  = ingestv1.Artifact_KIND_REJECTS
		sch  = ingestv1.Artifact_KIND_SCHEMA
		errs = ingestv1.Artifact_KIND_ERROR_REPORT
		rep  = ingestv1.Artifact_KIND_REPORT
	)
	tests := []struct {
		name      string
		options   *typev1.ValidationOptions
		data      string
		want      ingestv1.Job_State
		message   string // of the last state change; the failure reason too when FAILED
		warnings  []string
		artifacts []ingestv1.Artifact_Kind
		errorsDoc string // the error report's content
	}{
		{
			name: "over max_invalid_rows", options: &typev1.ValidationOptions{MaxInvalidRows: &zero}, data: sampleCSV,
			want: ingestv1.Job_STATE_FAILED, message: "1 rows are invalid, more than max_invalid_rows (0)",
			artifacts: []ingestv1.Artifact_Kind{src, rej, sch, errs}, errorsDoc: `{"errorTotal":1}`,
		},
		{
			name: "all rows invalid and over the threshold", options: &typev1.ValidationOptions{MaxInvalidRows: &one}, data: "a\nbad 1\nbad 2\n",
			want: ingestv1.Job_STATE_FAILED, message: "2 rows are invalid, more than max_invalid_rows (1)",
			artifacts: []ingestv1.Artifact_Kind{src, rej, sch, errs}, errorsDoc: `{"errorTotal":2}`,
		},
		{
			name: "all rows invalid without a threshold", data: "a\nbad 1\n",
			want: ingestv1.Job_STATE_FAILED, message: "all 1 rows were rejected; download the rejects artifact for the reasons",
			artifacts: []ingestv1.Artifact_Kind{src, rej, sch, errs}, errorsDoc: `{"errorTotal":1}`,
		},
		{
			name: "under max_invalid_rows", options: &typev1.ValidationOptions{MaxInvalidRows: &one}, data: sampleCSV,
			want: ingestv1.Job_STATE_SUCCEEDED, message: "analyzed 3 rows in 1 columns; warning: 1 rows are invalid, within max_invalid_rows (1)",
			warnings:  []string{"1 rows are invalid, within max_invalid_rows (1)"},
			artifacts: []ingestv1.Artifact_Kind{src, norm, parq, rej, sch, errs, rep}, errorsDoc: `{"errorTotal":1}`,
		},
		{
			name: "no threshold", data: sampleCSV,
			want: ingestv1.Job_STATE_SUCCEEDED, message: "analyzed 3 rows in 1 columns",
			artifacts: []ingestv1.Artifact_Kind{src, norm, parq, rej, sch, errs, rep}, errorsDoc: `{"errorTotal":1}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			an := &fakeAnalyzer{}
			h := newFakeHarness(t, nil, an)
			job := h.mustUpload(&ingestv1.UploadMetadata{FileName: "f.csv", ValidationOptions: tc.options}, []byte(tc.data))
			id := strings.TrimPrefix(job.GetName(), "jobs/")
			done := h.waitDone(job.GetName())
			wantReason := ""
			if tc.want == ingestv1.Job_STATE_FAILED {
				wantReason = tc.message
			}
			if done.GetState() != tc.want || done.GetFailureReason() != wantReason {
				t.Fatalf("job ended %s (%q), want %s (%q)", done.GetState(), done.GetFailureReason(), tc.want, wantReason)
			}
			if tc.want == ingestv1.Job_STATE_FAILED && an.callCount() != 0 {
				t.Errorf("the analyzer ran %d times for a failed validation", an.callCount())
			}
			v := done.GetValidation()
			if strings.Join(v.GetWarnings(), "|") != strings.Join(tc.warnings, "|") || v.GetErrorTotal() != int64(strings.Count(tc.data, "bad")) ||
				len(v.GetSampleErrors()) != strings.Count(tc.data, "bad") {
				t.Errorf("validation summary %v", v)
			}
			events := h.watchAll(job.GetName(), 0)
			if last := events[len(events)-1].GetStateChange(); last.GetTo() != tc.want || last.GetMessage() != tc.message {
				t.Errorf("last state change %v, want to %s with %q", last, tc.want, tc.message)
			}
			var kinds []ingestv1.Artifact_Kind
			for _, a := range done.GetArtifacts() {
				kinds = append(kinds, a.GetKind())
				if _, _, err := h.download(a.GetName()); err != nil {
					t.Errorf("download listed %s: %v", a.GetName(), err)
				}
			}
			if !slices.Equal(kinds, tc.artifacts) {
				t.Errorf("artifacts %v, want %v", kinds, tc.artifacts)
			}
			if _, body, err := h.download(job.GetName() + "/artifacts/errors"); err != nil || string(body) != tc.errorsDoc {
				t.Errorf("error report %q, %v; want %q", body, err, tc.errorsDoc)
			}
			if tc.want != ingestv1.Job_STATE_FAILED {
				return
			}
			// A failed job keeps no normalized output: unlisted, removed.
			for _, k := range []ingestv1.Artifact_Kind{norm, parq} {
				_, _, err := h.download(artifactName(id, k))
				wantCode(t, err, codes.FailedPrecondition)
				path := filepath.Join(h.root, filepath.FromSlash(objectKey(id, k)))
				eventually(t, "the removal of "+path, func() bool {
					_, err := os.Stat(path)
					return errors.Is(err, os.ErrNotExist)
				})
			}
		})
	}
}

func TestWarningsText(t *testing.T) {
	many := []string{"w1", "w2", "w3", "w4", "w5", "w6", "w7"}
	tests := []struct {
		warnings []string
		want     string
	}{
		{nil, ""},
		{[]string{"the file is windows-1252"}, "; warning: the file is windows-1252"},
		{[]string{"a", "b"}, "; warnings: a; b"},
		{many[:maxMessageWarnings], "; warnings: w1; w2; w3; w4; w5"},
		{many, "; warnings: w1; w2; w3; w4; w5; and 2 more in the validation summary"},
	}
	for _, tc := range tests {
		if got := warningsText(tc.warnings); got != tc.want {
			t.Errorf("warningsText(%q) = %q, want %q", tc.warnings, got, tc.want)
		}
	}
}
