package ingest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// TestAnalysisOptionsRefusedAtOnce checks that invalid analysis options fail
// an upload from its metadata alone, naming the percentile or column and the
// problem, and leave nothing stored.
func TestAnalysisOptionsRefusedAtOnce(t *testing.T) {
	many := make([]float64, MaxPercentiles+1)
	for i := range many {
		many[i] = float64(i) / float64(len(many))
	}
	cols := make([]string, MaxAnalysisColumns+1)
	for i := range cols {
		cols[i] = fmt.Sprintf("c%d", i)
	}
	const abSchema = `{"fields":[{"name":"a","type":"string"},{"name":"b","type":"integer"}]}`
	tests := []struct {
		name   string
		opts   *ingestv1.AnalysisOptions
		schema string
		field  string
		desc   string
	}{
		{name: "negative percentile", opts: &ingestv1.AnalysisOptions{Percentiles: []float64{0.1, -0.1}},
			field: "metadata.analysis_options.percentiles[1]", desc: "a percentile is a fraction in [0, 1], such as 0.9 for the 90th; got -0.1"},
		{name: "percentile above 1", opts: &ingestv1.AnalysisOptions{Percentiles: []float64{90}},
			field: "metadata.analysis_options.percentiles[0]", desc: "a percentile is a fraction in [0, 1], such as 0.9 for the 90th; got 90"},
		{name: "NaN percentile", opts: &ingestv1.AnalysisOptions{Percentiles: []float64{math.NaN()}},
			field: "metadata.analysis_options.percentiles[0]", desc: "a percentile is a fraction in [0, 1], such as 0.9 for the 90th; got NaN"},
		{name: "infinite percentile", opts: &ingestv1.AnalysisOptions{Percentiles: []float64{0.5, math.Inf(1)}},
			field: "metadata.analysis_options.percentiles[1]", desc: "a percentile is a fraction in [0, 1], such as 0.9 for the 90th; got +Inf"},
		{name: "duplicate percentile", opts: &ingestv1.AnalysisOptions{Percentiles: []float64{0.1, 0.9, 0.1}},
			field: "metadata.analysis_options.percentiles[2]", desc: "the percentile 0.1 is already given as percentiles[0]"},
		{name: "zero and negative zero", opts: &ingestv1.AnalysisOptions{Percentiles: []float64{0, math.Copysign(0, -1)}},
			field: "metadata.analysis_options.percentiles[1]", desc: "the percentile -0 is already given as percentiles[0]"},
		{name: "too many percentiles", opts: &ingestv1.AnalysisOptions{Percentiles: many},
			field: "metadata.analysis_options.percentiles", desc: "at most 100 percentiles may be asked for; got 101"},
		{name: "empty column", opts: &ingestv1.AnalysisOptions{Columns: []string{"a", ""}},
			field: "metadata.analysis_options.columns[1]", desc: "a column name cannot be empty"},
		{name: "duplicate column", opts: &ingestv1.AnalysisOptions{Columns: []string{"a", "b", "a"}},
			field: "metadata.analysis_options.columns[2]", desc: `the column "a" is already given as columns[0]`},
		{name: "too many columns", opts: &ingestv1.AnalysisOptions{Columns: cols},
			field: "metadata.analysis_options.columns", desc: "at most 4096 columns may be named; got 4097"},
		{name: "column not in the given schema", opts: &ingestv1.AnalysisOptions{Columns: []string{"b", "price"}}, schema: abSchema,
			field: "metadata.analysis_options.columns[1]", desc: `the column "price" is not a field of the table schema; its fields are "a", "b"`},
		{name: "column names are case-sensitive", opts: &ingestv1.AnalysisOptions{Columns: []string{"A"}}, schema: abSchema,
			field: "metadata.analysis_options.columns[0]", desc: `the column "A" is not a field of the table schema; its fields are "a", "b"`},
	}
	h := newFakeHarness(t, blockingValidator(), nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			md := &ingestv1.UploadMetadata{FileName: "f.csv", AnalysisOptions: tc.opts}
			if tc.schema != "" {
				md.TableSchema = tableSchema(t, tc.schema)
			}
			_, err := sendMetadataOnly(t, h, md)
			field, desc := fieldViolations(t, err)
			if field != tc.field || desc != tc.desc {
				t.Errorf("field violation %q: %q, want %q: %q", field, desc, tc.field, tc.desc)
			}
			eventually(t, "the upload handler to finish", func() bool { return h.uploadsInFlight() == 0 })
			if dirs := h.jobDirs(); len(dirs) != 0 {
				t.Errorf("objects stored for a refused upload: %v", dirs)
			}
		})
	}
}

