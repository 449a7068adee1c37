package dialect

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

func TestParseEncoding(t *testing.T) {
	tests := []struct {
		name string
		want Encoding
	}{
		{"utf-8", UTF8},
		{"UTF-8", UTF8},
		{"utf8", UTF8},
		{"utf_8", UTF8},
		{" utf-8 ", UTF8},
		{"utf-8-sig", UTF8BOM},
		{"UTF8-SIG", UTF8BOM},
		{"utf_8_sig", UTF8BOM},
		{"utf-16le", UTF16LE},
		{"UTF-16LE", UTF16LE},
		{"utf_16_le", UTF16LE},
		{"utf-16be", UTF16BE},
		{"utf16be", UTF16BE},
		{"utf-16", UTF16},
		{"UTF16", UTF16},
		{"windows-1252", Windows1252},
		{"cp1252", Windows1252},
		{"CP1252", Windows1252},
		{"iso-8859-1", Latin1},
		{"ISO_8859_1", Latin1},
		{"latin1", Latin1},
		{"Latin-1", Latin1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEncoding(tt.name)
			if err != nil || got != tt.want {
				t.Fatalf("ParseEncoding(%q) = %v, %v; want %v, nil", tt.name, got, err, tt.want)
			}
		})
	}
}

func TestParseEncodingErrors(t *testing.T) {
	tests := []struct {
		name, want string
	}{
		{"ebcdic", `dialect: unknown encoding "ebcdic"; valid names: utf-8, utf-8-sig, utf-16, utf-16le, utf-16be, windows-1252, iso-8859-1`},
		{"utf-32", `dialect: unknown encoding "utf-32"; valid names: utf-8, utf-8-sig, utf-16, utf-16le, utf-16be, windows-1252, iso-8859-1`},
		{"", `dialect: empty encoding name; valid names: utf-8, utf-8-sig, utf-16, utf-16le, utf-16be, windows-1252, iso-8859-1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEncoding(tt.name)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("ParseEncoding(%q) error = %v; want %s", tt.name, err, tt.want)
			}
		})
	}
}

func TestEncodingString(t *testing.T) {
	tests := []struct {
		e     Encoding
		want  string
		ascii bool
	}{
		{UTF8, "utf-8", true},
		{UTF8BOM, "utf-8-sig", true},
		{UTF16LE, "utf-16le", false},
		{UTF16BE, "utf-16be", false},
		{Windows1252, "windows-1252", true},
		{Latin1, "iso-8859-1", true},
		{UTF16, "utf-16", false},
		{Encoding(42), "Encoding(42)", true},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.e.String(); got != tt.want {
				t.Errorf("String() = %q; want %q", got, tt.want)
			}
			if got := tt.e.ASCIICompatible(); got != tt.ascii {
				t.Errorf("ASCIICompatible() = %v; want %v", got, tt.ascii)
			}
			if tt.e <= UTF16 {
				back, err := ParseEncoding(tt.want)
				if err != nil || back != tt.e {
					t.Errorf("ParseEncoding(String()) = %v, %v", back, err)
				}
			}
		})
	}
}

// encode returns s in an x/text encoding.
func encode(t testing.TB, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encoding %q: %v", s, err)
	}
	return b
}

func TestAppendUTF8RoundTrip(t *testing.T) {
	texts := []string{
		"",
		"plain ascii, 123.45",
		"Zürich;Genève;Málaga",
		"€ 1.234,56 – “quoted” ‘x’ • … ™ Œ œ Š š Ÿ ƒ ˆ ˜",
		"ÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿ",
		strings.Repeat("long ascii run before ", 10) + "é" + strings.Repeat("x", 17),
	}
	encs := []struct {
		e  Encoding
		cm *charmap.Charmap
	}{
		{Windows1252, charmap.Windows1252},
		{Latin1, charmap.ISO8859_1},
	}
	for _, enc := range encs {
		for _, s := range texts {
			if enc.e == Latin1 && strings.ContainsAny(s, "€–“”‘’•…™ŒœŠšŸƒˆ˜") {
				continue // not in ISO 8859-1
			}
			t.Run(enc.e.String()+"/"+s, func(t *testing.T) {
				raw := encode(t, enc.cm, s)
				prefix := []byte("keep:")
				got, ok := enc.e.AppendUTF8(prefix, raw)
				if !ok || string(got) != "keep:"+s {
					t.Fatalf("AppendUTF8 = %q, %v; want %q, true", got, ok, "keep:"+s)
				}
			})
		}
	}
}

func TestAppendUTF8AllBytes(t *testing.T) {
	tests := []struct {
		e  Encoding
		cm *charmap.Charmap
	}{
		{Windows1252, charmap.Windows1252},
		{Latin1, charmap.ISO8859_1},
	}
	for _, tt := range tests {
		t.Run(tt.e.String(), func(t *testing.T) {
			for i := 0; i < 256; i++ {
				b := []byte{'a', byte(i), 'z'}
				want := "a" + string(tt.cm.DecodeByte(byte(i))) + "z"
				wantOK := tt.cm.DecodeByte(byte(i)) != utf8.RuneError
				got, ok := tt.e.AppendUTF8(nil, b)
				if string(got) != want || ok != wantOK {
					t.Errorf("byte %#x: AppendUTF8 = %q, %v; want %q, %v", i, got, ok, want, wantOK)
				}
			}
		})
	}
}

func TestAppendUTF8Random(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		e  Encoding
		cm *charmap.Charmap
	}{
		{Windows1252, charmap.Windows1252},
		{Latin1, charmap.ISO8859_1},
	}
	for _, tt := range tests {
		t.Run(tt.e.String(), func(t *testing.T) {
			for range 2000 {
				b := make([]byte, rng.IntN(40))
				for i := range b {
					if rng.IntN(3) == 0 {
						b[i] = byte(rng.IntN(256))
					} else {
						b[i] = byte('a' + rng.IntN(26))
					}
				}
				var want strings.Builder
				wantOK := true
				for _, c := range b {
					r := tt.cm.DecodeByte(c)
					want.WriteRune(r)
					wantOK = wantOK && r != utf8.RuneError
				}
				// dst has exactly the capacity the worst case needs.
				dst := make([]byte, 0, 3*len(b))
				got, ok := tt.e.AppendUTF8(dst, b)
				if string(got) != want.String() || ok != wantOK {
					t.Fatalf("AppendUTF8(%q) = %q, %v; want %q, %v", b, got, ok, want.String(), wantOK)
				}
			}
		})
	}
}

func TestAppendUTF8Validity(t *testing.T) {
	tests := []struct {
		name   string
		e      Encoding
		in     []byte
		want   string
		wantOK bool
	}{
		{"1252 undefined 0x81", Windows1252, []byte("a\x81b"), "a\uFFFDb", false},
		{"1252 undefined 0x9d", Windows1252, []byte("\x9d"), "\uFFFD", false},
		{"1252 euro", Windows1252, []byte("\x80"), "€", true},
		{"latin1 C1 control", Latin1, []byte("\x81"), "\u0081", true},
		{"latin1 euro slot", Latin1, []byte("\x80"), "\u0080", true},
		{"utf-8 valid", UTF8, []byte("héllo"), "héllo", true},
		{"utf-8 invalid kept", UTF8, []byte("h\xe9llo"), "h\xe9llo", false},
		{"utf-8-sig invalid", UTF8BOM, []byte("\xff"), "\xff", false},
		{"utf-16 decoded stream", UTF16LE, []byte("ok 😀"), "ok 😀", true},
		{"utf-16be decoded stream invalid", UTF16BE, []byte("\xc3"), "\xc3", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.e.AppendUTF8(nil, tt.in)
			if string(got) != tt.want || ok != tt.wantOK {
				t.Fatalf("AppendUTF8(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestAppendUTF8ZeroAllocs(t *testing.T) {
	raw := encode(t, charmap.Windows1252, strings.Repeat("Müller & Söhne, €12.50 ", 40))
	tests := []struct {
		name string
		e    Encoding
		in   []byte
	}{
		{"windows-1252", Windows1252, raw},
		{"iso-8859-1", Latin1, raw},
		{"ascii", Windows1252, []byte(strings.Repeat("abcdefgh", 100))},
		{"utf-8", UTF8, []byte(strings.Repeat("Zürich ", 100))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]byte, 0, 3*len(tt.in))
			allocs := testing.AllocsPerRun(100, func() {
				dst, _ = tt.e.AppendUTF8(dst[:0], tt.in)
			})
			if allocs != 0 {
				t.Fatalf("AppendUTF8 allocated %v times per run; want 0", allocs)
			}
		})
	}
}

func TestDetectEncoding(t *testing.T) {
	le := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	be := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	leBOM := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
	beBOM := unicode.UTF16(unicode.BigEndian, unicode.UseBOM)
	csv := "id,name,amount\n1,Zoë,12.50\n2,Ann,3\n"
	tests := []struct {
		name   string
		sample []byte
		atEOF  bool
		want   Encoding
	}{
		{"empty", nil, true, UTF8},
		{"ascii", []byte(csv), true, UTF8},
		{"utf-8", []byte("naïve,café\n"), true, UTF8},
		{"utf-8 BOM", append([]byte("\xEF\xBB\xBF"), csv...), true, UTF8BOM},
		{"utf-8 BOM only", []byte("\xEF\xBB\xBF"), true, UTF8BOM},
		{"utf-16le BOM", encode(t, leBOM, csv), true, UTF16LE},
		{"utf-16be BOM", encode(t, beBOM, csv), true, UTF16BE},
		{"utf-16le no BOM", encode(t, le, csv), true, UTF16LE},
		{"utf-16be no BOM", encode(t, be, csv), true, UTF16BE},
		{"utf-16le no BOM cut", encode(t, le, csv)[:15], false, UTF16LE},
		{"utf-16le non-latin BOM", encode(t, leBOM, "名前,金額\n"), true, UTF16LE},
		{"rune cut, more to come", []byte("abc,caf\xc3"), false, UTF8},
		{"3-byte rune cut twice", []byte("x \xe2\x82"), false, UTF8},
		{"rune cut at EOF", []byte("abc,caf\xc3"), true, Windows1252},
		{"windows-1252", encode(t, charmap.Windows1252, "Müller,€5\n"), true, Windows1252},
		{"windows-1252 at end", encode(t, charmap.Windows1252, "Müller,é"), false, Windows1252},
		{"invalid then valid", []byte("\xe9t\xe9,ok\n"), false, Windows1252},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DetectEncoding(tt.sample, tt.atEOF); got != tt.want {
				t.Fatalf("DetectEncoding(%q, %v) = %v; want %v", tt.sample, tt.atEOF, got, tt.want)
			}
		})
	}
}

func TestBOM(t *testing.T) {
	tests := []struct {
		e    Encoding
		want []byte
	}{
		{UTF8, []byte{0xEF, 0xBB, 0xBF}},
		{UTF8BOM, []byte{0xEF, 0xBB, 0xBF}},
		{UTF16LE, []byte{0xFF, 0xFE}},
		{UTF16BE, []byte{0xFE, 0xFF}},
		{Windows1252, nil},
		{Latin1, nil},
		{UTF16, nil},
	}
	for _, tt := range tests {
		t.Run(tt.e.String(), func(t *testing.T) {
			if got := tt.e.BOM(); !bytes.Equal(got, tt.want) {
				t.Fatalf("BOM() = %x; want %x", got, tt.want)
			}
		})
	}
}

func BenchmarkAppendUTF8(b *testing.B) {
	line := "2024-03-01,ACME Société Générale,Zürich,€ 1234.50,Überweisung für März\n"
	inputs := []struct {
		name string
		e    Encoding
		text string
	}{
		{"windows-1252/mixed", Windows1252, line},
		{"windows-1252/ascii", Windows1252, "2024-03-01,ACME Corp,Zurich,1234.50,Transfer for March\n"},
		{"windows-1252/accented", Windows1252, "éèàüöäßçñÉÈÀÜÖÄ€"},
		{"utf-8/mixed", UTF8, line},
	}
	for _, in := range inputs {
		var raw []byte
		if in.e == Windows1252 {
			raw = encode(b, charmap.Windows1252, strings.Repeat(in.text, 64<<10/len(in.text)))
		} else {
			raw = []byte(strings.Repeat(in.text, 64<<10/len(in.text)))
		}
		b.Run(in.name, func(b *testing.B) {
			dst := make([]byte, 0, 3*len(raw))
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = in.e.AppendUTF8(dst[:0], raw)
			}
		})
	}
}
