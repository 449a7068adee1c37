// Package parquetout converts normalized CSV to Parquet in bounded memory.
//
// The input is the validator's normalized CSV: UTF-8, ',' and '"', a header
// row naming the schema's fields in order, and every value in the canonical
// text of its field's type (see the tableschema package), an empty field
// being a null. Every Parquet column is optional and named after its field:
//
//	string, any, duration, yearmonth  BYTE_ARRAY (STRING), dictionary-encoded
//	integer                           INT64 (INTEGER(64, signed))
//	number                            DOUBLE ("inf", "-inf" and "NaN" too)
//	boolean                           BOOLEAN
//	date                              INT32 (DATE: days since 1970-01-01)
//	datetime                          INT64 (TIMESTAMP, MICROS or NANOS), delta
//	time                              INT64 (TIME(NANOS), not adjusted to UTC)
//	year                              INT32 (INTEGER(32, signed))
//
// A Parquet column's timestamp unit and UTC adjustment are fixed for the whole
// file, while CSV values decide them one by one, so a datetime column is
// settled by the first row group, which Convert holds back until it is full:
//
//   - isAdjustedToUTC is true when the column's first non-null value has an
//     offset ("Z" or "+hh:mm"), and false (local, "naive" times) when it has
//     none. Either way a value with an offset is converted to UTC and a value
//     without one is written as it reads, so in a local column a later value
//     with an offset is written as its UTC time, and in a UTC column a later
//     naive value is taken to be UTC. A column with no value in the first row
//     group is adjusted to UTC.
//   - The unit is NANOS when a value of the first row group has a fraction
//     finer than a microsecond, MICROS otherwise (which spans years 0001 to
//     9999, while NANOS ends in 2262). A later value finer than the column's
//     unit, or out of its range, is an error rather than silently rounded.
//     Digits past nanoseconds are dropped.
//
// Pages are compressed with Zstd at its fastest level: on tradegen's trades
// it writes files about a quarter smaller than Snappy at nearly the same
// speed (the CSV parsing and Parquet encoding dominate), and every current
// Parquet reader (pyarrow, Spark, DuckDB, parquet-go) reads it.
//
// Memory is bounded by the row group: Options.RowGroupRows rows, of which the
// encoded pages are held until the row group is written, plus one page being
// built per column (Options.PageBufferBytes), plus, for the first row group
// of a schema with datetime fields, that row group's CSV text.
package parquetout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/internal/csvparse"
)

// Defaults used when an Options field is zero.
const (
	// DefaultRowGroupRows is the default bound on the rows of a row group.
	DefaultRowGroupRows = 128 * 1024
	// DefaultPageBufferBytes is the default bound on the uncompressed values
	// of the page being built, per column (256 KiB).
	DefaultPageBufferBytes = 256 << 10
	// DefaultDictionaryBytes is the default size past which a string
	// column's dictionary is dropped for plain encoding for the rest of the
	// row group (1 MiB).
	DefaultDictionaryBytes = 1 << 20
)

// batchRows and batchValues bound how many rows, and values, are handed to
// the Parquet writer at once.
const (
	batchRows   = 1024
	batchValues = 64 << 10
)

// Options configures Convert. The zero value uses the defaults.
type Options struct {
	// RowGroupRows bounds the rows of one row group; 0 means
	// DefaultRowGroupRows.
	RowGroupRows int64
	// PageBufferBytes bounds the uncompressed size of a page being built,
	// per column; 0 means DefaultPageBufferBytes.
	PageBufferBytes int
	// DictionaryBytes bounds a string column's dictionary per row group; 0
	// means DefaultDictionaryBytes.
	DictionaryBytes int64
}

