package moments

import (
	"fmt"
	"math"
)

// CoMoments accumulates what the Pearson correlation of two columns needs over
// the rows where both values are present: the count, both means (in
// double-double precision) and the co-moment sums Mxx, Myy and Mxy. The zero
// value is empty and ready for use.
type CoMoments struct {
	n             float64
	meanX, meanY  dd
	mxx, myy, mxy float64
}

// Add adds the pair (x, y). A pair where either value is NaN or ±Inf is
// skipped, as DataFrame.corr skips non-finite values.
func (c *CoMoments) Add(x, y float64) {
	if !isFinite(x) || !isFinite(y) {
		return
	}
	c.add(x, y)
}

// add adds a pair of finite values (Welford's update with both deviations
// taken from double-double means).
func (c *CoMoments) add(x, y float64) {
	n1 := c.n
	c.n++
	n := c.n
	inv := 1 / n // off the means' dependency chain (see central.add)
	dx := c.meanX.from(x)
	dy := c.meanY.from(y)
	c.meanX = c.meanX.addFloat(dx * inv)
	c.meanY = c.meanY.addFloat(dy * inv)
	f := n1 / n
	c.mxx += dx * dx * f
	c.myy += dy * dy * f
	c.mxy += dx * dy * f
}

// Merge adds the pairs accumulated by o (Chan et al. pairwise update). o is
// not changed.
func (c *CoMoments) Merge(o *CoMoments) {
	b := *o // o may be c
	if b.n == 0 {
		return
	}
	if c.n == 0 {
		*c = b
		return
	}
	n := c.n + b.n
	rb := b.n / n
	w := c.n * rb // na·nb/n
	dx := b.meanX.minus(c.meanX)
	dy := b.meanY.minus(c.meanY)
	c.mxx += b.mxx + dx*dx*w
	c.myy += b.myy + dy*dy*w
	c.mxy += b.mxy + dx*dy*w
	c.meanX = c.meanX.addFloat(dx * rb)
	c.meanY = c.meanY.addFloat(dy * rb)
	c.n = n
}

// Count returns the number of pairs added (both values finite).
func (c *CoMoments) Count() int64 { return int64(c.n) }

// Corr returns the Pearson correlation coefficient Mxy/sqrt(Mxx·Myy), clipped
// to [-1, 1], as DataFrame.corr(method="pearson", min_periods=1) computes it
// (pandas' nancorr): NaN when there are fewer than two pairs or either column
// has zero variance over the pairs.
func (c *CoMoments) Corr() float64 {
	if c.n < 2 || c.mxx == 0 || c.myy == 0 ||
		!isFinite(c.mxx) || !isFinite(c.myy) || !isFinite(c.mxy) {
		return math.NaN()
	}
	div := math.Sqrt(c.mxx * c.myy)
	if !isFinite(div) || div < 0x1p-1000 { // the product over- or underflowed
		div = math.Sqrt(c.mxx) * math.Sqrt(c.myy)
	}
	return max(-1, min(1, c.mxy/div))
}

// Cov returns the sample covariance Mxy/(n-1), as DataFrame.cov (ddof=1)
// computes it: NaN when there are fewer than two pairs.
func (c *CoMoments) Cov() float64 {
	if c.n < 2 {
		return math.NaN()
	}
	return c.mxy / (c.n - 1)
}

// MaxMatrixColumns is the most columns a Matrix takes. A Matrix costs
// O(p²) time per row and memory; callers with more numeric columns skip the
// correlation matrix (or choose the columns it covers).
const MaxMatrixColumns = 256

// Matrix accumulates the pairwise Pearson correlations of p columns, each
// pair over the rows where both of its values are present (pairwise-complete
// observations, as DataFrame.corr does).
//
// Cost: a row where every value is present costs p double-double mean
// updates and p(p+1)/2 multiply-adds (one per pair, diagonal included), about
// 0.6 ns per pair; a row with k < p present values costs a full CoMoments
// update for each of its k(k+1)/2 pairs, 20 to 30 times as much per pair. Memory is 8·(p(p+1)/2 + 4p) bytes, plus
// 64·p(p+1)/2 bytes once a row with a missing value has been added (2.1 MB at
// p = 256).
type Matrix struct {
	p int
	// Rows where all p values are present: count, means, and the co-moment
	// sums of every pair i <= j, packed row by row (see index).
	n     float64
	means []dd
	cross []float64
	delta []float64 // scratch: the row's deviations
	// Rows with a missing value: one CoMoments per pair i <= j, packed like
	// cross, allocated with the first such row.
	partial []CoMoments
	present []int // scratch: indices of the row's present values
}

// NewMatrix returns an empty Matrix for p columns, 1 <= p <= MaxMatrixColumns.
func NewMatrix(p int) (*Matrix, error) {
	if p < 1 || p > MaxMatrixColumns {
		return nil, fmt.Errorf("moments: correlation matrix of %d columns: want 1 to %d", p, MaxMatrixColumns)
	}
	return &Matrix{
		p:       p,
		means:   make([]dd, p),
		cross:   make([]float64, p*(p+1)/2),
		delta:   make([]float64, p),
		present: make([]int, 0, p),
	}, nil
}

