package parquetout

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/csvmesh/csvmesh/services/internal/csvparse"
	"github.com/csvmesh/csvmesh/services/internal/tradegen"
)

// readBackCSVBytes is the size of the trades file BenchmarkReadBack reads.
const readBackCSVBytes = 16 << 20

// readBackData holds BenchmarkReadBack's input, built once per test binary:
// a tradegen trades file and its conversion by Convert with default Options.
var readBackData struct {
	once sync.Once
	csv  []byte
	pq   []byte
	rows int64
	err  error
}

// readBackInput returns the trades CSV, its Parquet conversion and the
// number of data rows.
func readBackInput() (csvData, pq []byte, rows int64, err error) {
	d := &readBackData
	d.once.Do(func() {
		d.csv, d.pq, d.rows, d.err = convertTrades(readBackCSVBytes, Options{})
	})
	return d.csv, d.pq, d.rows, d.err
}

// convertTrades writes a tradegen trades file of about size bytes and
// converts it with opts, returning the CSV, the Parquet and the rows.
func convertTrades(size int64, opts Options) (csvData, pq []byte, rows int64, err error) {
	var in bytes.Buffer
	st, err := tradegen.Write(&in, size)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("tradegen: %w", err)
	}
	var out bytes.Buffer
	n, err := Convert(context.Background(), bytes.NewReader(in.Bytes()), &out, tradesSchema(), opts)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("convert: %w", err)
	}
	if n != st.Rows {
		return nil, nil, 0, fmt.Errorf("convert wrote %d rows, tradegen %d", n, st.Rows)
	}
	return in.Bytes(), out.Bytes(), st.Rows, nil
}

// colTally is what a reader found in one column: enough to tell that it
// touched every value and read the same values as the other readers.
type colTally struct {
	// values counts the non-null values and nulls the null ones.
	values, nulls int64
	// ints sums an integer column, or a datetime column's microseconds
	// since the epoch.
	ints int64
	// floats sums a number column.
	floats float64
	// bytes sums the lengths of a string column's values.
	bytes int64
	// dictPages and plainPages count a string column's pages read by
	// dictionary index and as plain byte arrays (Parquet readers only; not
	// compared by check).
	dictPages, plainPages int64
}

// add adds o's figures to t.
func (t *colTally) add(o colTally) {
	t.values += o.values
	t.nulls += o.nulls
	t.ints += o.ints
	t.floats += o.floats
	t.bytes += o.bytes
	t.dictPages += o.dictPages
	t.plainPages += o.plainPages
}

// tally is a whole file's colTally, one per trades column.
type tally [8]colTally

// Trades column indexes (tradegen.Header).
const (
	colTimestamp = iota
	colSymbol
	colSide
	colPrice
	colQuantity
	colNotional
	colVenue
	colNote
)

// check reports how got differs from want, the csv-typed reader's tally.
// Float sums may differ in their last bits when summed in another order
// (per chunk, then merged), so they are compared to a relative 1e-9.
func (got *tally) check(want *tally) error {
	var errs []error
	for i := range got {
		g, w := got[i], want[i]
		if g.values != w.values || g.nulls != w.nulls || g.ints != w.ints || g.bytes != w.bytes ||
			math.Abs(g.floats-w.floats) > 1e-9*math.Abs(w.floats) {
			errs = append(errs, fmt.Errorf("column %s: got %+v, want %+v", tradegen.Header[i], g, w))
		}
	}
	return errors.Join(errs...)
}

// readCSVEncoding reads every record with encoding/csv, the baseline that
// splits fields and parses nothing. It returns the number of data rows.
func readCSVEncoding(data []byte) (int64, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.ReuseRecord = true
	r.FieldsPerRecord = len(tradegen.Header)
	var rows int64
	for {
		_, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("encoding/csv: %w", err)
		}
		rows++
	}
	return rows - 1, nil // the header
}

