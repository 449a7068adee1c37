package analyzer

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// TestParseMatchesStrconv checks that the fast number parsers give exactly
// strconv's results and verdicts.
func TestParseMatchesStrconv(t *testing.T) {
	cases := []string{"0", "-0", "+0", "-0.0", "3.493", "0.1", "-1.5", "007.50", "1.", ".5", "-.5", "1e5", "1E-3", "inf", "-Inf", "NaN",
		"123456789012345", "1234567890123456", "0.000000000000000000001", "0.0000000000000000000001", "12345678.1234567",
		"9007199254740993", "1_000", "0x10", "", "-", "+", ".", "1.2.3", "12a", " 1", "1 ", "99999999999999999999", "-9223372036854775808",
		"9223372036854775807", "9223372036854775808", "123456789012345678", "1234567890123456789", "+42", "--1"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		x := (rng.Float64() - 0.5) * math.Pow(10, float64(rng.IntN(30)-10))
		cases = append(cases, strconv.FormatFloat(x, 'f', rng.IntN(12), 64), strconv.FormatFloat(x, 'g', -1, 64), strconv.FormatInt(rng.Int64N(1<<62)-1<<61, 10))
	}
	for _, s := range cases {
		want, werr := strconv.ParseFloat(s, 64)
		got, ok := parseFloat([]byte(s))
		if ok != (werr == nil) || ok && math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("parseFloat(%q) = %v, %v; strconv gives %v, %v", s, got, ok, want, werr)
		}
		wi, ierr := strconv.ParseInt(s, 10, 64)
		gi, ok := parseInt([]byte(s))
		if ok != (ierr == nil) || ok && gi != wi {
			t.Errorf("parseInt(%q) = %v, %v; strconv gives %v, %v", s, gi, ok, wi, ierr)
		}
	}
}

// TestPipelineEqualsSequential checks that parsing on a goroutine of its
// own and folding columns on two gives the report, and the errors, of
// parsing and folding inline, whatever the batch boundaries.
func TestPipelineEqualsSequential(t *testing.T) {
	header, lines := genCSV(21, 7000)
	good := header + strings.Join(lines, "")
	badValue := slices.Clone(lines)
	badValue[5000] = "2026-03-02T14:00:00Z,S1,oops,7,true,2026-03-01,x,\n"
	badValue[5001] = "2026-03-02T14:00:00Z,S1,1.5,bad,true,2026-03-01,x,\n"
	twoBad := slices.Clone(lines)
	twoBad[4000] = "2026-03-02T14:00:00Z,S1,1.5,bad,true,2026-03-01,x,\n"
	twoBad[3000] = "2026-03-02T14:00:00Z,S1,nope,bad,true,2026-03-01,x,\n"
	// A right column (qty) bad on an earlier row than a left one (price):
	// the earlier row wins although its bad column is further right.
	rightFirst := slices.Clone(lines)
	rightFirst[5000] = "2026-03-02T14:00:00Z,S1,1.5,bad,true,2026-03-01,x,\n"
	rightFirst[5001] = "2026-03-02T14:00:00Z,S1,oops,7,true,2026-03-01,x,\n"
	badCount := slices.Clone(lines)
	badCount[6000] = "a,b\n"
	for _, tc := range []struct {
		name    string
		data    string
		budget  int64
		exact   bool // ExactCategorical: text columns spill rather than sketch
		wantErr string
	}{
		{"good", good, 0, false, ""},
		{"good-spilled", good, 64 << 10, true, ""},
		{"good-sketched", good, 64 << 10, false, ""},
		{"bad-value", header + strings.Join(badValue, ""), 0, false, `record 5002: column 3 ("price"): "oops" is not a number`},
		{"bad-count", header + strings.Join(badCount, ""), 0, false, "record 6002 has 2 fields"},
		// The first bad row wins, and in it the leftmost bad column, however
		// the columns are shared out.
		{"two-bad-columns", header + strings.Join(twoBad, ""), 0, false, `record 3002: column 3 ("price"): "nope" is not a number`},
		{"right-column-earlier-row", header + strings.Join(rightFirst, ""), 0, false, `record 5002: column 4 ("qty"): "bad" is not an integer`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reps []string
			for _, seq := range []bool{true, false} {
				cfg := Config{MemoryBudget: tc.budget, TempDir: t.TempDir(), sequential: seq, ExactCategorical: tc.exact}
				rep, err := Analyze(context.Background(), strings.NewReader(tc.data), testSchema(), true, []float64{0.1, 0.5, 0.9}, cfg, nil)
				if tc.wantErr != "" {
					if !errors.Is(err, ErrMalformedInput) || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("sequential=%v: Analyze = %v, want ErrMalformedInput with %q", seq, err, tc.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("sequential=%v: %v", seq, err)
				}
				reps = append(reps, rep.String())
			}
			if len(reps) == 2 && reps[0] != reps[1] {
				t.Errorf("reports differ:\nsequential %s\npipelined  %s", reps[0], reps[1])
			}
		})
	}
}

