// Package uniq finds exact duplicate keys among more keys than fit in memory.
//
// A Checker collects keys (arbitrary bytes, such as the normalized value of a
// unique column or the encoded values of a primary key) with the byte offset
// and number of the row each came from. Keys accumulate in an arena; when the
// arena outgrows the memory budget it is sorted by (key, row) and spilled to a
// run file. Keys are ordered by a 64-bit hash first (so that sorting seldom
// touches the keys' bytes), then by their bytes, which keeps equal keys
// together. Duplicates then merges the runs and reports, for every key seen
// more than once, each row but the first (the smallest row number) as a Dup,
// in ascending order of byte offset. The duplicates are themselves sorted with
// the same bounded external sort, since there may be as many of them as there
// are rows (a column holding one value throughout).
//
// When every key fits in the budget, nothing touches the disk: the arena is
// sorted once and the duplicates are sorted in its place.
package uniq

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"slices"
)

const (
	// MaxKeyBytes is the size limit of one key (16 MiB - 1).
	MaxKeyBytes = 1<<keyLenBits - 1
	// DefaultMemBudget is the memory budget New uses when given none.
	DefaultMemBudget = 64 << 20

	keyLenBits = 24
	// entrySize is the in-memory size of one key's entry, besides its bytes.
	entrySize = 32
	// dupSize is the in-memory size of one Dup.
	dupSize = 24
)

// Errors returned by a Checker.
var (
	// ErrKeyTooLong is returned by Add for a key over MaxKeyBytes.
	ErrKeyTooLong = errors.New("uniq: key too long")
	// ErrState is returned for a call out of order: Add after Duplicates,
	// Duplicates twice, or any call after Close.
	ErrState = errors.New("uniq: call out of order")
)

// Dup is a row whose key equals that of an earlier row.
type Dup struct {
	// Offset is the byte offset of the duplicate row.
	Offset int64
	// Row is the number of the duplicate row.
	Row int64
	// FirstRow is the smallest row number with the same key.
	FirstRow int64
}

func compareDup(a, b *Dup) int {
	if c := cmp.Compare(a.Offset, b.Offset); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Row, b.Row); c != 0 {
		return c
	}
	return cmp.Compare(a.FirstRow, b.FirstRow)
}

// entry is one key in the arena: hash is the key's hash; ref packs the key's offset in the arena
// (high bits) and its length (low keyLenBits bits). In the in-memory path,
// once the keys are grouped, entries are reused in place for the duplicates,
// with ref holding the first row.
type entry struct {
	hash, ref   uint64
	offset, row int64
}

// Checker finds duplicate keys. It is not safe for concurrent use. The zero
// value is not usable: call New.
type Checker struct {
	dir    string
	budget int64
	fanIn  int // how many runs one merge reads at once
	seed   maphash.Seed
	ioBuf  int // buffer size of each open run file

	arena []byte
	ents  []entry
	runs  []run // spilled key runs

	files map[string]struct{} // temp files that exist
	iter  *Iterator
	state int
	err   error // sticky: the first failure
}

const (
	stAdding = iota
	stIterating
	stClosed
)

// New returns a Checker that keeps its temporary files in dir (the system's
// temporary directory when empty) and holds about memBudget bytes of keys in
// memory (DefaultMemBudget when memBudget <= 0). Merging runs takes up to a
// quarter of the budget again in buffers, plus the longest key of each run
// read at once; collecting the duplicates takes half of it.
func New(dir string, memBudget int64) *Checker {
	if memBudget <= 0 {
		memBudget = DefaultMemBudget
	}
	ioBuf := int(min(max(memBudget/256, 4<<10), 64<<10))
	fanIn := int(min(max(memBudget/int64(4*ioBuf), 2), 64))
	return &Checker{
		dir: dir, budget: memBudget, fanIn: fanIn, ioBuf: ioBuf,
		seed: maphash.MakeSeed(), files: map[string]struct{}{},
	}
}

// Add records key, a copy of which is kept, for the row with the given byte
// offset and number. Rows may be added in any order.
func (c *Checker) Add(key []byte, offset, row int64) error {
	if err := c.check(stAdding); err != nil {
		return err
	}
	if len(key) > MaxKeyBytes {
		return fmt.Errorf("%w: row %d: %d bytes (the limit is %d)", ErrKeyTooLong, row, len(key), MaxKeyBytes)
	}
	ref := uint64(len(c.arena))<<keyLenBits | uint64(len(key))
	c.arena = append(c.arena, key...)
	c.ents = append(c.ents, entry{hash: maphash.Bytes(c.seed, key), ref: ref, offset: offset, row: row})
	if int64(len(c.arena))+int64(len(c.ents))*entrySize > c.budget {
		if err := c.spill(); err != nil {
			return c.fail(err)
		}
	}
	return nil
}

