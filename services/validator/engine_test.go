package validator

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"google.golang.org/protobuf/proto"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/internal/dialect"
	"github.com/csvmesh/csvmesh/services/internal/tableschema"
)

const rejectsHeader = "row_number,line_number,byte_offset,error_types,error_messages,original_row\n"

// schema builds a schema from "name:type" specs; a "!" suffix makes the
// field required and a "~" suffix unique.
func schema(fields ...string) *typev1.Schema {
	s := &typev1.Schema{}
	for _, f := range fields {
		i := strings.LastIndex(f, ":")
		name, typ := f[:i], f[i+1:]
		c := &typev1.FieldConstraints{}
		for strings.HasSuffix(typ, "!") || strings.HasSuffix(typ, "~") {
			c.Required = c.Required || strings.HasSuffix(typ, "!")
			c.Unique = c.Unique || strings.HasSuffix(typ, "~")
			typ = typ[:len(typ)-1]
		}
		fd := &typev1.Field{Name: name, Type: typev1.FieldType(typev1.FieldType_value["FIELD_TYPE_"+strings.ToUpper(typ)])}
		if c.Required || c.Unique {
			fd.Constraints = c
		}
		s.Fields = append(s.Fields, fd)
	}
	return s
}

// tradesSchema is the schema of tradegen's files.
func tradesSchema() *typev1.Schema {
	return schema("timestamp:datetime!", "symbol:string!", "side:string!", "price:number",
		"quantity:integer!", "notional:number", "venue:string", "note:string")
}

// collector is an EventSink that keeps every event.
type collector struct {
	progress []*validatorv1.ValidationProgress
	batches  []*validatorv1.RowErrorBatch
}

func (c *collector) Progress(p *validatorv1.ValidationProgress) error {
	c.progress = append(c.progress, p)
	return nil
}

func (c *collector) RowErrors(b *validatorv1.RowErrorBatch) error {
	c.batches = append(c.batches, b)
	return nil
}

func (c *collector) errors() []*typev1.RowError {
	var all []*typev1.RowError
	for _, b := range c.batches {
		all = append(all, b.GetErrors()...)
	}
	return all
}

// utf16LE encodes s as UTF-16LE with a byte order mark.
func utf16LE(s string) string {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b)
}

// utf16BE encodes s as UTF-16BE with a byte order mark.
func utf16BE(s string) string {
	b := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return string(b)
}

func dialectOf(d string) *typev1.Dialect { return &typev1.Dialect{Delimiter: d} }

