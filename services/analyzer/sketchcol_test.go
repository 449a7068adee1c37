package analyzer

import (
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// textTruth holds the exact figures of one text column, computed from the
// CSV itself: the oracle of sketched columns.
type textTruth struct {
	counts         map[string]int64
	count          int64
	minLen, maxLen int64
	sumLen         int64
}

// textTruths returns the truth of every non-numeric column of the test
// schema, by name.
func textTruths(t *testing.T, data string) map[string]*textTruth {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*textTruth{}
	for i, f := range testSchema().GetFields() {
		if isNumeric(f.GetType()) {
			continue
		}
		tt := &textTruth{counts: map[string]int64{}}
		for _, rec := range recs[1:] {
			v := rec[i]
			if v == "" {
				continue
			}
			n := int64(utf8.RuneCountInString(v))
			if tt.count == 0 || n < tt.minLen {
				tt.minLen = n
			}
			tt.maxLen = max(tt.maxLen, n)
			tt.sumLen += n
			tt.count++
			tt.counts[v]++
		}
		out[f.GetName()] = tt
	}
	return out
}

// checkAgainstTruth checks a column's categorical figures against the truth
// within the errors they state: count and lengths exact, the distinct
// count within 3 relative standard errors, every listed count an upper bound
// that overstates by at most top_values_max_error, and every value more
// frequent than both that bound and the last listed count listed. It
// reports whether the column's figures were approximate.
func checkAgainstTruth(t *testing.T, cs *typev1.ColumnStats, tt *textTruth) (approx bool) {
	t.Helper()
	c := cs.GetCategorical()
	name := cs.GetName()
	if cs.GetCount() != tt.count || c.GetMinLength() != tt.minLen || c.GetMaxLength() != tt.maxLen {
		t.Errorf("%s: count %d, lengths %d..%d; want %d, %d..%d", name, cs.GetCount(), c.GetMinLength(), c.GetMaxLength(), tt.count, tt.minLen, tt.maxLen)
	}
	if want := float64(tt.sumLen) / float64(tt.count); math.Abs(c.GetMeanLength()-want) > 1e-12*want {
		t.Errorf("%s: mean length %v, want %v", name, c.GetMeanLength(), want)
	}
	d, truth := c.GetDistinct(), float64(len(tt.counts))
	switch {
	case d.GetExact() && d.GetValue() != int64(len(tt.counts)):
		t.Errorf("%s: exact distinct %d, want %d", name, d.GetValue(), len(tt.counts))
	case !d.GetExact() && (d.GetRelativeError() <= 0 || math.Abs(float64(d.GetValue())-truth) > 3*d.GetRelativeError()*truth):
		t.Errorf("%s: distinct %v, want within 3 relative errors of %v", name, d, truth)
	}
	if c.GetUnique() != d.GetValue() {
		t.Errorf("%s: unique %d, distinct %d", name, c.GetUnique(), d.GetValue())
	}
	maxErr := c.GetTopValuesMaxError()
	if c.GetTopValuesExact() && maxErr != 0 {
		t.Errorf("%s: exact top values with max error %d", name, maxErr)
	}
	tv := c.GetTopValues()
	listed := map[string]bool{}
	for i, v := range tv {
		listed[v.GetValue()] = true
		f := tt.counts[v.GetValue()]
		if v.GetCount() < f || v.GetCount()-maxErr > f {
			t.Errorf("%s: %q listed %d times (max error %d), occurs %d", name, v.GetValue(), v.GetCount(), maxErr, f)
		}
		if i > 0 && tv[i-1].GetCount() < v.GetCount() {
			t.Errorf("%s: top values not by count at %d", name, i)
		}
	}
	if len(tv) > 0 && (c.GetTop() != tv[0].GetValue() || c.GetFreq() != tv[0].GetCount()) {
		t.Errorf("%s: top %q freq %d, first top value %v", name, c.GetTop(), c.GetFreq(), tv[0])
	}
	var last int64
	if len(tv) == TopValues {
		last = tv[len(tv)-1].GetCount()
	}
	for v, f := range tt.counts {
		if f > max(maxErr, last) && !listed[v] {
			t.Errorf("%s: %q occurs %d times (> max error %d and last listed %d), not listed", name, v, f, maxErr, last)
		}
	}
	return !d.GetExact() || !c.GetTopValuesExact()
}

// TestMergeSketchedColumns analyzes shards of a file with a budget that
// sketches (or, for some shards, spills) the text columns, merges them in a
// random tree and checks the figures against the exact ones within their
// stated errors.
func TestMergeSketchedColumns(t *testing.T) {
	header, lines := genCSV(21, 6000)
	truth := textTruths(t, header+strings.Join(lines, ""))
	for _, tc := range []struct {
		name   string
		shards int
		exact  func(shard int) bool // which shards spill instead of sketching
	}{
		{"whole", 1, func(int) bool { return false }},
		{"sketched-shards", 7, func(int) bool { return false }},
		{"sketched-and-spilled-shards", 7, func(i int) bool { return i%2 == 0 }},
		{"one-sketched-shard", 5, func(i int) bool { return i != 3 }},
	} {
		for trial := range 3 {
			t.Run(fmt.Sprintf("%s/%d", tc.name, trial), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(trial), uint64(tc.shards)))
				bounds := []int{0}
				for i := 1; i < tc.shards; i++ {
					bounds = append(bounds, i*len(lines)/tc.shards+rng.IntN(100)-50)
				}
				bounds = append(bounds, len(lines))
				dir := t.TempDir()
				var ps []*Partial
				for i := 0; i+1 < len(bounds); i++ {
					data := strings.Join(lines[bounds[i]:bounds[i+1]], "")
					if i == 0 {
						data = header + data
					}
					cfg := Config{MemoryBudget: 8 << 10, fanIn: 3, TempDir: dir, ExactCategorical: tc.exact(i)}
					ps = append(ps, analyzePartial(t, data, i == 0, cfg))
				}
				root := mergeTree(t, rng, ps)
				rep := report(t, root, nil)
				if rep.GetRowCount() != int64(len(lines)) {
					t.Errorf("RowCount = %d, want %d", rep.GetRowCount(), len(lines))
				}
				for _, cs := range rep.GetColumns() {
					tt, ok := truth[cs.GetName()]
					if !ok {
						continue
					}
					approx := checkAgainstTruth(t, cs, tt)
					// ts (all distinct) and note (mostly) cannot fit 8 KiB.
					if (cs.GetName() == "ts" || cs.GetName() == "note") && !approx {
						t.Errorf("%s: exact figures; the budget should have sketched it", cs.GetName())
					}
				}
				if err := root.Close(); err != nil {
					t.Fatal(err)
				}
				assertEmptyDir(t, dir)
			})
		}
	}
}

