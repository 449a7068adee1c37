package tableschema

import (
	"bytes"
	"math"
	"net/url"
	"strconv"
	"unicode"
	"unicode/utf8"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// errCode says why a value is not of its type.
type errCode uint8

const (
	valueOK errCode = iota
	valueSyntax
	valueRange
)

// Normalize applies the field's transforms to v, a non-missing UTF-8 value,
// checks the result against the field's type, format and the constraints
// minimum, maximum, minLength, maxLength, pattern and enum (not required and
// unique, which need the whole file), and appends its canonical text to dst.
// On error dst is returned unchanged. It allocates nothing on the valid path
// once dst has room.
func (f *Field) Normalize(dst, v []byte) ([]byte, *ValueError) {
	if f.plain {
		out, code := f.appendValue(dst, v, nil)
		if code != valueOK {
			return dst, f.typeError(v, code)
		}
		return out, nil
	}
	if len(f.transforms) == 0 {
		return f.norm(dst, v)
	}
	n0 := len(dst)
	cased := false
	for _, t := range f.transforms {
		switch t {
		case typev1.Transform_TRANSFORM_TRIM:
			v = bytes.TrimSpace(v)
		case typev1.Transform_TRANSFORM_UPPER, typev1.Transform_TRANSFORM_LOWER:
			// The mapped value goes to dst's tail; the canonical text is moved
			// down over it below.
			start := len(dst)
			dst = appendCase(dst, v, t == typev1.Transform_TRANSFORM_UPPER)
			v = dst[start:]
			cased = true
		}
	}
	if !cased {
		return f.norm(dst, v)
	}
	tail := len(dst)
	out, ve := f.norm(dst, v)
	if ve != nil {
		return dst[:n0], ve
	}
	n := copy(out[n0:], out[tail:])
	return out[:n0+n], nil
}

// Canonical reports whether Normalize(dst, v) would append v itself and
// return no error: v, a non-missing UTF-8 value, is valid for the field
// and already in its canonical form. Engines use it to copy a record whose
// values are all canonical as it is. scratch is working space for the
// forms it cannot check in place; it is returned, perhaps grown, for reuse.
// It allocates nothing once scratch has room.
func (f *Field) Canonical(scratch, v []byte) ([]byte, bool) {
	if len(f.transforms) == 0 {
		if f.neutralize && len(v) > 0 && formulaStart[v[0]] {
			return scratch, false
		}
		var sc scalar
		switch f.kind {
		case kindString, kindAny:
		case kindInteger:
			if !f.bare || f.group != nil || len(v) == 0 || len(v) > 18 {
				return f.canonicalByAppend(scratch, v)
			}
			n, canonical, ok := smallInteger(v)
			if !ok || !canonical {
				return scratch, false
			}
			sc.i = n
		case kindNumber:
			if !f.plainNumber || !canonicalNumber(v) {
				return f.canonicalByAppend(scratch, v)
			}
			if f.min != nil || f.max != nil {
				sc.f = parseFloat(v)
			}
		case kindBoolean:
			b, ok := f.parseBool(v)
			if !ok || b && string(v) != "true" || !b && string(v) != "false" {
				return scratch, false
			}
		case kindDate:
			if len(v) != 10 {
				return scratch, false
			}
			y, m, d, ok := isoDate(v)
			if !ok {
				return scratch, false
			}
			if f.min != nil || f.max != nil {
				sc.i = DaysFromCivil(y, m, d)
			}
		case kindDatetime:
			psc := &sc
			if f.min == nil && f.max == nil {
				psc = nil
			}
			if ok, compact := scanISODatetime(v, psc); !ok || compact || v[10] != 'T' {
				return scratch, false
			}
		default:
			return f.canonicalByAppend(scratch, v)
		}
		return scratch, !f.checks || f.violated(v, v, sc) == ""
	}
	// Apply the transforms as Normalize does, into scratch.
	w := v
	scratch = scratch[:0]
	for _, t := range f.transforms {
		switch t {
		case typev1.Transform_TRANSFORM_TRIM:
			w = bytes.TrimSpace(w)
		case typev1.Transform_TRANSFORM_UPPER, typev1.Transform_TRANSFORM_LOWER:
			start := len(scratch)
			scratch = appendCase(scratch, w, t == typev1.Transform_TRANSFORM_UPPER)
			w = scratch[start:]
		}
	}
	return f.canonicalOf(scratch, w, v)
}

// canonicalByAppend is Canonical for a value without transforms, by
// writing its canonical text to scratch.
func (f *Field) canonicalByAppend(scratch, v []byte) ([]byte, bool) {
	return f.canonicalOf(scratch[:0], v, v)
}

// canonicalOf reports whether w, a value after transforms, is valid and
// its canonical text (written after scratch's contents) is orig.
func (f *Field) canonicalOf(scratch, w, orig []byte) ([]byte, bool) {
	var sc scalar
	psc := &sc
	if f.min == nil && f.max == nil {
		psc = nil
	}
	n0 := len(scratch)
	out, code := f.appendValue(scratch, w, psc)
	if code != valueOK {
		return scratch, false
	}
	canon := out[n0:]
	if !bytes.Equal(canon, orig) || f.checks && f.violated(w, canon, sc) != "" ||
		f.neutralize && len(canon) > 0 && formulaStart[canon[0]] {
		return out, false
	}
	return out, true
}

// formulaStart marks the first bytes that neutralization prefixes with a '.
var formulaStart = [256]bool{'=': true, '+': true, '-': true, '@': true, '\t': true, '\r': true}

// applyTransforms returns v after the transforms ts, appended to dst.
func applyTransforms(dst, v []byte, ts []typev1.Transform) []byte {
	for _, t := range ts {
		switch t {
		case typev1.Transform_TRANSFORM_TRIM:
			v = bytes.TrimSpace(v)
		case typev1.Transform_TRANSFORM_UPPER:
			v = appendCase(nil, v, true)
		case typev1.Transform_TRANSFORM_LOWER:
			v = appendCase(nil, v, false)
		}
	}
	return append(dst, v...)
}

// appendCase appends v upper- or lower-cased, rune by rune, as bytes.ToUpper
// and bytes.ToLower map it.
func appendCase(dst, v []byte, upper bool) []byte {
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			if upper && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			} else if !upper && 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, w := utf8.DecodeRune(v[i:])
		if upper {
			r = unicode.ToUpper(r)
		} else {
			r = unicode.ToLower(r)
		}
		dst = utf8.AppendRune(dst, r)
		i += w
	}
	return dst
}