func TestRun(t *testing.T) {
	hr := func(n int32) *int32 { return &n }
	tests := []struct {
		name        string
		in          string
		cfg         Config
		wantNorm    string
		wantRejects string // without the header row
		wantValid   int64
		wantRej     int64
	}{
		// Classic CSV.
		{
			name:      "quoted commas, doubled quotes, quoted empty vs empty, newlines in quotes",
			in:        "a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\"\"\n,\"line1\nline2\",z\n",
			wantNorm:  "a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\n,\"line1\nline2\",z\n",
			wantValid: 2,
		},
		{
			name:      "CRLF, BOM, no final newline, non-ASCII",
			in:        "\xef\xbb\xbfname,city\r\nJosé,Zürich\r\n交易,\"São\r\nPaulo\"",
			wantNorm:  "name,city\nJosé,Zürich\n交易,\"São\r\nPaulo\"\n",
			wantValid: 2,
		},
		{
			name:      "a JSON blob in a quoted field",
			in:        "id,payload\n1,\"{\"\"k\"\": [1, \"\"v,w\"\"], \"\"n\"\": null}\"\n",
			cfg:       Config{Schema: schema("id:integer", "payload:string")},
			wantNorm:  "id,payload\n1,\"{\"\"k\"\": [1, \"\"v,w\"\"], \"\"n\"\": null}\"\n",
			wantValid: 1,
		},
		{
			name:      "infer: missing values emptied, values as they are",
			in:        "id,price,flag\n1,+1.50,true\n2,NA,FALSE\n007,N/A,\n",
			wantNorm:  "id,price,flag\n1,+1.50,true\n2,,FALSE\n007,,\n",
			wantValid: 3,
		},
		{
			name:      "pandas header mangling",
			in:        ",a,a\n1,2,3\n",
			wantNorm:  "Unnamed: 0,a,a.1\n1,2,3\n",
			wantValid: 1,
		},
		{
			name:      "one column: a missing value is written as a quoted empty field",
			in:        "a\nNA\nx\n",
			wantNorm:  "a\n\"\"\nx\n",
			wantValid: 2,
		},
		// Every error type.
		{
			name:     "blank rows: an empty line, all cells empty, a quoted empty lone cell",
			in:       "a,b\n1,2\n\n,\n3,4\n",
			wantNorm: "a,b\n1,2\n3,4\n",
			wantRejects: "3,3,8,blank-row,row 3 is blank,\n" +
				"4,4,9,blank-row,row 4 is blank,\",\"\n",
			wantValid: 2, wantRej: 2,
		},
		{
			name:     "extra and missing cells, one error per row",
			in:       "a,b,c\n1\n1,2,3,4,x\n",
			wantNorm: "a,b,c\n",
			wantRejects: "2,2,6,missing-cell,row 2: the row has 1 cell but the header has 3: cells 2 to 3 are missing,1\n" +
				"3,3,8,extra-cell,\"row 3: the row has 5 cells but the header has 3: cells 4 to 5 are extra (cell 4: \"\"4\"\")\",\"1,2,3,4,x\"\n",
			wantRej: 2,
		},
		{
			name:     "type, constraint and required errors, all reported in field order",
			in:       "id,price,day\n1,2.5,2024-01-01\nx,abc,2024-13-01\nNA,-1,\n",
			cfg:      Config{Schema: priceSchema()},
			wantNorm: "id,price,day\n1,2.5,2024-01-01\n",
			wantRejects: "3,3,30,type-error,\"row 3, field 1 (\"\"id\"\"): \"\"x\"\" is not an integer; row 3, field 2 (\"\"price\"\"): \"\"abc\"\" is not a number; row 3, field 3 (\"\"day\"\"): \"\"2024-13-01\"\" is not a date (YYYY-MM-DD)\",\"x,abc,2024-13-01\"\n" +
				"4,4,47,constraint-error,\"row 4, field 1 (\"\"id\"\"): a value is required but it is missing; row 4, field 2 (\"\"price\"\"): -1 is less than the minimum 0; row 4, field 3 (\"\"day\"\"): a value is required but it is missing\",\"NA,-1,\"\n",
			wantValid: 1, wantRej: 2,
		},
		{
			name:     "unique values, compared normalized",
			in:       "id,n\nT-1,1\nT-2,2\nT-1,3\nT-3,02\n",
			cfg:      Config{Schema: schema("id:string~", "n:integer~")},
			wantNorm: "id,n\nT-1,1\nT-2,2\n",
			wantRejects: "4,4,17,unique-error,\"row 4, field 1 (\"\"id\"\"): \"\"T-1\"\" is also in row 2 (unique)\",\"T-1,3\"\n" +
				"5,5,23,unique-error,\"row 5, field 2 (\"\"n\"\"): \"\"02\"\" is also in row 3 (unique)\",\"T-3,02\"\n",
			wantValid: 2, wantRej: 2,
		},
		{
			name: "composite primary key",
			in:   "a,b,c\n1,x,p\n1,y,q\n01,x,r\n2,,s\n",
			cfg: Config{Schema: func() *typev1.Schema {
				s := schema("a:integer", "b:string", "c:string")
				s.PrimaryKey = []string{"a", "b"}
				return s
			}()},
			wantNorm: "a,b,c\n1,x,p\n1,y,q\n",
			wantRejects: "4,4,18,primary-key,\"row 4: primary key (\"\"a\"\", \"\"b\"\") = (\"\"01\"\", \"\"x\"\") is also the key of row 2\",\"01,x,r\"\n" +
				"5,5,25,constraint-error,\"row 5, field 2 (\"\"b\"\"): a value is required but it is missing\",\"2,,s\"\n",
			wantValid: 2, wantRej: 2,
		},
		{
			name:        "invalid UTF-8 names the field, the row is made valid",
			in:          "a,b\n1,x\xffy\n2,ok\n",
			cfg:         Config{Dialect: &typev1.Dialect{Encoding: "utf-8"}},
			wantNorm:    "a,b\n2,ok\n",
			wantRejects: "2,2,4,encoding-error,\"row 2, field 2 (\"\"b\"\"): the value is not valid UTF-8\",\"1,x\uFFFDy\"\n",
			wantValid:   1, wantRej: 1,
		},
		{
			name:        "malformed row: text after a closing quote",
			in:          "a,b\n\"1\"x,2\n3,4\n",
			wantNorm:    "a,b\n3,4\n",
			wantRejects: "2,2,4,malformed-row,row 2: unexpected 'x' after the closing quote of field 1,\"\"\"1\"\"x,2\"\n",
			wantValid:   1, wantRej: 1,
		},
		{
			name:        "malformed row: an unterminated quote consumes the rest",
			in:          "a,b\n1,2\n3,\"4\n5,6\n",
			wantNorm:    "a,b\n1,2\n",
			wantRejects: "3,3,8,malformed-row,row 3: unterminated quoted field starting at line 3,\"3,\"\"4\n5,6\n\"\n",
			wantValid:   1, wantRej: 1,
		},
		{
			name:        "malformed row: field too long",
			in:          "a,b\n1,abcdef\n2,abc\n",
			cfg:         Config{MaxFieldBytes: 4},
			wantNorm:    "a,b\n2,abc\n",
			wantRejects: "2,2,4,malformed-row,row 2: field 2 is longer than 4 bytes,\"1,abcdef\"\n",
			wantValid:   1, wantRej: 1,
		},
		// Dialects.
		{
			name:      "delimiter ';' detected, ',' in values quoted",
			in:        "a;b\n1;x,y\n2;\"p;q\"\n",
			wantNorm:  "a,b\n1,\"x,y\"\n2,p;q\n",
			wantValid: 2,
		},
		{
			name:      "tab delimiter given",
			in:        "a\tb\n1\tx y\n",
			cfg:       Config{Dialect: dialectOf("\t")},
			wantNorm:  "a,b\n1,x y\n",
			wantValid: 1,
		},
		{
			name:      "pipe delimiter, apostrophe quotes",
			in:        "a|b\n'x|y'|'it''s'\n",
			cfg:       Config{Dialect: &typev1.Dialect{Delimiter: "|", QuoteChar: "'"}},
			wantNorm:  "a,b\nx|y,it's\n",
			wantValid: 1,
		},
		{
			name:      "escape character instead of doubled quotes",
			in:        "a,b\n\"x\\\"y\",2\n",
			cfg:       Config{Dialect: &typev1.Dialect{Delimiter: ",", EscapeChar: "\\", DoubleQuote: proto.Bool(false)}},
			wantNorm:  "a,b\n\"x\"\"y\",2\n",
			wantValid: 1,
		},
		{
			name:        "no header row: fields named field1..n",
			in:          "1,x\n2,y\n3\n",
			cfg:         Config{Dialect: &typev1.Dialect{HeaderRows: hr(0)}},
			wantNorm:    "field1,field2\n1,x\n2,y\n",
			wantRejects: "3,3,8,missing-cell,\"row 3: the row has 1 cell but the header has 2: cell 2 (\"\"field2\"\") is missing\",3\n",
			wantValid:   2, wantRej: 1,
		},
		{
			name:        "no header row, a schema: fields named by the schema",
			in:          "1,x\nz,y\n",
			cfg:         Config{Dialect: &typev1.Dialect{HeaderRows: hr(0)}, Schema: schema("id:integer", "name:string")},
			wantNorm:    "id,name\n1,x\n",
			wantRejects: "2,2,4,type-error,\"row 2, field 1 (\"\"id\"\"): \"\"z\"\" is not an integer\",\"z,y\"\n",
			wantValid:   1, wantRej: 1,
		},
		{
			name:        "two header rows joined with a space",
			in:          "price,price,id\nUSD,EUR,\n1,2,3\n4,5\n",
			cfg:         Config{Dialect: &typev1.Dialect{HeaderRows: hr(2)}},
			wantNorm:    "price USD,price EUR,id\n1,2,3\n",
			wantRejects: "4,4,30,missing-cell,\"row 4: the row has 2 cells but the header has 3: cell 3 (\"\"id\"\") is missing\",\"4,5\"\n",
			wantValid:   1, wantRej: 1,
		},
		{
			name:      "initial spaces skipped",
			in:        "a, b\n1, x\n",
			cfg:       Config{Dialect: &typev1.Dialect{Delimiter: ",", SkipInitialSpace: true}},
			wantNorm:  "a,b\n1,x\n",
			wantValid: 1,
		},
		{
			name:        "comment lines skipped, lines still counted",
			in:          "# generated\na,b\n1,2\n# note\nx\n",
			cfg:         Config{Dialect: &typev1.Dialect{Delimiter: ",", CommentPrefix: "#"}},
			wantNorm:    "a,b\n1,2\n",
			wantRejects: "3,5,27,missing-cell,\"row 3: the row has 1 cell but the header has 2: cell 2 (\"\"b\"\") is missing\",x\n",
			wantValid:   1, wantRej: 1,
		},
		{
			name:      "lone CR line endings, CR and CRLF in quotes",
			in:        "a,b\r1,\"x\ry\"\r2,\"p\r\nq\"\r",
			wantNorm:  "a,b\n1,\"x\ry\"\n2,\"p\r\nq\"\n",
			wantValid: 2,
		},
		// Encodings.
		{
			name:      "windows-1252 detected, transcoded",
			in:        "name,price\nCaf\xe9,\x80 5\n",
			wantNorm:  "name,price\nCafé,€ 5\n",
			wantValid: 1,
		},
		{
			name:        "windows-1252 given: an undefined byte is an encoding error",
			in:          "name\nx\x81y\nok\n",
			cfg:         Config{Dialect: &typev1.Dialect{Encoding: "windows-1252"}},
			wantNorm:    "name\nok\n",
			wantRejects: "2,2,5,encoding-error,\"row 2, field 1 (\"\"name\"\"): the value is not valid windows-1252\",x\uFFFDy\n",
			wantValid:   1, wantRej: 1,
		},
		{
			name:      "iso-8859-1 given",
			in:        "a\n\xe9\xff\n",
			cfg:       Config{Dialect: &typev1.Dialect{Encoding: "iso-8859-1"}},
			wantNorm:  "a\néÿ\n",
			wantValid: 1,
		},
		{
			name:      "UTF-16LE with a byte order mark",
			in:        utf16LE("a,b\r\n1,é\r\n2,\"x,y\"\r\n"),
			wantNorm:  "a,b\n1,é\n2,\"x,y\"\n",
			wantValid: 2,
		},
		{
			name:        "UTF-16BE with a byte order mark, offsets of the UTF-8 text",
			in:          utf16BE("a\n交易\n\n"),
			wantNorm:    "a\n交易\n",
			wantRejects: "3,3,9,blank-row,row 3 is blank,\n",
			wantValid:   1, wantRej: 1,
		},
		// Options.
		{
			name:      "neutralized formulas",
			in:        "s,n\n=SUM(A1),-1\n@x,2\n",
			cfg:       Config{Schema: schema("s:string", "n:integer"), Options: &typev1.ValidationOptions{NeutralizeFormulas: true}},
			wantNorm:  "s,n\n'=SUM(A1),-1\n'@x,2\n",
			wantValid: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, workers := range []int{1, 3} {
				cfg := tc.cfg
				cfg.Workers, cfg.BlockSize = workers, 1+2*workers
				var norm, rej bytes.Buffer
				var events collector
				res, err := Run(context.Background(), strings.NewReader(tc.in), int64(len(tc.in)), Outputs{Normalized: &norm, Rejects: &rej}, cfg, &events)
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if norm.String() != tc.wantNorm {
					t.Errorf("workers %d: normalized:\n got %q\nwant %q", workers, norm.String(), tc.wantNorm)
				}
				if rej.String() != rejectsHeader+tc.wantRejects {
					t.Errorf("workers %d: rejects:\n got %q\nwant %q", workers, rej.String(), rejectsHeader+tc.wantRejects)
				}
				if res.GetRowsValid() != tc.wantValid || res.GetRowsRejected() != tc.wantRej || res.GetRowsTotal() != tc.wantValid+tc.wantRej {
					t.Errorf("rows total/valid/rejected = %d/%d/%d, want %d/%d/%d", res.GetRowsTotal(), res.GetRowsValid(), res.GetRowsRejected(), tc.wantValid+tc.wantRej, tc.wantValid, tc.wantRej)
				}
				if res.GetBytesRead() != int64(len(tc.in)) || res.GetNormalizedSizeBytes() != int64(norm.Len()) || res.GetRejectsSizeBytes() != int64(rej.Len()) {
					t.Errorf("sizes read/normalized/rejects = %d/%d/%d, want %d/%d/%d", res.GetBytesRead(), res.GetNormalizedSizeBytes(), res.GetRejectsSizeBytes(), len(tc.in), norm.Len(), rej.Len())
				}
				var counted int64
				for _, c := range res.GetErrorCounts() {
					counted += c.GetCount()
				}
				if counted != res.GetErrorTotal() {
					t.Errorf("error counts add up to %d, want the error total %d", counted, res.GetErrorTotal())
				}
				if got := int64(len(events.errors())); got != int64(len(messageStart.FindAllString(rej.String(), -1))) {
					t.Errorf("streamed %d row errors, want one per message in the rejects", got)
				}
				if n := len(events.progress); n != 1 || events.progress[0].GetRowsRead() != res.GetRowsTotal() || events.progress[0].GetBytesRead() != events.progress[0].GetBytesTotal() {
					t.Errorf("progress = %v, want one final event", events.progress)
				}
			}
		})
	}
}

