package validator

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	validatorv1 "github.com/csvmesh/csvmesh/gen/csvmesh/validator/v1"
	"github.com/csvmesh/csvmesh/services/internal/tradegen"
)

// outcome is everything a Run produces.
type outcome struct {
	norm, rej string
	res       *validatorv1.ValidationResult
	err       string
	events    collector
	rewrite   []bool
}

func runEngine(in []byte, cfg Config) outcome {
	var o outcome
	var norm, rej bytes.Buffer
	res, err := Run(context.Background(), bytes.NewReader(in), int64(len(in)), Outputs{Normalized: &norm, Rejects: &rej, Rewrite: &o.rewrite}, cfg, &o.events)
	o.norm, o.rej, o.res, o.err = norm.String(), rej.String(), res, errClass(err)
	if err != nil {
		o.norm, o.rej, o.events = "", "", collector{}
	}
	return o
}

// diffOutcomes describes how got differs from want, or returns "".
func diffOutcomes(got, want outcome) string {
	switch {
	case got.err != want.err:
		return fmt.Sprintf("error = %q, want %q", got.err, want.err)
	case got.norm != want.norm:
		return fmt.Sprintf("normalized:\n got %q\nwant %q", got.norm, want.norm)
	case got.rej != want.rej:
		return fmt.Sprintf("rejects:\n got %q\nwant %q", got.rej, want.rej)
	case !proto.Equal(got.res, want.res):
		return fmt.Sprintf("result:\n got %v\nwant %v", got.res, want.res)
	case !slices.Equal(got.rewrite, want.rewrite):
		return fmt.Sprintf("rewrite = %v, want %v", got.rewrite, want.rewrite)
	case len(got.events.batches) != len(want.events.batches) || len(got.events.progress) != len(want.events.progress):
		return fmt.Sprintf("events: %d batches, %d progress; want %d, %d",
			len(got.events.batches), len(got.events.progress), len(want.events.batches), len(want.events.progress))
	}
	for i := range got.events.batches {
		if !proto.Equal(got.events.batches[i], want.events.batches[i]) {
			return fmt.Sprintf("row error batch %d:\n got %v\nwant %v", i, got.events.batches[i], want.events.batches[i])
		}
	}
	for i := range got.events.progress {
		if !proto.Equal(got.events.progress[i], want.events.progress[i]) {
			return fmt.Sprintf("progress %d:\n got %v\nwant %v", i, got.events.progress[i], want.events.progress[i])
		}
	}
	return ""
}

// compareWithReference runs the engine and the independent reference
// (reference_test.go) on the same input and reports any difference. It
// returns false, having compared nothing, for input the reference does not
// cover; the engine has still run on it.
func compareWithReference(t *testing.T, in []byte, cfg Config) bool {
	t.Helper()
	got := runEngine(in, cfg)
	want, covered := runRef(in, cfg)
	if !covered {
		return false
	}
	if d := diffOutcomes(got, want); d != "" {
		t.Fatalf("%s\ninput %q\nconfig %s", d, truncateForLog(in), describeConfig(cfg))
	}
	return true
}

// describeConfig prints a Config for a failure message.
func describeConfig(cfg Config) string {
	s := cfg
	s.Schema, s.Options, s.Dialect = nil, nil, nil
	return fmt.Sprintf("%+v dialect {%v} schema {%v} options {%v}", s, cfg.Dialect, cfg.Schema, cfg.Options)
}

func truncateForLog(b []byte) []byte {
	if len(b) > 3000 {
		return b[:3000]
	}
	return b
}

