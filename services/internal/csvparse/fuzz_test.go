package csvparse

import (
	"bytes"
	"encoding/csv"
	"io"
	"reflect"
	"strings"
	"testing"
)

// fuzzOptions picks a dialect and limits from two fuzzer bytes.
func fuzzOptions(dialect, limit byte) Options {
	opts := dialects[int(dialect)%len(dialects)].opts
	lim := limits[int(limit)%len(limits)]
	opts.MaxRecordBytes, opts.MaxFieldBytes, opts.MaxFields = lim.MaxRecordBytes, lim.MaxFieldBytes, lim.MaxFields
	if opts.MaxRecordBytes > 0 && len(opts.Comment) > opts.MaxRecordBytes {
		opts.MaxRecordBytes = len(opts.Comment)
	}
	return opts
}

// FuzzBytesReader checks that NewBytesReader over the whole input, the
// streaming Reader on small reads and the blocks of a Splitter read every
// input as one Reader does, in every dialect of the tests.
func FuzzBytesReader(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "\"a\"\"b\",c\r\n", "\"open\n", "\"x\"y,z\n", "\xef\xbb\xbfa\n\n\rb",
		"a\"b,\"c\nd\"\n", "#c\n a, 'b''c'\r\n\\\n", "\"" + strings.Repeat("x\n", 20) + "\",y\n"} {
		f.Add([]byte(s), byte(0), byte(0), uint8(3))
		f.Add([]byte(s), byte(5), byte(1), uint8(1))
	}
	f.Fuzz(func(t *testing.T, in []byte, dialect, limit, blockSize uint8) {
		checkEquivalent(t, in, fuzzOptions(dialect, limit), []int{1 + int(blockSize)%80})
	})
}

// Intentional differences from encoding/csv (LazyQuotes false,
// FieldsPerRecord -1), which FuzzEncodingCSV allows for:
//   - a CR not followed by LF ends a record (outside quotes) here, while
//     encoding/csv takes it as data: inputs with such a CR, other than as the
//     last byte, are skipped;
//   - CRLF inside a quoted field is kept here, while encoding/csv reads it
//     as LF: fields are compared with CRLF made LF;
//   - a leading UTF-8 byte order mark is skipped here and kept by
//     encoding/csv: it is removed from encoding/csv's input;
//   - a quote inside an unquoted field is literal here and an error to
//     encoding/csv: such inputs are skipped as encoding/csv rejects them.

// loneCR reports whether in holds a CR that is neither followed by an LF
// nor the last byte.
func loneCR(in []byte) bool {
	for i := 0; ; {
		k := bytes.IndexByte(in[i:], '\r')
		if k < 0 {
			return false
		}
		i += k + 1
		if i < len(in) && in[i] != '\n' {
			return true
		}
	}
}

// checkEncodingCSV compares Reader and NewBytesReader with encoding/csv on
// in, with delimiter comma and comment character comment (0 for none), when
// encoding/csv accepts in.
func checkEncodingCSV(t *testing.T, in []byte, comma, comment byte) {
	t.Helper()
	if loneCR(in) {
		return
	}
	std := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(in, []byte("\xef\xbb\xbf"))))
	std.Comma, std.Comment, std.FieldsPerRecord = rune(comma), rune(comment), -1
	if comma >= 0x80 || comment >= 0x80 {
		return // encoding/csv takes runes, csvparse bytes
	}
	var want [][]string
	var lines []int64
	for {
		rec, err := std.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return // encoding/csv rejects the input
		}
		line, _ := std.FieldPos(0)
		want, lines = append(want, rec), append(lines, int64(line))
	}
	opts := Options{Comma: comma, MaxRecordBytes: 1 << 20, MaxFieldBytes: 1 << 20, MaxFields: 1 << 16}
	if comment != 0 {
		opts.Comment = string(rune(comment))
	}
	for name, r := range map[string]*Reader{
		"Reader":         NewReader(bytes.NewReader(in), opts),
		"NewBytesReader": NewBytesReader(in, opts),
	} {
		got := collect(t, r)
		if len(got) != len(want) {
			t.Fatalf("%s, input %q, comma %q, comment %q: %d records, encoding/csv %d\n got %+v\nwant %q", name, in, comma, comment, len(got), len(want), got, want)
		}
		for i, g := range got {
			if g.Code != "" {
				t.Fatalf("%s, input %q: record %d rejected (%s) but encoding/csv accepts it", name, in, i+1, g.Msg)
			}
			fields := make([]string, len(g.Fields))
			for j, f := range g.Fields {
				fields[j] = strings.ReplaceAll(f, "\r\n", "\n")
			}
			if !reflect.DeepEqual(fields, want[i]) || g.Line != lines[i] {
				t.Fatalf("%s, input %q: record %d = %q at line %d, encoding/csv %q at line %d", name, in, i+1, fields, g.Line, want[i], lines[i])
			}
		}
	}
}

// FuzzEncodingCSV holds Reader and NewBytesReader against encoding/csv on
// every input both accept, with the delimiters and comment characters both
// support.
func FuzzEncodingCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "\"a\"\"b\",c\r\n", "\"x\r\ny\",z\r\n", "\xef\xbb\xbfa\n\nb", "#c\na;\"b\nc\"\n", "a\tb\n\n"} {
		f.Add([]byte(s), byte(','), byte(0))
		f.Add([]byte(s), byte(';'), byte('#'))
	}
	f.Fuzz(func(t *testing.T, in []byte, comma, comment byte) {
		switch comma {
		case ',', ';', '\t', '|':
		default:
			comma = ','
		}
		if comment != '#' {
			comment = 0
		}
		checkEncodingCSV(t, in, comma, comment)
	})
}

func TestEncodingCSVSeeds(t *testing.T) {
	tests := []struct {
		in             string
		comma, comment byte
	}{
		{"a,b\r\n\"c\r\nd\",e\r\n", ',', 0},
		{"\xef\xbb\xbfx;y\n#z\n\n\"q\"\"\";\n", ';', '#'},
		{"a\tb\r", '\t', 0},
	}
	for _, tc := range tests {
		checkEncodingCSV(t, []byte(tc.in), tc.comma, tc.comment)
	}
}