// TestAnalysisOptionsReachTheAnalyzer checks that valid options are kept on
// the job as given and reach the analyzer as quantiles (the median added,
// ascending) and columns.
func TestAnalysisOptionsReachTheAnalyzer(t *testing.T) {
	lots := make([]float64, MaxPercentiles)
	for i := range lots {
		lots[i] = float64(MaxPercentiles-i) / MaxPercentiles // 1, 0.99, ..., 0.01
	}
	lotsSorted := slices.Sorted(slices.Values(lots))
	tests := []struct {
		name          string
		opts          *ingestv1.AnalysisOptions
		schema        string
		wantQuantiles []float64
		wantColumns   []string
		wantExact     bool
	}{
		{name: "no options"},
		{name: "empty options", opts: &ingestv1.AnalysisOptions{}},
		{name: "percentiles without the median", opts: &ingestv1.AnalysisOptions{Percentiles: []float64{0.9, 0.1}},
			wantQuantiles: []float64{0.1, 0.5, 0.9}},
		{name: "percentiles with the median", opts: &ingestv1.AnalysisOptions{Percentiles: []float64{0.99, 0.5, 0.01}},
			wantQuantiles: []float64{0.01, 0.5, 0.99}},
		{name: "the bounds", opts: &ingestv1.AnalysisOptions{Percentiles: []float64{1, 0}},
			wantQuantiles: []float64{0, 0.5, 1}},
		{name: "the most percentiles", opts: &ingestv1.AnalysisOptions{Percentiles: lots},
			wantQuantiles: lotsSorted},
		{name: "columns of an inferred schema", opts: &ingestv1.AnalysisOptions{Columns: []string{"a"}},
			wantColumns: []string{"a"}},
		{name: "columns of a given schema and percentiles", opts: &ingestv1.AnalysisOptions{Percentiles: []float64{0.95}, Columns: []string{"a"}},
			schema: `{"fields":[{"name":"a","type":"string"}]}`, wantQuantiles: []float64{0.5, 0.95}, wantColumns: []string{"a"}},
		{name: "exact categorical statistics", opts: &ingestv1.AnalysisOptions{ExactCategorical: true}, wantExact: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			an := &fakeAnalyzer{}
			h := newFakeHarness(t, nil, an)
			md := &ingestv1.UploadMetadata{FileName: "f.csv", AnalysisOptions: tc.opts}
			if tc.schema != "" {
				md.TableSchema = tableSchema(t, tc.schema)
			}
			job, err := upload(context.Background(), h.client, md, []byte(sampleCSV), 5)
			if err != nil {
				t.Fatalf("upload: %v", err)
			}
			if !proto.Equal(job.GetAnalysisOptions(), tc.opts) {
				t.Errorf("uploaded job has analysis options %v, want %v", job.GetAnalysisOptions(), tc.opts)
			}
			done := h.waitDone(job.GetName())
			if done.GetState() != ingestv1.Job_STATE_SUCCEEDED {
				t.Fatalf("job ended %s (%q)", done.GetState(), done.GetFailureReason())
			}
			if !proto.Equal(done.GetAnalysisOptions(), tc.opts) {
				t.Errorf("finished job has analysis options %v, want %v", done.GetAnalysisOptions(), tc.opts)
			}
			reqs := an.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d analyzer requests, want 1", len(reqs))
			}
			if q := reqs[0].GetQuantiles(); !slices.Equal(q, tc.wantQuantiles) {
				t.Errorf("analyzer quantiles %v, want %v", q, tc.wantQuantiles)
			}
			if c := reqs[0].GetColumns(); !slices.Equal(c, tc.wantColumns) {
				t.Errorf("analyzer columns %q, want %q", c, tc.wantColumns)
			}
			if e := reqs[0].GetExactCategorical(); e != tc.wantExact {
				t.Errorf("analyzer exact_categorical %v, want %v", e, tc.wantExact)
			}
		})
	}
}