// norm checks v (after transforms) and appends its canonical text.
func (f *Field) norm(dst, v []byte) ([]byte, *ValueError) {
	n0 := len(dst)
	var sc scalar
	psc := &sc
	if f.min == nil && f.max == nil {
		psc = nil
	}
	out, code := f.appendValue(dst, v, psc)
	if code != valueOK {
		return dst[:n0], f.typeError(v, code)
	}
	if f.checks {
		if ve := f.checkConstraints(v, out[n0:], sc); ve != nil {
			return dst[:n0], ve
		}
	}
	if f.neutralize && len(out) > n0 && formulaStart[out[n0]] {
		out = append(out, 0)
		copy(out[n0+1:], out[n0:])
		out[n0] = '\''
	}
	return out, nil
}

// appendValue checks v against the field's type and format and appends its
// canonical text; when sc is not nil it also sets *sc to the value in the
// type's order.
func (f *Field) appendValue(dst, v []byte, sc *scalar) ([]byte, errCode) {
	switch f.kind {
	case kindString, kindAny:
		return append(dst, v...), valueOK
	case kindInteger:
		return f.appendInteger(dst, v, sc)
	case kindNumber:
		n0 := len(dst)
		out, ok := f.appendNumber(dst, v)
		if !ok {
			return dst, valueSyntax
		}
		if sc != nil {
			sc.f = parseFloat(out[n0:])
		}
		return out, valueOK
	case kindBoolean:
		b, ok := f.parseBool(v)
		if !ok {
			return dst, valueSyntax
		}
		if b {
			return append(dst, "true"...), valueOK
		}
		return append(dst, "false"...), valueOK
	case kindDate:
		if len(v) != 10 {
			return dst, valueSyntax
		}
		y, m, d, ok := isoDate(v)
		if !ok {
			return dst, valueSyntax
		}
		if sc != nil {
			sc.i = DaysFromCivil(y, m, d)
		}
		return append(dst, v...), valueOK
	case kindDatetime:
		return appendISODatetime(dst, v, sc)
	case kindTime:
		var c civil
		if !parseISOTime(v, &c) {
			return dst, valueSyntax
		}
		if sc != nil {
			sc.i, sc.ns = int64(c.hour*3600+c.minute*60+c.sec), nanos(c.frac)
		}
		return append(dst, v...), valueOK
	case kindDateLayout, kindTimeLayout, kindDatetimeLayout:
		return f.appendLayout(dst, v, sc)
	case kindYear:
		if len(v) != 4 {
			return dst, valueSyntax
		}
		a, b, c, d := v[0]-'0', v[1]-'0', v[2]-'0', v[3]-'0'
		if max(a, b, c, d) > 9 {
			return dst, valueSyntax
		}
		if sc != nil {
			sc.i = int64(a)*1000 + int64(b)*100 + int64(c)*10 + int64(d)
		}
		return append(dst, v...), valueOK
	case kindYearmonth:
		if len(v) != 7 || v[4] != '-' {
			return dst, valueSyntax
		}
		a, b, c, d, mh, ml := v[0]-'0', v[1]-'0', v[2]-'0', v[3]-'0', v[5]-'0', v[6]-'0'
		m := int(mh)*10 + int(ml)
		if max(a, b, c, d, mh, ml) > 9 || uint(m-1) > 11 {
			return dst, valueSyntax
		}
		if sc != nil {
			sc.i = (int64(a)*1000+int64(b)*100+int64(c)*10+int64(d))*12 + int64(m-1)
		}
		return append(dst, v...), valueOK
	case kindDuration:
		if !validDuration(v) {
			return dst, valueSyntax
		}
		return append(dst, v...), valueOK
	case kindEmail:
		if !validEmail(v) {
			return dst, valueSyntax
		}
		return append(dst, v...), valueOK
	case kindURI:
		if !validURI(v) {
			return dst, valueSyntax
		}
		return append(dst, v...), valueOK
	case kindUUID:
		if !validUUID(v) {
			return dst, valueSyntax
		}
		return append(dst, v...), valueOK
	}
	return dst, valueSyntax
}

