package sketch

import (
	"bytes"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// exactCounts counts a stream, keeping the order of first appearance.
type exactCounts struct {
	count map[string]uint64
	order []string
}

func countStream(stream [][]byte) exactCounts {
	e := exactCounts{count: map[string]uint64{}}
	for _, v := range stream {
		k := string(v)
		if _, ok := e.count[k]; !ok {
			e.order = append(e.order, k)
		}
		e.count[k]++
	}
	return e
}

// ranked returns the values by count descending, ties by first appearance.
func (e exactCounts) ranked() []Item {
	out := make([]Item, len(e.order))
	for i, k := range e.order {
		out[i] = Item{Value: []byte(k), Count: e.count[k]}
	}
	slices.SortStableFunc(out, func(a, b Item) int { return int(int64(b.Count) - int64(a.Count)) })
	return out
}

// checkSpaceSaving checks the summary's internal structure and its stated
// guarantees against the exact counts of its stream.
func checkSpaceSaving(t *testing.T, s *SpaceSaving, e exactCounts) {
	t.Helper()
	var n uint64
	for _, c := range e.count {
		n += c
	}
	if s.N() != n {
		t.Fatalf("N() = %d, want %d", s.N(), n)
	}
	// Structure: the heap is a heap, every counter is found by its value.
	for i := 1; i < len(s.heap); i++ {
		if s.less(s.heap[i], s.heap[(i-1)/2]) {
			t.Fatalf("heap order broken at %d", i)
		}
	}
	for i := range s.ctr {
		if s.heap[s.ctr[i].pos] != int32(i) {
			t.Fatalf("counter %d has a stale heap position", i)
		}
		if _, j := s.find(s.ctr[i].h, s.ctr[i].val); j != i {
			t.Fatalf("counter %d (%q) not found in the table", i, s.ctr[i].val)
		}
	}
	items := s.TopK(0)
	maxErr, floor := s.MaxError(), s.Floor()
	if maxErr > n/uint64(s.Capacity()) || floor > maxErr && !s.Exact() {
		t.Errorf("MaxError() = %d, Floor() = %d; want <= N/m = %d", maxErr, floor, n/uint64(s.Capacity()))
	}
	reported := map[string]bool{}
	var sum uint64
	for i, it := range items {
		f := e.count[string(it.Value)]
		reported[string(it.Value)] = true
		sum += it.Count
		if it.Count < f || it.Count-it.Error > f || it.Error > maxErr {
			t.Errorf("%q: Count %d, Error %d, true count %d, MaxError %d", it.Value, it.Count, it.Error, f, maxErr)
		}
		if i > 0 && items[i-1].Count < it.Count {
			t.Errorf("TopK not sorted by count at %d", i)
		}
	}
	if sum > n || (s.Exact() && sum != n) {
		t.Errorf("counts add up to %d, N %d", sum, n)
	}
	for k, f := range e.count {
		if !reported[k] && (f > floor || s.Exact()) {
			t.Errorf("%q occurred %d times, not reported, Floor %d", k, f, floor)
		}
	}
	if s.Exact() {
		if want := e.ranked(); !itemsEqual(items, want) {
			t.Errorf("exact TopK = %v, want %v", items, want)
		}
	}
}

func itemsEqual(a, b []Item) bool {
	return slices.EqualFunc(a, b, func(x, y Item) bool {
		return bytes.Equal(x.Value, y.Value) && x.Count == y.Count && x.Error == y.Error
	})
}

func zipfStream(seed uint64, n int, s float64, imax uint64, prefix string) [][]byte {
	r := rand.New(rand.NewPCG(seed, seed))
	z := rand.NewZipf(r, s, 1, imax)
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(prefix + strconv.FormatUint(z.Uint64(), 10))
	}
	return out
}

