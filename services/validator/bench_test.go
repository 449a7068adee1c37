package validator

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"testing"

	"github.com/csvmesh/csvmesh/services/internal/csvparse"
	"github.com/csvmesh/csvmesh/services/internal/tradegen"
)

// BenchmarkValidate validates a generated trades file (timestamps, symbols,
// sides, prices with some missing, quantities, notionals, venues, quoted
// notes with commas, quotes and newlines, 1% bad rows) with an inferred and
// with a given schema, and reads the same bytes with encoding/csv and
// csvparse alone, so the cost of validation over parsing can be read from
// one run.
func BenchmarkValidate(b *testing.B) {
	var buf bytes.Buffer
	if _, err := tradegen.Write(&buf, 8<<20, tradegen.WithSeed(1), tradegen.WithBadRowRate(0.01)); err != nil {
		b.Fatal(err)
	}
	in := buf.Bytes()
	run := func(b *testing.B, cfg Config) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			res, err := Run(context.Background(), bytes.NewReader(in), io.Discard, io.Discard, cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			if res.GetRowsValid() == 0 || res.GetRowsRejected() == 0 {
				b.Fatalf("valid %d, rejected %d", res.GetRowsValid(), res.GetRowsRejected())
			}
		}
	}
	b.Run("infer", func(b *testing.B) { run(b, Config{}) })
	b.Run("schema", func(b *testing.B) {
		run(b, Config{Schema: schema("timestamp:datetime!", "symbol:string!", "side:string!", "price:number",
			"quantity:integer!", "notional:number", "venue:string", "note:string")})
	})
	b.Run("csvparse_read_only", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			r := csvparse.NewReader(bytes.NewReader(in), csvparse.Options{})
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					if _, ok := err.(*csvparse.RecordError); !ok {
						b.Fatal(err)
					}
				}
			}
		}
	})
	b.Run("encoding_csv_read_only", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			r := csv.NewReader(bytes.NewReader(in))
			r.FieldsPerRecord = -1
			r.ReuseRecord = true
			for {
				_, err := r.Read()
				if err == io.EOF {
					break
				}
				if err != nil {
					if _, ok := err.(*csv.ParseError); !ok {
						b.Fatal(err)
					}
				}
			}
		}
	})
}
