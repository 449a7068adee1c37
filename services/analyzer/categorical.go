package analyzer

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"slices"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/proto"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/internal/sketch"
)

// catEntry counts one distinct value. It holds no pointer (the value's bytes
// are located in the column's arena), so the garbage collector never scans
// the entries, however many there are.
type catEntry struct {
	hash  uint64 // hashOf the value; unset while the column is sorted
	count int64
	first int64   // the 0-based data row where the value first appears
	ref   [8]byte // a value of up to 8 bytes itself; a longer one's arena block and offset (refOf)
	n     uint32  // the value's length
}

// refOf returns the block and offset of a long value of e.
func (e *catEntry) refOf() (blk, off uint32) {
	return binary.LittleEndian.Uint32(e.ref[:4]), binary.LittleEndian.Uint32(e.ref[4:])
}

// pack returns a value of up to 8 bytes as an integer, its bytes in
// little-endian order and zeros after them.
func pack(v []byte) uint64 {
	// Overlapping loads instead of a copy into a zeroed array: no call to
	// memmove on the path every short value takes.
	switch n := len(v); {
	case n == 8:
		return binary.LittleEndian.Uint64(v)
	case n >= 4:
		lo := uint64(binary.LittleEndian.Uint32(v))
		hi := uint64(binary.LittleEndian.Uint32(v[n-4:])) >> (8 * (8 - n))
		return lo | hi<<32
	case n > 0:
		return uint64(v[0]) | uint64(v[n/2])<<(8*(n/2)) | uint64(v[n-1])<<(8*(n-1))
	}
	return 0
}

// shortKey is a per-process secret mixed into the hashes of short values.
var shortKey = maphash.Bytes(hashSeed, []byte("short"))

// hashOf returns the hash of a value: a few multiplications for a value of
// up to 8 bytes (symbols, sides, venues, booleans), maphash for a longer one.
func hashOf(v []byte) uint64 {
	if len(v) <= 8 {
		return hashShort(pack(v), len(v))
	}
	return maphash.Bytes(hashSeed, v)
}

// hashShort is hashOf a value of n <= 8 bytes packed into x: murmur3's
// finalizer, a bijection, over the value, its length and shortKey.
func hashShort(x uint64, n int) uint64 {
	h := x ^ shortKey ^ uint64(n)<<58
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// catEntrySize is the size of a catEntry in bytes.
const catEntrySize = 40

// hashSeed is shared by every column so that hashes agree across partials.
var hashSeed = maphash.MakeSeed()

// Sizes of the blocks of a column's memory. Each structure grows by whole
// blocks that are never copied, so growing leaves no garbage behind, and
// starts small, so that narrow columns and small budgets cost little.
const (
	// pageShift gives the entries of one page: 1024 (40 KiB). Only page 0
	// grows (by append, up to a full page); the others are allocated full.
	pageShift = 10
	pageLen   = 1 << pageShift
	pageMask  = pageLen - 1
	// minArenaBlock and maxArenaBlock bound the blocks values are copied
	// into; blocks double from the first to the last size. A value longer
	// than a quarter of maxArenaBlock gets a block of its own.
	minArenaBlock = 256
	maxArenaBlock = 1 << 20
)

// catCol accumulates a non-numeric column (STRING, BOOLEAN, DATE, ...): a
// count per distinct value with the row it first appears in. The entries
// live in memory while the budget allows. Past it, the column either goes to
// disk as runs sorted by value (catPolicy.exact, while the spill files stay
// within their bound) or switches for good to sketches (catSketch): sk is
// then set and the entries, table, arena and runs are gone.
//
// While every value the column holds in memory is greater than the one
// before it (sorted is true: timestamps, sequence numbers, a file sorted by
// the column) a value is new exactly when it is greater than the last one,
// so the column keeps no hash table at all and its entries are already in
// run order. The first value out of order builds the table, an
// open-addressing one that keeps each value's hash: a new value is hashed
// once, not at every growth. A column still sorted when it must give up its
// memory without catPolicy.exact needs neither runs nor sketches: it
// switches to a catStream (st), an exact summary in memory bounded by the
// SpaceSaving capacity, until a value comes out of order, which converts it
// to sketches.
type catCol struct {
	pages  [][]catEntry // the entries, pageLen per page
	n      int          // number of entries
	last   int          // the entry of the previous value, a fast path for repeats; -1 if none
	sorted bool         // the entries are in strictly ascending value order and slots is nil
	slots  []uint64     // 0 for an empty slot, else the entry index + 1 in the low and the hash's top bits in the high 32 bits; len is a power of two
	blocks [][]byte     // the arena: the bytes of the values, by block
	open   int          // 1 + the index of the block short values are appended to; 0 if none
	size   int64        // memory charged for everything above (or for sk)
	runs   []run
	sk     *catSketch // non-nil once the column is summarized by sketches
	st     *catStream // non-nil while the column is summarized exactly as an ascending stream
}

func newCatCol() *catCol { return &catCol{last: -1, sorted: true} }

// entry returns entry j.
func (c *catCol) entry(j int) *catEntry { return &c.pages[j>>pageShift][j&pageMask] }

// key returns the bytes of e's value. A short value's bytes are in the
// entry: they are valid until the column grows.
func (c *catCol) key(e *catEntry) []byte {
	if e.n <= 8 {
		return e.ref[:e.n:e.n]
	}
	blk, off := e.refOf()
	return c.blocks[blk][off : off+e.n : off+e.n]
}

// equal reports whether e holds v, which packs into x if short.
func (c *catCol) equal(e *catEntry, v []byte, x uint64) bool {
	if int(e.n) != len(v) {
		return false
	}
	if len(v) <= 8 {
		return binary.LittleEndian.Uint64(e.ref[:]) == x
	}
	return bytes.Equal(c.key(e), v)
}

// intern copies v into the arena and returns where it is and the change in
// memory use.
func (c *catCol) intern(v []byte) (blk, off uint32, d int64) {
	if c.open == 0 || len(v) > cap(c.blocks[c.open-1])-len(c.blocks[c.open-1]) {
		size := minArenaBlock
		if c.open > 0 {
			size = min(2*cap(c.blocks[c.open-1]), maxArenaBlock)
		}
		if len(v) > size/4 && len(v) > minArenaBlock {
			// A long value gets a block of its own; the open block stays
			// open for short values.
			c.blocks = append(c.blocks, slices.Clone(v))
			return uint32(len(c.blocks) - 1), 0, int64(cap(c.blocks[len(c.blocks)-1]))
		}
		c.blocks = append(c.blocks, make([]byte, 0, size))
		c.open = len(c.blocks)
		d = int64(size)
	}
	b := &c.blocks[c.open-1]
	off = uint32(len(*b))
	*b = append(*b, v...)
	return uint32(c.open - 1), off, d
}

// appendEntry adds e as entry c.n and returns the change in memory use.
func (c *catCol) appendEntry(e catEntry) int64 {
	var d int64
	p := c.n >> pageShift
	if p == len(c.pages) {
		if p == 0 {
			c.pages = append(c.pages, make([]catEntry, 0, 8))
			d = 8 * catEntrySize
		} else {
			c.pages = append(c.pages, make([]catEntry, 0, pageLen))
			d = pageLen * catEntrySize
		}
	}
	pg := &c.pages[p]
	if before := cap(*pg); len(*pg) == before {
		*pg = slices.Grow(*pg, min(before, pageLen-before))
		d += int64(cap(*pg)-before) * catEntrySize
	}
	*pg = append(*pg, e)
	c.n++
	return d
}

// newEntry copies v into the arena and appends its entry. It returns the
// change in memory use.
func (c *catCol) newEntry(v []byte, h uint64, count, first int64) int64 {
	e := catEntry{hash: h, count: count, first: first, n: uint32(len(v))}
	var d int64
	if len(v) <= 8 {
		copy(e.ref[:], v)
	} else {
		var blk, off uint32
		blk, off, d = c.intern(v)
		binary.LittleEndian.PutUint32(e.ref[:4], blk)
		binary.LittleEndian.PutUint32(e.ref[4:], off)
	}
	d += c.appendEntry(e)
	c.last = c.n - 1
	c.size += d
	return d
}

// find returns the index of the entry for v, or -1 and the empty slot where
// it belongs. The column must not be sorted.
func (c *catCol) find(v []byte, x, h uint64) (entry, slot int) {
	mask := len(c.slots) - 1
	tag := h &^ slotIndexMask
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := c.slots[i]
		if s == 0 {
			return -1, i
		}
		// The tag spares most mismatches a visit to the entry.
		if s&^slotIndexMask == tag {
			j := int(s&slotIndexMask) - 1
			if e := c.entry(j); e.hash == h && c.equal(e, v, x) {
				return j, i
			}
		}
	}
}

