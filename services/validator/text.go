package validator

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// SWAR constants: lsb and msb repeat the lowest and the highest bit of a byte
// over a word. For a mask m repeating byte b, a byte of x = v^m is zero
// exactly where v holds b, and ((x - lsb) &^ x) & msb is non-zero if and only
// if some byte of x is zero.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasByte reports whether some byte of v equals the byte mask repeats.
func hasByte(v, mask uint64) uint64 {
	x := v ^ mask
	return (x - lsb) &^ x
}

// isASCII reports whether b is all ASCII.
func isASCII(b []byte) bool {
	var high uint64
	for len(b) >= 8 {
		high |= binary.LittleEndian.Uint64(b)
		b = b[8:]
	}
	for _, c := range b {
		high |= uint64(c)
	}
	return high&msb == 0
}

// validUTF8 is utf8.Valid, faster on text that is mostly ASCII with some
// multi-byte characters: it skips ASCII 16 bytes at a time and decodes
// only the runs of other bytes.
func validUTF8(b []byte) bool {
	for len(b) >= 16 {
		if (binary.LittleEndian.Uint64(b)|binary.LittleEndian.Uint64(b[8:]))&msb == 0 {
			b = b[16:]
			continue
		}
		for b[0] < utf8.RuneSelf {
			b = b[1:]
		}
		for len(b) > 0 && b[0] >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(b)
			if r == utf8.RuneError && n == 1 {
				return false
			}
			b = b[n:]
		}
	}
	return utf8.Valid(b)
}

// needsQuoting reports whether a value written to a normalized CSV needs
// quotes: it holds a comma, a quote, CR or LF.
func needsQuoting(f []byte) bool {
	if len(f) < 16 {
		for _, c := range f {
			if quoted[c] {
				return true
			}
		}
		return false
	}
	for len(f) >= 8 {
		v := binary.LittleEndian.Uint64(f)
		if (hasByte(v, ','*lsb)|hasByte(v, '"'*lsb)|hasByte(v, '\n'*lsb)|hasByte(v, '\r'*lsb))&msb != 0 {
			return true
		}
		f = f[8:]
	}
	for _, c := range f {
		if quoted[c] {
			return true
		}
	}
	return false
}

// quoted marks the bytes that make a value need quotes.
var quoted = [256]bool{',': true, '"': true, '\n': true, '\r': true}

// tailNeedsQuoting is needsQuoting(line[s:]) for the value just appended
// to line. It reads whole words past the value into line's spare capacity,
// masking off the bytes beyond it, so a short value costs one word.
func tailNeedsQuoting(line []byte, s int) bool {
	n := len(line) - s
	if cap(line)-len(line) < 8 {
		return needsQuoting(line[s:])
	}
	p := line[s:cap(line)]
	for ; n >= 8; n -= 8 {
		if quoteByte(binary.LittleEndian.Uint64(p)) {
			return true
		}
		p = p[8:]
	}
	// A masked-off byte is 0, which needs no quotes.
	return n > 0 && quoteByte(binary.LittleEndian.Uint64(p)&(1<<(8*n)-1))
}

// quoteByte reports whether a byte of v is a comma, a quote, CR or LF.
func quoteByte(v uint64) bool {
	return (hasByte(v, ','*lsb)|hasByte(v, '"'*lsb)|hasByte(v, '\n'*lsb)|hasByte(v, '\r'*lsb))&msb != 0
}

// plainRecord reports whether raw, the text of a ','-separated record,
// holds no '"', quote or escape byte (escape 0 is none), so that its fields
// are unquoted and none needs quotes: raw is then its own normalized form.
func plainRecord(raw []byte, quote, escape byte) bool {
	if escape == 0 {
		escape = '"'
	}
	m1, m2, m3 := uint64('"')*lsb, uint64(quote)*lsb, uint64(escape)*lsb
	var found uint64
	for len(raw) >= 8 {
		v := binary.LittleEndian.Uint64(raw)
		found |= hasByte(v, m1) | hasByte(v, m2) | hasByte(v, m3)
		raw = raw[8:]
	}
	if found&msb != 0 {
		return false
	}
	for _, c := range raw {
		if c == '"' || c == quote || c == escape {
			return false
		}
	}
	return true
}

// appendValidUTF8 appends s with each run of invalid UTF-8 bytes replaced by
// one U+FFFD, as strings.ToValidUTF8(s, "\uFFFD") does, without allocating.
func appendValidUTF8(dst, s []byte) []byte {
	if utf8.Valid(s) {
		return append(dst, s...)
	}
	invalid := false // the previous byte was invalid
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			dst = append(dst, c)
			invalid = false
			i++
			continue
		}
		_, w := utf8.DecodeRune(s[i:])
		if w == 1 {
			if !invalid {
				dst = append(dst, "\uFFFD"...)
				invalid = true
			}
			i++
			continue
		}
		dst = append(dst, s[i:i+w]...)
		invalid = false
		i += w
	}
	return dst
}

// countBreaks counts the line breaks (LF, CRLF or lone CR, each once) in
// seg, as csvparse counts the lines of a record.
func countBreaks(seg []byte) int64 {
	n := int64(bytes.Count(seg, []byte{'\n'}))
	for i := 0; ; {
		k := bytes.IndexByte(seg[i:], '\r')
		if k < 0 {
			return n
		}
		i += k + 1
		if i == len(seg) || seg[i] != '\n' {
			n++
		}
	}
}

// cutUTF8 shortens s to at most n bytes without splitting a rune.
func cutUTF8[T string | []byte](s T, n int) T {
	if len(s) > n {
		cut := n
		for cut > 0 && cut > n-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
