// Package moments computes pandas-compatible summary statistics of float64
// columns in one pass and constant memory, in accumulators that merge, so a
// file can be analyzed in shards (blocks, workers) whose results combine to
// those of a single pass.
//
// Moments gives count, sum, mean, variance, standard deviation, skewness and
// excess kurtosis with pandas' definitions (Series.sum, mean, var, std, skew,
// kurt with skipna=True), min, max and sign counts. CoMoments and Matrix give
// Pearson correlation over pairwise-complete rows, as DataFrame.corr does.
//
// Accuracy: the results are those of exact arithmetic on the float64 inputs,
// rounded at the end, within a few units in the last place, including for
// data where pandas itself loses digits (a large mean with a tiny spread):
//
//   - Sum and Mean come from an exact accumulator (a fixed-size
//     superaccumulator, 552 bytes): Sum is the exact sum rounded once to the
//     nearest float64 and Mean the exact sum divided by the count rounded
//     once, so both are independent of the order of the values and of how
//     they were split into shards and merged.
//   - The central moments M2, M3, M4 (sums of d², d³, d⁴ over the deviations
//     d from the mean) are updated with the one-pass formulas of Pébay (2008),
//     and combined with the pairwise formulas of Chan et al. / Pébay, while the
//     running mean is held in double-double precision. Every deviation is
//     therefore accurate to full float64 precision, which removes the
//     cancellation that makes the textbook one-pass (and a float64 Welford)
//     update lose digits when |mean| is much larger than the spread.
//
// Special values, following pandas with skipna=True and IEEE arithmetic:
//
//   - NaN is a missing value: it is counted by NaNCount and ignored otherwise.
//   - ±Inf is a value (pandas treats it so): it is counted, is positive or
//     negative, is the min or max, makes Sum and Mean ±Inf (NaN when both
//     signs occur), and makes Var, Std, Skew and Kurt NaN.
//   - -0.0 is a zero for the sign counts, and a sum of zeros is +0 (pandas
//     gives 0.0 for the sum and mean of -0.0 values too).
//   - Correlation (CoMoments, Matrix) skips a pair when either value is NaN or
//     ±Inf, as DataFrame.corr does (it keeps only finite pairs).
//
// Where pandas and exact arithmetic differ, the results follow exact
// arithmetic except for the documented pandas rules that change a result
// class (NaN for small counts, 0 for a zero variance, and the 1e-14
// thresholds of Skew and Kurt). Cases where float64 intermediates overflow:
// the deviations must stay below about 1.3e154 for Var (beyond it Var and Std
// are +Inf, as in pandas), 5e102 for Skew and 1e77 for Kurt (beyond them the
// result is NaN, as pandas' own overflow gives). The means and sums never
// overflow before the exact result does: the mean of 1e308, 1e308 is 1e308
// (pandas returns inf there).
//
// No accumulator is safe for concurrent use; give each goroutine its own and
// merge them.
package moments

import "math"

// pandasZero is the threshold of pandas' nanops._zero_out_fperr: nanskew
// treats |M2| or |M3| below it as 0, and nankurt does so with its numerator
// n(n+1)(n-1)·M4 and denominator (n-2)(n-3)·M2².
const pandasZero = 1e-14

// Moments accumulates the statistics of one float64 column. The zero value is
// an empty accumulator ready for use. A Moments holds no pointers: copying it
// copies the state (the 552-byte exact sum plus 14 words).
type Moments struct {
	n              int64 // values other than NaN
	nan            int64
	neg, zero, pos int64
	posInf, negInf int64
	min, max       float64
	sum            exactSum
	c              central // the finite values
}

// central holds the count, mean and central moment sums M2, M3, M4 of finite
// values.
type central struct {
	n          float64
	mean       dd
	m2, m3, m4 float64
}

// add adds one finite value (Pébay 2008, eq. 1.1-1.4 with a one-value set).
func (c *central) add(x float64) {
	if c.n == 0 {
		// Spelled out: the general update would form delta² first, which
		// overflows for |x| > 1.3e154 even though every moment is 0.
		*c = central{n: 1, mean: dd{hi: x}}
		return
	}
	n1 := c.n
	c.n++
	n := c.n
	// 1/n does not depend on the running mean, so the CPU computes it ahead
	// of the mean's dependency chain, where a division by n would sit.
	inv := 1 / n
	delta := c.mean.from(x)
	dn := delta * inv
	dn2 := dn * dn
	t1 := delta * dn * n1
	c.mean = c.mean.addFloat(dn)
	c.m4 += t1*dn2*(n*n-3*n+3) + 6*dn2*c.m2 - 4*dn*c.m3
	c.m3 += t1*dn*(n-2) - 3*dn*c.m2
	c.m2 += t1
}

