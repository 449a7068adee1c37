package analyzer

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"

	"google.golang.org/protobuf/proto"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/internal/moments"
	"github.com/csvmesh/csvmesh/services/internal/sketch"
)

// chunkSize is the smallest capacity of the chunks a numeric column keeps
// its values in.
const chunkSize = 256

// histogramBins is the number of bins of a histogram, numpy's default.
const histogramBins = 10

// kllMem is what a column is charged for its KLL sketch (k = 200 keeps
// about 3k float64 values plus its levels), once it has one.
const kllMem = 8 << 10

// numericCol accumulates an INTEGER or NUMBER column: its moments
// (count, exact sum, mean, M2..M4, min, max, sign counts) and, for the
// quantiles and the histogram, every value in memory while the budget
// allows. When the budget runs out the column switches for good to a KLL
// sketch: the values are fed into it and dropped, and quantiles and the
// histogram become approximate with the sketch's bounds.
//
// The values in memory are kept in chunks that are never copied, so growing
// leaves no garbage behind: chunk capacities double from chunkSize up to
// maxChunk.
type numericCol struct {
	mom      moments.Moments // unused when plain
	plain    bool            // keep the values only, not the moments (a time column's)
	n        int64           // values added
	first    float64         // the first value added
	last     float64         // the last value added
	lo, hi   float64         // the smallest and largest value added (of equal ones, the first)
	unsorted bool            // some value was smaller than the one before it
	full     [][]float64     // filled chunks
	cur      []float64       // the chunk being filled
	size     int64           // bytes of the chunks' capacities, plus kllMem once kll is set
	maxChunk int             // the largest chunk capacity, in values
	kll      *sketch.KLL     // non-nil once the values went past the budget
}

func newNumericCol(maxChunk int) *numericCol { return &numericCol{maxChunk: maxChunk} }

// add records one non-missing, non-NaN value. It returns the change in
// memory use.
func (c *numericCol) add(x float64) int64 {
	if !c.plain {
		c.mom.Add(x)
	}
	if c.n == 0 {
		c.first, c.lo, c.hi = x, x, x
	} else {
		if x < c.last {
			c.unsorted = true
		}
		if x < c.lo {
			c.lo = x
		}
		if x > c.hi {
			c.hi = x
		}
	}
	c.last = x
	c.n++
	if len(c.cur) < cap(c.cur) {
		c.cur = append(c.cur, x)
		return 0
	}
	if c.kll != nil {
		c.kll.Update(x)
		return 0
	}
	return c.addSlow(x)
}

// addSlow appends x to a new chunk.
func (c *numericCol) addSlow(x float64) int64 {
	if len(c.cur) > 0 {
		c.full = append(c.full, c.cur)
	}
	n := chunkSize
	if k := len(c.full); k > 0 {
		n = min(2*cap(c.full[k-1]), c.maxChunk)
	}
	c.cur = make([]float64, 0, n)
	c.size += int64(n) * 8
	c.cur = append(c.cur, x)
	return int64(n) * 8
}

// parts returns the non-empty chunks.
func (c *numericCol) parts() [][]float64 {
	ps := slices.Clone(c.full)
	if len(c.cur) > 0 {
		ps = append(ps, c.cur)
	}
	return ps
}

// mem returns the bytes the column holds in memory.
func (c *numericCol) mem() int64 { return c.size }

// exact reports whether the column still holds every value.
func (c *numericCol) exact() bool { return c.kll == nil }

// sketch switches the column to its KLL sketch: the values in memory go into
// the sketch and are freed. It returns the change in memory use.
func (c *numericCol) sketch() int64 {
	if c.kll == nil {
		if c.size == 0 {
			return 0 // nothing to free
		}
		c.kll = sketch.NewKLLWithSeed(0, c.seed())
	}
	for _, p := range c.parts() {
		for _, x := range p {
			c.kll.Update(x)
		}
	}
	before := c.size
	c.full, c.cur, c.size = nil, nil, kllMem
	return kllMem - before
}

