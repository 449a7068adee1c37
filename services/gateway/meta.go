package gateway

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// metaField is one upload metadata field that a query parameter or a
// multipart form field may set.
type metaField struct {
	name string
	// kind is the OpenAPI type of the parameter: string, boolean, integer
	// or number.
	kind string
	// format is the OpenAPI format of integers and numbers.
	format string
	// items is the OpenAPI type of an array's items; an array parameter is
	// one comma-separated value (collectionFormat csv).
	items string
	// doc describes the parameter in the OpenAPI document.
	doc string
	// set parses value into m. An error is a message about the value; the
	// caller names the parameter.
	set func(m *ingestv1.UploadMetadata, value string) error
}

// metaFields are the upload metadata fields, in the order error messages and
// the OpenAPI document list them.
var metaFields = []metaField{
	{name: "file_name", kind: "string",
		doc: "The file's name; required for a raw body, defaults to the file part's filename.",
		set: func(m *ingestv1.UploadMetadata, v string) error { m.FileName = v; return nil }},
	{name: "sha256", kind: "string",
		doc: "The file's SHA-256 in hex; the upload fails unless the bytes match.",
		set: func(m *ingestv1.UploadMetadata, v string) error { m.Sha256 = v; return nil }},
	{name: "idempotency_key", kind: "string",
		doc: "A key making a retried upload return the first upload's job; also accepted as the Idempotency-Key header.",
		set: func(m *ingestv1.UploadMetadata, v string) error { m.IdempotencyKey = v; return nil }},
	{name: "schema", kind: "string",
		doc: "A Frictionless Table Schema as JSON text, at most 1 MiB (in a multipart body also a part named schema holding a JSON file). " +
			"Without it the schema is inferred from the whole file.",
		set: setTableSchema},
	{name: "delimiter", kind: "string",
		doc: "The field delimiter, one ASCII character, URL-encoded (%3B for ';', %09 for a tab); detected when unset.",
		set: func(m *ingestv1.UploadMetadata, v string) error { dialect(m).Delimiter = v; return nil }},
	{name: "quote_char", kind: "string",
		doc: `The quote character; '"' by default.`,
		set: func(m *ingestv1.UploadMetadata, v string) error { dialect(m).QuoteChar = v; return nil }},
	{name: "double_quote", kind: "boolean",
		doc: "Whether a quote inside a quoted field is written twice; true by default. When false, escape_char escapes it.",
		set: func(m *ingestv1.UploadMetadata, v string) error {
			b, err := parseBool(v)
			if err != nil {
				return err
			}
			dialect(m).DoubleQuote = &b
			return nil
		}},
	{name: "escape_char", kind: "string",
		doc: `The character escaping a quote or itself inside a quoted field, such as '\'; none by default.`,
		set: func(m *ingestv1.UploadMetadata, v string) error { dialect(m).EscapeChar = v; return nil }},
	{name: "header_rows", kind: "integer", format: "int32",
		doc: "How many rows at the top are the header; 1 by default, 0 for a file without a header (columns field1, field2, ...).",
		set: func(m *ingestv1.UploadMetadata, v string) error {
			n, err := parseInt(v, 32)
			if err != nil {
				return err
			}
			h := int32(n)
			dialect(m).HeaderRows = &h
			return nil
		}},
	{name: "skip_initial_space", kind: "boolean",
		doc: "Whether spaces right after a delimiter are ignored; false by default.",
		set: func(m *ingestv1.UploadMetadata, v string) error {
			b, err := parseBool(v)
			if err != nil {
				return err
			}
			dialect(m).SkipInitialSpace = b
			return nil
		}},
	{name: "comment_prefix", kind: "string",
		doc: "Lines starting with this text are comments and skipped; none by default.",
		set: func(m *ingestv1.UploadMetadata, v string) error { dialect(m).CommentPrefix = v; return nil }},
	{name: "encoding", kind: "string",
		doc: "The text encoding: utf-8, utf-8-sig, utf-16le, utf-16be, windows-1252 or iso-8859-1; detected when unset.",
		set: func(m *ingestv1.UploadMetadata, v string) error { dialect(m).Encoding = v; return nil }},
	{name: "max_invalid_rows", kind: "integer", format: "int64",
		doc: "The job fails when more rows than this are invalid; no limit when unset.",
		set: func(m *ingestv1.UploadMetadata, v string) error {
			n, err := parseInt(v, 64)
			if err != nil {
				return err
			}
			options(m).MaxInvalidRows = &n
			return nil
		}},
	{name: "max_invalid_ratio", kind: "number", format: "double",
		doc: "The job fails when a larger share of the rows than this, in [0, 1], is invalid; no limit when unset.",
		set: func(m *ingestv1.UploadMetadata, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("%q is not a number", v)
			}
			options(m).MaxInvalidRatio = &f
			return nil
		}},
	{name: "error_sample_size", kind: "integer", format: "int32",
		doc: "How many row errors the job keeps as a sample and streams to watchers; 0 means 100, at most 10000.",
		set: func(m *ingestv1.UploadMetadata, v string) error {
			n, err := parseInt(v, 32)
			if err != nil {
				return err
			}
			options(m).ErrorSampleSize = int32(n)
			return nil
		}},
	{name: "neutralize_formulas", kind: "boolean",
		doc: "When true, text cells starting with =, +, -, @, a tab or a carriage return get a leading ' in the outputs.",
		set: func(m *ingestv1.UploadMetadata, v string) error {
			b, err := parseBool(v)
			if err != nil {
				return err
			}
			options(m).NeutralizeFormulas = b
			return nil
		}},
	{name: "percentiles", kind: "array", items: "number",
		doc: "The percentiles the report gives for numeric, date and datetime columns, as fractions in [0, 1] separated by commas, " +
			"such as 0.1,0.5,0.9 (at most 100); as in pandas' describe(percentiles=...), the median is always added. 0.25,0.5,0.75 when unset.",
		set: setPercentiles},
	{name: "columns", kind: "array", items: "string",
		doc: "The columns to analyze, their names exactly as in the header separated by commas, such as price,qty (at most 4096; " +
			"a name holding a comma can only be given over gRPC). All columns when unset.",
		set: func(m *ingestv1.UploadMetadata, v string) error {
			analysisOptions(m).Columns = strings.Split(v, ",")
			return nil
		}},
	{name: "exact_categorical", kind: "boolean",
		doc: "When true, unique, top, freq, the distinct count and the top values of non-numeric columns stay exact at any size " +
			"(distinct values spill to disk past the analyzer's memory budget) instead of coming from HyperLogLog and SpaceSaving sketches.",
		set: func(m *ingestv1.UploadMetadata, v string) error {
			b, err := parseBool(v)
			if err != nil {
				return err
			}
			analysisOptions(m).ExactCategorical = b
			return nil
		}},
}

