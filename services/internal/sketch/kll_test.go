package sketch

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// numpyGoldenSet is one data set of numpy_golden_test.go.
type numpyGoldenSet struct {
	name          string
	seed          uint64
	n             int
	scale, shift  float64
	mod           uint64
	sum           uint64
	numpy, pandas []uint64
}

// data rebuilds the set with the LCG of testdata/gen_numpy_golden.py.
func (g numpyGoldenSet) data() []float64 {
	x := g.seed
	out := make([]float64, g.n)
	for i := range out {
		x = x*6364136223846793005 + 1442695040888963407
		var u float64
		if g.mod > 0 {
			u = float64((x >> 33) % g.mod)
		} else {
			u = float64(x>>11) / (1 << 53)
		}
		out[i] = float64(u*g.scale) + g.shift
	}
	return out
}

func TestKLLExactMatchesNumpyAndPandas(t *testing.T) {
	for _, g := range numpyGolden {
		t.Run(g.name, func(t *testing.T) {
			data := g.data()
			var sum float64
			for _, v := range data {
				sum += v
			}
			if math.Float64bits(sum) != g.sum {
				t.Fatalf("generated data differ from the Python generator's: sum %x, want %x", math.Float64bits(sum), g.sum)
			}
			s := NewKLLWithSeed(DefaultK, 1)
			for _, v := range data {
				s.Update(v)
			}
			if !s.Exact() || s.N() != uint64(g.n) {
				t.Fatalf("Exact() = %v, N() = %d; want true, %d", s.Exact(), s.N(), g.n)
			}
			for i, q := range numpyGoldenQs {
				if got := s.Quantile(q); math.Float64bits(got) != g.numpy[i] {
					t.Errorf("Quantile(%v) = %v, numpy.quantile gives %v", q, got, math.Float64frombits(g.numpy[i]))
				}
				if got := s.Quantile(PandasQ(q)); math.Float64bits(got) != g.pandas[i] {
					t.Errorf("Quantile(PandasQ(%v)) = %v, pandas gives %v", q, got, math.Float64frombits(g.pandas[i]))
				}
			}
		})
	}
}

// refQuantile is numpy.quantile's linear method over sorted data.
func refQuantile(sorted []float64, q float64) float64 {
	last := float64(len(sorted) - 1)
	vi := q * last
	if vi >= last {
		return lerp(sorted[len(sorted)-1], sorted[len(sorted)-1], vi+1)
	}
	prev := math.Floor(vi)
	j := int(prev)
	return lerp(sorted[j], sorted[j+1], vi-prev)
}

