package uniq

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// add is one call to Add.
type add struct {
	key         string
	offset, row int64
}

// collect drains an iterator.
func collect(t testing.TB, it *Iterator) []Dup {
	t.Helper()
	var got []Dup
	for {
		d, ok, err := it.Next()
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if !ok {
			return got
		}
		got = append(got, d)
	}
}

// run adds everything to a new Checker and returns its duplicates and the
// Checker, still open.
func runChecker(t *testing.T, dir string, budget int64, adds []add) ([]Dup, *Checker) {
	t.Helper()
	c := New(dir, budget)
	for _, a := range adds {
		if err := c.Add([]byte(a.key), a.offset, a.row); err != nil {
			t.Fatalf("Add(%q, %d, %d): %v", a.key, a.offset, a.row, err)
		}
	}
	it, err := c.Duplicates()
	if err != nil {
		t.Fatalf("Duplicates: %v", err)
	}
	return collect(t, it), c
}

// assertEmpty fails unless dir holds no files.
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 0 {
		t.Errorf("%s holds %d files after Close, want none (first %s)", dir, len(names), names[0].Name())
	}
}

// budgets are the memory budgets every case runs with: all in memory, and
// so small that every key or two spills a run.
var budgets = []struct {
	name   string
	budget int64
}{
	{"memory", 1 << 20},
	{"spill", 1},
}

func TestDuplicates(t *testing.T) {
	tests := []struct {
		name string
		adds []add
		want []Dup
	}{
		{name: "no keys"},
		{name: "one key", adds: []add{{"a", 0, 1}}},
		{name: "distinct", adds: []add{{"a", 0, 1}, {"b", 10, 2}, {"c", 20, 3}}},
		{
			name: "one pair",
			adds: []add{{"a", 0, 1}, {"b", 10, 2}, {"a", 20, 3}},
			want: []Dup{{Offset: 20, Row: 3, FirstRow: 1}},
		},
		{
			name: "three of a kind",
			adds: []add{{"x", 5, 2}, {"x", 9, 3}, {"y", 12, 4}, {"x", 20, 5}},
			want: []Dup{{9, 3, 2}, {20, 5, 2}},
		},
		{
			name: "first is the smallest row, whatever the order of adds",
			adds: []add{{"k", 300, 30}, {"k", 100, 10}, {"k", 200, 20}},
			want: []Dup{{200, 20, 10}, {300, 30, 10}},
		},
		{
			name: "sorted by offset, not row",
			adds: []add{{"a", 50, 1}, {"a", 40, 2}, {"b", 60, 3}, {"b", 10, 4}},
			want: []Dup{{10, 4, 3}, {40, 2, 1}},
		},
		{
			name: "empty keys",
			adds: []add{{"", 0, 1}, {"a", 10, 2}, {"", 20, 3}, {"", 30, 4}},
			want: []Dup{{20, 3, 1}, {30, 4, 1}},
		},
		{
			name: "prefixes are different keys",
			adds: []add{{"ab", 0, 1}, {"a", 10, 2}, {"abc", 20, 3}, {"a", 30, 4}, {"", 40, 5}, {"abc", 50, 6}},
			want: []Dup{{30, 4, 2}, {50, 6, 3}},
		},
		{
			name: "binary keys",
			adds: []add{{"\x00", 0, 1}, {"\x00\x00", 10, 2}, {"\xff", 20, 3}, {"\x00", 30, 4}, {"\xff\x00", 40, 5}},
			want: []Dup{{30, 4, 1}},
		},
		{
			name: "negative offsets and rows",
			adds: []add{{"a", -5, -1}, {"a", 7, 3}},
			want: []Dup{{7, 3, -1}},
		},
	}
	for _, b := range budgets {
		for _, tt := range tests {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				dir := t.TempDir()
				got, c := runChecker(t, dir, b.budget, tt.adds)
				if !slices.Equal(got, tt.want) {
					t.Errorf("duplicates = %v, want %v", got, tt.want)
				}
				if err := c.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				assertEmpty(t, dir)
			})
		}
	}
}

// oracle finds the duplicates with a map.
func oracle(adds []add) []Dup {
	byKey := map[string][]add{}
	for _, a := range adds {
		byKey[a.key] = append(byKey[a.key], a)
	}
	var dups []Dup
	for _, as := range byKey {
		first := slices.MinFunc(as, func(a, b add) int { return int(a.row - b.row) })
		for _, a := range as {
			if a.row != first.row {
				dups = append(dups, Dup{Offset: a.offset, Row: a.row, FirstRow: first.row})
			}
		}
	}
	slices.SortFunc(dups, func(a, b Dup) int { return compareDup(&a, &b) })
	return dups
}

