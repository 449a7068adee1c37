package parquetout

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parquet-go/parquet-go"
)

// A column writer cuts a page once a write takes it past the page buffer
// size, so the values handed to it at once bound how far past it a page
// goes: a chunkShare of the page buffer size, taking fixedValueBytes for a
// value of a fixed size (with its levels) and the bytes of byte arrays, and
// from minChunk to maxChunk values.
const (
	chunkShare      = 32
	fixedValueBytes = 16
	minChunk        = 16
	maxChunk        = 256
)

// queueDepth bounds the batches waiting for each encoding worker.
const queueDepth = 4

// groupsInFlight is the number of row groups being written at once: the
// workers finish one while worker 0 starts the next.
const groupsInFlight = 2

// Rough costs, in nanoseconds per value, of parsing and of encoding each
// kind of column, which share out the columns of the first row groups
// among the workers; later row groups are shared out by the times measured
// on an earlier one.
var (
	parseCost  = [...]time.Duration{kindString: 15, kindInt64: 20, kindDouble: 20, kindBool: 10, kindDate: 25, kindDatetime: 35, kindTime: 25, kindYear: 20}
	encodeCost = [...]time.Duration{kindString: 40, kindInt64: 45, kindDouble: 65, kindBool: 25, kindDate: 35, kindDatetime: 10, kindTime: 45, kindYear: 35}
)

// group is a row group being written. Its columns are shared out among the
// workers, each writing its own; the last worker done with the group's last
// batch commits it to the file.
type group struct {
	rg  *parquet.ConcurrentRowGroupWriter
	cws []*parquet.ColumnWriter

	// owner is, per column, the worker writing it.
	owner []int
	// spent is, per column, the time its owner spent writing it, and
	// parsed the time spent parsing the group (measured with more than one
	// worker).
	spent  []time.Duration
	parsed time.Duration

	rows    int64        // rows parsed into the group
	pending atomic.Int32 // workers yet to write the group's last batch
}

// writer writes batches to a Parquet writer in row groups of a bounded
// number of rows, with one or more workers: worker 0 parses the input and
// the others, if any, each run on a goroutine of their own.
type writer struct {
	w         *parquet.Writer
	byteArray []bool // per column: its values are byte arrays
	workers   int
	maxRows   int64
	chunk     int // values written at once
	chunkText int // byte array bytes written at once

	groups chan *group // row groups committed, ready for reuse

	// Scratch space for start.
	order []int
	load  []time.Duration

	written atomic.Int64 // rows written by every worker
}

func newWriter(w *parquet.Writer, cols []column, opts Options) *writer {
	wr := &writer{
		w:         w,
		byteArray: make([]bool, len(cols)),
		workers:   min(opts.Workers, len(cols)+1),
		maxRows:   opts.RowGroupRows,
		chunk:     min(max(opts.PageBufferBytes/chunkShare/fixedValueBytes, minChunk), maxChunk),
		chunkText: max(opts.PageBufferBytes/chunkShare, 1),
		order:     make([]int, len(cols)),
	}
	wr.load = make([]time.Duration, wr.workers)
	for i := range cols {
		wr.byteArray[i] = cols[i].kind == kindString
	}
	n := groupsInFlight
	if wr.workers == 1 {
		n = 1
	}
	wr.groups = make(chan *group, n)
	for range n {
		rg := w.BeginRowGroup()
		g := &group{rg: rg, cws: rg.ColumnWriters(), owner: make([]int, len(cols)), spent: make([]time.Duration, len(cols))}
		for i := range cols {
			g.spent[i] = encodeCost[cols[i].kind]
			g.parsed += parseCost[cols[i].kind]
		}
		wr.groups <- g
	}
	return wr
}

// timed reports whether the workers measure their time.
func (wr *writer) timed() bool { return wr.workers > 1 }

