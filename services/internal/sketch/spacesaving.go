package sketch

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
)

// SpaceSaving parameters.
const (
	// MaxValueLen is the length SpaceSaving cuts values to: values that agree
	// in their first MaxValueLen bytes are counted as one.
	MaxValueLen = 1024
	// DefaultCapacity is the number of counters NewSpaceSaving uses for m <= 0.
	DefaultCapacity = 1024
	// MaxCapacity bounds the number of counters.
	MaxCapacity = 1 << 24
)

// Item is a value and its counts in a SpaceSaving summary: the value occurred
// between Count-Error and Count times.
type Item struct {
	// Value is the value's bytes (a copy; cut to MaxValueLen).
	Value []byte
	// Count is an upper bound on the value's number of occurrences.
	Count uint64
	// Error bounds the overestimate: occurrences >= Count-Error.
	Error uint64
}

// SpaceSaving finds the most frequent byte-string values (heavy hitters) in
// bounded memory: Metwally, Agrawal and El Abbadi's SpaceSaving with m
// counters, mergeable as in Agarwal et al., "Mergeable Summaries" (2012).
//
// Guarantees, with N the number of updates and f(x) the true count of x:
//   - every reported Item has Count-Error <= f(x) <= Count and
//     Error <= MaxError() <= N/m;
//   - a value not reported occurred at most Floor() <= N/m times, so every
//     value with f(x) > N/m is reported;
//   - while the number of distinct values is at most m nothing is evicted,
//     Exact reports it, and every Count is exact (Error 0).
//
// These hold after any sequence of Merge calls, with N the total of the
// merged streams. Values are cut to MaxValueLen bytes (a caller contract:
// longer values are counted by their prefix). A summary seeded from another
// one (MarkInexact, MarkInexactFloor, UpdateRange) keeps the bounds on
// Count, Count-Error and Floor, but its errors and Floor may exceed N/m by
// the seed's own bounds; MaxError then reports the larger figure.
//
// Memory: m counters, each with its value's bytes (at most MaxValueLen:
// reused on eviction, or allocated to the new value's length) and about 80
// bytes of bookkeeping. Update does not allocate in steady state.
//
// A SpaceSaving is not safe for concurrent use. Make one with
// NewSpaceSaving; the zero value is only a target for UnmarshalBinary.
type SpaceSaving struct {
	m     int
	n     uint64
	exact bool
	seq   uint64 // the first-seen stamp of the next new counter
	// floor is an explicit bound on the count of any value the summary does
	// not hold, set while inexact by MarkInexact, UpdateRange and Merge: it
	// is what Floor returns while counters are free, and a lower limit of
	// Floor once they are all taken (see Floor).
	floor uint64

	ctr   []ssCounter
	heap  []int32 // counter indexes, a min-heap by (count, newest first)
	table []int32 // counter index + 1 by hash, open addressing; 0 is empty
}

type ssCounter struct {
	h     uint64
	count uint64
	err   uint64
	seq   uint64 // when the value was (last) first monitored: ties order
	pos   int32  // index in heap
	val   []byte
}

// NewSpaceSaving returns an empty summary with m counters (DefaultCapacity
// when m <= 0; at most MaxCapacity).
func NewSpaceSaving(m int) *SpaceSaving {
	switch {
	case m <= 0:
		m = DefaultCapacity
	case m > MaxCapacity:
		m = MaxCapacity
	}
	return &SpaceSaving{m: m, exact: true}
}

// Capacity returns m, the number of counters.
func (s *SpaceSaving) Capacity() int { return s.m }

// N returns the number of updates summarized.
func (s *SpaceSaving) N() uint64 { return s.n }

// Len returns the number of values the summary holds: every distinct value
// so far while Exact.
func (s *SpaceSaving) Len() int { return len(s.ctr) }

// Exact reports whether no value has been evicted, so that the summary holds
// every distinct value with its exact count.
func (s *SpaceSaving) Exact() bool { return s.exact }

