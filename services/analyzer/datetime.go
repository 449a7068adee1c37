package analyzer

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"time"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
	"github.com/csvmesh/csvmesh/services/internal/tableschema"
)

// dateCol accumulates a DATE or DATETIME column as points in time:
// nanoseconds since the Unix epoch (UTC), the range pandas' Timestamp
// covers. Its exact sum, count, min and max give the mean and the extremes
// exactly; a numericCol of the same nanoseconds as float64 gives the
// percentiles and the histogram (exact while the values fit the budget, then
// a KLL sketch), interpolated on float64 as numpy does.
type dateCol struct {
	num      *numericCol
	n        int64
	sumHi    int64  // the high word of the 128-bit sum
	sumLo    uint64 // the low word
	min, max int64
	bad      bool // a value could not be read as a point in time
}

func newDateCol(maxChunk int) *dateCol {
	return &dateCol{num: &numericCol{maxChunk: maxChunk, plain: true}}
}

// add records a value of a DATE or DATETIME column: ns, its time as
// parseTimestamp reads it, when ok, and otherwise a value parseTimestamp
// could not read. It returns the change in memory use.
func (c *dateCol) add(ns int64, ok bool) int64 {
	if c.bad {
		return 0
	}
	if !ok {
		// A time outside pandas' range, or a form this reader does not
		// know: no time statistics for the column, rather than wrong ones.
		c.bad = true
		d := -c.num.size
		*c.num = numericCol{maxChunk: c.num.maxChunk, plain: true}
		return d
	}
	if c.n == 0 || ns < c.min {
		c.min = ns
	}
	if c.n == 0 || ns > c.max {
		c.max = ns
	}
	c.n++
	c.addSum(c.sumHi, c.sumLo, ns)
	return c.num.add(float64(ns))
}

// addSum sets the sum to (hi, lo) + x.
func (c *dateCol) addSum(hi int64, lo uint64, x int64) {
	lo, carry := bits.Add64(lo, uint64(x), 0)
	hi += int64(carry)
	if x < 0 {
		hi--
	}
	c.sumHi, c.sumLo = hi, lo
}

// merge folds o, a column of the rows that follow c's, into c, and returns
// the change in c's memory use; o must not be used afterwards.
func (c *dateCol) merge(o *dateCol) int64 {
	if o.bad || c.bad {
		d := -c.num.size
		c.bad = true
		*c.num = numericCol{maxChunk: c.num.maxChunk, plain: true}
		return d
	}
	if o.n > 0 {
		if c.n == 0 || o.min < c.min {
			c.min = o.min
		}
		if c.n == 0 || o.max > c.max {
			c.max = o.max
		}
		lo, carry := bits.Add64(c.sumLo, o.sumLo, 0)
		c.sumHi, c.sumLo = c.sumHi+o.sumHi+int64(carry), lo
		c.n += o.n
	}
	return c.num.merge(o.num)
}

// stats computes the column's time statistics for the given quantiles; nil
// when a value could not be read as a time.
func (c *dateCol) stats(quantiles []float64) *typev1.DatetimeStats {
	if c.bad {
		return nil
	}
	ns := c.num.stats(quantiles)
	st := &typev1.DatetimeStats{Percentiles: ns.GetPercentiles(), Histogram: ns.GetHistogram()}
	if c.n == 0 {
		return st
	}
	st.Min = strPtr(formatTimestamp(c.min))
	st.Max = strPtr(formatTimestamp(c.max))
	st.Mean = strPtr(formatTimestamp(c.mean()))
	for _, p := range st.Percentiles {
		st.PercentileTimes = append(st.PercentileTimes, formatTimestamp(int64(math.Round(p.GetValue()))))
	}
	return st
}

