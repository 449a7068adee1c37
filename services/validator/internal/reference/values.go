package reference

import (
	"bytes"
	"strconv"
	"time"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// IsMissing reports whether a raw value stands for a missing value. The set is
// pandas' default na_values: the empty string, NA, N/A, n/a, null, NULL, NaN,
// nan, None and their relatives (#N/A, <NA>, -NaN, 1.#IND, ...). A lone "-"
// is not missing.
func IsMissing(v []byte) bool {
	switch len(v) {
	case 0:
		return true
	case 2:
		return string(v) == "NA"
	case 3:
		switch string(v) {
		case "N/A", "n/a", "NaN", "nan", "#NA":
			return true
		}
	case 4:
		switch string(v) {
		case "null", "NULL", "None", "#N/A", "<NA>", "-NaN", "-nan":
			return true
		}
	case 6:
		return string(v) == "1.#IND"
	case 7:
		switch string(v) {
		case "-1.#IND", "1.#QNAN":
			return true
		}
	case 8:
		switch string(v) {
		case "-1.#QNAN", "#N/A N/A":
			return true
		}
	}
	return false
}

// appendInteger appends the canonical form of a base-10 integer (no '+', no
// leading zeros, no "-0"). ok is false if v is not an integer; overflow is
// true if it is one that does not fit in an int64.
func appendInteger(dst, v []byte) (out []byte, ok, overflow bool) {
	neg := false
	d := v
	if len(d) > 0 && (d[0] == '-' || d[0] == '+') {
		neg = d[0] == '-'
		d = d[1:]
	}
	if len(d) == 0 {
		return dst, false, false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return dst, false, false
		}
	}
	for len(d) > 1 && d[0] == '0' {
		d = d[1:]
	}
	if len(d) > 19 || len(d) == 19 && (!neg && string(d) > "9223372036854775807" || neg && string(d) > "9223372036854775808") {
		return dst, true, true
	}
	if neg && !(len(d) == 1 && d[0] == '0') {
		dst = append(dst, '-')
	}
	return append(dst, d...), true, false
}

// isInteger reports whether v is an integer that fits in an int64, and
// whether it is any integer at all.
func isInteger(v []byte) (fits, integer bool) {
	var tmp [24]byte
	_, ok, overflow := appendInteger(tmp[:0], v)
	return ok && !overflow, ok
}

// appendNumber appends the canonical form of a decimal number: the same
// digits without sign '+', leading or trailing zeros, written plainly when
// the value is at least 1e-6 and below 1e21 (as JavaScript does) and as d.ddde±n otherwise.
// The value is kept exactly; no binary floating point is involved. ok is
// false if v is not a number ([+-]digits[.digits][e[+-]digits]).
func appendNumber(dst, v []byte) ([]byte, bool) {
	i := 0
	neg := false
	if i < len(v) && (v[i] == '+' || v[i] == '-') {
		neg = v[i] == '-'
		i++
	}
	intStart := i
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	intDigits := v[intStart:i]
	var fracDigits []byte
	if i < len(v) && v[i] == '.' {
		i++
		s := i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		fracDigits = v[s:i]
	}
	if len(intDigits) == 0 && len(fracDigits) == 0 {
		return dst, false
	}
	exp := int64(0)
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		eneg := false
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			eneg = v[i] == '-'
			i++
		}
		s := i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			if exp < 1e12 {
				exp = exp*10 + int64(v[i]-'0')
			}
			i++
		}
		if i == s {
			return dst, false
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(v) {
		return dst, false
	}
	if !hasNonZero(intDigits) && !hasNonZero(fracDigits) {
		return append(dst, '0'), true
	}
	// value = 0.D × 10^point, D without leading or trailing zeros.
	for len(intDigits) > 0 && intDigits[0] == '0' {
		intDigits = intDigits[1:]
	}
	point := exp + int64(len(intDigits))
	var tmp [64]byte
	digits := tmp[:0]
	if len(intDigits) > 0 {
		digits = append(digits, intDigits...)
		digits = append(digits, fracDigits...)
	} else {
		for len(fracDigits) > 0 && fracDigits[0] == '0' {
			fracDigits = fracDigits[1:]
			point--
		}
		digits = fracDigits
	}
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	if neg {
		dst = append(dst, '-')
	}
	n := int64(len(digits))
	switch {
	case point > 21 || point <= -6:
		dst = append(dst, digits[0])
		if n > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'e')
		if point-1 > 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, point-1, 10)
	case point <= 0:
		dst = append(dst, '0', '.')
		for range -point {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	case point >= n:
		dst = append(dst, digits...)
		for range point - n {
			dst = append(dst, '0')
		}
	default:
		dst = append(dst, digits[:point]...)
		dst = append(dst, '.')
		dst = append(dst, digits[point:]...)
	}
	return dst, true
}

func hasNonZero(d []byte) bool {
	for _, c := range d {
		if c != '0' {
			return true
		}
	}
	return false
}

// isNumber reports whether v is a number appendNumber accepts.
func isNumber(v []byte) bool {
	// Fast path for plain decimals, the common case.
	i := 0
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		i = 1
	}
	digits, dots := 0, 0
	for ; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && dots == 0:
			dots++
		default:
			var tmp [64]byte
			_, ok := appendNumber(tmp[:0], v)
			return ok
		}
	}
	return digits > 0
}

