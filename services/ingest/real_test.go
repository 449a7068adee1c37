package ingest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	analyzerv1 "github.com/csvmesh/csvmesh/gen/csvmesh/analyzer/v1"
	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/analyzer"
	"github.com/csvmesh/csvmesh/services/internal/storage"
	"github.com/csvmesh/csvmesh/services/validator"
)

// newRealHarness runs ingest in front of the real validator and analyzer.
func newRealHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	tmp := t.TempDir()
	return newHarness(t, func(store storage.Store) (validatorv1.ValidatorServiceServer, analyzerv1.AnalyzerServiceServer) {
		return validator.NewServer(store, validator.WithLogger(quiet)),
			analyzer.NewServer(store, analyzer.WithLogger(quiet), analyzer.WithTempDir(tmp))
	}, opts...)
}

func TestEndToEndWithRealServices(t *testing.T) {
	const trades = "id,symbol,price,qty\n" +
		"1,AAPL,189.5,100\n" +
		"2,MSFT,411.25,50\n" +
		"3,AAPL,not-a-price,10\n" +
		"4,GOOG,140,25\n"
	schema := tableSchema(t, `{"fields":[
		{"name":"id","type":"integer","constraints":{"required":true}},
		{"name":"symbol","type":"string"},
		{"name":"price","type":"number"},
		{"name":"qty","type":"integer"}]}`)
	zero := int64(0)
	tests := []struct {
		name   string
		md     *ingestv1.UploadMetadata
		data   string
		want   ingestv1.Job_State
		reason string // substring of the failure reason
		check  func(t *testing.T, h *harness, job *ingestv1.Job)
	}{
		{
			name: "typed schema with one bad row",
			md:   &ingestv1.UploadMetadata{FileName: "trades.csv", TableSchema: schema, Sha256: sha(trades)},
			data: trades,
			want: ingestv1.Job_STATE_SUCCEEDED,
			check: func(t *testing.T, h *harness, job *ingestv1.Job) {
				v := job.GetValidation()
				if v.GetRowsTotal() != 4 || v.GetRowsValid() != 3 || v.GetRowsRejected() != 1 {
					t.Fatalf("validation %v", v)
				}
				if len(v.GetSampleErrors()) != 1 || v.GetSampleErrors()[0].GetFieldName() != "price" || v.GetSampleErrors()[0].GetType() != "type-error" ||
					v.GetSampleErrors()[0].GetRowNumber() != 4 || v.GetSampleErrors()[0].GetLineNumber() != 4 || v.GetSampleErrors()[0].GetFieldNumber() != 3 {
					t.Errorf("sample errors %v", v.GetSampleErrors())
				}
				if v.GetErrorTotal() != 1 || len(v.GetErrorCounts()) != 1 || v.GetErrorCounts()[0].GetCount() != 1 || v.GetSchemaInferred() || v.GetDialect().GetDelimiter() != "," {
					t.Errorf("validation summary %v", v)
				}
				rep := job.GetReport()
				if rep.GetRowCount() != 3 || len(rep.GetColumns()) != 4 {
					t.Fatalf("report %v", rep)
				}
				price := rep.GetColumns()[2].GetNumeric()
				if price.GetMin() != 140 || price.GetMax() != 411.25 {
					t.Errorf("price stats %v", price)
				}
				sym := rep.GetColumns()[1].GetCategorical()
				if sym.GetTop() != "AAPL" || sym.GetUnique() != 3 {
					t.Errorf("symbol stats %v", sym)
				}
				ct, body, err := h.download(job.GetName() + "/artifacts/report")
				if err != nil || ct != "application/json" || !json.Valid(body) {
					t.Errorf("report artifact %s %q: %v", ct, body, err)
				}
				_, rejects, err := h.download(job.GetName() + "/artifacts/rejects")
				if err != nil || !strings.Contains(string(rejects), "not-a-price") {
					t.Errorf("rejects artifact %q: %v", rejects, err)
				}
				_, norm, err := h.download(job.GetName() + "/artifacts/normalized")
				if err != nil || strings.Contains(string(norm), "not-a-price") || !strings.Contains(string(norm), "GOOG") {
					t.Errorf("normalized artifact %q: %v", norm, err)
				}
				ct, pq, err := h.download(job.GetName() + "/artifacts/parquet")
				if err != nil || ct != "application/vnd.apache.parquet" || !strings.HasPrefix(string(pq), "PAR1") || !strings.HasSuffix(string(pq), "PAR1") {
					t.Errorf("parquet artifact %s (%d bytes): %v", ct, len(pq), err)
				}
				ct, sch, err := h.download(job.GetName() + "/artifacts/schema")
				if err != nil || ct != "application/json" || !json.Valid(sch) || !strings.Contains(string(sch), `"price"`) {
					t.Errorf("schema artifact %s %q: %v", ct, sch, err)
				}
				ct, errDoc, err := h.download(job.GetName() + "/artifacts/errors")
				if err != nil || ct != "application/json" || !json.Valid(errDoc) || !strings.Contains(string(errDoc), "type-error") {
					t.Errorf("error report artifact %s %q: %v", ct, errDoc, err)
				}
			},
		},
		{
			name:   "over the threshold",
			md:     &ingestv1.UploadMetadata{FileName: "trades.csv", TableSchema: schema, ValidationOptions: &typev1.ValidationOptions{MaxInvalidRows: &zero}},
			data:   trades,
			want:   ingestv1.Job_STATE_FAILED,
			reason: "1",
			check: func(t *testing.T, h *harness, job *ingestv1.Job) {
				var kinds []ingestv1.Artifact_Kind
				for _, a := range job.GetArtifacts() {
					kinds = append(kinds, a.GetKind())
					if _, _, err := h.download(a.GetName()); err != nil {
						t.Errorf("download %s: %v", a.GetName(), err)
					}
				}
				want := []ingestv1.Artifact_Kind{ingestv1.Artifact_KIND_SOURCE, ingestv1.Artifact_KIND_REJECTS, ingestv1.Artifact_KIND_SCHEMA, ingestv1.Artifact_KIND_ERROR_REPORT}
				if !slices.Equal(kinds, want) {
					t.Errorf("artifacts %v, want %v", kinds, want)
				}
				if v := job.GetValidation(); v.GetRowsRejected() != 1 || v.GetErrorTotal() != 1 {
					t.Errorf("validation summary %v", v)
				}
			},
		},
		{
			name: "inferred schema",
			md:   &ingestv1.UploadMetadata{FileName: "t.csv"},
			data: strings.ReplaceAll(trades, "not-a-price", "12.5"),
			want: ingestv1.Job_STATE_SUCCEEDED,
			check: func(t *testing.T, h *harness, job *ingestv1.Job) {
				if job.GetValidation().GetRowsValid() != 4 || len(job.GetValidation().GetSchema().GetFields()) != 4 {
					t.Errorf("validation %v", job.GetValidation())
				}
				if job.GetReport().GetRowCount() != 4 {
					t.Errorf("report %v", job.GetReport())
				}
			},
		},
		{
			name: "semicolon dialect",
			md:   &ingestv1.UploadMetadata{FileName: "t.csv", Dialect: &typev1.Dialect{Delimiter: ";"}},
			data: "a;b\n1;x\n2;y\n",
			want: ingestv1.Job_STATE_SUCCEEDED,
		},
		{
			name: "tab dialect",
			md:   &ingestv1.UploadMetadata{FileName: "t.tsv", Dialect: &typev1.Dialect{Delimiter: "\t"}},
			data: "a\tb\n1\tx\n2\ty\n",
			want: ingestv1.Job_STATE_SUCCEEDED,
		},
		{
			name: "header only",
			md:   &ingestv1.UploadMetadata{FileName: "h.csv"},
			data: "id,symbol\n",
			want: ingestv1.Job_STATE_FAILED,
		},
		{
			name: "header does not match schema",
			md:   &ingestv1.UploadMetadata{FileName: "m.csv", TableSchema: schema},
			data: "a,b\n1,2\n",
			want: ingestv1.Job_STATE_FAILED,
		},
		{
			name:   "all rows rejected",
			md:     &ingestv1.UploadMetadata{FileName: "r.csv", TableSchema: schema},
			data:   "id,symbol,price,qty\nx,A,1,1\ny,B,2,2\n",
			want:   ingestv1.Job_STATE_FAILED,
			reason: "all 2 rows were rejected; download the rejects artifact for the reasons",
		},
	}
	h := newRealHarness(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job := h.mustUpload(tc.md, []byte(tc.data))
			done := h.waitDone(job.GetName())
			if done.GetState() != tc.want {
				t.Fatalf("state %s (%q), want %s", done.GetState(), done.GetFailureReason(), tc.want)
			}
			if tc.want == ingestv1.Job_STATE_FAILED {
				// The reason is the validator's own words, never a Go error chain.
				r := done.GetFailureReason()
				t.Logf("failure reason: %s", r)
				if r == "" || strings.Contains(r, "rpc error") || !strings.Contains(r, tc.reason) {
					t.Errorf("failure reason %q", r)
				}
			}
			if tc.check != nil {
				tc.check(t, h, done)
			}
		})
	}
}