// MarkInexact declares that the summary may lack values: a caller that
// seeds an empty summary with UpdateN from exact counts of only the most
// frequent values of a stream (at most Capacity of them, every value left
// out at most as frequent as the least frequent one fed) calls it, so that
// Exact is false and Floor (the smallest count kept) bounds the values left
// out, as the guarantees and Merge require. The bound is recorded: with
// fewer than Capacity values fed, a value left out that comes back later
// gets a free counter starting at Floor()+w with Error Floor(), not w, so
// that its Count still bounds its true count. Its counts stay exact
// (Error 0) until later updates evict.
func (s *SpaceSaving) MarkInexact() { s.MarkInexactFloor(0) }

// MarkInexactFloor is MarkInexact for a caller whose left-out values may
// occur more often than the least frequent value fed: f bounds their counts,
// and Floor is then at least f.
func (s *SpaceSaving) MarkInexactFloor(f uint64) {
	if len(s.heap) > 0 {
		f = max(f, s.ctr[s.heap[0]].count)
	}
	s.floor = max(s.floor, f)
	s.exact = false
}

// MaxError returns a bound on every Item's Error and on the count of any
// value not reported, or 0 while Exact: floor(N/m) for a summary built by
// updates and merges alone; a summary seeded with MarkInexactFloor or
// UpdateRange may have larger errors (a floor above N/m), which it includes.
func (s *SpaceSaving) MaxError() uint64 {
	if s.exact {
		return 0
	}
	e := max(s.n/uint64(s.m), s.Floor())
	for i := range s.ctr {
		e = max(e, s.ctr[i].err)
	}
	return e
}

// Floor returns the largest number of times a value not in the summary can
// have occurred, or 0 while Exact: the recorded floor while counters are
// free, else the larger of it and the smallest counter (at most MaxError).
func (s *SpaceSaving) Floor() uint64 {
	if s.exact {
		return 0
	}
	if len(s.ctr) < s.m || len(s.heap) == 0 {
		return s.floor
	}
	return max(s.floor, s.ctr[s.heap[0]].count)
}

// Update counts one occurrence of v (cut to MaxValueLen). The summary copies
// the bytes it keeps.
func (s *SpaceSaving) Update(v []byte) {
	if len(v) > MaxValueLen {
		v = v[:MaxValueLen]
	}
	s.update(v, Hash64(v), 1, 0)
}

// UpdateN counts w occurrences of v (cut to MaxValueLen) at once, as w calls
// of Update would, with the same guarantees: an unmonitored value evicts the
// smallest counter, whose count c becomes the value's error, and starts at
// c+w. UpdateN(v, 1) is Update(v); w = 0 does nothing. The summary copies
// the bytes it keeps.
func (s *SpaceSaving) UpdateN(v []byte, w uint64) {
	if w == 0 {
		return
	}
	if len(v) > MaxValueLen {
		v = v[:MaxValueLen]
	}
	s.update(v, Hash64(v), w, 0)
}

// UpdateRange counts a value v (cut to MaxValueLen) of which at least w and
// at most w+extra more occurrences were seen, for a caller seeding the
// summary from another one whose counts are bounds: N grows by w, and v's
// counter by w+extra with its Error by extra, so that Count stays an upper
// bound and Count-Error a lower one. Any extra > 0 makes the summary inexact
// (its floor stays what it was). w+extra = 0 does nothing.
func (s *SpaceSaving) UpdateRange(v []byte, w, extra uint64) {
	if w+extra == 0 {
		return
	}
	if len(v) > MaxValueLen {
		v = v[:MaxValueLen]
	}
	if extra > 0 && s.exact {
		s.MarkInexactFloor(0)
		if len(s.ctr) < s.m {
			// Nothing was left out so far: no value lacks a counter.
			s.floor = 0
		}
	}
	s.update(v, Hash64(v), w, extra)
}

// UpdateHash is UpdateN for a caller that has already hashed the value: h
// must be Hash64 of v cut to MaxValueLen (HashValue), otherwise lookups of v
// miss and the summary's counts are wrong.
func (s *SpaceSaving) UpdateHash(v []byte, h, w uint64) {
	if w == 0 {
		return
	}
	if len(v) > MaxValueLen {
		v = v[:MaxValueLen]
	}
	s.update(v, h, w, 0)
}

