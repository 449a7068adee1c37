package validator

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/internal/tradegen"
)

// fusedPieces are cell texts that reach every branch of the fused path:
// canonical and other forms of each quick kind, missing values, quoted
// fields that need their quotes or do not, doubled quotes, quotes inside
// unquoted text, quoting errors, line breaks inside quotes, lone CRs and
// invalid UTF-8.
var fusedPieces = []string{
	"0", "1", "-1", "+1", "007", "-0", "42", "18", "1000", "-5", "9223372036854775807", "123456789012345678901", "1,000",
	"1.5", "-1.5", "+1.50", ".5", "5.", "0.0", "-0.0", "1e3", "NaN", "inf", "12.3x", "3.493", "0.0792", "99999999999999999",
	"true", "false", "TRUE", "2024-01-02", "2024-02-30", "2026-03-02T14:30:00.000526Z", "2026-03-02 14:30:00Z",
	"2026-03-02T14:30:00+0100", "2026-03-02T14:30:00+01:00", "2026-03-02T14:30:00", "12:30:00",
	"", "", "", "NA", "-", "x", "abc", "BUY", "SELL", "AAPL", "TOOLONGSYM", "café", "交易", "x\xffy", "=SUM(A1)", "@x",
	`"q"`, `"a,b"`, `"a""b"`, "\"multi\nline\"", "\"cr\r\nlf\"", `"unterminated`, `a"b`, `"ab"c`, `""`, `"x""`,
	"\r", " x", "x ", "a\tb", "a longer text value", "交易交易交易交易", "a longer text \xff value", "12345678\xe4\xba", "1\xff",
}

// fusedFields are field definitions of every quick kind and others.
var fusedFields = []*typev1.Field{
	{Type: typev1.FieldType_FIELD_TYPE_STRING},
	{Type: typev1.FieldType_FIELD_TYPE_STRING, Constraints: &typev1.FieldConstraints{Required: true, MaxLength: proto.Int64(4)}},
	{Type: typev1.FieldType_FIELD_TYPE_STRING, Constraints: &typev1.FieldConstraints{MinLength: proto.Int64(2)}},
	{Type: typev1.FieldType_FIELD_TYPE_STRING, Constraints: &typev1.FieldConstraints{EnumValues: []string{"BUY", "SELL", "x"}}},
	{Type: typev1.FieldType_FIELD_TYPE_STRING, Constraints: &typev1.FieldConstraints{Pattern: "[a-z]+"}},
	{Type: typev1.FieldType_FIELD_TYPE_ANY},
	{Type: typev1.FieldType_FIELD_TYPE_INTEGER},
	{Type: typev1.FieldType_FIELD_TYPE_INTEGER, Constraints: &typev1.FieldConstraints{Required: true, Minimum: proto.String("1")}},
	{Type: typev1.FieldType_FIELD_TYPE_INTEGER, Constraints: &typev1.FieldConstraints{Maximum: proto.String("100")}},
	{Type: typev1.FieldType_FIELD_TYPE_NUMBER},
	{Type: typev1.FieldType_FIELD_TYPE_NUMBER, Constraints: &typev1.FieldConstraints{Minimum: proto.String("0")}},
	{Type: typev1.FieldType_FIELD_TYPE_NUMBER, Constraints: &typev1.FieldConstraints{Minimum: proto.String("-1.5"), Maximum: proto.String("3.493")}},
	{Type: typev1.FieldType_FIELD_TYPE_NUMBER, DecimalChar: ","},
	{Type: typev1.FieldType_FIELD_TYPE_BOOLEAN},
	{Type: typev1.FieldType_FIELD_TYPE_DATE},
	{Type: typev1.FieldType_FIELD_TYPE_DATETIME, Constraints: &typev1.FieldConstraints{Required: true}},
	{Type: typev1.FieldType_FIELD_TYPE_DATETIME, Constraints: &typev1.FieldConstraints{Minimum: proto.String("2026-01-01T00:00:00Z")}},
	{Type: typev1.FieldType_FIELD_TYPE_TIME},
	{Type: typev1.FieldType_FIELD_TYPE_STRING, Transforms: []typev1.Transform{typev1.Transform_TRANSFORM_TRIM, typev1.Transform_TRANSFORM_UPPER}},
	{Type: typev1.FieldType_FIELD_TYPE_STRING, Constraints: &typev1.FieldConstraints{Unique: true}},
}

