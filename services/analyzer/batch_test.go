package analyzer

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
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
// own gives the report, and the errors, of parsing inline, whatever the
// batch boundaries.
func TestPipelineEqualsSequential(t *testing.T) {
	header, lines := genCSV(21, 7000)
	good := header + strings.Join(lines, "")
	badValue := slices.Clone(lines)
	badValue[5000] = "2026-03-02T14:00:00Z,S1,oops,7,true,2026-03-01,x,\n"
	badValue[5001] = "2026-03-02T14:00:00Z,S1,1.5,bad,true,2026-03-01,x,\n"
	badCount := slices.Clone(lines)
	badCount[6000] = "a,b\n"
	for _, tc := range []struct {
		name    string
		data    string
		budget  int64
		wantErr string
	}{
		{"good", good, 0, ""},
		{"good-spilled", good, 64 << 10, ""},
		{"bad-value", header + strings.Join(badValue, ""), 0, `record 5002: column 3 ("price"): "oops" is not a number`},
		{"bad-count", header + strings.Join(badCount, ""), 0, "record 6002 has 2 fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reps []string
			for _, seq := range []bool{true, false} {
				cfg := Config{MemoryBudget: tc.budget, TempDir: t.TempDir(), sequential: seq}
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
