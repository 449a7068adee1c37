package analyzer

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"os"
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
type numericCol struct {
	mom      moments
	min, max float64
	vals     []float64 // values not yet spilled; vals[:folded] are in mom
	folded   int
	runs     []run
}

// add records one non-missing value. It returns the change in memory use.
func (c *numericCol) add(x float64) int64 {
	if c.mom.n == 0 && len(c.vals) == 0 {
		c.min, c.max = x, x
		c.mom.shift = x
	} else {
		if x < c.min {
			c.min = x
		}
		if x > c.max {
			c.max = x
		}
	}
	before := cap(c.vals)
	c.vals = append(c.vals, x)
	if len(c.vals)-c.folded >= chunkSize {
		c.fold()
	}
	return int64(cap(c.vals)-before) * 8
}

// fold folds the values not yet in the moments into them.
func (c *numericCol) fold() {
	if c.folded == len(c.vals) {
		return
	}
	c.mom.merge(chunkMoments(c.vals[c.folded:], c.mom.shift))
	c.folded = len(c.vals)
}

// mem returns the bytes the column holds in memory.
func (c *numericCol) mem() int64 { return int64(cap(c.vals)) * 8 }

// spill writes the in-memory values to a sorted run and frees them. It
// returns the change in memory use.
func (c *numericCol) spill(ctx context.Context, t *tempFiles, fanIn int) (int64, error) {
	if len(c.vals) == 0 {
		return 0, nil
	}
	c.fold()
	slices.Sort(c.vals)
	rw, err := newRunWriter(t)
	if err != nil {
		return 0, err
	}
	for _, x := range c.vals {
		if err := rw.writeFloat(x); err != nil {
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
	freed := -c.mem()
	c.vals, c.folded = nil, 0
	if len(c.runs) > 2*fanIn {
		c.runs, err = compactRuns(c.runs, fanIn, fanIn, func(rs []run) (run, error) { return mergeFloatRuns(ctx, t, rs) })
	}
	return freed, err
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
	before := c.mem()
	c.vals = append(c.vals, o.vals...)
	c.folded = len(c.vals)
	c.runs = append(c.runs, o.runs...)
	*o = numericCol{}
	return c.mem() - before
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
		selectInPlace(c.vals, ranks, 0, values)
	} else {
		slices.Sort(c.vals)
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
	srcs := []floatSource{&sliceFloats{xs: c.vals}}
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
	var srcs []floatSource
	for _, r := range runs {
		rr, err := openRun(r)
		if err != nil {
			return run{}, err
		}
		defer rr.close()
		srcs = append(srcs, runFloats{rr})
	}
	m, err := newFloatMerger(srcs)
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
		x, ok, err := m.next()
		if err != nil {
			rw.abort()
			return run{}, err
		}
		if !ok {
			break
		}
		if err := rw.writeFloat(x); err != nil {
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
		// Dutch national flag: xs[:lt] < pivot, xs[lt:i] == pivot, xs[gt:] > pivot.
		lt, i, gt := 0, 0, len(xs)
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
