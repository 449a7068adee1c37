package analyzer

import (
	"bufio"
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
)

// spillBufferSize is the size of the buffer of each open run file, when
// writing or merging. A k-way merge holds fanIn of them at once.
const spillBufferSize = 32 << 10

// defaultFanIn is how many runs a k-way merge reads at once; more runs are
// first merged in groups of this many into bigger runs, so the number of open
// files and merge buffers stays bounded.
const defaultFanIn = 64

// tempFiles owns the spill files of one Partial. It creates its directory on
// the first spill and removes every directory it owns on close, including
// those adopted from merged partials.
type tempFiles struct {
	parent string   // where to create the directory
	dir    string   // this partial's own directory, "" until the first spill
	dirs   []string // every directory to remove on close, dir included
	seq    int
	// maxBytes bounds written (Config.MaxSpillBytes); written counts the
	// bytes of every spill file written by this partial and those merged
	// into it, removed ones included.
	maxBytes int64
	written  int64
}

// allow reports whether n more bytes of spill files stay within maxBytes.
func (t *tempFiles) allow(n int64) bool { return n <= t.maxBytes-t.written }

// create opens a new, empty spill file.
func (t *tempFiles) create() (*os.File, error) {
	if t.dir == "" {
		dir, err := os.MkdirTemp(t.parent, "csvmesh-analyzer-*")
		if err != nil {
			return nil, fmt.Errorf("create spill directory: %w", err)
		}
		t.dir = dir
		t.dirs = append(t.dirs, dir)
	}
	t.seq++
	f, err := os.OpenFile(filepath.Join(t.dir, fmt.Sprintf("run-%06d", t.seq)), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create spill file: %w", err)
	}
	return f, nil
}

// adopt takes over the directories of o, which must not be used afterwards.
func (t *tempFiles) adopt(o *tempFiles) {
	t.dirs = append(t.dirs, o.dirs...)
	t.written += o.written
	o.dirs, o.dir, o.written = nil, "", 0
}

// close removes every spill file and directory.
func (t *tempFiles) close() error {
	var errs []error
	for _, d := range t.dirs {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, fmt.Errorf("remove spill directory: %w", err))
		}
	}
	t.dirs, t.dir = nil, ""
	return errors.Join(errs...)
}

// errSpillFull reports that a merge of runs was not started because its
// output could take the spill files past their bound (Config.MaxSpillBytes):
// the caller converts the column to sketches instead.
var errSpillFull = errors.New("spill files would exceed their bound")

// compactRuns merges runs until at most limit remain, each time the fanIn
// (or fewer) smallest into one, so that every value is rewritten a
// logarithmic number of times. merge writes the merged run; the merged files
// are removed. The order of runs does not matter: categorical runs carry
// their row offsets.
//
// Before each merge it checks that the merged run, at most mergedBound of
// its inputs, stays within the spill files' bound (t.allow); if not it
// returns the runs as they are (every one still valid, earlier merges
// done) and an error wrapping errSpillFull.
func compactRuns(t *tempFiles, runs []run, limit, fanIn int, merge func([]run) (run, error)) ([]run, error) {
	limit = max(limit, 1)
	for len(runs) > limit {
		group := min(len(runs)-limit+1, fanIn)
		slices.SortFunc(runs, func(a, b run) int { return cmp.Compare(a.n, b.n) })
		if need := mergedBound(runs[:group]); !t.allow(need) {
			return runs, fmt.Errorf("merge %d runs (up to %d bytes, %d of %d written): %w", group, need, t.written, t.maxBytes, errSpillFull)
		}
		merged, err := merge(runs[:group])
		if err != nil {
			return runs, err
		}
		for _, r := range runs[:group] {
			os.Remove(r.path)
		}
		runs = append(runs[group:], merged)
	}
	return runs, nil
}

// run is one sorted spill file.
type run struct {
	path string
	n    int64 // items in the file
	size int64 // bytes in the file
	// rowOffset is added to the first-seen rows read from a categorical run;
	// it places the rows of a merged partial after those of the partial it was
	// merged into.
	rowOffset int64
}

// runWriter writes one run.
type runWriter struct {
	t    *tempFiles
	f    *os.File
	w    *bufio.Writer
	n    int64
	size int64
	buf  [3 * binary.MaxVarintLen64]byte
}

func newRunWriter(t *tempFiles) (*runWriter, error) {
	f, err := t.create()
	if err != nil {
		return nil, err
	}
	return &runWriter{t: t, f: f, w: bufio.NewWriterSize(f, spillBufferSize)}, nil
}

// writeEntry appends one entry of a categorical run.
func (rw *runWriter) writeEntry(value []byte, count, first int64) error {
	b := binary.AppendUvarint(rw.buf[:0], uint64(len(value)))
	if _, err := rw.w.Write(b); err != nil {
		return err
	}
	if _, err := rw.w.Write(value); err != nil {
		return err
	}
	rw.size += int64(len(b) + len(value))
	b = binary.AppendUvarint(rw.buf[:0], uint64(count))
	b = binary.AppendUvarint(b, uint64(first))
	rw.size += int64(len(b))
	rw.n++
	_, err := rw.w.Write(b)
	return err
}

// finish flushes and closes the file and returns the run; on failure the
// file is removed.
func (rw *runWriter) finish() (run, error) {
	err := rw.w.Flush()
	if cerr := rw.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(rw.f.Name())
		return run{}, fmt.Errorf("write spill file: %w", err)
	}
	rw.t.written += rw.size
	return run{path: rw.f.Name(), n: rw.n, size: rw.size}, nil
}

