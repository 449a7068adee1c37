package tableschema

import (
	"fmt"
	"strings"
)

// civil is a parsed date, time or datetime. Fields a layout does not give
// are zero.
type civil struct {
	year, month, day  int
	hour, minute, sec int
	frac              []byte // fraction digits as written; nil when none
	off               int    // offset east of UTC in minutes, when hasOff
	hasOff            bool
	offZ              bool // the offset was written Z (or UTC)
	offNeg            bool // the offset was written with '-' (kept for -00:00)
}

// isLeap reports whether y is a leap year of the proleptic Gregorian
// calendar.
func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// daysIn returns the number of days of month m (1-12) of year y.
func DaysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// DaysFromCivil returns the number of days from 1970-01-01 to y-m-d of the
// proleptic Gregorian calendar, for any year (Howard Hinnant's algorithm).
// Other packages that read canonical dates (parquetout, the analyzer) use it.
func DaysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// num2 reads two ASCII digits.
func num2(a, b byte) (int, bool) {
	a -= '0'
	b -= '0'
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

// isoDate reads `YYYY-MM-DD` from v[:10] at fixed positions.
func isoDate(v []byte) (y, m, d int, ok bool) {
	_ = v[9]
	a, b, c, e := v[0]-'0', v[1]-'0', v[2]-'0', v[3]-'0'
	mh, ml, dh, dl := v[5]-'0', v[6]-'0', v[8]-'0', v[9]-'0'
	if max(a, b, c, e, mh, ml, dh, dl) > 9 || v[4] != '-' || v[7] != '-' {
		return 0, 0, 0, false
	}
	y = int(a)*1000 + int(b)*100 + int(c)*10 + int(e)
	m = int(mh)*10 + int(ml)
	d = int(dh)*10 + int(dl)
	if uint(m-1) > 11 || uint(d-1) > 27 && (d == 0 || d > DaysIn(y, m)) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

// isoClock reads `HH:MM:SS` from v[:8] at fixed positions.
func isoClock(v []byte) (h, m, s int, ok bool) {
	_ = v[7]
	a, b, c, d, e, f := v[0]-'0', v[1]-'0', v[3]-'0', v[4]-'0', v[6]-'0', v[7]-'0'
	h, m, s = int(a)*10+int(b), int(c)*10+int(d), int(e)*10+int(f)
	if max(a, b, c, d, e, f) > 9 || v[2] != ':' || v[5] != ':' || h > 23 || m > 59 || s > 59 {
		return 0, 0, 0, false
	}
	return h, m, s, true
}

// parseISODate reads exactly `YYYY-MM-DD`.
func parseISODate(v []byte, c *civil) bool {
	if len(v) != 10 {
		return false
	}
	y, m, d, ok := isoDate(v)
	c.year, c.month, c.day = y, m, d
	return ok
}

// parseISOClock reads exactly `HH:MM:SS`.
func parseISOClock(v []byte, c *civil) bool {
	if len(v) != 8 {
		return false
	}
	h, m, s, ok := isoClock(v)
	c.hour, c.minute, c.sec = h, m, s
	return ok
}

// fracLen returns the number of fraction digits after a '.' at v[0], or 0
// when v does not start with '.' followed by 1 to 9 digits (and no more).
func fracLen(v []byte) int {
	if len(v) < 2 || v[0] != '.' {
		return 0
	}
	n := 1
	for n < len(v) && v[n]-'0' <= 9 {
		n++
	}
	if n == 1 || n > 10 || n < len(v) && v[n]-'0' <= 9 {
		return 0
	}
	return n - 1
}

// parseISOTime reads `HH:MM:SS[.fraction]`; the canonical form is v itself.
func parseISOTime(v []byte, c *civil) bool {
	if len(v) < 8 || !parseISOClock(v[:8], c) {
		return false
	}
	if len(v) == 8 {
		return true
	}
	n := fracLen(v[8:])
	if n == 0 || 9+n != len(v) {
		return false
	}
	c.frac = v[9:]
	return true
}

// parseOffset reads a whole `Z`, `±hh:mm` or `±hhmm` offset.
func parseOffset(v []byte, c *civil) bool {
	switch len(v) {
	case 1:
		if v[0] != 'Z' {
			return false
		}
		c.hasOff, c.offZ = true, true
		return true
	case 5, 6:
		if v[0] != '+' && v[0] != '-' {
			return false
		}
		h, ok1 := num2(v[1], v[2])
		mm := v[3:]
		if len(v) == 6 {
			if v[3] != ':' {
				return false
			}
			mm = v[4:]
		}
		m, ok2 := num2(mm[0], mm[1])
		if !ok1 || !ok2 || h > 23 || m > 59 {
			return false
		}
		c.off = h*60 + m
		if v[0] == '-' {
			c.off = -c.off
		}
		c.hasOff, c.offNeg = true, v[0] == '-'
		return true
	}
	return false
}

// parseISODatetime reads the default datetime form: `YYYY-MM-DD`, `T` or a
// space, `HH:MM:SS`, an optional fraction of 1 to 9 digits and an optional
// offset.
func parseISODatetime(v []byte, c *civil) bool {
	if len(v) < 19 || v[10] != 'T' && v[10] != ' ' || !parseISODate(v[:10], c) || !parseISOClock(v[11:19], c) {
		return false
	}
	rest := v[19:]
	if len(rest) == 0 {
		return true
	}
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n]-'0' <= 9 {
			n++
		}
		if n == 1 || n > 10 {
			return false
		}
		c.frac = rest[1:n]
		rest = rest[n:]
		if len(rest) == 0 {
			return true
		}
	}
	return parseOffset(rest, c)
}