// messageStart matches the start of an error message in a rejects output.
var messageStart = regexp.MustCompile(`(?:,"?|; )row \d`)

// priceSchema has a required integer, a number with a minimum and a
// required date.
func priceSchema() *typev1.Schema {
	s := schema("id:integer!", "price:number", "day:date!")
	s.Fields[1].Constraints = &typev1.FieldConstraints{Minimum: proto.String("0")}
	s.MissingValues = &typev1.MissingValues{Values: []string{"", "NA"}}
	return s
}

// TestRunResult checks a whole result: counts, schema, dialect, error counts
// in order, warnings.
func TestRunResult(t *testing.T) {
	in := "id;price;day\n1;2,5;2024-01-01\nx;abc;2024-13-01\nNA;-1;\n\n4;5;2024-01-02;z\n"
	s := priceSchema()
	s.Fields[1].DecimalChar = ","
	res, err := Run(context.Background(), strings.NewReader(in), int64(len(in)), Outputs{}, Config{Schema: s}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dq, h := true, int32(1)
	want := &validatorv1.ValidationResult{
		RowsTotal: 5, RowsValid: 1, RowsRejected: 4,
		Schema:    s,
		BytesRead: int64(len(in)), NormalizedSizeBytes: 30, RejectsSizeBytes: 0,
		Dialect: &typev1.Dialect{Delimiter: ";", QuoteChar: `"`, DoubleQuote: &dq, HeaderRows: &h, LineTerminator: "\n", Encoding: "utf-8"},
		ErrorCounts: []*typev1.ErrorCount{
			{Type: tableschema.ErrTypeBlankRow, Count: 1},
			{Type: tableschema.ErrTypeExtraCell, Count: 1},
			{Type: tableschema.ErrTypeConstraintError, FieldName: "id", FieldNumber: 1, Count: 1},
			{Type: tableschema.ErrTypeTypeError, FieldName: "id", FieldNumber: 1, Count: 1},
			{Type: tableschema.ErrTypeConstraintError, FieldName: "price", FieldNumber: 2, Count: 1},
			{Type: tableschema.ErrTypeTypeError, FieldName: "price", FieldNumber: 2, Count: 1},
			{Type: tableschema.ErrTypeConstraintError, FieldName: "day", FieldNumber: 3, Count: 1},
			{Type: tableschema.ErrTypeTypeError, FieldName: "day", FieldNumber: 3, Count: 1},
		},
		ErrorTotal: 8,
		Warnings:   []string{"4 of 5 rows (80%) are invalid; they are in the rejects output"},
	}
	res.RejectsSizeBytes = 0
	if !proto.Equal(res, want) {
		t.Errorf("result:\n got %v\nwant %v", res, want)
	}
}

func TestRunThreshold(t *testing.T) {
	// 3 of 7 rows are invalid.
	in := "a\n1\n2\nx\n3\ny\n4\nz\n"
	tests := []struct {
		name         string
		opts         *typev1.ValidationOptions
		wantExceeded string
		wantWarning  string
	}{
		{"no limits", nil, "", "3 of 7 rows (42.86%) are invalid; they are in the rejects output"},
		{"under the row limit", &typev1.ValidationOptions{MaxInvalidRows: proto.Int64(3)}, "", "3 of 7 rows (42.86%) are invalid; they are in the rejects output"},
		{"over the row limit", &typev1.ValidationOptions{MaxInvalidRows: proto.Int64(2)},
			"3 of 7 rows (42.86%) are invalid, over the limit of 2 invalid rows (max_invalid_rows)", ""},
		{"no invalid row allowed", &typev1.ValidationOptions{MaxInvalidRows: proto.Int64(0)},
			"3 of 7 rows (42.86%) are invalid, over the limit of 0 invalid rows (max_invalid_rows)", ""},
		{"over the ratio", &typev1.ValidationOptions{MaxInvalidRatio: proto.Float64(0.05)},
			"3 of 7 rows (42.86%) are invalid, over the limit of 5% (max_invalid_ratio)", ""},
		{"at the ratio", &typev1.ValidationOptions{MaxInvalidRatio: proto.Float64(3.0 / 7)}, "", "3 of 7 rows (42.86%) are invalid; they are in the rejects output"},
		{"fractional ratio", &typev1.ValidationOptions{MaxInvalidRatio: proto.Float64(0.125)},
			"3 of 7 rows (42.86%) are invalid, over the limit of 12.5% (max_invalid_ratio)", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(context.Background(), strings.NewReader(in), int64(len(in)), Outputs{},
				Config{Schema: schema("a:integer"), Options: tc.opts}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.GetThresholdExceeded() != tc.wantExceeded {
				t.Errorf("threshold_exceeded = %q, want %q", res.GetThresholdExceeded(), tc.wantExceeded)
			}
			var want []string
			if tc.wantWarning != "" {
				want = []string{tc.wantWarning}
			}
			if strings.Join(res.GetWarnings(), "|") != strings.Join(want, "|") {
				t.Errorf("warnings = %q, want %q", res.GetWarnings(), want)
			}
		})
	}
}

func TestFormatCounts(t *testing.T) {
	tests := []struct {
		n, total int64
		want     string
	}{
		{1234, 10000, "1,234 of 10,000 rows (12.34%)"},
		{1, 3, "1 of 3 rows (33.33%)"},
		{2, 3, "2 of 3 rows (66.67%)"},
		{1, 32, "1 of 32 rows (3.13%)"},
		{1, 1000000, "1 of 1,000,000 rows (<0.01%)"},
		{999999, 1000000, "999,999 of 1,000,000 rows (>99.99%)"},
		{5, 5, "5 of 5 rows (100%)"},
		{1, 10, "1 of 10 rows (10%)"},
	}
	for _, tc := range tests {
		if got := groupDigits(tc.n) + " of " + groupDigits(tc.total) + " rows (" + percent(tc.n, tc.total) + ")"; got != tc.want {
			t.Errorf("%d of %d: got %q, want %q", tc.n, tc.total, got, tc.want)
		}
	}
}

func TestRunRowErrorDetails(t *testing.T) {
	in := "id,price\n1,2\n\"x\",y\n3,4,5\n"
	var events collector
	_, err := Run(context.Background(), strings.NewReader(in), int64(len(in)), Outputs{},
		Config{Schema: schema("id:integer", "price:number")}, &events)
	if err != nil {
		t.Fatal(err)
	}
	want := []*typev1.RowError{
		{Type: "type-error", RowNumber: 3, LineNumber: 3, ByteOffset: 13, FieldNumber: 1, FieldName: "id", Value: "x",
			Message: `row 3, field 1 ("id"): "x" is not an integer`},
		{Type: "type-error", RowNumber: 3, LineNumber: 3, ByteOffset: 13, FieldNumber: 2, FieldName: "price", Value: "y",
			Message: `row 3, field 2 ("price"): "y" is not a number`},
		{Type: "extra-cell", RowNumber: 4, LineNumber: 4, ByteOffset: 19, FieldNumber: 3, Value: "5",
			Message: `row 4: the row has 3 cells but the header has 2: cell 3 is extra: "5"`},
	}
	got := events.errors()
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("error %d:\n got %v\nwant %v", i, got[i], want[i])
		}
	}
}

