package analyzer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// testSchema is the schema of genCSV's files.
func testSchema() *typev1.Schema {
	f := func(name string, t typev1.FieldType) *typev1.Field { return &typev1.Field{Name: name, Type: t} }
	return &typev1.Schema{Fields: []*typev1.Field{
		f("ts", typev1.FieldType_FIELD_TYPE_DATETIME),
		f("symbol", typev1.FieldType_FIELD_TYPE_STRING),
		f("price", typev1.FieldType_FIELD_TYPE_NUMBER),
		f("qty", typev1.FieldType_FIELD_TYPE_INTEGER),
		f("flag", typev1.FieldType_FIELD_TYPE_BOOLEAN),
		f("day", typev1.FieldType_FIELD_TYPE_DATE),
		f("note", typev1.FieldType_FIELD_TYPE_STRING),
		f("empty", typev1.FieldType_FIELD_TYPE_NUMBER),
	}}
}

// genCSV returns a normalized CSV of the test schema: the header line and
// then one string per row (each ending in "\n"), with missing values, quoted
// fields with commas, quotes and newlines, ties and non-ASCII text.
func genCSV(seed uint64, rows int) (header string, lines []string) {
	rng := rand.New(rand.NewPCG(seed, 7))
	header = "ts,symbol,price,qty,flag,day,note,empty\n"
	price := 1e9
	for i := range rows {
		price += (rng.Float64() - 0.5) * 0.01
		p := strconv.FormatFloat(price, 'f', -1, 64)
		if rng.IntN(50) == 0 {
			p = ""
		}
		q := strconv.Itoa(rng.IntN(2000) - 100)
		if rng.IntN(40) == 0 {
			q = ""
		}
		flag := []string{"true", "false", ""}[rng.IntN(3)]
		var note string
		switch rng.IntN(6) {
		case 0:
			note = ""
		case 1:
			note = `"multi` + "\n" + `line, ""quoted"""`
		case 2:
			note = "Zürich 東京 " + strconv.Itoa(rng.IntN(5))
		default:
			note = "n" + strconv.Itoa(rng.IntN(rows))
		}
		lines = append(lines, fmt.Sprintf("2026-03-02T14:%02d:%02d.%06dZ,S%d,%s,%s,%s,2026-03-%02d,%s,\n",
			(i/60)%60, i%60, rng.IntN(1000000), rng.IntN(30), p, q, flag, 1+rng.IntN(28), note))
	}
	return header, lines
}

