package infer_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/internal/infer"
)

const (
	tString   = typev1.FieldType_FIELD_TYPE_STRING
	tInteger  = typev1.FieldType_FIELD_TYPE_INTEGER
	tNumber   = typev1.FieldType_FIELD_TYPE_NUMBER
	tBoolean  = typev1.FieldType_FIELD_TYPE_BOOLEAN
	tDate     = typev1.FieldType_FIELD_TYPE_DATE
	tDatetime = typev1.FieldType_FIELD_TYPE_DATETIME
	tTime     = typev1.FieldType_FIELD_TYPE_TIME
)

func TestIsMissing(t *testing.T) {
	missing := map[string]bool{}
	for _, s := range infer.DefaultMissingValues {
		missing[s] = true
	}
	if len(missing) != 19 {
		t.Fatalf("DefaultMissingValues has %d distinct values, want pandas' 19", len(missing))
	}
	// Every listed value, and every near miss built from one: prefixes,
	// suffixes, one byte changed, one byte added, case changed.
	probe := map[string]bool{}
	for s := range missing {
		probe[s] = true
		probe[strings.ToUpper(s)] = true
		probe[strings.ToLower(s)] = true
		probe[s+" "] = true
		probe[" "+s] = true
		for i := range len(s) {
			probe[s[:i]] = true
			probe[s[i+1:]] = true
			probe[s[:i]+"x"+s[i+1:]] = true
		}
	}
	for _, s := range []string{"0", "-", "N", "nul", "NAN", "nAn", "none", "NONE", "Null", "-1.#INF", "#N/A N/a"} {
		probe[s] = true
	}
	for s := range probe {
		if got := infer.IsMissing([]byte(s)); got != missing[s] {
			t.Errorf("IsMissing(%q) = %t, want %t", s, got, missing[s])
		}
	}
}

// field is what a test expects of one inferred field.
type field struct {
	typ            typev1.FieldType
	format         string
	decimal, group string
	rewrite        bool
}

// inferOne infers one column from values; the missing ones are skipped as
// the validator does.
func inferOne(comma byte, values []string) (infer.Result, field) {
	in := infer.New(1, infer.Options{Comma: comma})
	for _, v := range values {
		if !infer.IsMissing([]byte(v)) {
			in.Observe(0, []byte(v))
		}
	}
	res := in.Result([]string{"c"})
	f := res.Schema.Fields[0]
	return res, field{f.Type, f.Format, f.DecimalChar, f.GroupChar, res.Rewrite[0]}
}