func TestRunValueCut(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	in := "n\n" + long + "\n"
	var events collector
	var rej bytes.Buffer
	_, err := Run(context.Background(), strings.NewReader(in), int64(len(in)), Outputs{Rejects: &rej},
		Config{Schema: schema("n:integer")}, &events)
	if err != nil {
		t.Fatal(err)
	}
	e := events.errors()
	if len(e) != 1 || e[0].GetValue() != strings.Repeat("é", 128) {
		t.Fatalf("errors = %v, want the value cut to 256 bytes", e)
	}
	if !strings.HasSuffix(rej.String(), ","+long+"\n") {
		t.Errorf("rejects = %q, want the whole row", rej.String())
	}
}

func TestRunErrorSample(t *testing.T) {
	var in strings.Builder
	in.WriteString("a,b\n")
	for range 7 {
		in.WriteString("1\n2,3\n")
	}
	var events collector
	var rej bytes.Buffer
	res, err := Run(context.Background(), strings.NewReader(in.String()), int64(in.Len()), Outputs{Rejects: &rej},
		Config{ErrorBatchSize: 2, Options: &typev1.ValidationOptions{ErrorSampleSize: 5}, Workers: 2, BlockSize: 5}, &events)
	if err != nil {
		t.Fatal(err)
	}
	if res.GetRowsRejected() != 7 || res.GetRowsValid() != 7 || res.GetErrorTotal() != 7 {
		t.Errorf("rejected/valid/errors = %d/%d/%d, want 7/7/7", res.GetRowsRejected(), res.GetRowsValid(), res.GetErrorTotal())
	}
	if got := strings.Count(rej.String(), "\n"); got != 8 {
		t.Errorf("rejects has %d lines, want 8", got)
	}
	var sizes []int
	for _, b := range events.batches {
		sizes = append(sizes, len(b.GetErrors()))
	}
	if len(sizes) != 3 || sizes[0] != 2 || sizes[1] != 2 || sizes[2] != 1 {
		t.Errorf("batch sizes = %v, want [2 2 1]", sizes)
	}
	for i, e := range events.errors() {
		if want := int64(2 + 2*i); e.GetRowNumber() != want || e.GetLineNumber() != want {
			t.Errorf("error %d at row %d line %d, want %d", i, e.GetRowNumber(), e.GetLineNumber(), want)
		}
	}
}