// TestMaxSpillBytes spills text columns (ExactCategorical) under a bound on
// the spill files that the input needs several times over: the columns that
// would pass it switch to sketches, the bytes written stay within it, and
// the figures keep their stated bounds.
func TestMaxSpillBytes(t *testing.T) {
	header, lines := genCSV(5, 20000)
	data := header + strings.Join(lines, "")
	truth := textTruths(t, data)
	for _, tc := range []struct {
		name       string
		maxSpill   int64
		wantSketch bool
	}{
		{"unbounded", 0, false},
		{"64KiB", 64 << 10, true},
		{"1B", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{MemoryBudget: 32 << 10, TempDir: dir, fanIn: 4, ExactCategorical: true, MaxSpillBytes: tc.maxSpill}
			p := analyzePartial(t, data, true, cfg)
			rep := report(t, p, nil)
			limit := cfg.maxSpillBytes()
			if p.tmp.written > limit {
				t.Errorf("wrote %d bytes of spill files, bound %d", p.tmp.written, limit)
			}
			sketched := false
			for _, cs := range rep.GetColumns() {
				if tt, ok := truth[cs.GetName()]; ok {
					sketched = checkAgainstTruth(t, cs, tt) || sketched
				}
			}
			if sketched != tc.wantSketch {
				t.Errorf("some column sketched: %v, want %v (%d bytes written)", sketched, tc.wantSketch, p.tmp.written)
			}
			if !tc.wantSketch && p.tmp.seq == 0 {
				t.Error("nothing spilled; the test checks nothing")
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			assertEmptyDir(t, dir)
		})
	}
}

