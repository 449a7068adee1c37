package dialect

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Encoding is a text encoding of a CSV file.
type Encoding int

// The encodings csvmesh reads. UTF8 is the zero value.
const (
	// UTF8 is UTF-8; a byte order mark at the start is tolerated and dropped.
	UTF8 Encoding = iota
	// UTF8BOM is UTF-8 announced by a byte order mark (Python's utf-8-sig).
	UTF8BOM
	// UTF16LE is little-endian UTF-16; a byte order mark is optional.
	UTF16LE
	// UTF16BE is big-endian UTF-16; a byte order mark is optional.
	UTF16BE
	// Windows1252 is the Windows Western European code page.
	Windows1252
	// Latin1 is ISO 8859-1: every byte is the code point of the same value.
	Latin1
	// UTF16 is UTF-16 whose byte order the byte order mark tells (little
	// endian without one, unless the bytes clearly say otherwise). Resolve
	// turns it into UTF16LE or UTF16BE.
	UTF16
)

// encodingNames are the canonical names, as in typev1.Dialect.encoding.
var encodingNames = [...]string{
	UTF8:        "utf-8",
	UTF8BOM:     "utf-8-sig",
	UTF16LE:     "utf-16le",
	UTF16BE:     "utf-16be",
	Windows1252: "windows-1252",
	Latin1:      "iso-8859-1",
	UTF16:       "utf-16",
}

// validEncodingNames lists the canonical names for error messages.
const validEncodingNames = "utf-8, utf-8-sig, utf-16, utf-16le, utf-16be, windows-1252, iso-8859-1"

// String returns the encoding's canonical name, such as "utf-8" or
// "windows-1252".
func (e Encoding) String() string {
	if e < 0 || int(e) >= len(encodingNames) {
		return fmt.Sprintf("Encoding(%d)", int(e))
	}
	return encodingNames[e]
}

// ParseEncoding returns the encoding a name stands for. Names are matched
// case-insensitively, with '_' and '-' alike, and common aliases are
// accepted: utf8, latin1, cp1252, utf-16 (byte order from the byte order
// mark) and others.
func ParseEncoding(name string) (Encoding, error) {
	n := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "_", "-")
	switch n {
	case "utf-8", "utf8":
		return UTF8, nil
	case "utf-8-sig", "utf8-sig", "utf-8-bom", "utf8-bom":
		return UTF8BOM, nil
	case "utf-16le", "utf16le", "utf-16-le", "utf16-le":
		return UTF16LE, nil
	case "utf-16be", "utf16be", "utf-16-be", "utf16-be":
		return UTF16BE, nil
	case "utf-16", "utf16":
		return UTF16, nil
	case "windows-1252", "windows1252", "cp1252", "cp-1252", "win-1252", "win1252":
		return Windows1252, nil
	case "iso-8859-1", "iso8859-1", "iso-8859-1:1987", "latin1", "latin-1", "l1", "iso-ir-100", "cp819", "ibm819":
		return Latin1, nil
	}
	if name == "" {
		return 0, fmt.Errorf("dialect: empty encoding name; valid names: %s", validEncodingNames)
	}
	return 0, fmt.Errorf("dialect: unknown encoding %q; valid names: %s", name, validEncodingNames)
}

// ASCIICompatible reports whether every ASCII character is the same single
// byte in this encoding, so that CSV structure can be parsed on the raw
// bytes. It is false for the UTF-16 encodings.
func (e Encoding) ASCIICompatible() bool {
	switch e {
	case UTF16LE, UTF16BE, UTF16:
		return false
	}
	return true
}

// BOM returns the byte order mark of the encoding, or nil if it has none.
// NewDecoder drops it from the start of the input.
func (e Encoding) BOM() []byte {
	switch e {
	case UTF8, UTF8BOM:
		return []byte{0xEF, 0xBB, 0xBF}
	case UTF16LE:
		return []byte{0xFF, 0xFE}
	case UTF16BE:
		return []byte{0xFE, 0xFF}
	}
	return nil
}

// AppendUTF8 appends b, text in this encoding as returned by the stream of
// NewDecoder, to dst as UTF-8, and reports whether b was valid. For
// Windows1252 and Latin1 it transcodes byte by byte; an undefined
// Windows-1252 byte (0x81, 0x8D, 0x8F, 0x90, 0x9D) becomes U+FFFD and makes
// it report false. For the UTF-8 and UTF-16 encodings (whose decoded stream
// is UTF-8) it appends b unchanged and reports utf8.Valid(b). It allocates
// only when dst has too little capacity.
func (e Encoding) AppendUTF8(dst, b []byte) ([]byte, bool) {
	switch e {
	case Windows1252:
		return appendSingleByte(dst, b, &windows1252Table)
	case Latin1:
		return appendSingleByte(dst, b, &latin1Table)
	}
	return append(dst, b...), utf8.Valid(b)
}