// checkKLL checks s against the exact answers for data: Min, Max, N, rank
// error at every retained item and at 1001 quantiles of the data, the
// bracket of every Quantile answer, Histogram counts and the memory bound.
func checkKLL(t *testing.T, s *KLL, data []float64) {
	t.Helper()
	sorted := slices.Clone(data)
	slices.Sort(sorted)
	n := len(sorted)
	if s.N() != uint64(n) || s.Min() != sorted[0] || s.Max() != sorted[n-1] {
		t.Fatalf("N, Min, Max = %d, %v, %v; want %d, %v, %v", s.N(), s.Min(), s.Max(), n, sorted[0], sorted[n-1])
	}
	if got, want := s.Retained(), kllTotalCapacity(s.K(), s.numLevels()); got > want {
		t.Errorf("Retained() = %d over the capacity %d", got, want)
	}
	if maxLevels := bits64Len(uint64(n)); s.numLevels() > maxLevels {
		t.Errorf("%d levels for n = %d, want at most %d", s.numLevels(), n, maxLevels)
	}
	eps := s.NormalizedRankError()
	s.ensureView()
	queries := make([]float64, 0, len(s.view)+1001)
	for _, e := range s.view {
		queries = append(queries, e.v)
	}
	for i := 0; i <= 1000; i++ {
		queries = append(queries, sorted[(n-1)*i/1000])
	}
	var worst float64
	for _, v := range queries {
		trueRank := float64(sort.Search(n, func(i int) bool { return sorted[i] > v })) / float64(n)
		if d := math.Abs(s.Rank(v) - trueRank); d > worst {
			worst = d
		}
	}
	t.Logf("n %d, k %d, levels %d, retained %d: max rank error %.5f, bound %.5f", n, s.K(), s.numLevels(), s.Retained(), worst, eps)
	if worst > eps {
		t.Errorf("max rank error %.5f over the bound %.5f", worst, eps)
	}
	if s.Exact() && worst != 0 {
		t.Errorf("exact sketch has rank error %v", worst)
	}
	for i := 0; i <= 1000; i++ {
		q := float64(i) / 1000
		got := s.Quantile(q)
		p := q * float64(n-1)
		lo := max(0, int(math.Floor(p-eps*float64(n))))
		hi := min(n-1, int(math.Ceil(p+1+eps*float64(n))))
		if !(got >= sorted[lo] && got <= sorted[hi]) {
			t.Errorf("Quantile(%v) = %v outside [%v, %v], the exact quantiles at ranks q-/+eps", q, got, sorted[lo], sorted[hi])
		}
		if s.Exact() && got != refQuantile(sorted, q) {
			t.Errorf("exact Quantile(%v) = %v, want %v", q, got, refQuantile(sorted, q))
		}
	}
	if s.Quantile(0) != sorted[0] || s.Quantile(1) != sorted[n-1] {
		t.Errorf("Quantile(0), Quantile(1) = %v, %v; want %v, %v", s.Quantile(0), s.Quantile(1), sorted[0], sorted[n-1])
	}
	// Histogram over 20 distinct edges taken from the data.
	var edges []float64
	for i := 1; i < 20; i++ {
		if e := sorted[(n-1)*i/20]; len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	counts := s.Histogram(edges)
	var total, prevLE int64
	pmfEps := s.NormalizedPMFError()
	for i := range counts {
		le := int64(n)
		if i < len(edges) {
			le = int64(sort.Search(n, func(j int) bool { return sorted[j] > edges[i] }))
		}
		want := le - prevLE
		prevLE = le
		total += counts[i]
		if d := math.Abs(float64(counts[i] - want)); d > pmfEps*float64(n) || (s.Exact() && d != 0) {
			t.Errorf("histogram bin %d: %d, want %d (bound %.0f)", i, counts[i], want, pmfEps*float64(n))
		}
	}
	if total != int64(n) {
		t.Errorf("histogram counts add up to %d, want %d", total, n)
	}
}

func bits64Len(x uint64) int {
	n := 0
	for ; x != 0; x >>= 1 {
		n++
	}
	return n
}

// kllStreams are the test streams: random, sorted, reverse-sorted,
// duplicate-heavy and adversarial orders.
func kllStreams() []struct {
	name string
	data []float64
} {
	r := rand.New(rand.NewPCG(7, 11))
	gen := func(n int, f func(i int) float64) []float64 {
		d := make([]float64, n)
		for i := range d {
			d[i] = f(i)
		}
		return d
	}
	const n = 100_000
	bitrev := func(i int) float64 { // bit-reversal permutation of 0..2^17-1
		var x uint32
		for b := 0; b < 17; b++ {
			x |= uint32(i>>b&1) << (16 - b)
		}
		return float64(x)
	}
	return []struct {
		name string
		data []float64
	}{
		{"uniform 1e6", gen(1_000_000, func(int) float64 { return r.Float64()*2e6 - 1e6 })},
		{"normal", gen(n, func(int) float64 { return r.NormFloat64() })},
		{"lognormal prices", gen(n, func(int) float64 { return math.Round(math.Exp(r.NormFloat64()*2)*100) / 100 })},
		{"sorted", gen(2*n, func(i int) float64 { return float64(i) })},
		{"reverse sorted", gen(2*n, func(i int) float64 { return float64(2*n - i) })},
		{"ten distinct values", gen(n, func(int) float64 { return float64(r.IntN(10)) })},
		{"one value", gen(n, func(int) float64 { return 42.5 })},
		{"zipf duplicates", gen(n, func() func(int) float64 {
			z := rand.NewZipf(r, 1.2, 1, 10000)
			return func(int) float64 { return float64(z.Uint64()) }
		}())},
		{"half one value", gen(n, func(i int) float64 {
			if i%2 == 0 {
				return 0
			}
			return r.Float64()
		})},
		{"alternating extremes", gen(n, func(i int) float64 {
			if i%2 == 0 {
				return float64(i)
			}
			return -float64(i)
		})},
		{"sawtooth of k-long runs", gen(n, func(i int) float64 { return float64(i%DefaultK)*1000 + float64(i/DefaultK) })},
		{"organ pipe", gen(n, func(i int) float64 { return float64(min(i, n-i)) })},
		{"bit reversal", gen(1<<17, bitrev)},
		{"sorted blocks descending", gen(n, func(i int) float64 { return float64(-(i/1000)*1000 + i%1000) })},
	}
}

func TestKLLRankErrorWithinBound(t *testing.T) {
	for i, st := range kllStreams() {
		t.Run(st.name, func(t *testing.T) {
			s := NewKLLWithSeed(DefaultK, uint64(i)+1)
			for _, v := range st.data {
				s.Update(v)
			}
			if s.Exact() {
				t.Fatalf("Exact() with n = %d > k", len(st.data))
			}
			checkKLL(t, s, st.data)
		})
	}
}

func TestKLLSeveralSeedsAndK(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	data := make([]float64, 50_000)
	for i := range data {
		data[i] = r.ExpFloat64()
	}
	for _, k := range []int{MinK, 50, DefaultK, 800} {
		for seed := uint64(1); seed <= 4; seed++ {
			s := NewKLLWithSeed(k, seed)
			for _, v := range data {
				s.Update(v)
			}
			checkKLL(t, s, data)
		}
	}
}

func TestKLLExactUpToK(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 10, DefaultK - 1, DefaultK} {
		s := NewKLLWithSeed(DefaultK, 9)
		data := make([]float64, n)
		for i := range data {
			data[i] = math.Round(r.NormFloat64()*1e4) / 100
			s.Update(data[i])
		}
		if !s.Exact() || s.Retained() != n {
			t.Fatalf("n = %d: Exact() = %v, Retained() = %d", n, s.Exact(), s.Retained())
		}
		checkKLL(t, s, data)
	}
	s := NewKLLWithSeed(DefaultK, 9)
	for i := range DefaultK + 1 {
		s.Update(float64(i))
	}
	if s.Exact() {
		t.Errorf("Exact() after k+1 values")
	}
}