// merge combines o into c (Chan et al. 1979 for M2; Pébay 2008, eq. 2.1 for M3
// and M4). The weights are written as fractions of the combined count so that
// no product of counts can overflow.
func (c *central) merge(o central) {
	if o.n == 0 {
		return
	}
	if c.n == 0 {
		*c = o
		return
	}
	na, nb := c.n, o.n
	n := na + nb
	ra, rb := na/n, nb/n
	delta := o.mean.minus(c.mean)
	d2 := delta * delta
	w := na * rb // na·nb/n
	m2 := c.m2 + o.m2 + d2*w
	m3 := c.m3 + o.m3 + d2*delta*w*((na-nb)/n) + 3*delta*(ra*o.m2-rb*c.m2)
	m4 := c.m4 + o.m4 + d2*d2*w*(ra*ra-ra*rb+rb*rb) +
		6*d2*(ra*ra*o.m2+rb*rb*c.m2) + 4*delta*(ra*o.m3-rb*c.m3)
	c.mean = c.mean.addFloat(delta * rb)
	c.n = n
	c.m2, c.m3, c.m4 = m2, m3, m4
}

// overflowed reports whether a float64 intermediate overflowed (the inputs
// are finite, so any non-finite state comes from an overflow).
func (c *central) overflowed() bool {
	return !isFinite(c.m2) || !isFinite(c.mean.hi)
}

func isFinite(x float64) bool { return x-x == 0 }

// Add adds one value. NaN is counted as missing and otherwise ignored.
func (m *Moments) Add(x float64) {
	if x != x {
		m.nan++
		return
	}
	// <= and >=: of equal extremes (0 and -0.0) the last one wins, as in
	// numpy's and so pandas' min and max.
	if m.n == 0 || x <= m.min {
		m.min = x
	}
	if m.n == 0 || x >= m.max {
		m.max = x
	}
	m.n++
	switch {
	case x > 0:
		m.pos++
	case x < 0:
		m.neg++
	default:
		m.zero++
	}
	if !isFinite(x) {
		if x > 0 {
			m.posInf++
		} else {
			m.negInf++
		}
		return
	}
	m.sum.add(x)
	m.c.add(x)
}

// Merge adds the values accumulated by o, as if they had been added to m
// after m's own. Counts, Sum, Mean, Min and Max are then exactly those of one
// pass over all values; the moments agree to rounding (a few units in the
// last place). o is not changed; m.Merge(m) doubles every value's weight.
func (m *Moments) Merge(o *Moments) {
	b := *o // o may be m
	m.nan += b.nan
	if b.n == 0 {
		return
	}
	if m.n == 0 {
		b.nan = m.nan
		*m = b
		return
	}
	if b.min <= m.min {
		m.min = b.min
	}
	if b.max >= m.max {
		m.max = b.max
	}
	m.n += b.n
	m.neg += b.neg
	m.zero += b.zero
	m.pos += b.pos
	m.posInf += b.posInf
	m.negInf += b.negInf
	m.sum.merge(&b.sum)
	m.c.merge(b.c)
}

// Count returns the number of values added, NaN excluded (pandas count).
func (m *Moments) Count() int64 { return m.n }

// NaNCount returns the number of NaN values added (missing values).
func (m *Moments) NaNCount() int64 { return m.nan }

// Negative returns the number of values below zero, -Inf included.
func (m *Moments) Negative() int64 { return m.neg }

// Zero returns the number of values equal to zero, -0.0 included.
func (m *Moments) Zero() int64 { return m.zero }

// Positive returns the number of values above zero, +Inf included.
func (m *Moments) Positive() int64 { return m.pos }

// Min returns the smallest value, or NaN when there is none. Of 0 and -0.0,
// which compare equal, the one added last is kept (as pandas and numpy do).
func (m *Moments) Min() float64 {
	if m.n == 0 {
		return math.NaN()
	}
	return m.min
}