// append2 appends n (0-99) as two digits.
func append2(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/10), byte('0'+n%10))
}

// append4 appends n (0-9999) as four digits.
func append4(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

func appendDate(dst []byte, c *civil) []byte {
	dst = append4(dst, c.year)
	dst = append(dst, '-')
	dst = append2(dst, c.month)
	dst = append(dst, '-')
	return append2(dst, c.day)
}

func appendClock(dst []byte, c *civil) []byte {
	dst = append2(dst, c.hour)
	dst = append(dst, ':')
	dst = append2(dst, c.minute)
	dst = append(dst, ':')
	dst = append2(dst, c.sec)
	if c.frac != nil {
		dst = append(dst, '.')
		dst = append(dst, c.frac...)
	}
	return dst
}

func appendOffset(dst []byte, c *civil) []byte {
	if !c.hasOff {
		return dst
	}
	if c.offZ {
		return append(dst, 'Z')
	}
	off := c.off
	if c.offNeg {
		dst = append(dst, '-')
		off = -off
	} else {
		dst = append(dst, '+')
	}
	dst = append2(dst, off/60)
	dst = append(dst, ':')
	return append2(dst, off%60)
}

// nanos returns the fraction digits as nanoseconds.
func nanos(frac []byte) int64 {
	var ns int64
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(frac) {
			ns += int64(frac[i] - '0')
		}
	}
	return ns
}

// tokKind is one element of a strftime layout.
type tokKind uint8

const (
	tokLit tokKind = iota
	tokYear4
	tokYear2
	tokMonth
	tokDay
	tokDaySpace
	tokHour24
	tokHour12
	tokAMPM
	tokMinute
	tokSecond
	tokFrac
	tokOffset
	tokZoneName
	tokMonthAbbr
	tokMonthName
	tokWeekdayAbbr
	tokWeekdayName
)

type token struct {
	kind tokKind
	lit  []byte
}

// layout is a compiled strftime pattern.
type layout struct {
	toks []token
	// h12 is set when the hour is %I (with %p).
	h12 bool
}

var (
	monthNames   = [12]string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
	weekdayNames = [7]string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)

// temporalKind says which directives a layout may hold.
type temporalKind uint8