func TestSpaceSavingExactWhenFewDistinct(t *testing.T) {
	tests := []struct {
		name   string
		m      int
		stream []string
	}{
		{"empty", 4, nil},
		{"ties in first-seen order", 4, []string{"b", "a", "c", "a", "b", "d", "c"}},
		{"exactly m distinct", 3, []string{"x", "y", "z", "z", "y", "z"}},
		{"empty value", 2, []string{"", "", "q"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSpaceSaving(tc.m)
			var stream [][]byte
			for _, v := range tc.stream {
				stream = append(stream, []byte(v))
				s.Update([]byte(v))
			}
			if !s.Exact() || s.MaxError() != 0 || s.Floor() != 0 {
				t.Fatalf("Exact, MaxError, Floor = %v, %d, %d; want true, 0, 0", s.Exact(), s.MaxError(), s.Floor())
			}
			checkSpaceSaving(t, s, countStream(stream))
		})
	}
	t.Run("ties in first-seen order, literally", func(t *testing.T) {
		s := NewSpaceSaving(4)
		for _, v := range []string{"b", "a", "c", "a", "b", "d", "c"} {
			s.Update([]byte(v))
		}
		want := []Item{{[]byte("b"), 2, 0}, {[]byte("a"), 2, 0}, {[]byte("c"), 2, 0}, {[]byte("d"), 1, 0}}
		if got := s.TopK(0); !itemsEqual(got, want) {
			t.Errorf("TopK(0) = %v, want %v", got, want)
		}
		if got := s.TopK(2); !itemsEqual(got, want[:2]) {
			t.Errorf("TopK(2) = %v, want %v", got, want[:2])
		}
	})
	t.Run("m+1 distinct is not exact", func(t *testing.T) {
		s := NewSpaceSaving(3)
		for _, v := range []string{"a", "b", "c", "d"} {
			s.Update([]byte(v))
		}
		if s.Exact() {
			t.Error("Exact() after m+1 distinct values")
		}
	})
}

func TestSpaceSavingZipfGuarantees(t *testing.T) {
	tests := []struct {
		m    int
		n    int
		s    float64
		imax uint64
	}{
		{10, 20_000, 1.1, 1000},
		{100, 100_000, 1.1, 100_000},
		{100, 100_000, 2, 100_000},
		{1000, 200_000, 1.3, 1_000_000},
		{50, 50_000, 1.01, 1 << 30}, // a long tail: mostly evictions
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			stream := zipfStream(uint64(i)+1, tc.n, tc.s, tc.imax, "v")
			s := NewSpaceSaving(tc.m)
			for _, v := range stream {
				s.Update(v)
			}
			if s.Exact() {
				t.Fatal("Exact() on a stream with more than m distinct values")
			}
			e := countStream(stream)
			checkSpaceSaving(t, s, e)
			// The true heaviest value is on top.
			if top := s.TopK(1)[0]; !bytes.Equal(top.Value, e.ranked()[0].Value) {
				t.Errorf("top value %q, want %q", top.Value, e.ranked()[0].Value)
			}
		})
	}
}