// parseBool parses the boolean spellings a schema accepts: true/false,
// yes/no, t/f, y/n and 1/0, in any case.
func parseBool(v []byte) (value, ok bool) {
	if len(v) > 5 {
		return false, false
	}
	var b [5]byte
	for i, c := range v {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	switch string(b[:len(v)]) {
	case "true", "yes", "t", "y", "1":
		return true, true
	case "false", "no", "f", "n", "0":
		return false, true
	}
	return false, false
}

// isBoolWord reports whether v is true or false in any case: the only values
// inference takes for booleans.
func isBoolWord(v []byte) bool {
	return (len(v) == 4 || len(v) == 5) && (bytes.EqualFold(v, []byte("true")) || bytes.EqualFold(v, []byte("false")))
}

func digits(v []byte, n int) (int, bool) {
	x := 0
	for i := range n {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		x = x*10 + int(c-'0')
	}
	return x, true
}

// parseDate parses YYYY-MM-DD at the start of v, checking the calendar.
func parseDate(v []byte) (y, m, d int, ok bool) {
	if len(v) < 10 || v[4] != '-' || v[7] != '-' {
		return 0, 0, 0, false
	}
	var ok1, ok2, ok3 bool
	y, ok1 = digits(v, 4)
	m, ok2 = digits(v[5:], 2)
	d, ok3 = digits(v[8:], 2)
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// isDate reports whether v is exactly a YYYY-MM-DD date.
func isDate(v []byte) bool {
	_, _, _, ok := parseDate(v)
	return ok && len(v) == 10
}

// appendDatetime parses an ISO 8601 / RFC 3339 date-time —
// YYYY-MM-DD[T| ]HH:MM:SS[.fraction][Z|±HH:MM|±HHMM], or a bare date taken
// as midnight — and appends it as RFC 3339 in UTC, fraction without trailing
// zeros. A date-time without an offset is taken as UTC.
func appendDatetime(dst, v []byte) ([]byte, bool) {
	y, mo, d, ok := parseDate(v)
	if !ok {
		return dst, false
	}
	if len(v) == 10 {
		dst = append(dst, v[:10]...)
		return append(dst, "T00:00:00Z"...), true
	}
	if len(v) < 19 || (v[10] != 'T' && v[10] != 't' && v[10] != ' ') || v[13] != ':' || v[16] != ':' {
		return dst, false
	}
	h, ok1 := digits(v[11:], 2)
	mi, ok2 := digits(v[14:], 2)
	s, ok3 := digits(v[17:], 2)
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || s > 59 {
		return dst, false
	}
	rest := v[19:]
	var frac []byte
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 || i > 10 {
			return dst, false
		}
		frac = rest[1:i]
		rest = rest[i:]
	}
	offset := 0
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case (len(rest) == 6 && rest[3] == ':' || len(rest) == 5) && (rest[0] == '+' || rest[0] == '-'):
		oh, ok1 := digits(rest[1:], 2)
		om, ok2 := digits(rest[len(rest)-2:], 2)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return dst, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return dst, false
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	if offset == 0 {
		dst = append(dst, v[:10]...)
		dst = append(dst, 'T')
		dst = append(dst, v[11:19]...)
	} else {
		t := time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC).Add(-time.Duration(offset) * time.Second)
		dst = t.AppendFormat(dst, "2006-01-02T15:04:05")
	}
	if len(frac) > 0 {
		dst = append(dst, '.')
		dst = append(dst, frac...)
	}
	return append(dst, 'Z'), true
}

// Inference candidates: the types every value of a column so far satisfies.
const (
	candInteger uint8 = 1 << iota
	candNumber
	candBoolean
	candDate
	candDatetime
	candAll = candInteger | candNumber | candBoolean | candDate | candDatetime
)

// candidates returns the inference candidates among alive that v satisfies.
func candidates(v []byte, alive uint8) uint8 {
	var m uint8
	c := v[0]
	if alive&(candInteger|candNumber) != 0 && (c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.') {
		if fits, integer := isInteger(v); integer {
			m |= candNumber
			if fits {
				m |= candInteger
			}
		} else if alive&candNumber != 0 && isNumber(v) {
			m |= candNumber
		}
	}
	if alive&candBoolean != 0 && isBoolWord(v) {
		m |= candBoolean
	}
	if alive&(candDate|candDatetime) != 0 && len(v) >= 10 && c >= '0' && c <= '9' {
		if isDate(v) {
			m |= candDate | candDatetime
		} else if alive&candDatetime != 0 {
			var tmp [48]byte
			if _, ok := appendDatetime(tmp[:0], v); ok {
				m |= candDatetime
			}
		}
	}
	return m & alive
}

// inferredType turns what is left of a column's candidates into its type.
// seen is false for a column whose values were all missing.
func inferredType(alive uint8, seen bool) typev1.FieldType {
	switch {
	case !seen:
		return typev1.FieldType_FIELD_TYPE_STRING
	case alive&candInteger != 0:
		return typev1.FieldType_FIELD_TYPE_INTEGER
	case alive&candNumber != 0:
		return typev1.FieldType_FIELD_TYPE_NUMBER
	case alive&candBoolean != 0:
		return typev1.FieldType_FIELD_TYPE_BOOLEAN
	case alive&candDate != 0:
		return typev1.FieldType_FIELD_TYPE_DATE
	case alive&candDatetime != 0:
		return typev1.FieldType_FIELD_TYPE_DATETIME
	}
	return typev1.FieldType_FIELD_TYPE_STRING
}