// HashValue returns the hash UpdateHash expects for v: Hash64 of v cut to
// MaxValueLen.
func HashValue(v []byte) uint64 {
	if len(v) > MaxValueLen {
		v = v[:MaxValueLen]
	}
	return Hash64(v)
}

// update counts w occurrences of v (already cut), whose hash is h, and
// extra more that may have happened (w+extra >= 1). A value without a
// counter may already have occurred Floor() times: while the summary is
// exact that is 0; otherwise its new counter, in a free slot or the evicted
// smallest one, starts at Floor()+w+extra with Error Floor()+extra.
func (s *SpaceSaving) update(v []byte, h, w, extra uint64) {
	s.n += w
	slot, idx := s.find(h, v)
	if idx >= 0 {
		s.ctr[idx].count += w + extra
		s.ctr[idx].err += extra
		s.down(int(s.ctr[idx].pos))
		return
	}
	if len(s.ctr) < s.m {
		floor := s.Floor()
		s.add(h, bytes.Clone(v), floor+w+extra, floor+extra, slot)
		return
	}
	// Evict the smallest counter (the newest among equals) for v: the
	// evicted value, and any other without a counter, occurred at most
	// floor times (Floor, which is 0 while exact: not so once this evicts).
	idx = int(s.heap[0])
	c := &s.ctr[idx]
	floor := max(s.floor, c.count)
	s.tableDelete(c.h, idx)
	// The value's buffer is reused, or allocated to its length (not by
	// append's growth), so that a counter holds at most MaxValueLen bytes.
	if cap(c.val) < len(v) {
		c.val = make([]byte, 0, len(v))
	}
	c.h, c.val = h, append(c.val[:0], v...)
	c.count, c.err = floor+w+extra, floor+extra
	c.seq = s.seq
	s.seq++
	s.exact = false
	s.tableInsert(h, idx)
	s.down(0)
}

// add appends a counter and indexes it at table slot (or anywhere if slot
// is negative).
func (s *SpaceSaving) add(h uint64, v []byte, count, errBound uint64, slot int) {
	idx := len(s.ctr)
	s.ctr = append(s.ctr, ssCounter{h: h, count: count, err: errBound, seq: s.seq, pos: int32(len(s.heap)), val: v})
	s.seq++
	s.heap = append(s.heap, int32(idx))
	s.up(len(s.heap) - 1)
	if slot >= 0 && (len(s.ctr))*2 <= len(s.table) {
		s.table[slot] = int32(idx) + 1
		return
	}
	if len(s.ctr)*2 > len(s.table) {
		s.growTable()
		return // growTable indexed every counter, this one included
	}
	s.tableInsert(h, idx)
}

// find returns the table slot of v and its counter index, or the empty
// slot where it would go and -1. The table may be empty (slot -1).
func (s *SpaceSaving) find(h uint64, v []byte) (int, int) {
	if len(s.table) == 0 {
		return -1, -1
	}
	mask := uint64(len(s.table) - 1)
	i := h & mask
	for {
		e := s.table[i]
		if e == 0 {
			return int(i), -1
		}
		if c := &s.ctr[e-1]; c.h == h && bytes.Equal(c.val, v) {
			return int(i), int(e - 1)
		}
		i = (i + 1) & mask
	}
}

func (s *SpaceSaving) tableInsert(h uint64, idx int) {
	mask := uint64(len(s.table) - 1)
	i := h & mask
	for s.table[i] != 0 {
		i = (i + 1) & mask
	}
	s.table[i] = int32(idx) + 1
}

// tableDelete removes counter idx (hash h), shifting later entries of its
// probe run back so that lookups need no tombstones.
func (s *SpaceSaving) tableDelete(h uint64, idx int) {
	mask := uint64(len(s.table) - 1)
	i := h & mask
	for s.table[i] != int32(idx)+1 {
		i = (i + 1) & mask
	}
	for j := i; ; {
		j = (j + 1) & mask
		e := s.table[j]
		if e == 0 {
			break
		}
		home := s.ctr[e-1].h & mask
		// Leave e where it is if its home lies cyclically in (i, j].
		if (i <= j && i < home && home <= j) || (i > j && (i < home || home <= j)) {
			continue
		}
		s.table[i] = e
		i = j
	}
	s.table[i] = 0
}