// Max returns the largest value, or NaN when there is none. Of 0 and -0.0
// the one added last is kept.
func (m *Moments) Max() float64 {
	if m.n == 0 {
		return math.NaN()
	}
	return m.max
}

// inf returns the sum of the infinite values and whether there is any.
func (m *Moments) inf() (float64, bool) {
	switch {
	case m.posInf > 0 && m.negInf > 0:
		return math.NaN(), true
	case m.posInf > 0:
		return math.Inf(1), true
	case m.negInf > 0:
		return math.Inf(-1), true
	}
	return 0, false
}

// Sum returns the sum of the values (pandas sum, 0 when there is none): the
// exact sum rounded once to the nearest float64, ±Inf beyond the float64
// range or with an infinite value, NaN with infinities of both signs.
func (m *Moments) Sum() float64 {
	if s, ok := m.inf(); ok {
		return s
	}
	return m.sum.float64()
}

// Mean returns the mean (pandas mean): the exact sum divided by Count,
// rounded once, so it never overflows when the values do not; NaN when there
// is no value, ±Inf or NaN with infinite values as for Sum.
func (m *Moments) Mean() float64 {
	if m.n == 0 {
		return math.NaN()
	}
	if s, ok := m.inf(); ok {
		return s
	}
	return m.sum.quo(m.n)
}

// Var returns the variance with divisor Count-ddof (pandas var; pandas'
// default is ddof=1): NaN when Count <= ddof or with an infinite value, +Inf
// when the squared deviations overflow float64.
func (m *Moments) Var(ddof int) float64 {
	if m.n == 0 || m.n <= int64(ddof) || m.posInf+m.negInf > 0 {
		return math.NaN()
	}
	if m.c.overflowed() {
		return math.Inf(1)
	}
	return m.c.m2 / float64(m.n-int64(ddof))
}

// Std returns the standard deviation, the square root of Var(ddof) (pandas
// std; pandas' default is ddof=1).
func (m *Moments) Std(ddof int) float64 {
	return math.Sqrt(m.Var(ddof))
}

// Skew returns the sample skewness as pandas Series.skew computes it
// (nanops.nanskew): the adjusted Fisher-Pearson coefficient
// G1 = n·sqrt(n-1)/(n-2) · M3/M2^1.5. It is NaN when Count < 3 or with an
// infinite value; 0 when M2 is 0. Like pandas, |M2| and |M3| below 1e-14 count
// as 0, so data on a scale below about 1e-7 has skewness 0.
func (m *Moments) Skew() float64 {
	if m.n < 3 || m.posInf+m.negInf > 0 {
		return math.NaN()
	}
	m2, m3 := m.c.m2, m.c.m3
	if m.c.overflowed() || !isFinite(m3) {
		return math.NaN()
	}
	if math.Abs(m2) < pandasZero {
		return 0
	}
	if math.Abs(m3) < pandasZero {
		m3 = 0
	}
	n := float64(m.n)
	return (n * math.Sqrt(n-1) / (n - 2)) * (m3 / m2 / math.Sqrt(m2))
}

// Kurt returns the sample excess kurtosis as pandas Series.kurt computes it
// (nanops.nankurt): G2 = n(n+1)(n-1)·M4 / ((n-2)(n-3)·M2²) - 3(n-1)²/((n-2)(n-3)).
// It is NaN when Count < 4 or with an infinite value. Like pandas, a numerator
// or denominator below 1e-14 counts as 0, and a zero denominator gives 0.
func (m *Moments) Kurt() float64 {
	if m.n < 4 || m.posInf+m.negInf > 0 {
		return math.NaN()
	}
	m2, m4 := m.c.m2, m.c.m4
	if m.c.overflowed() || !isFinite(m4) {
		return math.NaN()
	}
	n := float64(m.n)
	num := n * (n + 1) * (n - 1) * m4
	den := (n - 2) * (n - 3) * m2 * m2
	if math.Abs(den) < pandasZero {
		return 0
	}
	adj := 3 * (n - 1) * (n - 1) / ((n - 2) * (n - 3))
	if math.Abs(num) < pandasZero {
		return -adj
	}
	// num/den without forming M2², which overflows long before M4/M2² does.
	return n*(n+1)*(n-1)/((n-2)*(n-3))*(m4/m2/m2) - adj
}