// appendISODatetime reads the default datetime form and appends its
// canonical text: v itself with 'T' between date and time and a ±hhmm offset
// written ±hh:mm.
func appendISODatetime(dst, v []byte, sc *scalar) ([]byte, errCode) {
	ok, compact := scanISODatetime(v, sc)
	if !ok {
		return dst, valueSyntax
	}
	n0 := len(dst)
	dst = append(dst, v...)
	dst[n0+10] = 'T'
	if compact {
		dst = append(dst, 0)
		m := len(dst)
		dst[m-1], dst[m-2], dst[m-3] = dst[m-2], dst[m-3], ':'
	}
	return dst, valueOK
}

// scanISODatetime reads the default datetime form, setting *sc when sc is
// not nil. compact reports an offset written ±hhmm (whose canonical form is
// ±hh:mm); v is its own canonical text when ok, v[10] == 'T' and !compact.
func scanISODatetime(v []byte, sc *scalar) (ok, compact bool) {
	if len(v) < 19 || v[10] != 'T' && v[10] != ' ' {
		return false, false
	}
	y, mo, d, ok1 := isoDate(v[:10])
	h, mi, s, ok2 := isoClock(v[11:19])
	if !ok1 || !ok2 {
		return false, false
	}
	end := 19
	if len(v) > 19 && v[19] == '.' {
		end = 20
		for end < len(v) && v[end]-'0' <= 9 {
			end++
		}
		if end == 20 || end > 29 {
			return false, false
		}
	}
	off := 0
	hasOff := false
	switch rest := v[end:]; len(rest) {
	case 0:
	case 1:
		if rest[0] != 'Z' {
			return false, false
		}
		hasOff = true
	case 5, 6:
		if rest[0] != '+' && rest[0] != '-' || len(rest) == 6 && rest[3] != ':' {
			return false, false
		}
		oh, ok1 := num2(rest[1], rest[2])
		om, ok2 := num2(rest[len(rest)-2], rest[len(rest)-1])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return false, false
		}
		off = oh*60 + om
		if rest[0] == '-' {
			off = -off
		}
		hasOff, compact = true, len(rest) == 5
	default:
		return false, false
	}
	if sc != nil {
		sc.i = DaysFromCivil(y, mo, d)*86400 + int64(h*3600+mi*60+s)
		sc.ns = 0
		if end > 19 {
			sc.ns = nanos(v[20:end])
		}
		sc.off, sc.hasOff = int64(off)*60, hasOff
	}
	return true, compact
}