func TestRunProgress(t *testing.T) {
	var in strings.Builder
	in.WriteString("a\n")
	for range 2000 {
		in.WriteString("12345678\n")
	}
	for _, tc := range []struct {
		name   string
		schema *typev1.Schema
		total  int64
	}{
		{"one pass", nil, int64(in.Len())},
		{"two passes, each half the input", schema("a:integer~"), int64(in.Len())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var events collector
			// A negative interval reports progress after every block.
			_, err := Run(context.Background(), strings.NewReader(in.String()), int64(in.Len()), Outputs{},
				Config{Schema: tc.schema, ProgressInterval: -1, BlockSize: 1000, Workers: 2}, &events)
			if err != nil {
				t.Fatal(err)
			}
			if len(events.progress) < 10 {
				t.Fatalf("got %d progress events, want one per block", len(events.progress))
			}
			for i, p := range events.progress {
				if p.GetBytesTotal() != tc.total || p.GetBytesRead() > tc.total {
					t.Errorf("progress %d: %d of %d bytes, want a total of %d", i, p.GetBytesRead(), p.GetBytesTotal(), tc.total)
				}
				if i > 0 && (p.GetBytesRead() < events.progress[i-1].GetBytesRead() || p.GetRowsRead() < events.progress[i-1].GetRowsRead()) {
					t.Errorf("progress %d goes backwards: %v after %v", i, p, events.progress[i-1])
				}
			}
			if last := events.progress[len(events.progress)-1]; last.GetBytesRead() != tc.total || last.GetRowsRead() != 2000 {
				t.Errorf("last progress = %v", last)
			}
		})
	}
}

