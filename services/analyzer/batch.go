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
	"sync"
	"sync/atomic"
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
	data  []byte // the rows' text and the values that are not part of it
	spans []int  // value k of the batch is data[spans[2k]:spans[2k+1]]; row r, column c is value r*columns+c
	// The values of the typed columns (numeric, date and datetime ones),
	// parsed by the batcher so that the parsing runs on the parser's
	// goroutine: row r, typed column t is vals[r*typed+t] with its state
	// in states, where typed is the number of typed columns. A numeric
	// value is a float64 (an integer converted), a time the int64
	// nanoseconds of parseTimestamp, both as their bits.
	vals   []uint64
	states []valState
	rows   int
	offset int64 // the input offset just past the batch's last row
	err    error // what ended the input after these rows: io.EOF, or an error to return; nil if more follow
}

// value returns value k.
func (b *batch) value(k int) []byte {
	end := b.spans[2*k+1]
	return b.data[b.spans[2*k]:end:end]
}

// valState is the state of a typed value of a batch.
type valState uint8

const (
	valMissing valState = iota // an empty field
	valOK                      // parsed
	valBad                     // not of the column's type (for a time: not a form parseTimestamp reads)
)

// batcher fills batches from a csvparse.Reader.
type batcher struct {
	r       *csvparse.Reader
	p       *Partial // for the column names and types; read only
	header  bool     // the next record is the header
	records int64    // records read, header included
	rowCap  int
	typed   []int      // the indexes of the typed columns (see batch.vals)
	days    []dayCache // by typed column, for the date and datetime ones
}

func newBatcher(r io.Reader, p *Partial, hasHeader bool) *batcher {
	opts := csvparse.Options{MaxFields: len(p.cols)}
	if p.maxRecordBytes > 0 {
		opts.MaxRecordBytes, opts.MaxFieldBytes = p.maxRecordBytes, p.maxRecordBytes
	}
	bt := &batcher{
		r:      csvparse.NewReader(r, opts),
		p:      p,
		header: hasHeader,
		rowCap: max(1, min(batchRows, batchFields/len(p.cols))),
	}
	for i := range p.cols {
		if p.cols[i].typedK >= 0 {
			bt.typed = append(bt.typed, i)
		}
	}
	bt.days = make([]dayCache, len(bt.typed))
	return bt
}

// parseTyped parses the value v of a typed column of type t; days is the
// column's cache.
func parseTyped(t typev1.FieldType, v []byte, days *dayCache) (uint64, valState) {
	if len(v) == 0 {
		return 0, valMissing
	}
	var x uint64
	ok := false
	switch t {
	case typev1.FieldType_FIELD_TYPE_INTEGER:
		var i int64
		i, ok = parseInt(v)
		x = math.Float64bits(float64(i))
	case typev1.FieldType_FIELD_TYPE_NUMBER:
		var f float64
		f, ok = parseFloat(v)
		x = math.Float64bits(f)
	default: // DATE, DATETIME
		var ns int64
		ns, ok = days.parseTimestamp(v)
		x = uint64(ns)
	}
	if !ok {
		return 0, valBad
	}
	return x, valOK
}

// fill reads the next rows into b. It returns nil if more may follow,
// io.EOF at the end of the input, an error wrapping ErrMalformedInput or
// ErrHeaderMismatch for bad input, and any other error of the reader as is.
func (bt *batcher) fill(b *batch) error {
	b.data, b.spans, b.rows = b.data[:0], b.spans[:0], 0
	b.vals, b.states = b.vals[:0], b.states[:0]
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
		b.appendRecord(rec)
		for t, i := range bt.typed {
			x, st := parseTyped(bt.p.cols[i].typ, rec.Fields[i], &bt.days[t])
			b.vals = append(b.vals, x)
			b.states = append(b.states, st)
		}
		b.rows++
	}
	return nil
}

