package parquetout

import (
	"errors"
	"strconv"
)

// parseInt parses f as a base-10 integer with an optional sign, in the
// range of a signed integer of bits bits, exactly as strconv.ParseInt(f, 10,
// bits) does; short values, the common case, skip strconv.
func parseInt(f []byte, bits int) (int64, bool) {
	d := f
	neg := false
	if len(d) > 0 && (d[0] == '-' || d[0] == '+') {
		neg = d[0] == '-'
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 18 {
		x, err := strconv.ParseInt(string(f), 10, bits)
		return x, err == nil
	}
	var n int64
	for _, c := range d {
		c -= '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int64(c)
	}
	if neg {
		n = -n
	}
	if bits < 64 {
		if lim := int64(1) << (bits - 1); n < -lim || n >= lim {
			return 0, false
		}
	}
	return n, true
}

// pow10 holds the powers of ten that a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat parses f as strconv.ParseFloat(f, 64) does, out-of-range values
// becoming ±Inf or ±0 rather than errors. Plain decimals ("-12.345") whose
// digits fit in 53 bits are computed directly: the digits and the power of
// ten are then exact float64s, so their quotient is the correctly rounded
// value strconv returns.
func parseFloat(f []byte) (float64, bool) {
	d := f
	neg := false
	if len(d) > 0 && (d[0] == '-' || d[0] == '+') {
		neg = d[0] == '-'
		d = d[1:]
	}
	var m uint64
	i := 0
	for ; i < len(d); i++ {
		c := d[i] - '0'
		if c > 9 {
			break
		}
		m = m*10 + uint64(c)
	}
	digits, frac := i, 0
	if i < len(d) && d[i] == '.' {
		i++
		start := i
		for ; i < len(d); i++ {
			c := d[i] - '0'
			if c > 9 {
				break
			}
			m = m*10 + uint64(c)
		}
		frac = i - start
		digits += frac
	}
	// More than 19 digits may have wrapped m around.
	if i != len(d) || digits == 0 || digits > 19 || m >= 1<<53 || frac >= len(pow10) {
		return parseFloatSlow(f)
	}
	x := float64(int64(m)) / pow10[frac]
	if neg {
		x = -x
	}
	return x, true
}

func parseFloatSlow(f []byte) (float64, bool) {
	x, err := strconv.ParseFloat(string(f), 64)
	return x, err == nil || errors.Is(err, strconv.ErrRange)
}