// TestPack checks pack against the plain definition (the bytes copied into
// a zeroed 8-byte word, little-endian) for every length up to 8.
func TestPack(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := range 9 {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			for range 1000 {
				v := make([]byte, n)
				for i := range v {
					v[i] = byte(rng.Uint32())
				}
				var want uint64
				for i := n - 1; i >= 0; i-- {
					want = want<<8 | uint64(v[i])
				}
				if got := pack(v); got != want {
					t.Fatalf("pack(%x) = %#x, want %#x", v, got, want)
				}
			}
		})
	}
}

// TestSelectByBuckets checks the bucket selection against a sort, for
// distributions that spread, cluster, tie and span every magnitude, over
// several parts, and that it declines what it must.
func TestSelectByBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	gens := []struct {
		name     string
		n        int
		gen      func() float64
		declines bool
	}{
		{"uniform", 50000, func() float64 { return rng.Float64()*200 - 100 }, false},
		{"exponential", 40000, func() float64 { return rng.ExpFloat64() * 1e6 }, false},
		{"normal-near-1e9", 30000, func() float64 { return 1e9 + rng.NormFloat64()*1e-3 }, false},
		{"few-distinct", 20000, func() float64 { return float64(rng.IntN(7)) - 3 }, false},
		{"signed-zeros", 20000, func() float64 { return []float64{0, math.Copysign(0, -1), 1, 2}[rng.IntN(4)] }, false},
		{"one-outlier-cluster", 70000, func() float64 {
			if rng.IntN(1000) == 0 {
				return 1e12
			}
			return rng.Float64()
		}, false},
		{"dense-cluster", 60000, func() float64 {
			if rng.IntN(100) == 0 {
				return 1e300
			}
			return 1 + float64(rng.IntN(1<<20))*0x1p-52
		}, false},
		{"too-dense", 60000, func() float64 {
			if rng.IntN(100) == 0 {
				return 1e300
			}
			return []float64{1, math.Nextafter(1, 2)}[rng.IntN(2)]
		}, false},
		{"huge-range", 20000, func() float64 { return (rng.Float64() - 0.5) * math.MaxFloat64 * 1.9 }, false},
		{"infinities", 20000, func() float64 { return []float64{math.Inf(-1), math.Inf(1), -1, 2, rng.Float64()}[rng.IntN(5)] }, false},
		{"tiny-magnitudes", 20000, func() float64 { return (rng.Float64() - 0.5) * 1e-310 }, false},
		{"clusters", 200000, func() float64 { return float64(rng.IntN(64))*1000 + rng.Float64() }, false},
		{"nested-clusters", 40000, func() float64 { return math.Ldexp(1+rng.Float64()*1e-3, -13*rng.IntN(20)) }, false},
		{"small", bucketSelectMin - 1, rng.Float64, true},
	}
	for _, g := range gens {
		t.Run(g.name, func(t *testing.T) {
			var all []float64
			var parts [][]float64
			for len(all) < g.n {
				p := make([]float64, min(1+rng.IntN(9000), g.n-len(all)))
				for i := range p {
					p[i] = g.gen()
				}
				parts = append(parts, p)
				all = append(all, p...)
			}
			sorted := slices.Clone(all)
			slices.Sort(sorted)
			ranks := []int64{0, 1, 2, int64(g.n / 4), int64(g.n/4) + 1, int64(g.n / 2), int64(g.n) - 2, int64(g.n) - 1}
			for r := int64(0); r < int64(g.n); r += int64(g.n / 97) {
				ranks = append(ranks, r, r+1)
			}
			slices.Sort(ranks)
			ranks = slices.Compact(ranks)
			out := map[int64]float64{}
			ok := selectByBuckets(parts, int64(g.n), ranks, out)
			if ok == g.declines {
				t.Fatalf("selectByBuckets returned %v, want %v", ok, !g.declines)
			}
			if !ok {
				if len(out) != 0 {
					t.Fatalf("declined but set %d ranks", len(out))
				}
				return
			}
			for _, r := range ranks {
				if got, ok := out[r]; !ok || got != sorted[r] {
					t.Errorf("rank %d: got %v (set %v), want %v", r, got, ok, sorted[r])
				}
			}
			var flat []float64
			for _, p := range parts {
				flat = append(flat, p...)
			}
			if !slices.Equal(flat, all) {
				t.Errorf("parts were reordered")
			}
		})
	}
}

