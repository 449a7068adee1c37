package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/csvmesh/csvmesh/services/internal/tableschema"
	"github.com/csvmesh/csvmesh/services/internal/tradegen"
)

func TestCoreModes(t *testing.T) {
	tests := []struct {
		cpus int
		want []string
	}{
		{1, []string{"schema, 1 worker", "infer, 1 worker", "parquet (from normalized)", "analyzer (from normalized)", "analyzer, exact categorical"}},
		{2, []string{"schema, 1 worker", "infer, 1 worker", "schema, 2 workers", "infer, 2 workers", "parquet (from normalized)",
			"analyzer (from normalized)", "analyzer, exact categorical"}},
	}
	for _, tc := range tests {
		var got []string
		for _, m := range coreModes(tc.cpus) {
			got = append(got, m.Name)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("cpus %d: modes %q, want %q", tc.cpus, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("cpus %d: mode %d = %q, want %q", tc.cpus, i, got[i], tc.want[i])
			}
		}
	}
}

func TestTradesSchemaParses(t *testing.T) {
	s, err := tableschema.ParseJSON([]byte(tradesSchemaJSON))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.GetFields()) != 8 {
		t.Fatalf("%d fields, want the trades file's 8", len(s.GetFields()))
	}
}

// TestCoreRun runs the child side of --core on a small generated file: the
// schema run validates every good row and rejects the bad ones, and the
// Parquet run converts what it wrote.
func TestCoreRun(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "trades.csv")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	st, err := tradegen.Write(f, 256<<10, tradegen.WithSeed(3), tradegen.WithBadRowRate(0.05))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := coreRun(context.Background(), file, dir, coreMode{Workers: 2}, &out); err != nil {
		t.Fatal(err)
	}
	var res childResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.PeakRSS <= 0 {
		t.Errorf("peak RSS %d, want the child's VmHWM", res.PeakRSS)
	}
	if res.RowsValid+res.RowsRejected != st.Rows || res.RowsRejected != st.BadRows || st.BadRows == 0 {
		t.Fatalf("valid %d + rejected %d, want %d rows of which the %d bad ones rejected", res.RowsValid, res.RowsRejected, st.Rows, st.BadRows)
	}
	out.Reset()
	if err := coreRun(context.Background(), file, dir, coreMode{Workers: 1, Parquet: true}, &out); err != nil {
		t.Fatal(err)
	}
	var pq childResult
	if err := json.Unmarshal(out.Bytes(), &pq); err != nil {
		t.Fatal(err)
	}
	if pq.RowsValid != res.RowsValid {
		t.Fatalf("parquet rows %d, want the %d valid rows", pq.RowsValid, res.RowsValid)
	}
	for _, exact := range []bool{false, true} {
		out.Reset()
		if err := coreRun(context.Background(), file, dir, coreMode{Analyze: true, ExactCategorical: exact}, &out); err != nil {
			t.Fatal(err)
		}
		var an childResult
		if err := json.Unmarshal(out.Bytes(), &an); err != nil {
			t.Fatal(err)
		}
		if an.RowsValid != res.RowsValid || an.Seconds <= 0 {
			t.Fatalf("analyzer (exact %v) reported %d rows in %gs, want the %d valid rows", exact, an.RowsValid, an.Seconds, res.RowsValid)
		}
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []time.Duration
		want time.Duration
	}{
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 1, 3, 2}, 2}, // (2+3)/2 in integer nanoseconds
		{[]time.Duration{10, 30}, 20},
	}
	for _, tc := range tests {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