// appendLayout reads a date, time or datetime with the ISO form (when
// f.layoutISO) and then each layout in turn.
func (f *Field) appendLayout(dst, v []byte, sc *scalar) ([]byte, errCode) {
	var c civil
	ok := false
	if f.layoutISO {
		switch f.kind {
		case kindDateLayout:
			ok = parseISODate(v, &c)
		case kindTimeLayout:
			ok = parseISOTime(v, &c)
		default:
			ok = parseISODatetime(v, &c)
		}
	}
	for _, l := range f.layouts {
		if ok {
			break
		}
		ok = l.match(v, &c)
	}
	if !ok {
		return dst, valueSyntax
	}
	switch f.kind {
	case kindDateLayout:
		if sc != nil {
			sc.i = DaysFromCivil(c.year, c.month, c.day)
		}
		return appendDate(dst, &c), valueOK
	case kindTimeLayout:
		if sc != nil {
			sc.i, sc.ns = int64(c.hour*3600+c.minute*60+c.sec), nanos(c.frac)
		}
		return appendClock(dst, &c), valueOK
	}
	if sc != nil {
		*sc = datetimeScalar(&c)
	}
	dst = appendDate(dst, &c)
	dst = append(dst, 'T')
	dst = appendClock(dst, &c)
	return appendOffset(dst, &c), valueOK
}

func datetimeScalar(c *civil) scalar {
	return scalar{
		i:      DaysFromCivil(c.year, c.month, c.day)*86400 + int64(c.hour*3600+c.minute*60+c.sec),
		ns:     nanos(c.frac),
		off:    int64(c.off) * 60,
		hasOff: c.hasOff,
	}
}

// compare compares two scalars of the field's order (never NaN).
func (f *Field) compare(a, b scalar) int {
	switch f.order {
	case orderFloat:
		switch {
		case a.f < b.f:
			return -1
		case a.f > b.f:
			return 1
		}
		return 0
	case orderDatetime:
		if a.hasOff && b.hasOff {
			a.i -= a.off
			b.i -= b.off
		}
	}
	switch {
	case a.i < b.i:
		return -1
	case a.i > b.i:
		return 1
	case a.ns < b.ns:
		return -1
	case a.ns > b.ns:
		return 1
	}
	return 0
}

// checkConstraints checks v (after transforms), whose canonical text is
// canon and whose value is sc.
func (f *Field) checkConstraints(v, canon []byte, sc scalar) *ValueError {
	switch f.violated(v, canon, sc) {
	case "":
		return nil
	case "minLength":
		return constraintError("minLength", "%s has %s, fewer than the minimum length %d", quote(v), characters(utf8.RuneCount(v)), f.minLen)
	case "maxLength":
		return constraintError("maxLength", "%s has %s, more than the maximum length %d", quote(v), characters(utf8.RuneCount(v)), f.maxLen)
	case "minimum":
		if f.order == orderFloat && math.IsNaN(sc.f) {
			return constraintError("minimum", "NaN is not comparable with the minimum %s", f.min.text)
		}
		return constraintError("minimum", "%s is less than the minimum %s", cut(canon), f.min.text)
	case "maximum":
		if f.order == orderFloat && math.IsNaN(sc.f) {
			return constraintError("maximum", "NaN is not comparable with the maximum %s", f.max.text)
		}
		return constraintError("maximum", "%s is greater than the maximum %s", cut(canon), f.max.text)
	case "pattern":
		return constraintError("pattern", "%s does not match the pattern %q", quote(v), f.pattern)
	}
	return constraintError("enum", "%s is not one of the allowed values %s", quote(canon), quoteList(f.enumList, 10))
}