// seed returns the seed of the column's sketch: a hash of what the column
// has seen, so that an analysis is reproducible (the same input gives the
// same report whatever the scheduling) while the partials of different
// shards, which see different values, almost surely draw different coin
// flips, as merged KLL sketches must.
func (c *numericCol) seed() uint64 {
	var b [40]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(c.n))
	binary.LittleEndian.PutUint64(b[8:], math.Float64bits(c.first))
	binary.LittleEndian.PutUint64(b[16:], math.Float64bits(c.last))
	binary.LittleEndian.PutUint64(b[24:], math.Float64bits(c.lo))
	binary.LittleEndian.PutUint64(b[32:], math.Float64bits(c.hi))
	return sketch.Hash64(b[:])
}

// merge folds o, a column of the rows that follow c's, into c. It returns the
// change in c's memory use; o must not be used afterwards.
func (c *numericCol) merge(o *numericCol) int64 {
	before := c.size
	c.mom.Merge(&o.mom)
	switch {
	case o.n == 0:
	case c.n == 0:
		c.first, c.lo, c.hi, c.unsorted = o.first, o.lo, o.hi, o.unsorted
	default:
		c.unsorted = c.unsorted || o.unsorted || o.first < c.last
		if o.lo < c.lo {
			c.lo = o.lo
		}
		if o.hi > c.hi {
			c.hi = o.hi
		}
	}
	if o.n > 0 {
		c.last = o.last
	}
	c.n += o.n
	switch {
	case c.kll == nil && o.kll == nil:
		if len(c.cur) > 0 {
			c.full = append(c.full, c.cur)
		}
		c.full = append(c.full, o.full...)
		c.cur = o.cur
		c.size += o.size
	default:
		if c.kll == nil {
			c.sketch()
		}
		if o.kll == nil {
			for _, p := range o.parts() {
				for _, x := range p {
					c.kll.Update(x)
				}
			}
		} else {
			c.kll.Merge(o.kll)
		}
	}
	*o = numericCol{plain: o.plain, maxChunk: o.maxChunk}
	return c.size - before
}

// stats computes the column's statistics for the given quantiles.
// A plain column's have no moments: only min, max, percentiles and the
// histogram are set.
func (c *numericCol) stats(quantiles []float64) *typev1.NumericStats {
	m := &c.mom
	n := c.n
	st := &typev1.NumericStats{}
	for _, q := range quantiles {
		st.Percentiles = append(st.Percentiles, &typev1.Percentile{Quantile: q, Exact: c.exact()})
	}
	lo, hi := c.lo, c.hi
	if !c.plain {
		st.Sum, st.NegativeCount, st.ZeroCount, st.PositiveCount = m.Sum(), m.Negative(), m.Zero(), m.Positive()
		if n > 0 {
			// Of 0 and -0.0 pandas keeps the last one seen, as Moments does.
			lo, hi = m.Min(), m.Max()
			st.Mean = optional(m.Mean())
			st.Std = optional(m.Std(1))
			st.Variance = optional(m.Var(1))
			st.Skewness = optional(m.Skew())
			st.Kurtosis = optional(m.Kurt())
		}
	}
	if n == 0 {
		return st
	}
	st.Min, st.Max = proto.Float64(lo), proto.Float64(hi)
	if c.kll != nil {
		for _, p := range st.Percentiles {
			p.Value = proto.Float64(c.kll.Quantile(sketch.PandasQ(p.Quantile)))
			p.RankError = c.kll.NormalizedRankError()
		}
		st.Histogram = c.histogram(lo, hi)
		return st
	}
	// The ranks that the quantiles interpolate between, ascending.
	plans := make([]quantilePlan, len(quantiles))
	var ranks []int64
	for i, q := range quantiles {
		plans[i] = planQuantile(q, n)
		ranks = append(ranks, plans[i].lo, plans[i].hi)
	}
	slices.Sort(ranks)
	ranks = slices.Compact(ranks)
	values := make(map[int64]float64, len(ranks))
	switch {
	case len(ranks) == 0:
	case !c.unsorted:
		// Values that came in order (times, sequence numbers) need no
		// selection.
		for _, r := range ranks {
			values[r] = at(c.parts(), int(r))
		}
	default:
		if !selectByBuckets(c.parts(), c.n, ranks, values) {
			selectParts(c.parts(), ranks, 0, values)
		}
	}
	for i, p := range plans {
		st.Percentiles[i].Value = proto.Float64(lerp(values[p.lo], values[p.hi], p.gamma))
	}
	st.Histogram = c.histogram(lo, hi)
	return st
}

