package moments

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// refCorr returns the exact Pearson correlation and covariance (ddof=1) of the
// pairs, rounded once; NaN where pandas gives NaN.
func refCorr(t *testing.T, xs, ys []float64) (corr, cov float64) {
	t.Helper()
	n := len(xs)
	if n < 2 {
		return math.NaN(), math.NaN()
	}
	sx, sy := bf(0), bf(0)
	for i := range xs {
		sx, sy = add(sx, bf(xs[i])), add(sy, bf(ys[i]))
	}
	mx, my := quo(sx, bfi(n)), quo(sy, bfi(n))
	mxx, myy, mxy := bf(0), bf(0), bf(0)
	for i := range xs {
		dx, dy := sub(bf(xs[i]), mx), sub(bf(ys[i]), my)
		mxx, myy, mxy = add(mxx, mul(dx, dx)), add(myy, mul(dy, dy)), add(mxy, mul(dx, dy))
	}
	cov = f64(quo(mxy, bfi(n-1)))
	if mxx.Sign() == 0 || myy.Sign() == 0 {
		return math.NaN(), cov
	}
	return f64(quo(mxy, sqrtB(mul(mxx, myy)))), cov
}

func fillCo(xs, ys []float64) *CoMoments {
	var c CoMoments
	for i := range xs {
		c.Add(xs[i], ys[i])
	}
	return &c
}

// TestCoMomentsEdgeCases covers the NaN results of DataFrame.corr, skipped
// pairs and exact ±1.
func TestCoMomentsEdgeCases(t *testing.T) {
	tests := []struct {
		name      string
		xs, ys    []float64
		count     int64
		corr, cov float64
	}{
		{"no pair", nil, nil, 0, nan, nan},
		{"one pair", []float64{1}, []float64{2}, 1, nan, nan},
		{"two pairs", []float64{1, 2}, []float64{5, 3}, 2, -1, -1},
		{"constant x", []float64{3, 3, 3}, []float64{1, 2, 4}, 3, nan, 0},
		{"constant y", []float64{1, 2, 4}, []float64{0.1, 0.1, 0.1}, 3, nan, 0},
		{"linear", []float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}, 4, 1, 50.0 / 3},
		// Kept: (1, 2), (3, 1), (4, 9): Mxy = 9, Mxx = 14/3, Myy = 38.
		{"NaN and Inf pairs skipped", []float64{1, nan, 2, inf, 3, 4, -inf}, []float64{2, 1, nan, 5, 1, 9, 0}, 3, 9 / math.Sqrt(14.0/3*38), 4.5},
		{"only one finite pair", []float64{1, nan, inf}, []float64{2, 3, 4}, 1, nan, nan},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := fillCo(tc.xs, tc.ys)
			if c.Count() != tc.count {
				t.Errorf("Count = %d, want %d", c.Count(), tc.count)
			}
			checkClose(t, "Corr", c.Corr(), tc.corr, 1e-15)
			checkClose(t, "Cov", c.Cov(), tc.cov, 1e-15)
		})
	}
}

// corrCase generates correlated pairs.
type corrCase struct {
	name string
	gen  func(rng *rand.Rand) (x, y float64)
}

var corrCases = []corrCase{
	{"1e9 + 1e-3 noise, correlated", func(rng *rand.Rand) (float64, float64) {
		z := rng.NormFloat64()
		return 1e9 + 1e-3*z, -5e8 + 1e-3*(0.6*z+0.8*rng.NormFloat64())
	}},
	{"independent", func(rng *rand.Rand) (float64, float64) { return rng.NormFloat64(), rng.ExpFloat64() }},
	{"anti-correlated lognormal", func(rng *rand.Rand) (float64, float64) {
		z := rng.NormFloat64()
		return math.Exp(z), -3*z + 0.1*rng.NormFloat64()
	}},
}