func TestSpaceSavingMerge(t *testing.T) {
	t.Run("zipf parts", func(t *testing.T) {
		var whole [][]byte
		acc := NewSpaceSaving(200)
		for p := range 8 {
			// Parts that disagree on their heavy hitters.
			part := zipfStream(uint64(p)+10, 20_000+p*3000, 1.2, 50_000, "p"+strconv.Itoa(p%3)+"-")
			ps := NewSpaceSaving(200)
			for _, v := range part {
				ps.Update(v)
			}
			before, _ := ps.MarshalBinary()
			acc.Merge(ps)
			if after, _ := ps.MarshalBinary(); !bytes.Equal(before, after) {
				t.Fatal("Merge changed its argument")
			}
			whole = append(whole, part...)
			checkSpaceSaving(t, acc, countStream(whole))
		}
	})
	t.Run("exact parts stay exact in concatenated first-seen order", func(t *testing.T) {
		a, b := NewSpaceSaving(5), NewSpaceSaving(5)
		sa := [][]byte{[]byte("x"), []byte("y"), []byte("x")}
		sb := [][]byte{[]byte("z"), []byte("y"), []byte("w"), []byte("z")}
		for _, v := range sa {
			a.Update(v)
		}
		for _, v := range sb {
			b.Update(v)
		}
		a.Merge(b)
		if !a.Exact() {
			t.Fatal("merge of two exact summaries with 4 distinct values, m = 5, is not exact")
		}
		checkSpaceSaving(t, a, countStream(append(sa, sb...)))
	})
	t.Run("ties keep first-seen order across repeated merges", func(t *testing.T) {
		// After the first merge "b" leads "a" by count; the third part
		// evens them, and "a", seen first, must rank first again.
		parts := [][]string{{"a", "b", "b"}, {"c"}, {"a", "c"}}
		var whole [][]byte
		acc := NewSpaceSaving(8)
		for _, p := range parts {
			s := NewSpaceSaving(8)
			for _, v := range p {
				s.Update([]byte(v))
				whole = append(whole, []byte(v))
			}
			acc.Merge(s)
		}
		checkSpaceSaving(t, acc, countStream(whole))
		want := []Item{{[]byte("a"), 2, 0}, {[]byte("b"), 2, 0}, {[]byte("c"), 2, 0}}
		if got := acc.TopK(0); !itemsEqual(got, want) {
			t.Errorf("TopK = %v, want %v", got, want)
		}
		if acc.Len() != 3 {
			t.Errorf("Len() = %d, want 3", acc.Len())
		}
	})
	t.Run("exact parts over capacity", func(t *testing.T) {
		a, b := NewSpaceSaving(3), NewSpaceSaving(3)
		sa := [][]byte{[]byte("x"), []byte("y"), []byte("x")}
		sb := [][]byte{[]byte("z"), []byte("w"), []byte("z")}
		for _, v := range sa {
			a.Update(v)
		}
		for _, v := range sb {
			b.Update(v)
		}
		a.Merge(b)
		if a.Exact() {
			t.Fatal("merge dropping a value is exact")
		}
		want := []Item{{[]byte("x"), 2, 0}, {[]byte("z"), 2, 0}, {[]byte("y"), 1, 0}}
		if got := a.TopK(0); !itemsEqual(got, want) {
			t.Errorf("TopK = %v, want %v", got, want)
		}
		checkSpaceSaving(t, a, countStream(append(sa, sb...)))
	})
	t.Run("a value evicted from one part", func(t *testing.T) {
		a, b := NewSpaceSaving(2), NewSpaceSaving(2)
		var sa, sb [][]byte
		for range 10 {
			sa = append(sa, []byte("x"))
		}
		sa = append(sa, []byte("y"))
		// m = 2: q evicts p, then r evicts x, so b holds q:2 and r:2 (each
		// with error 1) and bounds x's count in b by its Floor, 2.
		sb = append(sb, []byte("x"), []byte("p"), []byte("q"), []byte("r"))
		for _, v := range sa {
			a.Update(v)
		}
		for _, v := range sb {
			b.Update(v)
		}
		if got, want := b.TopK(0), []Item{{[]byte("q"), 2, 1}, {[]byte("r"), 2, 1}}; !itemsEqual(got, want) {
			t.Fatalf("b.TopK = %v, want %v", got, want)
		}
		a.Merge(b)
		want := []Item{{[]byte("x"), 12, 2}, {[]byte("y"), 3, 2}}
		if got := a.TopK(0); !itemsEqual(got, want) {
			t.Errorf("TopK = %v, want %v", got, want)
		}
		checkSpaceSaving(t, a, countStream(append(sa, sb...)))
	})
	t.Run("itself, empty and nil", func(t *testing.T) {
		stream := zipfStream(3, 5000, 1.3, 1000, "")
		a := NewSpaceSaving(50)
		for _, v := range stream {
			a.Update(v)
		}
		a.Merge(nil)
		a.Merge(NewSpaceSaving(50))
		a.Merge(a)
		checkSpaceSaving(t, a, countStream(append(slices.Clone(stream), stream...)))
	})
}

func TestSpaceSavingLongValuesAreCut(t *testing.T) {
	long := bytes.Repeat([]byte("a"), MaxValueLen+10)
	other := append(bytes.Repeat([]byte("a"), MaxValueLen), 'b')
	s := NewSpaceSaving(4)
	s.Update(long)
	s.Update(other)
	got := s.TopK(0)
	if len(got) != 1 || len(got[0].Value) != MaxValueLen || got[0].Count != 2 {
		t.Fatalf("TopK = %d items, first %d bytes with count %d; want 1 item of %d bytes, count 2",
			len(got), len(got[0].Value), got[0].Count, MaxValueLen)
	}
}