// start readies g, a committed row group, for new rows: it shares out its
// columns among the workers by the times they took when g was last
// written (or by estimates), the costliest first, each to the worker with
// the least work so far, worker 0 starting with the parsing.
func (wr *writer) start(g *group) {
	g.rows = 0
	g.pending.Store(int32(wr.workers))
	if wr.workers == 1 {
		return
	}
	for i := range wr.order {
		wr.order[i] = i
	}
	slices.SortStableFunc(wr.order, func(a, b int) int { return cmp.Compare(g.spent[b], g.spent[a]) })
	clear(wr.load)
	wr.load[0] = g.parsed
	for _, i := range wr.order {
		k := 0
		for j := range wr.load {
			if wr.load[j] < wr.load[k] {
				k = j
			}
		}
		g.owner[i] = k
		wr.load[k] += g.spent[i]
	}
	clear(g.spent)
	g.parsed = 0
}

// writeColumns writes worker's columns of b, and after the last batch of a
// row group flushes their last pages.
func (wr *writer) writeColumns(worker int, b *batch) error {
	g := b.g
	for i, cw := range g.cws {
		if g.owner[i] != worker {
			continue
		}
		var start time.Time
		if wr.timed() {
			start = time.Now()
		}
		if err := wr.writeColumn(i, cw, b.cols[i][:b.rows]); err != nil {
			return fmt.Errorf("parquetout: write: %w", err)
		}
		if b.last {
			if err := cw.Flush(); err != nil {
				return fmt.Errorf("parquetout: write: %w", err)
			}
		}
		if wr.timed() {
			g.spent[i] += time.Since(start)
		}
	}
	return nil
}

// writeColumn writes the values of one column in chunks.
func (wr *writer) writeColumn(i int, cw *parquet.ColumnWriter, vals []parquet.Value) error {
	for len(vals) > 0 {
		n := min(len(vals), wr.chunk)
		if wr.byteArray[i] {
			size := 0
			for j := range n {
				if size += len(vals[j].ByteArray()); size >= wr.chunkText {
					n = j + 1
					break
				}
			}
		}
		if _, err := cw.WriteRowValues(vals[:n]); err != nil {
			return err
		}
		vals = vals[n:]
	}
	return nil
}

// commit writes g to the file and makes it ready for reuse.
func (wr *writer) commit(g *group) error {
	if g.rows > 0 {
		if _, err := g.rg.Commit(); err != nil {
			return fmt.Errorf("parquetout: write: %w", err)
		}
	}
	wr.groups <- g // never blocks: room for every group
	return nil
}

// close writes the footer.
func (wr *writer) close() error {
	if err := wr.w.Close(); err != nil {
		return fmt.Errorf("parquetout: write: %w", err)
	}
	return nil
}

// errStopped is returned by the parsing worker when another worker failed.
var errStopped = errors.New("parquetout: stopped")

// conversion runs the workers: worker 0 parses batches on the calling
// goroutine and writes its columns of them, then hands them, in order, to
// the other workers, each on a goroutine of its own with a bounded queue.
type conversion struct {
	p  *parser
	wr *writer

	queues  []chan *batch // to workers 1, 2, ...
	free    chan *batch   // batches written by every worker
	batches int           // batches made so far
	stop    chan struct{} // closed when a worker fails

	mu       sync.Mutex
	err      error // the first failure
	stopOnce sync.Once
}

func newConversion(p *parser, wr *writer) *conversion {
	cv := &conversion{
		p:      p,
		wr:     wr,
		queues: make([]chan *batch, wr.workers-1),
		stop:   make(chan struct{}),
	}
	for i := range cv.queues {
		cv.queues[i] = make(chan *batch, queueDepth)
	}
	cv.free = make(chan *batch, cv.maxBatches())
	return cv
}

// maxBatches bounds the batches in use: one being parsed, and, with other
// workers, those queued or being written.
func (cv *conversion) maxBatches() int {
	if len(cv.queues) == 0 {
		return 1
	}
	return queueDepth + 2
}