// slotIndexMask selects the entry index + 1 in a slot. The memory budget is
// capped (maxMemoryBudget) so that a column never holds 2^32-1 entries.
const slotIndexMask = 1<<32 - 1

func slotOf(entry int, h uint64) uint64 { return uint64(entry+1) | h&^slotIndexMask }

// add records one non-missing value in the given row. v may alias a buffer
// the caller reuses. It returns the change in memory use.
func (c *catCol) add(v []byte, row int64) int64 {
	if c.sk != nil {
		c.sk.add(v, 1)
		return 0
	}
	if c.st != nil {
		d, ok := c.st.add(v, row)
		c.size += d
		if ok {
			return d
		}
		// Out of order: the stream's summary seeds the sketches.
		d += c.streamToSketch()
		c.sk.add(v, 1)
		return d
	}
	var x uint64
	if len(v) <= 8 {
		x = pack(v)
	}
	if c.last >= 0 {
		if e := c.entry(c.last); c.equal(e, v, x) {
			e.count++
			return 0
		}
	}
	var d int64
	if c.sorted {
		if c.n == 0 || bytes.Compare(v, c.key(c.entry(c.n-1))) > 0 {
			return c.newEntry(v, 0, 1, row)
		}
		d = c.index()
	}
	var h uint64
	if len(v) <= 8 {
		h = hashShort(x, len(v))
	} else {
		h = maphash.Bytes(hashSeed, v)
	}
	if i, _ := c.find(v, x, h); i >= 0 {
		c.entry(i).count++
		c.last = i
		return d
	}
	return d + c.insert(v, x, h, 1, row)
}

// insert adds an entry for a value that has none, in a column that is not
// sorted, and returns the change in memory use.
func (c *catCol) insert(v []byte, x, h uint64, count, first int64) int64 {
	var d int64
	if (c.n+1)*4 > len(c.slots)*3 {
		d += c.grow()
	}
	_, slot := c.find(v, x, h)
	d += c.newEntry(v, h, count, first)
	c.slots[slot] = slotOf(c.last, h)
	return d
}

// index ends the sorted state: it hashes the entries and builds the table.
// It returns the change in memory use.
func (c *catCol) index() int64 {
	c.sorted = false
	for j := range c.n {
		e := c.entry(j)
		e.hash = hashOf(c.key(e))
	}
	return c.grow()
}

// grow doubles the table, or more until it has room for one more entry,
// placing entries by their stored hashes. It returns the change in memory
// use.
func (c *catCol) grow() int64 {
	n := max(16, 2*len(c.slots))
	for (c.n+1)*4 > n*3 {
		n *= 2
	}
	c.slots = make([]uint64, n)
	mask := n - 1
	for j := range c.n {
		h := c.entry(j).hash
		i := int(h) & mask
		for c.slots[i] != 0 {
			i = (i + 1) & mask
		}
		c.slots[i] = slotOf(j, h)
	}
	// The new table is charged, and as much again for the tables it
	// replaced (half as big, a quarter...): they are garbage until the next
	// collection, and the budget is about the memory really in use.
	d := int64(n) * 8
	if n > 16 {
		d = int64(n) * 8 * 3 / 2
	}
	c.size += d
	return d
}

// mem returns the bytes the column holds in memory.
func (c *catCol) mem() int64 { return c.size }

// order returns the entry indexes in ascending value order, in perm if it
// is big enough.
func (c *catCol) order(perm []uint32) []uint32 {
	perm = perm[:0]
	for j := range c.n {
		perm = append(perm, uint32(j))
	}
	if !c.sorted {
		slices.SortFunc(perm, func(a, b uint32) int { return bytes.Compare(c.key(c.entry(int(a))), c.key(c.entry(int(b)))) })
	}
	return perm
}

