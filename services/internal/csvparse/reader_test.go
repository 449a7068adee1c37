package csvparse

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/csvmesh/csvmesh/services/internal/tradegen"
)

// got is one Next result in a comparable form.
type got struct {
	Fields []string
	Line   int64
	Offset int64
	Number int64
	Code   string // RecordError code, "" for a good record
	Column int
	Msg    string
}

func readAll(t testing.TB, src io.Reader, opts Options) []got {
	t.Helper()
	r := NewReader(src, opts)
	var out []got
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		var re *RecordError
		switch {
		case errors.As(err, &re):
			if re.Line != rec.Line || re.Record != rec.Number || re.Offset != rec.Offset {
				t.Fatalf("RecordError position %d/%d/%d differs from record %d/%d/%d", re.Line, re.Record, re.Offset, rec.Line, rec.Number, rec.Offset)
			}
			out = append(out, got{Line: re.Line, Offset: re.Offset, Number: re.Record, Code: re.Code, Column: re.Column, Msg: re.Msg})
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			g := got{Fields: []string{}, Line: rec.Line, Offset: rec.Offset, Number: rec.Number}
			for _, f := range rec.Fields {
				g.Fields = append(g.Fields, string(f))
			}
			out = append(out, g)
		}
		if len(out) > 1e6 {
			t.Fatal("too many records")
		}
	}
}

func rec(line, off, num int64, fields ...string) got {
	if fields == nil {
		fields = []string{}
	}
	return got{Fields: fields, Line: line, Offset: off, Number: num}
}