// fusedFile returns a random file of ncols columns of fusedPieces, with
// line endings of every kind (sometimes mixed), blank lines, wrong cell
// counts, a byte order mark or no final line ending.
func fusedFile(r *rand.Rand, ncols, nrows int) []byte {
	var b bytes.Buffer
	if r.IntN(10) == 0 {
		b.WriteString("\xef\xbb\xbf")
	}
	for i := range ncols {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "c%d", i)
	}
	eols := []string{"\n", "\n", "\n", "\r\n", "\r", "\n\n", "\r\n\r\n"}
	eol := "\n"
	if r.IntN(3) == 0 {
		eol = eols[r.IntN(len(eols))]
	}
	b.WriteString(eol)
	for range nrows {
		n := ncols
		if r.IntN(10) == 0 {
			n = max(1, ncols+r.IntN(3)-1)
		}
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(fusedPieces[r.IntN(len(fusedPieces))])
		}
		if r.IntN(8) == 0 {
			b.WriteString(eols[r.IntN(len(eols))])
		} else {
			b.WriteString(eol)
		}
	}
	if r.IntN(3) == 0 {
		b.Truncate(b.Len() - 1)
	}
	return b.Bytes()
}

// fusedSchema returns a random schema of fusedFields.
func fusedSchema(r *rand.Rand, ncols int) *typev1.Schema {
	s := &typev1.Schema{}
	for i := range ncols {
		f := proto.Clone(fusedFields[r.IntN(len(fusedFields))]).(*typev1.Field)
		f.Name = fmt.Sprintf("c%d", i)
		s.Fields = append(s.Fields, f)
	}
	if r.IntN(6) == 0 {
		s.MissingValues = &typev1.MissingValues{Values: []string{"", "NA"}}
	}
	if r.IntN(8) == 0 {
		s.PrimaryKey = []string{"c0"}
	}
	return s
}

// checkPathsAgree runs in with cfg on the fast paths and on the general
// path and reports any difference.
func checkPathsAgree(t *testing.T, in []byte, cfg Config) {
	t.Helper()
	general := cfg
	general.general = true
	if d := diffOutcomes(runEngine(in, cfg), runEngine(in, general)); d != "" {
		t.Fatalf("fast paths differ from the general path on %q with %s:\n%s", truncateForLog(in), describeConfig(cfg), d)
	}
}

// TestFusedMatchesGeneral checks the fast paths (fused blocks and copied
// records) against the general path on random files and schemas, with
// record limits, shard positions, options and tiny blocks on 1 to 3
// workers: outputs, results, errors and events must be identical.
func TestFusedMatchesGeneral(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	r := rand.New(rand.NewPCG(7, 9))
	for range n {
		ncols := 1 + r.IntN(6)
		in := fusedFile(r, ncols, r.IntN(60))
		cfg := Config{Schema: fusedSchema(r, ncols), Workers: 1 + r.IntN(3), BlockSize: 1 + r.IntN(300)}
		if r.IntN(4) == 0 {
			cfg.Dialect = &typev1.Dialect{Delimiter: ",", Encoding: "utf-8"}
		}
		if r.IntN(5) == 0 {
			cfg.MaxRecordBytes, cfg.MaxFieldBytes, cfg.MaxFields = 8+r.IntN(60), 2+r.IntN(20), 1+r.IntN(6)
		}
		if r.IntN(6) == 0 {
			cfg.Header = headerOf(in[min(3, len(in)):], ',')
			cfg.FirstLine, cfg.FirstOffset = r.Int64N(5), r.Int64N(3)
		}
		cfg.Options = &typev1.ValidationOptions{NeutralizeFormulas: r.IntN(3) == 0, ErrorSampleSize: int32(r.IntN(50))}
		checkPathsAgree(t, in, cfg)
	}
}