// violated returns the first constraint that v (after transforms), whose
// canonical text is canon and whose value is sc, breaks, or "".
func (f *Field) violated(v, canon []byte, sc scalar) string {
	if f.minLen >= 0 || f.maxLen >= 0 {
		// A value has at most as many characters as bytes: count them only
		// when that bound does not settle both limits.
		n := int64(len(v))
		if f.minLen > 0 || f.maxLen >= 0 && n > f.maxLen {
			n = int64(utf8.RuneCount(v))
		}
		if f.minLen >= 0 && n < f.minLen {
			return "minLength"
		}
		if f.maxLen >= 0 && n > f.maxLen {
			return "maxLength"
		}
	}
	if f.min != nil || f.max != nil {
		nan := f.order == orderFloat && math.IsNaN(sc.f)
		if f.min != nil && (nan || f.compare(sc, f.min.v) < 0) {
			return "minimum"
		}
		if f.max != nil && (nan || f.compare(sc, f.max.v) > 0) {
			return "maximum"
		}
	}
	if f.re != nil && !f.re.Match(v) {
		return "pattern"
	}
	if f.enumList != nil && !f.inEnum(canon) {
		return "enum"
	}
	return ""
}

// inEnum reports whether the value whose canonical text is canon is one of
// the enum's values: whether its ValueKey is one of theirs.
func (f *Field) inEnum(canon []byte) bool {
	if f.valueKeyed() {
		var buf [maxValueKey]byte
		canon = f.ValueKey(buf[:0], canon)
	}
	if f.enumSet != nil {
		_, ok := f.enumSet[string(canon)]
		return ok
	}
	for _, e := range f.enumKeys {
		if string(canon) == e {
			return true
		}
	}
	return false
}

// parseBool reads a boolean.
func (f *Field) parseBool(v []byte) (value, ok bool) {
	if f.trueValues == nil {
		switch len(v) {
		case 1:
			return v[0] == '1', v[0] == '1' || v[0] == '0'
		case 4:
			s := string(v)
			return true, s == "true" || s == "True" || s == "TRUE"
		case 5:
			s := string(v)
			return false, s == "false" || s == "False" || s == "FALSE"
		}
		return false, false
	}
	for _, t := range f.trueValues {
		if string(v) == t {
			return true, true
		}
	}
	for _, t := range f.falseValues {
		if string(v) == t {
			return false, true
		}
	}
	return false, false
}

// hasPrefixAt reports whether v[i:] starts with p.
func hasPrefixAt(v []byte, i int, p []byte) bool {
	return len(v)-i >= len(p) && string(v[i:i+len(p)]) == string(p)
}

// stripNonNumeric drops leading characters other than digits, signs and (for
// numbers) the decimal mark, and trailing characters other than digits.
func stripNonNumeric(v, decimal []byte) []byte {
	i := 0
	for i < len(v) {
		c := v[i]
		if c-'0' <= 9 || c == '+' || c == '-' || decimal != nil && hasPrefixAt(v, i, decimal) {
			break
		}
		i++
	}
	j := len(v)
	for j > i && v[j-1]-'0' > 9 {
		j--
	}
	return v[i:j]
}

// appendInteger reads an integer in the field's lexical form and appends
// its canonical text.
func (f *Field) appendInteger(dst, v []byte, sc *scalar) ([]byte, errCode) {
	if f.bare && f.group == nil && len(v) > 0 && len(v) <= 18 {
		n, canonical, ok := smallInteger(v)
		if !ok {
			return dst, valueSyntax
		}
		if sc != nil {
			sc.i = n
		}
		if canonical {
			return append(dst, v...), valueOK
		}
		return strconv.AppendInt(dst, n, 10), valueOK
	}
	if !f.bare {
		v = stripNonNumeric(v, nil)
	}
	n, code := parseInteger(v, f.group)
	if code != valueOK {
		return dst, code
	}
	if sc != nil {
		sc.i = n
	}
	return strconv.AppendInt(dst, n, 10), valueOK
}

// smallInteger reads [+-]digits of 1 to 18 bytes in all, which cannot
// overflow. canonical reports whether v is its own canonical text: no '+'
// and no leading zero.
func smallInteger(v []byte) (n int64, canonical, ok bool) {
	i := 0
	if v[0] == '-' || v[0] == '+' {
		i = 1
	}
	if i == len(v) {
		return 0, false, false
	}
	var u uint64
	for _, c := range v[i:] {
		c -= '0'
		if c > 9 {
			return 0, false, false
		}
		u = u*10 + uint64(c)
	}
	n = int64(u)
	if v[0] == '-' {
		n = -n
	}
	return n, v[0] != '+' && (v[i] != '0' || len(v) == 1), true
}

// cutoff is the largest magnitude that can take one more digit without
// passing 1<<63.
const cutoff = (1 << 63) / 10