func recErr(line, off, num int64, col int, code, msg string) got {
	return got{Line: line, Offset: off, Number: num, Code: code, Column: col, Msg: msg}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
		want []got
	}{
		{"empty", "", Options{}, nil},
		{"only line breaks", "\n\r\n\r", Options{}, nil},
		{"only BOM", "\xef\xbb\xbf", Options{}, nil},
		{"simple LF", "a,b\n1,2\n", Options{}, []got{rec(1, 0, 1, "a", "b"), rec(2, 4, 2, "1", "2")}},
		{"no final newline", "a,b\n1,2", Options{}, []got{rec(1, 0, 1, "a", "b"), rec(2, 4, 2, "1", "2")}},
		{"CRLF", "a,b\r\n1,2\r\n", Options{}, []got{rec(1, 0, 1, "a", "b"), rec(2, 5, 2, "1", "2")}},
		{"lone CR", "a,b\r1,2\r", Options{}, []got{rec(1, 0, 1, "a", "b"), rec(2, 4, 2, "1", "2")}},
		{"CR at EOF", "a\r", Options{}, []got{rec(1, 0, 1, "a")}},
		{"BOM skipped", "\xef\xbb\xbfa,b\n1,2\n", Options{}, []got{rec(1, 3, 1, "a", "b"), rec(2, 7, 2, "1", "2")}},
		{"blank lines skipped", "a\n\n\r\nb\n\n", Options{}, []got{rec(1, 0, 1, "a"), rec(4, 5, 2, "b")}},
		{"leading blank lines", "\n\na\n", Options{}, []got{rec(3, 2, 1, "a")}},
		{"quoted delimiter and line breaks",
			"\"x,y\",\"l1\nl2\",\"c\r\nd\"\nnext,1\n", Options{},
			[]got{rec(1, 0, 1, "x,y", "l1\nl2", "c\r\nd"), rec(4, 21, 2, "next", "1")}},
		{"lone CR in quotes counts a line", "\"a\rb\",c\nd\n", Options{}, []got{rec(1, 0, 1, "a\rb", "c"), rec(3, 8, 2, "d")}},
		{"doubled quotes", "\"a\"\"b\",\"\"\"\"\n", Options{}, []got{rec(1, 0, 1, "a\"b", "\"")}},
		{"empty quoted", "\"\",x\n", Options{}, []got{rec(1, 0, 1, "", "x")}},
		{"quoted last field no newline", "a,\"b\"", Options{}, []got{rec(1, 0, 1, "a", "b")}},
		{"trailing delimiter", "a,\n,\n", Options{}, []got{rec(1, 0, 1, "a", ""), rec(2, 3, 2, "", "")}},
		{"trailing delimiter at EOF", "a,", Options{}, []got{rec(1, 0, 1, "a", "")}},
		{"whitespace is data", " , \n", Options{}, []got{rec(1, 0, 1, " ", " ")}},
		{"bare quote in unquoted field", "ab\"c,d\"\n", Options{}, []got{rec(1, 0, 1, "ab\"c", "d\"")}},
		{"text after closing quote", "\"ab\"c,d\nx,y\n", Options{},
			[]got{recErr(1, 0, 1, 1, CodeQuote, `unexpected 'c' after the closing quote of field 1`), rec(2, 8, 2, "x", "y")}},
		{"text after closing quote in field 2", "a,\"b\" ,c\nx\n", Options{},
			[]got{recErr(1, 0, 1, 2, CodeQuote, `unexpected ' ' after the closing quote of field 2`), rec(2, 9, 2, "x")}},
		{"unterminated quote", "a,b\n\"open,1\nmore\n", Options{},
			[]got{rec(1, 0, 1, "a", "b"), recErr(2, 4, 2, 1, CodeQuote, "unterminated quoted field starting at line 2")}},
		{"unterminated quote after multi-line field", "x,\"a\nb\",\"c\nd\n", Options{},
			[]got{recErr(1, 0, 1, 3, CodeQuote, "unterminated quoted field starting at line 2")}},
		{"field too long", "abcd,e\nf,g\n", Options{MaxFieldBytes: 3},
			[]got{recErr(1, 0, 1, 1, CodeFieldTooLong, "field 1 is longer than 3 bytes"), rec(2, 7, 2, "f", "g")}},
		{"quoted field too long", "a,\"b\"\"cd\"\nf,g\n", Options{MaxFieldBytes: 3},
			[]got{recErr(1, 0, 1, 2, CodeFieldTooLong, "field 2 is longer than 3 bytes"), rec(2, 10, 2, "f", "g")}},
		{"record too long", "0123456789,abc\nx,y\n", Options{MaxRecordBytes: 8, BufferSize: 4},
			[]got{recErr(1, 0, 1, 0, CodeRecordTooLong, "the record is longer than 8 bytes"), rec(2, 15, 2, "x", "y")}},
		{"record too long with quoted line breaks", "\"0123\n4567\n89\",abc\nx,y\n", Options{MaxRecordBytes: 8, BufferSize: 4},
			[]got{recErr(1, 0, 1, 0, CodeRecordTooLong, "the record is longer than 8 bytes"), rec(4, 19, 2, "x", "y")}},
		{"record too long with large buffer", "0123456789,abc\nx,y\n", Options{MaxRecordBytes: 8},
			[]got{recErr(1, 0, 1, 0, CodeRecordTooLong, "the record is longer than 8 bytes"), rec(2, 15, 2, "x", "y")}},
		{"unterminated quote beyond record limit", "a\n\"" + strings.Repeat("z\n", 50), Options{MaxRecordBytes: 8, BufferSize: 4},
			[]got{rec(1, 0, 1, "a"), recErr(2, 2, 2, 1, CodeQuote, "unterminated quoted field starting at line 2")}},
		{"too many fields", "a,b,c\nd,e\n", Options{MaxFields: 2},
			[]got{recErr(1, 0, 1, 0, CodeFieldCount, "the record has more than 2 fields"), rec(2, 6, 2, "d", "e")}},
		{"semicolon delimiter", "a;\"b;c\";d,e\n", Options{Comma: ';'}, []got{rec(1, 0, 1, "a", "b;c", "d,e")}},
		{"tab delimiter", "a\tb\n", Options{Comma: '\t'}, []got{rec(1, 0, 1, "a", "b")}},
		{"first line, record and offset", "a\nb\n", Options{FirstLine: 10, FirstRecord: 5, FirstOffset: 100},
			[]got{rec(10, 100, 5, "a"), rec(11, 102, 6, "b")}},
		{"utf8 passes through", "é,\"ü\"\n", Options{}, []got{rec(1, 0, 1, "é", "ü")}},
		{"BOM kept in a shard", "\xef\xbb\xbfa\n", Options{FirstOffset: 10}, []got{rec(1, 10, 1, "\xef\xbb\xbfa")}},
		{"unterminated quote past the record limit", "0123456789,\"ab\ncd\n", Options{MaxRecordBytes: 8},
			[]got{recErr(1, 0, 1, 0, CodeRecordTooLong, "the record is longer than 8 bytes")}},
		{"field error before the record limit", "abcd,\"x\"y,0123456789\nz\n", Options{MaxRecordBytes: 8, MaxFieldBytes: 3},
			[]got{recErr(1, 0, 1, 1, CodeFieldTooLong, "field 1 is longer than 3 bytes"), rec(2, 21, 2, "z")}},
		{"field error past the record limit", "abc,\"x\"y,0123456789\nz\n", Options{MaxRecordBytes: 5},
			[]got{recErr(1, 0, 1, 0, CodeRecordTooLong, "the record is longer than 5 bytes"), rec(2, 20, 2, "z")}},

		{"bytes the window may flag", strings.Repeat("a,-1,--,\t\x0b\x01,", 8) + "x\n", Options{},
			[]got{rec(1, 0, 1, strings.Split(strings.Repeat("a,-1,--,\t\x0b\x01,", 8)+"x", ",")...)}},

		// Dialects.
		{"quote character", "'a,b','c''d',\"e\"\n", Options{Quote: '\''}, []got{rec(1, 0, 1, "a,b", "c'd", "\"e\"")}},
		{"no double quote ends the field", "\"a\"\"b\",c\nd\n", Options{NoDoubleQuote: true},
			[]got{recErr(1, 0, 1, 1, CodeQuote, `unexpected '"' after the closing quote of field 1`), rec(2, 9, 2, "d")}},
		{"no double quote empty field", "\"\",x\n", Options{NoDoubleQuote: true}, []got{rec(1, 0, 1, "", "x")}},
		{"escape in quotes", "\"a\\\"b\\\\c\\,\",\"d\"\"e\"\n", Options{Escape: '\\'}, []got{rec(1, 0, 1, "a\"b\\c,", "d\"e")}},
		{"escape without double quote", "\"a\\\"b\"\n", Options{Escape: '\\', NoDoubleQuote: true}, []got{rec(1, 0, 1, "a\"b")}},
		{"escape in unquoted fields", "a\\,b,c\\\nd\ne\\\"\n", Options{Escape: '\\'},
			[]got{rec(1, 0, 1, "a,b", "c\nd"), rec(3, 10, 2, "e\"")}},
		{"escaped CR before LF", "a\\\r\nb\n", Options{Escape: '\\'}, []got{rec(1, 0, 1, "a\r"), rec(2, 4, 2, "b")}},
		{"escape at EOF kept", "a\\", Options{Escape: '\\'}, []got{rec(1, 0, 1, "a\\")}},
		{"escape at EOF in quotes", "\"a\\", Options{Escape: '\\'},
			[]got{recErr(1, 0, 1, 1, CodeQuote, "unterminated quoted field starting at line 1")}},
		{"skip initial space", "  a,  b, \"c,d\",  \n", Options{SkipInitialSpace: true}, []got{rec(1, 0, 1, "a", "b", "c,d", "")}},
		{"spaces kept without the option", " \"a\"\n", Options{}, []got{rec(1, 0, 1, " \"a\"")}},
		{"comment lines", "#c1\na,b\n# c2 \"x\r\n\nc\n", Options{Comment: "#"}, []got{rec(2, 4, 1, "a", "b"), rec(5, 18, 2, "c")}},
		{"comment only at a record start", "\"a\n#b\",c\n #d\n", Options{Comment: "#"}, []got{rec(1, 0, 1, "a\n#b", "c"), rec(3, 9, 2, " #d")}},
		{"comment prefix", "//x\n/a\n//", Options{Comment: "//"}, []got{rec(2, 4, 1, "/a")}},
		{"comment with lone CR", "#x\ra\r#y\r\r\nb", Options{Comment: "#"}, []got{rec(2, 3, 1, "a"), rec(5, 10, 2, "b")}},
		{"blank rows", "a\n\n\r\nb\n\r", Options{BlankRows: true},
			[]got{rec(1, 0, 1, "a"), rec(2, 2, 2, ""), rec(3, 3, 3, ""), rec(4, 5, 4, "b"), rec(5, 7, 5, "")}},
		{"blank rows with comments", "#x\n\na\n", Options{BlankRows: true, Comment: "#"}, []got{rec(2, 3, 1, ""), rec(3, 4, 2, "a")}},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
		buf  int
	}{
		{"whole", func(r io.Reader) io.Reader { return r }, 0},
		{"one byte reads", iotest.OneByteReader, 0},
		{"tiny buffer", iotest.HalfReader, 4},
	}
	for _, tc := range tests {
		for _, rd := range readers {
			t.Run(tc.name+"/"+rd.name, func(t *testing.T) {
				opts := tc.opts
				if rd.buf > 0 && opts.BufferSize == 0 {
					opts.BufferSize = rd.buf
				}
				gotRecs := readAll(t, rd.wrap(strings.NewReader(tc.in)), opts)
				if !reflect.DeepEqual(gotRecs, tc.want) {
					t.Errorf("input %q\n got %+v\nwant %+v", tc.in, gotRecs, tc.want)
				}
			})
		}
		t.Run(tc.name+"/bytes", func(t *testing.T) {
			if gotRecs := short(collect(t, NewBytesReader([]byte(tc.in), tc.opts))); !reflect.DeepEqual(gotRecs, tc.want) {
				t.Errorf("input %q\n got %+v\nwant %+v", tc.in, gotRecs, tc.want)
			}
		})
		for _, bs := range []int{1, 5, 64} {
			t.Run(fmt.Sprintf("%s/split%d", tc.name, bs), func(t *testing.T) {
				if gotRecs := short(collectBlocks(t, strings.NewReader(tc.in), tc.opts, bs, nil)); !reflect.DeepEqual(gotRecs, tc.want) {
					t.Errorf("input %q\n got %+v\nwant %+v", tc.in, gotRecs, tc.want)
				}
			})
		}
	}
}

