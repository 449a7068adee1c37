package gateway_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/gateway"
)

func ptr[T any](v T) *T { return &v }

// uploadEncodings send the same metadata as query parameters of a raw body
// and as multipart form fields before the file.
var uploadEncodings = []struct {
	name    string
	request func(t *testing.T, e *env, params [][2]string, file []byte) *http.Request
	// base is the metadata the encoding itself sets for file.
	base func(file []byte) *ingestv1.UploadMetadata
}{{
	name: "query",
	request: func(t *testing.T, e *env, params [][2]string, file []byte) *http.Request {
		q := url.Values{"file_name": {"a.csv"}}
		for _, p := range params {
			q.Add(p[0], p[1])
		}
		req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload?"+q.Encode(), bytes.NewReader(file))
		req.Header.Set("Content-Type", "text/csv")
		return req
	},
	base: func(file []byte) *ingestv1.UploadMetadata {
		return &ingestv1.UploadMetadata{FileName: "a.csv", DeclaredSizeBytes: ptr(int64(len(file)))}
	},
}, {
	name: "form",
	request: func(t *testing.T, e *env, params [][2]string, file []byte) *http.Request {
		body, ct := multipartBody(t, params, "a.csv", file, nil)
		req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload", body)
		req.Header.Set("Content-Type", ct)
		return req
	},
	base: func([]byte) *ingestv1.UploadMetadata { return &ingestv1.UploadMetadata{FileName: "a.csv"} },
}}