// randomAdds makes n adds over about distinct keys (empty keys, prefixes of
// each other, long ones), added in a random order; rows are 1..n with offsets
// increasing with the row.
func randomAdds(r *rand.Rand, n, distinct int) []add {
	keys := make([]string, distinct)
	for i := range keys {
		switch r.IntN(8) {
		case 0:
			keys[i] = ""
		case 1:
			if i > 0 { // a prefix or an extension of another key
				k := keys[r.IntN(i)]
				if len(k) > 0 && r.IntN(2) == 0 {
					keys[i] = k[:r.IntN(len(k))]
				} else {
					keys[i] = k + string(rune('a'+r.IntN(3)))
				}
				break
			}
			fallthrough
		case 2:
			b := make([]byte, 100+r.IntN(3000))
			for j := range b {
				b[j] = byte(r.IntN(2)) // long keys sharing long prefixes
			}
			keys[i] = string(b)
		default:
			b := make([]byte, r.IntN(12))
			for j := range b {
				b[j] = byte('a' + r.IntN(4))
			}
			keys[i] = string(b)
		}
	}
	adds := make([]add, n)
	for i := range adds {
		// Skewed popularity: a few keys repeat a lot.
		k := keys[min(r.IntN(distinct), r.IntN(distinct))]
		adds[i] = add{key: k, offset: int64(i)*37 + int64(r.IntN(30)), row: int64(i + 1)}
	}
	r.Shuffle(len(adds), func(i, j int) { adds[i], adds[j] = adds[j], adds[i] })
	return adds
}

func TestDuplicatesMatchOracle(t *testing.T) {
	tests := []struct {
		n, distinct int
		budget      int64
		seed        uint64
	}{
		{n: 120, distinct: 20, budget: 1, seed: 1},
		{n: 5000, distinct: 400, budget: 4 << 10, seed: 2},
		{n: 5000, distinct: 4000, budget: 16 << 10, seed: 3},
		{n: 20000, distinct: 3, budget: 64 << 10, seed: 4},
		{n: 20000, distinct: 2000, budget: 1 << 30, seed: 5},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d,distinct=%d,budget=%d", tt.n, tt.distinct, tt.budget), func(t *testing.T) {
			r := rand.New(rand.NewPCG(tt.seed, 0))
			adds := randomAdds(r, tt.n, tt.distinct)
			want := oracle(adds)
			dir := t.TempDir()
			c := New(dir, tt.budget)
			for _, a := range adds {
				if err := c.Add([]byte(a.key), a.offset, a.row); err != nil {
					t.Fatal(err)
				}
			}
			spilled := len(c.runs) > 0
			if wantSpill := tt.budget < 1<<30; spilled != wantSpill {
				t.Fatalf("spilled = %v (%d runs), want %v", spilled, len(c.runs), wantSpill)
			}
			it, err := c.Duplicates()
			if err != nil {
				t.Fatal(err)
			}
			if limit := max(tt.budget/2/dupSize, 16); spilled && int64(len(want)) > limit && it.m == nil {
				t.Errorf("%d duplicates with a budget of %d bytes were not merged from runs", len(want), tt.budget)
			}
			got := collect(t, it)
			if len(got) != len(want) {
				t.Fatalf("got %d duplicates, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("duplicate %d = %+v, want %+v", i, got[i], want[i])
				}
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			assertEmpty(t, dir)
		})
	}
}