// check returns the sticky error, or ErrState unless the Checker is in state
// want.
func (c *Checker) check(want int) error {
	if c.err != nil {
		return c.err
	}
	if c.state != want {
		return ErrState
	}
	return nil
}

// key returns the bytes of e's key.
func (c *Checker) key(e *entry) []byte {
	off := e.ref >> keyLenBits
	return c.arena[off : off+e.ref&(1<<keyLenBits-1)]
}

// sortEntries sorts the arena's entries by (hash, key, row): an in-place
// radix pass on the hash's top byte (American flag sort), then a comparison
// sort of each bucket, which is small enough to stay in the cache.
func (c *Checker) sortEntries() {
	ents := c.ents
	var count, next [257]int
	for i := range ents {
		count[ents[i].hash>>56+1]++
	}
	for b := 1; b <= 256; b++ {
		count[b] += count[b-1]
	}
	copy(next[:], count[:])
	for b := range 256 {
		for i := next[b]; i < count[b+1]; i = next[b] {
			e := ents[i]
			for d := int(e.hash >> 56); d != b; d = int(e.hash >> 56) {
				// Move e to its bucket, taking out whatever sat there.
				j := next[d]
				next[d]++
				e, ents[j] = ents[j], e
			}
			ents[i] = e
			next[b]++
		}
	}
	for b := range 256 {
		c.sortBucket(ents[count[b]:count[b+1]])
	}
}

// sortBucket sorts entries by (hash, key, row).
func (c *Checker) sortBucket(ents []entry) {
	slices.SortFunc(ents, func(a, b entry) int {
		if a.hash != b.hash {
			return cmp.Compare(a.hash, b.hash)
		}
		if r := bytes.Compare(c.key(&a), c.key(&b)); r != 0 {
			return r
		}
		return cmp.Compare(a.row, b.row)
	})
}

// spill writes the arena as a sorted run and empties it, keeping its memory.
func (c *Checker) spill() error {
	c.sortEntries()
	rw, err := newRunWriter[keyRec, keyCodec](c)
	if err != nil {
		return err
	}
	var r keyRec
	for i := range c.ents {
		e := &c.ents[i]
		r = keyRec{hash: e.hash, key: c.key(e), row: e.row, offset: e.offset}
		if err := rw.add(&r); err != nil {
			return rw.abort(err)
		}
	}
	done, err := rw.finish()
	if err != nil {
		return err
	}
	c.runs = append(c.runs, done)
	c.arena, c.ents = c.arena[:0], c.ents[:0]
	return nil
}

// Duplicates returns the rows whose key equals that of a row with a smaller
// number, in ascending order of Offset (then Row). Call it once, after the
// last Add. The Iterator is valid until Close.
func (c *Checker) Duplicates() (*Iterator, error) {
	if err := c.check(stAdding); err != nil {
		return nil, err
	}
	c.state = stIterating
	var (
		it  *Iterator
		err error
	)
	if len(c.runs) == 0 {
		it = c.inMemory()
	} else {
		it, err = c.external()
	}
	if err != nil {
		return nil, c.fail(err)
	}
	c.iter = it
	return it, nil
}

// inMemory finds the duplicates of the keys in the arena, all of them, and
// sorts them in the arena's entries.
func (c *Checker) inMemory() *Iterator {
	c.sortEntries()
	w := 0
	for i := 0; i < len(c.ents); {
		first := c.ents[i]
		key := c.key(&first)
		j := i + 1
		for ; j < len(c.ents) && c.ents[j].hash == first.hash && bytes.Equal(c.key(&c.ents[j]), key); j++ {
			// w < j: each group keeps its first entry out of the output.
			c.ents[w] = entry{ref: uint64(first.row), offset: c.ents[j].offset, row: c.ents[j].row}
			w++
		}
		i = j
	}
	dups := c.ents[:w]
	c.arena, c.ents = nil, nil
	slices.SortFunc(dups, func(a, b entry) int {
		return compareDup(&Dup{a.offset, a.row, int64(a.ref)}, &Dup{b.offset, b.row, int64(b.ref)})
	})
	return &Iterator{c: c, ents: dups}
}