func genPairs(c corrCase, seed uint64, n int) (xs, ys []float64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	xs, ys = make([]float64, n), make([]float64, n)
	for i := range xs {
		xs[i], ys[i] = c.gen(rng)
	}
	return xs, ys
}

// TestCoMomentsReference checks Corr and Cov against the math/big reference,
// including columns whose means dwarf their spreads.
func TestCoMomentsReference(t *testing.T) {
	for i, c := range corrCases {
		t.Run(c.name, func(t *testing.T) {
			xs, ys := genPairs(c, uint64(i), 2000)
			co := fillCo(xs, ys)
			corr, cov := refCorr(t, xs, ys)
			checkClose(t, "Corr", co.Corr(), corr, 1e-12)
			checkClose(t, "Cov", co.Cov(), cov, 1e-12)
		})
	}
}

// TestCoMomentsMerge checks that merged shards give the one-pass results.
func TestCoMomentsMerge(t *testing.T) {
	for i, c := range corrCases {
		t.Run(c.name, func(t *testing.T) {
			xs, ys := genPairs(c, uint64(i)+7, 1200)
			one := fillCo(xs, ys)
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			shards := make([]CoMoments, 5)
			for k := range xs {
				shards[rng.IntN(len(shards))].Add(xs[k], ys[k])
			}
			var got CoMoments
			for k := range shards {
				got.Merge(&shards[k])
			}
			if got.Count() != one.Count() {
				t.Errorf("Count = %d, want %d", got.Count(), one.Count())
			}
			checkClose(t, "Corr", got.Corr(), one.Corr(), 1e-12)
			checkClose(t, "Cov", got.Cov(), one.Cov(), 1e-12)
			self := *one
			self.Merge(&self)
			checkClose(t, "self-merged Corr", self.Corr(), one.Corr(), 1e-12)
			if self.Count() != 2*one.Count() {
				t.Errorf("self-merged Count = %d, want %d", self.Count(), 2*one.Count())
			}
		})
	}
}

// matrixData returns rows of p correlated columns with missing cells (NaN,
// ±Inf, or absent by flag).
func matrixData(seed uint64, rows, p int, missing float64) ([][]float64, [][]bool) {
	rng := rand.New(rand.NewPCG(seed, 3))
	data := make([][]float64, rows)
	flags := make([][]bool, rows)
	for r := range data {
		z := rng.NormFloat64()
		data[r] = make([]float64, p)
		flags[r] = make([]bool, p)
		for i := range p {
			data[r][i] = float64(i)*1e6 + z*float64(i%3-1) + rng.NormFloat64()
			flags[r][i] = true
			if rng.Float64() < missing {
				switch rng.IntN(4) {
				case 0:
					data[r][i] = math.NaN()
				case 1:
					data[r][i] = math.Inf(1 - 2*rng.IntN(2))
				default:
					flags[r][i] = false
				}
			}
		}
	}
	return data, flags
}

// pairwise returns the CoMoments of columns i and j over the rows where both
// are present, the definition Matrix must follow.
func pairwise(data [][]float64, flags [][]bool, i, j int) *CoMoments {
	var c CoMoments
	for r, row := range data {
		if flags[r][i] && flags[r][j] {
			c.Add(row[i], row[j])
		}
	}
	return &c
}

func checkMatrix(t *testing.T, how string, m *Matrix, data [][]float64, flags [][]bool) {
	t.Helper()
	p := m.Columns()
	for i := range p {
		for j := range p {
			want := pairwise(data, flags, i, j)
			pair := m.Pair(i, j)
			if pair.Count() != want.Count() {
				t.Errorf("%s: Pair(%d, %d).Count() = %d, want %d", how, i, j, pair.Count(), want.Count())
			}
			checkClose(t, how+": Corr", m.Corr(i, j), want.Corr(), 1e-12)
			checkClose(t, how+": Cov", pair.Cov(), want.Cov(), 1e-12)
			if i == j && want.Count() >= 2 {
				checkSame(t, how+": Corr(i, i)", m.Corr(i, j), 1)
			}
		}
	}
}