// readCSVTyped reads every record with csvparse and parses the typed
// columns as a CSV reader must at least: numbers with strconv.ParseFloat,
// the quantity with strconv.ParseInt, the timestamp with time.Parse. An
// empty field is a null.
func readCSVTyped(data []byte) (*tally, error) {
	r := csvparse.NewReader(bytes.NewReader(data), csvparse.Options{MaxFields: len(tradegen.Header)})
	if _, err := r.Next(); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	var t tally
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return &t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("csvparse: %w", err)
		}
		if len(rec.Fields) != len(t) {
			return nil, fmt.Errorf("row %d has %d fields", rec.Number, len(rec.Fields))
		}
		for i, f := range rec.Fields {
			c := &t[i]
			if len(f) == 0 {
				c.nulls++
				continue
			}
			c.values++
			switch i {
			case colTimestamp:
				ts, err := time.Parse(time.RFC3339Nano, string(f))
				if err != nil {
					return nil, fmt.Errorf("row %d: %w", rec.Number, err)
				}
				c.ints += ts.UnixMicro()
			case colPrice, colNotional:
				x, err := strconv.ParseFloat(string(f), 64)
				if err != nil {
					return nil, fmt.Errorf("row %d: %w", rec.Number, err)
				}
				c.floats += x
			case colQuantity:
				x, err := strconv.ParseInt(string(f), 10, 64)
				if err != nil {
					return nil, fmt.Errorf("row %d: %w", rec.Number, err)
				}
				c.ints += x
			default:
				c.bytes += int64(len(f))
			}
		}
	}
}

// chunkReader reads Parquet column chunks page by page through the typed
// API: Page.Data() exposes a page's decoded non-null values as a typed
// slice (no parquet.Value per value), Page.DefinitionLevels() its nulls.
// A goroutine uses one chunkReader.
type chunkReader struct {
	// dict is the dictionary whose value lengths are in lens.
	dict parquet.Dictionary
	// lens holds the length of each of dict's values, by index.
	lens []int64
}

// read adds the values of column chunk cc to t.
func (cr *chunkReader) read(cc parquet.ColumnChunk, t *colTally) error {
	pages := cc.Pages()
	defer pages.Close()
	kind := cc.Type().Kind()
	// A dictionary belongs to its column chunk: never reuse lens across
	// chunks, even if a dictionary's memory were recycled.
	cr.dict = nil
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("column %d: read page: %w", cc.Column(), err)
		}
		err = cr.page(p, kind, t)
		parquet.Release(p)
		if err != nil {
			return fmt.Errorf("column %d: %w", cc.Column(), err)
		}
	}
}

// page adds the values of p, a page of a column of physical type kind, to t.
func (cr *chunkReader) page(p parquet.Page, kind parquet.Kind, t *colTally) error {
	// Every column is optional: a definition level of 0 is a null, 1 a
	// value, and the page's data holds the values only.
	var nulls int64
	for _, l := range p.DefinitionLevels() {
		if l == 0 {
			nulls++
		}
	}
	values := p.NumValues() - nulls
	t.nulls += nulls
	t.values += values
	data := p.Data()
	var n int
	switch {
	case p.Dictionary() != nil:
		// An RLE_DICTIONARY page: its data are indexes into the column
		// chunk's dictionary, whose values are looked up by index without
		// being copied out.
		if d := p.Dictionary(); d != cr.dict {
			cr.setDictionary(d)
		}
		t.dictPages++
		idx := data.Int32()
		n = len(idx)
		for _, i := range idx {
			if i < 0 || int(i) >= len(cr.lens) {
				return fmt.Errorf("dictionary index %d out of [0, %d)", i, len(cr.lens))
			}
			t.bytes += cr.lens[i]
		}
	case kind == parquet.ByteArray:
		t.plainPages++
		_, offsets := data.ByteArray()
		n = max(len(offsets)-1, 0)
		for i := range n {
			t.bytes += int64(offsets[i+1] - offsets[i])
		}
	case kind == parquet.Double:
		xs := data.Double()
		n = len(xs)
		for _, x := range xs {
			t.floats += x
		}
	case kind == parquet.Int64:
		xs := data.Int64()
		n = len(xs)
		for _, x := range xs {
			t.ints += x
		}
	default:
		return fmt.Errorf("unexpected physical type %v", kind)
	}
	if int64(n) != values {
		return fmt.Errorf("page holds %d values, its definition levels say %d", n, values)
	}
	return nil
}

