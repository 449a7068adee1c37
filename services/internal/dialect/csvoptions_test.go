package dialect

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/csvmesh/csvmesh/services/internal/csvparse"
)

func TestCSVOptions(t *testing.T) {
	tests := []struct {
		name string
		d    Detected
		want csvparse.Options
	}{
		{"defaults", base, csvparse.Options{Comma: ',', Quote: '"'}},
		{"everything", Detected{Comma: '\t', Quote: '\'', Escape: '\\', SkipInitialSpace: true, Comment: "#"},
			csvparse.Options{Comma: '\t', Quote: '\'', Escape: '\\', NoDoubleQuote: true, SkipInitialSpace: true, Comment: "#"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.CSVOptions(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("CSVOptions() = %+v; want %+v", got, tt.want)
			}
		})
	}
}

// TestResolveThenParse parses files with the dialect Resolve detects, through
// NewDecoder and AppendUTF8, as the validation engine does.
func TestResolveThenParse(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		want [][]string
	}{
		{"semicolon", []byte("a;b\n\"1;2\";x\n"), [][]string{{"a", "b"}, {"1;2", "x"}}},
		{"escapes", []byte("id,text\n1,\"say \\\"hi\\\"\"\n"), [][]string{{"id", "text"}, {"1", `say "hi"`}}},
		{"apostrophes", []byte("id,name\n1,'a,b'\n2,'c'\n"), [][]string{{"id", "name"}, {"1", "a,b"}, {"2", "c"}}},
		{"comments", []byte("# note\nid|x\n1|2\n"), [][]string{{"id", "x"}, {"1", "2"}}},
		{"skip initial space", []byte("a, b\n1, \"x, y\"\n"), [][]string{{"a", "b"}, {"1", "x, y"}}},
		{"utf-8 BOM", []byte("\xEF\xBB\xBFa,b\r\n1,2\r\n"), [][]string{{"a", "b"}, {"1", "2"}}},
		{"utf-16le", encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), "a\tb\r\n1\t😀\r\n"),
			[][]string{{"a", "b"}, {"1", "😀"}}},
		{"utf-16be no BOM", encode(t, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "a;b\n1;Zoë\n"),
			[][]string{{"a", "b"}, {"1", "Zoë"}}},
		{"windows-1252", encode(t, charmap.Windows1252, "name;ville\nMüller;Zürich €\n"),
			[][]string{{"name", "ville"}, {"Müller", "Zürich €"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Resolve(nil, tt.raw, true)
			if err != nil {
				t.Fatalf("Resolve() error = %v", err)
			}
			r := csvparse.NewReader(NewDecoder(bytes.NewReader(tt.raw), d.Encoding), d.CSVOptions())
			var got [][]string
			for {
				rec, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("Next() error = %v", err)
				}
				var row []string
				for _, f := range rec.Fields {
					u, ok := d.Encoding.AppendUTF8(nil, f)
					if !ok {
						t.Fatalf("field %q is not valid %v", f, d.Encoding)
					}
					row = append(row, string(u))
				}
				got = append(got, row)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parsed %q; want %q", got, tt.want)
			}
		})
	}
}
