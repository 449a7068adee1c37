package validator

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/internal/tradegen"
)

// outcome is everything a Run produces.
type outcome struct {
	norm, rej string
	res       *validatorv1.ValidationResult
	err       string
	events    collector
}

func runEngine(in []byte, cfg Config) outcome {
	var o outcome
	var norm, rej bytes.Buffer
	res, err := Run(context.Background(), bytes.NewReader(in), &norm, &rej, cfg, &o.events)
	o.norm, o.rej, o.res, o.err = norm.String(), rej.String(), res, errClass(err)
	return o
}

// compareWithReference runs the engine and the independent reference
// (reference_test.go) on the same input and reports any difference in
// outputs, result, error or events. It returns false, having compared
// nothing, for input the reference does not cover; the engine has still run
// on it.
func compareWithReference(t *testing.T, in []byte, cfg Config) bool {
	t.Helper()
	got := runEngine(in, cfg)
	want, covered := runRef(in, cfg)
	if !covered {
		return false
	}
	desc := func() string { return fmt.Sprintf("input %q, config %+v", truncateForLog(in), cfg) }
	if got.err != want.err {
		t.Fatalf("error = %q, reference %q; %s", got.err, want.err, desc())
	}
	if got.norm != want.norm {
		t.Fatalf("normalized:\n got %q\nwant %q\n%s", got.norm, want.norm, desc())
	}
	if got.rej != want.rej {
		t.Fatalf("rejects:\n got %q\nwant %q\n%s", got.rej, want.rej, desc())
	}
	if !proto.Equal(got.res, want.res) {
		t.Fatalf("result:\n got %v\nwant %v\n%s", got.res, want.res, desc())
	}
	if len(got.events.batches) != len(want.events.batches) || len(got.events.progress) != len(want.events.progress) {
		t.Fatalf("events: %d batches, %d progress; reference %d, %d; %s",
			len(got.events.batches), len(got.events.progress), len(want.events.batches), len(want.events.progress), desc())
	}
	for i := range got.events.batches {
		if !proto.Equal(got.events.batches[i], want.events.batches[i]) {
			t.Fatalf("row error batch %d:\n got %v\nwant %v\n%s", i, got.events.batches[i], want.events.batches[i], desc())
		}
	}
	for i := range got.events.progress {
		if !proto.Equal(got.events.progress[i], want.events.progress[i]) {
			t.Fatalf("progress %d:\n got %v\nwant %v\n%s", i, got.events.progress[i], want.events.progress[i], desc())
		}
	}
	return true
}

// mustMatchReference is compareWithReference for generated input, which the
// reference must cover.
func mustMatchReference(t *testing.T, in []byte, cfg Config) {
	t.Helper()
	if !compareWithReference(t, in, cfg) {
		t.Fatalf("the reference does not cover generated input %q", truncateForLog(in))
	}
}

func truncateForLog(b []byte) []byte {
	if len(b) > 2000 {
		return b[:2000]
	}
	return b
}

// valuePool holds values that exercise every type's edge cases, the missing
// markers and their near misses, and text that needs quoting or is not UTF-8.
var valuePool = concat(intPool, numberPool, boolPool, datePool, missingPool, stringPool)

// Values by kind, so that a column can mostly hold values of one kind.
var (
	intPool = []string{
		"0", "1", "-1", "+1", "007", "-0", "+0", "-007", "42", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "-9223372036854775809", "00000000000000000000001", "123456789012345678901",
	}
	numberPool = []string{
		"1.5", "-1.5", "+1.50", ".5", "5.", "-.5", "0.0", "-0.0", "1e3", "1E-3", "1.5e+10", "-1e-9", "0.000001",
		"0.0000001", "1e20", "1e21", "1e22", "123.456e30", "99999999999999999999", "123456789012345678901.5",
		"1234567890123456789012.5", "0.1000000000000000000000000001", "100.00", "12345.60", "000.000100",
		".", "e5", "1e", "1.2.3", "1,000", "--1", "+-1", "1e+", "1e99999999999999999", "0e0", "-0e-5", "12.3x",
	}
	boolPool = []string{
		"true", "false", "TRUE", "False", "tRuE", "yes", "no", "Y", "n", "t", "F", "truee",
	}
	datePool = []string{
		"2024-01-02", "2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "2024-04-31", "2024-13-01", "2024-1-02",
		"2024-01-02T03:04:05Z", "2024-01-02 03:04:05", "2024-01-02 03:04:05.120", "2024-01-02t03:04:05.000z",
		"2024-01-02T03:04:05+02:00", "2024-01-01T23:30:00.5-0100", "2024-01-02T03:04:05+00:00",
		"2024-01-02T24:00:00Z", "2024-01-02T03:04Z", "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05+2",
		"2024-01-02T03:04:05,5Z", "2024-01-02T03:04:05.1234567890Z", "2024-01-02T03:04:05.123456789Z",
		"2024-12-31T23:59:59-23:59", "0000-01-01T00:00:00+01:00", "2024-01-02T03:04:05.123456Z", "02/01/2024",
	}
	missingPool = []string{
		"", "NA", "N/A", "n/a", "null", "NULL", "NaN", "nan", "None", "#N/A", "<NA>", "-NaN", "-nan", "#NA",
		"1.#IND", "-1.#IND", "1.#QNAN", "-1.#QNAN", "#N/A N/A", "na", "Null", "none", "N/A ", "NaNa", "-", "1.#INF",
	}
	stringPool = []string{
		"x", "abc", "a b", " x ", "café", "交易", "€5", "a,b", "say \"hi\"", "\"", "\"\"", "line1\nline2", "two\n\nbreaks",
		"x\xffy", "\xff", "\xc3", "tab\there", "semi;colon", "é", "AAPL", "XNYS",
	}
	kindPools = [][]string{intPool, numberPool, boolPool, datePool, stringPool, valuePool}
)

