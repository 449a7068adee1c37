package moments

import (
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"
)

// golden is testdata/golden.json, written by testdata/gen_golden.py from
// pandas (the version is recorded in the file). Floats are Python repr()
// strings, which round-trip exactly and spell NaN and infinities.
type golden struct {
	Pandas string `json:"pandas"`
	Series []struct {
		Name   string   `json:"name"`
		Values []string `json:"values"`
		Count  int64    `json:"count"`
		Sum    string   `json:"sum"`
		Mean   string   `json:"mean"`
		Var    string   `json:"var"`
		Var0   string   `json:"var0"`
		Std    string   `json:"std"`
		Skew   string   `json:"skew"`
		Kurt   string   `json:"kurt"`
		Min    string   `json:"min"`
		Max    string   `json:"max"`
	} `json:"series"`
	Frames []struct {
		Name    string     `json:"name"`
		Columns []string   `json:"columns"`
		Rows    [][]string `json:"rows"`
		Corr    [][]string `json:"corr"`
		Cov     [][]string `json:"cov"`
	} `json:"frames"`
}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	f, err := os.Open("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var g golden
	if err := json.NewDecoder(f).Decode(&g); err != nil {
		t.Fatalf("decoding golden.json: %v", err)
	}
	if len(g.Series) == 0 || len(g.Frames) == 0 {
		t.Fatalf("golden.json has %d series and %d frames", len(g.Series), len(g.Frames))
	}
	return &g
}

func parseF(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("golden float %q: %v", s, err)
	}
	return f
}

func parseFs(t *testing.T, ss []string) []float64 {
	t.Helper()
	fs := make([]float64, len(ss))
	for i, s := range ss {
		fs[i] = parseF(t, s)
	}
	return fs
}

// goldenTol is how far our results may be from pandas'. pandas rounds in
// float64 (pairwise sums, two passes, a float64 Welford for corr), so on
// these well-conditioned vectors the two agree to a few units in the last
// place of the larger terms.
const goldenTol = 1e-12

// pandasRounding lists the golden results where pandas' float64 rounding
// shows and ours, exact to the last place, differ from it by more than
// goldenTol. Those are checked against the math/big reference instead, and
// pandas' value must indeed be off the reference by more than goldenTol.
//   - constant-tenth: the variance of seven 0.1 values is 0; pandas' mean,
//     0.09999999999999999, leaves 2.2e-34.
//   - above-2^53: the exact mean, 2^53 + 15⅔, is not a float64; pandas takes
//     the deviations from 2^53 + 16 and so overstates M2 by 6·(1/3)².
var pandasRounding = map[string]map[string]bool{
	"constant-tenth": {"var": true, "var0": true, "std": true},
	"above-2^53":     {"var": true, "var0": true, "std": true, "skew": true, "kurt": true},
}

// TestGoldenSeries checks Moments against pandas Series statistics.
func TestGoldenSeries(t *testing.T) {
	g := loadGolden(t)
	t.Logf("golden results of pandas %s", g.Pandas)
	for _, s := range g.Series {
		t.Run(s.Name, func(t *testing.T) {
			m := fill(parseFs(t, s.Values))
			if m.Count() != s.Count {
				t.Errorf("Count = %d, pandas %d", m.Count(), s.Count)
			}
			checkSame(t, "Min", m.Min(), parseF(t, s.Min))
			checkSame(t, "Max", m.Max(), parseF(t, s.Max))
			var finite []float64
			for _, v := range parseFs(t, s.Values) {
				if isFinite(v) {
					finite = append(finite, v)
				}
			}
			ref := reference(t, finite)
			for _, c := range []struct {
				stat           string
				got, want, ref float64
			}{
				{"sum", m.Sum(), parseF(t, s.Sum), ref.sum},
				{"mean", m.Mean(), parseF(t, s.Mean), ref.mean},
				{"var", m.Var(1), parseF(t, s.Var), ref.var1},
				{"var0", m.Var(0), parseF(t, s.Var0), ref.var0},
				{"std", m.Std(1), parseF(t, s.Std), ref.std1},
				{"skew", m.Skew(), parseF(t, s.Skew), ref.skew},
				{"kurt", m.Kurt(), parseF(t, s.Kurt), ref.kurt},
			} {
				if pandasRounding[s.Name][c.stat] {
					if relErr(c.want, c.ref) <= goldenTol {
						t.Errorf("%s: pandas %v is within %g of the reference %v: drop it from pandasRounding", c.stat, c.want, goldenTol, c.ref)
					}
					checkClose(t, c.stat+" (against the reference)", c.got, c.ref, goldenTol)
					continue
				}
				checkClose(t, c.stat, c.got, c.want, goldenTol)
			}
		})
	}
}

// TestGoldenFrames checks Matrix (and so CoMoments) against pandas
// DataFrame.corr and DataFrame.cov, rows added one at a time and, for the
// merge, as two halves.
func TestGoldenFrames(t *testing.T) {
	g := loadGolden(t)
	for _, f := range g.Frames {
		t.Run(f.Name, func(t *testing.T) {
			p := len(f.Columns)
			one, err := NewMatrix(p)
			if err != nil {
				t.Fatal(err)
			}
			halves := [2]*Matrix{}
			for h := range halves {
				if halves[h], err = NewMatrix(p); err != nil {
					t.Fatal(err)
				}
			}
			for r, row := range f.Rows {
				vals := parseFs(t, row)
				// NaN cells are passed as absent half of the time, to cover
				// both ways of saying a cell is missing.
				var present []bool
				if r%2 == 0 {
					present = make([]bool, p)
					for i, v := range vals {
						present[i] = !math.IsNaN(v)
					}
				}
				if err := one.Add(vals, present); err != nil {
					t.Fatal(err)
				}
				if err := halves[2*r/len(f.Rows)].Add(vals, present); err != nil {
					t.Fatal(err)
				}
			}
			if err := halves[0].Merge(halves[1]); err != nil {
				t.Fatal(err)
			}
			for i := range p {
				for j := range p {
					wantCorr := parseF(t, f.Corr[i][j])
					wantCov := parseF(t, f.Cov[i][j])
					for _, m := range []struct {
						how string
						m   *Matrix
					}{{"one pass", one}, {"merged", halves[0]}} {
						pair := m.m.Pair(i, j)
						checkClose(t, m.how+": corr("+f.Columns[i]+", "+f.Columns[j]+")", m.m.Corr(i, j), wantCorr, goldenTol)
						checkClose(t, m.how+": cov("+f.Columns[i]+", "+f.Columns[j]+")", pair.Cov(), wantCov, goldenTol)
					}
				}
			}
		})
	}
}
