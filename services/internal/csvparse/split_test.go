package csvparse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// full is one Next result with everything a Reader reports, Raw included.
type full struct {
	Fields []string
	Raw    string
	Line   int64
	Offset int64
	Number int64
	Code   string
	Column int
	Msg    string
}

// collect reads r to the end.
func collect(t testing.TB, r *Reader) []full {
	t.Helper()
	var out []full
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		var re *RecordError
		switch {
		case errors.As(err, &re):
			if re.Line != rec.Line || re.Record != rec.Number || re.Offset != rec.Offset || rec.Fields != nil {
				t.Fatalf("RecordError %+v does not match its record %+v", re, rec)
			}
			out = append(out, full{Raw: string(rec.Raw), Line: re.Line, Offset: re.Offset, Number: re.Record, Code: re.Code, Column: re.Column, Msg: re.Msg})
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			g := full{Fields: []string{}, Raw: string(rec.Raw), Line: rec.Line, Offset: rec.Offset, Number: rec.Number}
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

// splitSize is the largest Data a block may have.
func splitSize(opts Options, blockSize int) int {
	maxRecord := opts.MaxRecordBytes
	if maxRecord <= 0 {
		maxRecord = DefaultMaxRecordBytes
	}
	if blockSize <= 0 {
		blockSize = DefaultBlockSize
	}
	return blockSize + maxRecord + splitSlack
}

// collectBlocks splits in into blocks and reads each with NewBytesReader,
// numbering records on from block to block. It checks the blocks' Seq, size
// bound and, when whole is true (no record is over-long), that they tile the
// input.
func collectBlocks(t testing.TB, src io.Reader, opts Options, blockSize int, whole []byte) []full {
	t.Helper()
	s := NewSplitter(src, opts, blockSize)
	var out []full
	var tiles []byte
	next := max(opts.FirstRecord, 1)
	for seq := int64(0); ; seq++ {
		b, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Splitter.Next: %v", err)
		}
		if b.Seq != seq {
			t.Fatalf("block Seq %d, want %d", b.Seq, seq)
		}
		if len(b.Data) > splitSize(opts, blockSize) {
			t.Fatalf("block of %d bytes, more than %d", len(b.Data), splitSize(opts, blockSize))
		}
		if whole != nil && b.Offset != opts.FirstOffset+int64(len(tiles)) {
			t.Fatalf("block %d at offset %d, want %d", seq, b.Offset, len(tiles))
		}
		tiles = append(tiles, b.Data...)
		o := opts
		o.FirstLine, o.FirstOffset, o.FirstRecord = b.Line, b.Offset, next
		recs := collect(t, NewBytesReader(b.Data, o))
		next += int64(len(recs))
		out = append(out, recs...)
		b.Release()
		b.Release() // a second Release is harmless
	}
	if whole != nil && !bytes.Equal(tiles, whole) {
		t.Fatalf("blocks do not tile the input:\n got %q\nwant %q", tiles, whole)
	}
	return out
}

// checkEquivalent checks that every way of reading in gives what one Reader
// over the whole input gives.
func checkEquivalent(t testing.TB, in []byte, opts Options, blockSizes []int) {
	t.Helper()
	want := collect(t, NewReader(bytes.NewReader(in), opts))
	fail := func(how string, got []full) {
		t.Helper()
		t.Fatalf("input %q, options %+v: %s differs\n got %+v\nwant %+v", in, opts, how, got, want)
	}
	if got := collect(t, NewBytesReader(in, opts)); !reflect.DeepEqual(got, want) {
		fail("NewBytesReader", got)
	}
	small := opts
	small.BufferSize = 3
	if got := collect(t, NewReader(iotest.OneByteReader(bytes.NewReader(in)), small)); !reflect.DeepEqual(got, want) {
		fail("one-byte reads into a small buffer", got)
	}
	small.BufferSize = 7
	if got := collect(t, NewReader(iotest.HalfReader(bytes.NewReader(in)), small)); !reflect.DeepEqual(got, want) {
		fail("half reads", got)
	}
	// The blocks tile the input unless a record may have been cut short.
	var whole []byte
	if opts.MaxRecordBytes <= 0 || opts.MaxRecordBytes >= len(in) {
		whole = in
	}
	for _, bs := range blockSizes {
		if got := collectBlocks(t, bytes.NewReader(in), opts, bs, whole); !reflect.DeepEqual(got, want) {
			fail(fmt.Sprintf("Splitter(%d)+NewBytesReader", bs), got)
		}
		if got := collectBlocks(t, iotest.OneByteReader(bytes.NewReader(in)), opts, bs, whole); !reflect.DeepEqual(got, want) {
			fail(fmt.Sprintf("Splitter(%d) on one-byte reads", bs), got)
		}
	}
}

// dialects are the dialects the equivalence tests cover, with the tokens
// that matter to each.
var dialects = []struct {
	name string
	opts Options
}{
	{"default", Options{}},
	{"semicolon single quote", Options{Comma: ';', Quote: '\''}},
	{"escape", Options{Escape: '\\'}},
	{"escape no double quote", Options{Escape: '\\', NoDoubleQuote: true}},
	{"no double quote", Options{NoDoubleQuote: true}},
	{"skip space comment blank rows", Options{SkipInitialSpace: true, Comment: "#", BlankRows: true}},
	{"comment escape skip space", Options{Comment: "//", Escape: '\\', SkipInitialSpace: true}},
	{"skip space", Options{SkipInitialSpace: true}},
	{"blank rows tab", Options{BlankRows: true, Comma: '\t'}},
}

var limits = []Options{
	{},
	{MaxRecordBytes: 12, MaxFieldBytes: 5, MaxFields: 3},
	{MaxRecordBytes: 20},
	{MaxRecordBytes: 1},
}

// tokens build tricky inputs: quoted line breaks, CRLF, lone CR, escapes,
// comments, blank lines, doubled and stray quotes, long runs.
var tokens = []string{
	"a", "bc", "é", ",", ";", "\t", "\"", "\"\"", "'", "''", "\\", "\\\"", "\\\n", "\\\\",
	"\n", "\r", "\r\n", "\n\n", " ", "  \"", "#", "# c,\"x\n", "//", "//\"\n",
	"\"x,y\"", "\"l1\nl2\"", "\"c\r\nd\"", "\"q\"\"q\"", "'p''p'", ",\"", "\",",
	strings.Repeat("z", 40), "\"" + strings.Repeat("w\n", 15) + "\"",
}

func randomInput(rng *rand.Rand) []byte {
	var b bytes.Buffer
	if rng.IntN(10) == 0 {
		b.WriteString("\xef\xbb\xbf")
	}
	for j := rng.IntN(30); j > 0; j-- {
		b.WriteString(tokens[rng.IntN(len(tokens))])
	}
	return b.Bytes()
}

func TestSplitterMatchesReader(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	n := 600
	if testing.Short() {
		n = 100
	}
	var sizes []int
	for bs := 1; bs <= 64; bs++ {
		sizes = append(sizes, bs)
	}
	sizes = append(sizes, 100, 1000, 0)
	for _, d := range dialects {
		for _, lim := range limits {
			opts := d.opts
			opts.MaxRecordBytes, opts.MaxFieldBytes, opts.MaxFields = lim.MaxRecordBytes, lim.MaxFieldBytes, lim.MaxFields
			if opts.Comment != "" && len(opts.Comment) > max(opts.MaxRecordBytes, 0) && opts.MaxRecordBytes > 0 {
				continue // an invalid dialect, tested elsewhere
			}
			t.Run(fmt.Sprintf("%s/max%d", d.name, lim.MaxRecordBytes), func(t *testing.T) {
				for range n {
					in := randomInput(rng)
					bs := []int{sizes[rng.IntN(len(sizes))], sizes[rng.IntN(len(sizes))], 1 + rng.IntN(8)}
					checkEquivalent(t, in, opts, bs)
				}
			})
		}
	}
}

// TestSplitterEdges pins cases the random inputs may miss.
func TestSplitterEdges(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
	}{
		{"empty", "", Options{}},
		{"only BOM", "\xef\xbb\xbf", Options{}},
		{"BOM then quote", "\xef\xbb\xbf\"a\nb\",c\n", Options{}},
		{"CRLF at every edge", "a,b\r\n\"c\r\nd\"\r\ne\r\n\r\n", Options{}},
		{"lone CRs", "a\rb\r\r\"c\rd\"\re", Options{}},
		{"CR blank rows", "a\r\r\n\rb\n", Options{BlankRows: true}},
		{"unterminated at EOF", "a,b\n\"c,d\ne\n", Options{}},
		{"unterminated long", "a\n\"" + strings.Repeat("x\n", 40), Options{MaxRecordBytes: 16}},
		{"unterminated after long", "a\n" + strings.Repeat("y", 30) + ",\"" + strings.Repeat("x\n", 10), Options{MaxRecordBytes: 16}},
		{"closed long quote", "a\n\"" + strings.Repeat("x\n", 20) + "\",b\nc\n", Options{MaxRecordBytes: 16}},
		{"doubled quote at the cut", "\"" + strings.Repeat("\"\"", 20) + "\"\nx\n", Options{MaxRecordBytes: 16}},
		{"escape at the cut", "\"" + strings.Repeat("\\\"", 20) + "\"\nx\n", Options{MaxRecordBytes: 16, Escape: '\\'}},
		{"unquoted escapes long", strings.Repeat("\\,", 20) + "\nx\n", Options{MaxRecordBytes: 15, Escape: '\\'}},
		{"long comment", "# " + strings.Repeat("c\"", 30) + "\r\nx\n", Options{MaxRecordBytes: 16, Comment: "#"}},
		{"long comment first after BOM", "\xef\xbb\xbf#" + strings.Repeat("c", 30) + "\nx\n", Options{MaxRecordBytes: 16, Comment: "#"}},
		{"record larger than block", strings.Repeat("abc,", 50) + "\n" + strings.Repeat("d", 300) + "\n", Options{}},
		{"field errors before the limit", "abcdefgh,\"x\"y," + strings.Repeat("z", 40) + "\nok\n", Options{MaxRecordBytes: 20, MaxFieldBytes: 4}},
		{"escape at EOF", "a\\", Options{Escape: '\\'}},
		{"escaped CRLF", "a\\\r\nb\n", Options{Escape: '\\'}},
		{"quote after spaces", "  \"a,\nb\" , c\n", Options{SkipInitialSpace: true}},
	}
	var sizes []int
	for bs := 1; bs <= 64; bs++ {
		sizes = append(sizes, bs)
	}
	sizes = append(sizes, 0)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkEquivalent(t, []byte(tc.in), tc.opts, sizes)
		})
	}
}

