package main

import (
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

var baseTime = time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)

func ts(sec int) *timestamppb.Timestamp {
	return timestamppb.New(baseTime.Add(time.Duration(sec) * time.Second))
}

func f64(v float64) *float64 { return &v }

// sampleReport has a number, an integer, a string and an all-missing column.
func sampleReport() *typev1.Report {
	pct := func(vs ...float64) []*typev1.Percentile {
		qs := []float64{0.25, 0.5, 0.75}
		out := make([]*typev1.Percentile, len(vs))
		for i, v := range vs {
			out[i] = &typev1.Percentile{Quantile: qs[i], Value: f64(v)}
		}
		return out
	}
	return &typev1.Report{RowCount: 5, Columns: []*typev1.ColumnStats{
		{Name: "price", Type: typev1.FieldType_FIELD_TYPE_NUMBER, Count: 5, Numeric: &typev1.NumericStats{
			Mean: f64(101.25), Std: f64(2.5), Min: f64(98.5), Max: f64(104), Percentiles: pct(99.75, 101, 102.999999),
		}},
		{Name: "qty", Type: typev1.FieldType_FIELD_TYPE_INTEGER, Count: 4, NullCount: 1, Numeric: &typev1.NumericStats{
			Mean: f64(250), Min: f64(100), Max: f64(400), Percentiles: pct(175, 250, 325),
		}},
		{Name: "symbol", Type: typev1.FieldType_FIELD_TYPE_STRING, Count: 5, Categorical: &typev1.CategoricalStats{
			Unique: 2, Top: "AAPL", Freq: 3,
		}},
		{Name: "note", Type: typev1.FieldType_FIELD_TYPE_STRING, NullCount: 5, Categorical: &typev1.CategoricalStats{}},
	}}
}

func sampleSchema() *typev1.Schema {
	return &typev1.Schema{Fields: []*typev1.Field{
		{Name: "price", Type: typev1.FieldType_FIELD_TYPE_NUMBER, Constraints: &typev1.FieldConstraints{Required: true}},
		{Name: "qty", Type: typev1.FieldType_FIELD_TYPE_INTEGER},
		{Name: "symbol", Type: typev1.FieldType_FIELD_TYPE_STRING},
	}}
}

// sampleSchemaJSON is sampleSchema as a Frictionless Table Schema file.
const sampleSchemaJSON = `{"fields": [
	{"name": "price", "type": "number", "constraints": {"required": true}},
	{"name": "qty", "type": "integer"},
	{"name": "symbol", "type": "string"}]}
`

// sampleTableSchema is sampleSchemaJSON as upload sends it.
func sampleTableSchema() *structpb.Struct {
	s, err := structpb.NewStruct(map[string]any{"fields": []any{
		map[string]any{"name": "price", "type": "number", "constraints": map[string]any{"required": true}},
		map[string]any{"name": "qty", "type": "integer"},
		map[string]any{"name": "symbol", "type": "string"},
	}})
	if err != nil {
		panic(err)
	}
	return s
}

