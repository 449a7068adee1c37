package parquetout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/internal/csvparse"
	"github.com/csvmesh/csvmesh/services/internal/tradegen"
)

type fieldSpec struct {
	name string
	typ  typev1.FieldType
}

func schemaOf(fields ...fieldSpec) *typev1.Schema {
	s := &typev1.Schema{}
	for _, f := range fields {
		s.Fields = append(s.Fields, &typev1.Field{Name: f.name, Type: f.typ})
	}
	return s
}

// csvOf writes a header and rows as CSV.
func csvOf(header []string, rows [][]string) []byte {
	var b []byte
	b = appendStrings(b, header)
	for _, r := range rows {
		b = appendStrings(b, r)
	}
	return b
}

func appendStrings(b []byte, fields []string) []byte {
	bs := make([][]byte, len(fields))
	for i, f := range fields {
		bs[i] = []byte(f)
	}
	return csvparse.AppendRecord(b, bs)
}

// readBack opens a Parquet file and returns, per column, its description
// ("OPTIONAL INT64 TIMESTAMP(...)"), its name, and all rows.
func readBack(t *testing.T, data []byte) (names, types []string, rows []parquet.Row, f *parquet.File) {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	for _, el := range f.Metadata().Schema[1:] {
		names = append(names, el.Name)
		types = append(types, strings.TrimSpace(fmt.Sprintf("%s %s %s", el.RepetitionType.V, el.Type.V, el.LogicalType.String())))
	}
	for _, rg := range f.RowGroups() {
		rs := rg.Rows()
		buf := make([]parquet.Row, 100)
		for {
			n, err := rs.ReadRows(buf)
			for _, r := range buf[:n] {
				rows = append(rows, r.Clone())
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("ReadRows: %v", err)
			}
		}
		rs.Close()
	}
	return names, types, rows, f
}

// want is an expected value: nil for a null, else one of string, int64,
// int32, float64, bool.
type want any

func checkValue(t *testing.T, row int, v parquet.Value, w want) {
	t.Helper()
	if w == nil {
		if !v.IsNull() {
			t.Errorf("row %d: %v, want null", row, v)
		}
		return
	}
	if v.IsNull() {
		t.Errorf("row %d: null, want %v", row, w)
		return
	}
	switch w := w.(type) {
	case string:
		if got := string(v.ByteArray()); got != w {
			t.Errorf("row %d: %q, want %q", row, got, w)
		}
	case int64:
		if v.Kind() != parquet.Int64 || v.Int64() != w {
			t.Errorf("row %d: %v (%v), want int64 %d", row, v, v.Kind(), w)
		}
	case int32:
		if v.Kind() != parquet.Int32 || v.Int32() != w {
			t.Errorf("row %d: %v (%v), want int32 %d", row, v, v.Kind(), w)
		}
	case float64:
		got := v.Double()
		if v.Kind() != parquet.Double || !(got == w || math.IsNaN(got) && math.IsNaN(w)) || math.Signbit(got) != math.Signbit(w) {
			t.Errorf("row %d: %v (%v), want double %v", row, v, v.Kind(), w)
		}
	case bool:
		if v.Kind() != parquet.Boolean || v.Boolean() != w {
			t.Errorf("row %d: %v (%v), want %v", row, v, v.Kind(), w)
		}
	default:
		t.Fatalf("bad want %T", w)
	}
}

func micros(s string) int64 {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return tm.UnixMicro()
}

func nanos(s string) int64 {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return tm.UnixNano()
}

func days(s string) int32 {
	tm, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return int32(tm.Unix() / 86400)
}