// spill frees the column's entries and returns the change in memory use.
// Without pol.exact it converts the column to an exact stream summary if its
// values are in ascending order and it has no runs (toStream), else to
// sketches (toSketch). With it, it writes the entries to a run sorted by
// value, unless the run, and the compaction it may trigger, would take the
// bytes written to spill files past their bound (tempFiles.allow): then it
// converts the column to sketches too. That estimate is only a first check:
// compaction may merge several rounds, so compactRuns checks each merge
// against the bound, and a merge refused (errSpillFull) converts the column,
// runs included, to sketches as well. A column already converted (stream
// or sketches) has nothing to free.
func (c *catCol) spill(ctx context.Context, t *tempFiles, fanIn int, pol catPolicy) (int64, error) {
	if c.sk != nil || c.st != nil {
		return 0, nil
	}
	if !pol.exact {
		if c.streamable() {
			if c.n == 0 {
				return 0, nil // nothing to free; a stream would cost more
			}
			return c.toStream(pol.ssCap), nil
		}
		return c.toSketch(ctx, pol.ssCap)
	}
	if c.n == 0 {
		return 0, nil
	}
	need := c.runBytes()
	if len(c.runs)+1 > 2*fanIn {
		// The compaction below rewrites at most every run, this one too.
		need += need + runsBytes(c.runs)
	}
	if !t.allow(need) {
		return c.toSketch(ctx, pol.ssCap)
	}
	rw, err := newRunWriter(t)
	if err != nil {
		return 0, err
	}
	write := func(j int) error {
		e := c.entry(j)
		return rw.writeEntry(c.key(e), e.count, e.first)
	}
	if c.sorted {
		for j := range c.n {
			if err = write(j); err != nil {
				break
			}
		}
	} else {
		// The table is dropped next: its memory holds the order.
		perm := c.order(uint32Slice(c.slots))
		for _, j := range perm {
			if err = write(int(j)); err != nil {
				break
			}
		}
	}
	if err != nil {
		rw.abort()
		return 0, fmt.Errorf("write spill file: %w", err)
	}
	r, err := rw.finish()
	if err != nil {
		return 0, err
	}
	c.runs = append(c.runs, r)
	freed := -c.size
	runs := c.runs
	*c = *newCatCol()
	c.runs = runs
	if len(c.runs) > 2*fanIn {
		c.runs, err = compactRuns(t, c.runs, fanIn, fanIn, func(rs []run) (run, error) { return mergeEntryRuns(ctx, t, rs) })
		if errors.Is(err, errSpillFull) {
			// No room for the compaction: the runs go to sketches.
			d, err := c.toSketch(ctx, pol.ssCap)
			return freed + d, err
		}
	}
	return freed, err
}

// runBytes returns the size of the run spill would write: each entry's value
// with its length, count and first-seen row as uvarints.
func (c *catCol) runBytes() int64 {
	var n int64
	for j := range c.n {
		e := c.entry(j)
		n += int64(e.n) + int64(uvarintLen(uint64(e.n))+uvarintLen(uint64(e.count))+uvarintLen(uint64(e.first)))
	}
	return n
}

// toSketch converts the column for good to sketches (catSketch with a
// SpaceSaving of m counters): every distinct value it holds, in memory or in
// runs, is fed once with its count; the entries, table and arena are freed
// and the run files removed. It returns the change in memory use: the
// sketches are charged at their bound (sketchBytes).
//
// Without runs the values are fed in the order they first appear in the
// rows (entries are appended in that order, merged ones after), so that
// SpaceSaving's ties still go to the value seen first. With runs they come
// through the k-way merge in value order instead: the first m+1 are held
// back (as SpaceSaving keys, at most MaxTopBytes each, with hash, count and
// first row: transient memory of about (m+1) x 1 KiB, like the sketch's
// own bound) and, if the column has at most m distinct values, fed in
// first-row order, so that the SpaceSaving, exact, breaks ties as the
// report promises. With more, they are fed in value order (bounded memory
// forbids sorting them all by row): among values of equal counts the one
// kept or listed first is then the smaller one, in a summary that is not
// exact anyway; their counts keep their guarantees.
// All runs are read at once: at most 2 x fanIn + 1 open files.
func (c *catCol) toSketch(ctx context.Context, m int) (int64, error) {
	if c.sk != nil {
		return 0, nil
	}
	if c.st != nil {
		return c.streamToSketch(), nil
	}
	sk := newCatSketch(m)
	if len(c.runs) == 0 {
		for j := range c.n {
			e := c.entry(j)
			sk.add(c.key(e), e.count)
		}
	} else {
		// The table is dropped next: its memory holds the order.
		capacity := sk.ss.Capacity()
		held := make([]heldTop, 0, min(capacity, 64)+1) // nil once more than capacity values were seen
		overflow := false
		err := c.eachDistinct(ctx, uint32Slice(c.slots), func(v []byte, count, first int64) {
			key, h := sk.addExceptTop(v, count)
			if overflow {
				sk.ss.UpdateHash(key, h, uint64(count))
				return
			}
			held = append(held, heldTop{key: bytes.Clone(key), h: h, count: count, first: first})
			if len(held) > capacity {
				// Too many to be exact: feed in value order from now on.
				for _, e := range held {
					sk.ss.UpdateHash(e.key, e.h, uint64(e.count))
				}
				held, overflow = nil, true
			}
		})
		if err != nil {
			return 0, err
		}
		slices.SortFunc(held, func(a, b heldTop) int { return cmp.Compare(a.first, b.first) })
		for _, e := range held {
			sk.ss.UpdateHash(e.key, e.h, uint64(e.count))
		}
	}
	for _, r := range c.runs {
		os.Remove(r.path)
	}
	before := c.size
	*c = catCol{last: -1, sk: sk, size: sketchBytes(m)}
	return c.size - before, nil
}

// heldTop is a value toSketch holds back to feed a SpaceSaving in first-row
// order: its key (the value as SpaceSaving gets it), hash, count and first
// row.
type heldTop struct {
	key          []byte
	h            uint64
	count, first int64
}

