package parquetout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/parquet-go/parquet-go"

	"github.com/csvmesh/csvmesh/services/internal/csvparse"
)

// Bounds of a batch: the rows converted together and handed to the Parquet
// writer column by column.
const (
	// batchRows bounds a batch's rows.
	batchRows = 4096
	// batchValues bounds a batch's values (rows times columns).
	batchValues = 64 << 10
	// batchTextBytes bounds the string bytes copied into a batch: a batch
	// ends at the row that reaches it.
	batchTextBytes = 1 << 20
)

// batch is a run of converted rows, held column by column.
type batch struct {
	rows int
	// g is the row group the rows belong to, and last marks its last batch.
	g    *group
	last bool
	// refs counts the workers yet to write the batch.
	refs atomic.Int32
	// cols holds each column's values, the first rows of them in use.
	cols [][]parquet.Value
	// text backs the batch's byte array values.
	text []byte
}

func newBatch(ncols int) *batch {
	rows := min(max(batchValues/ncols, 1), batchRows)
	b := &batch{cols: make([][]parquet.Value, ncols)}
	vals := make([]parquet.Value, rows*ncols)
	for i := range b.cols {
		b.cols[i] = vals[i*rows : (i+1)*rows : (i+1)*rows]
	}
	return b
}

// full reports whether the batch takes no more rows.
func (b *batch) full() bool {
	return b.rows == len(b.cols[0]) || len(b.text) >= batchTextBytes
}

func (b *batch) reset() {
	b.rows = 0
	b.g, b.last = nil, false
	b.text = b.text[:0]
}

// parser reads the records and converts them into batches.
type parser struct {
	ctx  context.Context
	cols []column
	src  *source
}

// readError turns a reading error into an *Error where it is about a row.
func (p *parser) readError(err error) error {
	var re *csvparse.RecordError
	if errors.As(err, &re) {
		e := &Error{Row: re.Record, Line: re.Line, Column: re.Column, Msg: re.Msg}
		if re.Column > 0 && re.Column <= len(p.cols) {
			e.Field = p.cols[re.Column-1].name
		}
		return e
	}
	return fmt.Errorf("parquetout: read: %w", err)
}

// header reads and checks the header row.
func (p *parser) header() error {
	rec, err := p.src.next()
	if err == io.EOF {
		return &Error{Row: 1, Line: 1, Msg: "no header row"}
	}
	if err != nil {
		return p.readError(err)
	}
	if len(rec.Fields) != len(p.cols) {
		return &Error{Row: rec.Number, Line: rec.Line, Msg: fmt.Sprintf("the header has %d fields, the schema %d", len(rec.Fields), len(p.cols))}
	}
	for i, f := range rec.Fields {
		if string(f) != p.cols[i].name {
			return &Error{Row: rec.Number, Line: rec.Line, Column: i + 1, Field: p.cols[i].name,
				Msg: fmt.Sprintf("the header reads %q, the schema's field is %q", f, p.cols[i].name)}
		}
	}
	return nil
}

// next reads the next data record, checking its width; it returns nil at the
// end of the input.
func (p *parser) next() (*csvparse.Record, error) {
	rec, err := p.src.next()
	if err != nil {
		if err == io.EOF {
			return nil, nil
		}
		return nil, p.readError(err)
	}
	if len(rec.Fields) != len(p.cols) {
		return nil, &Error{Row: rec.Number, Line: rec.Line, Msg: fmt.Sprintf("has %d fields, want %d", len(rec.Fields), len(p.cols))}
	}
	return rec, nil
}

// settleCheck is how often, in rows, settle checks the context.
const settleCheck = 4096