func concat(pools ...[]string) []string {
	var all []string
	for _, p := range pools {
		all = append(all, p...)
	}
	return all
}

// randomValue returns a value, usually from pool, sometimes missing, from
// any pool or mangled.
func randomValue(r *rand.Rand, pool []string) string {
	var v string
	switch r.IntN(20) {
	case 0:
		v = missingPool[r.IntN(len(missingPool))]
	case 1:
		v = valuePool[r.IntN(len(valuePool))]
	default:
		v = pool[r.IntN(len(pool))]
	}
	switch r.IntN(25) {
	case 0:
		if len(v) > 0 {
			i := r.IntN(len(v))
			v = v[:i] + string(rune("0123456789.-+eE:TZ,\" \xff\n"[r.IntN(23)])) + v[i+1:]
		}
	case 1:
		v += valuePool[r.IntN(len(valuePool))]
	}
	return v
}

// randomCSV writes a random CSV file: a header and rows of random values,
// quoted where they need to be and sometimes where they need not, with some
// wrong field counts, blank lines and no final line ending. It writes only
// what encoding/csv reads as csvparse does (no CR, BOM or quoting error:
// those are covered by the tables of engine_test.go).
// kinds[i] is the index in kindPools of the values column i mostly holds.
func randomCSV(r *rand.Rand, delim byte, ncols, nrows int) (in []byte, kinds []int) {
	var b bytes.Buffer
	field := func(v string) {
		if strings.ContainsAny(v, "\"\n") || strings.IndexByte(v, delim) >= 0 || r.IntN(30) == 0 {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(v, `"`, `""`))
			b.WriteByte('"')
			return
		}
		b.WriteString(v)
	}
	eol := func() {
		if r.IntN(20) == 0 {
			b.WriteString("\n\n")
		} else {
			b.WriteByte('\n')
		}
	}
	for i := range ncols {
		if i > 0 {
			b.WriteByte(delim)
		}
		switch r.IntN(10) {
		case 0:
		case 1:
			b.WriteString("dup")
		default:
			fmt.Fprintf(&b, "c%d", i)
		}
	}
	eol()
	kinds = make([]int, ncols+2)
	for i := range kinds {
		kinds[i] = r.IntN(len(kindPools))
	}
	for range nrows {
		n := ncols
		if r.IntN(25) == 0 {
			n = max(1, ncols+r.IntN(3)-1)
		}
		for i := range n {
			if i > 0 {
				b.WriteByte(delim)
			}
			field(randomValue(r, kindPools[kinds[i]]))
		}
		eol()
	}
	if r.IntN(4) == 0 {
		b.Truncate(b.Len() - 1) // no final line ending
	}
	return b.Bytes(), kinds
}

var allTypes = []string{"string", "integer", "number", "boolean", "date", "datetime"}

// kindTypes[k] are the types that fit most values of kindPools[k].
var kindTypes = [][]string{{"integer", "number"}, {"number"}, {"boolean"}, {"date", "datetime"}, {"string"}, {"string"}}

// headerOf returns the names in the first line of in, split at delim.
func headerOf(in []byte, delim byte) []string {
	line := in
	if i := bytes.IndexAny(in, "\r\n"); i >= 0 {
		line = in[:i]
	}
	return strings.Split(string(line), string(delim))
}

