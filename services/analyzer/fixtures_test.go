package analyzer

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// fixture is one testdata/<name>.csv with its spec and the figures pandas
// computed for it (see testdata/expected.py).
type fixture struct {
	name      string
	csv       []byte
	schema    *typev1.Schema
	quantiles []float64
	want      expectedReport
}

type expectedReport struct {
	RowCount    int64            `json:"row_count"`
	Quantiles   []float64        `json:"quantiles"`
	Columns     []expectedColumn `json:"columns"`
	Correlation *struct {
		Columns []string   `json:"columns"`
		Values  []*float64 `json:"values"` // null for NaN
	} `json:"correlation"`
}

type expectedColumn struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Count       int64    `json:"count"`
	NullCount   int64    `json:"null_count"`
	Mean        *float64 `json:"mean"`
	Std         *float64 `json:"std"`
	Min         *float64 `json:"min"`
	Max         *float64 `json:"max"`
	Percentiles []struct {
		Quantile float64  `json:"quantile"`
		Value    *float64 `json:"value"`
	} `json:"percentiles"`
	Unique *int64  `json:"unique"`
	Top    *string `json:"top"`
	Freq   *int64  `json:"freq"`

	NullShare     *float64 `json:"null_share"`
	Sum           *float64 `json:"sum"`
	Variance      *float64 `json:"variance"`
	Skewness      *float64 `json:"skewness"`
	Kurtosis      *float64 `json:"kurtosis"`
	NegativeCount int64    `json:"negative_count"`
	ZeroCount     int64    `json:"zero_count"`
	PositiveCount int64    `json:"positive_count"`
	Histogram     *struct {
		Edges  []float64 `json:"edges"`
		Counts []int64   `json:"counts"`
	} `json:"histogram"`
	Datetime *struct {
		Mean          *string  `json:"mean"`
		MeanNs        int64    `json:"mean_ns"`
		Min           *string  `json:"min"`
		Max           *string  `json:"max"`
		Percentiles   []string `json:"percentiles"`
		PercentilesNs []int64  `json:"percentiles_ns"`
		Histogram     *struct {
			Edges  []float64 `json:"edges"`
			Counts []int64   `json:"counts"`
		} `json:"histogram"`
	} `json:"datetime"`
	MinLength  int64    `json:"min_length"`
	MaxLength  int64    `json:"max_length"`
	MeanLength *float64 `json:"mean_length"`
	TopValues  []struct {
		Value string `json:"value"`
		Count int64  `json:"count"`
	} `json:"top_values"`
}

func loadFixtures(t *testing.T) []fixture {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 5 {
		t.Fatalf("found %d fixtures in testdata, want at least 5", len(paths))
	}
	var out []fixture
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".csv")
		f := fixture{name: name}
		if f.csv, err = os.ReadFile(p); err != nil {
			t.Fatal(err)
		}
		var spec struct {
			Schema    json.RawMessage `json:"schema"`
			Quantiles []float64       `json:"quantiles"`
		}
		readJSON(t, filepath.Join("testdata", name+".spec.json"), &spec)
		f.schema = &typev1.Schema{}
		if err := protojson.Unmarshal(spec.Schema, f.schema); err != nil {
			t.Fatalf("%s.spec.json: %v", name, err)
		}
		f.quantiles = spec.Quantiles
		readJSON(t, filepath.Join("testdata", name+".expected.json"), &f.want)
		out = append(out, f)
	}
	return out
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// closeEnough reports whether got is within rel of want, relative to the
// larger magnitude; zero must be matched exactly.
func closeEnough(got, want, rel float64) bool {
	if got == want {
		return true
	}
	return math.Abs(got-want) <= rel*math.Max(math.Abs(got), math.Abs(want))
}

