package uniq

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// run is one sorted temporary file of n records.
type run struct {
	path string
	n    int64
}

// codec writes, reads and orders the records of one kind of run.
type codec[T any] interface {
	// write appends v to w.
	write(w *bufio.Writer, v *T) error
	// read reads the next record into v, reusing its memory.
	read(r *bufio.Reader, v *T) error
	// compare orders records.
	compare(a, b *T) int
}

// keyRec is one record of a key run: the key's hash (8 bytes), the
// length-prefixed key, then the row number and byte offset as varints.
type keyRec struct {
	hash        uint64
	key         []byte
	row, offset int64
}

type keyCodec struct{}

func (keyCodec) write(w *bufio.Writer, v *keyRec) error {
	b := binary.LittleEndian.AppendUint64(w.AvailableBuffer(), v.hash)
	if _, err := w.Write(binary.AppendUvarint(b, uint64(len(v.key)))); err != nil {
		return err
	}
	if _, err := w.Write(v.key); err != nil {
		return err
	}
	b = binary.AppendVarint(w.AvailableBuffer(), v.row)
	_, err := w.Write(binary.AppendVarint(b, v.offset))
	return err
}

func (keyCodec) read(r *bufio.Reader, v *keyRec) error {
	h, err := r.Peek(8)
	if err != nil {
		return err
	}
	v.hash = binary.LittleEndian.Uint64(h)
	r.Discard(8)
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return err
	}
	if n > MaxKeyBytes {
		return fmt.Errorf("key length %d over the limit", n)
	}
	v.key = slices.Grow(v.key[:0], int(n))[:n]
	if _, err := io.ReadFull(r, v.key); err != nil {
		return err
	}
	if v.row, err = binary.ReadVarint(r); err != nil {
		return err
	}
	v.offset, err = binary.ReadVarint(r)
	return err
}

func (keyCodec) compare(a, b *keyRec) int {
	if a.hash != b.hash {
		return cmp.Compare(a.hash, b.hash)
	}
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c
	}
	return cmp.Compare(a.row, b.row)
}

// dupCodec stores a Dup as three varints.
type dupCodec struct{}

func (dupCodec) write(w *bufio.Writer, v *Dup) error {
	b := binary.AppendVarint(w.AvailableBuffer(), v.Offset)
	b = binary.AppendVarint(b, v.Row)
	_, err := w.Write(binary.AppendVarint(b, v.FirstRow))
	return err
}

func (dupCodec) read(r *bufio.Reader, v *Dup) (err error) {
	if v.Offset, err = binary.ReadVarint(r); err != nil {
		return err
	}
	if v.Row, err = binary.ReadVarint(r); err != nil {
		return err
	}
	v.FirstRow, err = binary.ReadVarint(r)
	return err
}

func (dupCodec) compare(a, b *Dup) int { return compareDup(a, b) }

// create makes a new temporary file in the Checker's directory and tracks it
// for removal.
func (c *Checker) create() (*os.File, error) {
	f, err := os.CreateTemp(c.dir, "csvmesh-uniq-*.run")
	if err != nil {
		return nil, fmt.Errorf("uniq: create temp file: %w", err)
	}
	c.files[f.Name()] = struct{}{}
	return f, nil
}

// remove deletes a temporary file that is no longer needed.
func (c *Checker) remove(path string) {
	os.Remove(path)
	delete(c.files, path)
}

// runWriter writes one run.
type runWriter[T any, C codec[T]] struct {
	c     *Checker
	f     *os.File
	w     *bufio.Writer
	n     int64
	codec C
}

func newRunWriter[T any, C codec[T]](c *Checker) (*runWriter[T, C], error) {
	f, err := c.create()
	if err != nil {
		return nil, err
	}
	return &runWriter[T, C]{c: c, f: f, w: bufio.NewWriterSize(f, c.ioBuf)}, nil
}

func (rw *runWriter[T, C]) add(v *T) error {
	rw.n++
	if err := rw.codec.write(rw.w, v); err != nil {
		return fmt.Errorf("uniq: write temp file: %w", err)
	}
	return nil
}

// finish flushes and closes the file and returns the run; on failure the
// file is removed.
func (rw *runWriter[T, C]) finish() (run, error) {
	err := rw.w.Flush()
	if cerr := rw.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		rw.c.remove(rw.f.Name())
		return run{}, fmt.Errorf("uniq: write temp file: %w", err)
	}
	return run{path: rw.f.Name(), n: rw.n}, nil
}