// setDictionary makes d, a BYTE_ARRAY dictionary, the one cr.lens
// describes.
func (cr *chunkReader) setDictionary(d parquet.Dictionary) {
	data := d.Page().Data()
	_, offsets := data.ByteArray()
	cr.dict = d
	cr.lens = cr.lens[:0]
	for i := 0; i+1 < len(offsets); i++ {
		cr.lens = append(cr.lens, int64(offsets[i+1]-offsets[i]))
	}
}

// readParquetTyped reads every value of the Parquet file pq, its column
// chunks shared out among workers goroutines (each taking the next
// unread chunk, row group by row group).
func readParquetTyped(pq []byte, workers int) (*tally, error) {
	f, err := parquet.OpenFile(bytes.NewReader(pq), int64(len(pq)))
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	var chunks []parquet.ColumnChunk
	for _, rg := range f.RowGroups() {
		chunks = append(chunks, rg.ColumnChunks()...)
	}
	ncols := len(f.Schema().Columns())
	if ncols != len(tradegen.Header) {
		return nil, fmt.Errorf("file has %d columns, want %d", ncols, len(tradegen.Header))
	}
	// per holds each chunk's tally, merged in file order at the end.
	per := make([]colTally, len(chunks))
	var next atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var cr chunkReader
			for {
				i := int(next.Add(1) - 1)
				if i >= len(chunks) {
					return
				}
				if err := cr.read(chunks[i], &per[i]); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var t tally
	for i, c := range per {
		t[i%ncols].add(c)
	}
	return &t, nil
}

// TestReadBackReaders checks that the readers BenchmarkReadBack times
// agree: on files of one and of several row groups, with string columns
// dictionary-encoded and falling back to plain encoding, every Parquet
// reader finds the values csv-typed finds, and encoding/csv the rows.
func TestReadBackReaders(t *testing.T) {
	tests := []struct {
		name string
		size int64
		opts Options
		// plain says whether the symbol column has plain pages (its
		// dictionary dropped) besides dictionary ones.
		plain bool
	}{
		{"one row group", 1 << 20, Options{}, false},
		{"many row groups", 1 << 20, Options{RowGroupRows: 3000, PageBufferBytes: 8 << 10}, false},
		{"plain fallback", 1 << 20, Options{RowGroupRows: 5000, PageBufferBytes: 4 << 10, DictionaryBytes: 512}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csvData, pq, rows, err := convertTrades(tt.size, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			want, err := readCSVTyped(csvData)
			if err != nil {
				t.Fatal(err)
			}
			if got := want[colQuantity].values + want[colQuantity].nulls; got != rows {
				t.Fatalf("csv-typed read %d rows, tradegen wrote %d", got, rows)
			}
			if want[colPrice].nulls == 0 || want[colNote].nulls == 0 || want[colSymbol].bytes == 0 {
				t.Fatalf("trades without missing prices, empty notes or symbols: %+v", want)
			}
			n, err := readCSVEncoding(csvData)
			if err != nil || n != rows {
				t.Errorf("encoding/csv read %d rows, %v; want %d", n, err, rows)
			}
			for _, workers := range []int{1, 2, 3} {
				got, err := readParquetTyped(pq, workers)
				if err != nil {
					t.Fatalf("workers=%d: %v", workers, err)
				}
				if err := got.check(want); err != nil {
					t.Errorf("workers=%d: %v", workers, err)
				}
				if sym := got[colSymbol]; sym.dictPages == 0 || (sym.plainPages > 0) != tt.plain {
					t.Errorf("workers=%d: symbol pages: %d by dictionary, %d plain; want plain ones: %v",
						workers, sym.dictPages, sym.plainPages, tt.plain)
				}
			}
		})
	}
}

// TestTallyCheck checks that tally.check tells a difference in any figure.
func TestTallyCheck(t *testing.T) {
	base := tally{}
	for i := range base {
		base[i] = colTally{values: 100, nulls: 3, ints: 5000, floats: 1234.5, bytes: 400}
	}
	tests := []struct {
		name   string
		change func(c *colTally)
		differ bool
	}{
		{"same", func(c *colTally) {}, false},
		{"float rounding", func(c *colTally) { c.floats = math.Nextafter(c.floats, math.Inf(1)) }, false},
		{"values", func(c *colTally) { c.values++ }, true},
		{"nulls", func(c *colTally) { c.nulls-- }, true},
		{"ints", func(c *colTally) { c.ints++ }, true},
		{"floats", func(c *colTally) { c.floats += 0.01 }, true},
		{"bytes", func(c *colTally) { c.bytes++ }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := base
			tt.change(&got[colNote])
			if err := got.check(&base); (err != nil) != tt.differ {
				t.Errorf("check = %v, want an error: %v", err, tt.differ)
			}
		})
	}
}

