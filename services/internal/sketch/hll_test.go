package sketch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"
)

func TestHash64MatchesXXH64(t *testing.T) {
	buf := make([]byte, 100)
	for i := range buf {
		buf[i] = byte(i*7 + 3)
	}
	// Published XXH64 (seed 0) values.
	tests := []struct {
		in   []byte
		want uint64
	}{
		{[]byte(""), 0xef46db3751d8e999},
		{[]byte("a"), 0xd24ec4f1a98c6e5b},
		{[]byte("abc"), 0x44bc2cf5ad770999},
		{[]byte("hello, world"), 0xb33a384e6d1b1242},
		{[]byte("The quick brown fox jumps over the lazy dog"), 0x0b242d361fda71bc},
		{buf, 0xa61f8d4c170fe531},
	}
	for _, tc := range tests {
		if got := Hash64(tc.in); got != tc.want {
			t.Errorf("Hash64(%q) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
}

// value returns the i-th distinct test value of a family.
func value(family byte, i uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{family, 'v'}, i)
}

func TestHLLExactBelowBudget(t *testing.T) {
	tests := []struct {
		name      string
		cfg       HLLConfig
		distinct  int
		wantExact bool
	}{
		{"empty", HLLConfig{}, 0, true},
		{"one value", HLLConfig{}, 1, true},
		{"at the default value budget", HLLConfig{}, DefaultMaxExactValues, true},
		{"one over the value budget", HLLConfig{}, DefaultMaxExactValues + 1, false},
		{"small budget", HLLConfig{MaxExactValues: 10}, 10, true},
		{"over small budget", HLLConfig{MaxExactValues: 10}, 11, false},
		// Each value takes 10 bytes plus a 1-byte length.
		{"at the byte budget", HLLConfig{MaxExactBytes: 110}, 10, true},
		{"over the byte budget", HLLConfig{MaxExactBytes: 110}, 11, false},
		{"estimating from the start", HLLConfig{MaxExactValues: -1}, 5, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewHLL(tc.cfg)
			for range 3 { // duplicates do not count
				for i := range tc.distinct {
					s.Update(value(0, uint64(i)))
				}
			}
			if s.Exact() != tc.wantExact {
				t.Fatalf("Exact() = %v, want %v", s.Exact(), tc.wantExact)
			}
			est := s.Estimate()
			if tc.wantExact {
				if est != uint64(tc.distinct) || s.RelativeError() != 0 {
					t.Errorf("Estimate() = %d, RelativeError() = %v; want %d, 0", est, s.RelativeError(), tc.distinct)
				}
			} else if d := math.Abs(float64(est) - float64(tc.distinct)); d > 3*s.RelativeError()*float64(tc.distinct)+1 {
				t.Errorf("Estimate() = %d, want %d within 3 sigma", est, tc.distinct)
			}
		})
	}
}

func TestHLLEstimateWithin3Sigma(t *testing.T) {
	sizes := []int{100, 1000, 5000, 11000, 11500, 12000, 16384, 25000, 40000, 60000, 82000, 150000, 400000, 1_000_000}
	for fi, n := range sizes {
		s := NewHLL(HLLConfig{MaxExactValues: -1})
		for i := range n {
			s.Update(value(byte(fi), uint64(i)))
		}
		est := s.Estimate()
		relErr := (float64(est) - float64(n)) / float64(n)
		t.Logf("n %d: estimate %d, relative error %+.4f (sigma %.4f)", n, est, relErr, s.RelativeError())
		if math.Abs(relErr) > 3*s.RelativeError() {
			t.Errorf("n %d: estimate %d off by %.4f, over 3 sigma = %.4f", n, est, relErr, 3*s.RelativeError())
		}
	}
	if got := NewHLL(HLLConfig{}).RelativeError(); got != 0 {
		t.Errorf("exact RelativeError() = %v", got)
	}
	if got := NewHLL(HLLConfig{MaxExactValues: -1}).RelativeError(); math.Abs(got-0.008125) > 1e-9 {
		t.Errorf("RelativeError() = %v, want 1.04/128", got)
	}
	if got := NewHLL(HLLConfig{MaxExactValues: -1}).Estimate(); got != 0 {
		t.Errorf("empty estimating Estimate() = %d", got)
	}
}

func marshalHLL(t *testing.T, s *HLL) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHLLMerge(t *testing.T) {
	fill := func(cfg HLLConfig, from, to int) *HLL {
		s := NewHLL(cfg)
		for i := from; i < to; i++ {
			s.Update(value(0, uint64(i)))
		}
		return s
	}
	small := HLLConfig{MaxExactValues: 1000}
	tests := []struct {
		name         string
		a, b         [2]int
		wantExact    bool
		wantDistinct int
	}{
		{"exact overlapping stays exact", [2]int{0, 600}, [2]int{400, 1000}, true, 1000},
		{"exact union over budget", [2]int{0, 600}, [2]int{400, 1001}, false, 1001},
		{"estimating and exact", [2]int{0, 50000}, [2]int{49000, 49500}, false, 50000},
		{"exact and estimating", [2]int{0, 500}, [2]int{100, 50000}, false, 50000},
		{"estimating overlapping", [2]int{0, 300000}, [2]int{200000, 500000}, false, 500000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := fill(small, tc.a[0], tc.a[1]), fill(small, tc.b[0], tc.b[1])
			bBefore := marshalHLL(t, b)
			a.Merge(b)
			if !bytes.Equal(marshalHLL(t, b), bBefore) {
				t.Error("Merge changed its argument")
			}
			if a.Exact() != tc.wantExact {
				t.Fatalf("Exact() = %v, want %v", a.Exact(), tc.wantExact)
			}
			// The union of the two is the sketch of the union, register for
			// register, so the merge loses nothing.
			whole := fill(small, min(tc.a[0], tc.b[0]), max(tc.a[1], tc.b[1]))
			if !tc.wantExact {
				whole.toEstimating()
			}
			if tc.wantExact {
				if a.Estimate() != uint64(tc.wantDistinct) {
					t.Errorf("Estimate() = %d, want %d", a.Estimate(), tc.wantDistinct)
				}
			} else if !slices.Equal(a.regs, whole.regs) {
				t.Error("merged registers differ from the registers of the whole stream")
			}
			if d := math.Abs(float64(a.Estimate()) - float64(tc.wantDistinct)); d > 3*a.RelativeError()*float64(tc.wantDistinct) {
				t.Errorf("Estimate() = %d, want %d within 3 sigma", a.Estimate(), tc.wantDistinct)
			}
		})
	}
	t.Run("itself and nil", func(t *testing.T) {
		a := fill(small, 0, 500)
		a.Merge(a)
		a.Merge(nil)
		if a.Estimate() != 500 || !a.Exact() {
			t.Errorf("Estimate() = %d, Exact() = %v; want 500, true", a.Estimate(), a.Exact())
		}
	})
}

func TestHLLRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 700, 5000} {
		s := NewHLL(HLLConfig{MaxExactValues: 1000, MaxExactBytes: 1 << 20})
		for i := range n {
			s.Update(value(1, uint64(i)))
		}
		b := marshalHLL(t, s)
		var c HLL
		if err := c.UnmarshalBinary(b); err != nil {
			t.Fatalf("n %d: %v", n, err)
		}
		if !bytes.Equal(marshalHLL(t, &c), b) || c.Estimate() != s.Estimate() || c.Exact() != s.Exact() {
			t.Fatalf("n %d: round trip changed the counter", n)
		}
		// The decoded counter keeps its budgets and goes on the same.
		for i := n; i < n+600; i++ {
			s.Update(value(1, uint64(i)))
			c.Update(value(1, uint64(i)))
		}
		if !bytes.Equal(marshalHLL(t, &c), marshalHLL(t, s)) {
			t.Fatalf("n %d: decoded counter diverged", n)
		}
	}
}

func TestHLLUnmarshalRejects(t *testing.T) {
	exact := NewHLL(HLLConfig{})
	exact.Update([]byte("x"))
	exact.Update([]byte("y"))
	eb := marshalHLL(t, exact)
	est := NewHLL(HLLConfig{MaxExactValues: -1})
	est.Update([]byte("x"))
	hb := marshalHLL(t, est)
	dup := slices.Clone(eb)
	dup[len(dup)-1] = 'x' // the arena holds "x" twice
	badReg := slices.Clone(hb)
	badReg[len(badReg)-1] = 52
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"wrong kind", append([]byte{tagKLL}, eb[1:]...)},
		{"future version", append([]byte{tagHLL, 9}, eb[2:]...)},
		{"duplicate value", dup},
		{"register over 51", badReg},
		{"truncated registers", hb[:len(hb)-1]},
		{"truncated values", eb[:len(eb)-1]},
		{"trailing byte", append(slices.Clone(hb), 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c HLL
			if err := c.UnmarshalBinary(tc.data); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("UnmarshalBinary = %v, want ErrCorrupt", err)
			}
		})
	}
}

