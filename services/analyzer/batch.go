package analyzer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"unsafe"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/internal/csvparse"
)

// Bounds of one batch of rows. A batch ends after batchRows rows, after
// batchFields fields or once it holds batchBytes bytes of values, whichever
// comes first; it always holds at least one row, so one record longer than
// batchBytes makes a batch that long.
const (
	batchRows   = progressEvery
	batchFields = 64 << 10
	batchBytes  = 256 << 10
	// pipelineBatches is how many batches exist when parsing runs on its
	// own goroutine: one being filled, one being folded, the rest queued.
	pipelineBatches = 4
)

// batch is a run of consecutive data rows copied out of the parser's buffer,
// so that parsing and folding can run on different goroutines and columns
// can be folded one at a time.
type batch struct {
	data   []byte // the values, concatenated
	bounds []int  // value k of the batch is data[bounds[k]:bounds[k+1]]; row r, column c is value r*columns+c
	rows   int
	offset int64 // the input offset just past the batch's last row
	err    error // what ended the input after these rows: io.EOF, or an error to return; nil if more follow
}

// value returns value k.
func (b *batch) value(k int) []byte { return b.data[b.bounds[k]:b.bounds[k+1]:b.bounds[k+1]] }

// batcher fills batches from a csvparse.Reader.
type batcher struct {
	r       *csvparse.Reader
	p       *Partial // for the column names; read only
	header  bool     // the next record is the header
	records int64    // records read, header included
	rowCap  int
}

func newBatcher(r io.Reader, p *Partial, hasHeader bool) *batcher {
	opts := csvparse.Options{MaxFields: len(p.cols)}
	if p.maxRecordBytes > 0 {
		opts.MaxRecordBytes, opts.MaxFieldBytes = p.maxRecordBytes, p.maxRecordBytes
	}
	return &batcher{
		r:      csvparse.NewReader(r, opts),
		p:      p,
		header: hasHeader,
		rowCap: max(1, min(batchRows, batchFields/len(p.cols))),
	}
}

// fill reads the next rows into b. It returns nil if more may follow,
// io.EOF at the end of the input, an error wrapping ErrMalformedInput or
// ErrHeaderMismatch for bad input, and any other error of the reader as is.
func (bt *batcher) fill(b *batch) error {
	b.data, b.bounds, b.rows = b.data[:0], append(b.bounds[:0], 0), 0
	defer func() { b.offset = bt.r.InputOffset() }()
	for b.rows < bt.rowCap && len(b.data) < batchBytes {
		rec, err := bt.r.Next()
		if err == io.EOF {
			if bt.header {
				return fmt.Errorf("%w: no header row", ErrHeaderMismatch)
			}
			return io.EOF
		}
		bt.records++
		if err != nil {
			if _, ok := errors.AsType[*csvparse.RecordError](err); ok {
				return fmt.Errorf("%w: %w", ErrMalformedInput, err)
			}
			return err
		}
		if len(rec.Fields) != len(bt.p.cols) {
			return fmt.Errorf("%w: record %d has %d fields, the schema has %d", ErrMalformedInput, bt.records, len(rec.Fields), len(bt.p.cols))
		}
		if bt.header {
			bt.header = false
			names := make([]string, len(rec.Fields))
			for i, f := range rec.Fields {
				names[i] = string(f)
			}
			if err := bt.p.checkHeader(names); err != nil {
				return err
			}
			continue
		}
		for _, f := range rec.Fields {
			b.data = append(b.data, f...)
			b.bounds = append(b.bounds, len(b.data))
		}
		b.rows++
	}
	return nil
}

// scan reads every record of r into the accumulators. When more than one
// CPU is available, parsing runs on a goroutine of its own, a few batches
// ahead; scan does not return before that goroutine is done with r.
func (p *Partial) scan(ctx context.Context, r io.Reader, hasHeader bool, progress ProgressFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	bt := newBatcher(r, p, hasHeader)
	headerRows := int64(0)
	if hasHeader {
		headerRows = 1
	}
	// fold folds b and then handles the error that ended it; done is true
	// at the end of the input.
	fold := func(b *batch) (done bool, err error) {
		if err := p.addBatch(ctx, b, headerRows); err != nil {
			return true, err
		}
		if progress != nil && (b.rows > 0 || b.err != nil) {
			progress(b.offset, p.rows)
		}
		switch {
		case b.err == nil:
			return false, ctx.Err()
		case b.err == io.EOF:
			return true, ctx.Err()
		case errors.Is(b.err, ErrMalformedInput), errors.Is(b.err, ErrHeaderMismatch),
			errors.Is(b.err, context.Canceled), errors.Is(b.err, context.DeadlineExceeded):
			return true, b.err
		}
		return true, fmt.Errorf("read input: %w", b.err)
	}

	if p.sequential || runtime.GOMAXPROCS(0) < 2 {
		b := new(batch)
		for {
			b.err = bt.fill(b)
			if done, err := fold(b); done || err != nil {
				return err
			}
		}
	}

	free := make(chan *batch, pipelineBatches)
	full := make(chan *batch, pipelineBatches)
	for range pipelineBatches {
		free <- new(batch)
	}
	stop, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		for {
			var b *batch
			select {
			case b = <-free:
			case <-stop:
				return
			}
			if err := ctx.Err(); err != nil {
				b.data, b.bounds, b.rows, b.err = b.data[:0], b.bounds[:0], 0, err
			} else {
				b.err = bt.fill(b)
			}
			full <- b // never blocks: full holds every batch
			if b.err != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		<-exited
	}()
	for {
		b := <-full
		if done, err := fold(b); done || err != nil {
			return err
		}
		free <- b
	}
}