// eachDistinct calls f with every distinct value of the column, in value
// order, with its total count and first-seen row, merging the entries in
// memory with every run. The order of the entries is built in perm when it
// is big enough (see order).
func (c *catCol) eachDistinct(ctx context.Context, perm []uint32, f func(v []byte, count, first int64)) error {
	srcs := []entrySource{&memEntries{c: c, perm: c.order(perm)}}
	for _, r := range c.runs {
		rr, err := openRun(r)
		if err != nil {
			return err
		}
		defer rr.close()
		srcs = append(srcs, runEntries{rr})
	}
	m, err := newEntryMerger(srcs)
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		if i&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		v, count, first, ok, err := m.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		f(v, count, first)
	}
}

// uvarintLen returns the length of x as a uvarint.
func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// uint32Slice reuses the memory of s as a []uint32 of twice the capacity.
func uint32Slice(s []uint64) []uint32 {
	if cap(s) == 0 {
		return nil
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(s))), 2*cap(s))[:0]
}

// merge folds o, a column of the rows that follow c's, into c; rowOffset is
// the number of rows c covers. It returns the change in c's memory use; o
// must not be used afterwards. When either side is a stream (catStream) and
// c's values all come before o's (c's last at most o's first), both become
// streams (toStream: a side with entries in memory, sorted and without runs)
// and the summaries merge, still exact. Otherwise, when either side has
// sketches or a stream, the other is converted (toSketch with m counters,
// reading its runs) and the sketches merge, c's first so that ties keep
// going to c's values.
func (c *catCol) merge(o *catCol, rowOffset int64, m int) (int64, error) {
	before := c.size
	if c.sk == nil && o.sk == nil && (c.st != nil || o.st != nil) && c.inOrderWith(o) {
		if c.st == nil && c.streamable() {
			c.toStream(m)
		}
		if o.st == nil && o.streamable() {
			o.toStream(m)
		}
		if c.st != nil && o.st != nil {
			c.size += c.st.merge(o.st, rowOffset)
			*o = *newCatCol()
			return c.size - before, nil
		}
	}
	if c.sk != nil || o.sk != nil || c.st != nil || o.st != nil {
		if _, err := c.toSketch(context.Background(), m); err != nil {
			return c.size - before, err
		}
		if _, err := o.toSketch(context.Background(), m); err != nil {
			return c.size - before, err
		}
		c.sk.merge(o.sk)
		*o = *newCatCol()
		return c.size - before, nil
	}
	switch {
	case o.n == 0:
	case c.sorted && o.sorted && (c.n == 0 || bytes.Compare(c.key(c.entry(c.n-1)), o.key(o.entry(0))) < 0):
		// Still in order: take o's arena over and append its entries.
		base := uint32(len(c.blocks))
		c.blocks = append(c.blocks, o.blocks...)
		c.size += o.size
		for j := range o.n {
			e := *o.entry(j)
			if e.n > 8 {
				blk, off := e.refOf()
				binary.LittleEndian.PutUint32(e.ref[:4], blk+base)
				binary.LittleEndian.PutUint32(e.ref[4:], off)
			}
			e.first += rowOffset
			c.size += c.appendEntry(e)
		}
		c.last = c.n - 1
	default:
		if c.sorted {
			c.index() // charges c.size itself
		}
		for j := range o.n {
			e := o.entry(j)
			v := o.key(e)
			h := e.hash
			if o.sorted {
				h = hashOf(v)
			}
			var x uint64
			if len(v) <= 8 {
				x = pack(v)
			}
			if i, _ := c.find(v, x, h); i >= 0 {
				c.entry(i).count += e.count
				continue
			}
			c.insert(v, x, h, e.count, e.first+rowOffset)
		}
	}
	for _, r := range o.runs {
		r.rowOffset += rowOffset
		c.runs = append(c.runs, r)
	}
	*o = *newCatCol()
	return c.size - before, nil
}

// stats computes the column's statistics and returns them with the change
// in memory use. Ties for the most frequent value go to the value that
// appears first in the file. A column with more runs than one merge reads
// compacts them first; if that would take the spill files past their bound
// (estimated first, then checked before each merge by compactRuns) it is
// converted to sketches instead (for good: later calls agree).
func (c *catCol) stats(ctx context.Context, t *tempFiles, fanIn int, pol catPolicy) (*typev1.CategoricalStats, int64, error) {
	if c.st != nil {
		return c.st.stats(), 0, nil
	}
	var d int64
	if len(c.runs) > max(fanIn-1, 1) && !t.allow(2*runsBytes(c.runs)) {
		var err error
		if d, err = c.toSketch(ctx, pol.ssCap); err != nil {
			return nil, 0, err
		}
	}
	if c.sk != nil {
		return c.sk.stats(), d, nil
	}
	var sum catSummary
	if len(c.runs) == 0 {
		for j := range c.n {
			e := c.entry(j)
			sum.add(c.key(e), e.count, e.first)
		}
		return sum.stats(), 0, nil
	}
	var err error
	c.runs, err = compactRuns(t, c.runs, fanIn-1, fanIn, func(rs []run) (run, error) { return mergeEntryRuns(ctx, t, rs) })
	if errors.Is(err, errSpillFull) {
		// No room for the compaction after all: sketches, for good.
		if d, err = c.toSketch(ctx, pol.ssCap); err != nil {
			return nil, 0, err
		}
		return c.sk.stats(), d, nil
	}
	if err != nil {
		return nil, 0, err
	}
	// A separate order: the table must stay valid for later calls.
	if err := c.eachDistinct(ctx, nil, sum.add); err != nil {
		return nil, 0, err
	}
	return sum.stats(), 0, nil
}

// TopValues is how many of the most frequent values a report lists.
const TopValues = 10

// catSummary folds the distinct values of a column, each with its count and
// the row it first appears in, into the column's statistics.
type catSummary struct {
	unique int64
	lengths
	top []topEntry
}

// lengths are the count of a column's values and their lengths in code
// points, repeats included.
type lengths struct {
	count          int64 // values, repeats included
	minLen, maxLen int64
	sumLen         int64 // code points over all values, repeats included
}

// addLen counts w >= 1 occurrences of a value of n code points.
func (l *lengths) addLen(n, w int64) {
	if l.count == 0 || n < l.minLen {
		l.minLen = n
	}
	l.maxLen = max(l.maxLen, n)
	l.count += w
	l.sumLen += n * w
}

