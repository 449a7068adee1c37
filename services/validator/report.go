package validator

import (
	"encoding/json"

	"google.golang.org/protobuf/encoding/protojson"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
)

// ErrorReport is the JSON document Server writes to a request's
// error_report_output (and ingest serves as the `errors` artifact). Its JSON
// Schema is errors-report.schema.json beside this file. Example:
//
//	{
//	  "valid": false,
//	  "rows": {"total": 4, "valid": 2, "invalid": 2},
//	  "error_total": 3,
//	  "errors_by_type": {"extra-cell": 1, "type-error": 2},
//	  "errors_by_field": {"price": 2},
//	  "error_counts": [
//	    {"type": "extra-cell", "field_name": "", "field_number": 0, "count": 1},
//	    {"type": "type-error", "field_name": "price", "field_number": 2, "count": 2}
//	  ],
//	  "dialect": {"delimiter": ",", "quote_char": "\"", "double_quote": true, ...},
//	  "schema_inferred": false,
//	  "warnings": ["2 of 4 rows (50%) are invalid; they are in the rejects output"],
//	  "threshold_exceeded": "",
//	  "sample_errors": [
//	    {"type": "type-error", "row_number": "3", "line_number": "3", "byte_offset": "40",
//	     "field_number": 2, "field_name": "price", "value": "x",
//	     "message": "row 3, field 2 (\"price\"): \"x\" is not a number"}, ...
//	  ],
//	  "sample_size": 100
//	}
//
// dialect is a csvmesh.type.v1.Dialect and each sample error a
// csvmesh.type.v1.RowError in protojson with proto field names and every
// field present (so 64-bit integers are JSON strings); the rest is plain
// JSON. errors_by_field counts the errors about a field (header column), by
// field name; errors about a whole row (blank-row, extra-cell, primary-key,
// malformed-row) are only in errors_by_type and error_counts, with field
// number 0. sample_size is the error sample size asked for;
// sample_errors holds at most that many errors, the first in the file.
type ErrorReport struct {
	// Valid is true when no row is invalid.
	Valid bool `json:"valid"`
	// Rows counts the data rows.
	Rows ReportRows `json:"rows"`
	// ErrorTotal is the number of errors in all.
	ErrorTotal int64 `json:"error_total"`
	// ErrorsByType counts the errors of each type.
	ErrorsByType map[string]int64 `json:"errors_by_type"`
	// ErrorsByField counts the errors about each field, by name.
	ErrorsByField map[string]int64 `json:"errors_by_field"`
	// ErrorCounts counts the errors of each type in each field, ordered by
	// field number, then type.
	ErrorCounts []ReportErrorCount `json:"error_counts"`
	// Dialect is the dialect the file was read with, as protojson.
	Dialect json.RawMessage `json:"dialect"`
	// SchemaInferred is true when the schema was inferred.
	SchemaInferred bool `json:"schema_inferred"`
	// Warnings are things the user should know.
	Warnings []string `json:"warnings"`
	// ThresholdExceeded says why the invalid rows are over a limit; empty
	// when they are not.
	ThresholdExceeded string `json:"threshold_exceeded"`
	// SampleErrors are the first errors, as protojson RowErrors.
	SampleErrors []json.RawMessage `json:"sample_errors"`
	// SampleSize is the error sample size asked for.
	SampleSize int `json:"sample_size"`
}

// ReportRows counts the data rows of an ErrorReport.
type ReportRows struct {
	// Total is the number of data rows.
	Total int64 `json:"total"`
	// Valid is the number of valid rows.
	Valid int64 `json:"valid"`
	// Invalid is the number of invalid rows.
	Invalid int64 `json:"invalid"`
}

// ReportErrorCount is an ErrorReport's count of the errors of one type in
// one field.
type ReportErrorCount struct {
	// Type is the error type.
	Type string `json:"type"`
	// FieldName is the field's name; empty for errors about the row.
	FieldName string `json:"field_name"`
	// FieldNumber is the 1-based field number; 0 for errors about the row.
	FieldNumber int32 `json:"field_number"`
	// Count is the number of errors.
	Count int64 `json:"count"`
}

// NewErrorReport returns the error report of a validation: its result, the
// error sample it streamed, and the sample size asked for.
func NewErrorReport(res *validatorv1.ValidationResult, sample []*typev1.RowError, sampleSize int) (*ErrorReport, error) {
	r := &ErrorReport{
		Valid:             res.GetRowsRejected() == 0,
		Rows:              ReportRows{Total: res.GetRowsTotal(), Valid: res.GetRowsValid(), Invalid: res.GetRowsRejected()},
		ErrorTotal:        res.GetErrorTotal(),
		ErrorsByType:      map[string]int64{},
		ErrorsByField:     map[string]int64{},
		ErrorCounts:       []ReportErrorCount{},
		SchemaInferred:    res.GetSchemaInferred(),
		Warnings:          append([]string{}, res.GetWarnings()...),
		ThresholdExceeded: res.GetThresholdExceeded(),
		SampleErrors:      []json.RawMessage{},
		SampleSize:        sampleSize,
	}
	for _, c := range res.GetErrorCounts() {
		r.ErrorsByType[c.GetType()] += c.GetCount()
		if c.GetFieldNumber() > 0 {
			r.ErrorsByField[c.GetFieldName()] += c.GetCount()
		}
		r.ErrorCounts = append(r.ErrorCounts, ReportErrorCount{
			Type: c.GetType(), FieldName: c.GetFieldName(), FieldNumber: c.GetFieldNumber(), Count: c.GetCount()})
	}
	m := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}
	d := res.GetDialect()
	if d == nil {
		d = &typev1.Dialect{}
	}
	b, err := m.Marshal(d)
	if err != nil {
		return nil, err
	}
	r.Dialect = b
	for _, e := range sample {
		b, err := m.Marshal(e)
		if err != nil {
			return nil, err
		}
		r.SampleErrors = append(r.SampleErrors, b)
	}
	return r, nil
}

// MarshalErrorReport returns the error report of a validation as indented
// JSON, ending in a newline.
func MarshalErrorReport(res *validatorv1.ValidationResult, sample []*typev1.RowError, sampleSize int) ([]byte, error) {
	r, err := NewErrorReport(res, sample, sampleSize)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