func FuzzHLLUnmarshal(f *testing.F) {
	s := NewHLL(HLLConfig{MaxExactValues: 4})
	s.Update([]byte("a"))
	s.Update([]byte("bb"))
	b, _ := s.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var c HLL
		if c.UnmarshalBinary(data) != nil {
			return
		}
		for i := range 20 {
			c.Update(value(2, uint64(i)))
		}
		_ = c.Estimate()
	})
}

func TestHLLUpdateDoesNotAllocate(t *testing.T) {
	s := NewHLL(HLLConfig{MaxExactValues: -1})
	v := value(0, 0)
	i := uint64(0)
	if a := testing.AllocsPerRun(1000, func() {
		binary.BigEndian.PutUint64(v[2:], i)
		i++
		s.Update(v)
	}); a != 0 {
		t.Errorf("estimating Update allocates %v times per call", a)
	}
	e := NewHLL(HLLConfig{})
	seen := make([][]byte, 100)
	for j := range seen {
		seen[j] = value(0, uint64(j))
		e.Update(seen[j])
	}
	if a := testing.AllocsPerRun(1000, func() { e.Update(seen[i%100]); i++ }); a != 0 {
		t.Errorf("exact Update of a seen value allocates %v times per call", a)
	}
}

// TestHLLUpdateHash checks that UpdateHash(Hash64(v)) sets the registers
// Update(v) does on an estimating HLL, and that an exact HLL given a hash
// switches to estimating with every value it held still counted.
func TestHLLUpdateHash(t *testing.T) {
	for _, tc := range []struct {
		name      string
		maxExact  int
		values    int
		wantExact bool
	}{
		{"estimating", -1, 20000, false},
		{"exact-switches", 0, 100, false},
		{"empty-exact-switches", 0, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			byValue := NewHLL(HLLConfig{MaxExactValues: -1})
			byHash := NewHLL(HLLConfig{MaxExactValues: tc.maxExact})
			var v []byte
			for i := range tc.values {
				v = binary.AppendUvarint(v[:0], uint64(i)*2654435761)
				byValue.Update(v)
				if i < tc.values/2 {
					byHash.Update(v) // an exact one keeps these
				} else {
					byHash.UpdateHash(Hash64(v))
				}
			}
			if byHash.Exact() != tc.wantExact {
				t.Fatalf("Exact() = %v, want %v", byHash.Exact(), tc.wantExact)
			}
			if !slices.Equal(byHash.regs, byValue.regs) {
				t.Errorf("registers differ from those of Update")
			}
			if a, b := byHash.Estimate(), byValue.Estimate(); a != b {
				t.Errorf("Estimate() = %d, want %d as with Update", a, b)
			}
		})
	}
}