// metaFieldNames lists the names of metaFields, for error messages.
var metaFieldNames = func() []string {
	names := make([]string, len(metaFields))
	for i, f := range metaFields {
		names[i] = f.name
	}
	return names
}()

// lookupMetaField returns the field called name.
func lookupMetaField(name string) (metaField, bool) {
	for _, f := range metaFields {
		if f.name == name {
			return f, true
		}
	}
	return metaField{}, false
}

// dialect returns m's dialect, creating it when unset.
func dialect(m *ingestv1.UploadMetadata) *typev1.Dialect {
	if m.Dialect == nil {
		m.Dialect = &typev1.Dialect{}
	}
	return m.Dialect
}

// options returns m's validation options, creating them when unset.
func options(m *ingestv1.UploadMetadata) *typev1.ValidationOptions {
	if m.ValidationOptions == nil {
		m.ValidationOptions = &typev1.ValidationOptions{}
	}
	return m.ValidationOptions
}

// analysisOptions returns m's analysis options, creating them when unset.
func analysisOptions(m *ingestv1.UploadMetadata) *ingestv1.AnalysisOptions {
	if m.AnalysisOptions == nil {
		m.AnalysisOptions = &ingestv1.AnalysisOptions{}
	}
	return m.AnalysisOptions
}

// setPercentiles parses v, numbers separated by commas (spaces around each
// allowed), into m's analysis options. Only the syntax is checked here;
// ingest checks the range, duplicates and the count.
func setPercentiles(m *ingestv1.UploadMetadata, v string) error {
	parts := strings.Split(v, ",")
	ps := make([]float64, len(parts))
	for i, part := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%q is not a list of numbers separated by commas, such as 0.1,0.5,0.9: item %d, %q, is not a number", v, i+1, part)
		}
		ps[i] = f
	}
	analysisOptions(m).Percentiles = ps
	return nil
}

// setTableSchema parses v, Table Schema JSON text, into m.TableSchema. Only
// the JSON is checked here; ingest checks that it is a valid Table Schema.
func setTableSchema(m *ingestv1.UploadMetadata, v string) error {
	s := &structpb.Struct{}
	if err := protojson.Unmarshal([]byte(v), s); err != nil {
		return fmt.Errorf("not a JSON object (a Frictionless Table Schema such as {\"fields\": [...]}): %w", err)
	}
	m.TableSchema = s
	return nil
}

// parseBool parses a boolean the way strconv.ParseBool does.
func parseBool(v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%q is not a boolean (true, false, 1 or 0)", v)
	}
	return b, nil
}

// parseInt parses a decimal integer that fits in bits bits.
func parseInt(v string, bits int) (int64, error) {
	n, err := strconv.ParseInt(v, 10, bits)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("%s is out of range for a %d-bit integer", v, bits)
		}
		return 0, fmt.Errorf("%q is not an integer", v)
	}
	return n, nil
}