// Values by kind, so that a column can mostly hold values of one kind.
var (
	intPool = []string{
		"0", "1", "-1", "+1", "007", "-0", "42", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "123456789012345678901", "1,000", "12",
	}
	numberPool = []string{
		"1.5", "-1.5", "+1.50", ".5", "5.", "-.5", "0.0", "1e3", "1E-3", "1.5e+10", "-1e-9", "100.00",
		"NaN", "inf", "-Infinity", ".", "e5", "1e", "1.2.3", "--1", "12.3x", "99999999999999999999",
	}
	boolPool = []string{"true", "false", "TRUE", "False", "tRuE", "yes", "1", "0", "truee"}
	datePool = []string{
		"2024-01-02", "2024-02-29", "2023-02-29", "2024-13-01", "2024-1-02", "02/01/2024", "31/12/2024",
		"2024-01-02T03:04:05Z", "2024-01-02 03:04:05", "2024-01-02T03:04:05.120+02:00", "2024-01-02T24:00:00Z",
		"12:30:00", "2024", "2024-03",
	}
	missingPool = []string{"", "NA", "N/A", "null", "NULL", "NaN", "None", "#N/A", "na", "-", "n/a"}
	stringPool  = []string{
		"x", "abc", "a b", " x ", "café", "交易", "€5", "a,b", "say \"hi\"", "\"", "line1\nline2", "two\n\nbreaks",
		"x\xffy", "\xff", "\xc3", "tab\there", "semi;colon", "=SUM(A1)", "+1", "@x", "AAPL", "XNYS",
		`{"k": [1, "v,w"]}`,
	}
	valuePool = concat(intPool, numberPool, boolPool, datePool, missingPool, stringPool)
	kindPools = [][]string{intPool, numberPool, boolPool, datePool, stringPool, valuePool}
	// poolTypes are the types that fit most values of each of kindPools.
	poolTypes = [][]typev1.FieldType{
		{typev1.FieldType_FIELD_TYPE_INTEGER, typev1.FieldType_FIELD_TYPE_NUMBER},
		{typev1.FieldType_FIELD_TYPE_NUMBER},
		{typev1.FieldType_FIELD_TYPE_BOOLEAN},
		{typev1.FieldType_FIELD_TYPE_DATE, typev1.FieldType_FIELD_TYPE_DATETIME, typev1.FieldType_FIELD_TYPE_TIME,
			typev1.FieldType_FIELD_TYPE_YEAR, typev1.FieldType_FIELD_TYPE_YEARMONTH},
		{typev1.FieldType_FIELD_TYPE_STRING, typev1.FieldType_FIELD_TYPE_ANY},
		{typev1.FieldType_FIELD_TYPE_STRING},
	}
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
			const alphabet = "0123456789.-+eE:TZ,\" \xff\n"
			i := r.IntN(len(v))
			v = v[:i] + string(alphabet[r.IntN(len(alphabet))]) + v[i+1:]
		}
	case 1:
		v += valuePool[r.IntN(len(valuePool))]
	}
	return v
}

// randomCSV writes a random CSV file: a header and rows of random values,
// quoted where they need to be and sometimes where they need not, with some
// wrong field counts, blank lines, CRLF line endings and no final line
// ending. It writes only what the reference covers (no lone CR, BOM or
// quoting error: those are covered by the tables of engine_test.go).
// kinds[i] is the index in kindPools of the values column i mostly holds.
func randomCSV(r *rand.Rand, delim byte, ncols, nrows int) (in []byte, kinds []int) {
	var b bytes.Buffer
	crlf := r.IntN(4) == 0
	field := func(v string) {
		if strings.ContainsAny(v, "\"\r\n") || strings.IndexByte(v, delim) >= 0 || r.IntN(30) == 0 {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(v, `"`, `""`))
			b.WriteByte('"')
			return
		}
		b.WriteString(v)
	}
	eol := func() {
		if crlf {
			b.WriteByte('\r')
		}
		b.WriteByte('\n')
		if r.IntN(30) == 0 {
			b.WriteByte('\n') // a blank row
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
		if crlf && b.Len() > 0 && b.Bytes()[b.Len()-1] == '\r' {
			b.Truncate(b.Len() - 1)
		}
	}
	return b.Bytes(), kinds
}

// headerOf returns the names in the first line of in, split at delim.
func headerOf(in []byte, delim byte) []string {
	line := in
	if i := bytes.IndexAny(in, "\r\n"); i >= 0 {
		line = in[:i]
	}
	return strings.Split(string(line), string(delim))
}