// mergeLengths adds o's values to l's.
func (l *lengths) mergeLengths(o lengths) {
	if o.count == 0 {
		return
	}
	if l.count == 0 || o.minLen < l.minLen {
		l.minLen = o.minLen
	}
	l.maxLen = max(l.maxLen, o.maxLen)
	l.count += o.count
	l.sumLen += o.sumLen
}

// fill sets the length figures of st.
func (l *lengths) fill(st *typev1.CategoricalStats) {
	st.MinLength, st.MaxLength = l.minLen, l.maxLen
	if l.count > 0 {
		st.MeanLength = proto.Float64(float64(l.sumLen) / float64(l.count))
	}
}

// topEntry is a candidate for the most frequent values.
type topEntry struct {
	value        []byte
	count, first int64
	// long is set when the value was longer than MaxTopBytes, value being
	// its cut form (set by catStream only).
	long bool
}

// before reports whether a ranks above b: more frequent, or as frequent and
// seen first.
func (a *topEntry) before(b *topEntry) bool {
	return a.count > b.count || (a.count == b.count && a.first < b.first)
}

// add folds one distinct value. v may be reused by the caller.
func (s *catSummary) add(v []byte, count, first int64) {
	s.addLen(int64(utf8.RuneCount(v)), count)
	e := topEntry{count: count, first: first}
	if len(s.top) == TopValues && !e.before(&s.top[TopValues-1]) {
		return
	}
	// Insert in rank order, dropping the last if full; the value's bytes
	// are cut and copied.
	e.value = []byte(topValue(v))
	i := len(s.top)
	for i > 0 && e.before(&s.top[i-1]) {
		i--
	}
	if len(s.top) < TopValues {
		s.top = append(s.top, topEntry{})
	}
	copy(s.top[i+1:], s.top[i:])
	s.top[i] = e
}

// addLen folds the figures other than the top values of one distinct value
// of n code points that occurs count times.
func (s *catSummary) addLen(n, count int64) {
	s.unique++
	s.lengths.addLen(n, count)
}

// mergeLens folds o's figures other than the top values into s, for
// summaries of disjoint sets of distinct values.
func (s *catSummary) mergeLens(o *catSummary) {
	s.unique += o.unique
	s.mergeLengths(o.lengths)
}

// stats returns the figures.
func (s *catSummary) stats() *typev1.CategoricalStats {
	st := &typev1.CategoricalStats{
		Unique:         s.unique,
		Distinct:       &typev1.DistinctCount{Value: s.unique, Exact: true},
		TopValuesExact: true,
	}
	s.fill(st)
	for i, e := range s.top {
		if i == 0 {
			st.Top, st.Freq = string(e.value), e.count
		}
		st.TopValues = append(st.TopValues, &typev1.ValueCount{Value: string(e.value), Count: e.count})
	}
	return st
}

// memEntries yields a column's in-memory entries in value order.
type memEntries struct {
	c    *catCol
	perm []uint32
	i    int
}

func (s *memEntries) next() ([]byte, int64, int64, bool, error) {
	if s.i == len(s.perm) {
		return nil, 0, 0, false, nil
	}
	e := s.c.entry(int(s.perm[s.i]))
	s.i++
	return s.c.key(e), e.count, e.first, true, nil
}

// mergeEntryRuns merges categorical runs into a new one, with row offsets
// applied.
func mergeEntryRuns(ctx context.Context, t *tempFiles, runs []run) (run, error) {
	return mergeRuns(ctx, t, runs, func(rr *runReader) entrySource { return runEntries{rr} },
		func(srcs []entrySource) (func(*runWriter) (bool, error), error) {
			m, err := newEntryMerger(srcs)
			if err != nil {
				return nil, err
			}
			return func(rw *runWriter) (bool, error) {
				v, count, first, ok, err := m.next()
				if err != nil || !ok {
					return false, err
				}
				if err := rw.writeEntry(v, count, first); err != nil {
					return false, fmt.Errorf("write spill file: %w", err)
				}
				return true, nil
			}, nil
		})
}

// MaxTopBytes bounds the `top` value a report carries, so that a column of
// huge values cannot make a report (and every job listing it) huge.
const MaxTopBytes = 1024

// topValue returns v as the report's top value: cut to MaxTopBytes at a
// UTF-8 character boundary, with "…" marking a cut.
func topValue(v []byte) string {
	if len(v) <= MaxTopBytes {
		return string(v)
	}
	return string(appendTopValue(nil, v))
}

// appendTopValue appends topValue(v) to b, for a v longer than MaxTopBytes.
func appendTopValue(b, v []byte) []byte {
	cut := MaxTopBytes - len("…")
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return append(append(b, v[:cut]...), "…"...)
}

// catPolicy says what text columns do past the memory budget.
type catPolicy struct {
	// exact keeps their figures exact by spilling runs to disk, within the
	// spill files' bound (Config.ExactCategorical).
	exact bool
	// ssCap is the number of SpaceSaving counters of a sketched column
	// (sketchCapacity).
	ssCap int
}

// Memory charged for the sketches of one column (sketchBytes). Both are
// bounds, not averages, so that the budget holds whatever the values.
const (
	// hllSketchBytes is an HLL that estimates from the start: its 2^14
	// one-byte registers and its header.
	hllSketchBytes = 16<<10 + 256
	// ssCounterBytes is one SpaceSaving counter: about 80 bytes of
	// bookkeeping (counter, heap entry, two table slots), a value cut to
	// sketch.MaxValueLen = 1 KiB, and the allocator's rounding of that
	// value's buffer.
	ssCounterBytes = 1280
	// minSketchCapacity and maxSketchCapacity clamp sketchCapacity.
	minSketchCapacity = 64
	maxSketchCapacity = sketch.DefaultCapacity
)

// sketchBytes returns the memory charged for a column's sketches with a
// SpaceSaving of m counters: 16.25 KiB + 1.25 KiB x m, at most 1.27 MiB.
func sketchBytes(m int) int64 { return hllSketchBytes + int64(m)*ssCounterBytes }

