package analyzer

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"google.golang.org/protobuf/proto"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// chunkSize is how many values a numeric column folds into its moments at a
// time, with a two-pass pass over the chunk.
const chunkSize = 256

// moments are the count, mean and sum of squared deviations (M2) of a set of
// values, kept relative to a shift so that values with a large magnitude and a
// tiny spread (prices around 1e9 that differ in the cents) keep their
// precision: the mean is stored as mean-shift, a small number.
type moments struct {
	n     int64
	shift float64 // subtracted from every value; the first value seen
	mean  float64 // mean of value-shift
	m2    float64 // sum of (value-mean)^2
}

// merge combines b into a with Chan et al.'s parallel formula.
func (a *moments) merge(b moments) {
	if b.n == 0 {
		return
	}
	if a.n == 0 {
		*a = b
		return
	}
	// Express b's mean relative to a's shift. Shifts of one column are close
	// to each other, so their difference is exact or nearly so.
	bmean := (b.shift - a.shift) + b.mean
	n := a.n + b.n
	na, nb, nn := float64(a.n), float64(b.n), float64(n)
	delta := bmean - a.mean
	a.mean += delta * (nb / nn)
	a.m2 += b.m2 + delta*delta*(na*nb/nn)
	a.n = n
}

// chunkMoments computes the moments of xs (not empty) relative to shift with
// the corrected two-pass algorithm.
func chunkMoments(xs []float64, shift float64) moments {
	n := float64(len(xs))
	var s float64
	for _, x := range xs {
		s += x - shift
	}
	mean := s / n
	var s1, s2 float64
	for _, x := range xs {
		d := (x - shift) - mean
		s1 += d
		s2 += d * d
	}
	m2 := s2 - s1*s1/n
	if m2 < 0 {
		m2 = 0
	}
	return moments{n: int64(len(xs)), shift: shift, mean: mean, m2: m2}
}

// numericCol accumulates an INTEGER or NUMBER column. It keeps every value
// for exact quantiles: in memory while the budget allows, then in sorted runs
// on disk.
//
// The values in memory are kept in chunks that are never copied, so growing
// leaves no garbage behind: chunk capacities double from chunkSize up to
// maxChunk and are multiples of chunkSize, so that the moments fold the
// same consecutive windows of chunkSize values whatever the chunking.
type numericCol struct {
	mom      moments
	min, max float64
	full     [][]float64 // filled chunks, all folded into mom
	cur      []float64   // the chunk being filled; cur[:folded] are in mom
	folded   int
	size     int64 // bytes of the chunks' capacities
	maxChunk int   // the largest chunk capacity, in values
	runs     []run
}

func newNumericCol(maxChunk int) *numericCol { return &numericCol{maxChunk: maxChunk} }

// add records one non-missing value. It returns the change in memory use.
func (c *numericCol) add(x float64) int64 {
	if len(c.cur) < cap(c.cur) {
		if x < c.min {
			c.min = x
		}
		if x > c.max {
			c.max = x
		}
		c.cur = append(c.cur, x)
		if len(c.cur)-c.folded >= chunkSize {
			c.fold()
		}
		return 0
	}
	return c.addSlow(x)
}

// addSlow is add when the current chunk is full or missing.
func (c *numericCol) addSlow(x float64) int64 {
	if c.mom.n == 0 && c.size == 0 {
		c.min, c.max = x, x
		c.mom.shift = x
	}
	c.fold()
	if len(c.cur) > 0 {
		c.full = append(c.full, c.cur)
	}
	n := chunkSize
	if k := len(c.full); k > 0 {
		n = min(2*cap(c.full[k-1]), c.maxChunk)
	}
	c.cur = make([]float64, 0, n)
	c.folded = 0
	c.size += int64(n) * 8
	c.add(x)
	return int64(n) * 8
}