const (
	tDate temporalKind = iota
	tTime
	tDatetime
)

func (k temporalKind) String() string {
	switch k {
	case tDate:
		return "date"
	case tTime:
		return "time"
	}
	return "datetime"
}

// compileLayout compiles a strftime pattern for values of kind k. The error
// says what is wrong with the pattern.
func compileLayout(pattern string, k temporalKind) (*layout, error) {
	l := &layout{}
	seen := map[string]byte{} // part -> directive that gave it
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			l.toks = append(l.toks, token{kind: tokLit, lit: lit})
			lit = nil
		}
	}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '%' {
			lit = append(lit, c)
			continue
		}
		if i+1 == len(pattern) {
			return nil, fmt.Errorf("the pattern ends with a lone %%")
		}
		i++
		d := pattern[i]
		if d == '%' {
			lit = append(lit, '%')
			continue
		}
		var kind tokKind
		var part string
		dateOnly, timeOnly, dtOnly := false, false, false
		switch d {
		case 'Y':
			kind, part, dateOnly = tokYear4, "year", true
		case 'y':
			kind, part, dateOnly = tokYear2, "year", true
		case 'm':
			kind, part, dateOnly = tokMonth, "month", true
		case 'b':
			kind, part, dateOnly = tokMonthAbbr, "month", true
		case 'B':
			kind, part, dateOnly = tokMonthName, "month", true
		case 'd':
			kind, part, dateOnly = tokDay, "day", true
		case 'e':
			kind, part, dateOnly = tokDaySpace, "day", true
		case 'a':
			kind, part, dateOnly = tokWeekdayAbbr, "weekday", true
		case 'A':
			kind, part, dateOnly = tokWeekdayName, "weekday", true
		case 'H':
			kind, part, timeOnly = tokHour24, "hour", true
		case 'I':
			kind, part, timeOnly = tokHour12, "hour", true
		case 'p':
			kind, part, timeOnly = tokAMPM, "AM/PM", true
		case 'M':
			kind, part, timeOnly = tokMinute, "minute", true
		case 'S':
			kind, part, timeOnly = tokSecond, "second", true
		case 'f':
			kind, part, timeOnly = tokFrac, "fraction", true
		case 'z':
			kind, part, dtOnly = tokOffset, "offset", true
		case 'Z':
			kind, part, dtOnly = tokZoneName, "offset", true
		default:
			return nil, fmt.Errorf("unknown directive %%%c", d)
		}
		if dateOnly && k == tTime || timeOnly && k == tDate || dtOnly && k != tDatetime {
			return nil, fmt.Errorf("directive %%%c does not belong in a %s pattern", d, k)
		}
		if prev, ok := seen[part]; ok {
			return nil, fmt.Errorf("directives %%%c and %%%c both give the %s", prev, d, part)
		}
		seen[part] = d
		flush()
		l.toks = append(l.toks, token{kind: kind})
	}
	flush()
	has := func(part string) bool { _, ok := seen[part]; return ok }
	if k != tTime {
		for _, part := range []string{"year", "month", "day"} {
			if !has(part) {
				return nil, fmt.Errorf("the pattern has no %s directive", part)
			}
		}
	}
	if k != tDate {
		if !has("hour") {
			return nil, fmt.Errorf("the pattern has no hour directive (%%H or %%I)")
		}
		l.h12 = seen["hour"] == 'I'
		if l.h12 != has("AM/PM") {
			return nil, fmt.Errorf("%%I and %%p go together")
		}
		if has("second") && !has("minute") {
			return nil, fmt.Errorf("%%S needs %%M")
		}
		if has("fraction") && !has("second") {
			return nil, fmt.Errorf("%%f needs %%S")
		}
	}
	return l, nil
}

// digits reads between min and max ASCII digits greedily from v.
func digits(v []byte, lo, hi int) (n, width int) {
	for width < hi && width < len(v) && v[width]-'0' <= 9 {
		n = n*10 + int(v[width]-'0')
		width++
	}
	if width < lo {
		return 0, 0
	}
	return n, width
}

