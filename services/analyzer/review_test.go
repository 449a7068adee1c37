package analyzer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/csvmesh/csvmesh/services/internal/sketch"
)

// TestRunsToSketchTieOrder checks that a column spilled to runs
// (ExactCategorical) and then converted to sketches at MaxSpillBytes, with
// fewer distinct values than counters, reports its ties in the order the
// values were first seen, as top_values_exact promises: the runs yield values
// in value order, so toSketch must reorder them by first row.
func TestRunsToSketchTieOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first []string // values of the first spilled run, one per row
		then  string   // the value added once the spill files are full
		want  string   // the top value: first seen among the most frequent
	}{
		{"b-before-a", []string{"b", "a"}, "c", "b"},
		{"z-y-x", []string{"z", "y"}, "x", "z"},
		{"repeat-wins", []string{"m", "n"}, "n", "n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tf := &tempFiles{parent: t.TempDir(), maxBytes: 1 << 20}
			defer tf.close()
			c := newCatCol()
			row := int64(0)
			for _, v := range tc.first {
				c.add([]byte(v), row)
				row++
			}
			pol := catPolicy{exact: true, ssCap: 64}
			if _, err := c.spill(ctx, tf, 8, pol); err != nil {
				t.Fatal(err)
			}
			tf.maxBytes = tf.written // no more room: the next spill sketches
			c.add([]byte(tc.then), row)
			if _, err := c.spill(ctx, tf, 8, pol); err != nil {
				t.Fatal(err)
			}
			if c.sk == nil {
				t.Fatal("column not converted to sketches")
			}
			st, _, err := c.stats(ctx, tf, 8, pol)
			if err != nil {
				t.Fatal(err)
			}
			if !st.TopValuesExact {
				t.Fatalf("top_values_exact false with %d counters and 3 values", pol.ssCap)
			}
			if st.Top != tc.want {
				t.Fatalf("top %q (values %v), want %q (seen first)", st.Top, st.TopValues, tc.want)
			}
		})
	}
}

// TestStreamToSketchCutBounds checks that a stream of values longer than
// MaxTopBytes that share their cut form, converted to sketches when a value
// comes out of order, reports for the cut value a freq that bounds from
// above the number of values it stands for, overstated by at most
// top_values_max_error, although the stream kept only m of the full values.
func TestStreamToSketchCutBounds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		distinct int // values sharing a 1100-byte prefix, each once, ascending
		m        int // SpaceSaving counters (stream's top values)
	}{
		{"100-values-64-counters", 100, 64},
		{"65-values-64-counters", 65, 64},
		{"300-values-64-counters", 300, 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := bytes.Repeat([]byte("x"), 1100)
			val := func(i int) []byte { return append(bytes.Clone(prefix), fmt.Sprintf("%04d", i)...) }
			c := newCatCol()
			row := int64(0)
			for i := range tc.distinct {
				c.add(val(i), row)
				row++
			}
			c.toStream(tc.m)
			c.add(val(tc.distinct/2), row) // out of order
			if c.sk == nil {
				t.Fatal("not sketched")
			}
			st := c.sk.stats()
			want := int64(tc.distinct + 1) // every value has the same cut form
			if st.TopValuesExact {
				t.Errorf("top_values_exact with cut values")
			}
			if st.Freq < want || st.Freq-want > st.TopValuesMaxError {
				t.Fatalf("freq %d, true count %d, max error %d", st.Freq, want, st.TopValuesMaxError)
			}
		})
	}
}

// TestStreamToSketchOracle converts streams mixing short values and long
// ones (sharing cut forms) to sketches, continues them out of order, and
// checks the SpaceSaving against an exact count by cut form: every listed
// Count bounds the truth from above and Count-Error from below, and every
// value not listed occurs at most Floor times.
func TestStreamToSketchOracle(t *testing.T) {
	long := func(p byte, i int) string { return string(bytes.Repeat([]byte{p}, 1100)) + fmt.Sprintf("%04d", i) }
	for _, tc := range []struct {
		name  string
		m     int
		short int // short values "a0000".., each 5 times, ascending
		long  int // long values sharing one cut form, each once, after them
		then  []string
	}{
		{"long ones left out come back", 64, 64, 10, []string{long('z', 3), long('z', 3), "a0001"}},
		{"long ones kept and left out", 64, 10, 100, []string{long('z', 99), "b", long('z', 0)}},
		{"all long", 64, 0, 200, []string{long('z', 5)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			truth := map[string]uint64{}
			key := func(v string) string {
				if len(v) > MaxTopBytes {
					return topValue([]byte(v))
				}
				return v
			}
			c := newCatCol()
			row := int64(0)
			feed := func(v string) {
				truth[key(v)]++
				c.add([]byte(v), row)
				row++
			}
			for i := range tc.short {
				for range 5 {
					feed(fmt.Sprintf("a%04d", i))
				}
			}
			for i := range tc.long {
				feed(long('z', i))
			}
			c.toStream(tc.m)
			for _, v := range tc.then {
				feed(v)
			}
			if c.sk == nil {
				t.Fatal("not sketched")
			}
			checkSpaceSaving(t, c.sk.ss, truth)
		})
	}
}

