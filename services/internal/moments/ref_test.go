package moments

import (
	"math"
	"math/big"
	"testing"
)

// refPrec is the precision of the reference computations: every float64 sum
// of fewer than 2^300 values is exact at this precision, and the deviations
// and their powers carry ~2400 bits, far beyond what float64 can tell apart.
const refPrec = 2400

// refStats holds the exact-arithmetic statistics of a set of finite values,
// each rounded once to float64; the pandas rules (NaN for small counts, the
// 1e-14 thresholds, 0 for a zero variance) are applied to the exact values.
type refStats struct {
	sum, mean, var1, var0, std1, skew, kurt float64
}

func bf(x float64) *big.Float { return new(big.Float).SetPrec(refPrec).SetFloat64(x) }

func bfi(n int) *big.Float { return new(big.Float).SetPrec(refPrec).SetInt64(int64(n)) }

func f64(x *big.Float) float64 {
	f, _ := x.Float64()
	return f
}

func add(a, b *big.Float) *big.Float { return new(big.Float).SetPrec(refPrec).Add(a, b) }
func sub(a, b *big.Float) *big.Float { return new(big.Float).SetPrec(refPrec).Sub(a, b) }
func mul(a, b *big.Float) *big.Float { return new(big.Float).SetPrec(refPrec).Mul(a, b) }
func quo(a, b *big.Float) *big.Float { return new(big.Float).SetPrec(refPrec).Quo(a, b) }
func sqrtB(a *big.Float) *big.Float  { return new(big.Float).SetPrec(refPrec).Sqrt(a) }

// reference computes refStats by the two-pass definitions in refPrec-bit
// arithmetic. xs must be finite.
func reference(t testing.TB, xs []float64) refStats {
	t.Helper()
	nan := math.NaN()
	n := len(xs)
	sum := bf(0)
	for _, x := range xs {
		if !isFinite(x) {
			t.Fatalf("reference of a non-finite value %v", x)
		}
		sum = add(sum, bf(x))
	}
	r := refStats{sum: f64(sum), mean: nan, var1: nan, var0: nan, std1: nan, skew: nan, kurt: nan}
	if n == 0 {
		return r
	}
	mean := quo(sum, bfi(n))
	r.mean = f64(mean)
	m2, m3, m4 := bf(0), bf(0), bf(0)
	for _, x := range xs {
		d := sub(bf(x), mean)
		d2 := mul(d, d)
		m2 = add(m2, d2)
		m3 = add(m3, mul(d2, d))
		m4 = add(m4, mul(d2, d2))
	}
	r.var0 = f64(quo(m2, bfi(n)))
	if n > 1 {
		v1 := quo(m2, bfi(n-1))
		r.var1 = f64(v1)
		r.std1 = f64(sqrtB(v1))
	}
	tiny := bf(pandasZero)
	small := func(x *big.Float) bool { return new(big.Float).Abs(x).Cmp(tiny) < 0 }
	N := bfi(n)
	if n >= 3 {
		switch {
		case small(m2):
			r.skew = 0
		case small(m3):
			r.skew = 0
		default:
			// n·sqrt(n-1)/(n-2) · M3/M2^1.5
			c := quo(mul(N, sqrtB(bfi(n-1))), bfi(n-2))
			r.skew = f64(mul(c, quo(m3, mul(m2, sqrtB(m2)))))
		}
	}
	if n >= 4 {
		num := mul(mul(mul(N, bfi(n+1)), bfi(n-1)), m4)
		den := mul(mul(bfi(n-2), bfi(n-3)), mul(m2, m2))
		adj := quo(mul(bfi(3), mul(bfi(n-1), bfi(n-1))), mul(bfi(n-2), bfi(n-3)))
		switch {
		case small(den):
			r.kurt = 0
		case small(num):
			r.kurt = f64(new(big.Float).Neg(adj))
		default:
			r.kurt = f64(sub(quo(num, den), adj))
		}
	}
	return r
}

// relErr returns |got-want|/|want|, 0 when both are the same NaN, infinity or
// zero, and +Inf when they differ in class (NaN, infinite, zero).
func relErr(got, want float64) float64 {
	switch {
	case math.IsNaN(want) || math.IsNaN(got):
		if math.IsNaN(want) && math.IsNaN(got) {
			return 0
		}
		return math.Inf(1)
	case math.IsInf(want, 0) || math.IsInf(got, 0) || want == 0 || got == 0:
		if got == want {
			return 0
		}
		return math.Inf(1)
	}
	return math.Abs(got-want) / math.Abs(want)
}

// checkClose fails t unless got is within tol relative of want (see relErr).
func checkClose(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if e := relErr(got, want); e > tol {
		t.Errorf("%s = %v, want %v (relative error %.3g > %.3g)", what, got, want, e, tol)
	}
}

// checkSame fails t unless got and want are the same float64 (NaN equals
// NaN, and 0 and -0 differ).
func checkSame(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
		t.Errorf("%s = %v (%#x), want %v (%#x)", what, got, math.Float64bits(got), want, math.Float64bits(want))
	}
}

// checkNear is checkClose that also accepts finite values within abs of want.
func checkNear(t *testing.T, what string, got, want, rel, abs float64) {
	t.Helper()
	if isFinite(got) && isFinite(want) && math.Abs(got-want) <= abs {
		return
	}
	checkClose(t, what, got, want, rel)
}
