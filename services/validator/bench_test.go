package validator

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"testing"

	"github.com/csvmesh/csvmesh/services/internal/parquetout"
	"github.com/csvmesh/csvmesh/services/internal/tradegen"
)

// BenchmarkValidate validates a generated 8 MB trades file (timestamps,
// symbols, sides, prices with some missing, quantities, notionals, venues,
// quoted notes with commas, quotes and newlines, 1% bad rows) with a given
// and an inferred schema on one and two workers, reads the same bytes with
// encoding/csv (encoding_csv, the baseline: every record, nothing checked
// or written), and converts the normalized output to Parquet, so the cost
// of each part can be read from one run:
//
//	go test -run '^$' -bench BenchmarkValidate -benchtime 20x ./services/validator/
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
			res, err := Run(context.Background(), bytes.NewReader(in), int64(len(in)), Outputs{Normalized: io.Discard, Rejects: io.Discard}, cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			if res.GetRowsValid() == 0 || res.GetRowsRejected() == 0 {
				b.Fatalf("valid %d, rejected %d", res.GetRowsValid(), res.GetRowsRejected())
			}
		}
	}
	b.Run("encoding_csv", func(b *testing.B) {
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
				if _, ok := err.(*csv.ParseError); err != nil && !ok {
					b.Fatal(err)
				}
			}
		}
	})
	for _, w := range []struct {
		name    string
		workers int
	}{{"workers=1", 1}, {"workers=2", 2}} {
		b.Run("schema/"+w.name, func(b *testing.B) { run(b, Config{Schema: tradesSchema(), Workers: w.workers}) })
	}
	for _, w := range []struct {
		name    string
		workers int
	}{{"workers=1", 1}, {"workers=2", 2}} {
		b.Run("infer/"+w.name, func(b *testing.B) { run(b, Config{Workers: w.workers}) })
	}
	b.Run("parquet", func(b *testing.B) {
		var norm bytes.Buffer
		res, err := Run(context.Background(), bytes.NewReader(in), int64(len(in)), Outputs{Normalized: &norm}, Config{Schema: tradesSchema()}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			n, err := parquetout.Convert(context.Background(), bytes.NewReader(norm.Bytes()), io.Discard, res.GetSchema(), parquetout.Options{})
			if err != nil || n != res.GetRowsValid() {
				b.Fatalf("Convert: %d rows, %v", n, err)
			}
		}
	})
}