// TestMaxSpillBytesHolds checks that the spill files never exceed
// MaxSpillBytes, whatever the fan-in and the bound, when compaction merges
// several rounds (and re-merges merged runs): the column goes to sketches
// instead.
func TestMaxSpillBytesHolds(t *testing.T) {
	header, lines := genCSV(5, 20000)
	data := header + strings.Join(lines, "")
	for _, fan := range []int{2, 3, 4} {
		t.Run(fmt.Sprintf("fanIn-%d", fan), func(t *testing.T) {
			for ms := int64(8 << 10); ms <= 2<<20; ms = ms * 5 / 4 {
				cfg := Config{MemoryBudget: 32 << 10, TempDir: t.TempDir(), fanIn: fan, ExactCategorical: true, MaxSpillBytes: ms}
				p := analyzePartial(t, data, true, cfg)
				report(t, p, nil)
				if p.tmp.written > ms {
					t.Errorf("MaxSpillBytes %d: wrote %d bytes of spill files", ms, p.tmp.written)
				}
				p.Close()
			}
		})
	}
}

// TestCompactRunsChecksEachMerge checks that compactRuns refuses a merge
// whose output could pass the spill files' bound, returning errSpillFull
// with every run still readable, and merges when the bound allows.
func TestCompactRunsChecksEachMerge(t *testing.T) {
	for _, tc := range []struct {
		name     string
		room     int64 // bytes allowed beyond those of the runs written
		wantRuns int   // runs left
		wantFull bool
	}{
		{"no room", 0, 4, true},
		{"room for one merge", 40, 3, true},
		{"room for all", 1 << 20, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tf := &tempFiles{parent: t.TempDir(), maxBytes: 1 << 20}
			defer tf.close()
			var runs []run
			for i := range 4 {
				rw, err := newRunWriter(tf)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range []string{"a", "b", fmt.Sprintf("v%d", i)} {
					if err := rw.writeEntry([]byte(v), 1, int64(i)); err != nil {
						t.Fatal(err)
					}
				}
				r, err := rw.finish()
				if err != nil {
					t.Fatal(err)
				}
				runs = append(runs, r)
			}
			tf.maxBytes = tf.written + tc.room
			got, err := compactRuns(tf, runs, 1, 2, func(rs []run) (run, error) { return mergeEntryRuns(ctx, tf, rs) })
			if full := errors.Is(err, errSpillFull); full != tc.wantFull || (err != nil && !full) {
				t.Fatalf("compactRuns error %v, want errSpillFull %v", err, tc.wantFull)
			}
			if len(got) != tc.wantRuns {
				t.Fatalf("%d runs left, want %d", len(got), tc.wantRuns)
			}
			if tf.written > tf.maxBytes {
				t.Fatalf("wrote %d bytes, bound %d", tf.written, tf.maxBytes)
			}
			var total int64
			for _, r := range got {
				rr, err := openRun(r)
				if err != nil {
					t.Fatal(err)
				}
				for {
					_, count, _, ok, err := rr.readEntry()
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						break
					}
					total += count
				}
				rr.close()
			}
			if total != 12 {
				t.Fatalf("runs hold %d values, want 12", total)
			}
		})
	}
}

