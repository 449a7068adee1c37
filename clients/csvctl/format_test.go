package main

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

func TestFormatRowError(t *testing.T) {
	tests := []struct {
		name string
		err  *typev1.RowError
		want string
	}{
		{"field error", &typev1.RowError{Type: "type-error", RowNumber: 7, LineNumber: 8, ByteOffset: 312, FieldNumber: 4, FieldName: "price",
			Value: "12x", Message: `"12x" is not a number`},
			`row 7 (line 8, byte 312) field 4 "price" type-error: "12x" is not a number`},
		{"row error", &typev1.RowError{Type: "blank-row", RowNumber: 2, LineNumber: 2, ByteOffset: 9, Message: "the row is empty"},
			`row 2 (line 2, byte 9) blank-row: the row is empty`},
		{"field without a name", &typev1.RowError{Type: "extra-cell", RowNumber: 3, LineNumber: 3, ByteOffset: 20, FieldNumber: 5, Message: "5 cells, 4 fields"},
			`row 3 (line 3, byte 20) field 5 extra-cell: 5 cells, 4 fields`},
		{"name with a quote and a line break in the message", &typev1.RowError{Type: "constraint-error", RowNumber: 1000000, LineNumber: 1000003,
			ByteOffset: 1 << 40, FieldNumber: 12, FieldName: `say "hi"`, Message: "3 is less than\n  the minimum 5"},
			`row 1000000 (line 1000003, byte 1099511627776) field 12 "say \"hi\"" constraint-error: 3 is less than the minimum 5`},
		{"no type, no message", &typev1.RowError{RowNumber: 4, LineNumber: 4, ByteOffset: 30},
			`row 4 (line 4, byte 30) error`},
		{"malformed row", &typev1.RowError{Type: "malformed-row", RowNumber: 9, LineNumber: 11, ByteOffset: 400, Message: `bare " in a field`},
			`row 9 (line 11, byte 400) malformed-row: bare " in a field`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatRowError(tt.err); got != tt.want {
				t.Errorf("formatRowError =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestFormatRowErrors(t *testing.T) {
	tests := []struct {
		errs []*typev1.RowError
		want string
	}{
		{nil, "row errors: 0"},
		{okRowErrors(), `row errors: 4 (extra-cell 1, missing-cell 1, type-error 2)
    row 3 (line 3, byte 41) field 1 "price" type-error: "abc" is not a number
    row 5 (line 6, byte 97) field 2 "qty" missing-cell: the row has 1 cell, the header 3
    row 6 (line 7, byte 120) extra-cell: the row has 4 cells, the header 3
    row 7 (line 8, byte 312) field 1 "price" type-error: "12x" is not a number`},
		{[]*typev1.RowError{{RowNumber: 2, LineNumber: 2, ByteOffset: 5}}, `row errors: 1 (error 1)
    row 2 (line 2, byte 5) error`},
	}
	for _, tt := range tests {
		if got := formatRowErrors(tt.errs); got != tt.want {
			t.Errorf("formatRowErrors =\n%s\nwant\n%s", got, tt.want)
		}
	}
}

func TestFormatErrorCounts(t *testing.T) {
	counts := []*typev1.ErrorCount{
		{Type: "type-error", FieldName: "price", FieldNumber: 2, Count: 12},
		{Type: "blank-row", Count: 3},
		{Type: "constraint-error", FieldName: "qty", FieldNumber: 3, Count: 12},
		{Type: "type-error", FieldName: "a very long field name", FieldNumber: 10, Count: 1234567},
		{Type: "type-error", FieldNumber: 11, Count: 3},
	}
	tests := []struct {
		name   string
		counts []*typev1.ErrorCount
		limit  int
		want   string
	}{
		{"none", nil, 10, ""},
		{"sorted by count, type, field", counts, 10, `TYPE              FIELD                          COUNT
type-error        10 "a very long field name"  1234567
constraint-error  3 "qty"                           12
type-error        2 "price"                         12
blank-row         -                                  3
type-error        11                                 3`},
		{"cut at the limit", counts, 2, `TYPE              FIELD                          COUNT
type-error        10 "a very long field name"  1234567
constraint-error  3 "qty"                           12
... 3 more in the errors artifact`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := make([]*typev1.ErrorCount, len(tt.counts))
			copy(in, tt.counts)
			got := strings.Join(formatErrorCounts(in, tt.limit), "\n")
			if got != tt.want {
				t.Errorf("formatErrorCounts =\n%s\nwant\n%s", got, tt.want)
			}
			for i := range in {
				if in[i] != tt.counts[i] {
					t.Fatalf("formatErrorCounts reordered its argument")
				}
			}
		})
	}
}

func TestFormatDialect(t *testing.T) {
	tests := []struct {
		d    *typev1.Dialect
		want string
	}{
		{nil, ""},
		{&typev1.Dialect{}, ""},
		{&typev1.Dialect{Delimiter: "\t"}, `delimiter "\t"`},
		{&typev1.Dialect{HeaderRows: proto.Int32(0)}, "header rows 0"},
		{&typev1.Dialect{DoubleQuote: proto.Bool(false), EscapeChar: `\`}, `no double quote, escape "\\"`},
		{&typev1.Dialect{Delimiter: ";", QuoteChar: "'", DoubleQuote: proto.Bool(true), EscapeChar: "^", HeaderRows: proto.Int32(2),
			SkipInitialSpace: true, CommentPrefix: "#", LineTerminator: "\r\n", Encoding: "windows-1252"},
			`delimiter ";", quote "'", double quote, escape "^", header rows 2, skip initial space, comment prefix "#", line terminator "\r\n", encoding windows-1252`},
	}
	for _, tt := range tests {
		if got := formatDialect(tt.d); got != tt.want {
			t.Errorf("formatDialect(%v) =\n%s\nwant\n%s", tt.d, got, tt.want)
		}
	}
}

func TestFormatOptions(t *testing.T) {
	tests := []struct {
		o    *typev1.ValidationOptions
		want string
	}{
		{nil, ""},
		{&typev1.ValidationOptions{}, ""},
		{&typev1.ValidationOptions{MaxInvalidRows: proto.Int64(0)}, "max invalid rows 0"},
		{&typev1.ValidationOptions{MaxInvalidRows: proto.Int64(10), MaxInvalidRatio: proto.Float64(0.001), ErrorSampleSize: 500, NeutralizeFormulas: true},
			"max invalid rows 10, max invalid ratio 0.001, error sample size 500, neutralize formulas"},
	}
	for _, tt := range tests {
		if got := formatOptions(tt.o); got != tt.want {
			t.Errorf("formatOptions(%v) = %q, want %q", tt.o, got, tt.want)
		}
	}
}

func TestFormatAnalysisOptions(t *testing.T) {
	tests := []struct {
		o    *ingestv1.AnalysisOptions
		want string
	}{
		{nil, ""},
		{&ingestv1.AnalysisOptions{}, ""},
		{&ingestv1.AnalysisOptions{Percentiles: []float64{0.9, 0.01, 1}}, "percentiles 0.9, 0.01, 1"},
		{&ingestv1.AnalysisOptions{Columns: []string{"price"}}, "columns price"},
		{&ingestv1.AnalysisOptions{Percentiles: []float64{0.5}, Columns: []string{"price", "trade date"}}, "percentiles 0.5; columns price, trade date"},
		{&ingestv1.AnalysisOptions{ExactCategorical: true}, "exact categorical statistics"},
		{&ingestv1.AnalysisOptions{Columns: []string{"note"}, ExactCategorical: true}, "columns note; exact categorical statistics"},
	}
	for _, tt := range tests {
		if got := formatAnalysisOptions(tt.o); got != tt.want {
			t.Errorf("formatAnalysisOptions(%v) = %q, want %q", tt.o, got, tt.want)
		}
	}
}

func TestFormatSchema(t *testing.T) {
	s := &typev1.Schema{
		Fields: []*typev1.Field{
			{Name: "id", Type: typev1.FieldType_FIELD_TYPE_INTEGER, Constraints: &typev1.FieldConstraints{Required: true, Unique: true}},
			{Name: "day", Type: typev1.FieldType_FIELD_TYPE_DATE, Format: "%d/%m/%Y"},
			{Name: "mail", Type: typev1.FieldType_FIELD_TYPE_STRING, Format: "default"},
			{Name: "span", Type: typev1.FieldType_FIELD_TYPE_YEARMONTH},
		},
		PrimaryKey: []string{"id", "day"},
	}
	const want = "id integer required unique, day date (%d/%m/%Y), mail string, span yearmonth; primary key id, day"
	if got := formatSchema(s); got != want {
		t.Errorf("formatSchema =\n%s\nwant\n%s", got, want)
	}
}

// TestWriteJobValidation checks get's table for the cases the sample jobs
// leave out: an inferred schema, a clean file, and more sample errors than
// are shown.
func TestWriteJobValidation(t *testing.T) {
	base := func() *ingestv1.Job {
		return &ingestv1.Job{Name: "jobs/x", FileName: "x.csv", State: ingestv1.Job_STATE_SUCCEEDED, SizeBytes: 2048}
	}
	const head = `name:             jobs/x
file:             x.csv
state:            SUCCEEDED
created:          -
updated:          -
ended:            -
size:             2.0 KiB (2048 bytes)
sha256:           -
`
	inferred := base()
	inferred.Validation = &ingestv1.ValidationSummary{RowsTotal: 10, RowsValid: 10, Schema: sampleSchema(), SchemaInferred: true,
		Dialect: &typev1.Dialect{Delimiter: ",", Encoding: "utf-8"}}

	many := base()
	many.Dialect = &typev1.Dialect{HeaderRows: proto.Int32(0)}
	many.Schema = sampleSchema()
	many.Validation = &ingestv1.ValidationSummary{RowsTotal: 100, RowsValid: 40, RowsRejected: 60, Schema: sampleSchema(), ErrorTotal: 75,
		ErrorCounts: []*typev1.ErrorCount{{Type: "missing-cell", FieldName: "qty", FieldNumber: 2, Count: 75}}}
	for i := range 7 {
		many.Validation.SampleErrors = append(many.Validation.SampleErrors, &typev1.RowError{Type: "missing-cell", RowNumber: int64(i + 1),
			LineNumber: int64(i + 1), ByteOffset: int64(10 * i), FieldNumber: 2, FieldName: "qty", Message: fmt.Sprintf("row %d has 1 cell", i+1)})
	}

	tests := []struct {
		name string
		job  *ingestv1.Job
		want string
	}{
		{"inferred schema, no errors", inferred, head + `inferred schema:  price number required, qty integer, symbol string
rows:             10: 10 valid, 0 rejected
dialect used:     delimiter ",", encoding utf-8
errors:           0
trace id:         -
`},
		{"more errors than shown", many, `name:           jobs/x
file:           x.csv
state:          SUCCEEDED
created:        -
updated:        -
ended:          -
size:           2.0 KiB (2048 bytes)
sha256:         -
dialect given:  header rows 0
schema:         price number required, qty integer, symbol string
rows:           100: 40 valid, 60 rejected
errors:         75
                TYPE          FIELD    COUNT
                missing-cell  2 "qty"     75
first errors:   row 1 (line 1, byte 0) field 2 "qty" missing-cell: row 1 has 1 cell
                row 2 (line 2, byte 10) field 2 "qty" missing-cell: row 2 has 1 cell
                row 3 (line 3, byte 20) field 2 "qty" missing-cell: row 3 has 1 cell
                row 4 (line 4, byte 30) field 2 "qty" missing-cell: row 4 has 1 cell
                row 5 (line 5, byte 40) field 2 "qty" missing-cell: row 5 has 1 cell
                ... 70 more in the errors and rejects artifacts
trace id:       -
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := writeJob(&b, tt.job); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("writeJob =\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}
