package parquetout

import (
	"math"

	"github.com/csvmesh/csvmesh/services/internal/tableschema"
)

// digits parses f, all ASCII digits, as a non-negative number.
func digits(f []byte) (int64, bool) {
	if len(f) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range f {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// digits2 parses two ASCII digits.
func digits2(a, b byte) (int64, bool) {
	a -= '0'
	b -= '0'
	return int64(a)*10 + int64(b), a <= 9 && b <= 9
}

// parseDate parses "2006-01-02" into days since 1970-01-01.
func parseDate(f []byte) (int64, bool) {
	if len(f) != 10 || f[4] != '-' || f[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(f[:4])
	m, ok2 := digits2(f[5], f[6])
	d, ok3 := digits2(f[8], f[9])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > int64(tableschema.DaysIn(int(y), int(m))) {
		return 0, false
	}
	return tableschema.DaysFromCivil(int(y), int(m), int(d)), true
}

// parseClock parses "15:04:05[.fraction]" at the start of f into seconds
// and nanoseconds since midnight, and returns the rest of f. A second of 60
// (a leap second) counts as the next minute's 0; fraction digits past
// nanoseconds are dropped.
func parseClock(f []byte) (sec, nsec int64, rest []byte, ok bool) {
	if len(f) < 8 || f[2] != ':' || f[5] != ':' {
		return 0, 0, nil, false
	}
	h, ok1 := digits2(f[0], f[1])
	m, ok2 := digits2(f[3], f[4])
	s, ok3 := digits2(f[6], f[7])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || s > 60 {
		return 0, 0, nil, false
	}
	f = f[8:]
	if len(f) > 0 && f[0] == '.' {
		i := 1
		for ; i < len(f) && i <= 9; i++ {
			c := f[i] - '0'
			if c > 9 {
				break
			}
			nsec = nsec*10 + int64(c)
		}
		if i == 1 {
			return 0, 0, nil, false
		}
		nsec *= nanoScale[i-1]
		for ; i < len(f) && f[i] >= '0' && f[i] <= '9'; i++ {
		}
		f = f[i:]
	}
	return h*3600 + m*60 + s, nsec, f, true
}

// nanoScale[n] turns n fraction digits into nanoseconds.
var nanoScale = [...]int64{1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1}

// parseTime parses "15:04:05[.fraction]" into nanoseconds since midnight.
func parseTime(f []byte) (int64, bool) {
	sec, nsec, rest, ok := parseClock(f)
	if !ok || len(rest) != 0 {
		return 0, false
	}
	return sec*1e9 + nsec, true
}

// datetime is a parsed datetime.
type datetime struct {
	sec    int64 // seconds since 1970-01-01T00:00:00Z, the offset applied
	nsec   int64 // [0, 1e9)
	offset bool  // the text had "Z" or an offset
}

// dateCache remembers the last date a column parsed: dates repeat row
// after row.
type dateCache struct {
	text [10]byte
	days int64
	ok   bool // text and days are set
}

// parse is parseDate through the cache; a nil cache parses.
func (c *dateCache) parse(f []byte) (int64, bool) {
	if c == nil {
		return parseDate(f)
	}
	if c.ok && string(f) == string(c.text[:]) {
		return c.days, true
	}
	days, ok := parseDate(f)
	if ok && len(f) == len(c.text) {
		copy(c.text[:], f)
		c.days, c.ok = days, true
	}
	return days, ok
}

// parseDatetime parses "2006-01-02T15:04:05[.fraction][Z|+hh:mm|-hh:mm]" (a
// space may replace the T), its date through dc (which may be nil).
func parseDatetime(f []byte, dc *dateCache) (datetime, bool) {
	if len(f) < 19 || (f[10] != 'T' && f[10] != ' ') {
		return datetime{}, false
	}
	days, ok := dc.parse(f[:10])
	if !ok {
		return datetime{}, false
	}
	sec, nsec, rest, ok := parseClock(f[11:])
	if !ok {
		return datetime{}, false
	}
	d := datetime{sec: days*86400 + sec, nsec: nsec}
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && rest[0] == 'Z':
		d.offset = true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		h, ok1 := digits2(rest[1], rest[2])
		m, ok2 := digits2(rest[4], rest[5])
		if !ok1 || !ok2 || h > 23 || m > 59 {
			return datetime{}, false
		}
		off := h*3600 + m*60
		if rest[0] == '-' {
			off = -off
		}
		d.sec -= off
		d.offset = true
	default:
		return datetime{}, false
	}
	return d, true
}

// timestamp returns d in microseconds or nanoseconds since the epoch, or a
// message saying why it does not fit.
func (d datetime) timestamp(nanos bool) (int64, string) {
	if !nanos {
		if d.nsec%1000 != 0 {
			return 0, "has a fraction finer than a microsecond, but the column holds microseconds " +
				"(no value in the first row group was finer)"
		}
		return d.sec*1e6 + d.nsec/1000, "" // years 0000-9999 fit easily
	}
	if d.sec > (math.MaxInt64-d.nsec)/1e9 || d.sec < math.MinInt64/int64(1e9) {
		return 0, "is out of the range of nanosecond timestamps (1677-09-21 to 2262-04-11)"
	}
	return d.sec*1e9 + d.nsec, ""
}