// fold folds the values not yet in the moments into them.
func (c *numericCol) fold() {
	if c.folded == len(c.cur) {
		return
	}
	c.mom.merge(chunkMoments(c.cur[c.folded:], c.mom.shift))
	c.folded = len(c.cur)
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

// spill writes the in-memory values to a sorted run and frees them. It
// returns the change in memory use.
func (c *numericCol) spill(ctx context.Context, t *tempFiles, fanIn int) (int64, error) {
	if c.size == 0 {
		return 0, nil
	}
	c.fold()
	parts := c.parts()
	for _, p := range parts {
		slices.Sort(p)
	}
	rw, err := newRunWriter(t)
	if err != nil {
		return 0, err
	}
	if err := mergeSorted(parts, rw.writeFloat); err != nil {
		rw.abort()
		return 0, fmt.Errorf("write spill file: %w", err)
	}
	r, err := rw.finish()
	if err != nil {
		return 0, err
	}
	c.runs = append(c.runs, r)
	freed := -c.size
	c.full, c.cur, c.folded, c.size = nil, nil, 0, 0
	if len(c.runs) > 2*fanIn {
		c.runs, err = compactRuns(c.runs, fanIn, fanIn, func(rs []run) (run, error) { return mergeFloatRuns(ctx, t, rs) })
	}
	return freed, err
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

// merge folds o, a column of the rows that follow c's, into c. It returns the
// change in c's memory use; o must not be used afterwards.
func (c *numericCol) merge(o *numericCol) int64 {
	c.fold()
	o.fold()
	if o.mom.n == 0 {
		return 0
	}
	if c.mom.n == 0 {
		c.min, c.max = o.min, o.max
	} else {
		c.min, c.max = min(c.min, o.min), max(c.max, o.max)
	}
	c.mom.merge(o.mom)
	if len(c.cur) > 0 {
		c.full = append(c.full, c.cur)
	}
	c.full = append(c.full, o.full...)
	// o's current chunk goes on being filled; what it holds is folded.
	c.cur, c.folded = o.cur, len(o.cur)
	c.size += o.size
	c.runs = append(c.runs, o.runs...)
	d := o.size
	*o = numericCol{}
	return d
}

// stats computes the column's statistics for the given quantiles.
func (c *numericCol) stats(ctx context.Context, t *tempFiles, quantiles []float64, fanIn int) (*typev1.NumericStats, error) {
	c.fold()
	st := &typev1.NumericStats{}
	n := c.mom.n
	for _, q := range quantiles {
		st.Percentiles = append(st.Percentiles, &typev1.Percentile{Quantile: q})
	}
	if n == 0 {
		return st, nil
	}
	st.Mean = proto.Float64(c.mom.shift + c.mom.mean)
	if n > 1 {
		st.Std = proto.Float64(math.Sqrt(c.mom.m2 / float64(n-1)))
	}
	st.Min = proto.Float64(c.min)
	st.Max = proto.Float64(c.max)
	if len(quantiles) == 0 {
		return st, nil
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
	if len(c.runs) == 0 {
		selectParts(c.parts(), ranks, 0, values)
	} else {
		for _, p := range c.parts() {
			slices.Sort(p)
		}
		if err := c.selectRanks(ctx, t, ranks, values, fanIn); err != nil {
			return nil, err
		}
	}
	for i, p := range plans {
		st.Percentiles[i].Value = proto.Float64(lerp(values[p.lo], values[p.hi], p.gamma))
	}
	return st, nil
}

// selectRanks streams the sorted union of the runs and the (sorted)
// in-memory values and records the values at the given ascending ranks.
func (c *numericCol) selectRanks(ctx context.Context, t *tempFiles, ranks []int64, out map[int64]float64, fanIn int) error {
	var err error
	if c.runs, err = compactRuns(c.runs, fanIn-1, fanIn, func(rs []run) (run, error) { return mergeFloatRuns(ctx, t, rs) }); err != nil {
		return err
	}
	var srcs []floatSource
	for _, p := range c.parts() {
		srcs = append(srcs, &sliceFloats{xs: p})
	}
	for _, r := range c.runs {
		rr, err := openRun(r)
		if err != nil {
			return err
		}
		defer rr.close()
		srcs = append(srcs, runFloats{rr})
	}
	m, err := newFloatMerger(srcs)
	if err != nil {
		return err
	}
	var rank int64
	for _, want := range ranks {
		for {
			x, ok, err := m.next()
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("spill files hold fewer values than counted")
			}
			if rank&0xffff == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			rank++
			if rank-1 == want {
				out[want] = x
				break
			}
		}
	}
	return nil
}

// mergeFloatRuns merges numeric runs into a new one.
func mergeFloatRuns(ctx context.Context, t *tempFiles, runs []run) (run, error) {
	return mergeRuns(ctx, t, runs, func(rr *runReader) floatSource { return runFloats{rr} },
		func(srcs []floatSource) (func(*runWriter) (bool, error), error) {
			m, err := newFloatMerger(srcs)
			if err != nil {
				return nil, err
			}
			return func(rw *runWriter) (bool, error) {
				x, ok, err := m.next()
				if err != nil || !ok {
					return false, err
				}
				if err := rw.writeFloat(x); err != nil {
					return false, fmt.Errorf("write spill file: %w", err)
				}
				return true, nil
			}, nil
		})
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