// mean returns the sum divided by the count, rounded to the nearest
// nanosecond (halves away from zero).
func (c *dateCol) mean() int64 {
	sum := new(big.Int).SetInt64(c.sumHi)
	sum.Lsh(sum, 64)
	sum.Add(sum, new(big.Int).SetUint64(c.sumLo))
	n := big.NewInt(c.n)
	q, r := new(big.Int).QuoRem(sum, n, new(big.Int))
	r2 := new(big.Int).Abs(r)
	r2.Lsh(r2, 1)
	if r2.Cmp(n) >= 0 {
		if sum.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q.Int64()
}

// parseTimestamp reads a canonical DATE (2006-01-02) or DATETIME
// (2006-01-02T15:04:05[.fraction][Z|±hh:mm|±hhmm], a space allowed for the T)
// value as nanoseconds since the epoch, UTC; a datetime without an offset is
// taken as UTC. ok is false for any other form or a time outside pandas'
// range.
func parseTimestamp(v []byte) (ns int64, ok bool) {
	var c dayCache
	return c.parseTimestamp(v)
}

// dayCache remembers the day of the last date parseTimestamp read, so that
// consecutive values of the same day (a file sorted by time) skip the
// calendar arithmetic. Its zero value is empty.
type dayCache struct {
	date [10]byte // the last date read, "2006-01-02"
	days int64    // its days since the epoch
	set  bool
}

// parseTimestamp is the package's parseTimestamp, with the cache.
func (c *dayCache) parseTimestamp(v []byte) (ns int64, ok bool) {
	num := func(b []byte) (int, bool) {
		x := 0
		for _, ch := range b {
			if ch < '0' || ch > '9' {
				return 0, false
			}
			x = x*10 + int(ch-'0')
		}
		return x, true
	}
	if len(v) < 10 {
		return 0, false
	}
	var days int64
	if c.set && [10]byte(v[:10]) == c.date {
		days = c.days
	} else {
		if v[4] != '-' || v[7] != '-' {
			return 0, false
		}
		y, ok1 := num(v[0:4])
		mo, ok2 := num(v[5:7])
		d, ok3 := num(v[8:10])
		if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > tableschema.DaysIn(y, mo) {
			return 0, false // d > daysIn: 2023-02-30 and the like
		}
		days = tableschema.DaysFromCivil(y, mo, d)
		c.date, c.days, c.set = [10]byte(v[:10]), days, true
	}
	var hh, mm, ss, frac int
	offset := 0
	if len(v) > 10 {
		if len(v) < 19 || (v[10] != 'T' && v[10] != ' ') || v[13] != ':' || v[16] != ':' {
			return 0, false
		}
		var okh, okm, oks bool
		hh, okh = num(v[11:13])
		mm, okm = num(v[14:16])
		ss, oks = num(v[17:19])
		if !okh || !okm || !oks || hh > 23 || mm > 59 || ss > 59 {
			return 0, false
		}
		rest := v[19:]
		if len(rest) > 0 && rest[0] == '.' {
			i := 1
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
				i++
			}
			digits := rest[1:i]
			if len(digits) == 0 || len(digits) > 9 {
				return 0, false
			}
			f, _ := num(digits)
			for range 9 - len(digits) {
				f *= 10
			}
			frac = f
			rest = rest[i:]
		}
		switch {
		case len(rest) == 0:
		case len(rest) == 1 && rest[0] == 'Z':
		case (len(rest) == 6 && rest[3] == ':') || len(rest) == 5:
			if rest[0] != '+' && rest[0] != '-' {
				return 0, false
			}
			oh, okoh := num(rest[1:3])
			om, okom := num(rest[len(rest)-2:])
			if !okoh || !okom || oh > 23 || om > 59 {
				return 0, false
			}
			offset = oh*3600 + om*60
			if rest[0] == '-' {
				offset = -offset
			}
		default:
			return 0, false
		}
	}
	secs := days*86400 + int64(hh*3600+mm*60+ss-offset)
	// Within these bounds secs*1e9+frac fits an int64: pandas' range, less
	// its last fraction of a second at each end.
	if secs < -9223372036 || secs > 9223372035 {
		return 0, false
	}
	return secs*1e9 + int64(frac), true
}

// formatTimestamp writes ns since the epoch as pandas prints a Timestamp:
// "2006-01-02 15:04:05", then 6 fraction digits when the time has
// microseconds, 9 when it has nanoseconds.
func formatTimestamp(ns int64) string {
	t := time.Unix(0, ns).UTC()
	s := t.Format("2006-01-02 15:04:05")
	switch f := t.Nanosecond(); {
	case f == 0:
	case f%1000 == 0:
		s += "." + leftPad(strconv.Itoa(f/1000), 6)
	default:
		s += "." + leftPad(strconv.Itoa(f), 9)
	}
	return s
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

func strPtr(s string) *string { return &s }