// parseInteger reads [+-]digits, with group between digits when set.
func parseInteger(v, group []byte) (int64, errCode) {
	i := 0
	neg := false
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg = v[0] == '-'
		i = 1
	}
	if i == len(v) {
		return 0, valueSyntax
	}
	var u uint64
	over := false
	for i < len(v) {
		c := v[i] - '0'
		if c <= 9 {
			if u > cutoff || u == cutoff && c > 8 {
				over = true
			} else {
				u = u*10 + uint64(c)
			}
			i++
			continue
		}
		// A group separator must sit between two digits.
		if len(group) > 0 && i > 0 && v[i-1]-'0' <= 9 && hasPrefixAt(v, i, group) &&
			i+len(group) < len(v) && v[i+len(group)]-'0' <= 9 {
			i += len(group)
			continue
		}
		return 0, valueSyntax
	}
	if over || !neg && u > math.MaxInt64 {
		return 0, valueRange
	}
	if neg {
		return -int64(u), valueOK
	}
	return int64(u), valueOK
}

// appendNumber reads a number in the field's lexical form and appends its
// canonical text.
func (f *Field) appendNumber(dst, v []byte) ([]byte, bool) {
	if f.plainNumber && canonicalNumber(v) {
		return append(dst, v...), true
	}
	if out, ok := appendSpecial(dst, v); ok {
		return out, true
	}
	if !f.bare {
		v = stripNonNumeric(v, f.decimal)
	}
	n0 := len(dst)
	i := 0
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		if v[0] == '-' {
			dst = append(dst, '-')
		}
		i = 1
	}
	digits0 := len(dst)
	sawDigit := false
	dec0 := f.decimal[0]
	for i < len(v) {
		c := v[i]
		if c-'0' <= 9 {
			if c != '0' || len(dst) > digits0 {
				dst = append(dst, c)
			}
			sawDigit = true
			i++
			continue
		}
		if f.group != nil && c == f.group[0] && hasPrefixAt(v, i, f.group) {
			// Between two digits of the integer part only.
			if i == 0 || v[i-1]-'0' > 9 || i+len(f.group) >= len(v) || v[i+len(f.group)]-'0' > 9 {
				return dst[:n0], false
			}
			i += len(f.group)
			continue
		}
		break
	}
	if sawDigit && len(dst) == digits0 {
		dst = append(dst, '0')
	}
	if i < len(v) && v[i] == dec0 && (len(f.decimal) == 1 || hasPrefixAt(v, i, f.decimal)) {
		i += len(f.decimal)
		fs := i
		for i < len(v) && v[i]-'0' <= 9 {
			i++
		}
		if i > fs {
			if !sawDigit {
				dst = append(dst, '0')
			}
			dst = append(dst, '.')
			dst = append(dst, v[fs:i]...)
			sawDigit = true
		}
	}
	if !sawDigit {
		return dst[:n0], false
	}
	if i < len(v) && v[i]|0x20 == 'e' {
		i++
		neg := false
		if i < len(v) && (v[i] == '-' || v[i] == '+') {
			neg = v[i] == '-'
			i++
		}
		es := i
		for i < len(v) && v[i] == '0' {
			i++
		}
		nz := i
		for i < len(v) && v[i]-'0' <= 9 {
			i++
		}
		if i == es {
			return dst[:n0], false
		}
		dst = append(dst, 'e')
		if nz == i {
			dst = append(dst, '0')
		} else {
			if neg {
				dst = append(dst, '-')
			}
			dst = append(dst, v[nz:i]...)
		}
	}
	if i != len(v) {
		return dst[:n0], false
	}
	return dst, true
}

// canonicalNumber reports whether v is a number already in canonical form
// (with '.' as the decimal mark).
func canonicalNumber(v []byte) bool {
	i := 0
	if len(v) > 0 && v[0] == '-' {
		i = 1
	}
	s := i
	for i < len(v) && v[i]-'0' <= 9 {
		i++
	}
	if i == s || v[s] == '0' && i-s > 1 {
		return false
	}
	if i < len(v) && v[i] == '.' {
		i++
		fs := i
		for i < len(v) && v[i]-'0' <= 9 {
			i++
		}
		if i == fs {
			return false
		}
	}
	if i < len(v) && v[i] == 'e' {
		i++
		if i < len(v) && v[i] == '-' {
			i++
		}
		es := i
		for i < len(v) && v[i]-'0' <= 9 {
			i++
		}
		if i == es || v[es] == '0' && (i-es > 1 || v[es-1] == '-') {
			return false
		}
	}
	return i == len(v)
}

