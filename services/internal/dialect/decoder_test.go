package dialect

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// readers wraps a reader in ways that split reads at every boundary.
var readers = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"one byte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
	{"data+EOF", iotest.DataErrReader},
}

func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	return got
}

func TestDecoderRoundTrip(t *testing.T) {
	texts := []string{
		"",
		"a",
		"id,name\n1,Zoë\n",
		"emoji 😀,🎉 pairs\r\n名前,金額\r\n",
		strings.Repeat("x,y,z\n", 20000) + "😀", // crosses the 32 KiB input buffer
		strings.Repeat("😀", 30000),             // surrogate pairs across buffer ends
	}
	type codec struct {
		name   string
		e      Encoding
		encode func(t *testing.T, s string) []byte
	}
	codecs := []codec{
		{"utf-16le BOM", UTF16LE, func(t *testing.T, s string) []byte {
			return encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), s)
		}},
		{"utf-16le no BOM", UTF16LE, func(t *testing.T, s string) []byte {
			return encode(t, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), s)
		}},
		{"utf-16be BOM", UTF16BE, func(t *testing.T, s string) []byte {
			return encode(t, unicode.UTF16(unicode.BigEndian, unicode.UseBOM), s)
		}},
		{"utf-16be no BOM", UTF16BE, func(t *testing.T, s string) []byte {
			return encode(t, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), s)
		}},
		{"utf-16 LE BOM", UTF16, func(t *testing.T, s string) []byte {
			return encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), s)
		}},
		{"utf-16 BE BOM", UTF16, func(t *testing.T, s string) []byte {
			return encode(t, unicode.UTF16(unicode.BigEndian, unicode.UseBOM), s)
		}},
		{"utf-8", UTF8, func(_ *testing.T, s string) []byte { return []byte(s) }},
		{"utf-8 BOM dropped", UTF8, func(_ *testing.T, s string) []byte { return []byte("\xEF\xBB\xBF" + s) }},
		{"utf-8-sig", UTF8BOM, func(_ *testing.T, s string) []byte { return []byte("\xEF\xBB\xBF" + s) }},
		{"utf-8-sig without BOM", UTF8BOM, func(_ *testing.T, s string) []byte { return []byte(s) }},
	}
	for _, c := range codecs {
		for i, s := range texts {
			for _, rd := range readers {
				if len(s) > 1000 && rd.name == "one byte" && c.e != UTF16LE {
					continue // the slow reader once per long text is enough
				}
				t.Run(c.name+"/"+string(rune('A'+i))+"/"+rd.name, func(t *testing.T) {
					raw := c.encode(t, s)
					got := readAll(t, NewDecoder(rd.wrap(bytes.NewReader(raw)), c.e))
					if string(got) != s {
						t.Fatalf("decoded %d bytes %.40q...; want %d bytes %.40q...", len(got), got, len(s), s)
					}
				})
			}
		}
	}
}

func TestDecoderUTF16WithoutBOMDetected(t *testing.T) {
	s := "id,name\n1,Zoë\n"
	tests := []struct {
		name string
		raw  []byte
	}{
		{"little endian", encode(t, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), s)},
		{"big endian", encode(t, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), s)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readAll(t, NewDecoder(bytes.NewReader(tt.raw), UTF16)); string(got) != s {
				t.Fatalf("decoded %q; want %q", got, s)
			}
		})
	}
}

func TestDecoderUTF16Invalid(t *testing.T) {
	tests := []struct {
		name string
		e    Encoding
		raw  []byte
		want string
	}{
		{"lone high surrogate then ascii", UTF16LE, []byte{0x3D, 0xD8, 'a', 0}, "\uFFFDa"},
		{"lone high surrogate at end", UTF16LE, []byte{'a', 0, 0x3D, 0xD8}, "a\uFFFD"},
		{"lone low surrogate", UTF16LE, []byte{0x00, 0xDC, 'b', 0}, "\uFFFDb"},
		{"two high surrogates then low", UTF16LE, []byte{0x3D, 0xD8, 0x3D, 0xD8, 0x00, 0xDE}, "\uFFFD😀"},
		{"odd last byte", UTF16LE, []byte{'a', 0, 'b'}, "a\uFFFD"},
		{"lone high surrogate be", UTF16BE, []byte{0xD8, 0x3D, 0, 'c'}, "\uFFFDc"},
		{"reversed pair be", UTF16BE, []byte{0xDE, 0x00, 0xD8, 0x3D}, "\uFFFD\uFFFD"},
		{"BOM only", UTF16LE, []byte{0xFF, 0xFE}, ""},
		{"second BOM kept", UTF16LE, []byte{0xFF, 0xFE, 0xFF, 0xFE}, "\uFEFF"},
		{"single byte", UTF16BE, []byte{'x'}, "\uFFFD"},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				got := readAll(t, NewDecoder(rd.wrap(bytes.NewReader(tt.raw)), tt.e))
				if string(got) != tt.want {
					t.Fatalf("decoded %q; want %q", got, tt.want)
				}
				// x/text agrees on every case.
				order := unicode.LittleEndian
				if tt.e == UTF16BE {
					order = unicode.BigEndian
				}
				ref, err := unicode.UTF16(order, unicode.UseBOM).NewDecoder().Bytes(tt.raw)
				if err != nil || string(ref) != tt.want {
					t.Fatalf("x/text decodes %q, %v; test expects %q", ref, err, tt.want)
				}
			})
		}
	}
}

func TestDecoderPassThrough(t *testing.T) {
	for _, e := range []Encoding{Windows1252, Latin1} {
		t.Run(e.String(), func(t *testing.T) {
			r := bytes.NewReader(encode(t, charmap.Windows1252, "Müller"))
			if got := NewDecoder(r, e); got != io.Reader(r) {
				t.Fatalf("NewDecoder(%v) = %T; want the reader itself", e, got)
			}
		})
	}
}

func TestDecoderErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		e    Encoding
		raw  string
		want string
	}{
		{"utf-16le", UTF16LE, "a\x00b\x00", "ab"},
		{"utf-16le odd byte before error", UTF16LE, "a\x00b", "a\uFFFD"},
		{"utf-8", UTF8, "\xEF\xBB\xBFabc", "abc"},
		{"utf-8 short", UTF8, "a", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := io.MultiReader(strings.NewReader(tt.raw), iotest.ErrReader(boom))
			got, err := io.ReadAll(NewDecoder(r, tt.e))
			if !errors.Is(err, boom) || string(got) != tt.want {
				t.Fatalf("ReadAll = %q, %v; want %q, %v", got, err, tt.want, boom)
			}
		})
	}
}

func TestDecoderNoProgress(t *testing.T) {
	_, err := NewDecoder(emptyReader{}, UTF16LE).Read(make([]byte, 8))
	if !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("Read error = %v; want io.ErrNoProgress", err)
	}
}

// emptyReader returns no data and no error forever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func BenchmarkDecoderUTF16(b *testing.B) {
	inputs := []struct{ name, text string }{
		{"ascii", "2024-03-01,ACME Corp,Zurich,1234.50,Transfer for March\n"},
		{"mixed", "2024-03-01,Société Générale,Zürich,€ 1234.50,Überweisung 😀\n"},
	}
	for _, in := range inputs {
		raw := encode(b, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), strings.Repeat(in.text, 4<<20/len(in.text)))
		b.Run(in.name, func(b *testing.B) {
			buf := make([]byte, 64<<10)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				d := NewDecoder(bytes.NewReader(raw), UTF16LE)
				for {
					_, err := d.Read(buf)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
