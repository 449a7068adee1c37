package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	ingestv1 "github.com/csvmesh/csvmesh/gen/csvmesh/ingest/v1"
	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// TestUploadFlags checks that each upload flag lands in exactly the right
// metadata field, and that flags left out leave their fields unset.
func TestUploadFlags(t *testing.T) {
	dir := t.TempDir()
	schemaPath := filepath.Join(dir, "schema.json")
	if err := os.WriteFile(schemaPath, []byte(sampleSchemaJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	path, _ := writeFile(t, "trades.csv", 100)
	tests := []struct {
		name  string
		flags []string
		// want sets the expected fields on the metadata of a plain upload
		// of trades.csv (file name and size, no SHA-256).
		want func(m *ingestv1.UploadMetadata)
	}{
		{"none", nil, func(*ingestv1.UploadMetadata) {}},
		{"schema", []string{"--schema", schemaPath}, func(m *ingestv1.UploadMetadata) { m.TableSchema = sampleTableSchema() }},
		{"idempotency key", []string{"--idempotency-key", "k-1"}, func(m *ingestv1.UploadMetadata) { m.IdempotencyKey = "k-1" }},
		{"delimiter", []string{"--delimiter", ";"}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{Delimiter: ";"} }},
		{"tab delimiter", []string{"--delimiter", "tab"}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{Delimiter: "\t"} }},
		{"quote char", []string{"--quote-char", "'"}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{QuoteChar: "'"} }},
		{"escape char", []string{"--escape-char", `\`}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{EscapeChar: `\`} }},
		{"no double quote", []string{"--no-double-quote"}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{DoubleQuote: proto.Bool(false)} }},
		{"header rows 0", []string{"--header-rows", "0"}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{HeaderRows: proto.Int32(0)} }},
		{"header rows 2", []string{"--header-rows=2"}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{HeaderRows: proto.Int32(2)} }},
		{"skip initial space", []string{"--skip-initial-space"}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{SkipInitialSpace: true} }},
		{"comment prefix", []string{"--comment-prefix", "#"}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{CommentPrefix: "#"} }},
		{"encoding", []string{"--encoding", "iso-8859-1"}, func(m *ingestv1.UploadMetadata) { m.Dialect = &typev1.Dialect{Encoding: "iso-8859-1"} }},
		{"every dialect flag", []string{"--delimiter", "|", "--quote-char", "'", "--escape-char", `\`, "--no-double-quote", "--header-rows", "3",
			"--skip-initial-space", "--comment-prefix", "//", "--encoding", "utf-16be"}, func(m *ingestv1.UploadMetadata) {
			m.Dialect = &typev1.Dialect{Delimiter: "|", QuoteChar: "'", EscapeChar: `\`, DoubleQuote: proto.Bool(false), HeaderRows: proto.Int32(3),
				SkipInitialSpace: true, CommentPrefix: "//", Encoding: "utf-16be"}
		}},
		{"max invalid rows 0", []string{"--max-invalid-rows", "0"}, func(m *ingestv1.UploadMetadata) {
			m.ValidationOptions = &typev1.ValidationOptions{MaxInvalidRows: proto.Int64(0)}
		}},
		{"max invalid ratio", []string{"--max-invalid-ratio", "0.05"}, func(m *ingestv1.UploadMetadata) {
			m.ValidationOptions = &typev1.ValidationOptions{MaxInvalidRatio: proto.Float64(0.05)}
		}},
		{"max invalid ratio 0", []string{"--max-invalid-ratio", "0"}, func(m *ingestv1.UploadMetadata) {
			m.ValidationOptions = &typev1.ValidationOptions{MaxInvalidRatio: proto.Float64(0)}
		}},
		{"error sample size", []string{"--error-sample-size", "10000"}, func(m *ingestv1.UploadMetadata) {
			m.ValidationOptions = &typev1.ValidationOptions{ErrorSampleSize: 10000}
		}},
		{"error sample size 0 is the default", []string{"--error-sample-size", "0"}, func(*ingestv1.UploadMetadata) {}},
		{"neutralize formulas", []string{"--neutralize-formulas"}, func(m *ingestv1.UploadMetadata) {
			m.ValidationOptions = &typev1.ValidationOptions{NeutralizeFormulas: true}
		}},
		{"percentiles", []string{"--percentiles", "0.1,0.5,0.9"}, func(m *ingestv1.UploadMetadata) {
			m.AnalysisOptions = &ingestv1.AnalysisOptions{Percentiles: []float64{0.1, 0.5, 0.9}}
		}},
		{"percentiles with spaces, bounds, order kept", []string{"--percentiles= 1, 0 ,0.05"}, func(m *ingestv1.UploadMetadata) {
			m.AnalysisOptions = &ingestv1.AnalysisOptions{Percentiles: []float64{1, 0, 0.05}}
		}},
		{"percentiles given twice add up", []string{"--percentiles", "0.99", "--percentiles", "0.01"}, func(m *ingestv1.UploadMetadata) {
			m.AnalysisOptions = &ingestv1.AnalysisOptions{Percentiles: []float64{0.99, 0.01}}
		}},
		{"columns", []string{"--columns", "price,qty"}, func(m *ingestv1.UploadMetadata) {
			m.AnalysisOptions = &ingestv1.AnalysisOptions{Columns: []string{"price", "qty"}}
		}},
		{"columns kept exactly", []string{"--columns", "Trade Date, prix €"}, func(m *ingestv1.UploadMetadata) {
			m.AnalysisOptions = &ingestv1.AnalysisOptions{Columns: []string{"Trade Date", " prix €"}}
		}},
		{"percentiles and columns", []string{"--columns", "price", "--percentiles", "0.95", "--columns", "qty"}, func(m *ingestv1.UploadMetadata) {
			m.AnalysisOptions = &ingestv1.AnalysisOptions{Percentiles: []float64{0.95}, Columns: []string{"price", "qty"}}
		}},
		{"exact categorical", []string{"--exact-categorical"}, func(m *ingestv1.UploadMetadata) {
			m.AnalysisOptions = &ingestv1.AnalysisOptions{ExactCategorical: true}
		}},
		{"everything", []string{"--schema", schemaPath, "--delimiter", ";", "--header-rows", "1", "--encoding", "utf-8",
			"--max-invalid-rows", "100", "--max-invalid-ratio", "1", "--error-sample-size", "5", "--neutralize-formulas", "--idempotency-key", "k"},
			func(m *ingestv1.UploadMetadata) {
				m.TableSchema, m.IdempotencyKey = sampleTableSchema(), "k"
				m.Dialect = &typev1.Dialect{Delimiter: ";", HeaderRows: proto.Int32(1), Encoding: "utf-8"}
				m.ValidationOptions = &typev1.ValidationOptions{MaxInvalidRows: proto.Int64(100), MaxInvalidRatio: proto.Float64(1),
					ErrorSampleSize: 5, NeutralizeFormulas: true}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			got := runFake(t, f, append(append([]string{"upload", "--no-sha"}, tt.flags...), path)...)
			if got.code != exitOK || got.stdout != "jobs/new\n" {
				t.Fatalf("run = %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
			}
			if len(f.uploads) != 1 {
				t.Fatalf("server saw %d uploads, want 1", len(f.uploads))
			}
			want := &ingestv1.UploadMetadata{FileName: "trades.csv", DeclaredSizeBytes: proto.Int64(100)}
			tt.want(want)
			if m := f.uploads[0].meta; !proto.Equal(m, want) {
				t.Errorf("metadata =\n%v\nwant\n%v", m, want)
			}
		})
	}
}

// TestUploadFlagErrors checks that bad flag values are usage errors, found
// before anything is sent.
func TestUploadFlagErrors(t *testing.T) {
	path, _ := writeFile(t, "a.csv", 10)
	tests := []struct {
		flags      []string
		wantStderr string // a substring
	}{
		{[]string{"--delimiter", "ab"}, `csvctl upload: invalid delimiter "ab"`},
		{[]string{"--quote-char", "''"}, `csvctl upload: invalid --quote-char "''": want a single character`},
		{[]string{"--quote-char", "\n"}, `csvctl upload: invalid --quote-char "\n": a line break cannot be quote-char`},
		{[]string{"--escape-char", "\\\\"}, `csvctl upload: invalid --escape-char "\\\\": want a single character`},
		{[]string{"--header-rows", "-1"}, `invalid value "-1" for flag -header-rows: want an integer from 0 to 2147483647`},
		{[]string{"--header-rows", "two"}, `invalid value "two" for flag -header-rows: want an integer from 0 to 2147483647`},
		{[]string{"--header-rows", "2147483648"}, `invalid value "2147483648" for flag -header-rows`},
		{[]string{"--max-invalid-rows", "-5"}, `invalid value "-5" for flag -max-invalid-rows: want an integer from 0 to 9223372036854775807`},
		{[]string{"--max-invalid-rows", "1e3"}, `invalid value "1e3" for flag -max-invalid-rows`},
		{[]string{"--max-invalid-ratio", "1.5"}, `invalid value "1.5" for flag -max-invalid-ratio: want a number from 0 to 1, such as 0.05`},
		{[]string{"--max-invalid-ratio", "-0.1"}, `invalid value "-0.1" for flag -max-invalid-ratio`},
		{[]string{"--max-invalid-ratio", "NaN"}, `invalid value "NaN" for flag -max-invalid-ratio`},
		{[]string{"--max-invalid-ratio", "5%"}, `invalid value "5%" for flag -max-invalid-ratio`},
		{[]string{"--error-sample-size", "10001"}, `invalid value "10001" for flag -error-sample-size: want an integer from 0 to 10000`},
		{[]string{"--percentiles", "90"}, `invalid value "90" for flag -percentiles: "90" is not a fraction from 0 to 1; want percentiles such as 0.1,0.5,0.9`},
		{[]string{"--percentiles", "0.1,-0.1"}, `invalid value "0.1,-0.1" for flag -percentiles: "-0.1" is not a fraction from 0 to 1`},
		{[]string{"--percentiles", "0.1,,0.9"}, `invalid value "0.1,,0.9" for flag -percentiles: "" is not a fraction from 0 to 1`},
		{[]string{"--percentiles", "NaN"}, `invalid value "NaN" for flag -percentiles: "NaN" is not a fraction from 0 to 1`},
		{[]string{"--percentiles", "25%"}, `invalid value "25%" for flag -percentiles: "25%" is not a fraction from 0 to 1`},
		{[]string{"--percentiles", "0.5,0.50"}, `invalid value "0.5,0.50" for flag -percentiles: the percentile 0.5 is given twice`},
		{[]string{"--percentiles", "0.5", "--percentiles", "0.5"}, `invalid value "0.5" for flag -percentiles: the percentile 0.5 is given twice`},
		{[]string{"--percentiles", manyPercentiles(maxPercentiles + 1)}, `for flag -percentiles: 101 percentiles; at most 100 may be given`},
		{[]string{"--columns", "a,,b"}, `invalid value "a,,b" for flag -columns: a column name is empty; want names separated by commas, such as price,qty`},
		{[]string{"--columns", ""}, `invalid value "" for flag -columns: a column name is empty`},
		{[]string{"--columns", "a,b", "--columns", "a"}, `invalid value "a" for flag -columns: the column "a" is given twice`},
		{[]string{"--columns", manyColumns(maxColumns + 1)}, `for flag -columns: 4097 columns; at most 4096 may be given`},
		{[]string{"--no-double-quote=maybe"}, `invalid boolean value "maybe" for -no-double-quote`},
		{[]string{"--neutralize-formulas", "--bogus"}, "flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.flags, " "), func(t *testing.T) {
			f := newFake()
			got := runFake(t, f, append(append([]string{"upload"}, tt.flags...), path)...)
			if got.code != exitUsage || got.stdout != "" || !strings.Contains(got.stderr, tt.wantStderr) {
				t.Errorf("run = %d, stdout %q, stderr %q; want %d and stderr containing %q", got.code, got.stdout, got.stderr, exitUsage, tt.wantStderr)
			}
			if !strings.HasSuffix(got.stderr, "Run 'csvctl upload -h' for usage.\n") {
				t.Errorf("stderr %q does not point at the usage", got.stderr)
			}
			if len(f.uploads) != 0 {
				t.Errorf("server saw %d uploads, want none", len(f.uploads))
			}
		})
	}
}

// manyPercentiles is n distinct percentiles separated by commas.
func manyPercentiles(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = strconv.FormatFloat(float64(i)/float64(n), 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

// manyColumns is n distinct column names separated by commas.
func manyColumns(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "c" + strconv.Itoa(i)
	}
	return strings.Join(parts, ",")
}

// TestSchemaFileErrors checks the schema files upload refuses: each fails
// with exit code 2 and one clear line, before anything is sent.
func TestSchemaFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	csvPath, _ := writeFile(t, "a.csv", 10)
	big := append([]byte(`{"description": "`), bytes.Repeat([]byte("x"), maxSchemaFileBytes)...)
	big = append(big, `"}`...)
	const notObject = `is not a JSON object; want a Frictionless Table Schema such as {"fields": [...]}`
	tests := []struct {
		name, path string
		want       string // stderr after "csvctl upload: schema PATH: "
	}{
		{"missing", filepath.Join(dir, "nope.json"), "cannot open: no such file or directory"},
		{"directory", dir, "cannot read: is a directory"},
		{"empty", write("empty.json", nil), `is empty; want a Frictionless Table Schema, a JSON object such as {"fields": [...]}`},
		{"blank", write("blank.json", []byte(" \n\t\n")), `is empty; want a Frictionless Table Schema, a JSON object such as {"fields": [...]}`},
		{"array", write("array.json", []byte(`[{"name": "id"}]`)), notObject},
		{"string", write("string.json", []byte(`"fields"`)), notObject},
		{"number", write("number.json", []byte("42\n")), notObject},
		{"CSV", write("csv.json", []byte("name,type\nid,integer\n")), notObject},
		{"broken JSON", write("broken.json", []byte("{\"fields\": [\n  {\"name\": \"a\"},\n}")),
			"is not valid JSON: line 3, column 1: invalid character '}' looking for beginning of value"},
		{"cut short", write("short.json", []byte(`{"fields": [`)), "is not valid JSON: line 1, column 13: unexpected end of the file"},
		{"two objects", write("two.json", []byte("{}\n{}")), "is not valid JSON: line 2, column 1: more than one JSON value"},
		{"too large", write("big.json", big), "larger than the limit of 1.0 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			got := runFake(t, f, "upload", "--schema", tt.path, csvPath)
			want := "csvctl upload: schema " + tt.path + ": " + tt.want + "\n"
			if got.code != exitUsage || got.stdout != "" || got.stderr != want {
				t.Errorf("run = %d, stdout %q, stderr\n%q\nwant %d, stderr\n%q", got.code, got.stdout, got.stderr, exitUsage, want)
			}
			if len(f.uploads) != 0 {
				t.Errorf("server saw %d uploads, want none", len(f.uploads))
			}
		})
	}
}

// TestReadTableSchema checks the schema files that are sent, as they are
// sent.
func TestReadTableSchema(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
		want map[string]any
	}{
		{"sample", []byte(sampleSchemaJSON), sampleTableSchema().AsMap()},
		{"byte order mark", append([]byte("\xEF\xBB\xBF"), `{"fields": []}`...), map[string]any{"fields": []any{}}},
		{"empty object", []byte("{}"), map[string]any{}},
		{"anything the server checks", []byte(`{"fields": [{"name": "x", "type": "money"}], "primaryKey": "x", "x-note": null}`),
			map[string]any{"fields": []any{map[string]any{"name": "x", "type": "money"}}, "primaryKey": "x", "x-note": nil}},
		{"exactly the limit", append(append([]byte(`{"d": "`), bytes.Repeat([]byte("y"), maxSchemaFileBytes-9)...), `"}`...),
			map[string]any{"d": strings.Repeat("y", maxSchemaFileBytes-9)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "s.json")
			if err := os.WriteFile(p, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := readTableSchema(p)
			if err != nil {
				t.Fatalf("readTableSchema: %v", err)
			}
			want, err := structpb.NewStruct(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, want) {
				t.Errorf("readTableSchema = %v, want %v", got, want)
			}
		})
	}
	t.Run("error unwraps to the cause", func(t *testing.T) {
		_, err := readTableSchema(filepath.Join(dir, "nope.json"))
		var se *schemaFileError
		if !errors.As(err, &se) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("readTableSchema of a missing file = %v, want a *schemaFileError wrapping fs.ErrNotExist", err)
		}
	})
}