func TestRunFileErrors(t *testing.T) {
	hr := func(n int32) *typev1.Dialect { return &typev1.Dialect{HeaderRows: &n} }
	tests := []struct {
		name    string
		in      string
		cfg     Config
		want    error
		wantMsg string
	}{
		{"empty", "", Config{}, ErrEmptyFile, "the file is empty"},
		{"blank lines only", "\n\r\n\n", Config{}, ErrEmptyFile, "the file is empty"},
		{"BOM only", "\xef\xbb\xbf", Config{}, ErrEmptyFile, "the file is empty"},
		{"header only", "a,b\n", Config{}, ErrNoDataRows, "the file has a header row but no data rows"},
		{"header only, no newline", "a,b", Config{}, ErrNoDataRows, "the file has a header row but no data rows"},
		{"one of two header rows", "a,b\n", Config{Dialect: hr(2)}, ErrNoDataRows, "the file has a header row but no data rows"},
		{"no header, no rows", "", Config{Dialect: hr(0)}, ErrEmptyFile, "the file is empty"},
		{"shard without rows", "", Config{Header: []string{"a"}}, ErrEmptyFile, "the file is empty"},
		{"header differs from schema", "id,px,day\n1,2,3\n", Config{Schema: schema("id:integer", "price:number", "day:date")},
			ErrHeaderMismatch, `header column 2 is "px" but the schema expects "price"`},
		{"header shorter than schema", "id\n1\n", Config{Schema: schema("id:integer", "price:number")},
			ErrHeaderMismatch, `the header has 1 columns but the schema expects 2: column 2 "price" is missing`},
		{"header longer than schema", "id,price,x\n1,2,3\n", Config{Schema: schema("id:integer", "price:number")},
			ErrHeaderMismatch, `the header has 3 columns but the schema expects 2: header column 3 "x" is not in the schema`},
		{"mangled duplicate header", "a,a\n1,2\n", Config{Schema: schema("a:integer", "b:integer")},
			ErrHeaderMismatch, `header column 2 is "a.1" but the schema expects "b"`},
		{"header with bad quote", "\"a\"b,c\n1,2\n", Config{}, ErrMalformedHeader,
			`the header row (line 1) cannot be read: unexpected 'b' after the closing quote of field 1`},
		{"header not UTF-8", "a,\xff\n1,2\n", Config{Dialect: &typev1.Dialect{Encoding: "utf-8"}}, ErrMalformedHeader,
			"header column 2 is not valid UTF-8; give the file's encoding in the dialect"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), strings.NewReader(tc.in), int64(len(tc.in)), Outputs{}, tc.cfg, nil)
			if err == nil {
				t.Fatal("Run succeeded, want an error")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %q, want it to say %q", err, tc.wantMsg)
			}
		})
	}
}

func TestRunConfigErrors(t *testing.T) {
	tests := []struct {
		cfg   Config
		field string
	}{
		{Config{Dialect: &typev1.Dialect{Delimiter: `"`}}, "dialect.delimiter"},
		{Config{Dialect: &typev1.Dialect{Delimiter: ";;"}}, "dialect.delimiter"},
		{Config{Dialect: &typev1.Dialect{Encoding: "ebcdic"}}, "dialect.encoding"},
		{Config{Header: []string{}}, "header"},
		{Config{Header: []string{"a", "\xff"}}, "header[1]"},
		{Config{Schema: &typev1.Schema{Fields: []*typev1.Field{{Name: "a"}}}}, "schema.fields[0]"},
		{Config{Schema: &typev1.Schema{Fields: []*typev1.Field{{Name: "", Type: typev1.FieldType_FIELD_TYPE_STRING}}}}, "schema.fields[0]"},
		{Config{Schema: schema("a:string", "b:string", "a:integer")}, "schema.fields[2]"},
		{Config{FirstLine: -1}, "first_line"},
		{Config{FirstRecord: -1}, "first_record"},
		{Config{Options: &typev1.ValidationOptions{MaxInvalidRows: proto.Int64(-1)}}, "options.max_invalid_rows"},
		{Config{Options: &typev1.ValidationOptions{MaxInvalidRatio: proto.Float64(1.5)}}, "options.max_invalid_ratio"},
		{Config{Options: &typev1.ValidationOptions{ErrorSampleSize: 10001}}, "options.error_sample_size"},
	}
	for _, tc := range tests {
		_, err := Run(context.Background(), strings.NewReader("a\n1\n"), 4, Outputs{}, tc.cfg, nil)
		var (
			ce *ConfigError
			de *dialect.FieldError
			se *tableschema.SchemaError
		)
		var field string
		switch {
		case errors.As(err, &ce):
			field = ce.Field
		case errors.As(err, &de):
			field = de.Field
		case errors.As(err, &se):
			field = "schema." + se.Path
		}
		if !strings.HasPrefix(field, tc.field) {
			t.Errorf("config %s: err = %v (field %q), want one about %s", describeConfig(tc.cfg), err, field, tc.field)
		}
	}
}

