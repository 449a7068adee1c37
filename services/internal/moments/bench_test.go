package moments

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func benchValues(n int) []float64 {
	rng := rand.New(rand.NewPCG(1, 1))
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = 1e6 + 1e3*rng.NormFloat64()
	}
	return xs
}

// BenchmarkMomentsAdd measures Add; ns/op is per value.
func BenchmarkMomentsAdd(b *testing.B) {
	xs := benchValues(4096)
	var m Moments
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Add(xs[i&4095])
		i++
	}
}

// BenchmarkMomentsMerge measures merging one non-empty Moments into another.
func BenchmarkMomentsMerge(b *testing.B) {
	a, o := fill(benchValues(100)), fill(benchValues(50))
	b.ReportAllocs()
	for b.Loop() {
		a.Merge(o)
	}
}

// BenchmarkMomentsResults measures reading every statistic once (Sum and
// Mean round the exact accumulator through math/big).
func BenchmarkMomentsResults(b *testing.B) {
	m := fill(benchValues(1000))
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Sum() + m.Mean() + m.Var(1) + m.Std(1) + m.Skew() + m.Kurt() + m.Min() + m.Max()
	}
}

// BenchmarkCoMomentsAdd measures CoMoments.Add; ns/op is per pair.
func BenchmarkCoMomentsAdd(b *testing.B) {
	xs := benchValues(4096)
	var c CoMoments
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Add(xs[i&4095], xs[(i+7)&4095])
		i++
	}
}

// BenchmarkMatrixAdd measures Matrix.Add for complete rows and for rows with
// one missing value; ns/op is per row.
func BenchmarkMatrixAdd(b *testing.B) {
	for _, p := range []int{8, 64, 256} {
		xs := benchValues(p * 64)
		for _, missing := range []bool{false, true} {
			name := fmt.Sprintf("p=%d/complete", p)
			var present []bool
			if missing {
				name = fmt.Sprintf("p=%d/one-missing", p)
				present = make([]bool, p)
				for i := range present {
					present[i] = i != p/2
				}
			}
			b.Run(name, func(b *testing.B) {
				m, err := NewMatrix(p)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				r := 0
				for b.Loop() {
					row := xs[(r&63)*p : (r&63+1)*p]
					if err := m.Add(row, present); err != nil {
						b.Fatal(err)
					}
					r++
				}
			})
		}
	}
}