// fail records err, if it is the first failure, and stops the workers.
func (cv *conversion) fail(err error) {
	cv.mu.Lock()
	if cv.err == nil {
		cv.err = err
	}
	cv.mu.Unlock()
	cv.stopOnce.Do(func() { close(cv.stop) })
}

// run converts the rest of the input and writes the file's footer,
// returning the first failure.
func (cv *conversion) run() error {
	var wg sync.WaitGroup
	for i, q := range cv.queues {
		wg.Go(func() { cv.encode(i+1, q) })
	}
	g, err := cv.parse()
	if err != nil {
		cv.fail(err)
	}
	for _, q := range cv.queues {
		close(q)
	}
	wg.Wait()
	cv.mu.Lock()
	err = cv.err
	cv.mu.Unlock()
	if err != nil {
		return err
	}
	if g != nil { // rows whose last batch was not known to be the last
		if err := cv.wr.commit(g); err != nil {
			return err
		}
	}
	return cv.wr.close()
}

// parse is worker 0: it parses batches, writes its columns of them and
// hands them on. At the end of the input it returns the row group whose
// last batch it did not mark, if any.
func (cv *conversion) parse() (*group, error) {
	wr := cv.wr
	var g *group
	for {
		if g == nil {
			select {
			case g = <-wr.groups:
			case <-cv.stop:
				return nil, errStopped
			}
			wr.start(g)
		}
		b, err := cv.batch()
		if err != nil {
			return g, err
		}
		var start time.Time
		if wr.timed() {
			start = time.Now()
		}
		err = cv.p.fill(b, int(wr.maxRows-g.rows))
		if wr.timed() {
			g.parsed += time.Since(start)
		}
		if err != nil && err != io.EOF {
			return g, err
		}
		eof := err == io.EOF
		if b.rows == 0 {
			cv.free <- b // never blocks: room for every batch
			return g, nil
		}
		g.rows += int64(b.rows)
		b.g, b.last = g, g.rows == wr.maxRows || eof
		if b.last {
			g = nil
		}
		if err := cv.write(b); err != nil {
			return g, err
		}
		if eof {
			return g, nil
		}
	}
}

// batch returns a batch to fill.
func (cv *conversion) batch() (*batch, error) {
	select {
	case b := <-cv.free:
		return b, nil
	default:
	}
	if cv.batches < cv.maxBatches() {
		cv.batches++
		return newBatch(len(cv.p.cols)), nil
	}
	select {
	case b := <-cv.free:
		return b, nil
	case <-cv.stop:
		return nil, errStopped
	}
}

// write has worker 0 write its columns of b and hands b to the other
// workers.
func (cv *conversion) write(b *batch) error {
	b.refs.Store(int32(cv.wr.workers))
	if err := cv.written(0, b); err != nil {
		return err
	}
	for _, q := range cv.queues {
		select {
		case q <- b:
		case <-cv.stop:
			return errStopped
		}
	}
	return nil
}

// encode is worker i > 0: it writes its columns of the batches of q.
func (cv *conversion) encode(worker int, q <-chan *batch) {
	for b := range q {
		select {
		case <-cv.stop:
			return
		default:
		}
		if err := cv.written(worker, b); err != nil {
			cv.fail(err)
			return
		}
	}
}

// written has worker write its columns of b. The last worker done with b
// counts its rows and frees it; the last worker done with the last batch of
// a row group commits the row group.
func (cv *conversion) written(worker int, b *batch) error {
	if err := cv.wr.writeColumns(worker, b); err != nil {
		return err
	}
	g, last, rows := b.g, b.last, b.rows
	if b.refs.Add(-1) == 0 {
		cv.wr.written.Add(int64(rows))
		b.reset()
		cv.free <- b // never blocks: room for every batch
	}
	if last && g.pending.Add(-1) == 0 {
		return cv.wr.commit(g)
	}
	return nil
}