func jobOK() *ingestv1.Job {
	return &ingestv1.Job{
		Name: "jobs/ok", FileName: "trades.csv", State: ingestv1.Job_STATE_SUCCEEDED,
		CreateTime: ts(0), UpdateTime: ts(6), EndTime: ts(6),
		SizeBytes: 1536, Sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Schema: sampleSchema(), Dialect: &typev1.Dialect{Delimiter: ";"}, IdempotencyKey: "k1",
		ValidationOptions: &typev1.ValidationOptions{MaxInvalidRatio: f64(0.5), ErrorSampleSize: 50},
		AnalysisOptions:   &ingestv1.AnalysisOptions{Percentiles: []float64{0.9, 0.1}, Columns: []string{"price", "qty"}},
		Progress:          &ingestv1.Progress{Stage: ingestv1.Job_STATE_ANALYZING, BytesProcessed: 1536, BytesTotal: 1536, RowsProcessed: 5},
		Validation: &ingestv1.ValidationSummary{RowsTotal: 5, RowsValid: 3, RowsRejected: 2, Schema: sampleSchema(),
			Dialect: &typev1.Dialect{Delimiter: ";", QuoteChar: `"`, DoubleQuote: proto.Bool(true), HeaderRows: proto.Int32(1),
				LineTerminator: "\r\n", Encoding: "utf-8"},
			SampleErrors: okRowErrors(),
			ErrorCounts: []*typev1.ErrorCount{
				{Type: "missing-cell", FieldName: "qty", FieldNumber: 2, Count: 1},
				{Type: "type-error", FieldName: "price", FieldNumber: 1, Count: 2},
				{Type: "extra-cell", Count: 1},
			},
			ErrorTotal: 4,
			Warnings:   []string{"2 of 5 rows are invalid, under the limit of\n50%"},
		},
		Report:  sampleReport(),
		TraceId: "4bf92f3577b34da6a3ce929d0e0e4736",
		Artifacts: []*ingestv1.Artifact{
			{Name: "jobs/ok/artifacts/source", Kind: ingestv1.Artifact_KIND_SOURCE, SizeBytes: 1536, ContentType: "text/csv"},
			{Name: "jobs/ok/artifacts/normalized", Kind: ingestv1.Artifact_KIND_NORMALIZED, SizeBytes: 1200, ContentType: "text/csv"},
			{Name: "jobs/ok/artifacts/parquet", Kind: ingestv1.Artifact_KIND_PARQUET, SizeBytes: 2100, ContentType: "application/vnd.apache.parquet"},
			{Name: "jobs/ok/artifacts/rejects", Kind: ingestv1.Artifact_KIND_REJECTS, SizeBytes: 300, ContentType: "text/csv"},
			{Name: "jobs/ok/artifacts/schema", Kind: ingestv1.Artifact_KIND_SCHEMA, SizeBytes: 250, ContentType: "application/json"},
			{Name: "jobs/ok/artifacts/errors", Kind: ingestv1.Artifact_KIND_ERROR_REPORT, SizeBytes: 1100, ContentType: "application/json"},
			{Name: "jobs/ok/artifacts/report", Kind: ingestv1.Artifact_KIND_REPORT, SizeBytes: 900, ContentType: "application/json"},
		},
	}
}

func jobBad() *ingestv1.Job {
	return &ingestv1.Job{Name: "jobs/bad", FileName: "broken.csv", State: ingestv1.Job_STATE_FAILED,
		CreateTime: ts(0), SizeBytes: 10, FailureReason: "the file is not valid UTF-8 at line 3"}
}

func jobGone() *ingestv1.Job {
	return &ingestv1.Job{Name: "jobs/gone", FileName: "old.csv", State: ingestv1.Job_STATE_CANCELLED, CreateTime: ts(0), SizeBytes: 20}
}

func jobRunning() *ingestv1.Job {
	return &ingestv1.Job{Name: "jobs/run", FileName: "a-very-long-file-name-for-the-list-table.csv", State: ingestv1.Job_STATE_VALIDATING,
		CreateTime: ts(60), SizeBytes: 3 << 30,
		Progress: &ingestv1.Progress{Stage: ingestv1.Job_STATE_VALIDATING, BytesProcessed: 1 << 30, BytesTotal: 3 << 30, RowsProcessed: 12345678}}
}

func stateEvent(seq int64, from, to ingestv1.Job_State, msg string) *ingestv1.JobEvent {
	return &ingestv1.JobEvent{Sequence: seq, EventTime: ts(int(seq)), State: to,
		Kind: &ingestv1.JobEvent_StateChange{StateChange: &ingestv1.StateChange{From: from, To: to, Message: msg}}}
}

// okEvents is the life of jobs/ok.
func okEvents() []*ingestv1.JobEvent {
	return []*ingestv1.JobEvent{
		stateEvent(1, ingestv1.Job_STATE_UNSPECIFIED, ingestv1.Job_STATE_PENDING, "file stored"),
		stateEvent(2, ingestv1.Job_STATE_PENDING, ingestv1.Job_STATE_VALIDATING, "validation started"),
		{Sequence: 3, EventTime: ts(3), State: ingestv1.Job_STATE_VALIDATING, Kind: &ingestv1.JobEvent_Progress{Progress: &ingestv1.Progress{
			Stage: ingestv1.Job_STATE_VALIDATING, BytesProcessed: 512 << 10, BytesTotal: 1 << 20, RowsProcessed: 1000}}},
		{Sequence: 4, EventTime: ts(4), State: ingestv1.Job_STATE_VALIDATING, Kind: &ingestv1.JobEvent_RowErrors{RowErrors: &ingestv1.RowErrors{
			Errors: okRowErrors()}}},
		stateEvent(5, ingestv1.Job_STATE_VALIDATING, ingestv1.Job_STATE_ANALYZING, "4 of 5 rows valid"),
		stateEvent(6, ingestv1.Job_STATE_ANALYZING, ingestv1.Job_STATE_SUCCEEDED, "report ready"),
	}
}

