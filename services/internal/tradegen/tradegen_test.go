package tradegen

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// parsed is a generated file read back with encoding/csv.
type parsed struct {
	header  []string
	rows    [][]string
	lastOff int64 // input offset where the last record starts
}

func generate(t *testing.T, size int64, opts ...Option) ([]byte, Stats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := Write(&buf, size, opts...)
	if err != nil {
		t.Fatalf("Write(%d): %v", size, err)
	}
	if st.Bytes != int64(buf.Len()) {
		t.Fatalf("Stats.Bytes = %d, wrote %d", st.Bytes, buf.Len())
	}
	return buf.Bytes(), st
}

func parse(t *testing.T, data []byte, fieldsPerRecord int) parsed {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.LazyQuotes = false
	r.FieldsPerRecord = fieldsPerRecord
	var p parsed
	for {
		off := r.InputOffset()
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("csv read at offset %d: %v", off, err)
		}
		p.lastOff = off
		if p.header == nil {
			p.header = rec
			continue
		}
		p.rows = append(p.rows, rec)
	}
	return p
}

func TestWriteSize(t *testing.T) {
	headerLen := int64(len(strings.Join(Header, ",")) + 1)
	tests := []struct {
		name string
		size int64
	}{
		{"zero gives header only", 0},
		{"header size gives header only", headerLen},
		{"one byte past header gives one row", headerLen + 1},
		{"4 KiB", 4 << 10},
		{"across buffer flushes", 3*bufSize + 17},
		{"1 MB", 1_000_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, st := generate(t, tc.size)
			p := parse(t, data, 0)
			if got := strings.Join(p.header, ","); got != strings.Join(Header, ",") {
				t.Fatalf("header = %q, want %q", got, strings.Join(Header, ","))
			}
			if int64(len(p.rows)) != st.Rows {
				t.Fatalf("parsed %d rows, Stats.Rows = %d", len(p.rows), st.Rows)
			}
			if tc.size <= headerLen {
				if st.Rows != 0 || st.Bytes != headerLen {
					t.Fatalf("size %d: got %d rows, %d bytes; want header only (%d bytes)", tc.size, st.Rows, st.Bytes, headerLen)
				}
				return
			}
			// At or after the target, and the file without its last row is
			// still short of it: within one row.
			if st.Bytes < tc.size {
				t.Fatalf("wrote %d bytes, want at least %d", st.Bytes, tc.size)
			}
			if p.lastOff >= tc.size {
				t.Fatalf("last row starts at %d, at or past the target %d: more than one row over", p.lastOff, tc.size)
			}
		})
	}
}

func TestWriteContent(t *testing.T) {
	data, st := generate(t, 4<<20, WithSeed(7))
	p := parse(t, data, len(Header))
	if int64(len(p.rows)) != st.Rows || st.BadRows != 0 {
		t.Fatalf("rows = %d (stats %d), bad = %d", len(p.rows), st.Rows, st.BadRows)
	}
	var prevTS time.Time
	var missing, multiline, quotedComma, nonASCII, doubledQuote int
	symbols := map[string]int{}
	venuesSeen := map[string]bool{}
	for i, rec := range p.rows {
		ts, err := time.Parse(time.RFC3339Nano, rec[0])
		if err != nil {
			t.Fatalf("row %d: timestamp %q: %v", i, rec[0], err)
		}
		if !ts.After(prevTS) {
			t.Fatalf("row %d: timestamp %s not after %s", i, ts, prevTS)
		}
		prevTS = ts
		symbols[rec[1]]++
		if rec[2] != "BUY" && rec[2] != "SELL" {
			t.Fatalf("row %d: side %q", i, rec[2])
		}
		qty, err := strconv.ParseInt(rec[4], 10, 64)
		if err != nil || qty <= 0 {
			t.Fatalf("row %d: quantity %q", i, rec[4])
		}
		if rec[3] == "" {
			missing++
			if rec[5] != "" {
				t.Fatalf("row %d: notional %q with missing price", i, rec[5])
			}
		} else {
			dot := strings.IndexByte(rec[3], '.')
			if places := len(rec[3]) - dot - 1; dot < 0 || places < 2 || places > 4 {
				t.Fatalf("row %d: price %q does not have 2-4 decimal places", i, rec[3])
			}
			price, err := strconv.ParseFloat(rec[3], 64)
			if err != nil || price <= 0 {
				t.Fatalf("row %d: price %q", i, rec[3])
			}
			notional, err := strconv.ParseFloat(rec[5], 64)
			if err != nil || !strings.Contains(rec[5], ".") || len(rec[5])-strings.IndexByte(rec[5], '.') != 3 {
				t.Fatalf("row %d: notional %q", i, rec[5])
			}
			if want := price * float64(qty); math.Abs(notional-want) > 0.0051 {
				t.Fatalf("row %d: notional %s, want %s*%d = %.4f", i, rec[5], rec[3], qty, want)
			}
		}
		venuesSeen[rec[6]] = true
		note := rec[7]
		if strings.Contains(note, "\n") {
			multiline++
		}
		if strings.Contains(note, ",") {
			quotedComma++
		}
		if strings.Contains(note, `"`) {
			doubledQuote++
		}
		if !utf8.ValidString(note) {
			t.Fatalf("row %d: note %q is not UTF-8", i, note)
		}
		for _, c := range note {
			if c > utf8.RuneSelf {
				nonASCII++
				break
			}
		}
	}
	n := len(p.rows)
	if multiline == 0 || int64(multiline) != st.MultilineRows {
		t.Errorf("rows with an embedded newline = %d, Stats.MultilineRows = %d; want equal and > 0", multiline, st.MultilineRows)
	}
	if quotedComma == 0 || doubledQuote == 0 || nonASCII == 0 {
		t.Errorf("notes with comma %d, quote %d, non-ASCII %d; want each > 0", quotedComma, doubledQuote, nonASCII)
	}
	if int64(missing) != st.MissingPrices {
		t.Errorf("missing prices = %d, Stats.MissingPrices = %d", missing, st.MissingPrices)
	}
	// About 1% missing, about 5% quoted notes: generous bounds on ~40k rows.
	if r := float64(missing) / float64(n); r < 0.005 || r > 0.02 {
		t.Errorf("missing price share = %.4f, want about 0.01", r)
	}
	if len(symbols) < 200 {
		t.Errorf("distinct symbols = %d, want a few hundred", len(symbols))
	}
	if len(venuesSeen) < 5 {
		t.Errorf("distinct venues = %d, want at least 5", len(venuesSeen))
	}
	// Skewed popularity: the most common ticker is far above the mean.
	top := 0
	for _, c := range symbols {
		top = max(top, c)
	}
	if mean := n / len(symbols); top < 10*mean {
		t.Errorf("top symbol count %d vs mean %d: popularity not skewed", top, mean)
	}
}