// TestBatchValues checks the values a batch holds against encoding/csv's
// fields, for records mixing plain fields, quoted ones (with commas, line
// breaks and doubled quotes) and empty ones, across many batches.
func TestBatchValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const cols = 5
	pieces := []string{"a", "bc", ",", "\"", "\n", "é", "x y", "0.5"}
	var want [][]string
	var sb strings.Builder
	w := csv.NewWriter(&sb)
	header := []string{"c0", "c1", "c2", "c3", "c4"}
	if err := w.Write(header); err != nil {
		t.Fatal(err)
	}
	for range 5000 {
		rec := make([]string, cols)
		for i := range rec {
			for range rng.IntN(4) {
				rec[i] += pieces[rng.IntN(len(pieces))]
			}
		}
		want = append(want, rec)
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	schema := &typev1.Schema{}
	for _, name := range header {
		schema.Fields = append(schema.Fields, &typev1.Field{Name: name, Type: typev1.FieldType_FIELD_TYPE_STRING})
	}
	p, err := newPartial(schema, Config{})
	if err != nil {
		t.Fatal(err)
	}
	bt := newBatcher(strings.NewReader(sb.String()), p, true)
	b := new(batch)
	row := 0
	for {
		err := bt.fill(b)
		for r := range b.rows {
			for c := range cols {
				if got := string(b.value(r*cols + c)); got != want[row][c] {
					t.Fatalf("row %d column %d: %q, want %q", row, c, got, want[row][c])
				}
			}
			row++
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if row != len(want) {
		t.Fatalf("%d rows, want %d", row, len(want))
	}
}

// TestOrderKey checks that orderKey orders floats as < does (-0.0 just
// below 0) and that fromOrderKey inverts it.
func TestOrderKey(t *testing.T) {
	xs := []float64{math.Inf(-1), -math.MaxFloat64, -1e300, -1, -5e-324, math.Copysign(0, -1), 0, 5e-324, 1e-300, 1, 1e300, math.MaxFloat64, math.Inf(1)}
	for i, x := range xs {
		if got := fromOrderKey(orderKey(x)); math.Float64bits(got) != math.Float64bits(x) {
			t.Errorf("fromOrderKey(orderKey(%v)) = %v", x, got)
		}
		if i > 0 && orderKey(xs[i-1]) >= orderKey(x) {
			t.Errorf("orderKey(%v) >= orderKey(%v)", xs[i-1], x)
		}
	}
}