func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, strings.NewReader("a\n1\n"), 4, Outputs{}, Config{}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// cancelingSink cancels a context at the first progress event.
type cancelingSink struct {
	collector
	cancel context.CancelFunc
}

func (s *cancelingSink) Progress(p *validatorv1.ValidationProgress) error {
	s.cancel()
	return nil
}

func TestRunCanceledMidway(t *testing.T) {
	in := "a\n" + strings.Repeat("1\n", 100000)
	for _, sc := range []*typev1.Schema{nil, schema("a:integer~")} {
		ctx, cancel := context.WithCancel(context.Background())
		sink := &cancelingSink{cancel: cancel}
		_, err := Run(ctx, strings.NewReader(in), int64(len(in)), Outputs{}, Config{Schema: sc, ProgressInterval: -1, BlockSize: 100, Workers: 2}, sink)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("schema %v: err = %v, want context.Canceled", sc, err)
		}
	}
}

// failingWriter fails every write.
type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestRunWriteError(t *testing.T) {
	in := "a\n" + strings.Repeat("1\nx\n", 10000)
	for _, out := range []Outputs{{Normalized: failingWriter{}}, {Rejects: failingWriter{}}} {
		_, err := Run(context.Background(), strings.NewReader(in), int64(len(in)), out, Config{Schema: schema("a:integer"), BlockSize: 64}, nil)
		if !errors.Is(err, errWrite) {
			t.Errorf("err = %v, want %v", err, errWrite)
		}
	}
}