func TestKLLMergeManyParts(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	const n = 300_000
	data := make([]float64, n)
	for i := range data {
		data[i] = math.Round(r.NormFloat64()*r.NormFloat64()*1e6) / 100
	}
	// 64 parts of random sizes, some smaller than k, some empty.
	cuts := []int{0, n}
	for range 63 {
		cuts = append(cuts, r.IntN(n+1))
	}
	slices.Sort(cuts)
	parts := make([]*KLL, 0, 64)
	for i := 0; i+1 < len(cuts); i++ {
		p := NewKLLWithSeed(DefaultK, uint64(i)+100)
		for _, v := range data[cuts[i]:cuts[i+1]] {
			p.Update(v)
		}
		parts = append(parts, p)
	}
	t.Run("sequential", func(t *testing.T) {
		acc := NewKLLWithSeed(DefaultK, 1)
		for _, p := range parts {
			acc.Merge(p)
		}
		checkKLL(t, acc, data)
	})
	t.Run("tree", func(t *testing.T) {
		level := make([]*KLL, len(parts))
		for i, p := range parts {
			level[i] = p.clone()
		}
		for len(level) > 1 {
			var next []*KLL
			for i := 0; i < len(level); i += 2 {
				if i+1 < len(level) {
					level[i].Merge(level[i+1])
				}
				next = append(next, level[i])
			}
			level = next
		}
		checkKLL(t, level[0], data)
	})
	t.Run("parts unchanged", func(t *testing.T) {
		for i := 0; i+1 < len(cuts); i++ {
			if parts[i].N() != uint64(cuts[i+1]-cuts[i]) {
				t.Fatalf("part %d has N %d after merging it, want %d", i, parts[i].N(), cuts[i+1]-cuts[i])
			}
		}
	})
}

func TestKLLMergeCases(t *testing.T) {
	fill := func(k int, seed uint64, vals []float64) *KLL {
		s := NewKLLWithSeed(k, seed)
		for _, v := range vals {
			s.Update(v)
		}
		return s
	}
	seq := func(from, to int) []float64 {
		var d []float64
		for i := from; i < to; i++ {
			d = append(d, float64(i*7919%100003))
		}
		return d
	}
	t.Run("exact plus exact stays exact", func(t *testing.T) {
		a, b := fill(DefaultK, 1, seq(0, 60)), fill(DefaultK, 2, seq(60, 150))
		a.Merge(b)
		if !a.Exact() {
			t.Fatal("merged 150 values with k = 200 is not exact")
		}
		checkKLL(t, a, seq(0, 150))
	})
	t.Run("into empty", func(t *testing.T) {
		a, b := NewKLLWithSeed(DefaultK, 1), fill(DefaultK, 2, seq(0, 5000))
		a.Merge(b)
		checkKLL(t, a, seq(0, 5000))
	})
	t.Run("empty and nil", func(t *testing.T) {
		a := fill(DefaultK, 1, seq(0, 5000))
		a.Merge(NewKLLWithSeed(DefaultK, 3))
		a.Merge(nil)
		checkKLL(t, a, seq(0, 5000))
	})
	t.Run("itself", func(t *testing.T) {
		a := fill(DefaultK, 1, seq(0, 5000))
		a.Merge(a)
		checkKLL(t, a, append(seq(0, 5000), seq(0, 5000)...))
	})
	t.Run("smaller k sets the bound", func(t *testing.T) {
		a, b := fill(DefaultK, 1, seq(0, 20000)), fill(50, 2, seq(20000, 40000))
		a.Merge(b)
		if a.NormalizedRankError() != fill(50, 1, nil).NormalizedRankError() {
			t.Errorf("NormalizedRankError() = %v, want that of k = 50", a.NormalizedRankError())
		}
		checkKLL(t, a, seq(0, 40000))
	})
	t.Run("larger k into smaller", func(t *testing.T) {
		a, b := fill(50, 1, seq(0, 20000)), fill(DefaultK, 2, seq(20000, 40000))
		a.Merge(b)
		checkKLL(t, a, seq(0, 40000))
	})
}