// byteTable maps each byte of a single-byte encoding to its UTF-8 form.
type byteTable [256]utf8Bytes

// utf8Bytes is the UTF-8 form of one byte: n bytes of b; bad marks a byte the
// encoding leaves undefined (b is then U+FFFD).
type utf8Bytes struct {
	b   [3]byte
	n   uint8
	bad bool
}

// The tables are filled once at package initialization and only read after.
var (
	windows1252Table = newByteTable(charmap.Windows1252)
	latin1Table      = newByteTable(charmap.ISO8859_1)
)

// newByteTable builds the table of a charmap.
func newByteTable(m *charmap.Charmap) byteTable {
	var t byteTable
	for i := range t {
		r := m.DecodeByte(byte(i))
		n := utf8.EncodeRune(t[i].b[:], r)
		t[i].n = uint8(n)
		t[i].bad = r == utf8.RuneError
	}
	return t
}

// asciiMask has the high bit of every byte of a word set.
const asciiMask = 0x8080808080808080

// asciiPrefix returns the length of the longest prefix of b that is ASCII.
func asciiPrefix(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&asciiMask != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= utf8.RuneSelf {
			return i
		}
	}
	return i
}

// appendSingleByte transcodes b with t, appending to dst.
func appendSingleByte(dst, b []byte, t *byteTable) ([]byte, bool) {
	n := asciiPrefix(b)
	dst = append(dst, b[:n]...)
	if n == len(b) {
		return dst, true
	}
	b = b[n:]
	// Grow once for the worst case (3 bytes per byte); dst is usually reused
	// by the caller. Writing into out can then never pass its end: before
	// each step, at least 3 bytes per byte still to read are free.
	dst = slices.Grow(dst, 3*len(b))
	out := dst[len(dst):cap(dst)]
	j := 0
	bad := false
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			// An ASCII run: copy it a word at a time.
			out[j] = c
			i++
			j++
			for i+8 <= len(b) {
				w := binary.LittleEndian.Uint64(b[i:])
				if w&asciiMask != 0 {
					break
				}
				binary.LittleEndian.PutUint64(out[j:], w)
				i += 8
				j += 8
			}
			continue
		}
		u := &t[c]
		_ = out[j+2]
		out[j], out[j+1], out[j+2] = u.b[0], u.b[1], u.b[2]
		j += int(u.n)
		bad = bad || u.bad
		i++
	}
	return dst[:len(dst)+j], !bad
}

// DetectEncoding guesses the encoding of a file from its first bytes. A byte
// order mark decides first. Then text with many NUL bytes at odd (or even)
// positions and almost none at the others is UTF-16 without a byte order
// mark; text that is valid UTF-8 is UTF-8 (a character cut by the end of a
// sample that is not the whole file counts as valid); anything else is
// Windows-1252, whose every byte is text. atEOF tells that sample is the
// whole file.
func DetectEncoding(sample []byte, atEOF bool) Encoding {
	switch {
	case len(sample) >= 3 && sample[0] == 0xEF && sample[1] == 0xBB && sample[2] == 0xBF:
		return UTF8BOM
	case len(sample) >= 2 && sample[0] == 0xFF && sample[1] == 0xFE:
		return UTF16LE
	case len(sample) >= 2 && sample[0] == 0xFE && sample[1] == 0xFF:
		return UTF16BE
	}
	if e, ok := utf16Order(sample); ok {
		return e
	}
	if validUTF8Prefix(sample, atEOF) {
		return UTF8
	}
	return Windows1252
}

// utf16Order tells UTF-16 without a byte order mark by its NUL bytes: text
// that is mostly ASCII has a NUL in the high byte of most code units and
// almost never in the low byte.
func utf16Order(b []byte) (Encoding, bool) {
	units := len(b) / 2
	if units == 0 {
		return 0, false
	}
	var even, odd int
	for i := 0; i+1 < len(b); i += 2 {
		if b[i] == 0 {
			even++
		}
		if b[i+1] == 0 {
			odd++
		}
	}
	// "Many": at least 40% of the units; "almost none": at most 10%.
	switch {
	case odd*5 >= units*2 && even*10 <= units:
		return UTF16LE, true
	case even*5 >= units*2 && odd*10 <= units:
		return UTF16BE, true
	}
	return 0, false
}

// validUTF8Prefix reports whether b is valid UTF-8, allowing b to end in
// the middle of a character when it is not the whole file.
func validUTF8Prefix(b []byte, atEOF bool) bool {
	if utf8.Valid(b) {
		return true
	}
	if atEOF {
		return false
	}
	// Find the start of the last character (at most 3 bytes back).
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		if utf8.RuneStart(b[i]) {
			return !utf8.FullRune(b[i:]) && utf8.Valid(b[:i])
		}
	}
	return false
}