// sketchCapacity returns the SpaceSaving counters of each sketched text
// column for a budget shared by ncat text columns: as many as fit an eighth
// of the budget split evenly between the columns, clamped to [64, 1024].
// So when every text column is sketched their sketches take at most
// budget/8 as long as the budget is at least ncat x 8 x sketchBytes(64) =
// ncat x 770 KiB (default budget, 256 MiB: up to 340 text columns, with
// 1024 counters for up to 25 of them); with a smaller budget each takes
// sketchBytes(64) = 96 KiB, ncat x 96 KiB in all, which then may exceed
// it. The counts SpaceSaving reports overstate by at most N/m (N the
// column's values): N/64 at worst, N/1024 with the default budget.
func sketchCapacity(budget int64, ncat int) int {
	if ncat < 1 {
		return maxSketchCapacity
	}
	m := (budget/8/int64(ncat) - hllSketchBytes) / ssCounterBytes
	return int(min(max(m, minSketchCapacity), maxSketchCapacity))
}

// catSketch summarizes a text column in bounded memory: a HyperLogLog for
// the distinct count, a SpaceSaving for the most frequent values, and the
// count and code-point lengths, which stay exact.
type catSketch struct {
	hll *sketch.HLL
	ss  *sketch.SpaceSaving
	lengths
	buf []byte // a long value cut for ss
	// cut is set once a value longer than MaxTopBytes was cut for ss, so
	// that ss may hold fewer values than there are distinct ones.
	cut bool
}

// newCatSketch returns empty sketches with a SpaceSaving of m counters.
// The HLL estimates from the start: its exact mode would cost memory
// proportional to its exact budget, and a column only gets here with more
// distinct values than its share of memory held.
func newCatSketch(m int) *catSketch {
	return &catSketch{hll: sketch.NewHLL(sketch.HLLConfig{MaxExactValues: -1}), ss: sketch.NewSpaceSaving(m)}
}

// add counts w >= 1 occurrences of v. The HLL gets the whole value; the
// SpaceSaving gets it as a report shows it (topValue: a value longer than
// MaxTopBytes cut at a character boundary and marked with "…"), so that
// what it keeps is always valid to report.
func (s *catSketch) add(v []byte, w int64) {
	key, h := s.addExceptTop(v, w)
	s.ss.UpdateHash(key, h, uint64(w))
}

// addExceptTop counts w >= 1 occurrences of v in everything but the
// SpaceSaving, and returns the key and hash (sketch.HashValue) the
// SpaceSaving is to get them under: v itself, or v cut as a report shows it
// in a buffer valid until the next call.
func (s *catSketch) addExceptTop(v []byte, w int64) (key []byte, h uint64) {
	n := int64(utf8.RuneCount(v))
	if len(v) <= MaxTopBytes && len(v) <= sketch.MaxValueLen {
		// One hash for both: Hash64 of a value SpaceSaving does not cut is
		// its HashValue.
		key, h = v, sketch.Hash64(v)
		s.hll.UpdateHash(h)
	} else {
		s.hll.Update(v)
		s.buf = appendTopValue(s.buf[:0], v)
		s.cut = true
		key, h = s.buf, sketch.HashValue(s.buf)
	}
	s.addLen(n, w)
	return key, h
}

// merge folds o into s; o's values count as seen after s's.
func (s *catSketch) merge(o *catSketch) {
	if o.count == 0 {
		return
	}
	s.mergeLengths(o.lengths)
	s.cut = s.cut || o.cut
	s.hll.Merge(o.hll)
	s.ss.Merge(o.ss)
}

// stats returns the figures: the top values are SpaceSaving's, with their
// stated errors; the distinct count is the HLL estimate (kept between the
// number of values listed and the number of values), except while the
// SpaceSaving has evicted nothing and no value was cut for it: it then holds
// every distinct value, and their number and counts are exact. Values cut
// for it (longer than MaxTopBytes) that agree up to the cut are counted as
// one, whose count then covers them all: the top values are not exact.
func (s *catSketch) stats() *typev1.CategoricalStats {
	items := s.ss.TopK(TopValues)
	distinct := &typev1.DistinctCount{Value: int64(s.ss.Len()), Exact: true}
	if !s.ss.Exact() || s.cut {
		est := min(max(int64(s.hll.Estimate()), int64(len(items))), s.count)
		distinct = &typev1.DistinctCount{Value: est, Exact: s.hll.Exact(), RelativeError: s.hll.RelativeError()}
	}
	st := &typev1.CategoricalStats{
		Unique:            distinct.Value,
		Distinct:          distinct,
		TopValuesExact:    s.ss.Exact() && !s.cut,
		TopValuesMaxError: int64(s.ss.MaxError()),
	}
	s.fill(st)
	for i, it := range items {
		v := topValue(it.Value)
		if i == 0 {
			st.Top, st.Freq = v, int64(it.Count)
		}
		st.TopValues = append(st.TopValues, &typev1.ValueCount{Value: v, Count: int64(it.Count)})
	}
	return st
}

// streamable reports whether the column can become a catStream: its values,
// all in memory, are in ascending order.
func (c *catCol) streamable() bool {
	return c.sk == nil && c.st == nil && c.sorted && len(c.runs) == 0
}

// inOrderWith reports whether every value of c is at most every value of o,
// as far as their states tell: a stream knows its first and last values, a
// sorted column in memory its entries; an empty side is in order. Any other
// state (sketches, a hash table, runs) is not.
func (c *catCol) inOrderWith(o *catCol) bool {
	if !c.orderKnown() || !o.orderKnown() {
		return false
	}
	if c.empty() || o.empty() {
		return true
	}
	return bytes.Compare(c.lastValue(), o.firstValue()) <= 0
}

// orderKnown reports whether the column is a stream or streamable: its
// first and last values are known.
func (c *catCol) orderKnown() bool { return c.st != nil || c.streamable() }

// empty reports whether a stream or streamable column holds no value.
func (c *catCol) empty() bool {
	if c.st != nil {
		return c.st.lastCount == 0
	}
	return c.n == 0
}

// lastValue returns the greatest value of a non-empty stream or streamable
// column.
func (c *catCol) lastValue() []byte {
	if c.st != nil {
		return c.st.last
	}
	return c.key(c.entry(c.n - 1))
}

// firstValue returns the smallest value of a non-empty stream or
// streamable column.
func (c *catCol) firstValue() []byte {
	if c.st != nil {
		return c.st.firstVal
	}
	return c.key(c.entry(0))
}

