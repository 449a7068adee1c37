package parquetout

import "math"

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

// daysFromCivil returns the days from 1970-01-01 to the given proleptic
// Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
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
	return era*146097 + doe - 719468
}

func daysIn(y, m int64) int64 {
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

// parseDate parses "2006-01-02" into days since 1970-01-01.
func parseDate(f []byte) (int64, bool) {
	if len(f) != 10 || f[4] != '-' || f[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(f[:4])
	m, ok2 := digits(f[5:7])
	d, ok3 := digits(f[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return daysFromCivil(y, m, d), true
}

// parseClock parses "15:04:05[.fraction]" at the start of f into seconds
// and nanoseconds since midnight, and returns the rest of f. A second of 60
// (a leap second) counts as the next minute's 0; fraction digits past
// nanoseconds are dropped.
func parseClock(f []byte) (sec, nsec int64, rest []byte, ok bool) {
	if len(f) < 8 || f[2] != ':' || f[5] != ':' {
		return 0, 0, nil, false
	}
	h, ok1 := digits(f[:2])
	m, ok2 := digits(f[3:5])
	s, ok3 := digits(f[6:8])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || s > 60 {
		return 0, 0, nil, false
	}
	f = f[8:]
	if len(f) > 0 && f[0] == '.' {
		i := 1
		scale := int64(1e9)
		for ; i < len(f) && f[i] >= '0' && f[i] <= '9'; i++ {
			if scale > 1 {
				scale /= 10
				nsec += int64(f[i]-'0') * scale
			}
		}
		if i == 1 {
			return 0, 0, nil, false
		}
		f = f[i:]
	}
	return h*3600 + m*60 + s, nsec, f, true
}

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

// parseDatetime parses "2006-01-02T15:04:05[.fraction][Z|+hh:mm|-hh:mm]" (a
// space may replace the T).
func parseDatetime(f []byte) (datetime, bool) {
	if len(f) < 19 || (f[10] != 'T' && f[10] != ' ') {
		return datetime{}, false
	}
	days, ok := parseDate(f[:10])
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
		h, ok1 := digits(rest[1:3])
		m, ok2 := digits(rest[4:6])
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
