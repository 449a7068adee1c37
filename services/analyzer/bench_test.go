package analyzer

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"testing"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/internal/csvparse"
	"github.com/csvmesh/csvmesh/services/internal/tradegen"
)

// tradesSchema is the schema of tradegen's files.
func tradesSchema() *typev1.Schema {
	f := func(name string, t typev1.FieldType) *typev1.Field { return &typev1.Field{Name: name, Type: t} }
	return &typev1.Schema{Fields: []*typev1.Field{
		f("timestamp", typev1.FieldType_FIELD_TYPE_DATETIME),
		f("symbol", typev1.FieldType_FIELD_TYPE_STRING),
		f("side", typev1.FieldType_FIELD_TYPE_STRING),
		f("price", typev1.FieldType_FIELD_TYPE_NUMBER),
		f("quantity", typev1.FieldType_FIELD_TYPE_INTEGER),
		f("notional", typev1.FieldType_FIELD_TYPE_NUMBER),
		f("venue", typev1.FieldType_FIELD_TYPE_STRING),
		f("note", typev1.FieldType_FIELD_TYPE_STRING),
	}}
}

func trades(tb testing.TB, size int64) ([]byte, tradegen.Stats) {
	tb.Helper()
	var buf bytes.Buffer
	st, err := tradegen.Write(&buf, size)
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes(), st
}

// TestTrades analyzes a generated trades file and checks the figures the
// generator reports.
func TestTrades(t *testing.T) {
	data, st := trades(t, 1<<20)
	rep, err := Analyze(context.Background(), bytes.NewReader(data), tradesSchema(), true, nil, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.GetRowCount() != st.Rows {
		t.Errorf("row_count = %d, want %d", rep.GetRowCount(), st.Rows)
	}
	price := rep.GetColumns()[3]
	if price.GetNullCount() != st.MissingPrices || price.GetCount() != st.Rows-st.MissingPrices {
		t.Errorf("price count %d null_count %d, want %d %d", price.GetCount(), price.GetNullCount(), st.Rows-st.MissingPrices, st.MissingPrices)
	}
	if ts := rep.GetColumns()[0].GetCategorical(); ts.GetUnique() != st.Rows || ts.GetFreq() != 1 {
		t.Errorf("timestamps: unique %d freq %d, want %d distinct", ts.GetUnique(), ts.GetFreq(), st.Rows)
	}
	if side := rep.GetColumns()[2].GetCategorical(); side.GetUnique() != 2 {
		t.Errorf("side: %d distinct values, want 2", side.GetUnique())
	}
}

// BenchmarkAnalyze measures the analyzer on a generated trades file, next to
// a plain encoding/csv read of the same bytes and a read with the parser the
// analyzer uses (csvparse): the ratios show the cost of the statistics over
// parsing.
func BenchmarkAnalyze(b *testing.B) {
	data, _ := trades(b, 16<<20)
	b.Run("encoding-csv", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			r := csv.NewReader(bytes.NewReader(data))
			r.ReuseRecord = true
			for {
				if _, err := r.Read(); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("csvparse", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			r := csvparse.NewReader(bytes.NewReader(data), csvparse.Options{MaxFields: 8})
			for {
				if _, err := r.Next(); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"analyze", Config{}},
		// Text columns past the budget switch to sketches...
		{"analyze-4MiB-budget", Config{MemoryBudget: 4 << 20}},
		// ...or spill to disk to stay exact.
		{"analyze-4MiB-budget-exact", Config{MemoryBudget: 4 << 20, ExactCategorical: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.cfg.TempDir = b.TempDir()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Analyze(context.Background(), bytes.NewReader(data), tradesSchema(), true, nil, bc.cfg, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