func TestSpaceSavingChurnKeepsStructure(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	s := NewSpaceSaving(37)
	var stream [][]byte
	for i := range 30_000 {
		v := []byte(strconv.Itoa(r.IntN(200) * (1 + i%3)))
		stream = append(stream, v)
		s.Update(v)
	}
	checkSpaceSaving(t, s, countStream(stream))
}

func TestSpaceSavingRoundTrip(t *testing.T) {
	for _, n := range []int{0, 3, 10_000} {
		stream := zipfStream(4, n, 1.2, 5000, "r")
		s := NewSpaceSaving(64)
		for _, v := range stream {
			s.Update(v)
		}
		b, _ := s.MarshalBinary()
		var c SpaceSaving
		if err := c.UnmarshalBinary(b); err != nil {
			t.Fatalf("n %d: %v", n, err)
		}
		cb, _ := c.MarshalBinary()
		if !bytes.Equal(b, cb) || !itemsEqual(c.TopK(0), s.TopK(0)) || c.Exact() != s.Exact() || c.N() != s.N() {
			t.Fatalf("n %d: round trip changed the summary", n)
		}
		more := zipfStream(5, 2000, 1.2, 5000, "r")
		for _, v := range more {
			s.Update(v)
			c.Update(v)
		}
		if !itemsEqual(c.TopK(0), s.TopK(0)) {
			t.Fatalf("n %d: decoded summary diverged", n)
		}
		checkSpaceSaving(t, &c, countStream(append(stream, more...)))
	}
}

func TestSpaceSavingUnmarshalRejects(t *testing.T) {
	s := NewSpaceSaving(2)
	s.Update([]byte("a"))
	s.Update([]byte("b"))
	good, _ := s.MarshalBinary() // S 1 m=2 n=2 exact=1 k=2 [1 0 1 'a'] [1 0 1 'b']
	mutate := func(i int, v byte) []byte { b := slices.Clone(good); b[i] = v; return b }
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"wrong kind", mutate(0, tagKLL)},
		{"future version", mutate(1, 2)},
		{"duplicate value", mutate(len(good)-1, 'a')},
		{"exact counts short of n", mutate(3, 3)},
		{"counts over n", mutate(6, 2)},
		{"error over count", mutate(7, 2)},
		{"more counters than capacity", mutate(2, 1)},
		{"inexact but not full", append([]byte{tagSpaceSaving, 1, 3, 2, 0}, good[5:]...)},
		{"unknown exact flag", mutate(4, 3)},
		{"floor flag, floor truncated", append([]byte{tagSpaceSaving, 1, 3, 2, 2}, 0x80)},
		{"floor flag, lower bounds over n", append([]byte{tagSpaceSaving, 1, 3, 1, 2, 0}, good[5:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(slices.Clone(good), 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c SpaceSaving
			if err := c.UnmarshalBinary(tc.data); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("UnmarshalBinary = %v, want ErrCorrupt", err)
			}
		})
	}
}

func FuzzSpaceSavingUnmarshal(f *testing.F) {
	s := NewSpaceSaving(3)
	for _, v := range []string{"a", "b", "a", "c", "d"} {
		s.Update([]byte(v))
	}
	b, _ := s.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var c SpaceSaving
		if c.UnmarshalBinary(data) != nil {
			return
		}
		for i := range 20 {
			c.Update([]byte{byte(i % 7)})
		}
		_ = c.TopK(3)
	})
}

func TestSpaceSavingUpdateDoesNotAllocate(t *testing.T) {
	s := NewSpaceSaving(100)
	vals := make([][]byte, 1000)
	for i := range vals {
		vals[i] = []byte(strconv.Itoa(100000 + i))
	}
	for i := range 10_000 {
		s.Update(vals[i%len(vals)])
	}
	i := 0
	if a := testing.AllocsPerRun(2000, func() { s.Update(vals[i%len(vals)]); i += 7 }); a != 0 {
		t.Errorf("Update allocates %v times per call", a)
	}
}