// TestMatrix checks every pair of a Matrix against a CoMoments over that
// pair's complete rows, for rows added one at a time and for merged shards.
func TestMatrix(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       int
		missing float64
	}{
		{"complete rows only", 6, 0},
		{"5% missing", 7, 0.05},
		{"40% missing", 5, 0.4},
		{"one column", 1, 0.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, flags := matrixData(uint64(tc.p), 400, tc.p, tc.missing)
			one, err := NewMatrix(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			shards := make([]*Matrix, 4)
			for k := range shards {
				if shards[k], err = NewMatrix(tc.p); err != nil {
					t.Fatal(err)
				}
			}
			rng := rand.New(rand.NewPCG(1, 1))
			for r := range data {
				if err := one.Add(data[r], flags[r]); err != nil {
					t.Fatal(err)
				}
				if err := shards[rng.IntN(len(shards))].Add(data[r], flags[r]); err != nil {
					t.Fatal(err)
				}
				// Non-finite values count as missing whatever the flag says.
				for i, x := range data[r] {
					if !isFinite(x) {
						flags[r][i] = false
					}
				}
			}
			if tc.missing == 0 && one.partial != nil {
				t.Error("complete rows allocated the per-pair accumulators")
			}
			checkMatrix(t, "one pass", one, data, flags)
			merged, _ := NewMatrix(tc.p)
			for _, s := range shards {
				if err := merged.Merge(s); err != nil {
					t.Fatal(err)
				}
			}
			checkMatrix(t, "merged", merged, data, flags)
			double := append(append([][]float64(nil), data...), data...)
			doubleFlags := append(append([][]bool(nil), flags...), flags...)
			if err := one.Merge(one); err != nil {
				t.Fatal(err)
			}
			checkMatrix(t, "self-merged", one, double, doubleFlags)
		})
	}
}

// TestMatrixNilPresent checks that a nil present slice means all present.
func TestMatrixNilPresent(t *testing.T) {
	data, flags := matrixData(9, 50, 3, 0)
	m, _ := NewMatrix(3)
	for _, row := range data {
		if err := m.Add(row, nil); err != nil {
			t.Fatal(err)
		}
	}
	checkMatrix(t, "nil present", m, data, flags)
}

// TestMatrixErrors checks the limits and the length checks.
func TestMatrixErrors(t *testing.T) {
	for _, p := range []int{-1, 0, MaxMatrixColumns + 1} {
		if _, err := NewMatrix(p); err == nil || !strings.Contains(err.Error(), "want 1 to 256") {
			t.Errorf("NewMatrix(%d) error = %v, want one naming the limit", p, err)
		}
	}
	if m, err := NewMatrix(MaxMatrixColumns); err != nil || m.Columns() != MaxMatrixColumns {
		t.Errorf("NewMatrix(%d) = %v, %v", MaxMatrixColumns, m, err)
	}
	m, _ := NewMatrix(3)
	for _, tc := range []struct {
		row     []float64
		present []bool
	}{
		{[]float64{1, 2}, nil},
		{[]float64{1, 2, 3, 4}, nil},
		{[]float64{1, 2, 3}, []bool{true, true}},
	} {
		if err := m.Add(tc.row, tc.present); err == nil {
			t.Errorf("Add(%v, %v) = nil, want an error", tc.row, tc.present)
		}
	}
	if c := m.Pair(0, 1); c.Count() != 0 {
		t.Errorf("rejected rows were added: Count = %d", c.Count())
	}
	o, _ := NewMatrix(4)
	if err := m.Merge(o); err == nil {
		t.Error("Merge of a 4-column matrix into a 3-column one = nil, want an error")
	}
	for _, ij := range [][2]int{{-1, 0}, {0, 3}, {3, 3}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Pair(%d, %d) did not panic", ij[0], ij[1])
				}
			}()
			m.Pair(ij[0], ij[1])
		}()
	}
}