// Error is a problem with one row, or with the header (Row 1), that stops
// the conversion.
type Error struct {
	// Row is the row number, the header being row 1.
	Row int64
	// Line is the physical line on which the row starts.
	Line int64
	// Column is the 1-based column, 0 for the whole row.
	Column int
	// Field is the column's field name, "" for the whole row.
	Field string
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("parquetout: row %d (line %d), column %d (%q): %s", e.Row, e.Line, e.Column, e.Field, e.Msg)
	}
	return fmt.Sprintf("parquetout: row %d (line %d): %s", e.Row, e.Line, e.Msg)
}

// ErrSchema is returned for a schema that cannot be converted.
var ErrSchema = errors.New("parquetout: unusable schema")

// kind is how a field's values are converted.
type kind int

const (
	kindString kind = iota
	kindInt64
	kindDouble
	kindBool
	kindDate
	kindDatetime
	kindTime
	kindYear
)

// column is one field being converted.
type column struct {
	name string
	kind kind
	// Datetime columns: settled from the first row group.
	settled  bool // the first non-null value has been seen
	adjusted bool // isAdjustedToUTC
	nanos    bool // NANOS rather than MICROS
}

func kindOf(t typev1.FieldType) (kind, bool) {
	switch t {
	case typev1.FieldType_FIELD_TYPE_STRING, typev1.FieldType_FIELD_TYPE_ANY,
		typev1.FieldType_FIELD_TYPE_DURATION, typev1.FieldType_FIELD_TYPE_YEARMONTH:
		return kindString, true
	case typev1.FieldType_FIELD_TYPE_INTEGER:
		return kindInt64, true
	case typev1.FieldType_FIELD_TYPE_NUMBER:
		return kindDouble, true
	case typev1.FieldType_FIELD_TYPE_BOOLEAN:
		return kindBool, true
	case typev1.FieldType_FIELD_TYPE_DATE:
		return kindDate, true
	case typev1.FieldType_FIELD_TYPE_DATETIME:
		return kindDatetime, true
	case typev1.FieldType_FIELD_TYPE_TIME:
		return kindTime, true
	case typev1.FieldType_FIELD_TYPE_YEAR:
		return kindYear, true
	}
	return 0, false
}

// node returns the column's Parquet node.
func (c *column) node() parquet.Node {
	var n parquet.Node
	switch c.kind {
	case kindString:
		n = parquet.Encoded(parquet.String(), &parquet.RLEDictionary)
	case kindInt64:
		n = parquet.Leaf(parquet.Int64Type)
	case kindDouble:
		n = parquet.Leaf(parquet.DoubleType)
	case kindBool:
		n = parquet.Leaf(parquet.BooleanType)
	case kindDate:
		n = parquet.Date()
	case kindDatetime:
		unit := parquet.Microsecond
		if c.nanos {
			unit = parquet.Nanosecond
		}
		// Timestamps mostly grow row by row: deltas pack them tightly.
		n = parquet.Encoded(parquet.TimestampAdjusted(unit, c.adjusted), &parquet.DeltaBinaryPacked)
	case kindTime:
		n = parquet.TimeAdjusted(parquet.Nanosecond, false)
	case kindYear:
		n = parquet.Leaf(parquet.Int32Type)
	}
	return parquet.Optional(n)
}