// randomSchema returns a schema for header, with types mostly fitting the
// kinds of its columns, random constraints, missing values and a primary
// key.
func randomSchema(r *rand.Rand, header []string, kinds []int) *typev1.Schema {
	s := &typev1.Schema{}
	for i, h := range MangleHeader(header) {
		types := poolTypes[len(poolTypes)-1]
		if i < len(kinds) && r.IntN(4) != 0 {
			types = poolTypes[kinds[i]]
		}
		f := &typev1.Field{Name: h, Type: types[r.IntN(len(types))], Constraints: &typev1.FieldConstraints{}}
		f.Constraints.Required = r.IntN(4) == 0
		f.Constraints.Unique = r.IntN(8) == 0
		switch f.Type {
		case typev1.FieldType_FIELD_TYPE_INTEGER:
			if r.IntN(3) == 0 {
				f.Constraints.Minimum = proto.String("0")
			}
		case typev1.FieldType_FIELD_TYPE_STRING:
			if r.IntN(4) == 0 {
				f.Constraints.MaxLength = proto.Int64(4)
			}
			if r.IntN(6) == 0 {
				f.Constraints.EnumValues = []string{"x", "abc", "AAPL"}
			}
		}
		s.Fields = append(s.Fields, f)
	}
	if r.IntN(4) == 0 {
		s.MissingValues = &typev1.MissingValues{Values: []string{"", "NA", "-"}}
	}
	if r.IntN(5) == 0 {
		for range 1 + r.IntN(2) {
			name := s.Fields[r.IntN(len(s.Fields))].GetName()
			if !slices.Contains(s.PrimaryKey, name) {
				s.PrimaryKey = append(s.PrimaryKey, name)
			}
		}
	}
	return s
}

// randomConfig returns a config for a file with header names and column
// kinds (nil for any): sometimes a schema, a given delimiter, a shard
// position, options, event settings, and 1 to 4 workers over blocks of a
// few records each.
func randomConfig(r *rand.Rand, delim byte, header []string, kinds []int) Config {
	cfg := Config{Workers: 1 + r.IntN(4), BlockSize: 1 + r.IntN(200)}
	if delim != ',' || r.IntN(2) == 0 {
		cfg.Dialect = &typev1.Dialect{Delimiter: string(delim)}
	}
	if r.IntN(3) == 0 {
		// Invalid UTF-8 is then an error, not windows-1252.
		cfg.Dialect = &typev1.Dialect{Delimiter: cfg.Dialect.GetDelimiter(), Encoding: "utf-8"}
	}
	if r.IntN(2) == 0 {
		cfg.Schema = randomSchema(r, header, kinds)
		if r.IntN(3) == 0 {
			cfg.UniqueMemoryBudget = 512 // unique and primary keys spill
		}
	}
	if r.IntN(6) == 0 {
		// A shard: the given header makes the header line a data row.
		cfg.Header = header
		cfg.FirstLine, cfg.FirstRecord, cfg.FirstOffset = r.Int64N(100), r.Int64N(100), r.Int64N(1000)
	}
	opts := &typev1.ValidationOptions{}
	if r.IntN(3) == 0 {
		opts.MaxInvalidRows = proto.Int64(r.Int64N(5))
	}
	if r.IntN(3) == 0 {
		opts.MaxInvalidRatio = proto.Float64(float64(r.IntN(5)) / 10)
	}
	if r.IntN(3) == 0 {
		opts.ErrorSampleSize = int32(1 + r.IntN(10))
	}
	opts.NeutralizeFormulas = r.IntN(3) == 0
	cfg.Options = opts
	if r.IntN(3) == 0 {
		cfg.ErrorBatchSize = 1 + r.IntN(5)
	}
	return cfg
}

// TestRunMatchesReference checks the engine against the reference on random
// files, schemas, dialects, shard positions, options and event settings,
// with 1 to 4 workers over tiny blocks: outputs, results, errors and events
// must be identical.
func TestRunMatchesReference(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 200
	}
	r := rand.New(rand.NewPCG(1, 2))
	covered := 0
	for i := range n {
		delim := ",,,;\t|"[r.IntN(6)]
		ncols := 1 + r.IntN(7)
		in, kinds := randomCSV(r, delim, ncols, r.IntN(40))
		cfg := randomConfig(r, delim, headerOf(in, delim), kinds)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if compareWithReference(t, in, cfg) {
				covered++
			}
		})
		if t.Failed() {
			return
		}
	}
	if covered < n*3/4 {
		t.Errorf("the reference covered %d of %d random files, want most", covered, n)
	}
}

