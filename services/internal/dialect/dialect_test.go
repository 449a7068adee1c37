package dialect

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"google.golang.org/protobuf/proto"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

func TestCheckValid(t *testing.T) {
	tests := []struct {
		name string
		d    *typev1.Dialect
	}{
		{"nil", nil},
		{"empty", &typev1.Dialect{}},
		{"all fields", &typev1.Dialect{
			Delimiter: ";", QuoteChar: "'", DoubleQuote: proto.Bool(false), EscapeChar: `\`,
			HeaderRows: proto.Int32(10), SkipInitialSpace: true, CommentPrefix: "12345678",
			LineTerminator: "\r\n", Encoding: "UTF-16LE",
		}},
		{"tab as escape", &typev1.Dialect{Delimiter: `\t`}},
		{"real tab", &typev1.Dialect{Delimiter: "\t"}},
		{"space", &typev1.Dialect{Delimiter: " "}},
		{"quote as delimiter when quote is apostrophe", &typev1.Dialect{Delimiter: `"`, QuoteChar: "'"}},
		{"no header", &typev1.Dialect{HeaderRows: proto.Int32(0)}},
		{"escaped CR", &typev1.Dialect{LineTerminator: `\r`}},
		{"escaped CRLF", &typev1.Dialect{LineTerminator: `\r\n`}},
		{"alias encoding", &typev1.Dialect{Encoding: "latin1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Check(tt.d); err != nil {
				t.Fatalf("Check() = %v; want nil", err)
			}
		})
	}
}

func TestCheckErrors(t *testing.T) {
	tests := []struct {
		name  string
		d     *typev1.Dialect
		field string
		desc  string
	}{
		{"delimiter two chars", &typev1.Dialect{Delimiter: "ab"},
			"dialect.delimiter", `delimiter must be one ASCII character, such as ',', ';', '|' or "\t" (a tab); got "ab"`},
		{"delimiter non-ASCII", &typev1.Dialect{Delimiter: "é"},
			"dialect.delimiter", `delimiter must be one ASCII character, such as ',', ';', '|' or "\t" (a tab); got "é"`},
		{"delimiter NUL", &typev1.Dialect{Delimiter: "\x00"},
			"dialect.delimiter", `delimiter must be one ASCII character, such as ',', ';', '|' or "\t" (a tab); got "\x00"`},
		{"delimiter LF", &typev1.Dialect{Delimiter: "\n"},
			"dialect.delimiter", `delimiter cannot be a line break, got "\n"`},
		{"delimiter CR", &typev1.Dialect{Delimiter: "\r"},
			"dialect.delimiter", `delimiter cannot be a line break, got "\r"`},
		{"delimiter default quote", &typev1.Dialect{Delimiter: `"`},
			"dialect.delimiter", `delimiter must differ from the quote character '"'`},
		{"delimiter given quote", &typev1.Dialect{Delimiter: "'", QuoteChar: "'"},
			"dialect.delimiter", `delimiter must differ from the quote character '\''`},
		{"quote two chars", &typev1.Dialect{QuoteChar: `""`},
			"dialect.quote_char", `quote_char must be one ASCII character, such as '"' or '\''; got "\"\""`},
		{"quote CR", &typev1.Dialect{QuoteChar: "\r"},
			"dialect.quote_char", `quote_char cannot be a line break, got "\r"`},
		{"quote checked before delimiter", &typev1.Dialect{Delimiter: "ab", QuoteChar: "xy"},
			"dialect.quote_char", `quote_char must be one ASCII character, such as '"' or '\''; got "xy"`},
		{"escape two chars", &typev1.Dialect{EscapeChar: `\\`},
			"dialect.escape_char", `escape_char must be one ASCII character, such as '\\'; got "\\\\"`},
		{"escape LF", &typev1.Dialect{EscapeChar: "\n"},
			"dialect.escape_char", `escape_char cannot be a line break, got "\n"`},
		{"escape is delimiter", &typev1.Dialect{Delimiter: ";", EscapeChar: ";"},
			"dialect.escape_char", `escape_char must differ from the delimiter ';'`},
		{"escape is tab delimiter", &typev1.Dialect{Delimiter: `\t`, EscapeChar: "\t"},
			"dialect.escape_char", `escape_char must differ from the delimiter '\t'`},
		{"escape is default quote", &typev1.Dialect{EscapeChar: `"`},
			"dialect.escape_char", `escape_char must differ from the quote character '"'; set double_quote for quotes written twice`},
		{"header rows 11", &typev1.Dialect{HeaderRows: proto.Int32(11)},
			"dialect.header_rows", `header_rows must be between 0 and 10, got 11`},
		{"header rows negative", &typev1.Dialect{HeaderRows: proto.Int32(-1)},
			"dialect.header_rows", `header_rows must be between 0 and 10, got -1`},
		{"comment too long", &typev1.Dialect{CommentPrefix: "123456789"},
			"dialect.comment_prefix", `comment_prefix must be 1 to 8 bytes long, got 9 bytes`},
		{"comment with LF", &typev1.Dialect{CommentPrefix: "#\n"},
			"dialect.comment_prefix", `comment_prefix cannot contain a line break, got "#\n"`},
		{"line terminator", &typev1.Dialect{LineTerminator: ";"},
			"dialect.line_terminator", `line_terminator must be "\n", "\r\n" or "\r", got ";"`},
		{"line terminator LFCR", &typev1.Dialect{LineTerminator: "\n\r"},
			"dialect.line_terminator", `line_terminator must be "\n", "\r\n" or "\r", got "\n\r"`},
		{"encoding", &typev1.Dialect{Encoding: "ebcdic"},
			"dialect.encoding", `encoding "ebcdic" is not supported; use one of utf-8, utf-8-sig, utf-16, utf-16le, utf-16be, windows-1252, iso-8859-1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.d)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Check() = %v; want a *FieldError", err)
			}
			if fe.Field != tt.field || fe.Description != tt.desc {
				t.Fatalf("Check() = {%q, %q}; want {%q, %q}", fe.Field, fe.Description, tt.field, tt.desc)
			}
			if want := "invalid " + tt.field + ": " + tt.desc; err.Error() != want {
				t.Fatalf("Error() = %q; want %q", err.Error(), want)
			}
			if _, rerr := Resolve(tt.d, []byte("a,b\n"), true); !errors.As(rerr, &fe) || fe.Field != tt.field {
				t.Fatalf("Resolve() error = %v; want the Check error on %s", rerr, tt.field)
			}
		})
	}
}

func TestProto(t *testing.T) {
	tests := []struct {
		name string
		d    Detected
		want *typev1.Dialect
	}{
		{"defaults", Detected{Comma: ',', Quote: '"', DoubleQuote: true, HeaderRows: 1, LineTerminator: "\n"},
			&typev1.Dialect{Delimiter: ",", QuoteChar: `"`, DoubleQuote: proto.Bool(true), HeaderRows: proto.Int32(1),
				LineTerminator: "\n", Encoding: "utf-8"}},
		{"everything", Detected{Comma: '\t', Quote: '\'', Escape: '\\', HeaderRows: 0, SkipInitialSpace: true,
			Comment: "//", LineTerminator: "\r\n", Encoding: UTF16BE},
			&typev1.Dialect{Delimiter: "\t", QuoteChar: "'", DoubleQuote: proto.Bool(false), EscapeChar: `\`,
				HeaderRows: proto.Int32(0), SkipInitialSpace: true, CommentPrefix: "//", LineTerminator: "\r\n",
				Encoding: "utf-16be"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.d.Proto()
			if !proto.Equal(got, tt.want) {
				t.Fatalf("Proto() = %v; want %v", got, tt.want)
			}
			if err := Check(got); err != nil {
				t.Fatalf("Check(Proto()) = %v", err)
			}
		})
	}
}

// allFields are the DetectedFields when nothing is given.
var allFields = []string{"delimiter", "quote_char", "double_quote", "escape_char", "header_rows",
	"skip_initial_space", "comment_prefix", "line_terminator", "encoding"}

// base is what Resolve detects for a plain comma-separated UTF-8 file.
var base = Detected{Comma: ',', Quote: '"', DoubleQuote: true, HeaderRows: 1, LineTerminator: "\n",
	Encoding: UTF8, DetectedFields: allFields}

// with returns base changed by f.
func with(f func(d *Detected)) Detected {
	d := base
	d.DetectedFields = append([]string(nil), base.DetectedFields...)
	f(&d)
	return d
}

func TestResolve(t *testing.T) {
	leBOM := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
	be := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	beBOM := unicode.UTF16(unicode.BigEndian, unicode.UseBOM)
	tests := []struct {
		name   string
		given  *typev1.Dialect
		sample []byte
		atEOF  bool
		want   Detected
	}{
		{"comma", nil, []byte("id,name,amount\n1,a,2\n2,b,3\n"), true, base},
		{"empty sample", nil, nil, true, base},
		{"semicolon with decimal commas", nil, []byte("name;price;qty\nfoo;1,5;2\nbar;2,25;3\n"), true,
			with(func(d *Detected) { d.Comma = ';' })},
		{"tab with commas in text", nil, []byte("id\tdesc\n1\ta, b\n2\tc, d\n"), true,
			with(func(d *Detected) { d.Comma = '\t' })},
		{"pipe", nil, []byte("a|b|c\n1|2|3\n"), true, with(func(d *Detected) { d.Comma = '|' })},
		{"header only", nil, []byte("a|b|c"), true, with(func(d *Detected) { d.Comma = '|' })},
		{"single column", nil, []byte("amount\n1\n2\n"), true, base},
		{"quoted semicolons in a comma file", nil,
			[]byte("name,notes\n\"x;y;z\",1\n\"p;q;r\",2\n\"s;t;u\",3\n"), true, base},
		{"quoted commas in a semicolon file", nil,
			[]byte("a;b\n\"1,2,3\";x\n\"4,5,6\";y\n"), true, with(func(d *Detected) { d.Comma = ';' })},
		{"quoted pipes in a comma file", nil,
			[]byte("id,text\n1,\"a|b|c|d\"\n2,\"e|f|g|h\"\n"), true, base},
		{"quoted line breaks", nil,
			[]byte("id;text\n1;\"line one\nline two; still text\"\n2;\"x\"\n"), true,
			with(func(d *Detected) { d.Comma = ';' })},
		{"tie prefers more fields", nil, []byte("a;b;c,d\n1;2;3,4\n"), true,
			with(func(d *Detected) { d.Comma = ';' })},
		{"tie prefers comma", nil, []byte("a;b,c\n1;2,3\n"), true, base},
		{"backslash escapes", nil,
			[]byte("id,text\n1,\"say \\\"hi\\\"\"\n2,\"x\"\n"), true,
			with(func(d *Detected) { d.Escape = '\\'; d.DoubleQuote = false })},
		{"doubled quotes", nil,
			[]byte("id,text\n1,\"say \"\"hi\"\"\"\n2,\"x\"\n"), true, base},
		{"doubled quotes and a trailing backslash", nil,
			[]byte("id,path\n1,\"C:\\dir\\\"\n2,\"a \"\"b\"\"\"\n"), true, base},
		{"escaped backslash before closing quote", nil,
			[]byte("id,text\n1,\"a\\\\\"\n2,\"b \\\" c\"\n"), true,
			with(func(d *Detected) { d.Escape = '\\'; d.DoubleQuote = false })},
		{"apostrophe quotes", nil, []byte("id,name\n1,'a,b'\n2,'c'\n"), true,
			with(func(d *Detected) { d.Quote = '\'' })},
		{"apostrophes in text", nil, []byte("id,name\n1,O'Brien\n2,'90s band\n3,Tom's\n"), true, base},
		{"comments", nil, []byte("# generated\n# by x, y\nid,name\n1,a\n"), true,
			with(func(d *Detected) { d.Comment = "#" })},
		{"one comment line", nil, []byte("# exported 2024-01-01\nid,name\n1,a\n"), true,
			with(func(d *Detected) { d.Comment = "#" })},
		{"hash header", nil, []byte("#,name,score\n1,a,2\n2,b,3\n"), true, base},
		{"comment lines skipped when sniffing", nil, []byte("# a;b;c;d;e\n# f;g;h;i;j\nx,y\n1,2\n"), true,
			with(func(d *Detected) { d.Comment = "#" })},
		{"CRLF", nil, []byte("a,b\r\n1,2\r\n"), true, with(func(d *Detected) { d.LineTerminator = "\r\n" })},
		{"CR", nil, []byte("a,b\r1,2\r"), true, with(func(d *Detected) { d.LineTerminator = "\r" })},
		{"CR at the end of the whole file", nil, []byte("a,b\r"), true, with(func(d *Detected) { d.LineTerminator = "\r" })},
		{"CR at the end of a cut sample", nil, []byte("a,b\r"), false, with(func(d *Detected) { d.LineTerminator = "\r\n" })},
		{"quoted LF before the first line end", nil, []byte("\"x\ny\",b\r\n1,2\r\n"), true,
			with(func(d *Detected) { d.LineTerminator = "\r\n" })},
		{"leading blank lines", nil, []byte("\r\n\r\na;b\r\n1;2\r\n"), true,
			with(func(d *Detected) { d.Comma = ';'; d.LineTerminator = "\r\n" })},
		{"skip initial space", nil, []byte("a, b, c\n1, 2, 3\n"), true,
			with(func(d *Detected) { d.SkipInitialSpace = true })},
		{"quoted after space", nil, []byte("a, b\n1, \"x, y\"\n2, \"z\"\n"), true,
			with(func(d *Detected) { d.SkipInitialSpace = true })},
		{"not every delimiter spaced", nil, []byte("a, b,c\n1, 2,3\n"), true, base},
		{"cut sample drops the last line", nil, []byte("a;b\n1;2\n3;4;5;6;7;8"), false,
			with(func(d *Detected) { d.Comma = ';' })},
		{"cut rune", nil, []byte("a;b\n1;caf\xc3"), false, with(func(d *Detected) { d.Comma = ';' })},
		{"utf-8 BOM", nil, []byte("\xEF\xBB\xBFa;b\n1;2\n"), true,
			with(func(d *Detected) { d.Comma = ';'; d.Encoding = UTF8BOM })},
		{"utf-16le BOM", nil, encode(t, leBOM, "a;b\r\n1;😀\r\n"), true,
			with(func(d *Detected) { d.Comma = ';'; d.Encoding = UTF16LE; d.LineTerminator = "\r\n" })},
		{"utf-16be no BOM", nil, encode(t, be, "a\tb\n1\t2\n"), true,
			with(func(d *Detected) { d.Comma = '\t'; d.Encoding = UTF16BE })},
		{"utf-16be cut", nil, encode(t, be, "a\tb\n1\t2\n3\t4\n")[:21], false,
			with(func(d *Detected) { d.Comma = '\t'; d.Encoding = UTF16BE })},
		{"windows-1252", nil, encode(t, charmap.Windows1252, "name;ville\nMüller;Zürich\n"), true,
			with(func(d *Detected) { d.Comma = ';'; d.Encoding = Windows1252 })},
		{"given delimiter wins", &typev1.Dialect{Delimiter: ";"}, []byte("a,b\n1,2\n"), true,
			with(func(d *Detected) { d.Comma = ';'; d.DetectedFields = allFields[1:] })},
		{"given tab", &typev1.Dialect{Delimiter: `\t`}, []byte("a,b\n1,2\n"), true,
			with(func(d *Detected) { d.Comma = '\t'; d.DetectedFields = allFields[1:] })},
		{"given utf-16 with BE BOM", &typev1.Dialect{Encoding: "utf-16"}, encode(t, beBOM, "a|b\n"), true,
			with(func(d *Detected) { d.Comma = '|'; d.Encoding = UTF16BE; d.DetectedFields = allFields[:8] })},
		{"given latin1 over utf-8", &typev1.Dialect{Encoding: "latin1"}, []byte("a,b\n"), true,
			with(func(d *Detected) { d.Encoding = Latin1; d.DetectedFields = allFields[:8] })},
		{"given escape detects double_quote", &typev1.Dialect{EscapeChar: "~"},
			[]byte("id,text\n1,\"say ~\"hi~\"\"\n"), true,
			with(func(d *Detected) {
				d.Escape = '~'
				d.DoubleQuote = false
				d.DetectedFields = []string{"delimiter", "quote_char", "double_quote", "header_rows",
					"skip_initial_space", "comment_prefix", "line_terminator", "encoding"}
			})},
		{"given double_quote stays", &typev1.Dialect{DoubleQuote: proto.Bool(true)},
			[]byte("id,text\n1,\"say \\\"hi\\\"\"\n"), true,
			with(func(d *Detected) {
				d.Escape = '\\'
				d.DetectedFields = []string{"delimiter", "quote_char", "escape_char", "header_rows",
					"skip_initial_space", "comment_prefix", "line_terminator", "encoding"}
			})},
		{"given everything", &typev1.Dialect{
			Delimiter: "|", QuoteChar: "'", DoubleQuote: proto.Bool(false), EscapeChar: `\`,
			HeaderRows: proto.Int32(0), SkipInitialSpace: true, CommentPrefix: "//",
			LineTerminator: `\r\n`, Encoding: "cp1252",
		}, []byte("a,b\n"), true, Detected{Comma: '|', Quote: '\'', Escape: '\\', HeaderRows: 0,
			SkipInitialSpace: true, Comment: "//", LineTerminator: "\r\n", Encoding: Windows1252}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.given, tt.sample, tt.atEOF)
			if err != nil {
				t.Fatalf("Resolve() error = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Resolve() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func BenchmarkResolve(b *testing.B) {
	line := "2024-03-01;\"ACME; Corp\";Zürich;1234,50;\"Transfer \"\"March\"\"\"\r\n"
	sample := []byte(strings.Repeat(line, 64<<10/len(line)))
	b.SetBytes(int64(len(sample)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := Resolve(nil, sample, false)
		if err != nil || d.Comma != ';' {
			b.Fatalf("Resolve() = %+v, %v", d, err)
		}
	}
}
