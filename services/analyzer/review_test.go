package analyzer

import (
	"context"
	"testing"
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