// optional returns x as an optional field: unset for NaN.
func optional(x float64) *float64 {
	if math.IsNaN(x) {
		return nil
	}
	return &x
}

// histogramEdges returns the edges of the histogram of values from lo to hi
// as numpy.linspace(lo, hi, bins+1) computes them, or nil when the range is
// not finite.
func histogramEdges(lo, hi float64) []float64 {
	span := hi - lo
	if math.IsInf(span, 0) || math.IsNaN(span) {
		return nil
	}
	if span == 0 {
		return []float64{lo, hi}
	}
	step := span / histogramBins
	edges := make([]float64, histogramBins+1)
	for i := range histogramBins {
		edges[i] = float64(i)*step + lo
	}
	edges[histogramBins] = hi
	return edges
}

// binOf returns the bin of x: 0 for edges[0] <= x <= edges[1], i for
// edges[i] < x <= edges[i+1].
func binOf(edges []float64, x float64) int {
	i, _ := slices.BinarySearch(edges, x)
	return max(i-1, 0)
}

// histogram computes the column's histogram over [lo, hi], the smallest and
// largest values; nil when they are not finite.
func (c *numericCol) histogram(lo, hi float64) *typev1.Histogram {
	edges := histogramEdges(lo, hi)
	if edges == nil {
		return nil
	}
	h := &typev1.Histogram{Edges: edges, Exact: c.kll == nil}
	if c.kll != nil {
		h.Counts = c.kll.Histogram(edges[1 : len(edges)-1])
		h.CountError = c.kll.NormalizedPMFError() * float64(c.kll.N())
		if h.Counts == nil { // edges not strictly increasing (a tiny span)
			return nil
		}
		return h
	}
	h.Counts = make([]int64, len(edges)-1)
	if !c.unsorted {
		// Values in order: count those at or below each inner edge.
		parts := c.parts()
		prev := int64(0)
		for i := 1; i < len(edges)-1; i++ {
			le := int64(0)
			for _, p := range parts {
				k, _ := slices.BinarySearchFunc(p, edges[i], func(x, e float64) int {
					if x <= e {
						return -1
					}
					return 1
				})
				le += int64(k)
			}
			h.Counts[i-1] = le - prev
			prev = le
		}
		h.Counts[len(h.Counts)-1] = c.n - prev
		return h
	}
	last := len(edges) - 2
	scale := float64(last+1) / (hi - lo)
	if last == 0 || math.IsInf(scale, 0) {
		for _, p := range c.parts() {
			for _, x := range p {
				h.Counts[binOf(edges, x)]++
			}
		}
		return h
	}
	for _, p := range c.parts() {
		for _, x := range p {
			// A guess from the arithmetic, corrected against the edges so
			// that the bin is exactly binOf's.
			i := min(max(int((x-lo)*scale), 0), last)
			if i > 0 && x <= edges[i] {
				i--
				if i > 0 && x <= edges[i] {
					i = binOf(edges, x)
				}
			} else if i < last && x > edges[i+1] {
				i++
				if i < last && x > edges[i+1] {
					i = binOf(edges, x)
				}
			}
			h.Counts[i]++
		}
	}
	return h
}