// TestUnknownColumnFailsInferredJob checks that a column the inferred schema
// lacks fails the job after validation, naming the column, without running
// the analyzer; the job keeps the rejects, schema and error report.
func TestUnknownColumnFailsInferredJob(t *testing.T) {
	an := &fakeAnalyzer{}
	h := newFakeHarness(t, nil, an)
	opts := &ingestv1.AnalysisOptions{Percentiles: []float64{0.9}, Columns: []string{"a", "price"}}
	job := h.mustUpload(&ingestv1.UploadMetadata{FileName: "f.csv", AnalysisOptions: opts}, []byte(sampleCSV))
	done := h.waitDone(job.GetName())
	const reason = `the analysis options name the column "price" (columns[1]), which the file does not have; its columns are "a"`
	if done.GetState() != ingestv1.Job_STATE_FAILED || done.GetFailureReason() != reason {
		t.Fatalf("job ended %s (%q), want FAILED (%q)", done.GetState(), done.GetFailureReason(), reason)
	}
	if n := an.callCount(); n != 0 {
		t.Errorf("the analyzer ran %d times", n)
	}
	if v := done.GetValidation(); v.GetRowsTotal() != 4 || v.GetRowsValid() != 3 || !v.GetSchemaInferred() {
		t.Errorf("validation summary %v", v)
	}
	var kinds []ingestv1.Artifact_Kind
	for _, a := range done.GetArtifacts() {
		kinds = append(kinds, a.GetKind())
	}
	want := []ingestv1.Artifact_Kind{ingestv1.Artifact_KIND_SOURCE, ingestv1.Artifact_KIND_REJECTS,
		ingestv1.Artifact_KIND_SCHEMA, ingestv1.Artifact_KIND_ERROR_REPORT}
	if !slices.Equal(kinds, want) {
		t.Errorf("artifacts %v, want %v", kinds, want)
	}
	events := h.watchAll(job.GetName(), 0)
	if last := events[len(events)-1].GetStateChange(); last.GetFrom() != ingestv1.Job_STATE_VALIDATING ||
		last.GetTo() != ingestv1.Job_STATE_FAILED || last.GetMessage() != reason {
		t.Errorf("last state change %v, want VALIDATING to FAILED with %q", last, reason)
	}
}

func TestAnalyzerQuantiles(t *testing.T) {
	tests := []struct {
		name string
		opts *ingestv1.AnalysisOptions
		want []float64
	}{
		{"nil options", nil, nil},
		{"no percentiles", &ingestv1.AnalysisOptions{Columns: []string{"a"}}, nil},
		{"median added", &ingestv1.AnalysisOptions{Percentiles: []float64{0.75, 0.25}}, []float64{0.25, 0.5, 0.75}},
		{"median only", &ingestv1.AnalysisOptions{Percentiles: []float64{0.5}}, []float64{0.5}},
		{"median kept once", &ingestv1.AnalysisOptions{Percentiles: []float64{0.5, 1, 0}}, []float64{0, 0.5, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before []float64
			if tc.opts != nil {
				before = slices.Clone(tc.opts.Percentiles)
			}
			if got := analyzerQuantiles(tc.opts); !slices.Equal(got, tc.want) {
				t.Errorf("analyzerQuantiles = %v, want %v", got, tc.want)
			}
			if !slices.Equal(tc.opts.GetPercentiles(), before) {
				t.Errorf("the options' percentiles changed to %v from %v", tc.opts.GetPercentiles(), before)
			}
		})
	}
}

func TestFieldList(t *testing.T) {
	fields := func(n int) *typev1.Schema {
		s := &typev1.Schema{}
		for i := range n {
			s.Fields = append(s.Fields, &typev1.Field{Name: fmt.Sprintf("f%d", i)})
		}
		return s
	}
	var twenty []string
	for i := range maxListedFields {
		twenty = append(twenty, fmt.Sprintf("%q", fmt.Sprintf("f%d", i)))
	}
	tests := []struct {
		name   string
		schema *typev1.Schema
		want   string
	}{
		{"none", fields(0), "none"},
		{"one", fields(1), `"f0"`},
		{"two", fields(2), `"f0", "f1"`},
		{"at the limit", fields(maxListedFields), strings.Join(twenty, ", ")},
		{"over the limit", fields(maxListedFields + 3), strings.Join(twenty, ", ") + " and 3 more"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fieldList(tc.schema); got != tc.want {
				t.Errorf("fieldList = %q, want %q", got, tc.want)
			}
		})
	}
}
