package analyzer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// TestNewFigures checks every figure beyond describe() on a fixture small
// enough to compute by hand (the float figures are pandas 1.5.3's).
func TestNewFigures(t *testing.T) {
	schema := &typev1.Schema{Fields: []*typev1.Field{
		{Name: "x", Type: typev1.FieldType_FIELD_TYPE_NUMBER},
		{Name: "y", Type: typev1.FieldType_FIELD_TYPE_INTEGER},
		{Name: "s", Type: typev1.FieldType_FIELD_TYPE_STRING},
	}}
	data := "x,y,s\n-2,1,a\n0,2,ééé\n,3,\n0,,bb\n1,2,a\n5,10,bb\n"
	for _, cfg := range []Config{{}, {sequential: true}} {
		rep, err := Analyze(context.Background(), strings.NewReader(data), schema, true, nil, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		x := rep.GetColumns()[0]
		if x.GetNullShare() != 1.0/6 || x.NullShare == nil {
			t.Errorf("x.null_share = %v, want 1/6", x.NullShare)
		}
		n := x.GetNumeric()
		for _, c := range []struct {
			what      string
			got, want float64
			rel       float64
		}{
			{"sum", n.GetSum(), 4, 0},
			{"mean", n.GetMean(), 0.8, 0},
			{"variance", n.GetVariance(), 6.7, 1e-15},
			{"std", n.GetStd(), 2.588435821108957, 1e-15},
			{"skewness", n.GetSkewness(), 1.228195210283377, 1e-14},
			{"kurtosis", n.GetKurtosis(), 2.399198039652484, 1e-14},
		} {
			if !closeEnough(c.got, c.want, c.rel) {
				t.Errorf("x.%s = %v, want %v", c.what, c.got, c.want)
			}
		}
		if n.GetNegativeCount() != 1 || n.GetZeroCount() != 2 || n.GetPositiveCount() != 2 {
			t.Errorf("x signs %d/%d/%d, want 1/2/2", n.GetNegativeCount(), n.GetZeroCount(), n.GetPositiveCount())
		}
		for i, want := range []float64{0, 0, 1} {
			if p := n.GetPercentiles()[i]; p.GetValue() != want || !p.GetExact() || p.GetRankError() != 0 {
				t.Errorf("x percentile %d = %v, want exact %v", i, p, want)
			}
		}
		wantHist := &typev1.Histogram{
			Edges:  []float64{-2.0, -1.3, -0.6000000000000001, 0.09999999999999964, 0.7999999999999998, 1.5, 2.1999999999999993, 2.8999999999999995, 3.5999999999999996, 4.3, 5.0},
			Counts: []int64{1, 0, 2, 0, 1, 0, 0, 0, 0, 1},
			Exact:  true,
		}
		if !proto.Equal(n.GetHistogram(), wantHist) {
			t.Errorf("x histogram %v, want %v", n.GetHistogram(), wantHist)
		}
		s := rep.GetColumns()[2].GetCategorical()
		wantCat := &typev1.CategoricalStats{
			Unique: 3, Top: "a", Freq: 2,
			MinLength: 1, MaxLength: 3, MeanLength: proto.Float64(1.8),
			Distinct:       &typev1.DistinctCount{Value: 3, Exact: true},
			TopValues:      []*typev1.ValueCount{{Value: "a", Count: 2}, {Value: "bb", Count: 2}, {Value: "ééé", Count: 1}},
			TopValuesExact: true,
		}
		if !proto.Equal(s, wantCat) {
			t.Errorf("s = %v, want %v", s, wantCat)
		}
		m := rep.GetCorrelation()
		if !slices.Equal(m.GetColumns(), []string{"x", "y"}) || len(m.GetValues()) != 4 {
			t.Fatalf("correlation %v", m)
		}
		for k, want := range []float64{1, 0.9450834072912024, 0.9450834072912024, 1} {
			if !closeEnough(m.GetValues()[k], want, 1e-15) {
				t.Errorf("correlation[%d] = %v, want %v", k, m.GetValues()[k], want)
			}
		}
	}
}

// TestTopValuesOrder checks the top values of a column with more distinct
// values than the list holds: by count, ties to the value seen first.
func TestTopValuesOrder(t *testing.T) {
	schema := &typev1.Schema{Fields: []*typev1.Field{{Name: "s", Type: typev1.FieldType_FIELD_TYPE_STRING}}}
	var b strings.Builder
	b.WriteString("s\n")
	// v0..v14 once each, then v14..v3 a second time: v3..v14 tie at 2, and
	// v3 is seen first among them.
	for i := range 15 {
		fmt.Fprintf(&b, "v%d\n", i)
	}
	for i := 14; i >= 3; i-- {
		fmt.Fprintf(&b, "v%d\n", i)
	}
	for _, cfg := range []Config{{}, {MemoryBudget: 1, TempDir: t.TempDir()}} {
		rep, err := Analyze(context.Background(), strings.NewReader(b.String()), schema, true, nil, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := rep.GetColumns()[0].GetCategorical()
		var got []string
		for _, v := range c.GetTopValues() {
			got = append(got, v.GetValue()+":"+strconv.FormatInt(v.GetCount(), 10))
		}
		want := []string{"v3:2", "v4:2", "v5:2", "v6:2", "v7:2", "v8:2", "v9:2", "v10:2", "v11:2", "v12:2"}
		if !slices.Equal(got, want) || c.GetTop() != "v3" || c.GetFreq() != 2 || c.GetUnique() != 15 {
			t.Errorf("budget %d: top values %v (top %q freq %d unique %d), want %v", cfg.MemoryBudget, got, c.GetTop(), c.GetFreq(), c.GetUnique(), want)
		}
	}
}

// TestOverBudgetApproximate analyzes a numeric column far bigger than the
// budget, whole and in merged shards, and checks that its quantiles and
// histogram are marked approximate and lie within their stated bounds of the
// exact figures, while the moments stay exact.
func TestOverBudgetApproximate(t *testing.T) {
	schema := &typev1.Schema{Fields: []*typev1.Field{{Name: "x", Type: typev1.FieldType_FIELD_TYPE_NUMBER}}}
	rng := rand.New(rand.NewPCG(4, 2))
	const rows = 100000
	var lines []string
	values := make([]float64, rows)
	for i := range values {
		values[i] = math.Round(rng.ExpFloat64()*1e4) / 100
		lines = append(lines, strconv.FormatFloat(values[i], 'f', -1, 64)+"\n")
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	qs := []float64{0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1}
	exact, err := Analyze(context.Background(), strings.NewReader("x\n"+strings.Join(lines, "")), schema, true, qs, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !exact.GetColumns()[0].GetNumeric().GetPercentiles()[0].GetExact() {
		t.Fatal("the default budget made the column approximate")
	}
	for _, shards := range []int{1, 5} {
		t.Run(fmt.Sprint(shards, "-shards"), func(t *testing.T) {
			cfg := Config{MemoryBudget: 64 << 10, TempDir: t.TempDir()}
			var ps []*Partial
			for i := range shards {
				data := strings.Join(lines[i*rows/shards:(i+1)*rows/shards], "")
				if i == 0 {
					data = "x\n" + data
				}
				p, err := AnalyzePartial(context.Background(), strings.NewReader(data), schema, i == 0, cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				ps = append(ps, p)
			}
			root := mergeTree(t, rand.New(rand.NewPCG(1, 1)), ps)
			defer root.Close()
			got := report(t, root, qs)
			// Moments, min and max exact, histogram within bound.
			for _, d := range compareReports(got, exact, 1e-12) {
				t.Error(d)
			}
			n := got.GetColumns()[0].GetNumeric()
			if h := n.GetHistogram(); h.GetExact() || h.GetCountError() <= 0 {
				t.Errorf("histogram exact %v with count error %v, want approximate", h.GetExact(), h.GetCountError())
			}
			for _, p := range n.GetPercentiles() {
				eps := p.GetRankError()
				if p.GetExact() || eps <= 0 || eps > 0.02 {
					t.Errorf("q%v: exact %v rank error %v, want approximate within 0.02", p.GetQuantile(), p.GetExact(), eps)
					continue
				}
				// The value's rank range must meet [q-eps, q+eps], widened by
				// one order statistic.
				v := p.GetValue()
				lo := float64(sortSearch(sorted, v, false)) / rows
				hi := float64(sortSearch(sorted, v, true)) / rows
				if hi < p.GetQuantile()-eps-1.0/rows || lo > p.GetQuantile()+eps+1.0/rows {
					t.Errorf("q%v = %v has ranks [%v, %v], outside %v ± %v", p.GetQuantile(), v, lo, hi, p.GetQuantile(), eps)
				}
			}
		})
	}
}

// sortSearch returns the number of values of sorted below v, or at most v
// when inclusive.
func sortSearch(sorted []float64, v float64, inclusive bool) int {
	i, _ := slices.BinarySearchFunc(sorted, v, func(x, v float64) int {
		if x < v || inclusive && x == v {
			return -1
		}
		return 1
	})
	return i
}

// TestHistogramBins checks the histogram's arithmetic bin guess against a
// binary search over the edges, on values that sit on and next to edges.
func TestHistogramBins(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for trial := range 200 {
		lo := (rng.Float64() - 0.5) * math.Pow(10, float64(rng.IntN(30)-15))
		hi := lo + rng.Float64()*math.Pow(10, float64(rng.IntN(30)-15))
		if trial%10 == 0 {
			hi = lo
		}
		edges := histogramEdges(lo, hi)
		c := newNumericCol(1 << 12)
		want := make([]int64, len(edges)-1)
		add := func(x float64) {
			if x < lo || x > hi {
				return
			}
			c.add(x)
			want[binOf(edges, x)]++
		}
		add(lo)
		add(hi)
		for _, e := range edges {
			add(e)
			add(math.Nextafter(e, math.Inf(1)))
			add(math.Nextafter(e, math.Inf(-1)))
		}
		for range 100 {
			add(lo + rng.Float64()*(hi-lo))
		}
		h := c.histogram(lo, hi)
		if !slices.Equal(h.GetCounts(), want) || !h.GetExact() || lo != hi && !c.unsorted {
			t.Fatalf("lo %v hi %v: counts %v, want %v", lo, hi, h.GetCounts(), want)
		}
		// The same values in order take the sorted path, over several
		// chunks.
		sorted := newNumericCol(chunkSize)
		for _, p := range c.parts() {
			for _, x := range p {
				sorted.add(x)
			}
		}
		for _, p := range sorted.parts() {
			slices.Sort(p)
		}
		xs := slices.Concat(sorted.parts()...)
		slices.Sort(xs)
		sorted = newNumericCol(chunkSize)
		for _, x := range xs {
			sorted.add(x)
		}
		if h := sorted.histogram(lo, hi); !slices.Equal(h.GetCounts(), want) || sorted.unsorted {
			t.Fatalf("lo %v hi %v sorted: counts %v, want %v", lo, hi, h.GetCounts(), want)
		}
	}
}

// TestParseTimestamp compares the datetime reader with package time.
func TestParseTimestamp(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // RFC 3339 with nanoseconds; "" for not ok
	}{
		{"2024-02-29", "2024-02-29T00:00:00Z"},
		{"2023-02-29", ""},
		{"1900-02-29", ""},
		{"2000-02-29", "2000-02-29T00:00:00Z"},
		{"1970-01-01T00:00:00", "1970-01-01T00:00:00Z"},
		{"1969-12-31T23:59:59.999999999Z", "1969-12-31T23:59:59.999999999Z"},
		{"2026-03-02 14:00:00.5+01:30", "2026-03-02T12:30:00.5Z"},
		{"2026-03-02T14:00:00-0500", "2026-03-02T19:00:00Z"},
		{"1677-09-22T00:00:00Z", "1677-09-22T00:00:00Z"},
		{"1677-09-21T00:00:00Z", ""},
		{"2262-04-11T00:00:00Z", "2262-04-11T00:00:00Z"},
		{"2262-04-12T00:00:00Z", ""},
		{"2026-13-01", ""},
		{"2026-03-02T24:00:00", ""},
		{"2026-03-02T14:00:00.", ""},
		{"2026-03-02T14:00:00.1234567890", ""},
		{"2026-03-02T14:00", ""},
		{"14:00:00", ""},
	} {
		ns, ok := parseTimestamp([]byte(tc.in))
		got := ""
		if ok {
			got = time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
		}
		if got != tc.want {
			t.Errorf("parseTimestamp(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for ns, want := range map[int64]string{0: "1970-01-01 00:00:00", 1500: "1970-01-01 00:00:00.000001500", 2000: "1970-01-01 00:00:00.000002", -1: "1969-12-31 23:59:59.999999999"} {
		if got := formatTimestamp(ns); got != want {
			t.Errorf("formatTimestamp(%d) = %q, want %q", ns, got, want)
		}
	}
}

// TestOneColumnCorrelation checks the matrix of a single numeric column,
// which the engine feeds value by value rather than by row, against the
// diagonal of a two-column matrix over the same values.
func TestOneColumnCorrelation(t *testing.T) {
	num := func(name string) *typev1.Field {
		return &typev1.Field{Name: name, Type: typev1.FieldType_FIELD_TYPE_NUMBER}
	}
	one := &typev1.Schema{Fields: []*typev1.Field{{Name: "s", Type: typev1.FieldType_FIELD_TYPE_STRING}, num("x")}}
	two := &typev1.Schema{Fields: []*typev1.Field{{Name: "s", Type: typev1.FieldType_FIELD_TYPE_STRING}, num("x"), num("y")}}
	for _, tc := range []struct {
		name string
		xs   []string
		want float64 // NaN for NaN
	}{
		{"spread", []string{"1", "", "2.5", "NaN", "-4"}, 1},
		{"constant", []string{"3", "3", "", "3"}, math.NaN()},
		{"single", []string{"", "7", ""}, math.NaN()},
		{"infinite", []string{"1", "inf", "2"}, 1},
		{"all-missing", []string{"", ""}, math.NaN()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d1, d2 := "s,x\n", "s,x,y\n"
			for i, x := range tc.xs {
				d1 += fmt.Sprintf("r%d,%s\n", i, x)
				d2 += fmt.Sprintf("r%d,%s,%d\n", i, x, i)
			}
			for _, cfg := range []Config{{}, {sequential: true}} {
				r1, err := Analyze(context.Background(), strings.NewReader(d1), one, true, nil, cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				r2, err := Analyze(context.Background(), strings.NewReader(d2), two, true, nil, cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				got, ref := r1.GetCorrelation().GetValues(), r2.GetCorrelation().GetValues()
				if len(got) != 1 || len(ref) != 4 {
					t.Fatalf("matrices %v and %v", got, ref)
				}
				if math.Float64bits(got[0]) != math.Float64bits(ref[0]) && !(math.IsNaN(got[0]) && math.IsNaN(ref[0])) {
					t.Errorf("one-column correlation %v, two-column diagonal %v", got[0], ref[0])
				}
				if got[0] != tc.want && !(math.IsNaN(got[0]) && math.IsNaN(tc.want)) {
					t.Errorf("correlation %v, want %v", got[0], tc.want)
				}
			}
		})
	}
}

// TestDayCache checks that a shared dayCache reads every value as a fresh
// parse does, whatever came before it.
func TestDayCache(t *testing.T) {
	ins := []string{"2024-02-29", "2024-02-29T10:00:00", "2024-02-29T24:00:00", "2024-02-29 23:59:59.5-01:00", "2024-02-29x",
		"2023-02-29", "2023-02-29T00:00:00", "2023-03-01T00:00:00Z", "2023-03-01", "2023-03-01T00:00", "1677-09-21T00:00:00Z",
		"1677-09-22T00:00:00Z", "1677-09-21T00:00:00Z", "2262-04-11T23:47:16.854775807Z", "2262-04-11T23:47:17Z", "14:00:00"}
	var c dayCache
	for range 3 {
		for _, in := range ins {
			ns, ok := c.parseTimestamp([]byte(in))
			wns, wok := parseTimestamp([]byte(in))
			if ns != wns || ok != wok {
				t.Errorf("cached parse of %q = %d, %v; fresh parse %d, %v", in, ns, ok, wns, wok)
			}
		}
	}
}
