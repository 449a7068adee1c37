package validator

import (
	"bytes"
	"encoding/binary"
	"math/big"
	"strconv"
	"time"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// IsMissing reports whether a raw value stands for a missing value. The set is
// pandas' default na_values: the empty string, NA, N/A, n/a, null, NULL, NaN,
// nan, None and their relatives (#N/A, <NA>, -NaN, 1.#IND, ...). A lone "-"
// is not missing.
func IsMissing(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	// Most values are ruled out by their length and first byte.
	if len(v) > 8 || missingFirst[v[0]]&(1<<len(v)) == 0 {
		return false
	}
	switch len(v) {
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

// missingMarkers are the non-empty values IsMissing takes for missing. None
// of them is a value of any other type (no integer, number, boolean, date or
// date-time, in a schema or in inference), so a value that parses as one is
// known not to be missing without calling IsMissing.
var missingMarkers = []string{"NA", "N/A", "n/a", "NaN", "nan", "#NA", "null", "NULL", "None", "#N/A", "<NA>",
	"-NaN", "-nan", "1.#IND", "-1.#IND", "1.#QNAN", "-1.#QNAN", "#N/A N/A"}

// missingFirst[c] has bit n set if a missing marker of n bytes starts with c.
var missingFirst = func() (t [256]uint16) {
	for _, m := range missingMarkers {
		t[m[0]] |= 1 << len(m)
	}
	return t
}()

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
	neg := false
	d := v
	if len(d) > 0 && (d[0] == '-' || d[0] == '+') {
		neg = d[0] == '-'
		d = d[1:]
	}
	if len(d) == 0 {
		return false, false
	}
	for _, c := range d {
		if c-'0' > 9 {
			return false, false
		}
	}
	if len(d) < 19 {
		return true, true
	}
	for len(d) > 1 && d[0] == '0' {
		d = d[1:]
	}
	return !(len(d) > 19 || len(d) == 19 && (!neg && string(d) > "9223372036854775807" || neg && string(d) > "9223372036854775808")), true
}

// appendNumber appends the canonical form of a decimal number: the same
// digits without sign '+', leading or trailing zeros, written plainly when
// the value is at least 1e-6 and below 1e21 (as JavaScript does) and as d.ddde±n otherwise.
// The value is kept exactly; no binary floating point is involved. ok is
// false if v is not a number ([+-]digits[.digits][e[+-]digits]).
func appendNumber(dst, v []byte) ([]byte, bool) {
	if out, ok := appendPlainDecimal(dst, v); ok {
		return out, true
	}
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
	var expDigits []byte // the exponent's digits, when exp saturated
	eneg := false
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
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
		if exp >= 1e12 {
			expDigits = v[s:i]
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
		if expDigits != nil {
			// exp stopped growing at 1e12: print the exponent exactly.
			e, _ := new(big.Int).SetString(string(expDigits), 10)
			if eneg {
				e.Neg(e)
			}
			e.Add(e, big.NewInt(point-exp-1))
			if e.Sign() > 0 {
				dst = append(dst, '+')
			}
			dst = e.Append(dst, 10)
			break
		}
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

// Byte classes of scanDecimal.
const (
	classDigit uint8 = 1 << iota
	classDot
	classOther
)

// decimalClass maps a byte to its class.
var decimalClass = func() (t [256]uint8) {
	for i := range t {
		t[i] = classOther
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = classDigit
	}
	t['.'] = classDot
	return t
}()

// scanDecimal classifies d in a single pass through a class table: plain is
// true if d is digits with at most one '.' and at least one digit, and then
// hasDot tells whether there is a '.'.
func scanDecimal(d []byte) (hasDot, plain bool) {
	var seen uint8
	dots := 0
	for _, c := range d {
		k := decimalClass[c]
		seen |= k
		dots += int(k & classDot)
	}
	return dots != 0, seen&^classDot == classDigit && dots <= int(classDot)
}

// appendPlainDecimal is appendNumber's fast path for the common case, an
// optional '-', 1 to 21 integer digits without a leading zero and an optional
// fraction: such a number is already canonical but for trailing zeros (and a
// trailing '.'). ok is false for anything else, which appendNumber then
// handles in full.
func appendPlainDecimal(dst, v []byte) ([]byte, bool) {
	d := v
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || d[0] < '1' || d[0] > '9' {
		return dst, false
	}
	hasDot, plain := scanDecimal(d)
	if !plain || len(d) > 21 && bytes.IndexByte(d[:22], '.') < 0 {
		return dst, false // not plain, or more than 21 integer digits
	}
	end := len(v)
	if hasDot {
		// Keep the fraction up to its last non-zero digit, and the '.' only
		// if a digit is kept after it.
		for v[end-1] == '0' {
			end--
		}
		if v[end-1] == '.' {
			end--
		}
	}
	return append(dst, v[:end]...), true
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
	d := v
	if len(d) > 0 && (d[0] == '-' || d[0] == '+') {
		d = d[1:]
	}
	if _, plain := scanDecimal(d); plain {
		return true
	}
	var tmp [64]byte
	_, ok := appendNumber(tmp[:0], v)
	return ok
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

// digit2 parses the two decimal digits at the start of v.
func digit2(v []byte) (int, bool) {
	a, b := v[0]-'0', v[1]-'0'
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

// Word-at-a-time checks of the fixed-width parts of dates and times. A word
// holds eight bytes, byte k in bits 8k to 8k+7.
const (
	nibblesHigh = 0xF0F0F0F0F0F0F0F0
	asciiZeros  = 0x3030303030303030
	asciiSixes  = 0x0606060606060606
	// "YYYY-MM-": the separators are bytes 4 and 7.
	dateSeps   = 0xFF0000FF00000000
	dateDashes = 0x2D00002D00000000
	dateZeros  = 0x3000003000000000
	// "HH:MM:SS": the separators are bytes 2 and 5.
	timeSeps   = 0x0000FF0000FF0000
	timeColons = 0x00003A00003A0000
	timeZeros  = 0x0000300000300000
)

// allDigits reports whether every byte of x is an ASCII digit: its high
// nibble is 3 and adding 6 does not carry into the high nibble (which,
// given the first condition, cannot carry into the next byte either).
func allDigits(x uint64) bool {
	return (x&nibblesHigh^asciiZeros)|((x+asciiSixes)&nibblesHigh^asciiZeros) == 0
}

// digitAt returns the value of the ASCII digit in byte k of x.
func digitAt(x uint64, k uint) int { return int(x >> (8 * k) & 0xF) }

// parseDate parses YYYY-MM-DD at the start of v, checking the calendar.
func parseDate(v []byte) (y, m, d int, ok bool) {
	if len(v) < 10 {
		return 0, 0, 0, false
	}
	a := binary.LittleEndian.Uint64(v)
	d, ok1 := digit2(v[8:])
	if a&dateSeps != dateDashes || !allDigits(a&^dateSeps|dateZeros) || !ok1 {
		return 0, 0, 0, false
	}
	y = digitAt(a, 0)*1000 + digitAt(a, 1)*100 + digitAt(a, 2)*10 + digitAt(a, 3)
	m = digitAt(a, 5)*10 + digitAt(a, 6)
	if m < 1 || m > 12 || d < 1 || d > 28 && d > daysIn(y, m) {
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

// datetime is a date-time parsed by parseDatetime.
type datetime struct {
	y, mo, d, h, mi, s int
	frac               []byte // digits of the fraction, trailing zeros removed
	offset             int    // seconds east of UTC
	dateOnly           bool   // v was a bare date
}

// parseDatetime parses an ISO 8601 / RFC 3339 date-time:
// YYYY-MM-DD[T| ]HH:MM:SS[.fraction][Z|±HH:MM|±HHMM], or a bare date.
func parseDatetime(v []byte) (t datetime, ok bool) {
	t.y, t.mo, t.d, ok = parseDate(v)
	if !ok {
		return t, false
	}
	if len(v) == 10 {
		t.dateOnly = true
		return t, true
	}
	if len(v) < 19 || (v[10] != 'T' && v[10] != 't' && v[10] != ' ') {
		return t, false
	}
	hms := binary.LittleEndian.Uint64(v[11:19])
	if hms&timeSeps != timeColons || !allDigits(hms&^timeSeps|timeZeros) {
		return t, false
	}
	t.h = digitAt(hms, 0)*10 + digitAt(hms, 1)
	t.mi = digitAt(hms, 3)*10 + digitAt(hms, 4)
	t.s = digitAt(hms, 6)*10 + digitAt(hms, 7)
	if t.h > 23 || t.mi > 59 || t.s > 59 {
		return t, false
	}
	rest := v[19:]
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		i := 1
		for i < len(rest) && rest[i]-'0' <= 9 {
			i++
		}
		if i == 1 || i > 10 {
			return t, false
		}
		t.frac = rest[1:i]
		rest = rest[i:]
	}
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case (len(rest) == 6 && rest[3] == ':' || len(rest) == 5) && (rest[0] == '+' || rest[0] == '-'):
		oh, ok1 := digit2(rest[1:])
		om, ok2 := digit2(rest[len(rest)-2:])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return t, false
		}
		t.offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			t.offset = -t.offset
		}
	default:
		return t, false
	}
	for len(t.frac) > 0 && t.frac[len(t.frac)-1] == '0' {
		t.frac = t.frac[:len(t.frac)-1]
	}
	return t, true
}

// isDatetime reports whether appendDatetime accepts v.
func isDatetime(v []byte) bool {
	_, ok := parseDatetime(v)
	return ok
}

// appendDatetime parses an ISO 8601 / RFC 3339 date-time —
// YYYY-MM-DD[T| ]HH:MM:SS[.fraction][Z|±HH:MM|±HHMM], or a bare date taken
// as midnight — and appends it as RFC 3339 in UTC, fraction without trailing
// zeros. A date-time without an offset is taken as UTC.
func appendDatetime(dst, v []byte) ([]byte, bool) {
	t, ok := parseDatetime(v)
	switch {
	case !ok:
		return dst, false
	case t.dateOnly:
		dst = append(dst, v[:10]...)
		return append(dst, "T00:00:00Z"...), true
	case t.offset == 0 && v[10] == 'T' && (len(t.frac) == 0 || v[19] == '.'):
		// The common case: v starts with its normalized form.
		n := 19
		if len(t.frac) > 0 {
			n += 1 + len(t.frac)
		}
		return append(append(dst, v[:n]...), 'Z'), true
	case t.offset == 0:
		dst = append(dst, v[:10]...)
		dst = append(dst, 'T')
		dst = append(dst, v[11:19]...)
	default:
		u := time.Date(t.y, time.Month(t.mo), t.d, t.h, t.mi, t.s, 0, time.UTC).Add(-time.Duration(t.offset) * time.Second)
		dst = u.AppendFormat(dst, "2006-01-02T15:04:05")
	}
	if len(t.frac) > 0 {
		dst = append(dst, '.')
		dst = append(dst, t.frac...)
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
	// Every integer is a number, so candInteger is only alive with
	// candNumber; once it is gone, only number syntax is checked.
	if alive&(candInteger|candNumber) != 0 && (c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.') {
		if alive&candInteger == 0 {
			if isNumber(v) {
				m |= candNumber
			}
		} else if fits, integer := isInteger(v); integer {
			m |= candNumber
			if fits {
				m |= candInteger
			}
		} else if isNumber(v) {
			m |= candNumber
		}
	}
	if alive&candBoolean != 0 && isBoolWord(v) {
		m |= candBoolean
	}
	if alive&(candDate|candDatetime) != 0 && len(v) >= 10 && c >= '0' && c <= '9' {
		// A 10-byte value is a date-time exactly when it is a date.
		if len(v) == 10 {
			if isDate(v) {
				m |= candDate | candDatetime
			}
		} else if alive&candDatetime != 0 && isDatetime(v) {
			m |= candDatetime
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