// TestLastBoundaryQuotes checks the quote-only boundary search against the
// scanner that follows every field.
func TestLastBoundaryQuotes(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, o := range []Options{{}, {NoDoubleQuote: true}, {SkipInitialSpace: true}, {Comma: ';', Quote: '\''}} {
		d, err := newDialect(o, DefaultMaxRecordBytes)
		if err != nil {
			t.Fatal(err)
		}
		for range 20000 {
			in := randomInput(rng)
			for start := range min(len(in), 4) + 1 {
				if got, _ := d.lastBoundaryQuotes(in, start, nil); got != d.lastBoundaryScan(in, start) {
					want := d.lastBoundaryScan(in, start)
					t.Fatalf("options %+v, input %q from %d: lastBoundaryQuotes %d, scanner %d", o, in, start, got, want)
				}
			}
		}
	}
}

func TestSplitterErrors(t *testing.T) {
	boom := errors.New("boom")
	s := NewSplitter(io.MultiReader(strings.NewReader("a,b\nc,d\n"), iotest.ErrReader(boom)), Options{}, 4)
	for {
		_, err := s.Next()
		if err == nil {
			continue
		}
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		break
	}
	if _, err := s.Next(); !errors.Is(err, boom) {
		t.Fatalf("error is not sticky: %v", err)
	}
	if _, err := NewSplitter(strings.NewReader("a"), Options{Quote: ','}, 0).Next(); !errors.Is(err, ErrInvalidDelimiter) {
		t.Fatalf("quote = comma: err = %v, want ErrInvalidDelimiter", err)
	}
	if _, err := NewSplitter(strings.NewReader("a"), Options{Escape: '"'}, 0).Next(); !errors.Is(err, ErrInvalidDialect) {
		t.Fatalf("escape = quote: err = %v, want ErrInvalidDialect", err)
	}
}