// mergeSorted calls emit with the values of the sorted parts in ascending
// order.
func mergeSorted(parts [][]float64, emit func(float64) error) error {
	if len(parts) == 1 {
		for _, x := range parts[0] {
			if err := emit(x); err != nil {
				return err
			}
		}
		return nil
	}
	// A binary heap of the parts by their first value.
	h := slices.Clone(parts)
	less := func(i, j int) bool { return h[i][0] < h[j][0] }
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			if r := l + 1; r < len(h) && less(r, l) {
				l = r
			}
			if !less(l, i) {
				return
			}
			h[i], h[l] = h[l], h[i]
			i = l
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for len(h) > 0 {
		if err := emit(h[0][0]); err != nil {
			return err
		}
		if h[0] = h[0][1:]; len(h[0]) == 0 {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		down(0)
	}
	return nil
}

// Bounds of selectByBuckets.
const (
	// bucketSelectMin is the fewest values it handles: below, quickselect
	// alone is as fast.
	bucketSelectMin = 1 << 14
	// selectBucketBits gives the most buckets it counts values in: 2^12.
	selectBucketBits  = 12
	selectBucketCount = 1 << selectBucketBits
	// maxSelectCandidates is the most values it copies out of a bucket
	// holding ranks; a bigger bucket is counted again in finer buckets.
	maxSelectCandidates = 1 << 14
	// maxSelectGather is the most values it copies out at once: the
	// buckets holding ranks are copied out in groups of at most that many
	// values.
	maxSelectGather = 1 << 16
)

// orderKey maps a float64 other than NaN to a uint64 in the same order
// (-0.0 just below 0): the sign bit flipped for positive values, every bit
// for negative ones.
func orderKey(x float64) uint64 {
	b := math.Float64bits(x)
	return b ^ (uint64(int64(b)>>63) | 1<<63)
}

// selectByBuckets finds the values at the given ascending ranks of the n
// values in parts, as if they were sorted, and reports whether it did; it
// declines (false, out untouched) for fewer than bucketSelectMin values. It
// does not reorder parts.
//
// It works on orderKey of the values, whose order is theirs, and so on
// buckets of equal width in keys: in values, of equal width relative to
// their magnitude, which suits prices and amounts that spread over orders
// of magnitude. One pass counts the values in the buckets between the
// smallest and largest key, keeping the smallest and largest key of each;
// the bucket is a non-decreasing function of the key, so sorted values fill
// the buckets in order, the counts say which bucket holds each rank at
// which offset, and a bucket's values are exactly those with keys between
// its smallest and largest. A second pass copies the values of the buckets
// holding ranks out and quickselect finds the ranks among them; a bucket
// with more than maxSelectCandidates values is counted again, in buckets
// over its own keys. Each level narrows the keys by 2^11 at least, so after
// at most 6 a bucket holds equal keys. Every pass is plain integer
// arithmetic, without the mispredicted branches of partitioning every
// value.
func selectByBuckets(parts [][]float64, n int64, ranks []int64, out map[int64]float64) bool {
	if n < bucketSelectMin {
		return false
	}
	lo, hi := uint64(math.MaxUint64), uint64(0)
	for _, p := range parts {
		for _, x := range p {
			k := orderKey(x)
			lo, hi = min(lo, k), max(hi, k)
		}
	}
	selectInKeys(parts, lo, hi, true, 0, ranks, out)
	return true
}

// selectInKeys is selectByBuckets for the values of parts whose keys are
// in lo..hi (all of them when all is set), which hold the ranks from base
// on.
func selectInKeys(parts [][]float64, lo, hi uint64, all bool, base int64, ranks []int64, out map[int64]float64) {
	span := hi - lo
	shift := uint(0)
	for span>>shift >= selectBucketCount {
		shift++
	}
	counts := make([]int64, selectBucketCount)
	mins := make([]uint64, selectBucketCount)
	maxs := make([]uint64, selectBucketCount)
	for i := range mins {
		mins[i] = math.MaxUint64
	}
	for _, p := range parts {
		for _, x := range p {
			d := orderKey(x) - lo // wraps around for keys below lo
			if !all && d > span {
				continue
			}
			b := d >> shift
			counts[b]++
			mins[b] = min(mins[b], d)
			maxs[b] = max(maxs[b], d)
		}
	}
	// The buckets holding ranks, ascending, with the rank of their first
	// value; tgt[b] is 1 + the index of bucket b among those being copied
	// out, 0 for others.
	type target struct {
		bucket     uint64
		base       int64
		start, end int // of its values in buf
		ranks      []int64
	}
	var targets, refine []target
	tgt := make([]int32, selectBucketCount)
	// gather copies the values of the targets (total of them) out of
	// parts, into buf if it is big enough, and selects their ranks; it
	// returns the buffer for reuse.
	gather := func(targets []target, total int, buf []float64) []float64 {
		if len(targets) == 0 {
			return buf
		}
		if cap(buf) < total {
			buf = make([]float64, total)
		}
		buf = buf[:total]
		for _, p := range parts {
			for _, x := range p {
				d := orderKey(x) - lo
				if !all && d > span {
					continue
				}
				if t := tgt[d>>shift]; t != 0 {
					buf[targets[t-1].end] = x
					targets[t-1].end++
				}
			}
		}
		for _, t := range targets {
			selectInPlace(buf[t.start:t.end], t.ranks, t.base, out)
		}
		return buf
	}
	var buf []float64
	cum, b, total := base, uint64(0), 0
	for k, r := range ranks {
		for cum+counts[b] <= r {
			cum += counts[b]
			b++
		}
		switch {
		case mins[b] == maxs[b]:
			// Equal values.
			out[r] = fromOrderKey(lo + mins[b])
		case counts[b] > maxSelectCandidates:
			if n := len(refine); n > 0 && refine[n-1].bucket == b {
				refine[n-1].ranks = ranks[k-len(refine[n-1].ranks) : k+1]
				continue
			}
			refine = append(refine, target{bucket: b, base: cum, ranks: ranks[k : k+1]})
		default:
			if n := len(targets); n > 0 && targets[n-1].bucket == b {
				targets[n-1].ranks = ranks[k-len(targets[n-1].ranks) : k+1]
				continue
			}
			if total+int(counts[b]) > maxSelectGather {
				// Bound the copies: select what is gathered so far.
				buf = gather(targets, total, buf)
				clear(tgt)
				targets, total = targets[:0], 0
			}
			targets = append(targets, target{bucket: b, base: cum, start: total, end: total, ranks: ranks[k : k+1]})
			tgt[b] = int32(len(targets))
			total += int(counts[b])
		}
	}
	gather(targets, total, buf) // buf is dead, and collectable, from here on
	for _, t := range refine {
		selectInKeys(parts, lo+mins[t.bucket], lo+maxs[t.bucket], false, t.base, t.ranks, out)
	}
}

// fromOrderKey inverts orderKey.
func fromOrderKey(k uint64) float64 {
	if k>>63 != 0 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// selectInPlace finds the values at the given ascending ranks of xs, as if
// xs were sorted, in expected linear time: a quickselect that partitions xs
// three ways around a pivot and recurses only into the parts holding ranks.
// base is the rank of xs[0]. It reorders xs. Should pivots keep being bad
// (after 2*log2(n) rounds), it sorts what is left, so the worst case is
// O(n log n).
func selectInPlace(xs []float64, ranks []int64, base int64, out map[int64]float64) {
	selectDepth(xs, ranks, base, out, 2*bits.Len(uint(len(xs))))
}

func selectDepth(xs []float64, ranks []int64, base int64, out map[int64]float64, depth int) {
	for len(ranks) > 0 {
		depth--
		if len(xs) <= 64 || depth < 0 {
			slices.Sort(xs)
			for _, r := range ranks {
				out[r] = xs[r-base]
			}
			return
		}
		// Median of three, from the start, middle and end.
		a, b, c := xs[0], xs[len(xs)/2], xs[len(xs)-1]
		pivot := max(min(a, b), min(max(a, b), c))
		lt, gt := partition3(xs, pivot)
		loEnd, eqEnd := base+int64(lt), base+int64(gt)
		k := 0
		for k < len(ranks) && ranks[k] < loEnd {
			k++
		}
		below := ranks[:k]
		j := k
		for j < len(ranks) && ranks[j] < eqEnd {
			out[ranks[j]] = pivot
			j++
		}
		above := ranks[j:]
		// Recurse into the smaller side, loop on the larger.
		if len(below) > 0 && len(above) > 0 {
			if lt < len(xs)-gt {
				selectDepth(xs[:lt], below, base, out, depth)
				xs, ranks, base = xs[gt:], above, eqEnd
			} else {
				selectDepth(xs[gt:], above, eqEnd, out, depth)
				xs, ranks = xs[:lt], below
			}
		} else if len(below) > 0 {
			xs, ranks = xs[:lt], below
		} else {
			xs, ranks, base = xs[gt:], above, eqEnd
		}
	}
}

// selectParts is selectInPlace over the concatenation of parts, which it
// reorders, without copying them together: each round partitions every part
// around one pivot and keeps the pieces holding ranks.
func selectParts(parts [][]float64, ranks []int64, base int64, out map[int64]float64) {
	var total int
	for _, p := range parts {
		total += len(p)
	}
	selectPartsDepth(parts, total, ranks, base, out, 2*bits.Len(uint(total)))
}

func selectPartsDepth(parts [][]float64, total int, ranks []int64, base int64, out map[int64]float64, depth int) {
	for len(ranks) > 0 {
		parts = slices.DeleteFunc(parts, func(p []float64) bool { return len(p) == 0 })
		if len(parts) == 1 {
			selectDepth(parts[0], ranks, base, out, depth)
			return
		}
		depth--
		if total <= 64 || depth < 0 {
			// Sort the parts and walk their merge up to the last rank.
			for _, p := range parts {
				slices.Sort(p)
			}
			rank, k := base, 0
			mergeSorted(parts, func(x float64) error {
				for k < len(ranks) && ranks[k] == rank {
					out[ranks[k]] = x
					k++
				}
				rank++
				return nil
			})
			return
		}
		// Median of three, from the first, middle and last values.
		a, b, c := parts[0][0], at(parts, total/2), parts[len(parts)-1][len(parts[len(parts)-1])-1]
		pivot := max(min(a, b), min(max(a, b), c))
		below := make([][]float64, 0, len(parts))
		above := make([][]float64, 0, len(parts))
		var nlt, ngt int
		for _, p := range parts {
			lt, gt := partition3(p, pivot)
			below = append(below, p[:lt])
			above = append(above, p[gt:])
			nlt += lt
			ngt += len(p) - gt
		}
		loEnd, eqEnd := base+int64(nlt), base+int64(total-ngt)
		k := 0
		for k < len(ranks) && ranks[k] < loEnd {
			k++
		}
		rb := ranks[:k]
		j := k
		for j < len(ranks) && ranks[j] < eqEnd {
			out[ranks[j]] = pivot
			j++
		}
		ra := ranks[j:]
		if len(rb) > 0 && len(ra) > 0 {
			selectPartsDepth(below, nlt, rb, base, out, depth)
			parts, total, ranks, base = above, ngt, ra, eqEnd
		} else if len(rb) > 0 {
			parts, total, ranks = below, nlt, rb
		} else {
			parts, total, ranks, base = above, ngt, ra, eqEnd
		}
	}
}

// at returns the value at index i of the concatenation of parts.
func at(parts [][]float64, i int) float64 {
	for _, p := range parts {
		if i < len(p) {
			return p[i]
		}
		i -= len(p)
	}
	panic("analyzer: index out of range")
}

// partition3 reorders xs so that xs[:lt] < pivot, xs[lt:gt] == pivot and
// xs[gt:] > pivot (the Dutch national flag).
func partition3(xs []float64, pivot float64) (lt, gt int) {
	i, gt := 0, len(xs)
	for i < gt {
		switch x := xs[i]; {
		case x < pivot:
			xs[lt], xs[i] = xs[i], xs[lt]
			lt++
			i++
		case x > pivot:
			gt--
			xs[gt], xs[i] = xs[i], xs[gt]
		default:
			i++
		}
	}
	return lt, gt
}

// quantilePlan says how to compute one quantile from the sorted values: the
// value at rank lo, the value at rank hi, and the interpolation weight.
type quantilePlan struct {
	lo, hi int64
	gamma  float64
}

// planQuantile follows numpy's percentile with method="linear", as pandas
// calls it: pandas passes q*100 and numpy divides by 100 again, the virtual
// index is (n-1)*q, and an index at or past the last value takes the last
// value.
func planQuantile(q float64, n int64) quantilePlan {
	q = q * 100 / 100
	v := float64(n-1) * q
	if v >= float64(n-1) {
		return quantilePlan{lo: n - 1, hi: n - 1}
	}
	lo := math.Floor(v)
	return quantilePlan{lo: int64(lo), hi: int64(lo) + 1, gamma: v - lo}
}

// lerp is numpy's _lerp: a+(b-a)*t, computed from b when t >= 0.5 so that
// the result is monotonic and exact at t = 1.
func lerp(a, b, t float64) float64 {
	if a == b {
		return a
	}
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}
