package csvparse

import (
	"bytes"
	"encoding/csv"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestNeedsQuoting checks the word-at-a-time scan against a byte loop on
// every position of every special byte in fields of lengths around the word
// size, and on random fields.
func TestNeedsQuoting(t *testing.T) {
	want := func(f []byte) bool { return bytes.ContainsAny(f, ",\"\r\n") }
	check := func(f []byte) {
		t.Helper()
		if got := needsQuoting(f); got != want(f) {
			t.Fatalf("needsQuoting(%q) = %v, want %v", f, got, want(f))
		}
		if got := needsQuoting(string(f)); got != want(f) {
			t.Fatalf("needsQuoting(string %q) = %v, want %v", f, got, want(f))
		}
	}
	for n := range 40 {
		base := bytes.Repeat([]byte{'a'}, n)
		check(base)
		for i := range n {
			// The special bytes, their neighbours (which the has-zero trick
			// must not confuse with them) and high bytes.
			for _, c := range []byte{',', '"', '\r', '\n', '+', '-', '!', '#', '\t', '\v', 0, 0x80, 0xac, 0xff} {
				f := bytes.Clone(base)
				f[i] = c
				check(f)
			}
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("ab,\"\r\n\x00\x01\x7f\x80\xff\xe2\x82\xac")
	for range 20000 {
		f := make([]byte, r.IntN(40))
		for i := range f {
			if r.IntN(6) == 0 {
				f[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				f[i] = byte(r.IntN(256))
			}
		}
		check(f)
	}
}

// TestAppendRecordMatchesEncodingCSV checks that AppendRecord and
// AppendField write random records as encoding/csv does (apart from the lone
// empty field, which encoding/csv writes as a blank line, and leading
// spaces, which it quotes), and that WriteLine writes a record built with
// them unchanged.
func TestAppendRecordMatchesEncodingCSV(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := "ab ,\"\r\n€é"
	for range 5000 {
		fields := make([]string, 1+r.IntN(5))
		bfields := make([][]byte, len(fields))
		for i := range fields {
			var sb strings.Builder
			sb.WriteByte('x') // no leading space, never empty
			for range r.IntN(20) {
				sb.WriteString(string([]rune(alphabet)[r.IntN(len([]rune(alphabet)))]))
			}
			fields[i] = sb.String()
			bfields[i] = []byte(fields[i])
		}
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		if err := cw.Write(fields); err != nil {
			t.Fatal(err)
		}
		cw.Flush()
		if got := AppendRecord(nil, bfields); string(got) != want.String() {
			t.Fatalf("AppendRecord(%q) = %q, want %q", fields, got, want.String())
		}
		var line []byte
		for i, f := range fields {
			if i > 0 {
				line = append(line, ',')
			}
			if i%2 == 0 {
				line = AppendField(line, f)
			} else {
				line = AppendField(line, bfields[i])
			}
		}
		var out bytes.Buffer
		w := NewWriterSize(&out, 8)
		if err := w.WriteLine(line); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want.String() || w.Written() != int64(out.Len()) {
			t.Fatalf("WriteLine(%q) wrote %q (Written %d), want %q", line, out.String(), w.Written(), want.String())
		}
	}
}