// short drops what got does not compare.
func short(recs []full) []got {
	var out []got
	for _, r := range recs {
		out = append(out, got{Fields: r.Fields, Line: r.Line, Offset: r.Offset, Number: r.Number, Code: r.Code, Column: r.Column, Msg: r.Msg})
	}
	return out
}

func TestReaderInvalidDialect(t *testing.T) {
	tests := []struct {
		opts Options
		want error
	}{
		{Options{Comma: '\''}, nil},
		{Options{Comma: '\'', Quote: '\''}, ErrInvalidDelimiter},
		{Options{Quote: '\n'}, ErrInvalidDialect},
		{Options{Escape: ','}, ErrInvalidDialect},
		{Options{Escape: '"'}, ErrInvalidDialect},
		{Options{Escape: '\r'}, ErrInvalidDialect},
		{Options{Comment: "#\n"}, ErrInvalidDialect},
		{Options{Comment: "#####", MaxRecordBytes: 4}, ErrInvalidDialect},
		{Options{SkipInitialSpace: true, Comma: ' '}, ErrInvalidDialect},
		{Options{SkipInitialSpace: true, Escape: ' '}, ErrInvalidDialect},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%+v", tc.opts), func(t *testing.T) {
			_, err := NewReader(strings.NewReader("a"), tc.opts).Next()
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Reader: err = %v, want %v", err, tc.want)
			}
			_, err = NewBytesReader([]byte("a"), tc.opts).Next()
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("bytes Reader: err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestReaderRaw(t *testing.T) {
	r := NewReader(strings.NewReader("a,\"b\"\"c\"\r\n\"bad\"x,y\n0123456789\n"), Options{MaxRecordBytes: 8, BufferSize: 4})
	rec, err := r.Next()
	if err != nil || string(rec.Raw) != `a,"b""c"` {
		t.Fatalf("record 1: raw %q, err %v", rec.Raw, err)
	}
	rec, err = r.Next()
	if !errors.As(err, new(*RecordError)) || string(rec.Raw) != `"bad"x,y` {
		t.Fatalf("record 2: raw %q, err %v", rec.Raw, err)
	}
	rec, err = r.Next()
	var re *RecordError
	if !errors.As(err, &re) || re.Code != CodeRecordTooLong || !strings.HasPrefix("0123456789", string(rec.Raw)) || len(rec.Raw) == 0 {
		t.Fatalf("record 3: raw %q, err %v", rec.Raw, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
	if got := r.InputOffset(); got != 30 {
		t.Errorf("InputOffset = %d, want 30", got)
	}
}

func TestReaderInvalidDelimiter(t *testing.T) {
	for _, c := range []byte{'"', '\r', '\n'} {
		if _, err := NewReader(strings.NewReader("a"), Options{Comma: c}).Next(); !errors.Is(err, ErrInvalidDelimiter) {
			t.Errorf("comma %q: err = %v, want ErrInvalidDelimiter", c, err)
		}
	}
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader("a,b\nc,"), iotest.ErrReader(boom)), Options{})
	if _, err := r.Next(); err != nil {
		t.Fatalf("first record: %v", err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("second record: err = %v, want boom", err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("error is not sticky: %v", err)
	}
}

// stdRecords reads in with encoding/csv; ok is false if it rejects the input.
func stdRecords(in []byte) (recs [][]string, lines []int64, ok bool) {
	r := csv.NewReader(bytes.NewReader(in))
	r.FieldsPerRecord = -1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return recs, lines, true
		}
		if err != nil {
			return nil, nil, false
		}
		line, _ := r.FieldPos(0)
		recs = append(recs, rec)
		lines = append(lines, int64(line))
	}
}

// checkAgainstStd compares Reader with encoding/csv on in, when the
// comparison is meaningful, and checks that chunked reads agree.
func checkAgainstStd(t *testing.T, in []byte) {
	t.Helper()
	opts := Options{MaxRecordBytes: 1 << 20, MaxFieldBytes: 1 << 20, MaxFields: 1 << 16}
	whole := readAll(t, bytes.NewReader(in), opts)
	small := opts
	small.BufferSize = 3
	if chunked := readAll(t, iotest.OneByteReader(bytes.NewReader(in)), small); !reflect.DeepEqual(whole, chunked) {
		t.Fatalf("input %q: one-byte reads differ\n whole %+v\n chunk %+v", in, whole, chunked)
	}
	// encoding/csv differs by design on '\r' (it drops CR before LF even in
	// quotes and keeps lone CRs) and on a BOM (it keeps it).
	if bytes.IndexByte(in, '\r') >= 0 || bytes.HasPrefix(in, []byte("\xef\xbb\xbf")) {
		return
	}
	want, lines, ok := stdRecords(in)
	if !ok {
		return
	}
	if len(whole) != len(want) {
		t.Fatalf("input %q: %d records, encoding/csv %d\n got %+v\nwant %q", in, len(whole), len(want), whole, want)
	}
	for i, g := range whole {
		if g.Code != "" {
			t.Fatalf("input %q: record %d rejected (%s) but encoding/csv accepts it", in, i+1, g.Msg)
		}
		if !reflect.DeepEqual(g.Fields, want[i]) || g.Line != lines[i] {
			t.Fatalf("input %q: record %d = %q at line %d, encoding/csv %q at line %d", in, i+1, g.Fields, g.Line, want[i], lines[i])
		}
	}
}

func TestReaderMatchesEncodingCSV(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", ",", "\"", "\"\"", "\n", " ", "é", "\n\n", ",\"x\"", "\"q\",", "\xff", "-", ",-", "\t", "\x0b", strings.Repeat("x", 30)}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for i := 0; i < n; i++ {
		var sb strings.Builder
		for j := rng.IntN(40); j > 0; j-- {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		checkAgainstStd(t, []byte(sb.String()))
	}
	var trades bytes.Buffer
	if _, err := tradegen.Write(&trades, 64<<10, tradegen.WithSeed(7), tradegen.WithBadRowRate(0.05)); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := stdRecords(trades.Bytes()); !ok {
		t.Fatal("encoding/csv rejects the generated trades")
	}
	checkAgainstStd(t, trades.Bytes())
}

func FuzzReader(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "\"a\"\"b\",c\r\n", "\"open\n", "\"x\"y,z\n", "\xef\xbb\xbfa\n\n\rb", "a\"b,\"c\nd\"\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkAgainstStd(t, in)
	})
}