func TestConvertTypes(t *testing.T) {
	const (
		str  = "OPTIONAL BYTE_ARRAY STRING"
		utcU = "OPTIONAL INT64 TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)"
		utcN = "OPTIONAL INT64 TIMESTAMP(isAdjustedToUTC=true,unit=NANOS)"
		locU = "OPTIONAL INT64 TIMESTAMP(isAdjustedToUTC=false,unit=MICROS)"
		locN = "OPTIONAL INT64 TIMESTAMP(isAdjustedToUTC=false,unit=NANOS)"
	)
	tests := []struct {
		name     string
		typ      typev1.FieldType
		values   []string
		wantType string
		want     []want
	}{
		{
			name: "string", typ: typev1.FieldType_FIELD_TYPE_STRING,
			values:   []string{"abc", "", "with,comma", "qu\"ote", "ünïcødé", "line\nbreak", " "},
			wantType: str,
			want:     []want{"abc", nil, "with,comma", "qu\"ote", "ünïcødé", "line\nbreak", " "},
		},
		{
			name: "any", typ: typev1.FieldType_FIELD_TYPE_ANY,
			values: []string{"x", ""}, wantType: str, want: []want{"x", nil},
		},
		{
			name: "duration", typ: typev1.FieldType_FIELD_TYPE_DURATION,
			values: []string{"P1DT2H", "", "PT0.5S"}, wantType: str, want: []want{"P1DT2H", nil, "PT0.5S"},
		},
		{
			name: "yearmonth", typ: typev1.FieldType_FIELD_TYPE_YEARMONTH,
			values: []string{"2024-03", ""}, wantType: str, want: []want{"2024-03", nil},
		},
		{
			name: "integer", typ: typev1.FieldType_FIELD_TYPE_INTEGER,
			values:   []string{"-123", "", "0", "9223372036854775807", "-9223372036854775808"},
			wantType: "OPTIONAL INT64 INT(64,true)",
			want:     []want{int64(-123), nil, int64(0), int64(math.MaxInt64), int64(math.MinInt64)},
		},
		{
			name: "number", typ: typev1.FieldType_FIELD_TYPE_NUMBER,
			values:   []string{"3.14", "", "-1e-9", "inf", "-inf", "NaN", "0", "-0", "1.7976931348623157e308", "42"},
			wantType: "OPTIONAL DOUBLE",
			want: []want{3.14, nil, -1e-9, math.Inf(1), math.Inf(-1), math.NaN(), 0.0, math.Copysign(0, -1),
				math.MaxFloat64, 42.0},
		},
		{
			name: "boolean", typ: typev1.FieldType_FIELD_TYPE_BOOLEAN,
			values: []string{"true", "", "false"}, wantType: "OPTIONAL BOOLEAN", want: []want{true, nil, false},
		},
		{
			name: "date", typ: typev1.FieldType_FIELD_TYPE_DATE,
			values:   []string{"1970-01-01", "", "2024-02-29", "1969-12-31", "0001-01-01", "9999-12-31", "1900-03-01"},
			wantType: "OPTIONAL INT32 DATE",
			want: []want{int32(0), nil, days("2024-02-29"), int32(-1), days("0001-01-01"), days("9999-12-31"),
				days("1900-03-01")},
		},
		{
			name: "datetime utc micros", typ: typev1.FieldType_FIELD_TYPE_DATETIME,
			values: []string{"", "2024-03-01T12:00:00Z", "2024-03-01T12:00:00.123456+01:00",
				"2024-03-01T12:00:00.5", "1969-12-31T23:59:59.999999-00:30", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"},
			wantType: utcU,
			want: []want{nil, micros("2024-03-01T12:00:00Z"), micros("2024-03-01T11:00:00.123456Z"),
				micros("2024-03-01T12:00:00.5Z"), micros("1970-01-01T00:29:59.999999Z"), micros("9999-12-31T23:59:59Z"),
				micros("0001-01-01T00:00:00Z")},
		},
		{
			name: "datetime utc nanos", typ: typev1.FieldType_FIELD_TYPE_DATETIME,
			values:   []string{"2024-03-01T12:00:00Z", "2024-03-01T12:00:00.123456789Z", "2024-03-01 12:00:00.1-05:00", ""},
			wantType: utcN,
			want: []want{nanos("2024-03-01T12:00:00Z"), nanos("2024-03-01T12:00:00.123456789Z"),
				nanos("2024-03-01T17:00:00.1Z"), nil},
		},
		{
			name: "datetime naive micros", typ: typev1.FieldType_FIELD_TYPE_DATETIME,
			values:   []string{"", "2024-03-01T12:00:00", "2024-03-01T12:00:00.25-05:00", "2024-03-01T23:59:60"},
			wantType: locU,
			want: []want{nil, micros("2024-03-01T12:00:00Z"), micros("2024-03-01T17:00:00.25Z"),
				micros("2024-03-02T00:00:00Z")},
		},
		{
			name: "datetime naive nanos, fraction past nanoseconds dropped", typ: typev1.FieldType_FIELD_TYPE_DATETIME,
			values:   []string{"2024-03-01T12:00:00.0000000019", "2024-03-01T12:00:00Z"},
			wantType: locN,
			want:     []want{nanos("2024-03-01T12:00:00.000000001Z"), nanos("2024-03-01T12:00:00Z")},
		},
		{
			name: "datetime all null", typ: typev1.FieldType_FIELD_TYPE_DATETIME,
			values: []string{"", ""}, wantType: utcU, want: []want{nil, nil},
		},
		{
			name: "time", typ: typev1.FieldType_FIELD_TYPE_TIME,
			values:   []string{"00:00:00", "", "23:59:59.999999999", "12:30:00.5", "01:02:03.000004"},
			wantType: "OPTIONAL INT64 TIME(isAdjustedToUTC=false,unit=NANOS)",
			want: []want{int64(0), nil, int64(86399999999999), int64(45000500000000),
				int64(3723000004000)},
		},
		{
			name: "year", typ: typev1.FieldType_FIELD_TYPE_YEAR,
			values: []string{"2024", "", "0", "-44"}, wantType: "OPTIONAL INT32 INT(32,true)", want: []want{int32(2024), nil, int32(0), int32(-44)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A second column checks that rows stay aligned.
			s := schemaOf(fieldSpec{"v", tt.typ}, fieldSpec{"n", typev1.FieldType_FIELD_TYPE_INTEGER})
			var rows [][]string
			for i, v := range tt.values {
				rows = append(rows, []string{v, strconv.Itoa(i)})
			}
			var out bytes.Buffer
			n, err := Convert(context.Background(), bytes.NewReader(csvOf([]string{"v", "n"}, rows)), &out, s, Options{})
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			if n != int64(len(tt.values)) {
				t.Errorf("Convert wrote %d rows, want %d", n, len(tt.values))
			}
			names, types, got, _ := readBack(t, out.Bytes())
			if want := []string{"v", "n"}; !slices.Equal(names, want) {
				t.Errorf("columns %q, want %q", names, want)
			}
			if want := []string{tt.wantType, "OPTIONAL INT64 INT(64,true)"}; !slices.Equal(types, want) {
				t.Errorf("column types %q, want %q", types, want)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("read %d rows, want %d", len(got), len(tt.want))
			}
			for i, r := range got {
				if len(r) != 2 {
					t.Fatalf("row %d has %d values", i, len(r))
				}
				checkValue(t, i, r[0], tt.want[i])
				checkValue(t, i, r[1], int64(i))
			}
		})
	}
}

func TestColumnOrder(t *testing.T) {
	names := []string{"zeta", "alpha", "mid, with comma", "Beta"}
	var fs []fieldSpec
	for _, n := range names {
		fs = append(fs, fieldSpec{n, typev1.FieldType_FIELD_TYPE_STRING})
	}
	var out bytes.Buffer
	in := csvOf(names, [][]string{{"z", "a", "m", "b"}})
	if _, err := Convert(context.Background(), bytes.NewReader(in), &out, schemaOf(fs...), Options{}); err != nil {
		t.Fatal(err)
	}
	got, _, rows, _ := readBack(t, out.Bytes())
	if !slices.Equal(got, names) {
		t.Errorf("columns %q, want %q", got, names)
	}
	for i, w := range []string{"z", "a", "m", "b"} {
		checkValue(t, 0, rows[0][i], w)
	}
}

func TestConvertErrors(t *testing.T) {
	dt := fieldSpec{"ts", typev1.FieldType_FIELD_TYPE_DATETIME}
	num := fieldSpec{"price", typev1.FieldType_FIELD_TYPE_NUMBER}
	integer := fieldSpec{"qty", typev1.FieldType_FIELD_TYPE_INTEGER}
	tests := []struct {
		name   string
		schema *typev1.Schema
		in     string
		opts   Options
		want   *Error // nil: want wantIs
		wantIs error
	}{
		{
			name: "bad integer", schema: schemaOf(num, integer),
			in:   "price,qty\n1.5,2\n2.5,3x\n",
			want: &Error{Row: 3, Line: 3, Column: 2, Field: "qty", Msg: `"3x" is not an integer`},
		},
		{
			name: "integer overflow", schema: schemaOf(integer),
			in:   "qty\n9223372036854775808\n",
			want: &Error{Row: 2, Line: 2, Column: 1, Field: "qty", Msg: `"9223372036854775808" is not an integer`},
		},
		{
			name: "bad number after a multi-line row", schema: schemaOf(fieldSpec{"note", typev1.FieldType_FIELD_TYPE_STRING}, num),
			in:   "note,price\n\"a\nb\",1\nc,1..2\n",
			want: &Error{Row: 3, Line: 4, Column: 2, Field: "price", Msg: `"1..2" is not a number`},
		},
		{
			name: "bad boolean", schema: schemaOf(fieldSpec{"b", typev1.FieldType_FIELD_TYPE_BOOLEAN}),
			in:   "b\nTrue\n",
			want: &Error{Row: 2, Line: 2, Column: 1, Field: "b", Msg: `"True" is not a boolean ("true" or "false")`},
		},
		{
			name: "bad date", schema: schemaOf(fieldSpec{"d", typev1.FieldType_FIELD_TYPE_DATE}),
			in:   "d\n2023-02-29\n",
			want: &Error{Row: 2, Line: 2, Column: 1, Field: "d", Msg: `"2023-02-29" is not a date (2006-01-02)`},
		},
		{
			name: "bad time", schema: schemaOf(fieldSpec{"t", typev1.FieldType_FIELD_TYPE_TIME}),
			in:   "t\n24:00:00\n",
			want: &Error{Row: 2, Line: 2, Column: 1, Field: "t", Msg: `"24:00:00" is not a time (15:04:05[.fraction])`},
		},
		{
			name: "bad year", schema: schemaOf(fieldSpec{"y", typev1.FieldType_FIELD_TYPE_YEAR}),
			in:   "y\n3000000000\n",
			want: &Error{Row: 2, Line: 2, Column: 1, Field: "y", Msg: `"3000000000" is not a year`},
		},
		{
			name: "bad datetime reported in row order", schema: schemaOf(integer, dt),
			in: "qty,ts\n1,2024-01-01T00:00:00Z\n2,2024-01-01T00:00\nx,2024-01-01T00:00:00Z\n",
			want: &Error{Row: 3, Line: 3, Column: 2, Field: "ts",
				Msg: `"2024-01-01T00:00" is not a datetime (2006-01-02T15:04:05[.fraction][Z|+hh:mm])`},
		},
		{
			name: "nanoseconds after a microsecond row group", schema: schemaOf(dt),
			in:   "ts\n2024-01-01T00:00:00.5Z\n2024-01-01T00:00:00.000000001Z\n",
			opts: Options{RowGroupRows: 1},
			want: &Error{Row: 3, Line: 3, Column: 1, Field: "ts", Msg: `"2024-01-01T00:00:00.000000001Z" has a fraction finer than ` +
				`a microsecond, but the column holds microseconds (no value in the first row group was finer)`},
		},
		{
			name: "out of the nanosecond range", schema: schemaOf(dt),
			in: "ts\n2024-01-01T00:00:00.000000001Z\n2263-01-01T00:00:00Z\n",
			want: &Error{Row: 3, Line: 3, Column: 1, Field: "ts",
				Msg: `"2263-01-01T00:00:00Z" is out of the range of nanosecond timestamps (1677-09-21 to 2262-04-11)`},
		},
		{
			name: "missing cell", schema: schemaOf(num, integer),
			in:   "price,qty\n1.5,2\n2.5\n",
			want: &Error{Row: 3, Line: 3, Msg: "has 1 fields, want 2"},
		},
		{
			name: "header mismatch", schema: schemaOf(num, integer),
			in:   "price,quantity\n1.5,2\n",
			want: &Error{Row: 1, Line: 1, Column: 2, Field: "qty", Msg: `the header reads "quantity", the schema's field is "qty"`},
		},
		{
			name: "header too short", schema: schemaOf(num, integer),
			in:   "price\n1.5\n",
			want: &Error{Row: 1, Line: 1, Msg: "the header has 1 fields, the schema 2"},
		},
		{
			name: "no header", schema: schemaOf(num),
			in:   "",
			want: &Error{Row: 1, Line: 1, Msg: "no header row"},
		},
		{
			name: "bad quoting", schema: schemaOf(num, integer),
			in: "price,qty\n1,\"2\"x\n",
			// csvparse's own message, whatever it says.
			want: &Error{Row: 2, Line: 2, Column: 2, Field: "qty", Msg: "*"},
		},
		{
			// The first row group is read ahead to settle ts: a bad value
			// before a row that cannot be read is still the one reported.
			name: "bad value before a short row", schema: schemaOf(integer, dt),
			in:   "qty,ts\n1,2024-01-01T00:00:00Z\nx,2024-01-01T00:00:01Z\n3\n",
			want: &Error{Row: 3, Line: 3, Column: 1, Field: "qty", Msg: `"x" is not an integer`},
		},
		{
			name: "short row before a bad value", schema: schemaOf(integer, dt),
			in:   "qty,ts\n1,2024-01-01T00:00:00Z\n2\nx,2024-01-01T00:00:01Z\n",
			want: &Error{Row: 3, Line: 3, Msg: "has 1 fields, want 2"},
		},
		{
			name: "bad value before bad quoting", schema: schemaOf(integer, dt),
			in:   "qty,ts\nx,2024-01-01T00:00:00Z\n2,\"2024-01-01T00:00:01Z\"x\n",
			want: &Error{Row: 2, Line: 2, Column: 1, Field: "qty", Msg: `"x" is not an integer`},
		},
		{
			name: "bad value in a later row group", schema: schemaOf(integer, dt),
			in:   "qty,ts\n1,2024-01-01T00:00:00Z\n2,2024-01-01T00:00:01Z\n3,\n4,x\n",
			opts: Options{RowGroupRows: 2},
			want: &Error{Row: 5, Line: 5, Column: 2, Field: "ts",
				Msg: `"x" is not a datetime (2006-01-02T15:04:05[.fraction][Z|+hh:mm])`},
		},
		{name: "no fields", schema: schemaOf(), in: "a\n", wantIs: ErrSchema},
		{name: "unknown type", schema: schemaOf(fieldSpec{"a", typev1.FieldType_FIELD_TYPE_UNSPECIFIED}), in: "a\n", wantIs: ErrSchema},
		{name: "duplicate name", schema: schemaOf(num, num), in: "price,price\n", wantIs: ErrSchema},
	}
	for _, tt := range tests {
		for _, workers := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%s/workers=%d", tt.name, workers), func(t *testing.T) {
				opts := tt.opts
				opts.Workers = workers
				_, err := Convert(context.Background(), strings.NewReader(tt.in), io.Discard, tt.schema, opts)
				if tt.want == nil {
					if !errors.Is(err, tt.wantIs) {
						t.Fatalf("error %v, want %v", err, tt.wantIs)
					}
					return
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v (%T), want an *Error", err, err)
				}
				want := *tt.want
				if want.Msg == "*" && e.Msg != "" {
					want.Msg = e.Msg
				}
				if *e != want {
					t.Errorf("error %+v,\nwant  %+v", *e, want)
				}
			})
		}
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Row: 7, Line: 9, Column: 3, Field: "price", Msg: `"x" is not a number`}
	if got, want := e.Error(), `parquetout: row 7 (line 9), column 3 ("price"): "x" is not a number`; got != want {
		t.Errorf("Error() = %s, want %s", got, want)
	}
	e = &Error{Row: 7, Line: 9, Msg: "has 1 fields, want 2"}
	if got, want := e.Error(), `parquetout: row 7 (line 9): has 1 fields, want 2`; got != want {
		t.Errorf("Error() = %s, want %s", got, want)
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := csvOf([]string{"n"}, nil)
	for i := range 5000 {
		in = strconv.AppendInt(in, int64(i), 10)
		in = append(in, '\n')
	}
	_, err := Convert(ctx, bytes.NewReader(in), io.Discard, schemaOf(fieldSpec{"n", typev1.FieldType_FIELD_TYPE_INTEGER}), Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// genRow returns row i of the large file's values.
func genRow(i int) []string {
	ts := time.Date(2026, 1, 2, 9, 30, 0, 0, time.UTC).Add(time.Duration(i) * 1234567 * time.Nanosecond)
	price := ""
	if i%97 != 0 {
		price = strconv.FormatFloat(float64(i%10000)/100+0.25, 'f', -1, 64)
	}
	return []string{
		strconv.Itoa(i),
		ts.Format("2006-01-02T15:04:05.999999999Z07:00"),
		fmt.Sprintf("SYM%03d", i%400),
		price,
		strconv.FormatBool(i%3 == 0),
		ts.Format(time.DateOnly),
	}
}

func TestManyRowGroups(t *testing.T) {
	const n = 300_000
	s := schemaOf(
		fieldSpec{"id", typev1.FieldType_FIELD_TYPE_INTEGER},
		fieldSpec{"ts", typev1.FieldType_FIELD_TYPE_DATETIME},
		fieldSpec{"symbol", typev1.FieldType_FIELD_TYPE_STRING},
		fieldSpec{"price", typev1.FieldType_FIELD_TYPE_NUMBER},
		fieldSpec{"flag", typev1.FieldType_FIELD_TYPE_BOOLEAN},
		fieldSpec{"day", typev1.FieldType_FIELD_TYPE_DATE},
	)
	in := appendStrings(nil, []string{"id", "ts", "symbol", "price", "flag", "day"})
	for i := range n {
		in = appendStrings(in, genRow(i))
	}
	var out bytes.Buffer
	written, err := Convert(context.Background(), bytes.NewReader(in), &out, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if written != n {
		t.Fatalf("wrote %d rows, want %d", written, n)
	}
	_, types, rows, f := readBack(t, out.Bytes())
	if f.NumRows() != n || len(rows) != n {
		t.Fatalf("file has %d rows (%d read), want %d", f.NumRows(), len(rows), n)
	}
	var sizes []int64
	for _, rg := range f.RowGroups() {
		sizes = append(sizes, rg.NumRows())
	}
	if want := []int64{DefaultRowGroupRows, DefaultRowGroupRows, n - 2*DefaultRowGroupRows}; fmt.Sprint(sizes) != fmt.Sprint(want) {
		t.Errorf("row groups of %v rows, want %v", sizes, want)
	}
	// ts has nanosecond fractions from row 1 on, so it is NANOS.
	if types[1] != "OPTIONAL INT64 TIMESTAMP(isAdjustedToUTC=true,unit=NANOS)" {
		t.Errorf("ts is %s", types[1])
	}
	for i, r := range rows {
		g := genRow(i)
		var price want
		if g[3] != "" {
			p, _ := strconv.ParseFloat(g[3], 64)
			price = p
		}
		for c, w := range []want{int64(i), nanos(g[1]), g[2], price, i%3 == 0, days(g[5])} {
			checkValue(t, i, r[c], w)
		}
		if t.Failed() {
			t.Fatalf("row %d: %v", i, r)
		}
	}
}

// tradesSchema is the schema of tradegen's files.
func tradesSchema() *typev1.Schema {
	return schemaOf(
		fieldSpec{"timestamp", typev1.FieldType_FIELD_TYPE_DATETIME},
		fieldSpec{"symbol", typev1.FieldType_FIELD_TYPE_STRING},
		fieldSpec{"side", typev1.FieldType_FIELD_TYPE_STRING},
		fieldSpec{"price", typev1.FieldType_FIELD_TYPE_NUMBER},
		fieldSpec{"quantity", typev1.FieldType_FIELD_TYPE_INTEGER},
		fieldSpec{"notional", typev1.FieldType_FIELD_TYPE_NUMBER},
		fieldSpec{"venue", typev1.FieldType_FIELD_TYPE_STRING},
		fieldSpec{"note", typev1.FieldType_FIELD_TYPE_STRING},
	)
}

func TestTrades(t *testing.T) {
	var in bytes.Buffer
	st, err := tradegen.Write(&in, 2<<20)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	n, err := Convert(context.Background(), bytes.NewReader(in.Bytes()), &out, tradesSchema(), Options{RowGroupRows: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if n != st.Rows {
		t.Fatalf("wrote %d rows, want %d", n, st.Rows)
	}
	names, _, rows, _ := readBack(t, out.Bytes())
	if !slices.Equal(names, tradegen.Header) {
		t.Errorf("columns %q", names)
	}
	// Every value reads back as the CSV has it.
	r := csvparse.NewReader(bytes.NewReader(in.Bytes()), csvparse.Options{})
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		rec, err := r.Next()
		if err == io.EOF {
			if i != len(rows) {
				t.Fatalf("CSV has %d rows, Parquet %d", i, len(rows))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		f := rec.Fields
		var price, notional want
		if len(f[3]) > 0 {
			price, _ = strconv.ParseFloat(string(f[3]), 64)
			notional, _ = strconv.ParseFloat(string(f[5]), 64)
		}
		qty, _ := strconv.ParseInt(string(f[4]), 10, 64)
		var note want
		if len(f[7]) > 0 {
			note = string(f[7])
		}
		for c, w := range []want{micros(string(f[0])), string(f[1]), string(f[2]), price, qty, notional, string(f[6]), note} {
			checkValue(t, i, rows[i][c], w)
		}
		if t.Failed() {
			t.Fatalf("row %d: %q", i, f)
		}
	}
}

// BenchmarkConvert converts a 32 MB trades file (tradegen, already in
// normalized form); the MB/s are of CSV input.
func BenchmarkConvert(b *testing.B) {
	var in bytes.Buffer
	if _, err := tradegen.Write(&in, 32<<20); err != nil {
		b.Fatal(err)
	}
	s := tradesSchema()
	var out bytes.Buffer
	b.SetBytes(int64(in.Len()))
	for b.Loop() {
		out.Reset()
		if _, err := Convert(context.Background(), bytes.NewReader(in.Bytes()), &out, s, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(out.Len())/float64(in.Len()), "out/in")
}

func TestWideSchema(t *testing.T) {
	const cols, rows = 3000, 50 // batches of 21 rows
	var fs []fieldSpec
	var header []string
	for c := range cols {
		name := "c" + strconv.Itoa(c)
		fs = append(fs, fieldSpec{name, typev1.FieldType_FIELD_TYPE_INTEGER})
		header = append(header, name)
	}
	var in [][]string
	for r := range rows {
		row := make([]string, cols)
		for c := range row {
			row[c] = strconv.Itoa(r*cols + c)
		}
		in = append(in, row)
	}
	var out bytes.Buffer
	n, err := Convert(context.Background(), bytes.NewReader(csvOf(header, in)), &out, schemaOf(fs...), Options{})
	if err != nil || n != rows {
		t.Fatalf("Convert = %d, %v", n, err)
	}
	_, _, got, _ := readBack(t, out.Bytes())
	if len(got) != rows {
		t.Fatalf("read %d rows", len(got))
	}
	for r, row := range got {
		for c, v := range row {
			checkValue(t, r, v, int64(r*cols+c))
		}
	}
}

// TestWorkersSameOutput checks that the file does not depend on the number
// of workers, over row groups, pages and batches of many sizes.
func TestWorkersSameOutput(t *testing.T) {
	for _, tt := range []struct {
		size int64
		opts Options
	}{
		{1 << 20, Options{}},
		{512 << 10, Options{RowGroupRows: 1000, PageBufferBytes: 4 << 10, DictionaryBytes: 2 << 10}},
		{512 << 10, Options{RowGroupRows: 4096}}, // row groups of one full batch
		{8 << 10, Options{RowGroupRows: 7}},
	} {
		var in bytes.Buffer
		st, err := tradegen.Write(&in, tt.size)
		if err != nil {
			t.Fatal(err)
		}
		opts := tt.opts
		t.Run(fmt.Sprintf("rows=%d,page=%d", opts.RowGroupRows, opts.PageBufferBytes), func(t *testing.T) {
			var want []byte
			for _, workers := range []int{1, 2, 3, 10} {
				opts.Workers = workers
				var out bytes.Buffer
				n, err := Convert(context.Background(), bytes.NewReader(in.Bytes()), &out, tradesSchema(), opts)
				if err != nil {
					t.Fatalf("workers=%d: %v", workers, err)
				}
				if n != st.Rows {
					t.Errorf("workers=%d: wrote %d rows, want %d", workers, n, st.Rows)
				}
				if want == nil {
					want = out.Bytes()
					f, err := parquet.OpenFile(bytes.NewReader(want), int64(len(want)))
					if err != nil {
						t.Fatal(err)
					}
					if f.NumRows() != st.Rows {
						t.Fatalf("file has %d rows, want %d", f.NumRows(), st.Rows)
					}
					continue
				}
				if !bytes.Equal(out.Bytes(), want) {
					t.Errorf("workers=%d: the file differs from the one of 1 worker", workers)
				}
			}
		})
	}
}

// failingWriter fails once more than n bytes are written to it.
type failingWriter struct {
	n   int
	err error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, w.err
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	var in bytes.Buffer
	if _, err := tradegen.Write(&in, 1<<20); err != nil {
		t.Fatal(err)
	}
	errDisk := errors.New("disk full")
	for _, limit := range []int{0, 100, 50 << 10} {
		for _, workers := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("limit=%d/workers=%d", limit, workers), func(t *testing.T) {
				w := &failingWriter{n: limit, err: errDisk}
				opts := Options{RowGroupRows: 2000, Workers: workers}
				_, err := Convert(context.Background(), bytes.NewReader(in.Bytes()), w, tradesSchema(), opts)
				if !errors.Is(err, errDisk) {
					t.Errorf("error %v, want %v", err, errDisk)
				}
			})
		}
	}
}

// cancelingReader cancels a context once it has read n bytes.
type cancelingReader struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (r *cancelingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if r.n -= n; r.n <= 0 {
		r.cancel()
	}
	return n, err
}

func TestCanceledWhileConverting(t *testing.T) {
	var in bytes.Buffer
	st, err := tradegen.Write(&in, 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			src := &cancelingReader{r: bytes.NewReader(in.Bytes()), n: 3 << 19, cancel: cancel}
			n, err := Convert(ctx, src, io.Discard, tradesSchema(), Options{RowGroupRows: 10000, Workers: workers})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want context.Canceled", err)
			}
			// Canceled after 1.5 MiB of the 4 MiB were read.
			if n >= st.Rows/2 {
				t.Errorf("wrote %d rows of %d, want fewer than half", n, st.Rows)
			}
		})
	}
}

func TestHeaderOnly(t *testing.T) {
	for _, workers := range []int{1, 2} {
		var out bytes.Buffer
		s := schemaOf(fieldSpec{"a", typev1.FieldType_FIELD_TYPE_INTEGER}, fieldSpec{"b", typev1.FieldType_FIELD_TYPE_DATETIME})
		n, err := Convert(context.Background(), strings.NewReader("a,b\n"), &out, s, Options{Workers: workers})
		if err != nil || n != 0 {
			t.Fatalf("workers=%d: Convert = %d, %v", workers, n, err)
		}
		names, _, rows, f := readBack(t, out.Bytes())
		if !slices.Equal(names, []string{"a", "b"}) || len(rows) != 0 || len(f.RowGroups()) != 0 {
			t.Errorf("workers=%d: columns %q, %d rows, %d row groups", workers, names, len(rows), len(f.RowGroups()))
		}
	}
}

// BenchmarkConvertSerial is BenchmarkConvert with one worker.
func BenchmarkConvertSerial(b *testing.B) {
	var in bytes.Buffer
	if _, err := tradegen.Write(&in, 32<<20); err != nil {
		b.Fatal(err)
	}
	s := tradesSchema()
	var out bytes.Buffer
	b.SetBytes(int64(in.Len()))
	for b.Loop() {
		out.Reset()
		if _, err := Convert(context.Background(), bytes.NewReader(in.Bytes()), &out, s, Options{Workers: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