// TestSplitterBlocks checks block sizes, offsets and lines on a plain input.
func TestSplitterBlocks(t *testing.T) {
	in := strings.Repeat("abc,de\r\n", 10) // 80 bytes, records of 8
	s := NewSplitter(strings.NewReader(in), Options{FirstLine: 5}, 20)
	type blk struct {
		data         string
		offset, line int64
	}
	var got []blk
	for {
		b, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, blk{string(b.Data), b.Offset, b.Line})
		b.Release()
	}
	rec := "abc,de\r\n"
	want := []blk{
		{strings.Repeat(rec, 2), 0, 5},
		{strings.Repeat(rec, 2), 16, 7},
		{strings.Repeat(rec, 2), 32, 9},
		{strings.Repeat(rec, 2), 48, 11},
		{strings.Repeat(rec, 2), 64, 13},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// TestWindow checks the special-byte window: every delimiter, CR, LF and
// escape has its bit, and any other bit is for a byte the parser may see
// as special by mistake (a control byte below 0x0e, or one above the
// delimiter or escape).
func TestWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	alphabet := []byte{',', ';', '-', '<', '\\', ']', '\n', '\r', '\t', 0, 1, 0x0b, 0x0e, 0x80, 0xac, 0xff, 'a', '"'}
	for _, o := range []Options{{}, {Comma: ';'}, {Escape: '\\'}, {Comma: '\t', Escape: '\\'}} {
		r := NewBytesReader(nil, o)
		for range 20000 {
			buf := make([]byte, 64+rng.IntN(70))
			for i := range buf {
				if rng.IntN(3) == 0 {
					buf[i] = byte(rng.IntN(256))
				} else {
					buf[i] = alphabet[rng.IntN(len(alphabet))]
				}
			}
			mb := rng.IntN(len(buf))
			m := r.window(buf, mb)
			for i := range 64 {
				bit := m>>i&1 == 1
				if mb+i >= len(buf) {
					if bit {
						t.Fatalf("options %+v: bit %d past the end of %q at %d", o, i, buf, mb)
					}
					continue
				}
				c := buf[mb+i]
				if r.d.special[c] && !bit {
					t.Fatalf("options %+v: special byte %q at %d of %q from %d has no bit", o, c, i, buf, mb)
				}
				if bit && !r.d.special[c] && c >= 0x0e && c != r.d.comma^1 && !(r.d.hasEscape && c == r.d.escape^1) {
					t.Fatalf("options %+v: byte %q at %d of %q from %d has a bit", o, c, i, buf, mb)
				}
			}
		}
	}
}