// TestCatSketchStats checks the figures of sketched columns on streams
// whose answers are known.
func TestCatSketchStats(t *testing.T) {
	long := strings.Repeat("é", 700) // 1400 bytes
	tests := []struct {
		name      string
		m         int
		values    []string
		wantExact bool // distinct and top values
		wantTop   string
		wantFreq  int64
		wantDist  int64 // when exact
	}{
		{"few values stay exact", 64, []string{"b", "a", "a", "b", "c"}, true, "b", 2, 3},
		{"long values are cut for display", 64, []string{long, long + "x", "z"}, false, long[:MaxTopBytes-len("…")-1] + "…", 2, 0},
		{"evictions make it approximate", 4, []string{"a", "a", "a", "b", "c", "d", "e", "f", "g"}, false, "a", 3, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newCatSketch(tc.m)
			for _, v := range tc.values {
				s.add([]byte(v), 1)
			}
			st := s.stats()
			if st.GetDistinct().GetExact() != tc.wantExact || st.GetTopValuesExact() != tc.wantExact {
				t.Errorf("distinct %v, top values exact %v; want exact %v", st.GetDistinct(), st.GetTopValuesExact(), tc.wantExact)
			}
			if tc.wantExact && st.GetUnique() != tc.wantDist {
				t.Errorf("unique %d, want %d", st.GetUnique(), tc.wantDist)
			}
			if st.GetTop() != tc.wantTop || st.GetFreq() != tc.wantFreq {
				t.Errorf("top %.20q freq %d, want %.20q %d", st.GetTop(), st.GetFreq(), tc.wantTop, tc.wantFreq)
			}
			for _, v := range st.GetTopValues() {
				if !utf8.ValidString(v.GetValue()) || len(v.GetValue()) > MaxTopBytes {
					t.Errorf("top value of %d bytes, valid UTF-8 %v", len(v.GetValue()), utf8.ValidString(v.GetValue()))
				}
			}
			if st.GetMinLength() != 1 || st.GetMaxLength() != int64(utf8.RuneCountInString(slicesMaxLen(tc.values))) {
				t.Errorf("lengths %d..%d", st.GetMinLength(), st.GetMaxLength())
			}
		})
	}
}

// slicesMaxLen returns the value with the most code points.
func slicesMaxLen(vs []string) string {
	var best string
	for _, v := range vs {
		if utf8.RuneCountInString(v) > utf8.RuneCountInString(best) {
			best = v
		}
	}
	return best
}

// TestSketchCapacity checks the rule that sizes the SpaceSaving of sketched
// columns.
func TestSketchCapacity(t *testing.T) {
	tests := []struct {
		budget int64
		ncat   int
		want   int
	}{
		{DefaultMemoryBudget, 1, 1024},
		{DefaultMemoryBudget, 25, 1024},
		{DefaultMemoryBudget, 100, int((DefaultMemoryBudget/8/100 - hllSketchBytes) / ssCounterBytes)},
		{4 << 20, 8, 64},
		{1, 1, 64},
		{DefaultMemoryBudget, 0, 1024},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d/%d", tc.budget, tc.ncat), func(t *testing.T) {
			m := sketchCapacity(tc.budget, tc.ncat)
			if m != tc.want {
				t.Errorf("sketchCapacity = %d, want %d", m, tc.want)
			}
			if tc.ncat > 0 && m > minSketchCapacity && int64(tc.ncat)*sketchBytes(m) > tc.budget/8 {
				t.Errorf("%d columns of %d bytes pass budget/8 = %d", tc.ncat, sketchBytes(m), tc.budget/8)
			}
		})
	}
}

// TestServerSketchOptions checks that the server passes its spill bound and
// a request's exact_categorical to the engine.
func TestServerSketchOptions(t *testing.T) {
	s := NewServer(nil, WithMaxSpillBytes(12345))
	if got := s.config().MaxSpillBytes; got != 12345 {
		t.Errorf("MaxSpillBytes = %d, want 12345", got)
	}
}
