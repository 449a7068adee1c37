package infer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/csvmesh/csvmesh/services/internal/tableschema"
)

// checkCompiles compiles res.Schema and normalizes every value of cols[i]
// with field i, with and without NeutralizeFormulas: each value must be
// accepted, and when res.Rewrite[i] is false written back unchanged.
func checkCompiles(t *testing.T, res Result, cols [][]string) {
	t.Helper()
	for _, neutralize := range []bool{false, true} {
		c, err := tableschema.Compile(res.Schema, tableschema.Options{NeutralizeFormulas: neutralize})
		if err != nil {
			t.Fatalf("Compile(%v) = %v", res.Schema, err)
		}
		var buf []byte
		for i, col := range cols {
			f := c.Fields[i]
			for _, v := range col {
				if IsMissing([]byte(v)) {
					if !c.IsMissing([]byte(v)) {
						t.Errorf("field %d: Compiled.IsMissing(%q) = false", i, v)
					}
					continue
				}
				out, verr := f.Normalize(buf[:0], []byte(v))
				if verr != nil {
					t.Errorf("field %d %v: Normalize(%q) = %v", i, res.Schema.Fields[i], v, verr.Msg)
					continue
				}
				if !res.Rewrite[i] && !bytes.Equal(out, []byte(v)) {
					t.Errorf("field %d %v (neutralize %t): Rewrite is false but Normalize(%q) = %q",
						i, res.Schema.Fields[i], neutralize, v, out)
				}
				buf = out
			}
		}
	}
}

// TestCandidatesCompile forces each candidate alone and checks that the
// field it makes accepts every value its lexer accepts, and that Normalize
// keeps a value as written exactly when the lexer calls it canonical.
func TestCandidatesCompile(t *testing.T) {
	values := []string{
		"0", "7", "-123", "+5", "007", "-0", "00", "9223372036854775807", "-9223372036854775808",
		"99999999999999999999", "1,234", "-1,234,567", "9,223,372,036,854,775,807",
		"1.5", "-1.5", "0.25", "1e-9", "1.5e10", "1.5E+10", "1e05", "1e-0", "1e0", "-2.5e3", ".5", "-.5", "5.",
		"01.5", "0.0", "-0.0", "NaN", "inf", "-inf", "+inf", "INF", "-Inf", "Infinity", "-infinity",
		"1e300", "0.001e-297", "0e99999", "12345e296", "1,234.5", "-1,234,567.125",
		"1,5", "1.234,56", "-1.234.567,5", "1.234", ",5", "1,5e3",
		"true", "false", "True", "TRUE", "False", "FALSE",
		"2023-01-31", "2024-02-29", "0001-01-01", "9999-12-31",
		"31/12/2023", "01/02/2023", "1/2/2023", "12/31/2023", "2/29/2024", "31.12.2023", "1.2.2023",
		"2023-01-31T10:20:30", "2023-01-31T10:20:30Z", "2023-01-31T10:20:30.123456789Z",
		"2023-01-31T10:20:30.5+05:30", "2023-01-31T23:59:59-08:00", "2023-01-31 10:20:30",
		"2023-01-31T10:20:30+0530", "2023-01-31T10:20:30+00:00", "2023-01-31T10:20:30-00:00",
		"2023-01-31T10:20:30.50+23:59",
		"00:00:00", "23:59:59", "10:20:30.5", "10:20:30.000",
	}
	var spurious []string
	for k := range numCands {
		for _, comma := range []byte{',', ';'} {
			in := New(1, Options{Comma: comma})
			in.cols[0].live &= 1 << k
			if in.cols[0].live == 0 {
				continue
			}
			var seen []string
			for _, v := range values {
				in.cols[0].live = in.init & (1 << k)
				in.cols[0].rewrite, in.cols[0].flags = 0, 0
				in.Observe(0, []byte(v))
				if in.cols[0].live == 0 {
					continue
				}
				seen = append(seen, v)
				res := in.Result([]string{"c"})
				checkCompiles(t, res, [][]string{{v}})
				if res.Rewrite[0] {
					c, err := tableschema.Compile(res.Schema, tableschema.Options{})
					if err != nil {
						t.Fatal(err)
					}
					if out, verr := c.Fields[0].Normalize(nil, []byte(v)); verr == nil && string(out) == v {
						spurious = append(spurious, fmt.Sprintf("%d:%q", k, v))
					}
				}
			}
			if len(seen) == 0 {
				t.Errorf("candidate %d accepted none of the values", k)
			}
		}
	}
	if len(spurious) > 0 {
		t.Errorf("called non-canonical but kept as written by Normalize (candidate:value): %v", spurious)
	}
}

// TestRandomColumnsCompile infers random columns and checks the schema
// against tableschema.
func TestRandomColumnsCompile(t *testing.T) {
	pool := [][]string{
		{"0", "1", "-5", "+7", "007", "123", "-0"},
		{"1,234", "-12,345,678", "5"},
		{"1.5", ".5", "-2e3", "inf", "NaN", "1e300", "1E5", "-0.0", "5."},
		{"1,234.5", "0.125"},
		{"1.234,5", "0,5", "12"},
		{"true", "False", "TRUE", "false"},
		{"2023-01-31", "2024-02-29"},
		{"01/02/2023", "12/11/2023", "31/01/2023", "01/31/2023", "2/2/2022"},
		{"31.01.2023", "1.2.2023"},
		{"2023-01-31T10:00:00Z", "2023-01-31 10:00:00.5", "2023-01-31T10:00:00+01:00", "2023-01-31T10:00:00-0130"},
		{"10:00:00", "23:59:59.5"},
		{"abc", "=1+1", "-x", "@a", "\tb", " c", "", "NA", "null"},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		comma := []byte{',', ';'}[r.IntN(2)]
		ncols := 1 + r.IntN(4)
		cols := make([][]string, ncols)
		in := New(ncols, Options{Comma: comma})
		for c := range cols {
			k1, k2 := pool[r.IntN(len(pool))], pool[r.IntN(len(pool))]
			if r.IntN(2) == 0 {
				k2 = k1
			}
			for range 1 + r.IntN(6) {
				k := k1
				if r.IntN(2) == 0 {
					k = k2
				}
				v := k[r.IntN(len(k))]
				cols[c] = append(cols[c], v)
				if !IsMissing([]byte(v)) {
					in.Observe(c, []byte(v))
				}
			}
		}
		checkCompiles(t, in.Result(nil), cols)
		if t.Failed() {
			t.Fatalf("columns %q", cols)
		}
	}
}