func TestParseChar(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"", "", false},
		{"'", "'", false},
		{`"`, `"`, false},
		{`\`, `\`, false},
		{`\t`, "\t", false},
		{"TAB", "\t", false},
		{"§", "§", false},
		{"ab", "", true},
		{"\r", "", true},
		{"\n", "", true},
		{"\xff", "", true},
	}
	for _, tt := range tests {
		got, err := parseChar("quote-char", tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseChar(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestSchemaCommand checks that schema prints the schema artifact as it is,
// and explains a job that has none yet.
func TestSchemaCommand(t *testing.T) {
	const schemaJSON = "{\n  \"fields\": [\n    {\"name\": \"price\", \"type\": \"number\"}\n  ]\n}\n"
	tests := []struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{[]string{"schema", "ok"}, exitOK, schemaJSON, ""},
		{[]string{"schema", "jobs/ok"}, exitOK, schemaJSON, ""},
		{[]string{"schema", "run"}, exitError, "",
			"csvctl: schema jobs/run: NOT_FOUND: artifact jobs/run/artifacts/schema not found\n" +
				"(the schema artifact is written when validation finishes; 'csvctl get run' shows the job's state)\n"},
		{[]string{"schema", "jobs/"}, exitUsage, "", "csvctl schema: invalid job \"jobs/\": want jobs/ID or ID\nRun 'csvctl schema -h' for usage.\n"},
		{[]string{"schema"}, exitUsage, "", "csvctl schema: want 1 argument(s) (JOB), got 0\nRun 'csvctl schema -h' for usage.\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f := newFake()
			f.artifacts["jobs/ok/artifacts/schema"] = []byte(schemaJSON)
			f.chunkSize = 10 // several chunks
			got := runFake(t, f, tt.args...)
			if got.code != tt.wantCode || got.stdout != tt.wantStdout || got.stderr != tt.wantStderr {
				t.Errorf("run = %d, stdout %q, stderr %q; want %d, %q, %q", got.code, got.stdout, got.stderr, tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}