// toStream converts a streamable column to a catStream keeping m top
// values: its entries, in value order which is also the order they first
// appear in, are pushed with their counts, then freed. It returns the
// change in memory use.
func (c *catCol) toStream(m int) int64 {
	st := newCatStream(m)
	for j := range c.n {
		e := c.entry(j)
		st.push(c.key(e), e.count, e.first)
	}
	before := c.size
	*c = catCol{last: -1, st: st, size: st.size}
	return c.size - before
}

// streamToSketch converts a stream column to sketches (catStream.toSketch)
// and returns the change in memory use.
func (c *catCol) streamToSketch() int64 {
	m := c.st.m
	before := c.size
	*c = catCol{last: -1, sk: c.st.toSketch(), size: sketchBytes(m)}
	return c.size - before
}

// topEntryBytes is the memory charged for each of a catStream's top values:
// the value's buffer, of at most MaxTopBytes (allocated to its length, so
// the allocator's size classes round it to at most 1 KiB), and its
// topEntry.
const topEntryBytes = MaxTopBytes + 64

// streamBytes returns the memory charged for a catStream keeping m top
// values, besides its copies of its first and last values: the HLL and the
// top values at their bounds, 16.25 KiB + 1.06 KiB x m.
func streamBytes(m int) int64 { return hllSketchBytes + int64(m)*topEntryBytes }

// catStream summarizes, exactly and in memory bounded by m, a text column
// whose distinct values come in strictly ascending order, each repeat of a
// value right after it (timestamps, sequence numbers): a value is complete
// when a greater one arrives, so the summary needs only the last value and
// its running count, the figures of the completed values (done), and the m
// best completed values by rank (count descending, then first row
// ascending), a superset of the TopValues a report lists. Its report is
// what catSummary gives for the same values (stats).
//
// It also feeds an HLL with every distinct value, so that when a value
// comes out of order (or a merge breaks the order) it converts to a
// catSketch with no loss beyond what sketches lose (toSketch).
type catStream struct {
	m         int    // how many completed values top keeps
	last      []byte // a copy of the last distinct value; complete once a greater one arrives
	lastCount int64  // its count so far; 0 while the stream is empty
	lastFirst int64  // the row it first appears in
	lastLen   int64  // its length in code points
	// firstVal is a copy of the first (smallest) value, to tell whether a
	// merge keeps the order; firstCount is its count once it is complete
	// (done.unique >= 1) and firstRow its first row.
	firstVal   []byte
	firstCount int64
	firstRow   int64
	done       catSummary // the completed values, top aside
	top        rankHeap   // at most m completed values; top[0] ranks lowest
	hll        *sketch.HLL
	cut        bool // some value was longer than MaxTopBytes
	// cutMass is the number of occurrences of the completed values (done)
	// longer than MaxTopBytes: what toSketch needs to bound the counts of
	// their cut forms.
	cutMass int64
	size    int64 // memory charged: streamBytes(m) and the two copies
}

// newCatStream returns an empty stream keeping m top values.
func newCatStream(m int) *catStream {
	return &catStream{m: m, hll: sketch.NewHLL(sketch.HLLConfig{MaxExactValues: -1}), size: streamBytes(m)}
}

// add records one value in the given row and returns the change in memory
// use, or false if v is less than the last value: the stream cannot take
// it.
func (s *catStream) add(v []byte, row int64) (int64, bool) {
	if s.lastCount > 0 {
		switch c := bytes.Compare(v, s.last); {
		case c == 0:
			s.lastCount++
			return 0, true
		case c < 0:
			return 0, false
		}
	}
	return s.push(v, 1, row), true
}

// push starts a new last value v, greater than the last one, with its count
// and first row, completing the last one. It returns the change in memory
// use.
func (s *catStream) push(v []byte, count, first int64) int64 {
	s.complete()
	before := cap(s.last) + cap(s.firstVal)
	s.last = copyValue(s.last, v)
	s.lastCount, s.lastFirst, s.lastLen = count, first, int64(utf8.RuneCount(v))
	if s.done.unique == 0 {
		s.firstVal, s.firstRow = copyValue(s.firstVal, v), first
	}
	s.cut = s.cut || len(v) > MaxTopBytes
	s.hll.UpdateHash(sketch.Hash64(v))
	d := int64(cap(s.last) + cap(s.firstVal) - before)
	s.size += d
	return d
}

// copyValue copies v into dst, allocating a buffer of v's length when dst
// is too small (not append's growth, so that the memory stays what is
// charged).
func copyValue(dst, v []byte) []byte {
	if cap(dst) < len(v) {
		dst = make([]byte, 0, len(v))
	}
	return append(dst[:0], v...)
}

// complete folds the last value, if any, into done and top.
func (s *catStream) complete() {
	if s.lastCount == 0 {
		return
	}
	s.done.addLen(s.lastLen, s.lastCount)
	if s.done.unique == 1 {
		s.firstCount = s.lastCount
	}
	long := len(s.last) > MaxTopBytes
	if long {
		s.cutMass += s.lastCount
	}
	s.offer(s.last, s.lastCount, s.lastFirst, long)
	s.lastCount = 0
}

// offer adds a completed value to top if it ranks among the m best so far;
// the value is cut as a report shows it (topValue). When top is full, a
// value that does not beat the lowest-ranked one costs one comparison: in
// an all-distinct column every value after the first m does not.
func (s *catStream) offer(v []byte, count, first int64, long bool) {
	e := topEntry{count: count, first: first, long: long}
	if len(s.top) < s.m {
		e.value = setTopValue(nil, v)
		heap.Push(&s.top, e)
		return
	}
	if !e.before(&s.top[0]) {
		return
	}
	e.value = setTopValue(s.top[0].value, v)
	s.top[0] = e
	heap.Fix(&s.top, 0)
}

// setTopValue copies topValue(v) into dst, reusing it when big enough.
func setTopValue(dst, v []byte) []byte {
	if len(v) <= MaxTopBytes {
		return copyValue(dst, v)
	}
	if cap(dst) < MaxTopBytes {
		dst = make([]byte, 0, MaxTopBytes)
	}
	return appendTopValue(dst[:0], v)
}

