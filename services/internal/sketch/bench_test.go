package sketch

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

func BenchmarkKLLUpdate(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]float64, 1<<16)
	for i := range vals {
		vals[i] = r.NormFloat64()
	}
	s := NewKLLWithSeed(DefaultK, 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Update(vals[i&(len(vals)-1)])
	}
}

func BenchmarkKLLQuantile(b *testing.B) {
	s := NewKLLWithSeed(DefaultK, 1)
	r := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		s.Update(r.NormFloat64())
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Quantile(float64(i%1000) / 1000)
	}
}

// BenchmarkKLLMerge merges 64 shards of 100,000 values each.
func BenchmarkKLLMerge(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	parts := make([]*KLL, 64)
	for i := range parts {
		parts[i] = NewKLLWithSeed(DefaultK, uint64(i))
		for range 100_000 {
			parts[i].Update(r.NormFloat64())
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		acc := NewKLLWithSeed(DefaultK, 99)
		for _, p := range parts {
			acc.Merge(p)
		}
	}
}

func benchValues(n int) [][]byte {
	r := rand.New(rand.NewPCG(3, 4))
	z := rand.NewZipf(r, 1.1, 1, 1_000_000)
	vals := make([][]byte, n)
	for i := range vals {
		vals[i] = []byte("ACCT-" + strconv.FormatUint(z.Uint64(), 10))
	}
	return vals
}

func BenchmarkHash64(b *testing.B) {
	v := []byte("2024-03-01T09:30:00.123Z")
	b.SetBytes(int64(len(v)))
	for b.Loop() {
		Hash64(v)
	}
}

func BenchmarkHLLUpdate(b *testing.B) {
	vals := benchValues(1 << 16)
	for _, mode := range []struct {
		name string
		cfg  HLLConfig
	}{{"estimating", HLLConfig{MaxExactValues: -1}}, {"exact", HLLConfig{MaxExactValues: 1 << 20, MaxExactBytes: 1 << 30}}} {
		b.Run(mode.name, func(b *testing.B) {
			s := NewHLL(mode.cfg)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				s.Update(vals[i&(len(vals)-1)])
			}
		})
	}
}

func BenchmarkSpaceSavingUpdate(b *testing.B) {
	vals := benchValues(1 << 16)
	for _, m := range []int{100, 1000, 10000} {
		b.Run(strconv.Itoa(m), func(b *testing.B) {
			s := NewSpaceSaving(m)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				s.Update(vals[i&(len(vals)-1)])
			}
		})
	}
}