func analyzePartial(t *testing.T, data string, hasHeader bool, cfg Config) *Partial {
	t.Helper()
	p, err := AnalyzePartial(context.Background(), strings.NewReader(data), testSchema(), hasHeader, cfg, nil)
	if err != nil {
		t.Fatalf("AnalyzePartial: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func report(t *testing.T, p *Partial, quantiles []float64) *typev1.Report {
	t.Helper()
	qs, err := NormalizeQuantiles(quantiles)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.Report(context.Background(), qs)
	if err != nil {
		t.Fatalf("Report: %v", err)
	}
	return rep
}

// compareReports returns the differences between two reports: mean and std
// may differ by rel, everything else must be equal.
func compareReports(got, want *typev1.Report, rel float64) []string {
	var diffs []string
	bad := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if got.GetRowCount() != want.GetRowCount() || len(got.GetColumns()) != len(want.GetColumns()) {
		return append(diffs, fmt.Sprintf("rows %d columns %d, want %d %d", got.GetRowCount(), len(got.GetColumns()), want.GetRowCount(), len(want.GetColumns())))
	}
	eq := func(col, what string, g, w *float64, rel float64) {
		if (g == nil) != (w == nil) {
			bad("%s.%s set = %v, want %v", col, what, g != nil, w != nil)
		} else if g != nil && !closeEnough(*g, *w, rel) {
			bad("%s.%s = %v, want %v", col, what, *g, *w)
		}
	}
	for i, w := range want.GetColumns() {
		g := got.GetColumns()[i]
		name := w.GetName()
		if g.GetName() != name || g.GetType() != w.GetType() || g.GetCount() != w.GetCount() || g.GetNullCount() != w.GetNullCount() {
			bad("%s: header/counts %v %v %d %d, want %v %v %d %d", name, g.GetName(), g.GetType(), g.GetCount(), g.GetNullCount(), w.GetName(), w.GetType(), w.GetCount(), w.GetNullCount())
		}
		if (g.NullShare == nil) != (w.NullShare == nil) || g.GetNullShare() != w.GetNullShare() {
			bad("%s.null_share = %v, want %v", name, g.NullShare, w.NullShare)
		}
		if wn := w.GetNumeric(); wn != nil {
			gn := g.GetNumeric()
			eq(name, "mean", gn.Mean, wn.Mean, rel)
			eq(name, "std", gn.Std, wn.Std, rel)
			eq(name, "variance", gn.Variance, wn.Variance, rel)
			eq(name, "skewness", gn.Skewness, wn.Skewness, 1e-9)
			eq(name, "kurtosis", gn.Kurtosis, wn.Kurtosis, 1e-9)
			eq(name, "min", gn.Min, wn.Min, 0)
			eq(name, "max", gn.Max, wn.Max, 0)
			gs, ws := gn.GetSum(), wn.GetSum()
			eq(name, "sum", &gs, &ws, 0)
			if gn.GetNegativeCount() != wn.GetNegativeCount() || gn.GetZeroCount() != wn.GetZeroCount() || gn.GetPositiveCount() != wn.GetPositiveCount() {
				bad("%s: signs %d/%d/%d, want %d/%d/%d", name, gn.GetNegativeCount(), gn.GetZeroCount(), gn.GetPositiveCount(), wn.GetNegativeCount(), wn.GetZeroCount(), wn.GetPositiveCount())
			}
			if len(gn.GetPercentiles()) != len(wn.GetPercentiles()) {
				bad("%s: %d percentiles, want %d", name, len(gn.GetPercentiles()), len(wn.GetPercentiles()))
				continue
			}
			for j, wp := range wn.GetPercentiles() {
				gp := gn.GetPercentiles()[j]
				if gp.GetQuantile() != wp.GetQuantile() {
					bad("%s: quantile %v, want %v", name, gp.GetQuantile(), wp.GetQuantile())
				}
				if !gp.GetExact() {
					// Checked against the values by TestOverBudgetApproximate.
					if gp.GetRankError() <= 0 || gp.GetRankError() > 0.02 {
						bad("%s: approximate q%v with rank error %v", name, wp.GetQuantile(), gp.GetRankError())
					}
					continue
				}
				eq(name, fmt.Sprint("q", wp.GetQuantile()), gp.Value, wp.Value, 0)
			}
			for _, d := range compareHistograms(gn.GetHistogram(), wn.GetHistogram()) {
				bad("%s: histogram: %s", name, d)
			}
		}
		if wd := w.GetDatetime(); wd != nil {
			gd := g.GetDatetime()
			if gd.GetMin() != wd.GetMin() || gd.GetMax() != wd.GetMax() || gd.GetMean() != wd.GetMean() {
				bad("%s: times min %q max %q mean %q, want %q %q %q", name, gd.GetMin(), gd.GetMax(), gd.GetMean(), wd.GetMin(), wd.GetMax(), wd.GetMean())
			}
			if len(gd.GetPercentiles()) != len(wd.GetPercentiles()) || len(gd.GetPercentileTimes()) != len(wd.GetPercentileTimes()) {
				bad("%s: %d time percentiles, want %d", name, len(gd.GetPercentiles()), len(wd.GetPercentiles()))
			} else {
				for j, wp := range wd.GetPercentiles() {
					gp := gd.GetPercentiles()[j]
					if !gp.GetExact() {
						if gp.GetRankError() <= 0 {
							bad("%s: approximate time q%v without a rank error", name, wp.GetQuantile())
						}
						continue
					}
					if gp.GetValue() != wp.GetValue() || gd.GetPercentileTimes()[j] != wd.GetPercentileTimes()[j] {
						bad("%s: time q%v = %v %q, want %v %q", name, wp.GetQuantile(), gp.GetValue(), gd.GetPercentileTimes()[j], wp.GetValue(), wd.GetPercentileTimes()[j])
					}
				}
			}
			for _, d := range compareHistograms(gd.GetHistogram(), wd.GetHistogram()) {
				bad("%s: time histogram: %s", name, d)
			}
		} else if g.GetDatetime() != nil {
			bad("%s: time statistics, want none", name)
		}
		if wc := w.GetCategorical(); wc != nil {
			gc := g.GetCategorical()
			if !proto.Equal(gc, wc) {
				bad("%s: categorical %v, want %v", name, gc, wc)
			}
		}
	}
	gm, wm := got.GetCorrelation(), want.GetCorrelation()
	if !slices.Equal(gm.GetColumns(), wm.GetColumns()) || len(gm.GetValues()) != len(wm.GetValues()) {
		bad("correlation of %v (%d values), want %v (%d)", gm.GetColumns(), len(gm.GetValues()), wm.GetColumns(), len(wm.GetValues()))
	} else {
		for k, wv := range wm.GetValues() {
			if gv := gm.GetValues()[k]; !(math.IsNaN(gv) && math.IsNaN(wv)) && !closeEnough(gv, wv, 1e-10) {
				bad("correlation[%d] = %v, want %v", k, gv, wv)
			}
		}
	}
	return diffs
}

// compareHistograms checks got against the exact histogram want: the same
// edges, and counts equal when got is exact, else within its count error.
func compareHistograms(got, want *typev1.Histogram) []string {
	if (got == nil) != (want == nil) {
		return []string{fmt.Sprintf("set = %v, want %v", got != nil, want != nil)}
	}
	if got == nil {
		return nil
	}
	if !slices.Equal(got.GetEdges(), want.GetEdges()) || len(got.GetCounts()) != len(want.GetCounts()) {
		return []string{fmt.Sprintf("edges %v (%d counts), want %v (%d)", got.GetEdges(), len(got.GetCounts()), want.GetEdges(), len(want.GetCounts()))}
	}
	var diffs []string
	for i, w := range want.GetCounts() {
		g := got.GetCounts()[i]
		if got.GetExact() && g != w || math.Abs(float64(g-w)) > got.GetCountError() {
			diffs = append(diffs, fmt.Sprintf("counts[%d] = %d (exact %v, error %v), want %d", i, g, got.GetExact(), got.GetCountError(), w))
		}
	}
	return diffs
}

// mergeTree merges consecutive partials in a random binary tree, preserving
// their order, and returns the root.
func mergeTree(t *testing.T, rng *rand.Rand, ps []*Partial) *Partial {
	t.Helper()
	if len(ps) == 1 {
		return ps[0]
	}
	mid := 1 + rng.IntN(len(ps)-1)
	left, right := mergeTree(t, rng, ps[:mid]), mergeTree(t, rng, ps[mid:])
	if err := left.Merge(right); err != nil {
		t.Fatalf("Merge: %v", err)
	}
	if err := right.Close(); err != nil {
		t.Fatalf("Close of a merged partial: %v", err)
	}
	return left
}

// TestMergeEqualsWhole cuts a file at random row boundaries, analyzes the
// shards separately and checks that the merged partials give the report of
// the whole file.
func TestMergeEqualsWhole(t *testing.T) {
	header, lines := genCSV(1, 3000)
	whole := report(t, analyzePartial(t, header+strings.Join(lines, ""), true, Config{}), []float64{0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999, 1})
	for _, tc := range []struct {
		name   string
		shards int
		cfg    Config
	}{
		{"two", 2, Config{}},
		{"seven", 7, Config{}},
		{"one-row-shards-possible", 40, Config{}},
		{"seven-spilled", 7, Config{MemoryBudget: 8 << 10, fanIn: 3, ExactCategorical: true}},
	} {
		for trial := range 3 {
			t.Run(fmt.Sprintf("%s/%d", tc.name, trial), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(trial), uint64(tc.shards)))
				cuts := map[int]bool{}
				for len(cuts) < tc.shards-1 {
					cuts[1+rng.IntN(len(lines)-1)] = true
				}
				bounds := append([]int{0}, slices.Sorted(func(yield func(int) bool) {
					for c := range cuts {
						if !yield(c) {
							return
						}
					}
				})...)
				bounds = append(bounds, len(lines))
				cfg := tc.cfg
				cfg.TempDir = t.TempDir()
				var ps []*Partial
				for i := 0; i+1 < len(bounds); i++ {
					data := strings.Join(lines[bounds[i]:bounds[i+1]], "")
					if i == 0 {
						data = header + data
					}
					ps = append(ps, analyzePartial(t, data, i == 0, cfg))
				}
				root := mergeTree(t, rng, ps)
				if root.Rows() != int64(len(lines)) {
					t.Errorf("Rows() = %d, want %d", root.Rows(), len(lines))
				}
				got := report(t, root, []float64{0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999, 1})
				for _, d := range compareReports(got, whole, 1e-12) {
					t.Error(d)
				}
				if err := root.Close(); err != nil {
					t.Fatal(err)
				}
				assertEmptyDir(t, cfg.TempDir)
			})
		}
	}
}