// okRowErrors are the row errors of jobs/ok.
func okRowErrors() []*typev1.RowError {
	return []*typev1.RowError{
		{Type: "type-error", RowNumber: 3, LineNumber: 3, ByteOffset: 41, FieldNumber: 1, FieldName: "price", Value: "abc", Message: `"abc" is not a number`},
		{Type: "missing-cell", RowNumber: 5, LineNumber: 6, ByteOffset: 97, FieldNumber: 2, FieldName: "qty", Message: "the row has 1 cell,\nthe header 3"},
		{Type: "extra-cell", RowNumber: 6, LineNumber: 7, ByteOffset: 120, Message: "the row has 4 cells, the header 3"},
		{Type: "type-error", RowNumber: 7, LineNumber: 8, ByteOffset: 312, FieldNumber: 1, FieldName: "price", Value: "12x", Message: `"12x" is not a number`},
	}
}

// okWatchOutput is what watch prints for okEvents.
const okWatchOutput = `2026-11-22T18:00:01.000Z  PENDING     state UNSPECIFIED -> PENDING: file stored
2026-11-22T18:00:02.000Z  VALIDATING  state PENDING -> VALIDATING: validation started
2026-11-22T18:00:03.000Z  VALIDATING  progress 512.0 KiB / 1.0 MiB (50.0%), 1000 rows
2026-11-22T18:00:04.000Z  VALIDATING  row errors: 4 (extra-cell 1, missing-cell 1, type-error 2)
    row 3 (line 3, byte 41) field 1 "price" type-error: "abc" is not a number
    row 5 (line 6, byte 97) field 2 "qty" missing-cell: the row has 1 cell, the header 3
    row 6 (line 7, byte 120) extra-cell: the row has 4 cells, the header 3
    row 7 (line 8, byte 312) field 1 "price" type-error: "12x" is not a number
2026-11-22T18:00:05.000Z  ANALYZING   state VALIDATING -> ANALYZING: 4 of 5 rows valid
2026-11-22T18:00:06.000Z  SUCCEEDED   state ANALYZING -> SUCCEEDED: report ready
`

// sampleReportTable is writeReport's output for sampleReport at width 100.
const sampleReportTable = `rows: 5

              price      qty  symbol    note
type         number  integer  string  string
count             5        4       5       0
missing           0        1       0       5
unique          NaN      NaN       2       0
top             NaN      NaN    AAPL     NaN
freq            NaN      NaN       3     NaN
mean         101.25      250     NaN     NaN
std             2.5      NaN     NaN     NaN
min            98.5      100     NaN     NaN
25%           99.75      175     NaN     NaN
50%             101      250     NaN     NaN
75%      102.999999      325     NaN     NaN
max             104      400     NaN     NaN
`

// newFake returns a fake server knowing jobs ok, bad, gone and run.
func newFake() *fakeIngest {
	return &fakeIngest{
		uploadJob: &ingestv1.Job{Name: "jobs/new", State: ingestv1.Job_STATE_PENDING},
		jobs:      []*ingestv1.Job{jobRunning(), jobOK(), jobBad(), jobGone()},
		events: map[string][]*ingestv1.JobEvent{
			"jobs/ok": okEvents(),
			"jobs/bad": {
				stateEvent(1, ingestv1.Job_STATE_UNSPECIFIED, ingestv1.Job_STATE_PENDING, "file stored"),
				stateEvent(2, ingestv1.Job_STATE_PENDING, ingestv1.Job_STATE_FAILED, "validation failed"),
			},
			"jobs/gone": {
				stateEvent(1, ingestv1.Job_STATE_UNSPECIFIED, ingestv1.Job_STATE_PENDING, "file stored"),
				stateEvent(2, ingestv1.Job_STATE_PENDING, ingestv1.Job_STATE_CANCELLED, "cancelled by a caller"),
			},
			"jobs/run": {
				stateEvent(1, ingestv1.Job_STATE_UNSPECIFIED, ingestv1.Job_STATE_PENDING, "file stored"),
			},
		},
		breakWatchAfter: map[string]int{},
		artifacts:       map[string][]byte{},
	}
}