// TestStreamMergeToSketchOracle merges two streams of long values sharing a
// cut form (in order, the boundary value possibly split between them),
// converts the result to sketches with a value out of order, and checks the
// SpaceSaving against an exact count by cut form, as
// TestStreamToSketchOracle does: the mass of long values carries through
// the merge.
func TestStreamMergeToSketchOracle(t *testing.T) {
	long := func(i int) string { return string(bytes.Repeat([]byte("q"), 1030)) + fmt.Sprintf("%04d", i) }
	for _, tc := range []struct {
		name      string
		left      []int // indexes of the long values of the first part, ascending
		right     []int // of the second part, each at least the left's last
		shortLeft int   // short values "a0000".. (each 3 times) before the left's long ones
	}{
		{"disjoint", seq(0, 50), seq(50, 130), 0},
		{"boundary value split", seq(0, 50), seq(49, 130), 0},
		{"short values kept", seq(0, 30), seq(30, 100), 70},
		{"right one value", seq(0, 80), []int{79}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			truth := map[string]uint64{}
			key := func(v string) string {
				if len(v) > MaxTopBytes {
					return topValue([]byte(v))
				}
				return v
			}
			build := func(short int, idx []int) *catCol {
				c := newCatCol()
				row := int64(0)
				add := func(v string) {
					truth[key(v)]++
					c.add([]byte(v), row)
					row++
				}
				for i := range short {
					for range 3 {
						add(fmt.Sprintf("a%04d", i))
					}
				}
				for _, i := range idx {
					add(long(i))
				}
				c.toStream(64)
				return c
			}
			c := build(tc.shortLeft, tc.left)
			o := build(0, tc.right)
			rows := int64(3*tc.shortLeft + len(tc.left))
			if _, err := c.merge(o, rows, 64); err != nil {
				t.Fatal(err)
			}
			if c.st == nil {
				t.Fatal("merge of streams in order is not a stream")
			}
			for _, v := range []string{long(3), "a0000"} { // out of order
				truth[key(v)]++
				c.add([]byte(v), rows)
				rows++
			}
			if c.sk == nil {
				t.Fatal("not sketched")
			}
			checkSpaceSaving(t, c.sk.ss, truth)
		})
	}
}

// seq returns the integers lo, lo+1, ..., hi-1.
func seq(lo, hi int) []int {
	s := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

// TestRunsToSketchManyValues converts spilled columns with more distinct
// values than counters (fed in value order past the first m+1) and with
// exactly as many (held back and fed by first row), and checks the
// SpaceSaving against an exact oracle.
func TestRunsToSketchManyValues(t *testing.T) {
	for _, tc := range []struct {
		name      string
		distinct  int
		wantExact bool
	}{
		{"m values", 64, true},
		{"m+1 values", 65, false},
		{"many values", 500, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tf := &tempFiles{parent: t.TempDir(), maxBytes: 1 << 20}
			defer tf.close()
			pol := catPolicy{exact: true, ssCap: 64}
			truth := map[string]uint64{}
			c := newCatCol()
			row := int64(0)
			for i := range tc.distinct {
				// Descending values, counts 1..3, so value order is not row order.
				v := fmt.Sprintf("v%05d", tc.distinct-i)
				for range 1 + i%3 {
					truth[v]++
					c.add([]byte(v), row)
					row++
				}
				if i == tc.distinct/2 {
					if _, err := c.spill(ctx, tf, 8, pol); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, err := c.toSketch(ctx, pol.ssCap); err != nil {
				t.Fatal(err)
			}
			st := c.sk.stats()
			if st.TopValuesExact != tc.wantExact {
				t.Fatalf("top_values_exact %v, want %v", st.TopValuesExact, tc.wantExact)
			}
			checkSpaceSaving(t, c.sk.ss, truth)
			if tc.wantExact {
				// Ties go to the value seen first: v00064 (count 1) was first,
				// and of count 3 the first is row 2's value.
				if want := fmt.Sprintf("v%05d", tc.distinct-2); st.Top != want {
					t.Errorf("top %q, want %q (first of the most frequent)", st.Top, want)
				}
			}
		})
	}
}

// checkSpaceSaving checks ss against the true counts: every listed count
// is an upper bound within its error (at most MaxError) of the truth, and
// every value more frequent than Floor is listed.
func checkSpaceSaving(t *testing.T, ss *sketch.SpaceSaving, truth map[string]uint64) {
	t.Helper()
	listed := map[string]bool{}
	for _, it := range ss.TopK(0) {
		f := truth[string(it.Value)]
		listed[string(it.Value)] = true
		if it.Count < f || it.Count-it.Error > f || it.Error > ss.MaxError() {
			t.Errorf("%.12q…: count %d error %d (max %d), occurs %d", it.Value, it.Count, it.Error, ss.MaxError(), f)
		}
	}
	for v, f := range truth {
		if !listed[v] && f > ss.Floor() {
			t.Errorf("%.12q…: occurs %d > Floor %d, not listed", v, f, ss.Floor())
		}
	}
}