func TestKLLEdgeCases(t *testing.T) {
	s := NewKLLWithSeed(DefaultK, 1)
	for name, got := range map[string]float64{
		"Min": s.Min(), "Max": s.Max(), "Quantile": s.Quantile(0.5), "Rank": s.Rank(1),
	} {
		if !math.IsNaN(got) {
			t.Errorf("empty sketch: %s = %v, want NaN", name, got)
		}
	}
	if got := s.Histogram([]float64{1, 2}); !slices.Equal(got, []int64{0, 0, 0}) {
		t.Errorf("empty Histogram = %v", got)
	}
	for _, v := range []float64{3, math.NaN(), 1, 2, math.NaN()} {
		s.Update(v)
	}
	tests := []struct {
		name      string
		got, want float64
	}{
		{"NaN ignored: N", float64(s.N()), 3},
		{"median", s.Quantile(0.5), 2},
		{"q 0.25", s.Quantile(0.25), 1.5},
		{"rank below min", s.Rank(0.5), 0},
		{"rank at 2", s.Rank(2), 2.0 / 3},
		{"rank at max", s.Rank(3), 1},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	for _, q := range []float64{-0.1, 1.1, math.NaN()} {
		if got := s.Quantile(q); !math.IsNaN(got) {
			t.Errorf("Quantile(%v) = %v, want NaN", q, got)
		}
	}
	if !math.IsNaN(s.Rank(math.NaN())) {
		t.Error("Rank(NaN) is not NaN")
	}
	for _, edges := range [][]float64{{2, 1}, {1, 1}, {math.NaN()}} {
		if got := s.Histogram(edges); got != nil {
			t.Errorf("Histogram(%v) = %v, want nil", edges, got)
		}
	}
	if got := s.Histogram([]float64{1, 2.5}); !slices.Equal(got, []int64{1, 1, 1}) {
		t.Errorf("Histogram([1 2.5]) = %v, want [1 1 1]", got)
	}
	for _, tc := range []struct{ k, want int }{{0, DefaultK}, {-5, DefaultK}, {3, MinK}, {1 << 20, MaxK}, {123, 123}} {
		if got := NewKLL(tc.k).K(); got != tc.want {
			t.Errorf("NewKLL(%d).K() = %d, want %d", tc.k, got, tc.want)
		}
	}
	if got := NewKLL(0).NormalizedRankError(); math.Abs(got-0.01329) > 5e-5 {
		t.Errorf("NormalizedRankError at k = 200 = %v, want about 0.0133", got)
	}
}

func TestKLLInfinities(t *testing.T) {
	// What numpy 1.24 and pandas 1.5 return for these data: interpolating
	// with an infinity gives NaN wherever IEEE arithmetic does (inf-inf,
	// 0*inf), and Quantile computes the same expressions.
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		data []float64
		qs   []float64
		want []float64
	}{
		{[]float64{-inf, 0, 1, inf}, []float64{0, 0.2, 0.5, 0.7, 1}, []float64{nan, -inf, 0.5, inf, nan}},
		{[]float64{-inf, -inf, 3}, []float64{0, 0.25, 0.5, 0.75, 1}, []float64{nan, nan, nan, -inf, 3}},
	}
	for _, tc := range tests {
		s := NewKLLWithSeed(DefaultK, 1)
		for _, v := range tc.data {
			s.Update(v)
		}
		for i, q := range tc.qs {
			got := s.Quantile(q)
			if math.Float64bits(got) != math.Float64bits(tc.want[i]) && !(math.IsNaN(got) && math.IsNaN(tc.want[i])) {
				t.Errorf("%v: Quantile(%v) = %v, want %v", tc.data, q, got, tc.want[i])
			}
		}
	}
}

func TestKLLDeterministicAndRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	data := make([]float64, 120_000)
	for i := range data {
		data[i] = r.NormFloat64()
	}
	build := func(n int) *KLL {
		s := NewKLLWithSeed(DefaultK, 77)
		for _, v := range data[:n] {
			s.Update(v)
		}
		return s
	}
	for _, n := range []int{0, 1, 150, 10_000, 100_000} {
		a, b := build(n), build(n)
		ab, _ := a.MarshalBinary()
		bb, _ := b.MarshalBinary()
		if !bytes.Equal(ab, bb) {
			t.Fatalf("n = %d: same seed and stream, different sketches", n)
		}
		var c KLL
		if err := c.UnmarshalBinary(ab); err != nil {
			t.Fatalf("n = %d: UnmarshalBinary: %v", n, err)
		}
		cb, _ := c.MarshalBinary()
		if !bytes.Equal(ab, cb) {
			t.Fatalf("n = %d: round trip changed the encoding", n)
		}
		if n > 0 && (c.Quantile(0.37) != a.Quantile(0.37) || c.Rank(0.1) != a.Rank(0.1)) {
			t.Fatalf("n = %d: decoded sketch answers differently", n)
		}
		// The random state travels: both go on identically.
		for _, v := range data[n:] {
			a.Update(v)
			c.Update(v)
		}
		ab, _ = a.MarshalBinary()
		cb, _ = c.MarshalBinary()
		if !bytes.Equal(ab, cb) {
			t.Fatalf("n = %d: decoded sketch diverged after more updates", n)
		}
		checkKLL(t, &c, data)
	}
	if a, b := NewKLLWithSeed(DefaultK, 1), NewKLLWithSeed(DefaultK, 2); true {
		for _, v := range data {
			a.Update(v)
			b.Update(v)
		}
		ab, _ := a.MarshalBinary()
		bb, _ := b.MarshalBinary()
		if bytes.Equal(ab, bb) {
			t.Error("different seeds gave the same sketch")
		}
	}
}

func TestKLLUnmarshalRejects(t *testing.T) {
	s := NewKLLWithSeed(DefaultK, 1)
	for i := range 5000 {
		s.Update(float64(i))
	}
	good, _ := s.MarshalBinary()
	mutate := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"wrong kind", mutate(func(b []byte) []byte { b[0] = tagHLL; return b })},
		{"future version", mutate(func(b []byte) []byte { b[1] = 2; return b })},
		{"truncated", good[:len(good)-3]},
		{"trailing byte", append(slices.Clone(good), 0)},
		{"item changed to NaN", mutate(func(b []byte) []byte {
			copy(b[len(b)-8:], []byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f})
			return b
		})},
		{"item beyond max", mutate(func(b []byte) []byte {
			copy(b[len(b)-8:], appendF64(nil, 1e9))
			return b
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c KLL
			if err := c.UnmarshalBinary(tc.data); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("UnmarshalBinary = %v, want ErrCorrupt", err)
			}
		})
	}
	t.Run("weights not adding up to n", func(t *testing.T) {
		c := s.clone()
		c.n++
		b, _ := c.MarshalBinary()
		var d KLL
		if err := d.UnmarshalBinary(b); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("UnmarshalBinary = %v, want ErrCorrupt", err)
		}
	})
}

func FuzzKLLUnmarshal(f *testing.F) {
	s := NewKLLWithSeed(16, 1)
	for i := range 300 {
		s.Update(float64(i % 37))
	}
	b, _ := s.MarshalBinary()
	f.Add(b)
	f.Add(b[:20])
	f.Fuzz(func(t *testing.T, data []byte) {
		var c KLL
		if c.UnmarshalBinary(data) != nil {
			return
		}
		// A sketch that decodes must work.
		for i := range 100 {
			c.Update(float64(i))
		}
		_ = c.Quantile(0.5)
		if _, err := c.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestKLLUpdateDoesNotAllocate(t *testing.T) {
	s := NewKLLWithSeed(DefaultK, 1)
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		s.Update(r.Float64())
	}
	if a := testing.AllocsPerRun(5000, func() { s.Update(r.Float64()) }); a != 0 {
		t.Errorf("Update allocates %v times per call", a)
	}
	s.Quantile(0.5)
	if a := testing.AllocsPerRun(100, func() { s.Quantile(0.3); s.Rank(0.2) }); a != 0 {
		t.Errorf("queries allocate %v times per call", a)
	}
}