// weightedStream returns a Zipf stream of distinct-run values with random
// weights in [1, maxW], and the same stream expanded to unit updates.
func weightedStream(seed uint64, n int, s float64, imax, maxW uint64) (vals [][]byte, ws []uint64, unit [][]byte) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	vals = zipfStream(seed, n, s, imax, "w")
	ws = make([]uint64, n)
	for i, v := range vals {
		ws[i] = 1 + r.Uint64N(maxW)
		for range ws[i] {
			unit = append(unit, v)
		}
	}
	return vals, ws, unit
}

func TestSpaceSavingUpdateNGuarantees(t *testing.T) {
	tests := []struct {
		name string
		m    int
		n    int
		s    float64
		imax uint64
		maxW uint64
	}{
		{"skewed, light weights", 50, 20_000, 1.2, 10_000, 4},
		{"skewed, heavy weights", 100, 20_000, 1.1, 100_000, 1000},
		{"long tail", 64, 30_000, 1.01, 1 << 30, 50},
		{"steep", 10, 5_000, 2, 1000, 100},
		{"few distinct (exact)", 1000, 5_000, 1.5, 200, 20},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vals, ws, unit := weightedStream(uint64(i)+7, tc.n, tc.s, tc.imax, tc.maxW)
			s := NewSpaceSaving(tc.m)
			for k, v := range vals {
				s.UpdateN(v, ws[k])
			}
			e := countStream(unit)
			if want := uint64(len(e.order)) <= uint64(tc.m); s.Exact() != want {
				t.Fatalf("Exact() = %v with %d distinct values and m = %d", s.Exact(), len(e.order), tc.m)
			}
			// checkSpaceSaving checks Count-Error <= true <= Count,
			// Error <= MaxError <= N/m, and that every value more frequent
			// than Floor (so every one above N/m) is reported.
			checkSpaceSaving(t, s, e)
			n := uint64(len(unit))
			reported := map[string]bool{}
			for _, it := range s.TopK(0) {
				reported[string(it.Value)] = true
			}
			for k, f := range e.count {
				if f > n/uint64(tc.m) && !reported[k] {
					t.Errorf("%q occurred %d > N/m = %d times, not reported", k, f, n/uint64(tc.m))
				}
			}
		})
	}
}

func TestSpaceSavingUpdateNOneIsUpdate(t *testing.T) {
	tests := []struct {
		name string
		m    int
		seed uint64
	}{
		{"evicting", 16, 1},
		{"exact", 4096, 2},
		{"tiny", 1, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream := zipfStream(tc.seed, 10_000, 1.1, 5000, "u")
			a, b, c := NewSpaceSaving(tc.m), NewSpaceSaving(tc.m), NewSpaceSaving(tc.m)
			for _, v := range stream {
				a.Update(v)
				b.UpdateN(v, 1)
				c.UpdateHash(v, HashValue(v), 1)
			}
			ea, _ := a.MarshalBinary()
			eb, _ := b.MarshalBinary()
			ec, _ := c.MarshalBinary()
			if !bytes.Equal(ea, eb) || !bytes.Equal(ea, ec) {
				t.Error("UpdateN(v, 1) or UpdateHash(v, HashValue(v), 1) differs from Update(v)")
			}
			if a.Exact() != b.Exact() || a.MaxError() != b.MaxError() || a.Floor() != b.Floor() {
				t.Error("Exact, MaxError or Floor differ")
			}
		})
	}
}

func TestSpaceSavingUpdateNWeights(t *testing.T) {
	t.Run("zero weight is a no-op", func(t *testing.T) {
		s := NewSpaceSaving(2)
		s.UpdateN([]byte("a"), 0)
		if s.N() != 0 || len(s.TopK(0)) != 0 {
			t.Errorf("N = %d, TopK = %v after a zero-weight update", s.N(), s.TopK(0))
		}
	})
	t.Run("eviction takes floor plus weight", func(t *testing.T) {
		s := NewSpaceSaving(2)
		s.UpdateN([]byte("a"), 5)
		s.UpdateN([]byte("b"), 3)
		s.UpdateN([]byte("c"), 10) // evicts b (3): count 13, error 3
		want := []Item{{[]byte("c"), 13, 3}, {[]byte("a"), 5, 0}}
		if got := s.TopK(0); !itemsEqual(got, want) {
			t.Errorf("TopK = %v, want %v", got, want)
		}
		if s.N() != 18 || s.MaxError() != 9 || s.Floor() != 5 {
			t.Errorf("N, MaxError, Floor = %d, %d, %d; want 18, 9, 5", s.N(), s.MaxError(), s.Floor())
		}
	})
	t.Run("long values are cut", func(t *testing.T) {
		s := NewSpaceSaving(2)
		long := bytes.Repeat([]byte("x"), MaxValueLen+10)
		s.UpdateN(long, 2)
		s.UpdateHash(long[:MaxValueLen+3], HashValue(long[:MaxValueLen+3]), 1)
		if got := s.TopK(0); len(got) != 1 || got[0].Count != 3 || len(got[0].Value) != MaxValueLen {
			t.Errorf("TopK = %d items, first count %d", len(got), got[0].Count)
		}
	})
}