// TestRunMatchesReferenceTrades checks the engine against the reference on
// the benchmark's trades file, inferred and with schemas, with two workers
// over small blocks.
func TestRunMatchesReferenceTrades(t *testing.T) {
	var buf bytes.Buffer
	if _, err := tradegen.Write(&buf, 1<<20, tradegen.WithSeed(7), tradegen.WithBadRowRate(0.02)); err != nil {
		t.Fatal(err)
	}
	in := buf.Bytes()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"infer", Config{}},
		{"schema", Config{Schema: tradesSchema()}},
		{"schema all strings, unique notes", Config{Schema: schema("timestamp:string", "symbol:string", "side:string", "price:string",
			"quantity:string", "notional:string", "venue:string", "note:string!")}},
		{"primary key", Config{Schema: func() *typev1.Schema {
			s := tradesSchema()
			s.PrimaryKey = []string{"symbol", "quantity"}
			return s
		}()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Workers, tc.cfg.BlockSize = 2, 8<<10
			if !compareWithReference(t, in, tc.cfg) {
				t.Fatal("the reference does not cover the trades file")
			}
		})
	}
}

// TestRunWorkersIdentical checks that the number of workers and the block
// size change nothing: one worker over large blocks and four over tiny
// ones give byte-identical outputs, results and events.
func TestRunWorkersIdentical(t *testing.T) {
	var buf bytes.Buffer
	if _, err := tradegen.Write(&buf, 512<<10, tradegen.WithSeed(3), tradegen.WithBadRowRate(0.05)); err != nil {
		t.Fatal(err)
	}
	unique := tradesSchema()
	unique.Fields[0].Constraints = &typev1.FieldConstraints{Unique: true}
	unique.PrimaryKey = []string{"symbol", "price"}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"infer", Config{}},
		{"schema", Config{Schema: tradesSchema()}},
		{"unique and primary key", Config{Schema: unique, UniqueMemoryBudget: 4 << 10}},
		{"neutralized, sampled", Config{Schema: tradesSchema(), Options: &typev1.ValidationOptions{NeutralizeFormulas: true, ErrorSampleSize: 1000}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			one, four := tc.cfg, tc.cfg
			one.Workers, one.BlockSize = 1, 1<<20
			four.Workers, four.BlockSize = 4, 700
			a, b := runEngine(buf.Bytes(), one), runEngine(buf.Bytes(), four)
			if a.err != "" {
				t.Fatal(a.err)
			}
			if d := diffOutcomes(b, a); d != "" {
				t.Fatal(d)
			}
			if a.res.GetRowsRejected() == 0 || a.res.GetRowsValid() == 0 {
				t.Errorf("valid %d, rejected %d: want both", a.res.GetRowsValid(), a.res.GetRowsRejected())
			}
		})
	}
}

// FuzzValidate checks that the engine neither panics nor hangs on any input,
// gives the same outcome with one worker over large blocks as with three
// over tiny ones, and agrees with the reference on every input it covers.
// mode picks the delimiter, the schema and the other settings.
func FuzzValidate(f *testing.F) {
	f.Add([]byte("a,b\n1,x\n"), uint64(0))
	f.Add([]byte("id,price,flag,day,ts,name\n1,1.5,true,2024-01-02,2024-01-02T03:04:05Z,x\n2,NA,FALSE,,2024-01-02 03:04:05.5,\"a,b\"\n"), uint64(1))
	f.Add([]byte("a;b\r\n\"q\"\"\";-0\r\n\r\n+007;1e21\n"), uint64(0x1234))
	f.Add([]byte("x\n\"\"\nNA\n\n"), uint64(7))
	f.Add([]byte("a,b\n1,x\xffy\n\"1\"x,2\n3,\"4\n"), uint64(99))
	f.Add([]byte("\xff\xfea\x00,\x00b\x00\n\x001\x00,\x002\x00\n\x00"), uint64(5))
	f.Add([]byte("# comment\na|b\n'x|y'|2\n"), uint64(2))
	f.Fuzz(func(t *testing.T, in []byte, mode uint64) {
		r := rand.New(rand.NewPCG(mode, 0))
		delim := ",;\t|"[mode%4]
		cfg := randomConfig(r, delim, headerOf(in, delim), nil)
		if mode&(1<<8) != 0 {
			cfg.Schema = nil
		}
		if mode&(1<<9) != 0 {
			cfg.Dialect = nil
		}
		one, three := cfg, cfg
		one.Workers, one.BlockSize = 1, 1<<20
		three.Workers, three.BlockSize = 3, 1+int(mode>>10)%64
		if d := diffOutcomes(runEngine(in, three), runEngine(in, one)); d != "" {
			t.Fatalf("3 workers differ from 1: %s", d)
		}
		compareWithReference(t, in, cfg)
	})
}
