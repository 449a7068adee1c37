package tableschema

import (
	"encoding/binary"
	"math"
)

// QuickKind names a field whose canonical values an engine can recognize
// in line, without a call per value; see Field.Quick.
type QuickKind uint8

const (
	// QuickNone means: check values with Canonical.
	QuickNone QuickKind = iota
	// QuickText is a string (default format) or any field without
	// transforms, formula neutralization or pattern: every value is
	// canonical, and valid unless MinLen, MaxLen or Enum says otherwise.
	QuickText
	// QuickInteger is a bare integer field without groupChar or
	// transforms: a value of at most 18 bytes is canonical if and only if
	// it is "0" or -?[1-9][0-9]*, and valid if it is within IntMin and
	// IntMax. (Longer values: Canonical.)
	QuickInteger
	// QuickNumber is a bare number field with the '.' decimal mark,
	// without groupChar or transforms: a value -?(0|[1-9][0-9]*)(\.[0-9]+)?
	// is canonical, and valid if it is at least Min and at most Max, the
	// comparison of strconv.ParseFloat's value. (Other forms, such as
	// exponents, NaN and the infinities: Canonical.)
	QuickNumber
	// QuickDatetime is a datetime field in the default format without
	// minimum, maximum or enum: a value is canonical if and only if
	// CanonicalDatetimeLen(value) == len(value).
	QuickDatetime
)

// Quick says how to recognize the field's canonical values in line.
type Quick struct {
	// Kind is the field's kind, or QuickNone.
	Kind QuickKind
	// MinLen and MaxLen bound a QuickText value's length in characters
	// (runes); -1 when unset.
	MinLen, MaxLen int64
	// Enum lists the values a QuickText field allows; nil allows any.
	Enum []string
	// IntMin and IntMax bound a QuickInteger value (math.MinInt64 and
	// math.MaxInt64 when unset).
	IntMin, IntMax int64
	// Min and Max bound a QuickNumber value (-Inf and +Inf when unset).
	Min, Max float64
}

// Quick returns how an engine may recognize the field's canonical values
// in line: for each Kind, a non-empty value of the form its doc describes
// is exactly one that Canonical accepts. Required and missing values are
// the engine's to check, as with Normalize.
func (f *Field) Quick() Quick {
	q := Quick{MinLen: -1, MaxLen: -1, IntMin: math.MinInt64, IntMax: math.MaxInt64, Min: math.Inf(-1), Max: math.Inf(1)}
	if len(f.transforms) > 0 || f.neutralize || f.re != nil {
		return q
	}
	switch f.kind {
	case kindString, kindAny:
		q.Kind, q.MinLen, q.MaxLen = QuickText, f.minLen, f.maxLen
		if f.enumList != nil {
			q.Enum = f.enumList
		}
	case kindInteger:
		if !f.bare || f.group != nil || f.enumList != nil {
			return q
		}
		q.Kind = QuickInteger
		if f.min != nil {
			q.IntMin = f.min.v.i
		}
		if f.max != nil {
			q.IntMax = f.max.v.i
		}
	case kindNumber:
		if !f.plainNumber || f.enumList != nil {
			return q
		}
		q.Kind = QuickNumber
		if f.min != nil {
			q.Min = f.min.v.f
		}
		if f.max != nil {
			q.Max = f.max.v.f
		}
	case kindDatetime:
		if f.min == nil && f.max == nil && f.enumList == nil {
			q.Kind = QuickDatetime
		}
	}
	return q
}

// CanonicalDatetimeLen returns the length of the canonical datetime that b
// starts with, YYYY-MM-DDTHH:MM:SS[.fraction][Z|±hh:mm] (a valid date and
// time, 1 to 9 fraction digits), or 0 when b starts with none. Whatever
// follows the datetime is not looked at, but for the offset: a '+' or '-'
// that starts no ±hh:mm offset ends it.
func CanonicalDatetimeLen(b []byte) int {
	if len(b) < 19 {
		return 0
	}
	// YYYY-MM-DDTHH:MM:SS, 8 bytes at a time (bytes 0-7, 8-15 and 11-18):
	// the template subtracted, digits are 0-9 and separators 0 (a byte
	// below its template's wraps to 0x80 or more), and adding 0x76 to a
	// digit or 0x7f to a separator sets its high bit only when it is out
	// of range.
	const (
		lsb  = 0x0101010101010101
		msb  = 0x8080808080808080
		tpl0 = 0x2d30302d30303030 // "0000-00-"
		add0 = 0x7f76767f76767676
		tpl1 = 0x30303a3030543030 // "00T00:00"
		add1 = 0x76767f76767f7676
		tpl2 = 0x30303a30303a3030 // "00:00:00"
		add2 = 0x76767f76767f7676
	)
	w0 := binary.LittleEndian.Uint64(b) - tpl0
	w1 := binary.LittleEndian.Uint64(b[8:]) - tpl1
	w2 := binary.LittleEndian.Uint64(b[11:]) - tpl2
	if (w0|(w0+add0)|w1|(w1+add1)|w2|(w2+add2))&msb != 0 {
		return 0
	}
	m := int(w0>>40&0xff)*10 + int(w0>>48&0xff)
	d := int(w1&0xff)*10 + int(w1>>8&0xff)
	h := int(w2&0xff)*10 + int(w2>>8&0xff)
	mi := int(w2>>24&0xff)*10 + int(w2>>32&0xff)
	sec := int(w2>>48&0xff)*10 + int(w2>>56&0xff)
	if uint(m-1) > 11 || h > 23 || mi > 59 || sec > 59 || d == 0 ||
		d > 28 && d > DaysIn(int(w0&0xff)*1000+int(w0>>8&0xff)*100+int(w0>>16&0xff)*10+int(w0>>24&0xff), m) {
		return 0
	}
	n := 19
	if n < len(b) && b[n] == '.' {
		n++
		for n < len(b) && b[n]-'0' <= 9 {
			n++
		}
		if n == 20 || n > 29 {
			return 0
		}
	}
	if n < len(b) {
		switch b[n] {
		case 'Z':
			n++
		case '+', '-':
			if len(b)-n >= 6 && b[n+3] == ':' {
				oh, ok1 := num2(b[n+1], b[n+2])
				om, ok2 := num2(b[n+4], b[n+5])
				if ok1 && ok2 && oh <= 23 && om <= 59 {
					n += 6
				}
			}
		}
	}
	return n
}

// ParseCanonicalNumber returns the value of a number in the canonical form
// -?digits(.digits)? as strconv.ParseFloat does, fast for up to 15 digits.
func ParseCanonicalNumber(v []byte) float64 { return parseFloat(v) }