// Columns returns the number of columns p.
func (m *Matrix) Columns() int { return m.p }

// index returns the position of pair (i, j), i <= j, in the packed upper
// triangle: row i starts at i·p - i(i-1)/2 and holds columns i..p-1.
func (m *Matrix) index(i, j int) int {
	return i*m.p - i*(i-1)/2 + j - i
}

// Add adds one row. row[i] is present unless present is non-nil and
// present[i] is false, or row[i] is NaN or ±Inf. present may be nil (all
// present). It returns an error, and adds nothing, when row or a non-nil
// present does not have Columns() entries.
func (m *Matrix) Add(row []float64, present []bool) error {
	if len(row) != m.p || (present != nil && len(present) != m.p) {
		return fmt.Errorf("moments: correlation row of %d values (%d present flags): want %d", len(row), len(present), m.p)
	}
	idx := m.present[:0]
	for i, x := range row {
		if isFinite(x) && (present == nil || present[i]) {
			idx = append(idx, i)
		}
	}
	m.present = idx
	if len(idx) == m.p {
		m.addComplete(row)
		return nil
	}
	if m.partial == nil {
		m.partial = make([]CoMoments, len(m.cross))
	}
	for a, i := range idx {
		base := m.index(i, 0) // + j gives pair (i, j)
		xi := row[i]
		for _, j := range idx[a:] {
			m.partial[base+j].add(xi, row[j])
		}
	}
	return nil
}

// addComplete adds a row whose values are all present and finite.
func (m *Matrix) addComplete(row []float64) {
	n1 := m.n
	m.n++
	n := m.n
	inv := 1 / n
	d := m.delta
	for i, x := range row {
		d[i] = m.means[i].from(x)
		m.means[i] = m.means[i].addFloat(d[i] * inv)
	}
	f := n1 / n
	off := 0
	for i := range d {
		di := d[i] * f
		c := m.cross[off : off+m.p-i]
		for k, dj := range d[i:] {
			c[k] += di * dj
		}
		off += m.p - i
	}
}

// Merge adds the rows accumulated by o, which must have as many columns. o is
// not changed.
func (m *Matrix) Merge(o *Matrix) error {
	if o.p != m.p {
		return fmt.Errorf("moments: merging a correlation matrix of %d columns into one of %d", o.p, m.p)
	}
	if o == m {
		c := *o
		c.means = append([]dd(nil), o.means...)
		c.cross = append([]float64(nil), o.cross...)
		c.partial = append([]CoMoments(nil), o.partial...)
		o = &c
	}
	if o.partial != nil {
		if m.partial == nil {
			m.partial = make([]CoMoments, len(m.cross))
		}
		for k := range m.partial {
			m.partial[k].Merge(&o.partial[k])
		}
	}
	if o.n == 0 {
		return nil
	}
	if m.n == 0 {
		m.n = o.n
		copy(m.means, o.means)
		copy(m.cross, o.cross)
		return nil
	}
	n := m.n + o.n
	rb := o.n / n
	w := m.n * rb
	d := m.delta
	for i := range d {
		d[i] = o.means[i].minus(m.means[i])
	}
	off := 0
	for i := range d {
		di := d[i] * w
		c := m.cross[off : off+m.p-i]
		oc := o.cross[off : off+m.p-i]
		for k, dj := range d[i:] {
			c[k] += oc[k] + di*dj
		}
		off += m.p - i
	}
	for i := range d {
		m.means[i] = m.means[i].addFloat(d[i] * rb)
	}
	m.n = n
	return nil
}

// Pair returns the co-moments of columns i and j over the rows where both are
// present (i may equal j). It panics if i or j is outside [0, Columns()).
func (m *Matrix) Pair(i, j int) CoMoments {
	if i < 0 || j < 0 || i >= m.p || j >= m.p {
		panic(fmt.Sprintf("moments: pair (%d, %d) of a %d-column matrix", i, j, m.p))
	}
	if i > j {
		i, j = j, i
	}
	k := m.index(i, j)
	c := CoMoments{
		n:     m.n,
		meanX: m.means[i],
		meanY: m.means[j],
		mxx:   m.cross[m.index(i, i)],
		myy:   m.cross[m.index(j, j)],
		mxy:   m.cross[k],
	}
	if m.partial != nil {
		c.Merge(&m.partial[k])
	}
	return c
}

// Corr returns the Pearson correlation of columns i and j over their
// pairwise-complete rows, as DataFrame.corr gives it (see CoMoments.Corr).
// It panics if i or j is outside [0, Columns()).
func (m *Matrix) Corr(i, j int) float64 {
	c := m.Pair(i, j)
	return c.Corr()
}