// external merges the spilled runs (the arena spilled last) and sorts the
// duplicates found, spilling them too when they outgrow half the budget.
func (c *Checker) external() (*Iterator, error) {
	if len(c.ents) > 0 {
		if err := c.spill(); err != nil {
			return nil, err
		}
	}
	c.arena, c.ents = nil, nil
	runs, err := compact[keyRec, keyCodec](c, c.runs)
	c.runs = runs
	if err != nil {
		return nil, err
	}
	m, err := openMerger[keyRec, keyCodec](c, runs)
	if err != nil {
		return nil, err
	}
	ds := dupSorter{c: c, limit: int(max(c.budget/2/dupSize, 16))}
	var (
		group     []byte
		groupHash uint64
		firstRow  int64
		started   bool
	)
	for {
		r, ok, err := m.next()
		if err != nil {
			m.close()
			return nil, err
		}
		if !ok {
			break
		}
		if started && r.hash == groupHash && bytes.Equal(r.key, group) {
			if err := ds.add(Dup{Offset: r.offset, Row: r.row, FirstRow: firstRow}); err != nil {
				m.close()
				return nil, err
			}
			continue
		}
		group = append(group[:0], r.key...)
		groupHash, firstRow, started = r.hash, r.row, true
	}
	m.close()
	for _, r := range runs {
		c.remove(r.path)
	}
	c.runs = nil
	return ds.finish()
}

// dupSorter sorts duplicates, in memory up to limit of them, beyond that in
// runs.
type dupSorter struct {
	c     *Checker
	limit int
	buf   []Dup
	runs  []run
}

func (s *dupSorter) add(d Dup) error {
	if len(s.buf) == s.limit {
		if err := s.spill(); err != nil {
			return err
		}
	}
	s.buf = append(s.buf, d)
	return nil
}

func (s *dupSorter) spill() error {
	slices.SortFunc(s.buf, func(a, b Dup) int { return compareDup(&a, &b) })
	rw, err := newRunWriter[Dup, dupCodec](s.c)
	if err != nil {
		return err
	}
	for i := range s.buf {
		if err := rw.add(&s.buf[i]); err != nil {
			return rw.abort(err)
		}
	}
	r, err := rw.finish()
	if err != nil {
		return err
	}
	s.runs = append(s.runs, r)
	s.buf = s.buf[:0]
	return nil
}

// finish returns an Iterator over everything added.
func (s *dupSorter) finish() (*Iterator, error) {
	if len(s.runs) == 0 {
		slices.SortFunc(s.buf, func(a, b Dup) int { return compareDup(&a, &b) })
		return &Iterator{c: s.c, dups: s.buf}, nil
	}
	if len(s.buf) > 0 {
		if err := s.spill(); err != nil {
			return nil, err
		}
	}
	s.buf = nil
	runs, err := compact[Dup, dupCodec](s.c, s.runs)
	if err != nil {
		return nil, err
	}
	m, err := openMerger[Dup, dupCodec](s.c, runs)
	if err != nil {
		return nil, err
	}
	return &Iterator{c: s.c, m: m}, nil
}

// Iterator yields duplicates in ascending order of Offset.
type Iterator struct {
	c    *Checker
	ents []entry // in-memory path: entries reused as duplicates
	dups []Dup   // all duplicates, in memory
	i    int
	m    *merger[Dup, dupCodec] // or merged from runs
}

// Next returns the next duplicate; ok is false after the last one. After an
// error the Checker's temporary files are gone and Next returns the error
// again.
func (it *Iterator) Next() (d Dup, ok bool, err error) {
	c := it.c
	if err := c.check(stIterating); err != nil {
		return Dup{}, false, err
	}
	switch {
	case it.m != nil:
		p, ok, err := it.m.next()
		if err != nil {
			return Dup{}, false, c.fail(err)
		}
		if !ok {
			return Dup{}, false, nil
		}
		return *p, true, nil
	case it.i < len(it.ents):
		e := &it.ents[it.i]
		it.i++
		return Dup{Offset: e.offset, Row: e.row, FirstRow: int64(e.ref)}, true, nil
	case it.i < len(it.dups):
		it.i++
		return it.dups[it.i-1], true, nil
	}
	return Dup{}, false, nil
}

// fail records err as the Checker's sticky error, releases everything and
// returns err.
func (c *Checker) fail(err error) error {
	c.err = err
	c.release()
	return err
}

// release closes open files, removes every temporary file and drops the
// memory held; it returns the first removal error.
func (c *Checker) release() error {
	if c.iter != nil && c.iter.m != nil {
		c.iter.m.close()
	}
	c.iter = nil
	c.arena, c.ents, c.runs = nil, nil, nil
	var errs []error
	for p := range c.files {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("uniq: remove temp file: %w", err))
		}
		delete(c.files, p)
	}
	return errors.Join(errs...)
}

// Close removes the temporary files and releases the memory. The Iterator
// must not be used afterwards. Close may be called more than once.
func (c *Checker) Close() error {
	c.state = stClosed
	return c.release()
}