// mergedBound bounds the size of the run merging runs writes: their sizes,
// plus for a run with a row offset the growth of each entry's first row by
// it (a uvarint of a+b is at most as long as those of a and b together).
// Equal values merge into one entry, whose count is no longer than theirs.
func mergedBound(runs []run) int64 {
	var n int64
	for _, r := range runs {
		n += r.size
		if r.rowOffset > 0 {
			n += r.n * int64(uvarintLen(uint64(r.rowOffset)))
		}
	}
	return n
}

// runsBytes returns the total size of runs.
func runsBytes(runs []run) int64 {
	var n int64
	for _, r := range runs {
		n += r.size
	}
	return n
}

// abort closes and removes a run being written; its bytes count as written.
func (rw *runWriter) abort() {
	rw.t.written += rw.size
	rw.f.Close()
	os.Remove(rw.f.Name())
}

// runReader reads one run from its start.
type runReader struct {
	f         *os.File
	r         *bufio.Reader
	left      int64
	rowOffset int64
	str       []byte
}

func openRun(r run) (*runReader, error) {
	f, err := os.Open(r.path)
	if err != nil {
		return nil, fmt.Errorf("open spill file: %w", err)
	}
	return &runReader{f: f, r: bufio.NewReaderSize(f, spillBufferSize), left: r.n, rowOffset: r.rowOffset}, nil
}

func (rr *runReader) close() { rr.f.Close() }

// readEntry reads the next entry of a categorical run; ok is false at its
// end. The returned value is only valid until the next call.
func (rr *runReader) readEntry() (value []byte, count, first int64, ok bool, err error) {
	if rr.left == 0 {
		return nil, 0, 0, false, nil
	}
	n, err := binary.ReadUvarint(rr.r)
	if err == nil {
		if uint64(cap(rr.str)) < n {
			rr.str = make([]byte, n)
		}
		rr.str = rr.str[:n]
		_, err = io.ReadFull(rr.r, rr.str)
	}
	var c, f uint64
	if err == nil {
		c, err = binary.ReadUvarint(rr.r)
	}
	if err == nil {
		f, err = binary.ReadUvarint(rr.r)
	}
	if err != nil {
		return nil, 0, 0, false, fmt.Errorf("read spill file: %w", unexpectedEOF(err))
	}
	rr.left--
	return rr.str, int64(c), int64(f) + rr.rowOffset, true, nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// entrySource yields categorical entries in ascending value order. A value
// may repeat across sources but not within one.
type entrySource interface {
	next() (value []byte, count, first int64, ok bool, err error)
}

// runEntries yields the entries of a categorical run.
type runEntries struct{ rr *runReader }

func (s runEntries) next() ([]byte, int64, int64, bool, error) { return s.rr.readEntry() }

type entryCursor struct {
	value        []byte
	count, first int64
	src          entrySource
}

type entryHeap []*entryCursor

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return string(h[i].value) < string(h[j].value) }
func (h entryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *entryHeap) Push(x any)        { *h = append(*h, x.(*entryCursor)) }
func (h *entryHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// entryMerger merges entry sources, combining equal values: counts add up
// and the first-seen row is the smallest.
type entryMerger struct {
	h   entryHeap
	cur []byte
}

func newEntryMerger(srcs []entrySource) (*entryMerger, error) {
	m := &entryMerger{h: make(entryHeap, 0, len(srcs))}
	for _, s := range srcs {
		c := &entryCursor{src: s}
		ok, err := c.advance()
		if err != nil {
			return nil, err
		}
		if ok {
			m.h = append(m.h, c)
		}
	}
	heap.Init(&m.h)
	return m, nil
}

// advance moves the cursor to its source's next entry, copying the value
// since sources reuse their buffers.
func (c *entryCursor) advance() (bool, error) {
	v, count, first, ok, err := c.src.next()
	if err != nil || !ok {
		return false, err
	}
	c.value = append(c.value[:0], v...)
	c.count, c.first = count, first
	return true, nil
}

// next returns the next distinct value with its combined count and
// first-seen row. The value is valid until the next call.
func (m *entryMerger) next() (value []byte, count, first int64, ok bool, err error) {
	if len(m.h) == 0 {
		return nil, 0, 0, false, nil
	}
	m.cur = append(m.cur[:0], m.h[0].value...)
	first = math.MaxInt64
	for len(m.h) > 0 && string(m.h[0].value) == string(m.cur) {
		top := m.h[0]
		count += top.count
		first = min(first, top.first)
		more, err := top.advance()
		if err != nil {
			return nil, 0, 0, false, err
		}
		if more {
			heap.Fix(&m.h, 0)
		} else {
			heap.Pop(&m.h)
		}
	}
	return m.cur, count, first, true, nil
}

// mergeRuns opens runs, wraps each with source, and writes what merge
// yields into a new run until it reports no more. The input runs stay
// open until the merge is done; the new run is removed on any error or
// cancellation.
func mergeRuns[S any](ctx context.Context, t *tempFiles, runs []run, source func(*runReader) S,
	merge func([]S) (func(*runWriter) (bool, error), error)) (run, error) {
	srcs := make([]S, 0, len(runs))
	for _, r := range runs {
		rr, err := openRun(r)
		if err != nil {
			return run{}, err
		}
		defer rr.close()
		srcs = append(srcs, source(rr))
	}
	step, err := merge(srcs)
	if err != nil {
		return run{}, err
	}
	rw, err := newRunWriter(t)
	if err != nil {
		return run{}, err
	}
	for i := 0; ; i++ {
		if i&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				rw.abort()
				return run{}, err
			}
		}
		more, err := step(rw)
		if err != nil {
			rw.abort()
			return run{}, err
		}
		if !more {
			break
		}
	}
	return rw.finish()
}
