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
// The CSV is cut into blocks of whole records (csvparse.Splitter) and parsed
// in place; rows are converted into batches of typed values, column by
// column, and each column's values are handed to its Parquet column writer
// in bulk. With Options.Workers above 1 the work is pipelined: the calling
// goroutine parses batches and writes some of the columns, and each other
// worker writes the rest of the columns on a goroutine of its own, taking
// the batches in order from a bounded queue. The columns are shared out per
// row group by the time each took (first by estimates), so that every
// worker has about the same work. The output does not depend on the number
// of workers.
//
// Memory is bounded by the row group: Options.RowGroupRows rows, of which the
// encoded pages are held until the row group is written, plus one page being
// built per column (Options.PageBufferBytes), plus, for the first row group
// of a schema with datetime fields, that row group's CSV text. With more than
// one worker, a second row group is started (with its own pages being
// built) while the last batches of the previous one are written. Besides,
// a few CSV blocks of about 1 MiB, and a few batches of at most 64Ki values
// and 1 MiB of text each (one, with a single worker) are in use at once.
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
	// DefaultWorkers is the default number of goroutines converting: one
	// parsing, one encoding.
	DefaultWorkers = 2
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
	// Workers is the number of goroutines converting: 1 does everything on
	// the calling goroutine; with n > 1, n-1 more goroutines write Parquet
	// columns while the calling one parses the CSV (and writes the rest of
	// the columns). More workers than the columns plus one are not used,
	// and more than the free CPUs only add overhead. 0 means DefaultWorkers.
	Workers int
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
	// Date and datetime columns: the last date parsed.
	dates dateCache
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
// error dst holds an incomplete file. The first row that cannot be read or
// converted is the one reported.
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
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	cols, err := columnsOf(s)
	if err != nil {
		return 0, err
	}
	p := &parser{ctx: ctx, cols: cols, src: newSource(src, 0)}
	defer p.src.close()
	if err := p.settle(opts.RowGroupRows); err != nil {
		return 0, err
	}
	w := parquet.NewWriter(dst, parquet.NewSchema("schema", rootNode(cols)),
		parquet.MaxRowsPerRowGroup(opts.RowGroupRows),
		parquet.PageBufferSize(opts.PageBufferBytes),
		parquet.DictionaryMaxBytes(opts.DictionaryBytes),
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}),
		parquet.CreatedBy("csvmesh", "", ""),
	)
	wr := newWriter(w, cols, opts)
	err = newConversion(p, wr).run()
	return wr.written.Load(), err
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

// quote quotes a value for a message, cut to 256 bytes.
func quote(f []byte) string {
	if len(f) > 256 {
		return strconv.Quote(string(f[:256])) + "..."
	}
	return strconv.Quote(string(f))
}

// rootNode returns the root node: the columns in the schema's order (a
// parquet.Group would sort them by name).
func rootNode(cols []column) parquet.Node {
	g := make(orderedGroup, len(cols))
	for i := range cols {
		g[i] = &namedNode{Node: cols[i].node(), name: cols[i].name}
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

// Value is not used: values are written column by column as parquet.Value.
func (n *namedNode) Value(reflect.Value) reflect.Value { return reflect.Value{} }