// compareExpected checks every figure of rep against pandas' within 1e-9
// relative, and returns the differences.
func compareExpected(rep *typev1.Report, want expectedReport) []string {
	var diffs []string
	bad := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if rep.GetRowCount() != want.RowCount {
		bad("row_count = %d, want %d", rep.GetRowCount(), want.RowCount)
	}
	if len(rep.GetColumns()) != len(want.Columns) {
		bad("%d columns, want %d", len(rep.GetColumns()), len(want.Columns))
		return diffs
	}
	opt := func(col, what string, got *float64, want *float64) {
		switch {
		case want == nil && got != nil:
			bad("%s.%s = %v, want unset", col, what, *got)
		case want != nil && got == nil:
			bad("%s.%s unset, want %v", col, what, *want)
		case want != nil && !closeEnough(*got, *want, 1e-9):
			bad("%s.%s = %v, want %v", col, what, *got, *want)
		}
	}
	for i, w := range want.Columns {
		c := rep.GetColumns()[i]
		if c.GetName() != w.Name || c.GetType().String() != w.Type {
			bad("column %d is %s %v, want %s %s", i, c.GetName(), c.GetType(), w.Name, w.Type)
			continue
		}
		if c.GetCount() != w.Count || c.GetNullCount() != w.NullCount {
			bad("%s: count %d null_count %d, want %d %d", w.Name, c.GetCount(), c.GetNullCount(), w.Count, w.NullCount)
		}
		opt(w.Name, "null_share", c.NullShare, w.NullShare)
		if isNumeric(c.GetType()) {
			n := c.GetNumeric()
			if n == nil || c.GetCategorical() != nil {
				bad("%s: want numeric statistics only", w.Name)
				continue
			}
			opt(w.Name, "mean", n.Mean, w.Mean)
			opt(w.Name, "std", n.Std, w.Std)
			opt(w.Name, "min", n.Min, w.Min)
			opt(w.Name, "max", n.Max, w.Max)
			sum := n.GetSum()
			opt(w.Name, "sum", &sum, w.Sum)
			opt(w.Name, "variance", n.Variance, w.Variance)
			opt(w.Name, "skewness", n.Skewness, w.Skewness)
			opt(w.Name, "kurtosis", n.Kurtosis, w.Kurtosis)
			if n.GetNegativeCount() != w.NegativeCount || n.GetZeroCount() != w.ZeroCount || n.GetPositiveCount() != w.PositiveCount {
				bad("%s: signs %d/%d/%d, want %d/%d/%d", w.Name, n.GetNegativeCount(), n.GetZeroCount(), n.GetPositiveCount(), w.NegativeCount, w.ZeroCount, w.PositiveCount)
			}
			var wantHist *typev1.Histogram
			if w.Histogram != nil {
				wantHist = &typev1.Histogram{Edges: w.Histogram.Edges, Counts: w.Histogram.Counts, Exact: true}
			}
			for _, d := range compareHistograms(n.GetHistogram(), wantHist) {
				bad("%s: histogram: %s", w.Name, d)
			}
			if len(n.GetPercentiles()) != len(w.Percentiles) {
				bad("%s: %d percentiles, want %d", w.Name, len(n.GetPercentiles()), len(w.Percentiles))
				continue
			}
			for j, wp := range w.Percentiles {
				p := n.GetPercentiles()[j]
				if p.GetQuantile() != wp.Quantile {
					bad("%s: percentile %d is q=%v, want %v", w.Name, j, p.GetQuantile(), wp.Quantile)
				}
				if !p.GetExact() {
					// An approximate quantile lies within the column's range;
					// TestOverBudgetApproximate checks its rank bound.
					if p.GetRankError() <= 0 || p.Value == nil || p.GetValue() < n.GetMin() || p.GetValue() > n.GetMax() {
						bad("%s: approximate q%v = %v with rank error %v", w.Name, wp.Quantile, p.Value, p.GetRankError())
					}
					continue
				}
				opt(w.Name, fmt.Sprintf("q%v", wp.Quantile), p.Value, wp.Value)
			}
			continue
		}
		cs := c.GetCategorical()
		if cs == nil || c.GetNumeric() != nil {
			bad("%s: want categorical statistics only", w.Name)
			continue
		}
		// pandas reports top and freq of an all-missing column as NaN; the
		// report leaves them at their zero values.
		wantTop, wantFreq := "", int64(0)
		if w.Top != nil {
			wantTop, wantFreq = *w.Top, *w.Freq
		}
		if cs.GetUnique() != *w.Unique || cs.GetTop() != wantTop || cs.GetFreq() != wantFreq {
			bad("%s: unique %d top %q freq %d, want %d %q %d", w.Name, cs.GetUnique(), cs.GetTop(), cs.GetFreq(), *w.Unique, wantTop, wantFreq)
		}
		if cs.GetMinLength() != w.MinLength || cs.GetMaxLength() != w.MaxLength {
			bad("%s: lengths %d..%d, want %d..%d", w.Name, cs.GetMinLength(), cs.GetMaxLength(), w.MinLength, w.MaxLength)
		}
		opt(w.Name, "mean_length", cs.MeanLength, w.MeanLength)
		if wd := w.Datetime; wd != nil {
			for _, d := range compareDatetime(c.GetDatetime(), wd.Mean, wd.MeanNs, wd.Min, wd.Max, wd.Percentiles, wd.PercentilesNs) {
				bad("%s: datetime: %s", w.Name, d)
			}
			var wantHist *typev1.Histogram
			if wd.Histogram != nil {
				wantHist = &typev1.Histogram{Edges: wd.Histogram.Edges, Counts: wd.Histogram.Counts, Exact: true}
			}
			for _, d := range compareHistograms(c.GetDatetime().GetHistogram(), wantHist) {
				bad("%s: datetime histogram: %s", w.Name, d)
			}
		} else if c.GetDatetime() != nil {
			bad("%s: datetime statistics, want none", w.Name)
		}
		if d := cs.GetDistinct(); d.GetValue() != *w.Unique || !d.GetExact() {
			bad("%s: distinct %v, want exact %d", w.Name, d, *w.Unique)
		}
		var got, want []string
		for _, v := range cs.GetTopValues() {
			got = append(got, fmt.Sprintf("%q:%d", v.GetValue(), v.GetCount()))
		}
		for _, v := range w.TopValues {
			want = append(want, fmt.Sprintf("%q:%d", v.Value, v.Count))
		}
		if !slices.Equal(got, want) || !cs.GetTopValuesExact() {
			bad("%s: top values %v (exact %v), want %v", w.Name, got, cs.GetTopValuesExact(), want)
		}
	}
	gm := rep.GetCorrelation()
	if wm := want.Correlation; wm == nil {
		if gm != nil {
			bad("correlation %v, want none", gm)
		}
	} else if !slices.Equal(gm.GetColumns(), wm.Columns) || len(gm.GetValues()) != len(wm.Values) {
		bad("correlation of %v (%d values), want %v (%d)", gm.GetColumns(), len(gm.GetValues()), wm.Columns, len(wm.Values))
	} else {
		for k, wv := range wm.Values {
			gv := gm.GetValues()[k]
			if math.IsNaN(gv) {
				opt("correlation", fmt.Sprint(k), nil, wv)
			} else {
				opt("correlation", fmt.Sprint(k), &gv, wv)
			}
		}
	}
	return diffs
}