func TestWriter(t *testing.T) {
	tests := []struct {
		name   string
		fields []string
		want   string
	}{
		{"plain", []string{"a", "b"}, "a,b\n"},
		{"needs quotes", []string{"a,b", "c\"d", "e\nf", "g\rh"}, "\"a,b\",\"c\"\"d\",\"e\nf\",\"g\rh\"\n"},
		{"empty fields", []string{"", "", ""}, ",,\n"},
		{"lone empty field", []string{""}, "\"\"\n"},
		{"spaces kept bare", []string{" x "}, " x \n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := NewWriterSize(&out, 4)
			fields := make([][]byte, len(tc.fields))
			for i, f := range tc.fields {
				fields[i] = []byte(f)
			}
			if err := w.WriteRecord(fields); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteStrings(tc.fields); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want+tc.want {
				t.Errorf("got %q, want %q twice", out.String(), tc.want)
			}
			if w.Written() != int64(out.Len()) {
				t.Errorf("Written = %d, want %d", w.Written(), out.Len())
			}
			// Round trip through the Reader.
			back := readAll(t, &out, Options{})
			if len(back) != 2 || !reflect.DeepEqual(back[0].Fields, tc.fields) {
				t.Errorf("round trip: got %+v, want %q", back, tc.fields)
			}
		})
	}
}