func TestWriteDeterministic(t *testing.T) {
	sum := func(opts ...Option) [32]byte {
		data, _ := generate(t, 1<<20, opts...)
		return sha256.Sum256(data)
	}
	tests := []struct {
		name      string
		a, b      []Option
		wantEqual bool
	}{
		{"default seed twice", nil, nil, true},
		{"same seed", []Option{WithSeed(42)}, []Option{WithSeed(42)}, true},
		{"different seeds", []Option{WithSeed(42)}, []Option{WithSeed(43)}, false},
		{"bad rows change output", []Option{WithSeed(42)}, []Option{WithSeed(42), WithBadRowRate(0.1)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sum(tc.a...) == sum(tc.b...); got != tc.wantEqual {
				t.Fatalf("outputs equal = %v, want %v", got, tc.wantEqual)
			}
		})
	}
}

func TestWriteBadRows(t *testing.T) {
	data, st := generate(t, 2<<20, WithSeed(3), WithBadRowRate(0.05))
	p := parse(t, data, -1) // ragged rows allowed
	var ragged, badPrice int
	for _, rec := range p.rows {
		if len(rec) != len(Header) {
			ragged++
			continue
		}
		if rec[3] != "" {
			if _, err := strconv.ParseFloat(rec[3], 64); err != nil {
				badPrice++
			}
		}
	}
	if ragged == 0 || badPrice == 0 {
		t.Fatalf("ragged rows %d, non-numeric prices %d; want both > 0", ragged, badPrice)
	}
	if int64(ragged+badPrice) != st.BadRows {
		t.Fatalf("found %d bad rows, Stats.BadRows = %d", ragged+badPrice, st.BadRows)
	}
	if r := float64(st.BadRows) / float64(st.Rows); r < 0.03 || r > 0.07 {
		t.Fatalf("bad row share = %.4f, want about 0.05", r)
	}
}

func TestWriteInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		size int64
		opts []Option
	}{
		{"negative size", -1, nil},
		{"negative bad rate", 100, []Option{WithBadRowRate(-0.1)}},
		{"bad rate above one", 100, []Option{WithBadRowRate(1.5)}},
		{"NaN bad rate", 100, []Option{WithBadRowRate(math.NaN())}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := Write(&buf, tc.size, tc.opts...); !errors.Is(err, ErrInvalidOption) {
				t.Fatalf("err = %v, want ErrInvalidOption", err)
			}
			if buf.Len() != 0 {
				t.Fatalf("wrote %d bytes on an invalid option", buf.Len())
			}
		})
	}
}

type failWriter struct{ after int }

var errDiskFull = errors.New("disk full")

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errDiskFull
	}
	f.after--
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	_, err := Write(&failWriter{after: 2}, 10<<20)
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("err = %v, want wrapped errDiskFull", err)
	}
}

func TestWithStart(t *testing.T) {
	start := time.Date(2025, time.December, 31, 23, 59, 59, 999_000_000, time.UTC)
	data, _ := generate(t, 64<<10, WithStart(start))
	p := parse(t, data, len(Header))
	first, _ := time.Parse(time.RFC3339Nano, p.rows[0][0])
	last, _ := time.Parse(time.RFC3339Nano, p.rows[len(p.rows)-1][0])
	if !first.After(start) || first.Sub(start) > time.Millisecond {
		t.Fatalf("first timestamp %s, want just after %s", first, start)
	}
	if last.Year() != 2026 {
		t.Fatalf("last timestamp %s: want the date prefix to roll over to 2026", last)
	}
}

func BenchmarkWrite(b *testing.B) {
	const size = 64 << 20
	b.SetBytes(size)
	for b.Loop() {
		if _, err := Write(io.Discard, size); err != nil {
			b.Fatal(err)
		}
	}
}