// settle reads the first row group, when the schema has datetime columns,
// to settle their unit and UTC adjustment, keeping its blocks; then it
// rewinds the source to the first data row. It stops early, leaving the
// problem to be reported in row order, at a record it cannot read.
func (p *parser) settle(rowGroupRows int64) error {
	var dt []int
	for i := range p.cols {
		if p.cols[i].kind == kindDatetime {
			dt = append(dt, i)
		}
	}
	p.src.keep = len(dt) > 0
	if err := p.header(); err != nil {
		return err
	}
	for n := int64(0); n < rowGroupRows && len(dt) > 0; n++ {
		if n%settleCheck == 0 {
			if err := p.ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := p.next()
		if err != nil || rec == nil {
			break
		}
		for _, i := range dt {
			c := &p.cols[i]
			f := rec.Fields[i]
			if len(f) == 0 {
				continue
			}
			d, ok := parseDatetime(f, &c.dates)
			if !ok {
				continue // reported in order when the row is converted
			}
			if !c.settled {
				c.settled, c.adjusted = true, d.offset
			}
			if d.nsec%1000 != 0 {
				c.nanos = true
			}
		}
	}
	if p.src.keep {
		p.src.rewind()
		if _, err := p.src.next(); err != nil { // the header, checked
			return p.readError(err)
		}
	}
	return nil
}

// fill converts rows into b until it is full, holds limit rows, or the
// input ends; it returns io.EOF, with the rows converted, at the end of the
// input.
func (p *parser) fill(b *batch, limit int) error {
	if err := p.ctx.Err(); err != nil {
		return err
	}
	for b.rows < limit && !b.full() {
		rec, err := p.next()
		if err != nil {
			return err
		}
		if rec == nil {
			return io.EOF
		}
		if err := p.convert(b, rec); err != nil {
			return err
		}
	}
	return nil
}

// convert appends rec to b.
func (p *parser) convert(b *batch, rec *csvparse.Record) error {
	r := b.rows
	for i, f := range rec.Fields {
		v := &b.cols[i][r]
		if len(f) == 0 {
			*v = parquet.Value{} // definition level 0
		} else if c := &p.cols[i]; c.kind == kindString {
			start := len(b.text)
			b.text = append(b.text, f...)
			*v = parquet.ByteArrayValue(b.text[start:len(b.text):len(b.text)])
			v.SetDefinitionLevel(1)
		} else {
			if msg := value(v, c, f); msg != "" {
				return &Error{Row: rec.Number, Line: rec.Line, Column: i + 1, Field: c.name, Msg: msg}
			}
			v.SetDefinitionLevel(1)
		}
		v.SetColumnIndex(i)
	}
	b.rows++
	return nil
}

// value converts f, a non-empty field of a column that is not a string
// one, into v, or says why it cannot.
func value(v *parquet.Value, c *column, f []byte) (msg string) {
	switch c.kind {
	case kindInt64:
		x, ok := parseInt(f, 64)
		if !ok {
			return fmt.Sprintf("%s is not an integer", quote(f))
		}
		*v = parquet.Int64Value(x)
	case kindDouble:
		x, ok := parseFloat(f)
		if !ok {
			return fmt.Sprintf("%s is not a number", quote(f))
		}
		*v = parquet.DoubleValue(x)
	case kindBool:
		switch string(f) {
		case "true":
			*v = parquet.BooleanValue(true)
		case "false":
			*v = parquet.BooleanValue(false)
		default:
			return fmt.Sprintf(`%s is not a boolean ("true" or "false")`, quote(f))
		}
	case kindDate:
		days, ok := c.dates.parse(f)
		if !ok || days != int64(int32(days)) {
			return fmt.Sprintf("%s is not a date (2006-01-02)", quote(f))
		}
		*v = parquet.Int32Value(int32(days))
	case kindDatetime:
		d, ok := parseDatetime(f, &c.dates)
		if !ok {
			return fmt.Sprintf("%s is not a datetime (2006-01-02T15:04:05[.fraction][Z|+hh:mm])", quote(f))
		}
		x, msg := d.timestamp(c.nanos)
		if msg != "" {
			return fmt.Sprintf("%s %s", quote(f), msg)
		}
		*v = parquet.Int64Value(x)
	case kindTime:
		ns, ok := parseTime(f)
		if !ok {
			return fmt.Sprintf("%s is not a time (15:04:05[.fraction])", quote(f))
		}
		*v = parquet.Int64Value(ns)
	case kindYear:
		x, ok := parseInt(f, 32)
		if !ok {
			return fmt.Sprintf("%s is not a year", quote(f))
		}
		*v = parquet.Int32Value(int32(x))
	default:
		panic("parquetout: unknown kind")
	}
	return ""
}