// shortWriter accepts one byte of every write without an error.
type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return min(len(p), 1), nil }

func TestWriterError(t *testing.T) {
	w := NewWriterSize(shortWriter{}, 1)
	if err := w.WriteStrings([]string{"abc"}); !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("err = %v, want ErrShortWrite", err)
	}
	if err := w.WriteStrings([]string{"x"}); !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("error is not sticky: %v", err)
	}
}

func benchInput(b testing.TB) []byte {
	var buf bytes.Buffer
	if _, err := tradegen.Write(&buf, 8<<20, tradegen.WithSeed(1)); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkReader reads the same generated trades file (8 MiB, all records)
// with encoding/csv (default Reader, and with ReuseRecord), csvparse's
// streaming Reader, a bytes Reader over the whole input, and bytes Readers
// over the blocks of a Splitter (splitting included). Compare MB/s for the
// speed-ups:
//
//	go test -run '^$' -bench Reader ./services/internal/csvparse/
func BenchmarkReader(b *testing.B) {
	in := benchInput(b)
	run := func(b *testing.B, read func() int) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if read() == 0 {
				b.Fatal("no fields")
			}
		}
	}
	drain := func(b *testing.B, r *Reader) int {
		n := 0
		for {
			rec, err := r.Next()
			if err == io.EOF {
				return n
			}
			if err != nil {
				b.Fatal(err)
			}
			n += len(rec.Fields)
		}
	}
	std := func(b *testing.B, reuse bool) int {
		r := csv.NewReader(bytes.NewReader(in))
		r.ReuseRecord = reuse
		n := 0
		for {
			rec, err := r.Read()
			if err == io.EOF {
				return n
			}
			if err != nil {
				b.Fatal(err)
			}
			n += len(rec)
		}
	}
	b.Run("encoding_csv", func(b *testing.B) {
		run(b, func() int { return std(b, false) })
	})
	b.Run("encoding_csv_reuse", func(b *testing.B) {
		run(b, func() int { return std(b, true) })
	})
	b.Run("csvparse", func(b *testing.B) {
		run(b, func() int { return drain(b, NewReader(bytes.NewReader(in), Options{})) })
	})
	b.Run("bytes", func(b *testing.B) {
		run(b, func() int { return drain(b, NewBytesReader(in, Options{})) })
	})
	b.Run("split", func(b *testing.B) {
		run(b, func() int {
			s := NewSplitter(bytes.NewReader(in), Options{}, 0)
			n := 0
			for {
				blk, err := s.Next()
				if err == io.EOF {
					return n
				}
				if err != nil {
					b.Fatal(err)
				}
				n += drain(b, NewBytesReader(blk.Data, Options{FirstLine: blk.Line, FirstOffset: blk.Offset}))
				blk.Release()
			}
		})
	})
	b.Run("split_only", func(b *testing.B) {
		run(b, func() int {
			s := NewSplitter(bytes.NewReader(in), Options{}, 0)
			n := 0
			for {
				blk, err := s.Next()
				if err == io.EOF {
					return n
				}
				if err != nil {
					b.Fatal(err)
				}
				n += len(blk.Data)
				blk.Release()
			}
		})
	})
}

// BenchmarkWriter writes the trades records with csvparse.Writer and
// encoding/csv.Writer.
func BenchmarkWriter(b *testing.B) {
	in := benchInput(b)
	var recs [][][]byte
	var srecs [][]string
	r := NewReader(bytes.NewReader(in), Options{})
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		var fs [][]byte
		var ss []string
		for _, f := range rec.Fields {
			fs = append(fs, bytes.Clone(f))
			ss = append(ss, string(f))
		}
		recs = append(recs, fs)
		srecs = append(srecs, ss)
	}
	b.Run("csvparse", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			w := NewWriter(io.Discard)
			for _, rec := range recs {
				w.WriteRecord(rec)
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_csv", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			w := csv.NewWriter(io.Discard)
			for _, rec := range srecs {
				w.Write(rec)
			}
			w.Flush()
			if err := w.Error(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