// addBatch folds the rows of b into the accumulators, one column at a
// time, spilling between columns when the budget is exceeded. A bad value
// fails the batch with the error of the first one in row order, as if rows
// were folded one after another.
func (p *Partial) addBatch(ctx context.Context, b *batch, headerRows int64) error {
	if b.rows == 0 {
		return nil
	}
	badRow := b.rows // rows from badRow on need not be folded
	var badErr error
	nn := len(p.numIdx)
	if p.corr != nil {
		p.corrBuf = slices.Grow(p.corrBuf[:0], b.rows*nn)[:b.rows*nn]
		for k := range p.corrBuf {
			p.corrBuf[k] = math.NaN()
		}
	}
	for i := range p.cols {
		row, err := p.addColumn(i, b, badRow)
		if err != nil && row < badRow {
			badRow, badErr = row, err
		}
		if p.mem > p.limit {
			if err := p.spill(ctx); err != nil {
				return err
			}
		}
	}
	if badErr != nil {
		return fmt.Errorf("%w: record %d: %w", ErrMalformedInput, headerRows+p.rows+int64(badRow)+1, badErr)
	}
	if p.corr != nil {
		for r := range b.rows {
			if err := p.corr.Add(p.corrBuf[r*nn:(r+1)*nn], nil); err != nil {
				return err
			}
		}
	}
	p.rows += int64(b.rows)
	return nil
}

// addColumn folds column i of the first n rows of b into its accumulator.
// It stops at the first value that does not parse and returns its row and
// the error.
func (p *Partial) addColumn(i int, b *batch, n int) (int, error) {
	c := &p.cols[i]
	nf, nf2 := len(p.cols), len(p.numIdx)
	switch c.typ {
	case typev1.FieldType_FIELD_TYPE_INTEGER:
		for r := range n {
			v := b.value(r*nf + i)
			if len(v) == 0 {
				c.nulls++
				continue
			}
			x, ok := parseInt(v)
			if !ok {
				return r, fmt.Errorf("column %d (%q): %q is not an integer", i+1, c.name, v)
			}
			p.mem += c.num.add(float64(x))
			c.count++
			if p.corr != nil {
				p.corrBuf[r*nf2+c.numK] = float64(x)
			}
		}
	case typev1.FieldType_FIELD_TYPE_NUMBER:
		for r := range n {
			v := b.value(r*nf + i)
			if len(v) == 0 {
				c.nulls++
				continue
			}
			x, ok := parseFloat(v)
			if !ok {
				return r, fmt.Errorf("column %d (%q): %q is not a number", i+1, c.name, v)
			}
			if x != x {
				// pandas counts NaN as missing.
				c.nulls++
				continue
			}
			p.mem += c.num.add(x)
			c.count++
			if p.corr != nil {
				p.corrBuf[r*nf2+c.numK] = x
			}
		}
	default:
		for r := range n {
			v := b.value(r*nf + i)
			if len(v) == 0 {
				c.nulls++
				continue
			}
			p.mem += c.cat.add(v, p.rows+int64(r))
			c.count++
			if c.dt != nil {
				p.mem += c.dt.add(v)
			}
		}
	}
	return n, nil
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat parses v as strconv.ParseFloat(v, 64) does and reports whether
// it succeeded. Plain decimals ([+-]digits[.digits]) with at most 15
// significant digits take a fast path whose result is the same: the digits
// as an integer are exact in a float64, so is the power of ten (at most
// 10^22), and one IEEE division of exact operands is correctly rounded.
// Everything else goes to strconv.
func parseFloat(v []byte) (float64, bool) {
	i, neg := 0, false
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg = v[0] == '-'
		i++
	}
	var m uint64
	digits, frac, dot := 0, 0, false
	for ; i < len(v); i++ {
		c := v[i]
		if c >= '0' && c <= '9' {
			m = m*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
			continue
		}
		if c == '.' && !dot {
			dot = true
			continue
		}
		digits = 99 // not a plain decimal
		break
	}
	if digits == 0 || digits > 15 || frac > 22 || (dot && (frac == 0 || frac == digits)) {
		x, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(v), len(v)), 64)
		return x, err == nil
	}
	x := float64(m) / pow10[frac]
	if neg {
		x = -x
	}
	return x, true
}

// parseInt parses v as strconv.ParseInt(v, 10, 64) does and reports whether
// it succeeded; up to 18 digits take a fast path.
func parseInt(v []byte) (int64, bool) {
	i, neg := 0, false
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg = v[0] == '-'
		i++
	}
	if n := len(v) - i; n == 0 || n > 18 {
		return parseIntSlow(v)
	}
	var x int64
	for ; i < len(v); i++ {
		c := v[i] - '0'
		if c > 9 {
			return parseIntSlow(v)
		}
		x = x*10 + int64(c)
	}
	if neg {
		x = -x
	}
	return x, true
}

func parseIntSlow(v []byte) (int64, bool) {
	x, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(v), len(v)), 10, 64)
	return x, err == nil
}