func TestMergeIncompatible(t *testing.T) {
	a := analyzePartial(t, "", false, Config{})
	s := testSchema()
	s.Fields[2].Type = typev1.FieldType_FIELD_TYPE_STRING
	b, err := AnalyzePartial(context.Background(), strings.NewReader(""), s, false, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.Merge(b); !errors.Is(err, ErrIncompatiblePartials) {
		t.Fatalf("Merge = %v, want ErrIncompatiblePartials", err)
	}
}

// TestSpillEqualsMemory analyzes a file with a budget far too small for it
// and compares with the in-memory result.
func TestSpillEqualsMemory(t *testing.T) {
	header, lines := genCSV(2, 20000)
	data := header + strings.Join(lines, "")
	qs := []float64{0, 0.01, 0.25, 0.5, 0.75, 0.99, 1}
	mem := analyzePartial(t, data, true, Config{TempDir: t.TempDir()})
	if mem.tmp.seq != 0 {
		t.Fatalf("the default budget spilled %d runs", mem.tmp.seq)
	}
	want := report(t, mem, qs)

	dir := t.TempDir()
	cfg := Config{MemoryBudget: 32 << 10, TempDir: dir, fanIn: 4, ExactCategorical: true}
	sp := analyzePartial(t, data, true, cfg)
	if sp.tmp.seq < 20 {
		t.Fatalf("spilled %d runs, want many", sp.tmp.seq)
	}
	if sp.mem > cfg.MemoryBudget {
		t.Errorf("holds %d bytes after the scan, budget %d", sp.mem, cfg.MemoryBudget)
	}
	for _, c := range sp.cols {
		if c.num != nil {
			if c.num.exact() && c.count > 0 {
				t.Errorf("%s: still exact past the budget", c.name)
			}
			continue
		}
		if c.dt != nil && c.dt.num.exact() {
			t.Errorf("%s: times still exact past the budget", c.name)
		}
		if runs := len(c.cat.runs); runs > 2*cfg.fanIn {
			t.Errorf("%s: %d runs, want at most %d after compaction", c.name, runs, 2*cfg.fanIn)
		}
	}
	got := report(t, sp, qs)
	for _, d := range compareReports(got, want, 1e-12) {
		t.Error(d)
	}
	// Report can run again over the same runs.
	again := report(t, sp, qs)
	for _, d := range compareReports(again, want, 1e-12) {
		t.Error("second report:", d)
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	assertEmptyDir(t, dir)
}

// TestTempFilesRemovedOnError checks that a failure or a cancellation after
// spilling leaves nothing behind.
func TestTempFilesRemovedOnError(t *testing.T) {
	header, lines := genCSV(3, 5000)
	bad := slices.Clone(lines)
	bad[4000] = "2026-03-02T14:00:00Z,S1,1.5,not-an-int,true,2026-03-01,x,\n"
	for _, tc := range []struct {
		name    string
		data    string
		cancel  bool
		wantErr error
	}{
		{"malformed", header + strings.Join(bad, ""), false, ErrMalformedInput},
		{"canceled", header + strings.Join(lines, ""), true, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var spilledBeforeCancel bool
			progress := func(_, rows int64) {
				if tc.cancel && rows >= 3000 {
					spilledBeforeCancel = dirHasFiles(t, dir)
					cancel()
				}
			}
			_, err := Analyze(ctx, strings.NewReader(tc.data), testSchema(), true, nil, Config{MemoryBudget: 16 << 10, TempDir: dir, ExactCategorical: true}, progress)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Analyze = %v, want %v", err, tc.wantErr)
			}
			if tc.cancel && !spilledBeforeCancel {
				t.Error("nothing was spilled before the cancellation; the test checks nothing")
			}
			assertEmptyDir(t, dir)
		})
	}
}