// randomConfig returns a config for a file with header names and column
// kinds (nil for any): sometimes a schema (with types mostly fitting the
// kinds, and random required flags), a delimiter, shard positions, a small
// reject row size and event settings. It sets no record limit and no
// progress interval, which the reference does not model.
func randomConfig(r *rand.Rand, delim byte, header []string, kinds []int) Config {
	cfg := Config{Delimiter: delim}
	if r.IntN(2) == 0 {
		var fields []string
		for i, h := range MangleHeader(header) {
			types := allTypes
			if i < len(kinds) && r.IntN(4) != 0 {
				types = kindTypes[kinds[i]]
			}
			f := h + ":" + types[r.IntN(len(types))]
			if r.IntN(3) == 0 {
				f += "!"
			}
			fields = append(fields, f)
		}
		cfg.Schema = schema(fields...)
	}
	if delim == ',' && r.IntN(3) == 0 {
		cfg.Delimiter = 0
	}
	if r.IntN(6) == 0 {
		// A shard: the given header makes the header line a data row.
		cfg.Header = header
		cfg.FirstLine, cfg.FirstRecord, cfg.FirstOffset = r.Int64N(100), r.Int64N(100), r.Int64N(1000)
	}
	if r.IntN(3) == 0 {
		cfg.TotalBytes = r.Int64N(1000)
	}
	if r.IntN(3) == 0 {
		cfg.MaxRejectRowBytes = 1 + r.IntN(30)
	}
	if r.IntN(3) == 0 {
		cfg.ErrorBatchSize = 1 + r.IntN(5)
	}
	if r.IntN(3) == 0 {
		cfg.MaxStreamedErrors = r.IntN(10) - 2
	}
	return cfg
}

// TestRunMatchesReference checks the engine against the reference on random
// files, schemas, dialects, shard positions and event settings: outputs,
// results, errors and events must be identical.
func TestRunMatchesReference(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		delim := ",,,;\t|"[r.IntN(6)]
		ncols := 1 + r.IntN(7)
		in, kinds := randomCSV(r, delim, ncols, r.IntN(40))
		cfg := randomConfig(r, delim, headerOf(in, delim), kinds)
		t.Run(fmt.Sprint(i), func(t *testing.T) { mustMatchReference(t, in, cfg) })
		if t.Failed() {
			return
		}
	}
}