// appendRecord copies the fields of rec into b. Fields that are part of
// the record's text (all of them unless quoted with doubled quotes) are
// copied with it in one go, the others one by one.
func (b *batch) appendRecord(rec *csvparse.Record) {
	raw := rec.Raw
	base := len(b.data)
	b.data = append(b.data, raw...)
	rp := uintptr(unsafe.Pointer(unsafe.SliceData(raw)))
	for _, f := range rec.Fields {
		if len(f) == 0 {
			b.spans = append(b.spans, 0, 0)
			continue
		}
		// An offset from another buffer wraps around and fails the test.
		if off := uintptr(unsafe.Pointer(unsafe.SliceData(f))) - rp; off <= uintptr(len(raw)) && uintptr(len(f)) <= uintptr(len(raw))-off {
			start := base + int(off)
			b.spans = append(b.spans, start, start+len(f))
			continue
		}
		start := len(b.data)
		b.data = append(b.data, f...)
		b.spans = append(b.spans, start, len(b.data))
	}
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
				b.data, b.spans, b.rows, b.err = b.data[:0], b.spans[:0], 0, err
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

// addBatch folds the rows of b into the accumulators. A bad value fails the
// batch with the error of the first one in row order (of the leftmost column
// among those failing on that row), as if rows were folded one after
// another.
//
// Columns are independent, so with two or more CPUs (and at least two
// columns to fold) they are folded on two goroutines, the calling one and
// one per batch, each taking the next column of foldOrder (the costliest
// first) until none is left; the budget is checked, and columns spilled,
// after the batch. Otherwise columns are folded one after another, with
// the budget checked between them.
func (p *Partial) addBatch(ctx context.Context, b *batch, headerRows int64) error {
	if b.rows == 0 {
		return nil
	}
	badRow := b.rows // rows from badRow on need not be folded
	var badErr error
	nn := len(p.numIdx)
	if p.corr != nil && nn > 1 {
		p.corrBuf = slices.Grow(p.corrBuf[:0], b.rows*nn)[:b.rows*nn]
		for k := range p.corrBuf {
			p.corrBuf[k] = math.NaN()
		}
	}
	if p.parallelFold {
		res := p.foldResults
		var next atomic.Int32
		work := func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= len(p.foldOrder) {
					return
				}
				i := p.foldOrder[k]
				res[i].row, res[i].mem, res[i].err = p.addColumn(i, b, b.rows)
			}
		}
		var wg sync.WaitGroup
		wg.Go(work)
		work()
		wg.Wait()
		for i := range res {
			p.mem += res[i].mem
			if res[i].err != nil && res[i].row < badRow {
				badRow, badErr = res[i].row, res[i].err
			}
			res[i] = foldResult{}
		}
		if p.mem > p.limit {
			if err := p.spill(ctx); err != nil {
				return err
			}
		}
	} else {
		for i := range p.cols {
			if p.cols[i].skip {
				continue
			}
			row, mem, err := p.addColumn(i, b, badRow)
			p.mem += mem
			if err != nil && row < badRow {
				badRow, badErr = row, err
			}
			if p.mem > p.limit {
				if err := p.spill(ctx); err != nil {
					return err
				}
			}
		}
	}
	if badErr != nil {
		return fmt.Errorf("%w: record %d: %w", ErrMalformedInput, headerRows+p.rows+int64(badRow)+1, badErr)
	}
	if p.corr != nil && nn > 1 {
		for r := range b.rows {
			if err := p.corr.Add(p.corrBuf[r*nn:(r+1)*nn], nil); err != nil {
				return err
			}
		}
	}
	p.rows += int64(b.rows)
	return nil
}

// foldResult is what folding one column of a batch gave.
type foldResult struct {
	row int   // the row of the first bad value, or the rows folded
	mem int64 // the change in the column's memory use
	err error
}

// foldCost ranks a column's folding cost per value for foldOrder: a
// date or datetime column counts its text and its time, a text column its
// distinct values, a numeric one its moments and values.
func foldCost(c *column) int {
	switch {
	case c.skip:
		return 0
	case c.dt != nil:
		return 3
	case c.cat != nil:
		return 2
	}
	return 1
}

// planFold sets foldOrder (the columns to fold, the costliest first, in
// file order among equals) and whether batches fold them on two goroutines.
func (p *Partial) planFold() {
	p.foldOrder = p.foldOrder[:0]
	for i := range p.cols {
		if !p.cols[i].skip {
			p.foldOrder = append(p.foldOrder, i)
		}
	}
	slices.SortStableFunc(p.foldOrder, func(a, b int) int { return foldCost(&p.cols[b]) - foldCost(&p.cols[a]) })
	p.foldResults = make([]foldResult, len(p.cols))
	p.parallelFold = !p.sequential && runtime.GOMAXPROCS(0) >= 2 && len(p.foldOrder) >= 2
}

// addColumn folds column i of the first n rows of b into its accumulator
// and returns the rows folded and the change in its memory use. It stops
// at the first value that does not parse and returns its row and the
// error. It touches nothing shared with the other columns but its own
// slots of corrBuf, so columns may be folded concurrently.
func (p *Partial) addColumn(i int, b *batch, n int) (int, int64, error) {
	c := &p.cols[i]
	nf, nt, nn := len(p.cols), p.typed, len(p.numIdx)
	var mem int64
	switch c.typ {
	case typev1.FieldType_FIELD_TYPE_INTEGER, typev1.FieldType_FIELD_TYPE_NUMBER:
		vals, states := b.vals[c.typedK:], b.states[c.typedK:]
		one := p.corr != nil && nn == 1 // a 1-column matrix: fed here, not by row
		var row [1]float64
		buf := p.corrBuf
		for r := range n {
			k := r * nt
			switch states[k] {
			case valMissing:
				c.nulls++
				continue
			case valBad:
				what := "a number"
				if c.typ == typev1.FieldType_FIELD_TYPE_INTEGER {
					what = "an integer"
				}
				return r, mem, fmt.Errorf("column %d (%q): %q is not %s", i+1, c.name, b.value(r*nf+i), what)
			}
			x := math.Float64frombits(vals[k])
			if x != x {
				// pandas counts NaN as missing.
				c.nulls++
				continue
			}
			mem += c.num.add(x)
			c.count++
			switch {
			case one:
				row[0] = x
				if err := p.corr.Add(row[:], nil); err != nil {
					return r, mem, err
				}
			case buf != nil:
				buf[r*nn+c.numK] = x
			}
		}
	default:
		for r := range n {
			v := b.value(r*nf + i)
			if len(v) == 0 {
				c.nulls++
				continue
			}
			mem += c.cat.add(v, p.rows+int64(r))
			c.count++
			if c.dt != nil {
				k := r*nt + c.typedK
				mem += c.dt.add(int64(b.vals[k]), b.states[k] == valOK)
			}
		}
	}
	return n, mem, nil
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