// TestSpaceSavingMarkInexact seeds a summary with the exact counts of the m
// most frequent values of a stream, marks it inexact, continues the stream
// (updates, then a merge into a summary of another stream) and checks the
// guarantees against an exact oracle: the smallest seeded count bounds the
// values left out.
func TestSpaceSavingMarkInexact(t *testing.T) {
	tests := []struct {
		name string
		m    int
		// counts of the seeding prefix's values, most frequent first; the
		// first m are fed, the rest are left out
		counts []uint64
		rest   []string // the stream after the seed
	}{
		{"no updates after", 3, []uint64{9, 5, 4, 4, 2}, nil},
		{"repeats of kept values", 3, []uint64{9, 5, 4, 4, 2}, []string{"v0", "v2", "v2"}},
		{"left-out value comes back", 2, []uint64{7, 3, 3, 1}, []string{"v2", "v2", "v3", "new"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			truth := map[string]uint64{}
			s := NewSpaceSaving(tc.m)
			for i, c := range tc.counts {
				v := "v" + string(rune('0'+i))
				truth[v] = c
				if i < tc.m {
					s.UpdateN([]byte(v), c)
				}
			}
			s.MarkInexact()
			if s.Exact() {
				t.Fatal("Exact() after MarkInexact")
			}
			if want := tc.counts[tc.m-1]; s.Floor() != want {
				t.Errorf("Floor() = %d, want the smallest seeded count %d", s.Floor(), want)
			}
			for _, v := range tc.rest {
				truth[v]++
				s.Update([]byte(v))
			}
			checkBounds(t, "seeded", s, truth)
			o := NewSpaceSaving(tc.m)
			for _, v := range []string{"v1", "w", "v1"} {
				truth[v]++
				o.Update([]byte(v))
			}
			o.Merge(s)
			checkBounds(t, "merged", o, truth)
		})
	}
}

// checkBounds checks SpaceSaving's guarantees for a summary that must not
// be exact: every listed count bounds the truth within its error, and every
// value not listed occurs at most Floor times.
func checkBounds(t *testing.T, name string, s *SpaceSaving, truth map[string]uint64) {
	t.Helper()
	if s.Exact() {
		t.Errorf("%s: a summary that lacks values reports Exact", name)
	}
	listed := map[string]bool{}
	for _, it := range s.TopK(0) {
		listed[string(it.Value)] = true
		if f := truth[string(it.Value)]; it.Count < f || it.Count-it.Error > f || it.Error > s.MaxError() {
			t.Errorf("%s: %q count %d error %d (max %d), occurs %d", name, it.Value, it.Count, it.Error, s.MaxError(), f)
		}
	}
	for v, f := range truth {
		if !listed[v] && f > s.Floor() {
			t.Errorf("%s: %q occurs %d times > Floor %d and is not listed", name, v, f, s.Floor())
		}
	}
}