// TestRunMatchesReferenceTrades checks the engine against the reference on
// the benchmark's trades file, inferred and with a schema. The CRLFs in its
// quoted notes, which encoding/csv reads as LFs, are made LFs.
func TestRunMatchesReferenceTrades(t *testing.T) {
	var buf bytes.Buffer
	if _, err := tradegen.Write(&buf, 1<<20, tradegen.WithSeed(7), tradegen.WithBadRowRate(0.02)); err != nil {
		t.Fatal(err)
	}
	in := bytes.ReplaceAll(buf.Bytes(), []byte("\r\n"), []byte("\n"))
	tests := []struct {
		name string
		cfg  Config
	}{
		{"infer", Config{}},
		{"schema", Config{Schema: schema("timestamp:datetime!", "symbol:string!", "side:string!", "price:number",
			"quantity:integer!", "notional:number", "venue:string", "note:string")}},
		{"schema all strings", Config{Schema: schema("timestamp:string", "symbol:string", "side:string", "price:string",
			"quantity:string", "notional:string", "venue:string", "note:string!")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { mustMatchReference(t, in, tc.cfg) })
	}
}

// FuzzValidate checks that the engine neither panics nor hangs on any input
// and agrees with the reference on every input the reference covers (see
// reference_test.go). mode picks the delimiter, whether a schema is given
// and its column types, and the other settings.
func FuzzValidate(f *testing.F) {
	f.Add([]byte("a,b\n1,x\n"), uint64(0))
	f.Add([]byte("id,price,flag,day,ts,name\n1,1.5,true,2024-01-02,2024-01-02T03:04:05Z,x\n2,NA,FALSE,,2024-01-02 03:04:05.5,\"a,b\"\n"), uint64(1))
	f.Add([]byte("a;b\r\n\"q\"\"\";-0\r\n\r\n+007;1e21\n"), uint64(0x1234))
	f.Add([]byte("x\n\"\"\nNA\n"), uint64(7))
	f.Add([]byte("a,b\n1,x\xffy\n\"1\"x,2\n3,\"4\n"), uint64(99))
	f.Fuzz(func(t *testing.T, in []byte, mode uint64) {
		r := rand.New(rand.NewPCG(mode, 0))
		delim := ",;\t"[mode%3]
		cfg := randomConfig(r, delim, headerOf(in, delim), nil)
		if mode&(1<<8) != 0 {
			cfg.Schema = nil
		}
		compareWithReference(t, in, cfg)
	})
}

// randomLike returns a random string over alphabet, or template with a few
// bytes replaced by ones from alphabet, truncated or extended.
func randomLike(r *rand.Rand, template, alphabet string) string {
	var b []byte
	if r.IntN(3) == 0 {
		b = make([]byte, r.IntN(30))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
	} else {
		b = []byte(template)
		for range r.IntN(3) {
			b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
		}
		switch r.IntN(4) {
		case 0:
			b = b[:r.IntN(len(b)+1)]
		case 1:
			for range r.IntN(12) {
				b = append(b, alphabet[r.IntN(len(alphabet))])
			}
		}
	}
	return string(b)
}

// TestRunMatchesReferenceValues checks the value checks and normalization of
// each type against the reference on many random near-valid values, in one
// column checked against that type and inferred.
func TestRunMatchesReferenceValues(t *testing.T) {
	tests := []struct {
		typ       string
		templates []string
		alphabet  string
	}{
		{"integer", []string{"12345", "-0042", "+9223372036854775807", "-9223372036854775808", "000000000000000000009"}, "0123456789+-"},
		{"number", []string{"123.4500", "-0.000123", "1.5e-7", "+12345678901234567890123.5", "100.", ".5", "9e21"}, "0123456789+-.eE"},
		{"boolean", []string{"true", "FALSE", "yes", "N", "1"}, "tTrRuUeEfFaAlLsSyYnNoO01"},
		{"date", []string{"2024-02-29", "1900-02-28", "2023-12-31", "0000-01-01"}, "0123456789-/"},
		{"datetime", []string{"2024-01-02T03:04:05.123456Z", "2024-02-29 23:59:59", "2024-01-01t00:00:00,5+01:00", "2024-12-31T23:59:59-0130", "2024-01-02"},
			"0123456789-:.,TtZz+ "},
	}
	r := rand.New(rand.NewPCG(9, 10))
	for _, tc := range tests {
		t.Run(tc.typ, func(t *testing.T) {
			var b bytes.Buffer
			b.WriteString("v,w\n")
			for range 5000 {
				b.WriteString(randomLike(r, tc.templates[r.IntN(len(tc.templates))], tc.alphabet))
				b.WriteString(",x\n")
			}
			mustMatchReference(t, b.Bytes(), Config{Schema: schema("v:"+tc.typ, "w:string")})
			mustMatchReference(t, b.Bytes(), Config{})
		})
	}
}

// TestRunAllocationsDoNotGrowWithRows checks that Run allocates per file,
// not per row: ten times the rows, valid and rejected (wrong field counts,
// bad types, missing required values, invalid UTF-8, quoted fields), cost
// no more than a few extra allocations (buffers growing to the longest
// row).
func TestRunAllocationsDoNotGrowWithRows(t *testing.T) {
	input := func(rows int) []byte {
		var b bytes.Buffer
		b.WriteString("id,price,ts,flag,note\n")
		for i := range rows {
			switch i % 10 {
			case 3:
				b.WriteString("x,1.50,2024-01-02T03:04:05Z,true,\"a, \"\"b\"\"\"\n") // type error, quoted note
			case 5:
				b.WriteString("7,NA,2024-01-02 03:04:05.100,no\n") // field count
			case 7:
				b.WriteString(",2.0,2024-01-02,n,x\xffy\n") // required, encoding
			default:
				fmt.Fprintf(&b, "%d,%d.%02d,2024-01-02T03:04:%02d.120Z,yes,note %d\n", i, i%1000, i%100, i%60, i)
			}
		}
		return b.Bytes()
	}
	small, big := input(1000), input(10000)
	for _, cfg := range []Config{
		{},
		{Schema: schema("id:integer!", "price:number", "ts:datetime", "flag:boolean", "note:string")},
	} {
		allocs := func(in []byte) float64 {
			return testing.AllocsPerRun(3, func() {
				res, err := Run(context.Background(), bytes.NewReader(in), io.Discard, io.Discard, cfg, nil)
				if err != nil || res.GetRowsRejected() == 0 || res.GetRowsValid() == 0 {
					t.Fatalf("Run: %v, %v", res, err)
				}
			})
		}
		a1, a10 := allocs(small), allocs(big)
		if a10-a1 > 10 {
			t.Errorf("schema %v: %.0f allocations for 1000 rows, %.0f for 10000: want no allocation per row", cfg.Schema != nil, a1, a10)
		}
	}
}
