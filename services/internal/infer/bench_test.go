package infer_test

import (
	"testing"

	"github.com/csvmesh/csvmesh/services/internal/infer"
)

// BenchmarkObserve observes the values of one column of each kind, cycling
// through a few typical values; ns/op is per value.
func BenchmarkObserve(b *testing.B) {
	kinds := []struct {
		name   string
		comma  byte
		values []string
	}{
		{"integer", ',', []string{"12345", "-7", "0", "987654321"}},
		{"integer-group", ';', []string{"12,345", "-7", "0", "987,654,321"}},
		{"number", ',', []string{"123.45", "-0.5", "1e-9", "98765.4321"}},
		{"number-group", ';', []string{"1,234.5", "-0.5", "7", "98,765.4321"}},
		{"number-euro", ';', []string{"1.234,5", "-0,5", "7", "98.765,4321"}},
		{"boolean", ',', []string{"true", "false", "True", "FALSE"}},
		{"date-iso", ',', []string{"2023-01-31", "2024-02-29", "1999-12-31", "2023-07-04"}},
		{"date-dmy", ',', []string{"31/01/2023", "29/02/2024", "01/02/2023", "04/07/2023"}},
		{"date-ambiguous", ',', []string{"01/02/2023", "03/04/2023", "11/12/2023", "10/07/2023"}},
		{"datetime", ',', []string{"2023-01-31T10:20:30Z", "2023-01-31 10:20:30.123", "2023-01-31T00:00:00+01:00", "2024-02-29T23:59:59"}},
		{"time", ',', []string{"10:20:30", "23:59:59", "00:00:00.5", "12:00:00"}},
		{"string", ',', []string{"ACME Corp", "XS0123456789", "buy", "Zürich"}},
		{"string-numeric-start", ';', []string{"12 units", "1,5 kg", "3.5%", "2023-01-31x"}},
	}
	for _, k := range kinds {
		values := make([][]byte, len(k.values))
		for i, s := range k.values {
			values[i] = []byte(s)
		}
		b.Run(k.name, func(b *testing.B) {
			in := infer.New(1, infer.Options{Comma: k.comma})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				in.Observe(0, values[i&3])
				i++
			}
		})
	}
}

// BenchmarkIsMissing checks typical non-missing and missing cells.
func BenchmarkIsMissing(b *testing.B) {
	values := [][]byte{[]byte("12345"), []byte(""), []byte("NA"), []byte("ACME Corp"), []byte("1.#QNAN"), []byte("None"), []byte("2023-01-31"), []byte("abc")}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		infer.IsMissing(values[i&7])
		i++
	}
}
