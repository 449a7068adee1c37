package analyzer

import (
	"context"
	"fmt"
	"hash/maphash"
	"os"
	"slices"
	"strings"
	"unsafe"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// entryOverhead approximates the bytes a distinct value costs beyond its own
// bytes: its entry (48 bytes) and the slack of the entries slice as it
// grows. The hash table's slots are charged as they grow.
const entryOverhead = 96

// catEntry counts one distinct value.
type catEntry struct {
	key   string
	hash  uint64 // maphash of key with hashSeed
	count int64
	first int64 // the 0-based data row where the value first appears
}

// hashSeed is shared by every column so that entries keep their hash when
// partials merge.
var hashSeed = maphash.MakeSeed()

// catCol accumulates a STRING, BOOLEAN, DATE or DATETIME column: a count per
// distinct value with the row it first appears in. The entries live in
// memory while the budget allows, then go to disk as runs sorted by value.
//
// The entries are indexed by an open-addressing hash table that keeps each
// value's hash: a new value is hashed once (a Go map would hash it for the
// lookup, for the insert and again at every growth), which matters for
// columns such as timestamps where nearly every value is new.
type catCol struct {
	slots   []uint64 // 0 for an empty slot, else the entry index + 1 in the low and the hash's top bits in the high 32 bits; len is a power of two
	entries []catEntry
	last    int    // the entry of the previous value, a fast path for runs of equal values; -1 if none
	size    int64  // memory charged for slots and entries
	arena   []byte // the current block the bytes of new values are copied to
	runs    []run
}

// arenaBlock is the size of the blocks distinct values are copied into: one
// allocation per block instead of one per value.
const arenaBlock = 64 << 10

// intern copies v into the arena and returns the copy.
func (c *catCol) intern(v string) string {
	if len(v) == 0 {
		return ""
	}
	if len(v) > cap(c.arena)-len(c.arena) {
		if len(v) > arenaBlock/4 {
			return strings.Clone(v)
		}
		c.arena = make([]byte, 0, arenaBlock)
	}
	start := len(c.arena)
	c.arena = append(c.arena, v...)
	return unsafe.String(&c.arena[start], len(v))
}

// find returns the index of the entry for v, or -1 and the empty slot where
// it belongs.
func (c *catCol) find(v string, h uint64) (entry, slot int) {
	if len(c.slots) == 0 {
		return -1, -1
	}
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
			if e := &c.entries[j]; e.hash == h && e.key == v {
				return j, i
			}
		}
	}
}

// slotIndexMask selects the entry index + 1 in a slot. The memory budget is
// capped (maxMemoryBudget) so that a column never holds 2^32-1 entries.
const slotIndexMask = 1<<32 - 1

func slotOf(entry int, h uint64) uint64 { return uint64(entry+1) | h&^slotIndexMask }

// add records one non-missing value in the given row. It returns the change
// in memory use.
func (c *catCol) add(v string, row int64) int64 {
	if c.last >= 0 && c.last < len(c.entries) && c.entries[c.last].key == v {
		c.entries[c.last].count++
		return 0
	}
	h := maphash.String(hashSeed, v)
	if i, _ := c.find(v, h); i >= 0 {
		c.entries[i].count++
		c.last = i
		return 0
	}
	// Copy: v points into the parser's buffer.
	return c.insert(catEntry{key: c.intern(v), hash: h, count: 1, first: row})
}

// insert adds an entry for a value that has none and returns the change in
// memory use.
func (c *catCol) insert(e catEntry) int64 {
	var d int64
	if (len(c.entries)+1)*4 > len(c.slots)*3 {
		d += c.grow()
	}
	_, slot := c.find(e.key, e.hash)
	c.entries = append(c.entries, e)
	c.last = len(c.entries) - 1
	c.slots[slot] = slotOf(c.last, e.hash)
	n := int64(len(e.key)) + entryOverhead
	c.size += n
	return d + n
}

// grow doubles the table, placing entries by their stored hashes. It returns
// the change in memory use.
func (c *catCol) grow() int64 {
	n := max(16, 2*len(c.slots))
	c.slots = make([]uint64, n)
	mask := n - 1
	for j := range c.entries {
		h := c.entries[j].hash
		i := int(h) & mask
		for c.slots[i] != 0 {
			i = (i + 1) & mask
		}
		c.slots[i] = slotOf(j, h)
	}
	// The slots are charged separately from entryOverhead: at most 8/3 of
	// them per entry, 8 bytes each.
	d := int64(n/2) * 8
	c.size += d
	return d
}