// TestRunShard validates a file in two row-aligned byte ranges, as a fan-out
// would, and checks that positions and outputs match the whole-file run.
func TestRunShard(t *testing.T) {
	in := "id,note\n1,a\n2,\"two\nlines\"\nx,b\n4,c\n5\n6,d\n"
	cut := strings.Index(in, "x,b")
	cfg := Config{Schema: schema("id:integer", "note:string")}

	var wholeNorm, wholeRej bytes.Buffer
	whole, err := Run(context.Background(), strings.NewReader(in), int64(len(in)), Outputs{Normalized: &wholeNorm, Rejects: &wholeRej}, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n1, r1, n2, r2 bytes.Buffer
	first, err := Run(context.Background(), strings.NewReader(in[:cut]), int64(cut), Outputs{Normalized: &n1, Rejects: &r1}, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	shardCfg := cfg
	shardCfg.Header = []string{"id", "note"}
	shardCfg.FirstLine = 5
	shardCfg.FirstRecord = 4
	shardCfg.FirstOffset = int64(cut)
	second, err := Run(context.Background(), strings.NewReader(in[cut:]), int64(len(in)-cut), Outputs{Normalized: &n2, Rejects: &r2}, shardCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n1.String()+strings.TrimPrefix(n2.String(), "id,note\n"), wholeNorm.String(); got != want {
		t.Errorf("normalized shards:\n got %q\nwant %q", got, want)
	}
	if got, want := r1.String()+strings.TrimPrefix(r2.String(), rejectsHeader), wholeRej.String(); got != want {
		t.Errorf("rejects shards:\n got %q\nwant %q", got, want)
	}
	wantRej := rejectsHeader + "4,5,26,type-error,\"row 4, field 1 (\"\"id\"\"): \"\"x\"\" is not an integer\",\"x,b\"\n" +
		"6,7,34,missing-cell,\"row 6: the row has 1 cell but the header has 2: cell 2 (\"\"note\"\") is missing\",5\n"
	if wholeRej.String() != wantRej {
		t.Errorf("rejects:\n got %q\nwant %q", wholeRej.String(), wantRej)
	}
	if first.GetRowsTotal()+second.GetRowsTotal() != whole.GetRowsTotal() ||
		first.GetBytesRead()+second.GetBytesRead() != int64(len(in)) {
		t.Errorf("shard totals %v + %v do not add up to %v", first, second, whole)
	}
}

// TestRunUniqueSpill checks unique and primary key checks over more keys
// than their memory budget holds, so they spill to disk.
func TestRunUniqueSpill(t *testing.T) {
	var in strings.Builder
	in.WriteString("id,grp,n\n")
	const rows = 20000
	for i := range rows {
		// id repeats every 7000 rows; (grp, n) repeats every 9000.
		in.WriteString("T-")
		in.WriteString(strings.Repeat("x", i%3))
		in.WriteString(strconv.Itoa(i % 7000))
		in.WriteString(",g")
		in.WriteString(strconv.Itoa(i % 9000 % 5))
		in.WriteString(",")
		in.WriteString(strconv.Itoa(i % 9000))
		in.WriteString("\n")
	}
	s := schema("id:string~", "grp:string", "n:integer")
	s.PrimaryKey = []string{"grp", "n"}
	dir := t.TempDir()
	var rej bytes.Buffer
	var events collector
	res, err := Run(context.Background(), strings.NewReader(in.String()), int64(in.Len()), Outputs{Rejects: &rej},
		Config{Schema: s, SpillDir: dir, UniqueMemoryBudget: 16 << 10, Workers: 3, BlockSize: 4096,
			Options: &typev1.ValidationOptions{ErrorSampleSize: MaxErrorSampleSize}}, &events)
	if err != nil {
		t.Fatal(err)
	}
	// Row r (from 2) holds i = r-2. id(i) = id(i-7000) when i%3 == (i-7000)%3,
	// that is 7000%3 == 1: never, so ids repeat every 21000 rows: none here.
	// (grp, n) repeats for i >= 9000.
	wantDups := int64(rows - 9000)
	if res.GetRowsRejected() != wantDups || res.GetErrorTotal() != wantDups {
		t.Fatalf("rejected %d rows with %d errors, want %d", res.GetRowsRejected(), res.GetErrorTotal(), wantDups)
	}
	for _, e := range events.errors() {
		i := e.GetRowNumber() - 2
		if e.GetType() != "primary-key" || e.GetFieldNumber() != 0 || e.GetLineNumber() != e.GetRowNumber() {
			t.Fatalf("error %v", e)
		}
		if want := "is also the key of row " + strconv.Itoa(int(i%9000+2)); !strings.HasSuffix(e.GetMessage(), want) {
			t.Fatalf("error %v, want it to end %q", e, want)
		}
	}
	if n := len(events.errors()); n != MaxErrorSampleSize {
		t.Errorf("sampled %d errors, want %d", n, MaxErrorSampleSize)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("the spill directory holds %d files after Run (%v)", len(entries), err)
	}
}

// TestRenormalize checks that Renormalize rewrites the inferred fields Run
// flags, and only those.
func TestRenormalize(t *testing.T) {
	in := "id,price,when,note\n+007,1.50,2024-01-02 03:04:05,=1+1\n8,NA,2024-01-03T00:00:00Z,x\n-0,.5,2024-01-04T00:00:00,\"a,b\"\n"
	for _, tc := range []struct {
		name       string
		neutralize bool
		want       string
	}{
		{"plain", false, "id,price,when,note\n7,1.50,2024-01-02T03:04:05,=1+1\n8,,2024-01-03T00:00:00Z,x\n0,0.5,2024-01-04T00:00:00,\"a,b\"\n"},
		{"neutralized", true, "id,price,when,note\n7,1.50,2024-01-02T03:04:05,'=1+1\n8,,2024-01-03T00:00:00Z,x\n0,0.5,2024-01-04T00:00:00,\"a,b\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var norm bytes.Buffer
			var rewrite []bool
			res, err := Run(context.Background(), strings.NewReader(in), int64(len(in)), Outputs{Normalized: &norm, Rewrite: &rewrite},
				Config{Options: &typev1.ValidationOptions{NeutralizeFormulas: tc.neutralize}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			wantRewrite := []bool{true, true, true, tc.neutralize}
			if !slices.Equal(rewrite, wantRewrite) {
				t.Fatalf("rewrite = %v, want %v", rewrite, wantRewrite)
			}
			var out bytes.Buffer
			if err := Renormalize(context.Background(), &norm, &out, res.GetSchema(), rewrite, 2); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("renormalized:\n got %q\nwant %q", out.String(), tc.want)
			}
		})
	}
}

// TestRunAllocationsDoNotGrowWithRows checks that Run allocates per block,
// not per row: ten times the rows, valid and invalid, cost no more
// allocations but a few dozen for buffers doubling. (A value that tableschema
// rejects costs the allocations of its *ValueError.)
func TestRunAllocationsDoNotGrowWithRows(t *testing.T) {
	input := func(rows int) []byte {
		var b bytes.Buffer
		b.WriteString("id,price,ts,flag,note\n")
		for i := range rows {
			switch i % 10 {
			case 3:
				b.WriteString("1,1.50,2024-01-02T03:04:05Z,true,\"a, \"\"b\"\"\"\n") // quoted note
			case 5:
				b.WriteString("7,,2024-01-02 03:04:05.100,false\n") // missing cell
			case 7:
				b.WriteString("7,1,2024-01-02 03:04:05.100,false,x,y\n\n") // extra cell, blank row
			default:
				b.WriteString("12,3.25,2024-01-02T03:04:05.120Z,true,note\n")
			}
		}
		return b.Bytes()
	}
	small, big := input(1000), input(10000)
	for _, cfg := range []Config{
		{},
		{Schema: schema("id:integer!", "price:number", "ts:datetime", "flag:boolean", "note:string")},
	} {
		cfg.Workers, cfg.BlockSize = 1, 1<<20
		allocs := func(in []byte) float64 {
			return testing.AllocsPerRun(3, func() {
				res, err := Run(context.Background(), bytes.NewReader(in), int64(len(in)), Outputs{Normalized: io.Discard, Rejects: io.Discard}, cfg, nil)
				if err != nil || res.GetRowsRejected() == 0 || res.GetRowsValid() == 0 {
					t.Fatalf("Run: %v, %v", res, err)
				}
			})
		}
		a1, a10 := allocs(small), allocs(big)
		if a10-a1 > 60 {
			t.Errorf("schema %v: %.0f allocations for 1000 rows, %.0f for 10000: want no allocation per row", cfg.Schema != nil, a1, a10)
		}
	}
}