// BenchmarkReadBack compares reading a 16 MiB trades file as CSV with
// reading the Parquet that Convert writes of it (default Options): MB/s
// are per CSV byte in every case. The sub-benchmarks are
//
//   - csv-encoding: encoding/csv splitting the records, parsing nothing
//     (the baseline);
//   - csv-typed: csvparse splitting them and strconv/time parsing the
//     numbers, the quantity and the timestamp;
//   - parquet-typed: every value of every column chunk through
//     Page.Data() and the definition levels, on one goroutine;
//   - parquet-typed-2goroutines: the same, the column chunks shared out
//     among 2 goroutines.
//
// Before timing, each reader's result is checked against csv-typed's: the
// same rows, nulls, sums of numbers and lengths of strings. The pq/csv
// metric is the Parquet file's size over the CSV's.
func BenchmarkReadBack(b *testing.B) {
	csvData, pq, rows, err := readBackInput()
	if err != nil {
		b.Fatal(err)
	}
	want, err := readCSVTyped(csvData)
	if err != nil {
		b.Fatal(err)
	}
	if got := want[colQuantity].values + want[colQuantity].nulls; got != rows {
		b.Fatalf("csv-typed read %d rows, tradegen wrote %d", got, rows)
	}
	ratio := float64(len(pq)) / float64(len(csvData))
	b.Run("csv-encoding", func(b *testing.B) {
		n, err := readCSVEncoding(csvData)
		if err != nil {
			b.Fatal(err)
		}
		if n != rows {
			b.Fatalf("read %d rows, want %d", n, rows)
		}
		b.SetBytes(int64(len(csvData)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := readCSVEncoding(csvData); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(ratio, "pq/csv")
	})
	b.Run("csv-typed", func(b *testing.B) {
		b.SetBytes(int64(len(csvData)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := readCSVTyped(csvData); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(ratio, "pq/csv")
	})
	for _, workers := range []int{1, 2} {
		name := "parquet-typed"
		if workers > 1 {
			name = fmt.Sprintf("parquet-typed-%dgoroutines", workers)
		}
		b.Run(name, func(b *testing.B) {
			got, err := readParquetTyped(pq, workers)
			if err != nil {
				b.Fatal(err)
			}
			if err := got.check(want); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(csvData)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := readParquetTyped(pq, workers); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(ratio, "pq/csv")
		})
	}
}