func TestInferColumn(t *testing.T) {
	tests := []struct {
		name   string
		comma  byte
		values []string
		want   field
	}{
		{"integers", ',', []string{"1", "-20", "300"}, field{typ: tInteger}},
		{"zeros and ones", ',', []string{"0", "1", "1", "0"}, field{typ: tInteger}},
		{"integers with missing", ',', []string{"1", "", "NA", "n/a", "2"}, field{typ: tInteger}},
		{"integer plus sign", ',', []string{"1", "+2"}, field{typ: tInteger, rewrite: true}},
		{"integer leading zero", ',', []string{"007", "8"}, field{typ: tInteger, rewrite: true}},
		{"integer overflow is a number", ',', []string{"1", "9223372036854775808"}, field{typ: tNumber}},
		{"grouped integers", ';', []string{"1,234", "5", "-1,234,567"}, field{typ: tInteger, group: ",", rewrite: true}},
		{"grouped integers need ; or tab", ',', []string{"1,234", "5"}, field{typ: tString}},
		{"malformed groups are strings", ';', []string{"1,234", "1,2,3"}, field{typ: tString}},
		{"comma groups or decimals", ';', []string{"1,234", "12,34"}, field{typ: tNumber, decimal: ",", rewrite: true}},
		{"integers then a decimal", ',', []string{"1", "2", "2.5"}, field{typ: tNumber}},
		{"numbers", ',', []string{"-1.5", "2", "1e-9", "3.25e4", "inf", "-inf"}, field{typ: tNumber}},
		{"numbers non-canonical", ',', []string{"1.5", ".5"}, field{typ: tNumber, rewrite: true}},
		{"numbers INF", ',', []string{"1.5", "-INF"}, field{typ: tNumber, rewrite: true}},
		{"numbers E", ',', []string{"1.5", "3.25E+4"}, field{typ: tNumber, rewrite: true}},
		{"short day first", ',', []string{"1/2/2023", "31/12/2023"}, field{typ: tDate, format: "%d/%m/%Y", rewrite: true}},
		{"short dots", ',', []string{"1.2.2023", "31.12.2023"}, field{typ: tDate, format: "%d.%m.%Y", rewrite: true}},
		{"numbers NaN", ',', []string{"1.5", "NaN", "nan"}, field{typ: tNumber}},
		{"grouped numbers", '\t', []string{"1,234.5", "7", "0.25"}, field{typ: tNumber, group: ",", rewrite: true}},
		{"european numbers", ';', []string{"1.234,56", "7", "0,25"}, field{typ: tNumber, decimal: ",", group: ".", rewrite: true}},
		{"european numbers without groups", ';', []string{"1234,56", "7", "0,25"}, field{typ: tNumber, decimal: ",", rewrite: true}},
		{"european integers only are integers", ';', []string{"1234", "7"}, field{typ: tInteger}},
		{"european numbers need ;", ',', []string{"1234,56", "7"}, field{typ: tString}},
		{"decimal comma beats nothing", ';', []string{"1,5", "2,25"}, field{typ: tNumber, decimal: ",", rewrite: true}},
		{"group comma read first", ';', []string{"1,234", "2,500"}, field{typ: tInteger, group: ",", rewrite: true}},
		{"dot groups are european", ';', []string{"1.234", "5,5"}, field{typ: tNumber, decimal: ",", group: ".", rewrite: true}},
		{"mixed marks are strings", ';', []string{"1.5", "2,5"}, field{typ: tString}},
		{"booleans", ',', []string{"true", "false"}, field{typ: tBoolean}},
		{"booleans capitalized", ',', []string{"true", "False", "TRUE"}, field{typ: tBoolean, rewrite: true}},
		{"booleans and digits", ',', []string{"true", "1"}, field{typ: tString}},
		{"yes no is a string", ',', []string{"yes", "no"}, field{typ: tString}},
		{"iso dates", ',', []string{"2023-01-31", "2024-02-29"}, field{typ: tDate}},
		{"not a real date", ',', []string{"2023-01-31", "2023-02-29"}, field{typ: tString}},
		{"day first", ',', []string{"01/02/2023", "31/12/2023"}, field{typ: tDate, format: "%d/%m/%Y", rewrite: true}},
		{"month first", ',', []string{"01/02/2023", "12/31/2023"}, field{typ: tDate, format: "%m/%d/%Y", rewrite: true}},
		{"both slashed orders die", ',', []string{"13/02/2023", "12/31/2023"}, field{typ: tString}},
		{"ambiguous slashes", ',', []string{"01/02/2023", "03/04/2023"}, field{typ: tDate, format: "%d/%m/%Y", rewrite: true}},
		{"dotted dates", ';', []string{"31.12.2023", "01.02.2024"}, field{typ: tDate, format: "%d.%m.%Y", rewrite: true}},
		{"dotted dates with comma", ',', []string{"31.12.2023"}, field{typ: tDate, format: "%d.%m.%Y", rewrite: true}},
		{"dotted not real", ',', []string{"31.04.2023"}, field{typ: tString}},
		{"dates and datetimes", ',', []string{"2023-01-31", "2023-01-31T10:00:00"}, field{typ: tString}},
		{"datetimes", ',', []string{"2023-01-31T10:00:00Z", "2023-01-31T10:00:00.5+01:00", "2023-01-31T10:00:00"}, field{typ: tDatetime}},
		{"datetimes with space", ',', []string{"2023-01-31T10:00:00", "2023-01-31 10:00:00"}, field{typ: tDatetime, rewrite: true}},
		{"times", ',', []string{"10:00:00", "23:59:59.999"}, field{typ: tTime}},
		{"bad time", ',', []string{"10:00:00", "24:00:00"}, field{typ: tString}},
		{"strings", ',', []string{"abc", "1"}, field{typ: tString}},
		{"string with formula", ',', []string{"abc", "=SUM(A1)"}, field{typ: tString, rewrite: true}},
		{"string with minus", ',', []string{"-", "x"}, field{typ: tString, rewrite: true}},
		{"string with tab", ',', []string{"\tx"}, field{typ: tString, rewrite: true}},
		{"formula before string only", ',', []string{"@x", "1"}, field{typ: tString, rewrite: true}},
		{"negative numbers are no formulas", ',', []string{"-1", "-2.5"}, field{typ: tNumber}},
		{"empty", ',', []string{"", "NA"}, field{typ: tString}},
		{"no values", ',', nil, field{typ: tString}},
		{"comma 0 is a comma", 0, []string{"1,234"}, field{typ: tString}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := inferOne(tt.comma, tt.values)
			if got != tt.want {
				t.Errorf("values %q: got %+v, want %+v", tt.values, got, tt.want)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	in := infer.New(5, infer.Options{Comma: ';'})
	rows := [][]string{
		{"01/02/2023", "1", "", "01/02/2023", "05/05/2023"},
		{"03/04/2023", "2", "", "13/02/2023", "06/06/2023"},
	}
	for _, row := range rows {
		for i, v := range row {
			if v != "" {
				in.Observe(i, []byte(v))
			}
		}
	}
	res := in.Result([]string{"ambiguous", "n", "blank", "day first"})
	want := []string{
		`column "ambiguous": dates fit both %d/%m/%Y and %m/%d/%Y (no day above 12); read as day first, %d/%m/%Y`,
		`column "blank" is empty`,
	}
	if !slices.Equal(res.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", res.Warnings, want)
	}
	// Day and month equal in every value: both readings agree, no warning;
	// the unnamed fifth column is field5.
	if got := res.Schema.Fields[4]; got.Name != "field5" || got.Format != "%d/%m/%Y" {
		t.Errorf("field 5 = %v, want field5 with %%d/%%m/%%Y", got)
	}
	if got := res.Schema.Fields[3].Format; got != "%d/%m/%Y" {
		t.Errorf("field 4 format = %q, want %%d/%%m/%%Y", got)
	}
	if !slices.Equal(res.Schema.MissingValues.Values, infer.DefaultMissingValues) {
		t.Errorf("MissingValues = %q", res.Schema.MissingValues.Values)
	}
}

// pool holds values of every kind, many of them accepted by several
// candidates, so random columns drawn from small parts of it end up with
// every type.
var pool = [][]string{
	{"0", "1", "-5", "+7", "007", "123"},
	{"1,234", "-12,345,678", "5"},
	{"1.5", ".5", "-2e3", "inf", "NaN", "1e300"},
	{"1,234.5", "0.125"},
	{"1.234,5", "0,5", "12"},
	{"true", "False", "TRUE", "false"},
	{"2023-01-31", "2024-02-29"},
	{"01/02/2023", "12/11/2023", "31/01/2023", "01/31/2023", "02/02/2022"},
	{"31.01.2023", "01.02.2023"},
	{"2023-01-31T10:00:00Z", "2023-01-31 10:00:00.5", "2023-01-31T10:00:00+01:00"},
	{"10:00:00", "23:59:59.5"},
	{"abc", "=1+1", "-x"},
}

// randomColumn draws n values from one to three kinds of the pool.
func randomColumn(r *rand.Rand, n int) []string {
	var kinds []int
	for range 1 + r.IntN(3) {
		kinds = append(kinds, r.IntN(len(pool)))
	}
	// Mostly one kind, sometimes two or three.
	if r.IntN(2) == 0 {
		kinds = kinds[:1]
	}
	col := make([]string, n)
	for i := range col {
		k := pool[kinds[r.IntN(len(kinds))]]
		col[i] = k[r.IntN(len(k))]
	}
	return col
}

func TestMergeEqualsSingle(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 500 {
		ncols := 1 + r.IntN(6)
		nrows := r.IntN(40)
		comma := []byte{',', ';', '\t'}[r.IntN(3)]
		cols := make([][]string, ncols)
		for c := range cols {
			cols[c] = randomColumn(r, nrows)
			if r.IntN(8) == 0 {
				for i := range cols[c] {
					cols[c][i] = ""
				}
			}
		}
		observe := func(in *infer.Inferrer, from, to int) {
			for row := from; row < to; row++ {
				for c := range cols {
					if v := []byte(cols[c][row]); !infer.IsMissing(v) {
						in.Observe(c, v)
					}
				}
			}
		}
		single := infer.New(ncols, infer.Options{Comma: comma})
		observe(single, 0, nrows)

		// Cut the rows at random points; merge the parts in order into the
		// first or in reverse into the last.
		cuts := []int{0, nrows}
		for range r.IntN(4) {
			cuts = append(cuts, r.IntN(nrows+1))
		}
		slices.Sort(cuts)
		parts := make([]*infer.Inferrer, len(cuts)-1)
		for i := range parts {
			parts[i] = infer.New(ncols, infer.Options{Comma: comma})
			observe(parts[i], cuts[i], cuts[i+1])
		}
		merged := parts[0]
		if iter%2 == 1 {
			slices.Reverse(parts)
			merged = parts[0]
		}
		for _, p := range parts[1:] {
			merged.Merge(p)
		}

		names := make([]string, ncols)
		for c := range names {
			names[c] = fmt.Sprintf("c%d", c)
		}
		want, got := single.Result(names), merged.Result(names)
		if !proto.Equal(got.Schema, want.Schema) || !slices.Equal(got.Rewrite, want.Rewrite) ||
			!slices.Equal(got.Warnings, want.Warnings) {
			t.Fatalf("iteration %d, cuts %v, columns %q:\nmerged %v %v %q\nsingle %v %v %q",
				iter, cuts, cols, got.Schema, got.Rewrite, got.Warnings, want.Schema, want.Rewrite, want.Warnings)
		}
	}
}

func TestMergeColumnCount(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Merge of 2 columns into 1 did not panic")
		}
	}()
	infer.New(1, infer.Options{}).Merge(infer.New(2, infer.Options{}))
}

func TestObserveAllocs(t *testing.T) {
	values := [][]byte{
		[]byte("123"), []byte("1,234"), []byte("-1.5e3"), []byte("1.234,5"), []byte("TRUE"),
		[]byte("2023-01-31"), []byte("01/02/2023"), []byte("31.12.2023"),
		[]byte("2023-01-31 10:00:00.5+01:00"), []byte("10:00:00"), []byte("text"),
	}
	in := infer.New(len(values), infer.Options{Comma: ';'})
	allocs := testing.AllocsPerRun(100, func() {
		for c, v := range values {
			in.Observe(c, v)
			in.Observe(c, values[(c+1)%len(values)])
		}
	})
	if allocs != 0 {
		t.Errorf("Observe allocates %v times per run, want 0", allocs)
	}
	missing := make([][]byte, len(infer.DefaultMissingValues))
	for i, s := range infer.DefaultMissingValues {
		missing[i] = []byte(s)
	}
	allocs = testing.AllocsPerRun(100, func() {
		for _, v := range missing {
			infer.IsMissing(v)
		}
	})
	if allocs != 0 {
		t.Errorf("IsMissing allocates %v times per run, want 0", allocs)
	}
}