// matchName reads one of names (lower case) from v, case-insensitively,
// whole (full) or as its first three letters; it returns the index and the
// width read, or -1.
func matchName(v []byte, names []string, full bool) (int, int) {
	for i, name := range names {
		if !full {
			name = name[:3]
		}
		if len(v) >= len(name) && equalFoldASCII(v[:len(name)], name) {
			return i, len(name)
		}
	}
	return -1, 0
}

// equalFoldASCII reports whether b equals the lower-case ASCII s, ignoring
// ASCII case.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if b[i]|0x20 != s[i] {
			return false
		}
	}
	return true
}

// match reads v, whole, with l into c. It checks the ranges of every part.
func (l *layout) match(v []byte, c *civil) bool {
	*c = civil{}
	i := 0
	pm := false
	for _, t := range l.toks {
		rest := v[i:]
		var n, w int
		switch t.kind {
		case tokLit:
			if len(rest) < len(t.lit) || string(rest[:len(t.lit)]) != string(t.lit) {
				return false
			}
			w = len(t.lit)
		case tokYear4:
			if n, w = digits(rest, 4, 4); w == 0 {
				return false
			}
			c.year = n
		case tokYear2:
			if n, w = digits(rest, 2, 2); w == 0 {
				return false
			}
			if n >= 69 {
				c.year = 1900 + n
			} else {
				c.year = 2000 + n
			}
		case tokMonth:
			if n, w = digits(rest, 1, 2); w == 0 || n < 1 || n > 12 {
				return false
			}
			c.month = n
		case tokMonthAbbr, tokMonthName:
			if n, w = matchName(rest, monthNames[:], t.kind == tokMonthName); n < 0 {
				return false
			}
			c.month = n + 1
		case tokWeekdayAbbr, tokWeekdayName:
			if n, w = matchName(rest, weekdayNames[:], t.kind == tokWeekdayName); n < 0 {
				return false
			}
		case tokDay, tokDaySpace:
			if t.kind == tokDaySpace && len(rest) > 0 && rest[0] == ' ' {
				i++
				rest = rest[1:]
			}
			if n, w = digits(rest, 1, 2); w == 0 || n < 1 {
				return false
			}
			c.day = n
		case tokHour24:
			if n, w = digits(rest, 1, 2); w == 0 || n > 23 {
				return false
			}
			c.hour = n
		case tokHour12:
			if n, w = digits(rest, 1, 2); w == 0 || n < 1 || n > 12 {
				return false
			}
			c.hour = n % 12
		case tokAMPM:
			if len(rest) < 2 || rest[1]|0x20 != 'm' {
				return false
			}
			switch rest[0] | 0x20 {
			case 'a':
			case 'p':
				pm = true
			default:
				return false
			}
			w = 2
		case tokMinute:
			if n, w = digits(rest, 1, 2); w == 0 || n > 59 {
				return false
			}
			c.minute = n
		case tokSecond:
			if n, w = digits(rest, 1, 2); w == 0 || n > 59 {
				return false
			}
			c.sec = n
		case tokFrac:
			if _, w = digits(rest, 1, 9); w == 0 {
				return false
			}
			c.frac = rest[:w]
		case tokOffset:
			w = offsetWidth(rest)
			if w == 0 || !parseOffset(rest[:w], c) {
				return false
			}
		case tokZoneName:
			switch {
			case len(rest) >= 3 && string(rest[:3]) == "UTC":
				w = 3
			case len(rest) >= 1 && rest[0] == 'Z':
				w = 1
			default:
				return false
			}
			c.hasOff, c.offZ = true, true
		}
		i += w
	}
	if i != len(v) {
		return false
	}
	if pm {
		c.hour += 12
	}
	if c.month != 0 && c.day > DaysIn(c.year, c.month) {
		return false
	}
	return true
}