// TestFusedMatchesGeneralTrades checks the fast paths against the general
// path on the benchmark's trades file with the schema csvbench uses.
func TestFusedMatchesGeneralTrades(t *testing.T) {
	var buf bytes.Buffer
	if _, err := tradegen.Write(&buf, 1<<20, tradegen.WithSeed(11), tradegen.WithBadRowRate(0.03)); err != nil {
		t.Fatal(err)
	}
	s := tradesSchema()
	s.Fields[1].Constraints.MaxLength = proto.Int64(8)
	s.Fields[2].Constraints.EnumValues = []string{"BUY", "SELL"}
	s.Fields[3].Constraints = &typev1.FieldConstraints{Minimum: proto.String("0")}
	s.Fields[4].Constraints.Minimum = proto.String("1")
	for _, cfg := range []Config{
		{Schema: s, Workers: 1},
		{Schema: tradesSchema(), Workers: 2, BlockSize: 10000},
		{Schema: s, Workers: 3, BlockSize: 3000, Options: &typev1.ValidationOptions{NeutralizeFormulas: true, ErrorSampleSize: 5000}},
	} {
		checkPathsAgree(t, buf.Bytes(), cfg)
	}
}

func TestRecordEnd(t *testing.T) {
	for _, tc := range []struct {
		in         string
		dq         bool
		end        int
		terminated bool
	}{
		{"a,b\nc", true, 4, true},
		{"a,b\r\nc", true, 5, true},
		{"a,b\rc", true, 4, true},
		{"a,b\r", true, 4, true},
		{"a,b", true, 3, false},
		{`"a,b",c` + "\nx", true, 8, true},
		{"\"a\nb\",c\nx", true, 8, true},
		{`"a""b"` + "\nx", true, 7, true},
		{`"a""b"` + "\nx", false, 7, true},
		{`"ab"c,d` + "\nx", true, 8, true},
		{`a"b,"c` + "\nd\"\nx", true, 10, true},
		{`"open` + "\nx", true, 7, false},
		{`x,"end"`, true, 7, false},
		{`x,"end""`, true, 8, false},
	} {
		end, terminated := recordEnd([]byte(tc.in), 0, tc.dq)
		if end != tc.end || terminated != tc.terminated {
			t.Errorf("recordEnd(%q, %v) = %d, %v; want %d, %v", tc.in, tc.dq, end, terminated, tc.end, tc.terminated)
		}
	}
}

func TestQuotedText(t *testing.T) {
	for _, tc := range []struct {
		in  string
		end int
		ok  bool
	}{
		{`"a,b",`, 5, true},
		{`"a""b"`, 6, true},
		{"\"a\nb\"\n", 5, true},
		{"\"a\rb\"", 5, true},
		{`"ab",`, 4, false}, // needs no quotes
		{`""`, 2, false},
		{`"open`, 0, false},
	} {
		end, ok := quotedText([]byte(tc.in), 0)
		if ok != tc.ok || ok && end != tc.end {
			t.Errorf("quotedText(%q) = %d, %v; want %d, %v", tc.in, end, ok, tc.end, tc.ok)
		}
	}
}

func TestCountBreaks(t *testing.T) {
	for in, want := range map[string]int64{"": 0, "a\n": 1, "a\r\n": 1, "a\r": 1, "\r\r\n\n\r": 4, "x\"\r\n\"\n": 2} {
		if got := countBreaks([]byte(in)); got != want {
			t.Errorf("countBreaks(%q) = %d, want %d", in, got, want)
		}
	}
}