func TestLargeKeys(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("k"), 1<<20)
	other := append(slices.Clone(big[:len(big)-1]), 'j')
	c := New(dir, 64<<10) // every key spills alone
	defer c.Close()
	for i, k := range [][]byte{big, other, big, other[:10], big} {
		if err := c.Add(k, int64(i)*(2<<20), int64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	it, err := c.Duplicates()
	if err != nil {
		t.Fatal(err)
	}
	want := []Dup{{2 * (2 << 20), 3, 1}, {4 * (2 << 20), 5, 1}}
	if got := collect(t, it); !slices.Equal(got, want) {
		t.Errorf("duplicates = %v, want %v", got, want)
	}
}

func TestCloseRemovesFiles(t *testing.T) {
	adds := randomAdds(rand.New(rand.NewPCG(9, 9)), 3000, 20)
	tests := []struct {
		name string
		// stop says how far to go before Close: 0 after the adds, 1 after
		// Duplicates, 2 after one Next, 3 after the last Next.
		stop int
	}{
		{"after adds", 0},
		{"after Duplicates", 1},
		{"mid iteration", 2},
		{"after iteration", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := New(dir, 8<<10)
			for _, a := range adds {
				if err := c.Add([]byte(a.key), a.offset, a.row); err != nil {
					t.Fatal(err)
				}
			}
			if tt.stop >= 1 {
				it, err := c.Duplicates()
				if err != nil {
					t.Fatal(err)
				}
				if names, _ := os.ReadDir(dir); len(names) == 0 {
					t.Fatal("no temp files while duplicates are pending")
				}
				switch tt.stop {
				case 2:
					if _, ok, err := it.Next(); !ok || err != nil {
						t.Fatalf("Next = %v, %v", ok, err)
					}
				case 3:
					collect(t, it)
				}
			} else if names, _ := os.ReadDir(dir); len(names) == 0 {
				t.Fatal("no temp files after adds with a tiny budget")
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			assertEmpty(t, dir)
			if err := c.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

func TestErrorRemovesFiles(t *testing.T) {
	dir := t.TempDir()
	c := New(dir, 1)
	defer c.Close()
	for i := range 100 {
		if err := c.Add([]byte{byte(i % 7)}, int64(i), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Lose one run: merging must fail and take every other file with it.
	victim := c.runs[len(c.runs)/2].path
	if err := os.Remove(victim); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Duplicates(); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Duplicates error = %v, want one wrapping os.ErrNotExist", err)
	}
	assertEmpty(t, dir)
	if err := c.Add([]byte("x"), 0, 0); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Add after a failure = %v, want the sticky error", err)
	}
}

func TestTruncatedRun(t *testing.T) {
	dir := t.TempDir()
	c := New(dir, 1)
	defer c.Close()
	for i := range 50 {
		if err := c.Add([]byte("same"), int64(i), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Truncate(c.runs[3].path, 2); err != nil {
		t.Fatal(err)
	}
	_, err := c.Duplicates()
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Duplicates error = %v, want unexpected EOF", err)
	}
	assertEmpty(t, dir)
}

func TestCallOrder(t *testing.T) {
	t.Run("key too long", func(t *testing.T) {
		c := New(t.TempDir(), 0)
		defer c.Close()
		if err := c.Add(make([]byte, MaxKeyBytes+1), 0, 7); !errors.Is(err, ErrKeyTooLong) {
			t.Errorf("Add = %v, want ErrKeyTooLong", err)
		}
		// Not sticky: the Checker goes on.
		if err := c.Add([]byte("a"), 0, 8); err != nil {
			t.Errorf("Add after a too-long key = %v", err)
		}
	})
	t.Run("add after Duplicates", func(t *testing.T) {
		c := New(t.TempDir(), 0)
		defer c.Close()
		if _, err := c.Duplicates(); err != nil {
			t.Fatal(err)
		}
		if err := c.Add([]byte("a"), 0, 1); !errors.Is(err, ErrState) {
			t.Errorf("Add = %v, want ErrState", err)
		}
		if _, err := c.Duplicates(); !errors.Is(err, ErrState) {
			t.Errorf("second Duplicates = %v, want ErrState", err)
		}
	})
	t.Run("after Close", func(t *testing.T) {
		c := New(t.TempDir(), 0)
		if err := c.Add([]byte("a"), 0, 1); err != nil {
			t.Fatal(err)
		}
		if err := c.Add([]byte("a"), 5, 2); err != nil {
			t.Fatal(err)
		}
		it, err := c.Duplicates()
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if _, _, err := it.Next(); !errors.Is(err, ErrState) {
			t.Errorf("Next = %v, want ErrState", err)
		}
		if err := c.Add([]byte("a"), 0, 1); !errors.Is(err, ErrState) {
			t.Errorf("Add = %v, want ErrState", err)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		c := New(filepath.Join(t.TempDir(), "gone"), 1)
		defer c.Close()
		if err := c.Add([]byte("a"), 0, 1); err == nil {
			t.Fatal("Add spilling into a missing directory succeeded")
		}
	})
}

// BenchmarkChecker adds 500k 20-byte keys, a tenth of them repeated, and
// drains the duplicates; it reports keys per second.
func BenchmarkChecker(b *testing.B) {
	const n = 500_000
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([][]byte, n)
	for i := range keys {
		if i > 0 && r.IntN(10) == 0 {
			keys[i] = keys[r.IntN(i)]
			continue
		}
		keys[i] = fmt.Appendf(nil, "ACCT-%08d-%06d", r.Uint32N(100_000_000), i%1_000_000)
	}
	for _, bb := range []struct {
		name   string
		budget int64
	}{
		{"memory", 256 << 20},
		{"spill", 2 << 20},
	} {
		b.Run(bb.name, func(b *testing.B) {
			dir := b.TempDir()
			start := time.Now()
			for b.Loop() {
				c := New(dir, bb.budget)
				for i, k := range keys {
					if err := c.Add(k, int64(i)*64, int64(i+1)); err != nil {
						b.Fatal(err)
					}
				}
				it, err := c.Duplicates()
				if err != nil {
					b.Fatal(err)
				}
				if got := len(collect(b, it)); got < n/20 {
					b.Fatalf("%d duplicates", got)
				}
				c.Close()
			}
			b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "keys/s")
		})
	}
}