// offsetWidth returns the width of the %z offset at the start of v: 1 for
// Z, 6 for ±hh:mm, 5 for ±hhmm, 0 for none.
func offsetWidth(v []byte) int {
	switch {
	case len(v) >= 1 && v[0] == 'Z':
		return 1
	case len(v) >= 6 && v[3] == ':':
		return 6
	case len(v) >= 5:
		return 5
	}
	return 0
}

// anyLayouts are the patterns the format "any" tries after the default
// form, per kind. Keep in step with the package documentation.
var anyLayouts = [3][]string{
	tDate: {"%Y/%m/%d", "%Y%m%d", "%d %b %Y", "%d %B %Y", "%d-%b-%Y", "%b %d %Y", "%b %d, %Y", "%B %d %Y", "%B %d, %Y"},
	tTime: {"%H:%M", "%I:%M %p", "%I:%M:%S %p", "%I:%M%p", "%I:%M:%S%p"},
	tDatetime: {"%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M%z", "%Y-%m-%d %H:%M",
		"%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%dT%H%M%S%z", "%Y%m%dT%H%M%S"},
}

// temporalFormat compiles a date, time or datetime format: "" or "default"
// (no layouts, ISO), "any" (ISO, then anyLayouts) or a pattern.
func temporalFormat(format string, k temporalKind) (layouts []*layout, iso bool, err error) {
	switch format {
	case "", "default":
		return nil, true, nil
	case "any":
		for _, p := range anyLayouts[k] {
			l, err := compileLayout(p, k)
			if err != nil {
				panic("tableschema: bad built-in layout " + p + ": " + err.Error())
			}
			layouts = append(layouts, l)
		}
		return layouts, true, nil
	}
	p := strings.TrimPrefix(format, "fmt:")
	if !strings.Contains(p, "%") {
		return nil, false, fmt.Errorf("%q is not a %s format (default, any, or a pattern such as %%d/%%m/%%Y)", format, k)
	}
	l, err := compileLayout(p, k)
	if err != nil {
		return nil, false, fmt.Errorf("pattern %q: %w", format, err)
	}
	return []*layout{l}, false, nil
}

// validDuration reports whether v is an ISO 8601 duration:
// [-]P[nY][nM][nD][T[nH][nM][nS]] with at least one component, or [-]PnW;
// only the last component may have a fraction ('.' or ',').
func validDuration(v []byte) bool {
	i := 0
	if i < len(v) && v[i] == '-' {
		i++
	}
	if i >= len(v) || v[i] != 'P' {
		return false
	}
	i++
	if i == len(v) {
		return false
	}
	comps, last := 0, 0 // last: rank of the previous unit
	inTime, timeComps, week, frac := false, 0, false, false
	for i < len(v) {
		if v[i] == 'T' {
			if inTime {
				return false
			}
			inTime = true
			last = 3
			i++
			continue
		}
		if frac || week {
			return false
		}
		start := i
		for i < len(v) && v[i]-'0' <= 9 {
			i++
		}
		if i == start || i == len(v) {
			return false
		}
		if v[i] == '.' || v[i] == ',' {
			i++
			fs := i
			for i < len(v) && v[i]-'0' <= 9 {
				i++
			}
			if i == fs || i == len(v) {
				return false
			}
			frac = true
		}
		rank := 0
		switch u := v[i]; {
		case !inTime && u == 'Y':
			rank = 1
		case !inTime && u == 'M':
			rank = 2
		case !inTime && u == 'D':
			rank = 3
		case !inTime && u == 'W':
			if comps > 0 {
				return false
			}
			week, rank = true, 3
		case inTime && u == 'H':
			rank = 4
		case inTime && u == 'M':
			rank = 5
		case inTime && u == 'S':
			rank = 6
		default:
			return false
		}
		if rank <= last {
			return false
		}
		last = rank
		i++
		comps++
		if inTime {
			timeComps++
		}
	}
	return comps > 0 && (!inTime || timeComps > 0)
}