// mem returns the bytes the column holds in memory.
func (c *catCol) mem() int64 { return c.size }

func byKey(a, b catEntry) int { return strings.Compare(a.key, b.key) }

// spill writes the entries to a run sorted by value and frees them. It
// returns the change in memory use.
func (c *catCol) spill(ctx context.Context, t *tempFiles, fanIn int) (int64, error) {
	if len(c.entries) == 0 {
		return 0, nil
	}
	slices.SortFunc(c.entries, byKey)
	rw, err := newRunWriter(t)
	if err != nil {
		return 0, err
	}
	for _, e := range c.entries {
		if err := rw.writeEntry(e.key, e.count, e.first); err != nil {
			rw.abort()
			return 0, fmt.Errorf("write spill file: %w", err)
		}
	}
	r, err := rw.finish()
	if err != nil {
		os.Remove(rw.f.Name())
		return 0, err
	}
	c.runs = append(c.runs, r)
	freed := -c.size
	c.slots, c.entries, c.last, c.size, c.arena = nil, nil, -1, 0, nil
	if len(c.runs) > 2*fanIn {
		c.runs, err = compactRuns(c.runs, fanIn, fanIn, func(rs []run) (run, error) { return mergeEntryRuns(ctx, t, rs) })
	}
	return freed, err
}

// merge folds o, a column of the rows that follow c's, into c; rowOffset is
// the number of rows c covers. It returns the change in c's memory use; o
// must not be used afterwards.
func (c *catCol) merge(o *catCol, rowOffset int64) int64 {
	var d int64
	for _, e := range o.entries {
		if i, _ := c.find(e.key, e.hash); i >= 0 {
			c.entries[i].count += e.count
			continue
		}
		e.first += rowOffset
		d += c.insert(e)
	}
	for _, r := range o.runs {
		r.rowOffset += rowOffset
		c.runs = append(c.runs, r)
	}
	*o = catCol{last: -1}
	return d
}

// stats computes the column's statistics. Ties for the most frequent value
// go to the value that appears first in the file.
func (c *catCol) stats(ctx context.Context, t *tempFiles, fanIn int) (*typev1.CategoricalStats, error) {
	st := &typev1.CategoricalStats{}
	var bestFirst int64
	consider := func(v string, count, first int64) {
		st.Unique++
		if count > st.Freq || (count == st.Freq && first < bestFirst) {
			st.Top, st.Freq, bestFirst = v, count, first
		}
	}
	if len(c.runs) == 0 {
		for _, e := range c.entries {
			consider(e.key, e.count, e.first)
		}
		return st, nil
	}
	var err error
	if c.runs, err = compactRuns(c.runs, fanIn-1, fanIn, func(rs []run) (run, error) { return mergeEntryRuns(ctx, t, rs) }); err != nil {
		return nil, err
	}
	// Sort a copy: the order of entries is what slots point into.
	sorted := slices.Clone(c.entries)
	slices.SortFunc(sorted, byKey)
	srcs := []entrySource{&sliceEntries{entries: sorted}}
	for _, r := range c.runs {
		rr, err := openRun(r)
		if err != nil {
			return nil, err
		}
		defer rr.close()
		srcs = append(srcs, runEntries{rr})
	}
	m, err := newEntryMerger(srcs)
	if err != nil {
		return nil, err
	}
	var bestBytes []byte
	for i := 0; ; i++ {
		if i&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		v, count, first, ok, err := m.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		st.Unique++
		if count > st.Freq || (count == st.Freq && first < bestFirst) {
			bestBytes = append(bestBytes[:0], v...)
			st.Freq, bestFirst = count, first
		}
	}
	st.Top = string(bestBytes)
	return st, nil
}

// mergeEntryRuns merges categorical runs into a new one, with row offsets
// applied.
func mergeEntryRuns(ctx context.Context, t *tempFiles, runs []run) (run, error) {
	var srcs []entrySource
	for _, r := range runs {
		rr, err := openRun(r)
		if err != nil {
			return run{}, err
		}
		defer rr.close()
		srcs = append(srcs, runEntries{rr})
	}
	m, err := newEntryMerger(srcs)
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
		v, count, first, ok, err := m.next()
		if err != nil {
			rw.abort()
			return run{}, err
		}
		if !ok {
			break
		}
		if err := rw.writeEntry(string(v), count, first); err != nil {
			rw.abort()
			return run{}, fmt.Errorf("write spill file: %w", err)
		}
	}
	r, err := rw.finish()
	if err != nil {
		os.Remove(rw.f.Name())
	}
	return r, err
}