func dirHasFiles(t *testing.T, dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(ents) > 0
}

// TestNumericStability checks mean and std of values around 1e9 with a
// spread of a few thousandths against exact arithmetic. The textbook
// one-pass formula (sum of squares minus square of sum) loses every digit
// here.
func TestNumericStability(t *testing.T) {
	for _, tc := range []struct {
		name  string
		value func(rng *rand.Rand, i int) float64
	}{
		{"billion-tiny-spread", func(rng *rand.Rand, _ int) float64 { return 1e9 + rng.Float64()*0.005 }},
		{"negative-billion", func(rng *rand.Rand, _ int) float64 { return -1e9 - float64(rng.IntN(1000))*1e-4 }},
		{"drift", func(rng *rand.Rand, i int) float64 { return 1e12 + float64(i)*0.25 + rng.Float64() }},
		{"tiny", func(rng *rand.Rand, _ int) float64 { return 1e-140 * (1 + rng.Float64()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(4, 5))
			const n = 10000
			var buf bytes.Buffer
			buf.WriteString("x\n")
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = tc.value(rng, i)
				buf.WriteString(strconv.FormatFloat(xs[i], 'g', -1, 64) + "\n")
			}
			schema := &typev1.Schema{Fields: []*typev1.Field{{Name: "x", Type: typev1.FieldType_FIELD_TYPE_NUMBER}}}
			rep, err := Analyze(context.Background(), &buf, schema, true, nil, Config{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			wantMean, wantStd := exactMeanStd(xs)
			st := rep.GetColumns()[0].GetNumeric()
			if !closeEnough(st.GetMean(), wantMean, 1e-15) {
				t.Errorf("mean = %v, want %v", st.GetMean(), wantMean)
			}
			if !closeEnough(st.GetStd(), wantStd, 1e-12) {
				t.Errorf("std = %v, want %v (relative error %g)", st.GetStd(), wantStd, math.Abs(st.GetStd()-wantStd)/wantStd)
			}
		})
	}
}

// exactMeanStd computes mean and sample standard deviation with 2000-bit
// arithmetic, exact for these inputs up to the final rounding.
func exactMeanStd(xs []float64) (float64, float64) {
	const prec = 2000
	nf := new(big.Float).SetPrec(prec).SetInt64(int64(len(xs)))
	sum := new(big.Float).SetPrec(prec)
	for _, x := range xs {
		sum.Add(sum, new(big.Float).SetPrec(prec).SetFloat64(x))
	}
	mean := new(big.Float).SetPrec(prec).Quo(sum, nf)
	m2 := new(big.Float).SetPrec(prec)
	for _, x := range xs {
		d := new(big.Float).SetPrec(prec).SetFloat64(x)
		d.Sub(d, mean)
		m2.Add(m2, d.Mul(d, d))
	}
	v := m2.Quo(m2, new(big.Float).SetPrec(prec).SetInt64(int64(len(xs)-1)))
	m, _ := mean.Float64()
	vf, _ := new(big.Float).SetPrec(prec).Sqrt(v).Float64()
	return m, vf
}

func TestAnalyzeEdgeCases(t *testing.T) {
	schema := &typev1.Schema{Fields: []*typev1.Field{
		{Name: "a", Type: typev1.FieldType_FIELD_TYPE_INTEGER},
		{Name: "b", Type: typev1.FieldType_FIELD_TYPE_STRING},
	}}
	for _, tc := range []struct {
		name      string
		data      string
		hasHeader bool
		wantErr   error
		wantRows  int64
	}{
		{"header-only", "a,b\n", true, nil, 0},
		{"no-trailing-newline", "a,b\n1,x", true, nil, 1},
		{"bom", "\ufeffa,b\n1,x\n", true, nil, 1},
		{"shard-without-header", "1,x\n2,y\n", false, nil, 2},
		{"empty-shard", "", false, nil, 0},
		{"empty-with-header", "", true, ErrHeaderMismatch, 0},
		{"wrong-header", "a,c\n1,x\n", true, ErrHeaderMismatch, 0},
		{"header-order", "b,a\n1,x\n", true, ErrHeaderMismatch, 0},
		{"too-few-fields", "a,b\n1\n", true, ErrMalformedInput, 0},
		{"too-many-fields", "a,b\n1,x,y\n", true, ErrMalformedInput, 0},
		{"not-an-integer", "a,b\n1.5,x\n", true, ErrMalformedInput, 0},
		{"integer-overflow", "a,b\n9223372036854775808,x\n", true, ErrMalformedInput, 0},
		{"text-after-closing-quote", "a,b\n1,\"x\"y\n", true, ErrMalformedInput, 0},
		{"unterminated-quote", "a,b\n1,\"xy\n", true, ErrMalformedInput, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Analyze(context.Background(), strings.NewReader(tc.data), schema, tc.hasHeader, nil, Config{TempDir: t.TempDir()}, nil)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Analyze = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if rep.GetRowCount() != tc.wantRows {
				t.Errorf("row_count = %d, want %d", rep.GetRowCount(), tc.wantRows)
			}
			if tc.wantRows == 0 {
				n := rep.GetColumns()[0].GetNumeric()
				if n.Mean != nil || n.Std != nil || n.Min != nil || n.Max != nil || len(n.GetPercentiles()) != 3 || n.GetPercentiles()[0].Value != nil {
					t.Errorf("numeric stats of no rows = %v, want all unset", n)
				}
			}
		})
	}
}