func (s *SpaceSaving) growTable() {
	size := max(16, 2*len(s.table))
	for size < 2*len(s.ctr) {
		size *= 2
	}
	s.table = make([]int32, size)
	for idx := range s.ctr {
		s.tableInsert(s.ctr[idx].h, idx)
	}
}

// less orders the heap: smaller count first, and among equal counts the
// newest value first, so that eviction keeps the values seen first.
func (s *SpaceSaving) less(a, b int32) bool {
	ca, cb := &s.ctr[a], &s.ctr[b]
	return ca.count < cb.count || (ca.count == cb.count && ca.seq > cb.seq)
}

func (s *SpaceSaving) swap(i, j int) {
	s.heap[i], s.heap[j] = s.heap[j], s.heap[i]
	s.ctr[s.heap[i]].pos = int32(i)
	s.ctr[s.heap[j]].pos = int32(j)
}

func (s *SpaceSaving) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(s.heap[i], s.heap[p]) {
			return
		}
		s.swap(i, p)
		i = p
	}
}

func (s *SpaceSaving) down(i int) {
	n := len(s.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && s.less(s.heap[r], s.heap[l]) {
			c = r
		}
		if !s.less(s.heap[c], s.heap[i]) {
			return
		}
		s.swap(i, c)
		i = c
	}
}

// byFirstSeen returns the counter indexes in first-seen order.
func (s *SpaceSaving) byFirstSeen() []int {
	idx := make([]int, len(s.ctr))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(s.ctr[a].seq, s.ctr[b].seq) })
	return idx
}

// TopK returns the k values with the largest counts (all of them when k <= 0
// or k exceeds their number), by Count descending and, among equal counts,
// in the order first seen (for merged summaries: the receiver's values in
// their order, then the merged-in ones).
func (s *SpaceSaving) TopK(k int) []Item {
	idx := s.byFirstSeen()
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(s.ctr[b].count, s.ctr[a].count) })
	if k <= 0 || k > len(idx) {
		k = len(idx)
	}
	out := make([]Item, k)
	for i := range out {
		c := &s.ctr[idx[i]]
		out[i] = Item{Value: bytes.Clone(c.val), Count: c.count, Error: c.err}
	}
	return out
}

// Merge adds o's counts to s; o is not changed; o may be s.
//
// Every value of either summary is a candidate whose count (and error) is
// the sum of its counts (and errors) in the two, taking Floor() for a
// summary that does not hold it; the m largest candidates are kept (ties in
// first-seen order). Since a summary's Floor bounds the count of any value it
// lacks, the sums still bound the true counts from above with errors at most
// Floor(s)+Floor(o) <= N/m; and since the counts of any m values of a summary
// add up to at most its N, the new smallest counter, which bounds every
// dropped value, is at most (N_s+N_o)/m. This is Agarwal et al.'s mergeable
// SpaceSaving (equivalently their Misra-Gries merge seen through the
// isomorphism of the two summaries) with integer counts.
func (s *SpaceSaving) Merge(o *SpaceSaving) {
	if o == nil || o.n == 0 {
		return
	}
	if o == s {
		o = s.clone()
	}
	fs, fo := s.Floor(), o.Floor()
	type cand struct {
		h          uint64
		val        []byte
		count, err uint64
		order      int // first-seen order
	}
	cands := make([]cand, 0, len(s.ctr)+len(o.ctr))
	inS := make([]bool, len(o.ctr))
	for _, i := range s.byFirstSeen() {
		c := &s.ctr[i]
		x := cand{h: c.h, val: c.val, count: c.count + fo, err: c.err + fo}
		if _, j := o.find(c.h, c.val); j >= 0 {
			x.count, x.err = c.count+o.ctr[j].count, c.err+o.ctr[j].err
			inS[j] = true
		}
		x.order = len(cands)
		cands = append(cands, x)
	}
	for _, j := range o.byFirstSeen() {
		if !inS[j] {
			c := &o.ctr[j]
			cands = append(cands, cand{h: c.h, val: bytes.Clone(c.val), count: c.count + fs, err: c.err + fs, order: len(cands)})
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Compare(b.count, a.count) })
	exact := s.exact && o.exact && len(cands) <= s.m
	if len(cands) > s.m {
		cands = cands[:s.m]
	}
	// A value in neither summary occurred at most fs+fo times; one dropped
	// here at most as often as the smallest kept counter.
	var floor uint64
	if !exact {
		floor = fs + fo
	}
	// Counters are re-added in first-seen order whether or not any were
	// dropped: their stamps order ties in TopK and in later merges.
	slices.SortFunc(cands, func(a, b cand) int { return cmp.Compare(a.order, b.order) })
	n := s.n + o.n
	*s = SpaceSaving{m: s.m, n: n, exact: exact, floor: floor}
	for _, c := range cands {
		s.add(c.h, c.val, c.count, c.err, -1)
	}
}