// compareDatetime checks the time statistics of a column against pandas':
// min and max exactly, the mean and percentiles (which pandas computes in
// float64 nanoseconds) within 1024 ns.
func compareDatetime(got *typev1.DatetimeStats, mean *string, meanNs int64, lo, hi *string, pcts []string, pctNs []int64) []string {
	var diffs []string
	bad := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if got == nil {
		return []string{"unset"}
	}
	if got.Min != nil != (lo != nil) || got.GetMin() != deref(lo) || got.GetMax() != deref(hi) {
		bad("min %v max %v, want %v %v", got.Min, got.Max, deref(lo), deref(hi))
	}
	near := func(what, s string, want int64) {
		ns, ok := parseTimestamp([]byte(s))
		if !ok || ns-want > 1024 || want-ns > 1024 {
			bad("%s = %q, want %d ns", what, s, want)
		}
	}
	if mean == nil {
		if got.Mean != nil {
			bad("mean %q, want unset", got.GetMean())
		}
	} else {
		near("mean", got.GetMean(), meanNs)
	}
	if len(got.GetPercentileTimes()) != len(pcts) {
		return append(diffs, fmt.Sprintf("percentiles %v, want %v", got.GetPercentileTimes(), pcts))
	}
	for i, s := range got.GetPercentileTimes() {
		near(fmt.Sprint("percentile ", i), s, pctNs[i])
	}
	return diffs
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestFixturesMatchPandas compares every figure of every fixture with what
// pandas describe() computed, once with everything in memory and once with a
// budget so small that every column spills on every row.
func TestFixturesMatchPandas(t *testing.T) {
	for _, f := range loadFixtures(t) {
		// Small fixtures spill every column on every row; the big one every
		// few dozen rows, which exercises the same paths much faster.
		spillBudget := int64(1)
		if f.want.RowCount > 100 {
			spillBudget = 16 << 10
		}
		for _, mode := range []struct {
			name  string
			cfg   Config
			spill bool
		}{
			{"memory", Config{}, false},
			{"spill", Config{MemoryBudget: spillBudget, fanIn: 3, ExactCategorical: true}, true},
		} {
			t.Run(f.name+"/"+mode.name, func(t *testing.T) {
				cfg := mode.cfg
				cfg.TempDir = t.TempDir()
				ctx := context.Background()
				p, err := AnalyzePartial(ctx, strings.NewReader(string(f.csv)), f.schema, true, cfg, nil)
				if err != nil {
					t.Fatalf("AnalyzePartial: %v", err)
				}
				qs, err := NormalizeQuantiles(f.quantiles)
				if err != nil {
					t.Fatal(err)
				}
				rep, err := p.Report(ctx, qs)
				if err != nil {
					t.Fatalf("Report: %v", err)
				}
				spilled := p.tmp.seq > 0
				for _, c := range p.cols {
					spilled = spilled || c.num != nil && !c.num.exact()
				}
				if spilled != mode.spill {
					t.Errorf("spilled = %v, want %v", spilled, mode.spill)
				}
				if err := p.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				for _, d := range compareExpected(rep, f.want) {
					t.Error(d)
				}
				assertEmptyDir(t, cfg.TempDir)
			})
		}
	}
}

// assertEmptyDir fails if dir holds anything.
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left behind in temp dir: %s", e.Name())
	}
}
