package moments

// dd is an unevaluated sum hi+lo of two float64 values (double-double), about
// 106 significant bits. The running means are kept this way so that the
// deviation x - mean is accurate to the last bit of float64 even when the
// mean is large and the deviations are tiny (values near 1e9 that differ by
// 1e-3), which is what keeps the moment updates free of cancellation.
type dd struct {
	hi, lo float64
}

// twoSum returns s = fl(a+b) and the exact rounding error e, a+b = s+e
// (Knuth), for finite a, b whose sum does not overflow.
func twoSum(a, b float64) (s, e float64) {
	s = a + b
	bb := s - a
	e = (a - (s - bb)) + (b - bb)
	return s, e
}

// addFloat returns d+x.
func (d dd) addFloat(x float64) dd {
	s, e := twoSum(d.hi, x)
	e += d.lo
	hi := s + e
	return dd{hi: hi, lo: e - (hi - s)}
}

// from returns x-d rounded to float64.
func (d dd) from(x float64) float64 {
	s, e := twoSum(x, -d.hi)
	return s + (e - d.lo)
}

// minus returns d-o rounded to float64.
func (d dd) minus(o dd) float64 {
	s, e := twoSum(d.hi, -o.hi)
	return s + (e + (d.lo - o.lo))
}