// appendSpecial reads NaN and the infinities (any case, "inf" or
// "infinity", infinities with an optional sign).
func appendSpecial(dst, v []byte) ([]byte, bool) {
	if len(v) < 3 || len(v) > 9 {
		return dst, false
	}
	neg := false
	w := v
	switch w[0] {
	case '-', '+':
		neg = w[0] == '-'
		w = w[1:]
	case 'n', 'N':
		if equalFoldASCII(w, "nan") {
			return append(dst, "NaN"...), true
		}
		return dst, false
	case 'i', 'I':
	default:
		return dst, false
	}
	if !equalFoldASCII(w, "inf") && !equalFoldASCII(w, "infinity") {
		return dst, false
	}
	if neg {
		return append(dst, "-inf"...), true
	}
	return append(dst, "inf"...), true
}

// parseFloat parses a canonical number; out-of-range values are infinities
// or zero.
func parseFloat(b []byte) float64 {
	if x, ok := exactFloat(b); ok {
		return x
	}
	x, _ := strconv.ParseFloat(string(b), 64)
	return x
}

// pow10 are the powers of ten that a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// exactFloat parses [-]digits[.digits] with at most 15 digits in all and no
// exponent, the common form, as strconv.ParseFloat does on its exact path:
// the digits, an integer below 2^52, are exactly a float64, and so is the
// power of ten they are divided by, so the one rounding of the division is
// the correctly rounded result ParseFloat returns. ok is false for any
// other text.
func exactFloat(b []byte) (float64, bool) {
	i := 0
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		i = 1
	}
	if len(b)-i > 16 || i == len(b) {
		return 0, false
	}
	var m uint64
	frac, digits := -1, 0
	for ; i < len(b); i++ {
		c := b[i]
		if c == '.' && frac < 0 {
			frac = 0
			continue
		}
		c -= '0'
		if c > 9 {
			return 0, false
		}
		m = m*10 + uint64(c)
		digits++
		if frac >= 0 {
			frac++
		}
	}
	if digits == 0 || digits > 15 || frac == 0 {
		return 0, false
	}
	x := float64(m)
	if neg {
		x = -x
	}
	if frac > 0 {
		x /= pow10[frac]
	}
	return x, true
}

// validEmail: exactly one @, a non-empty local part, a domain with a dot
// that neither starts nor ends with one, no white space or control
// characters.
func validEmail(v []byte) bool {
	at := bytes.IndexByte(v, '@')
	if at <= 0 || bytes.IndexByte(v[at+1:], '@') >= 0 {
		return false
	}
	dom := v[at+1:]
	if len(dom) < 3 || dom[0] == '.' || dom[len(dom)-1] == '.' || bytes.IndexByte(dom, '.') < 0 {
		return false
	}
	return noSpaceOrControl(v)
}

// noSpaceOrControl reports whether v has no white space and no control
// characters.
func noSpaceOrControl(v []byte) bool {
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, w := utf8.DecodeRune(v[i:])
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
		i += w
	}
	return true
}

// validURI: an absolute URI (with a scheme) as net/url parses it, without
// white space or control characters.
func validURI(v []byte) bool {
	if !noSpaceOrControl(v) {
		return false
	}
	// A scheme is a letter then letters, digits, + - . up to a ':'.
	i := 0
	for i < len(v) && v[i] != ':' {
		c := v[i] | 0x20
		if !('a' <= c && c <= 'z' || i > 0 && (v[i]-'0' <= 9 || v[i] == '+' || v[i] == '-' || v[i] == '.')) {
			return false
		}
		i++
	}
	if i == 0 || i == len(v) {
		return false
	}
	u, err := url.Parse(string(v))
	return err == nil && u.IsAbs()
}

// validUUID: 8-4-4-4-12 hexadecimal digits, either case.
func validUUID(v []byte) bool {
	if len(v) != 36 {
		return false
	}
	for i, c := range v {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f') {
				return false
			}
		}
	}
	return true
}

// characters says "1 character" or "n characters".
func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return strconv.Itoa(n) + " characters"
}