// rankHeap is a min-heap of top values by rank (container/heap): the
// lowest-ranked value is at the root.
type rankHeap []topEntry

func (h rankHeap) Len() int           { return len(h) }
func (h rankHeap) Less(i, j int) bool { return h[j].before(&h[i]) }
func (h rankHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *rankHeap) Push(x any)        { *h = append(*h, x.(topEntry)) }
func (h *rankHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// removeTop removes from top the value first seen in the given row, if it
// is there.
func (s *catStream) removeTop(row int64) {
	for i := range s.top {
		if s.top[i].first == row {
			heap.Remove(&s.top, i)
			return
		}
	}
}

// summary returns the figures of every value, the last one included, and
// the candidates for the top values (top's and the last value), in no
// particular order.
func (s *catStream) summary() (catSummary, []topEntry) {
	sum := s.done
	cands := slices.Clone(s.top)
	if s.lastCount > 0 {
		sum.addLen(s.lastLen, s.lastCount)
		cands = append(cands, topEntry{value: setTopValue(nil, s.last), count: s.lastCount, first: s.lastFirst, long: len(s.last) > MaxTopBytes})
	}
	return sum, cands
}

// stats returns the column's figures, all exact: those catSummary gives for
// the same values.
func (s *catStream) stats() *typev1.CategoricalStats {
	sum, cands := s.summary()
	slices.SortFunc(cands, rankOrder)
	sum.top = cands[:min(len(cands), TopValues)]
	return sum.stats()
}

// rankOrder orders top values by rank (before).
func rankOrder(a, b topEntry) int {
	switch {
	case a.before(&b):
		return -1
	case b.before(&a):
		return 1
	}
	return 0
}

// toSketch returns sketches equivalent to the stream: its HLL, already fed
// every distinct value; a SpaceSaving of m counters fed the exact counts of
// its m best values in the order they first appear (so ties keep going to
// the value seen first), marked inexact if the stream has other values,
// whose counts are at most the smallest fed (the SpaceSaving's Floor); and
// the exact count and lengths. The stream must not be used afterwards.
//
// The SpaceSaving counts a value longer than MaxTopBytes under its cut form
// (catSketch.add), which stands for every value sharing it, while the stream
// ranked full values: values left out may share the cut form of a value
// fed. Their occurrences number at most leftCut, the occurrences of long
// values minus those of the long values fed. So each cut form fed, or any
// fed value that could equal a cut form (mayBeCut), gets leftCut more as
// count and error (once per form: UpdateRange), and leftCut is also a floor
// for the cut forms not fed at all (MarkInexactFloor): every Count stays an
// upper bound and Count-Error a lower one, at the price of errors of up to
// leftCut when a long value's prefix is shared.
func (s *catStream) toSketch() *catSketch {
	sum, cands := s.summary()
	if len(cands) > s.m {
		slices.SortFunc(cands, rankOrder)
		cands = cands[:s.m]
	}
	slices.SortFunc(cands, func(a, b topEntry) int { return cmp.Compare(a.first, b.first) })
	sk := &catSketch{hll: s.hll, ss: sketch.NewSpaceSaving(s.m), cut: s.cut, lengths: sum.lengths}
	leftCut := s.cutMass
	if s.lastCount > 0 && len(s.last) > MaxTopBytes {
		leftCut += s.lastCount
	}
	for _, e := range cands {
		if e.long {
			leftCut -= e.count
		}
	}
	var padded map[string]bool // cut forms already given leftCut
	if leftCut > 0 {
		padded = make(map[string]bool)
	}
	for _, e := range cands {
		var extra uint64
		if leftCut > 0 && mayBeCut(e.value) && !padded[string(e.value)] {
			padded[string(e.value)] = true
			extra = uint64(leftCut)
		}
		sk.ss.UpdateRange(e.value, uint64(e.count), extra)
	}
	if sum.unique > int64(len(cands)) {
		sk.ss.MarkInexactFloor(uint64(max(leftCut, 0)))
	}
	return sk
}

// mayBeCut reports whether a SpaceSaving key could be the cut form of a
// value longer than MaxTopBytes (appendTopValue): it ends with "…" and is
// long enough.
func mayBeCut(key []byte) bool {
	return len(key) > MaxTopBytes-len("…")-utf8.UTFMax && bytes.HasSuffix(key, []byte("…"))
}

// merge folds o, the stream of the rows that follow s's (rowOffset rows
// on), into s; s's last value must be at most o's first. When they are
// equal, the value's counts add: it is s's last, continued by o. It returns
// the change in s's memory use; o must not be used afterwards.
func (s *catStream) merge(o *catStream, rowOffset int64) int64 {
	if o.lastCount == 0 {
		return 0
	}
	before := s.size
	if s.lastCount > 0 && bytes.Equal(s.last, o.firstVal) {
		if o.done.unique == 0 {
			// o holds that one value.
			s.lastCount += o.lastCount
			s.hll.Merge(o.hll)
			return 0
		}
		// Take o's first value out of its completed ones into s's last.
		// Its length needs no removal from o's minimum and maximum: s's
		// last, completed below, has the same length.
		s.lastCount += o.firstCount
		n := int64(utf8.RuneCount(o.firstVal))
		o.done.unique--
		o.done.count -= o.firstCount
		o.done.sumLen -= n * o.firstCount
		if len(o.firstVal) > MaxTopBytes {
			o.cutMass -= o.firstCount
		}
		o.removeTop(o.firstRow)
	}
	if s.lastCount == 0 {
		s.firstVal, s.firstCount, s.firstRow = copyValue(s.firstVal, o.firstVal), o.firstCount, o.firstRow+rowOffset
	}
	s.complete()
	s.done.mergeLens(&o.done)
	s.cutMass += o.cutMass
	for i := range o.top {
		e := &o.top[i]
		s.offer(e.value, e.count, e.first+rowOffset, e.long)
	}
	s.last = copyValue(s.last, o.last)
	s.lastCount, s.lastFirst, s.lastLen = o.lastCount, o.lastFirst+rowOffset, o.lastLen
	s.hll.Merge(o.hll)
	s.cut = s.cut || o.cut
	s.size = streamBytes(s.m) + int64(cap(s.last)+cap(s.firstVal))
	return s.size - before
}