// Convert reads normalized CSV from src and writes it to dst as one Parquet
// file described by s, returning the number of data rows written. The header
// row must hold the schema's field names, in order. A value that is not in
// its type's canonical form is an *Error naming its row and column; on any
// error dst holds an incomplete file.
func Convert(ctx context.Context, src io.Reader, dst io.Writer, s *typev1.Schema, opts Options) (int64, error) {
	if opts.RowGroupRows <= 0 {
		opts.RowGroupRows = DefaultRowGroupRows
	}
	if opts.PageBufferBytes <= 0 {
		opts.PageBufferBytes = DefaultPageBufferBytes
	}
	if opts.DictionaryBytes <= 0 {
		opts.DictionaryBytes = DefaultDictionaryBytes
	}
	cols, err := columnsOf(s)
	if err != nil {
		return 0, err
	}
	cv := &converter{ctx: ctx, cols: cols, r: csvparse.NewReader(src, csvparse.Options{}), opts: opts}
	if err := cv.header(); err != nil {
		return 0, err
	}
	if err := cv.firstRowGroup(); err != nil {
		return 0, err
	}
	cv.w = parquet.NewWriter(dst, parquet.NewSchema("schema", cv.group()),
		parquet.MaxRowsPerRowGroup(opts.RowGroupRows),
		parquet.PageBufferSize(opts.PageBufferBytes),
		parquet.DictionaryMaxBytes(opts.DictionaryBytes),
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}),
		parquet.CreatedBy("csvmesh", "", ""),
	)
	if err := cv.writeHeld(); err != nil {
		return cv.written, err
	}
	if err := cv.stream(); err != nil {
		return cv.written, err
	}
	if err := cv.flush(); err != nil {
		return cv.written, err
	}
	if err := cv.w.Close(); err != nil {
		return cv.written, fmt.Errorf("parquetout: write: %w", err)
	}
	return cv.written, nil
}

// columnsOf checks the schema and returns its columns.
func columnsOf(s *typev1.Schema) ([]column, error) {
	fields := s.GetFields()
	if len(fields) == 0 {
		return nil, fmt.Errorf("%w: no fields", ErrSchema)
	}
	if len(fields) > parquet.MaxColumnIndex+1 {
		return nil, fmt.Errorf("%w: %d fields, Parquet takes at most %d", ErrSchema, len(fields), parquet.MaxColumnIndex+1)
	}
	cols := make([]column, len(fields))
	seen := make(map[string]bool, len(fields))
	for i, f := range fields {
		k, ok := kindOf(f.GetType())
		if !ok {
			return nil, fmt.Errorf("%w: field %d (%q) has type %v", ErrSchema, i+1, f.GetName(), f.GetType())
		}
		if seen[f.GetName()] {
			return nil, fmt.Errorf("%w: field name %q appears twice", ErrSchema, f.GetName())
		}
		seen[f.GetName()] = true
		cols[i] = column{name: f.GetName(), kind: k, adjusted: true}
	}
	return cols, nil
}

// converter is the state of one Convert.
type converter struct {
	ctx  context.Context
	cols []column
	r    *csvparse.Reader
	opts Options
	w    *parquet.Writer

	held held // the first row group, when held back

	rows    []parquet.Row   // the batch
	values  []parquet.Value // backs rows
	arena   []byte          // backs the batch's byte arrays
	written int64
}

// header reads and checks the header row.
func (cv *converter) header() error {
	rec, err := cv.r.Next()
	if err == io.EOF {
		return &Error{Row: 1, Line: 1, Msg: "no header row"}
	}
	if err != nil {
		return cv.readError(err)
	}
	if len(rec.Fields) != len(cv.cols) {
		return &Error{Row: rec.Number, Line: rec.Line, Msg: fmt.Sprintf("the header has %d fields, the schema %d", len(rec.Fields), len(cv.cols))}
	}
	for i, f := range rec.Fields {
		if string(f) != cv.cols[i].name {
			return &Error{Row: rec.Number, Line: rec.Line, Column: i + 1, Field: cv.cols[i].name,
				Msg: fmt.Sprintf("the header reads %q, the schema's field is %q", f, cv.cols[i].name)}
		}
	}
	return nil
}

// readError turns a reading error into an *Error where it is about a row.
func (cv *converter) readError(err error) error {
	var re *csvparse.RecordError
	if errors.As(err, &re) {
		e := &Error{Row: re.Record, Line: re.Line, Column: re.Column, Msg: re.Msg}
		if re.Column > 0 && re.Column <= len(cv.cols) {
			e.Field = cv.cols[re.Column-1].name
		}
		return e
	}
	return fmt.Errorf("parquetout: read: %w", err)
}