func (s *SpaceSaving) clone() *SpaceSaving {
	c := *s
	c.ctr = slices.Clone(s.ctr)
	for i := range c.ctr {
		c.ctr[i].val = bytes.Clone(c.ctr[i].val)
	}
	c.heap = slices.Clone(s.heap)
	c.table = slices.Clone(s.table)
	return &c
}

// MarshalBinary encodes the summary (format version 1). The exact flag is
// 1 for an exact summary, 0 for an inexact one with every counter taken and
// no recorded floor, and 2, followed by the floor as a uvarint, for any other
// inexact one (seeded with MarkInexact, MarkInexactFloor or UpdateRange).
func (s *SpaceSaving) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 32+len(s.ctr)*24)
	b = append(b, tagSpaceSaving, formatVersion1)
	b = binary.AppendUvarint(b, uint64(s.m))
	b = binary.AppendUvarint(b, s.n)
	switch {
	case s.exact:
		b = append(b, 1)
	case s.floor > 0 || len(s.ctr) < s.m:
		b = append(b, 2)
		b = binary.AppendUvarint(b, s.floor)
	default:
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(s.ctr)))
	for _, i := range s.byFirstSeen() {
		c := &s.ctr[i]
		b = binary.AppendUvarint(b, c.count)
		b = binary.AppendUvarint(b, c.err)
		b = binary.AppendUvarint(b, uint64(len(c.val)))
		b = append(b, c.val...)
	}
	return b, nil
}

// UnmarshalBinary replaces s with the summary encoded in data by
// MarshalBinary. It returns an error wrapping ErrCorrupt, leaving s
// unchanged, when data is not such an encoding (duplicate values, errors over
// counts, counts adding up to more than N (for an inexact summary, whose
// counts UpdateRange may pad, their lower bounds Count-Error), truncation).
func (s *SpaceSaving) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	d.header(tagSpaceSaving)
	m := d.count("capacity", MaxCapacity)
	n := d.uvarint("n")
	exact := d.bytes("exact flag", 1)
	var floor uint64
	if d.err == nil && exact[0] == 2 {
		floor = d.uvarint("floor")
	}
	k := d.count("counter count", uint64(m))
	if d.err != nil {
		return d.err
	}
	if m < 1 || exact[0] > 2 || (exact[0] == 0 && k != m) {
		return corrupt("capacity %d, %d counters, exact flag %d", m, k, exact[0])
	}
	t := SpaceSaving{m: m, n: n, exact: exact[0] == 1, floor: floor}
	var sum uint64
	for range k {
		count := d.uvarint("count")
		errBound := d.uvarint("error")
		v := d.bytes("value", d.count("value length", MaxValueLen))
		if d.err != nil {
			return d.err
		}
		low := count
		if !t.exact {
			low = count - min(errBound, count)
		}
		if count == 0 || errBound > count || (t.exact && errBound != 0) || low > n-sum {
			return corrupt("count %d, error %d, n %d", count, errBound, n)
		}
		sum += low
		h := Hash64(v)
		if _, j := t.find(h, v); j >= 0 {
			return corrupt("duplicate value %q", v)
		}
		t.add(h, bytes.Clone(v), count, errBound, -1)
	}
	if t.exact && sum != n {
		return corrupt("exact counts add up to %d, n %d", sum, n)
	}
	if err := d.finish(); err != nil {
		return err
	}
	*s = t
	return nil
}