// abort closes and removes the run being written and returns err.
func (rw *runWriter[T, C]) abort(err error) error {
	rw.f.Close()
	rw.c.remove(rw.f.Name())
	return err
}

// runReader reads one run from its start.
type runReader[T any, C codec[T]] struct {
	f     *os.File
	r     *bufio.Reader
	left  int64
	codec C
}

// next reads the next record into v; ok is false at the run's end.
func (rr *runReader[T, C]) next(v *T) (ok bool, err error) {
	if rr.left == 0 {
		return false, nil
	}
	if err := rr.codec.read(rr.r, v); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return false, fmt.Errorf("uniq: read temp file %s: %w", rr.f.Name(), err)
	}
	rr.left--
	return true, nil
}

// cursor is a run's current record in a merge.
type cursor[T any, C codec[T]] struct {
	v  T
	rr *runReader[T, C]
}

// merger merges sorted runs into one sorted sequence. It implements
// heap.Interface over the runs that have records left.
type merger[T any, C codec[T]] struct {
	h       []*cursor[T, C]
	readers []*runReader[T, C]
	pending bool // h[0] was returned and must advance first
	codec   C
}

func (m *merger[T, C]) Len() int           { return len(m.h) }
func (m *merger[T, C]) Less(i, j int) bool { return m.codec.compare(&m.h[i].v, &m.h[j].v) < 0 }
func (m *merger[T, C]) Swap(i, j int)      { m.h[i], m.h[j] = m.h[j], m.h[i] }
func (m *merger[T, C]) Push(x any)         { m.h = append(m.h, x.(*cursor[T, C])) }
func (m *merger[T, C]) Pop() any {
	c := m.h[len(m.h)-1]
	m.h = m.h[:len(m.h)-1]
	return c
}

// openMerger opens runs and reads the first record of each.
func openMerger[T any, C codec[T]](c *Checker, runs []run) (*merger[T, C], error) {
	m := &merger[T, C]{}
	for _, r := range runs {
		f, err := os.Open(r.path)
		if err != nil {
			m.close()
			return nil, fmt.Errorf("uniq: open temp file: %w", err)
		}
		rr := &runReader[T, C]{f: f, r: bufio.NewReaderSize(f, c.ioBuf), left: r.n}
		m.readers = append(m.readers, rr)
		cur := &cursor[T, C]{rr: rr}
		ok, err := rr.next(&cur.v)
		if err != nil {
			m.close()
			return nil, err
		}
		if ok {
			m.h = append(m.h, cur)
		}
	}
	heap.Init(m)
	return m, nil
}

// next returns the smallest record not yet returned; it is valid until the
// next call.
func (m *merger[T, C]) next() (*T, bool, error) {
	if m.pending {
		m.pending = false
		top := m.h[0]
		ok, err := top.rr.next(&top.v)
		if err != nil {
			return nil, false, err
		}
		if ok {
			heap.Fix(m, 0)
		} else {
			heap.Pop(m)
		}
	}
	if len(m.h) == 0 {
		return nil, false, nil
	}
	m.pending = true
	return &m.h[0].v, true, nil
}

// close closes every run file.
func (m *merger[T, C]) close() {
	for _, rr := range m.readers {
		rr.f.Close()
	}
	m.readers, m.h = nil, nil
}

// compact merges runs until at most c.fanIn remain, each time the fanIn
// smallest into one, so every record is rewritten a logarithmic number of
// times. Merged runs are removed.
func compact[T any, C codec[T]](c *Checker, runs []run) ([]run, error) {
	for len(runs) > c.fanIn {
		group := min(len(runs)-c.fanIn+1, c.fanIn)
		slices.SortFunc(runs, func(a, b run) int { return cmp.Compare(a.n, b.n) })
		merged, err := mergeRuns[T, C](c, runs[:group])
		if err != nil {
			return runs, err
		}
		for _, r := range runs[:group] {
			c.remove(r.path)
		}
		runs = append(runs[group:], merged)
	}
	return runs, nil
}

// mergeRuns merges runs into a new run.
func mergeRuns[T any, C codec[T]](c *Checker, runs []run) (run, error) {
	m, err := openMerger[T, C](c, runs)
	if err != nil {
		return run{}, err
	}
	defer m.close()
	rw, err := newRunWriter[T, C](c)
	if err != nil {
		return run{}, err
	}
	for {
		v, ok, err := m.next()
		if err != nil {
			return run{}, rw.abort(err)
		}
		if !ok {
			return rw.finish()
		}
		if err := rw.add(v); err != nil {
			return run{}, rw.abort(err)
		}
	}
}