func TestAnalyzeNaNIsMissing(t *testing.T) {
	schema := &typev1.Schema{Fields: []*typev1.Field{{Name: "x", Type: typev1.FieldType_FIELD_TYPE_NUMBER}}}
	rep, err := Analyze(context.Background(), strings.NewReader("x\n1\nNaN\n3\n"), schema, true, nil, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.GetColumns()[0]
	if c.GetCount() != 2 || c.GetNullCount() != 1 || c.GetNumeric().GetMean() != 2 {
		t.Errorf("count %d null_count %d mean %v, want 2 1 2", c.GetCount(), c.GetNullCount(), c.GetNumeric().GetMean())
	}
}

func TestInvalidArguments(t *testing.T) {
	for _, tc := range []struct {
		name      string
		schema    *typev1.Schema
		quantiles []float64
		wantErr   error
	}{
		{"nil-schema", nil, nil, ErrInvalidSchema},
		{"no-fields", &typev1.Schema{}, nil, ErrInvalidSchema},
		{"unspecified-type", &typev1.Schema{Fields: []*typev1.Field{{Name: "a"}}}, nil, ErrInvalidSchema},
		{"unknown-type", &typev1.Schema{Fields: []*typev1.Field{{Name: "a", Type: 99}}}, nil, ErrInvalidSchema},
		{"quantile-above-one", testSchema(), []float64{0.5, 1.5}, ErrInvalidQuantile},
		{"quantile-negative", testSchema(), []float64{-0.1}, ErrInvalidQuantile},
		{"quantile-nan", testSchema(), []float64{math.NaN()}, ErrInvalidQuantile},
		{"quantile-twice", testSchema(), []float64{0.5, 0.5}, ErrInvalidQuantile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Analyze(context.Background(), strings.NewReader(""), tc.schema, false, tc.quantiles, Config{}, nil)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Analyze = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestNormalizeQuantiles(t *testing.T) {
	got, err := NormalizeQuantiles([]float64{0.9, 0, 0.5, 1})
	if err != nil || !slices.Equal(got, []float64{0, 0.5, 0.9, 1}) {
		t.Errorf("NormalizeQuantiles = %v, %v; want sorted", got, err)
	}
	got, err = NormalizeQuantiles(nil)
	if err != nil || !slices.Equal(got, []float64{0.25, 0.5, 0.75}) {
		t.Errorf("NormalizeQuantiles(nil) = %v, %v; want pandas' defaults", got, err)
	}
}

// TestProgress checks that progress is reported as rows are read, ending
// with the whole input.
func TestProgress(t *testing.T) {
	header, lines := genCSV(5, 5000)
	data := header + strings.Join(lines, "")
	var calls [][2]int64
	_, err := Analyze(context.Background(), strings.NewReader(data), testSchema(), true, nil, Config{}, func(b, r int64) {
		calls = append(calls, [2]int64{b, r})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) < 5 {
		t.Fatalf("%d progress calls for 5000 rows, want one per 1024 rows and one at the end", len(calls))
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] < calls[i-1][0] || calls[i][1] < calls[i-1][1] {
			t.Errorf("progress went backwards: %v then %v", calls[i-1], calls[i])
		}
	}
	if last := calls[len(calls)-1]; last != [2]int64{int64(len(data)), 5000} {
		t.Errorf("last progress = %v, want [%d 5000]", last, len(data))
	}
}

func TestQuantilePlanMatchesNumpy(t *testing.T) {
	// np.percentile(np.arange(n, dtype=float), q*100) for these cases.
	for _, tc := range []struct {
		q    float64
		n    int64
		want float64
	}{
		{0.25, 10, 2.25},
		{0.5, 10, 4.5},
		{0.75, 10, 6.75},
		{0, 10, 0},
		{1, 10, 9},
		{0.333, 8, 2.331},
		{0.99, 8, 6.93},
		{0.5, 1, 0},
		{0.1, 2, 0.1},
	} {
		p := planQuantile(tc.q, tc.n)
		got := lerp(float64(p.lo), float64(p.hi), p.gamma)
		if !closeEnough(got, tc.want, 1e-12) {
			t.Errorf("quantile %v of 0..%d = %v, want %v", tc.q, tc.n-1, got, tc.want)
		}
	}
}

// TestMergeTieAcrossShards checks that first-seen rows of a later shard are
// placed after the rows of the earlier one: x and y both appear twice, x
// first, but y is the first value of the second shard.
func TestMergeTieAcrossShards(t *testing.T) {
	schema := &typev1.Schema{Fields: []*typev1.Field{{Name: "v", Type: typev1.FieldType_FIELD_TYPE_STRING}}}
	for _, budget := range []int64{0, 1} {
		t.Run(fmt.Sprint("budget-", budget), func(t *testing.T) {
			cfg := Config{MemoryBudget: budget, TempDir: t.TempDir()}
			var ps []*Partial
			for i, data := range []string{"v\nz\nx\n", "y\nx\ny\n"} {
				p, err := AnalyzePartial(context.Background(), strings.NewReader(data), schema, i == 0, cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				ps = append(ps, p)
			}
			if err := ps[0].Merge(ps[1]); err != nil {
				t.Fatal(err)
			}
			rep := report(t, ps[0], nil)
			c := rep.GetColumns()[0].GetCategorical()
			if c.GetTop() != "x" || c.GetFreq() != 2 || c.GetUnique() != 3 {
				t.Errorf("top %q freq %d unique %d, want x 2 3", c.GetTop(), c.GetFreq(), c.GetUnique())
			}
		})
	}
}

// TestMaxRecordBytes checks that a record longer than the limit fails the
// analysis instead of being buffered, as an unterminated quote would be.
func TestMaxRecordBytes(t *testing.T) {
	schema := &typev1.Schema{Fields: []*typev1.Field{{Name: "s", Type: typev1.FieldType_FIELD_TYPE_STRING}}}
	for _, tc := range []struct {
		name    string
		data    string
		wantErr error
	}{
		{"fits", "s\n" + strings.Repeat("x", 100) + "\n", nil},
		{"too-long", "s\n" + strings.Repeat("x", 1000) + "\n", ErrMalformedInput},
		{"unterminated-quote", "s\n\"" + strings.Repeat("x\n", 1000), ErrMalformedInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Analyze(context.Background(), strings.NewReader(tc.data), schema, true, nil, Config{MaxRecordBytes: 256}, nil)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Analyze = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestSelectInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for trial := range 200 {
		n := 1 + rng.IntN(5000)
		xs := make([]float64, n)
		distinct := 1 + rng.IntN(n)
		for i := range xs {
			xs[i] = float64(rng.IntN(distinct)) - float64(distinct)/3
		}
		if trial%10 == 0 {
			slices.Sort(xs) // sorted input
		}
		sorted := slices.Sorted(slices.Values(xs))
		var ranks []int64
		for range 1 + rng.IntN(8) {
			ranks = append(ranks, int64(rng.IntN(n)))
		}
		slices.Sort(ranks)
		ranks = slices.Compact(ranks)
		out := map[int64]float64{}
		selectInPlace(xs, ranks, 0, out)
		for _, r := range ranks {
			if out[r] != sorted[r] {
				t.Fatalf("trial %d: rank %d of %d = %v, want %v", trial, r, n, out[r], sorted[r])
			}
		}
		if len(out) != len(ranks) {
			t.Fatalf("trial %d: %d values for %d ranks", trial, len(out), len(ranks))
		}
	}
}

// TestReadError checks that a failing reader is not taken for bad input.
func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("a\n1\n"), iotest.ErrReader(boom))
	schema := &typev1.Schema{Fields: []*typev1.Field{{Name: "a", Type: typev1.FieldType_FIELD_TYPE_INTEGER}}}
	_, err := Analyze(context.Background(), r, schema, true, nil, Config{}, nil)
	if !errors.Is(err, boom) || errors.Is(err, ErrMalformedInput) {
		t.Fatalf("Analyze = %v, want the reader's error and not ErrMalformedInput", err)
	}
}

func TestTopValueIsBounded(t *testing.T) {
	long := strings.Repeat("é", MaxTopBytes) // 2 bytes a character
	in := "note\n" + long + "\n" + long + "\nshort\n"
	schema := &typev1.Schema{Fields: []*typev1.Field{{Name: "note", Type: typev1.FieldType_FIELD_TYPE_STRING}}}
	rep, err := Analyze(context.Background(), strings.NewReader(in), schema, true, nil, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs := rep.GetColumns()[0].GetCategorical()
	if cs.GetFreq() != 2 || cs.GetUnique() != 2 {
		t.Fatalf("freq/unique = %d/%d, want 2/2", cs.GetFreq(), cs.GetUnique())
	}
	top := cs.GetTop()
	if len(top) > MaxTopBytes || !utf8.ValidString(top) || !strings.HasSuffix(top, "…") || !strings.HasPrefix(long, strings.TrimSuffix(top, "…")) {
		t.Errorf("top is %d bytes (valid UTF-8: %v), want a prefix of the value cut within %d bytes and marked", len(top), utf8.ValidString(top), MaxTopBytes)
	}
	for _, v := range []string{"", "short", strings.Repeat("x", MaxTopBytes)} {
		if got := topValue([]byte(v)); got != v {
			t.Errorf("topValue(%d bytes) changed a value within the bound", len(v))
		}
	}
}

// TestCategoricalTypes checks that every non-numeric type of the Table
// Schema model is described like a string column, on the validator's
// canonical text, missing values being empty fields.
func TestCategoricalTypes(t *testing.T) {
	tests := []struct {
		typ    typev1.FieldType
		values []string // one per row; "" is missing
		count  int64
		nulls  int64
		unique int64
		top    string
		freq   int64
	}{
		{typev1.FieldType_FIELD_TYPE_BOOLEAN, []string{"true", "false", "", "true"}, 3, 1, 2, "true", 2},
		{typev1.FieldType_FIELD_TYPE_TIME, []string{"09:30:00", "16:00:00.5", "16:00:00.5", ""}, 3, 1, 2, "16:00:00.5", 2},
		{typev1.FieldType_FIELD_TYPE_YEAR, []string{"2024", "2023", "2024", "2024"}, 4, 0, 2, "2024", 3},
		{typev1.FieldType_FIELD_TYPE_YEARMONTH, []string{"", "2024-03", "", "2024-01"}, 2, 2, 2, "2024-03", 1},
		{typev1.FieldType_FIELD_TYPE_DURATION, []string{"P1DT2H", "PT0.5S", "PT0.5S", "P1DT2H"}, 4, 0, 2, "P1DT2H", 2},
		{typev1.FieldType_FIELD_TYPE_ANY, []string{"x", "1", "", "1"}, 3, 1, 2, "1", 2},
	}
	for _, tc := range tests {
		t.Run(tc.typ.String(), func(t *testing.T) {
			// A second column keeps a row with a missing value from being
			// an empty line.
			schema := &typev1.Schema{Fields: []*typev1.Field{{Name: "v", Type: tc.typ}, {Name: "k", Type: typev1.FieldType_FIELD_TYPE_INTEGER}}}
			if err := CheckSchema(schema); err != nil {
				t.Fatalf("CheckSchema: %v", err)
			}
			data := "v,k\n"
			for i, v := range tc.values {
				data += fmt.Sprintf("%s,%d\n", v, i)
			}
			rep, err := Analyze(context.Background(), strings.NewReader(data), schema, true, nil, Config{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			c := rep.GetColumns()[0]
			cs := c.GetCategorical()
			if c.GetType() != tc.typ || c.GetNumeric() != nil || cs == nil {
				t.Fatalf("column %v, want categorical statistics of type %v", c, tc.typ)
			}
			if c.GetCount() != tc.count || c.GetNullCount() != tc.nulls || cs.GetUnique() != tc.unique || cs.GetTop() != tc.top || cs.GetFreq() != tc.freq {
				t.Errorf("count %d null_count %d unique %d top %q freq %d, want %d %d %d %q %d",
					c.GetCount(), c.GetNullCount(), cs.GetUnique(), cs.GetTop(), cs.GetFreq(), tc.count, tc.nulls, tc.unique, tc.top, tc.freq)
			}
		})
	}
}