// TestSpaceSavingMarkInexactFewerThanCapacity seeds a summary with fewer
// values than counters, marks it inexact and continues the stream: a value
// left out that comes back gets a free counter, which must start at Floor
// so that its Count still bounds the true count (checked against an exact
// oracle, also after a merge and a round trip through MarshalBinary).
func TestSpaceSavingMarkInexactFewerThanCapacity(t *testing.T) {
	tests := []struct {
		name   string
		m      int
		seed   map[string]uint64 // exact counts fed before MarkInexact
		left   map[string]uint64 // counts left out (each at most the smallest seed)
		rest   []string          // the stream after the seed
		wantFl uint64            // Floor right after MarkInexact
	}{
		{"left-out value returns", 4, map[string]uint64{"a": 10}, map[string]uint64{"b": 5}, []string{"b"}, 10},
		{"several return and fill", 3, map[string]uint64{"a": 6, "c": 4}, map[string]uint64{"b": 4, "d": 1}, []string{"b", "d", "d", "e", "b"}, 4},
		{"new values only", 5, map[string]uint64{"x": 3, "y": 2}, map[string]uint64{"z": 2}, []string{"p", "q", "p"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			truth := map[string]uint64{}
			s := NewSpaceSaving(tc.m)
			for _, v := range slices.Sorted(maps.Keys(tc.seed)) {
				truth[v] = tc.seed[v]
				s.UpdateN([]byte(v), tc.seed[v])
			}
			for v, c := range tc.left {
				truth[v] = c
			}
			s.MarkInexact()
			if s.Floor() != tc.wantFl {
				t.Errorf("Floor() = %d after MarkInexact, want %d", s.Floor(), tc.wantFl)
			}
			for _, v := range tc.rest {
				truth[v]++
				s.Update([]byte(v))
			}
			checkBounds(t, "seeded", s, truth)
			b, _ := s.MarshalBinary()
			var c SpaceSaving
			if err := c.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if c.Floor() != s.Floor() || !itemsEqual(c.TopK(0), s.TopK(0)) {
				t.Fatalf("round trip: Floor %d items %v, want %d %v", c.Floor(), c.TopK(0), s.Floor(), s.TopK(0))
			}
			checkBounds(t, "decoded", &c, truth)
			o := NewSpaceSaving(tc.m)
			o.Update([]byte("w"))
			truth["w"]++
			o.Merge(s)
			checkBounds(t, "merged", o, truth)
			o.Update([]byte("b"))
			truth["b"]++
			checkBounds(t, "merged and updated", o, truth)
		})
	}
}

// TestSpaceSavingUpdateRange checks that counts seeded with a range keep
// Count an upper and Count-Error a lower bound of the true counts.
func TestSpaceSavingUpdateRange(t *testing.T) {
	tests := []struct {
		name     string
		m        int
		w, extra uint64 // "a" occurred between w and w+extra times
		truthA   uint64
		rest     []string
	}{
		{"true count at the low end", 3, 5, 4, 5, []string{"a", "b"}},
		{"true count at the high end", 2, 5, 4, 9, []string{"b", "c", "d", "a"}},
		{"no extra stays exact", 3, 5, 0, 5, []string{"b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSpaceSaving(tc.m)
			s.UpdateRange([]byte("a"), tc.w, tc.extra)
			truth := map[string]uint64{"a": tc.truthA}
			for _, v := range tc.rest {
				truth[v]++
				s.Update([]byte(v))
			}
			if tc.extra == 0 && len(truth) <= tc.m {
				if !s.Exact() {
					t.Fatal("UpdateRange with no extra made the summary inexact")
				}
				return
			}
			checkBounds(t, "ranged", s, truth)
		})
	}
}

// TestSpaceSavingEvictionBufferBounded checks that an evicted counter's
// buffer, reused for a longer value, holds at most MaxValueLen bytes (not
// append's growth), so that the per-counter memory charged is a bound.
func TestSpaceSavingEvictionBufferBounded(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before, after int // lengths of the evicted and the new value
	}{
		{"600 to 1024", 600, 1024},
		{"300 to 1000", 300, 1000},
		{"1 to 2000 (cut)", 1, 2000},
		{"1024 to 10 (reused)", 1024, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSpaceSaving(1)
			s.Update(bytes.Repeat([]byte("a"), tc.before))
			s.Update(bytes.Repeat([]byte("b"), tc.after))
			for i := range s.ctr {
				if c := cap(s.ctr[i].val); c > MaxValueLen {
					t.Fatalf("counter buffer cap %d > MaxValueLen %d", c, MaxValueLen)
				}
			}
		})
	}
}