// TestUploadMetadataParameters checks every metadata parameter, as a query
// parameter and as a form field: the metadata ingest receives is exactly
// what the parameters say, and nothing else.
func TestUploadMetadataParameters(t *testing.T) {
	file := csvBody(2000)
	tests := []struct {
		name   string
		params [][2]string
		// want sets the expected fields on the encoding's base metadata.
		want func(m *ingestv1.UploadMetadata)
	}{
		{"none", nil, func(*ingestv1.UploadMetadata) {}},
		{"sha256", [][2]string{{"sha256", "ab12"}}, func(m *ingestv1.UploadMetadata) { m.Sha256 = "ab12" }},
		{"idempotency_key", [][2]string{{"idempotency_key", "k-9"}}, func(m *ingestv1.UploadMetadata) { m.IdempotencyKey = "k-9" }},
		{"schema", [][2]string{{"schema", testSchemaJSON}}, func(m *ingestv1.UploadMetadata) { m.TableSchema = testSchema }},
		{"schema with white space and nesting", [][2]string{{"schema", "\n {\"fields\": [{\"name\": \"d\", \"type\": \"date\", \"format\": \"%d/%m/%Y\",\n \"constraints\": {\"minimum\": \"01/01/2020\", \"enum\": [1, 2.5, null]}}], \"missingValues\": [\"\", \"NA\"]}\n"}},
			func(m *ingestv1.UploadMetadata) {
				m.TableSchema = mustStruct(map[string]any{
					"fields": []any{map[string]any{"name": "d", "type": "date", "format": "%d/%m/%Y",
						"constraints": map[string]any{"minimum": "01/01/2020", "enum": []any{1, 2.5, nil}}}},
					"missingValues": []any{"", "NA"},
				})
			}},
		{"empty schema object", [][2]string{{"schema", "{}"}}, func(m *ingestv1.UploadMetadata) { m.TableSchema = mustStruct(map[string]any{}) }},
		{"delimiter", [][2]string{{"delimiter", ";"}}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{Delimiter: ";"} }},
		{"tab delimiter", [][2]string{{"delimiter", "\t"}}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{Delimiter: "\t"} }},
		{"quote_char", [][2]string{{"quote_char", "'"}}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{QuoteChar: "'"} }},
		{"double_quote false", [][2]string{{"double_quote", "false"}}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{DoubleQuote: ptr(false)} }},
		{"double_quote 1", [][2]string{{"double_quote", "1"}}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{DoubleQuote: ptr(true)} }},
		{"escape_char", [][2]string{{"escape_char", `\`}}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{EscapeChar: `\`} }},
		{"header_rows 0", [][2]string{{"header_rows", "0"}}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{HeaderRows: ptr(int32(0))} }},
		{"header_rows 3", [][2]string{{"header_rows", "3"}}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{HeaderRows: ptr(int32(3))} }},
		{"skip_initial_space", [][2]string{{"skip_initial_space", "TRUE"}}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{SkipInitialSpace: true} }},
		{"skip_initial_space false", [][2]string{{"skip_initial_space", "f"}}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{} }},
		{"comment_prefix", [][2]string{{"comment_prefix", "#"}}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{CommentPrefix: "#"} }},
		{"encoding", [][2]string{{"encoding", "windows-1252"}}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{Encoding: "windows-1252"} }},
		{"whole dialect", [][2]string{
			{"delimiter", "|"}, {"quote_char", "'"}, {"double_quote", "false"}, {"escape_char", `\`}, {"header_rows", "2"},
			{"skip_initial_space", "true"}, {"comment_prefix", "//"}, {"encoding", "utf-16le"},
		}, func(m *ingestv1.UploadMetadata) {
			m.Dialect = &typev1.Dialect{Delimiter: "|", QuoteChar: "'", DoubleQuote: ptr(false), EscapeChar: `\`, HeaderRows: ptr(int32(2)),
				SkipInitialSpace: true, CommentPrefix: "//", Encoding: "utf-16le"}
		}},
		{"max_invalid_rows", [][2]string{{"max_invalid_rows", "0"}}, func(m *ingestv1.UploadMetadata) {
			m.ValidationOptions = &typev1.ValidationOptions{MaxInvalidRows: ptr(int64(0))}
		}},
		{"max_invalid_rows large", [][2]string{{"max_invalid_rows", "9000000000"}}, func(m *ingestv1.UploadMetadata) {
			m.ValidationOptions = &typev1.ValidationOptions{MaxInvalidRows: ptr(int64(9000000000))}
		}},
		{"max_invalid_ratio", [][2]string{{"max_invalid_ratio", "0.025"}}, func(m *ingestv1.UploadMetadata) {
			m.ValidationOptions = &typev1.ValidationOptions{MaxInvalidRatio: ptr(0.025)}
		}},
		{"error_sample_size", [][2]string{{"error_sample_size", "500"}}, func(m *ingestv1.UploadMetadata) {
			m.ValidationOptions = &typev1.ValidationOptions{ErrorSampleSize: 500}
		}},
		{"neutralize_formulas", [][2]string{{"neutralize_formulas", "true"}}, func(m *ingestv1.UploadMetadata) {
			m.ValidationOptions = &typev1.ValidationOptions{NeutralizeFormulas: true}
		}},
		{"every option", [][2]string{{"max_invalid_rows", "10"}, {"max_invalid_ratio", "1"}, {"error_sample_size", "0"}, {"neutralize_formulas", "T"}},
			func(m *ingestv1.UploadMetadata) {
				m.ValidationOptions = &typev1.ValidationOptions{MaxInvalidRows: ptr(int64(10)), MaxInvalidRatio: ptr(1.0), NeutralizeFormulas: true}
			}},
		{"percentiles", [][2]string{{"percentiles", "0.1,0.5,0.9"}}, func(m *ingestv1.UploadMetadata) {
			m.AnalysisOptions = &ingestv1.AnalysisOptions{Percentiles: []float64{0.1, 0.5, 0.9}}
		}},
		{"percentiles with spaces, unsorted, bounds", [][2]string{{"percentiles", " 1 , 0,0.05 ,1e-3"}}, func(m *ingestv1.UploadMetadata) {
			m.AnalysisOptions = &ingestv1.AnalysisOptions{Percentiles: []float64{1, 0, 0.05, 0.001}}
		}},
		{"one percentile", [][2]string{{"percentiles", "0.99"}}, func(m *ingestv1.UploadMetadata) {
			m.AnalysisOptions = &ingestv1.AnalysisOptions{Percentiles: []float64{0.99}}
		}},
		{"percentiles out of range go to ingest", [][2]string{{"percentiles", "90,-1"}}, func(m *ingestv1.UploadMetadata) {
			m.AnalysisOptions = &ingestv1.AnalysisOptions{Percentiles: []float64{90, -1}}
		}},
		{"columns", [][2]string{{"columns", "price,qty"}}, func(m *ingestv1.UploadMetadata) {
			m.AnalysisOptions = &ingestv1.AnalysisOptions{Columns: []string{"price", "qty"}}
		}},
		{"columns kept exactly", [][2]string{{"columns", "Trade Date, prix €,,x"}}, func(m *ingestv1.UploadMetadata) {
			m.AnalysisOptions = &ingestv1.AnalysisOptions{Columns: []string{"Trade Date", " prix €", "", "x"}}
		}},
		{"percentiles and columns", [][2]string{{"columns", "price"}, {"percentiles", "0.01,0.99"}}, func(m *ingestv1.UploadMetadata) {
			m.AnalysisOptions = &ingestv1.AnalysisOptions{Percentiles: []float64{0.01, 0.99}, Columns: []string{"price"}}
		}},
		{"exact categorical", [][2]string{{"exact_categorical", "true"}}, func(m *ingestv1.UploadMetadata) {
			m.AnalysisOptions = &ingestv1.AnalysisOptions{ExactCategorical: true}
		}},
		{"everything", [][2]string{
			{"sha256", "ff"}, {"idempotency_key", "k"}, {"schema", testSchemaJSON}, {"delimiter", ";"}, {"header_rows", "1"},
			{"encoding", "utf-8-sig"}, {"max_invalid_ratio", "0.5"}, {"error_sample_size", "10000"},
		}, func(m *ingestv1.UploadMetadata) {
			m.Sha256, m.IdempotencyKey, m.TableSchema = "ff", "k", testSchema
			m.Dialect = &typev1.Dialect{Delimiter: ";", HeaderRows: ptr(int32(1)), Encoding: "utf-8-sig"}
			m.ValidationOptions = &typev1.ValidationOptions{MaxInvalidRatio: ptr(0.5), ErrorSampleSize: 10000}
		}},
	}
	for _, enc := range uploadEncodings {
		for _, tc := range tests {
			t.Run(enc.name+"/"+tc.name, func(t *testing.T) {
				fake := newFake()
				e := newEnv(t, fake)
				resp, body := e.do(t, enc.request(t, e, tc.params, file))
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status = %d, body %s", resp.StatusCode, body)
				}
				u := <-fake.uploads
				if u.err != nil {
					t.Fatalf("ingest saw error %v", u.err)
				}
				want := enc.base(file)
				tc.want(want)
				if !proto.Equal(u.meta, want) {
					t.Errorf("metadata =\n%v\nwant\n%v", u.meta, want)
				}
				if u.total != int64(len(file)) {
					t.Errorf("ingest got %d bytes, want %d", u.total, len(file))
				}
			})
		}
	}
}

// TestUploadMetadataRejected checks that a parameter that does not parse is
// answered 400 with a field violation naming it and a message quoting the
// value, before ingest is called, in both encodings.
func TestUploadMetadataRejected(t *testing.T) {
	file := csvBody(1000)
	tests := []struct {
		param, value string
		wantMsg      string // in the error message
	}{
		{"schema", "{nope", "schema: not a JSON object"},
		{"schema", `["a"]`, "schema: not a JSON object"},
		{"schema", `"fields"`, "schema: not a JSON object"},
		{"schema", "", "schema: not a JSON object"},
		{"schema", `{"fields": []} {}`, "schema: not a JSON object"},
		{"double_quote", "yes", `double_quote: "yes" is not a boolean`},
		{"double_quote", "", `double_quote: "" is not a boolean`},
		{"skip_initial_space", "on", `skip_initial_space: "on" is not a boolean`},
		{"exact_categorical", "exact", `exact_categorical: "exact" is not a boolean`},
		{"neutralize_formulas", "2", `neutralize_formulas: "2" is not a boolean`},
		{"header_rows", "one", `header_rows: "one" is not an integer`},
		{"header_rows", "1.5", `header_rows: "1.5" is not an integer`},
		{"header_rows", "2147483648", "header_rows: 2147483648 is out of range for a 32-bit integer"},
		{"max_invalid_rows", "10k", `max_invalid_rows: "10k" is not an integer`},
		{"max_invalid_rows", "99999999999999999999", "max_invalid_rows: 99999999999999999999 is out of range for a 64-bit integer"},
		{"max_invalid_ratio", "half", `max_invalid_ratio: "half" is not a number`},
		{"max_invalid_ratio", "NaN", `max_invalid_ratio: "NaN" is not a number`},
		{"max_invalid_ratio", "inf", `max_invalid_ratio: "inf" is not a number`},
		{"error_sample_size", "-", `error_sample_size: "-" is not an integer`},
		{"error_sample_size", "1e3", `error_sample_size: "1e3" is not an integer`},
		{"percentiles", "", `percentiles: "" is not a list of numbers separated by commas, such as 0.1,0.5,0.9: item 1, "", is not a number`},
		{"percentiles", "0.1;0.9", `percentiles: "0.1;0.9" is not a list of numbers separated by commas, such as 0.1,0.5,0.9: item 1, "0.1;0.9", is not a number`},
		{"percentiles", "0.1,,0.9", `percentiles: "0.1,,0.9" is not a list of numbers separated by commas, such as 0.1,0.5,0.9: item 2, "", is not a number`},
		{"percentiles", "0.1,NaN", `percentiles: "0.1,NaN" is not a list of numbers separated by commas, such as 0.1,0.5,0.9: item 2, "NaN", is not a number`},
		{"percentiles", "25%", `percentiles: "25%" is not a list of numbers separated by commas, such as 0.1,0.5,0.9: item 1, "25%", is not a number`},
	}
	for _, enc := range uploadEncodings {
		for _, tc := range tests {
			t.Run(enc.name+"/"+tc.param+"="+tc.value, func(t *testing.T) {
				fake := newFake()
				e := newEnv(t, fake)
				resp, body := e.do(t, enc.request(t, e, [][2]string{{tc.param, tc.value}}, file))
				checkError(t, resp, body, http.StatusBadRequest, codes.InvalidArgument, tc.param)
				if !strings.Contains(string(body), jsonEscape(tc.wantMsg)) {
					t.Errorf("error body %s does not say %q", body, tc.wantMsg)
				}
				if n := fake.uploadCalls.Load(); n != 0 {
					t.Errorf("ingest got %d UploadFile calls, want none", n)
				}
			})
		}
	}
}

// jsonEscape escapes s as it appears inside a JSON string written by
// protojson (quotes and backslashes only; the messages are ASCII).
func jsonEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// schemaFileBody is a multipart body whose schema is a file part named
// "schema" (as curl -F schema=@schema.json sends it), then the CSV file.
func schemaFileBody(t *testing.T, schema string, file []byte) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	sw, err := mw.CreateFormFile("schema", "schema.json")
	if err != nil {
		t.Fatal(err)
	}
	sw.Write([]byte(schema))
	if err := mw.WriteField("delimiter", ","); err != nil {
		t.Fatal(err)
	}
	fw, err := mw.CreateFormFile("file", "prices.csv")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(file)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &b, mw.FormDataContentType()
}

// TestUploadSchemaFilePart checks that the schema may be a JSON file part,
// bounded like the other form fields.
func TestUploadSchemaFilePart(t *testing.T) {
	file := csvBody(3000)
	pretty := "{\n  \"fields\": [\n    {\"name\": \"id\", \"type\": \"integer\", \"constraints\": {\"required\": true}},\n" +
		"    {\"name\": \"price\", \"type\": \"number\"}\n  ],\n  \"primaryKey\": [\"id\"]\n}\n"

	t.Run("accepted", func(t *testing.T) {
		fake := newFake()
		e := newEnv(t, fake)
		body, ct := schemaFileBody(t, pretty, file)
		req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload", body)
		req.Header.Set("Content-Type", ct)
		resp, got := e.do(t, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, body %s", resp.StatusCode, got)
		}
		u := <-fake.uploads
		want := &ingestv1.UploadMetadata{FileName: "prices.csv", TableSchema: testSchema, Dialect: &typev1.Dialect{Delimiter: ","}}
		if !proto.Equal(u.meta, want) {
			t.Errorf("metadata =\n%v\nwant\n%v", u.meta, want)
		}
	})

	rejected := []struct {
		name   string
		opts   []gateway.Option
		schema string
	}{
		{"over the form field limit", []gateway.Option{gateway.WithMaxFormFieldBytes(int64(len(pretty) - 1))}, pretty},
		{"not JSON", nil, "id,integer\nprice,number\n"},
	}
	for _, tc := range rejected {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			e := newEnv(t, fake, tc.opts...)
			body, ct := schemaFileBody(t, tc.schema, file)
			req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload", body)
			req.Header.Set("Content-Type", ct)
			resp, got := e.do(t, req)
			checkError(t, resp, got, http.StatusBadRequest, codes.InvalidArgument, "schema")
			if n := fake.uploadCalls.Load(); n != 0 {
				t.Errorf("ingest got %d UploadFile calls, want none", n)
			}
		})
	}

	t.Run("exactly at the limit", func(t *testing.T) {
		fake := newFake()
		e := newEnv(t, fake, gateway.WithMaxFormFieldBytes(int64(len(pretty))))
		body, ct := schemaFileBody(t, pretty, file)
		req := e.newRequest(t, http.MethodPost, "/v1/jobs:upload", body)
		req.Header.Set("Content-Type", ct)
		resp, got := e.do(t, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, body %s", resp.StatusCode, got)
		}
		if u := <-fake.uploads; !proto.Equal(u.meta.GetTableSchema(), testSchema) {
			t.Errorf("table_schema = %v, want %v", u.meta.GetTableSchema(), testSchema)
		}
	})
}