// next reads the next data record, checking its width; it returns nil at the
// end of the input.
func (cv *converter) next() (*csvparse.Record, error) {
	rec, err := cv.r.Next()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, cv.readError(err)
	}
	if len(rec.Fields) != len(cv.cols) {
		return nil, &Error{Row: rec.Number, Line: rec.Line, Msg: fmt.Sprintf("has %d fields, want %d", len(rec.Fields), len(cv.cols))}
	}
	if rec.Number&1023 == 0 {
		if err := cv.ctx.Err(); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// held is the text of the first row group's records, kept while datetime
// columns are being settled.
type held struct {
	text   []byte
	ends   []int // per field, its end in text; a row's fields follow its previous row's
	number []int64
	line   []int64
}

// firstRowGroup holds back the first row group when there are datetime
// columns, and settles them.
func (cv *converter) firstRowGroup() error {
	var dt []int
	for i := range cv.cols {
		if cv.cols[i].kind == kindDatetime {
			dt = append(dt, i)
		}
	}
	if len(dt) == 0 {
		return nil
	}
	h := &cv.held
	for int64(len(h.number)) < cv.opts.RowGroupRows {
		rec, err := cv.next()
		if err != nil {
			return err
		}
		if rec == nil {
			break
		}
		for _, f := range rec.Fields {
			h.text = append(h.text, f...)
			h.ends = append(h.ends, len(h.text))
		}
		h.number = append(h.number, rec.Number)
		h.line = append(h.line, rec.Line)
		for _, i := range dt {
			c := &cv.cols[i]
			if len(rec.Fields[i]) == 0 {
				continue
			}
			d, ok := parseDatetime(rec.Fields[i])
			if !ok {
				continue // reported in order when the row is written
			}
			if !c.settled {
				c.settled, c.adjusted = true, d.offset
			}
			if d.nsec%1000 != 0 {
				c.nanos = true
			}
		}
	}
	return nil
}

// writeHeld writes the held-back rows.
func (cv *converter) writeHeld() error {
	h := &cv.held
	fields := make([][]byte, len(cv.cols))
	start, k := 0, 0
	for r := range h.number {
		for i := range fields {
			fields[i] = h.text[start:h.ends[k]]
			start = h.ends[k]
			k++
		}
		if err := cv.add(fields, h.number[r], h.line[r]); err != nil {
			return err
		}
	}
	cv.held = held{}
	return nil
}

// stream converts the remaining rows.
func (cv *converter) stream() error {
	for {
		rec, err := cv.next()
		if err != nil {
			return err
		}
		if rec == nil {
			return nil
		}
		if err := cv.add(rec.Fields, rec.Number, rec.Line); err != nil {
			return err
		}
	}
}

// add converts one row into the batch, writing the batch when it is full.
func (cv *converter) add(fields [][]byte, number, line int64) error {
	n := len(cv.cols)
	if cv.values == nil {
		rows := min(max(batchValues/n, 1), batchRows)
		cv.values = make([]parquet.Value, rows*n)
		cv.rows = make([]parquet.Row, 0, rows)
	}
	row := cv.values[len(cv.rows)*n : (len(cv.rows)+1)*n : (len(cv.rows)+1)*n]
	for i, f := range fields {
		v := &row[i]
		if len(f) == 0 {
			*v = parquet.NullValue() // definition level 0
		} else {
			if msg := cv.value(v, &cv.cols[i], f); msg != "" {
				return &Error{Row: number, Line: line, Column: i + 1, Field: cv.cols[i].name, Msg: msg}
			}
			v.SetDefinitionLevel(1)
		}
		v.SetColumnIndex(i)
	}
	cv.rows = append(cv.rows, row)
	if len(cv.rows) == cap(cv.rows) || len(cv.arena) >= 1<<20 {
		return cv.flush()
	}
	return nil
}

// flush hands the batch to the Parquet writer.
func (cv *converter) flush() error {
	if len(cv.rows) == 0 {
		return nil
	}
	n, err := cv.w.WriteRows(cv.rows)
	cv.written += int64(n)
	if err != nil {
		return fmt.Errorf("parquetout: write: %w", err)
	}
	cv.rows = cv.rows[:0]
	cv.arena = cv.arena[:0]
	return nil
}

// value converts f, a non-empty field, into v, or says why it cannot.
func (cv *converter) value(v *parquet.Value, c *column, f []byte) (msg string) {
	switch c.kind {
	case kindString:
		start := len(cv.arena)
		cv.arena = append(cv.arena, f...)
		*v = parquet.ByteArrayValue(cv.arena[start:len(cv.arena):len(cv.arena)])
		return ""
	case kindInt64:
		x, err := strconv.ParseInt(string(f), 10, 64)
		if err != nil {
			return fmt.Sprintf("%s is not an integer", quote(f))
		}
		*v = parquet.Int64Value(x)
		return ""
	case kindDouble:
		x, err := strconv.ParseFloat(string(f), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return fmt.Sprintf("%s is not a number", quote(f))
		}
		*v = parquet.DoubleValue(x)
		return ""
	case kindBool:
		switch string(f) {
		case "true":
			*v = parquet.BooleanValue(true)
			return ""
		case "false":
			*v = parquet.BooleanValue(false)
			return ""
		}
		return fmt.Sprintf(`%s is not a boolean ("true" or "false")`, quote(f))
	case kindDate:
		days, ok := parseDate(f)
		if !ok || days != int64(int32(days)) {
			return fmt.Sprintf("%s is not a date (2006-01-02)", quote(f))
		}
		*v = parquet.Int32Value(int32(days))
		return ""
	case kindDatetime:
		d, ok := parseDatetime(f)
		if !ok {
			return fmt.Sprintf("%s is not a datetime (2006-01-02T15:04:05[.fraction][Z|+hh:mm])", quote(f))
		}
		x, msg := d.timestamp(c.nanos)
		if msg != "" {
			return fmt.Sprintf("%s %s", quote(f), msg)
		}
		*v = parquet.Int64Value(x)
		return ""
	case kindTime:
		ns, ok := parseTime(f)
		if !ok {
			return fmt.Sprintf("%s is not a time (15:04:05[.fraction])", quote(f))
		}
		*v = parquet.Int64Value(ns)
		return ""
	case kindYear:
		x, err := strconv.ParseInt(string(f), 10, 32)
		if err != nil {
			return fmt.Sprintf("%s is not a year", quote(f))
		}
		*v = parquet.Int32Value(int32(x))
		return ""
	}
	panic("parquetout: unknown kind")
}

// quote quotes a value for a message, cut to 256 bytes.
func quote(f []byte) string {
	if len(f) > 256 {
		return strconv.Quote(string(f[:256])) + "..."
	}
	return strconv.Quote(string(f))
}

// group returns the root node: the columns in the schema's order (a
// parquet.Group would sort them by name).
func (cv *converter) group() parquet.Node {
	g := make(orderedGroup, len(cv.cols))
	for i := range cv.cols {
		g[i] = &namedNode{Node: cv.cols[i].node(), name: cv.cols[i].name}
	}
	return g
}

// orderedGroup is a Parquet group node whose fields keep their order.
type orderedGroup []parquet.Field

func (g orderedGroup) ID() int                     { return 0 }
func (g orderedGroup) String() string              { return fmt.Sprintf("group of %d fields", len(g)) }
func (g orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Fields() []parquet.Field     { return g }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }
func (g orderedGroup) GoType() reflect.Type        { return reflect.TypeFor[map[string]any]() }

// namedNode is a field of an orderedGroup.
type namedNode struct {
	parquet.Node
	name string
}

func (n *namedNode) Name() string { return n.name }

// Value is not used: rows are written as parquet.Row values.
func (n *namedNode) Value(reflect.Value) reflect.Value { return reflect.Value{} }