// TestRawOverLong checks that an over-long record's Raw is its first
// min(RawPrefixBytes, MaxRecordBytes) bytes, whichever way it is read.
func TestRawOverLong(t *testing.T) {
	long := strings.Repeat("0123456789", 300) // 3000 bytes
	tests := []struct {
		maxRecord int
		wantRaw   string
	}{
		{2000, long[:RawPrefixBytes]},
		{100, long[:100]},
		{2999, long[:RawPrefixBytes]},
	}
	for _, tc := range tests {
		in := "a\n" + long + "\nb\n"
		opts := Options{MaxRecordBytes: tc.maxRecord}
		want := []full{
			{Fields: []string{"a"}, Raw: "a", Line: 1, Offset: 0, Number: 1},
			{Raw: tc.wantRaw, Line: 2, Offset: 2, Number: 2, Code: CodeRecordTooLong, Msg: fmt.Sprintf("the record is longer than %d bytes", tc.maxRecord)},
			{Fields: []string{"b"}, Raw: "b", Line: 3, Offset: 3003, Number: 3},
		}
		for name, r := range map[string]*Reader{
			"stream": NewReader(strings.NewReader(in), opts),
			"small":  NewReader(iotest.HalfReader(strings.NewReader(in)), Options{MaxRecordBytes: tc.maxRecord, BufferSize: 16}),
			"bytes":  NewBytesReader([]byte(in), opts),
		} {
			if got := collect(t, r); !reflect.DeepEqual(got, want) {
				t.Errorf("max %d, %s:\n got %+v\nwant %+v", tc.maxRecord, name, got, want)
			}
		}
		if got := collectBlocks(t, strings.NewReader(in), opts, 64, nil); !reflect.DeepEqual(got, want) {
			t.Errorf("max %d, blocks:\n got %+v\nwant %+v", tc.maxRecord, got, want)
		}
	}
}
