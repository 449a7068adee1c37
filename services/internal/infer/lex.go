package infer

// This file holds the lexers of the candidate types. Each one reads a whole
// value and says whether the candidate accepts it (ok) and whether the value
// is already in the canonical form tableschema's Normalize writes (canon).
// None of them allocates.

// Outcomes of a lexer.
const (
	reject   = 0 // the candidate does not accept the value
	accept   = 1 // accepted, and the text is canonical
	rewrites = 2 // accepted, but Normalize writes a different text
)

// outcome turns ok and canon into one of reject, accept and rewrites.
func outcome(ok, canon bool) uint8 {
	switch {
	case !ok:
		return reject
	case canon:
		return accept
	default:
		return rewrites
	}
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return c-'0' < 10 }

// maxInt64Digits is math.MaxInt64 in decimal; the smallest int64 is one more
// in magnitude.
const maxInt64Digits = "9223372036854775807"

// fitsInt64 reports whether the integer whose n significant digits start at
// v[i] (group characters, which are no digits, skipped) fits an int64 with
// the given sign.
func fitsInt64(v []byte, i, n int, neg bool) bool {
	if n != len(maxInt64Digits) {
		return n < len(maxInt64Digits)
	}
	for k := 0; k < n; i++ {
		c := v[i]
		if !isDigit(c) {
			continue
		}
		if c != maxInt64Digits[k] {
			// Only -9223372036854775808 exceeds the positive limit and
			// still fits.
			return c < maxInt64Digits[k] || (neg && k == n-1 && c == '8')
		}
		k++
	}
	return true
}

// lexInt reads an integer: an optional sign and decimal digits; when group is
// not 0 the digits may be cut into well-formed groups (1 to 3 digits, not
// starting with 0, then groups of exactly 3) by group. The value must fit an
// int64. Canonical is no '+', no leading zero (0 itself aside, not "-0"), no
// group character.
func lexInt(v []byte, group byte) uint8 {
	i := 0
	neg, canon := false, true
	if len(v) > 0 && (v[0] == '+' || v[0] == '-') {
		neg = v[0] == '-'
		canon = neg
		i = 1
	}
	first := i  // index of the first digit
	sig := -1   // index of the first significant digit
	n := 0      // significant digits
	run := 0    // digits since the start or the last group character
	groups := 0 // group characters seen
	for ; i < len(v); i++ {
		c := v[i]
		switch {
		case isDigit(c):
			run++
			if sig < 0 {
				if c == '0' {
					continue
				}
				sig = i
			}
			n++
		case c == group && group != 0:
			if groups == 0 {
				if run < 1 || run > 3 || v[first] == '0' {
					return reject
				}
			} else if run != 3 {
				return reject
			}
			groups++
			run = 0
		default:
			return reject
		}
	}
	if run == 0 || (groups > 0 && run != 3) {
		return reject
	}
	if sig >= 0 && !fitsInt64(v, sig, n, neg) {
		return reject
	}
	if groups > 0 || (v[first] == '0' && len(v)-first > 1) || (neg && n == 0) {
		canon = false
	}
	return outcome(true, canon)
}

// lexSpecial reads the special numbers after an optional sign already
// skipped: NaN (unsigned only) and the infinities inf, Inf, INF, infinity,
// Infinity and INFINITY. Canonical forms are NaN, inf and -inf.
func lexSpecial(v []byte, i int) uint8 {
	switch string(v[i:]) {
	case "NaN":
		if i != 0 {
			return reject
		}
		return accept
	case "inf":
		return outcome(true, i == 0 || v[0] == '-')
	case "Inf", "INF", "infinity", "Infinity", "INFINITY":
		return rewrites
	}
	return reject
}

// lexNumber reads a decimal number: an optional sign, an integer part (cut
// into well-formed groups by group when group is not 0), an optional
// fraction after dec, and an optional exponent (e or E, optional sign,
// digits); or one of the specials of lexSpecial. At least one digit must
// stand before the exponent, and the magnitude must stay well inside the
// range of a float64. Canonical (as tableschema writes numbers) is no '+', no
// group character, '.' as the decimal mark, an integer part that is 0 or
// starts with 1-9, a fraction of at least one digit when there is a mark, and
// an exponent written 'e', an optional '-' and digits without leading zeros
// (not "-0").
func lexNumber(v []byte, group, dec byte) uint8 {
	if len(v) == 0 {
		return reject
	}
	i := 0
	canon := true
	if v[0] == '+' || v[0] == '-' {
		canon = v[0] == '-'
		i = 1
	}
	if i < len(v) && !isDigit(v[i]) && v[i] != dec {
		if r := lexSpecial(v, i); r != reject {
			if !canon {
				return rewrites
			}
			return r
		}
		return reject
	}
	// Integer part.
	start := i
	run, groups := 0, 0
	sig := -1 // position of the first significant digit, counted in digits from the mark
	intDigits := 0
	for ; i < len(v); i++ {
		c := v[i]
		if isDigit(c) {
			run++
			intDigits++
			if sig < 0 && c != '0' {
				sig = intDigits
			}
			continue
		}
		if c == group && group != 0 {
			if groups == 0 {
				if run < 1 || run > 3 || v[start] == '0' {
					return reject
				}
			} else if run != 3 {
				return reject
			}
			groups++
			run = 0
			continue
		}
		break
	}
	if groups > 0 {
		if run != 3 {
			return reject
		}
		canon = false
	}
	if intDigits == 0 || (intDigits > 1 && v[start] == '0') {
		canon = false
	}
	// magnitude: the decimal exponent of the leading significant digit, so
	// far without the explicit exponent.
	mag := 0
	if sig >= 0 {
		mag = intDigits - sig
	}
	// Fraction.
	fracDigits := 0
	if i < len(v) && v[i] == dec {
		if dec != '.' {
			canon = false
		}
		i++
		for ; i < len(v) && isDigit(v[i]); i++ {
			fracDigits++
			if sig < 0 && v[i] != '0' {
				sig = intDigits + fracDigits
				mag = -fracDigits
			}
		}
		if fracDigits == 0 {
			canon = false
		}
	}
	if intDigits+fracDigits == 0 {
		return reject
	}
	// Exponent.
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		if v[i] == 'E' {
			canon = false
		}
		i++
		eneg := false
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			eneg = v[i] == '-'
			canon = canon && eneg
			i++
		}
		e, ed, e0 := 0, 0, i
		for ; i < len(v) && isDigit(v[i]); i++ {
			ed++
			if e < 100000 {
				e = e*10 + int(v[i]-'0')
			}
		}
		if ed == 0 {
			return reject
		}
		if v[e0] == '0' && (ed > 1 || eneg) {
			canon = false
		}
		if eneg {
			e = -e
		}
		mag += e
	}
	if i != len(v) {
		return reject
	}
	if sig >= 0 && (mag > 300 || mag < -300) {
		return reject
	}
	return outcome(true, canon)
}

// lexBool reads the booleans pandas reads: true, True, TRUE, false, False and
// FALSE. Canonical are true and false.
func lexBool(v []byte) uint8 {
	switch string(v) {
	case "true", "false":
		return accept
	case "True", "TRUE", "False", "FALSE":
		return rewrites
	}
	return reject
}

// num2 reads two ASCII digits at v[i:i+2], or returns -1.
func num2(v []byte, i int) int {
	a, b := v[i]-'0', v[i+1]-'0'
	if a > 9 || b > 9 {
		return -1
	}
	return int(a)*10 + int(b)
}

// num4 reads four ASCII digits at v[i:i+4], or returns -1.
func num4(v []byte, i int) int {
	hi, lo := num2(v, i), num2(v, i+2)
	if hi < 0 || lo < 0 {
		return -1
	}
	return hi*100 + lo
}

// validDate reports whether y-m-d is a real day of the proleptic Gregorian
// calendar in the years 1 to 9999.
func validDate(y, m, d int) bool {
	if y < 1 || m < 1 || m > 12 || d < 1 {
		return false
	}
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return d <= 29
		}
		return d <= 28
	case 4, 6, 9, 11:
		return d <= 30
	}
	return d <= 31
}

// lexISODate reads a date `YYYY-MM-DD` (canonical).
func lexISODate(v []byte) bool {
	return len(v) == 10 && isISODate(v)
}

// isISODate reports whether v starts with a real `YYYY-MM-DD` date.
func isISODate(v []byte) bool {
	if v[4] != '-' || v[7] != '-' {
		return false
	}
	return validDate(num4(v, 0), num2(v, 5), num2(v, 8))
}

// splitDate reads `A<sep>B<sep>YYYY`, where A and B are 1 or 2 digits, and
// returns the three numbers; ok is false when v has another shape.
func splitDate(v []byte, sep byte) (a, b, y int, ok bool) {
	if len(v) < 8 || len(v) > 10 {
		return 0, 0, 0, false
	}
	i := 0
	a, i = num12(v, i)
	if a < 0 || v[i] != sep {
		return 0, 0, 0, false
	}
	b, i = num12(v, i+1)
	if b < 0 || i != len(v)-5 || v[i] != sep {
		return 0, 0, 0, false
	}
	y = num4(v, i+1)
	return a, b, y, y >= 0
}

// num12 reads one or two ASCII digits at v[i:] (greedily, as strptime's %d
// and %m), where len(v) > i+2, and returns the number and the index after
// it, or -1.
func num12(v []byte, i int) (int, int) {
	if !isDigit(v[i]) {
		return -1, i
	}
	n := int(v[i] - '0')
	if isDigit(v[i+1]) {
		return n*10 + int(v[i+1]-'0'), i + 2
	}
	return n, i + 1
}

// lexClock reads `HH:MM:SS` with an optional fraction of 1 to 9 digits at
// v[i:] and returns the index just past it, or -1.
func lexClock(v []byte, i int) int {
	if len(v) < i+8 || v[i+2] != ':' || v[i+5] != ':' {
		return -1
	}
	h, m, s := num2(v, i), num2(v, i+3), num2(v, i+6)
	if h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 59 {
		return -1
	}
	i += 8
	if i < len(v) && v[i] == '.' {
		i++
		n := 0
		for ; i < len(v) && isDigit(v[i]); i++ {
			n++
		}
		if n == 0 || n > 9 {
			return -1
		}
	}
	return i
}

// lexTime reads a time of day `HH:MM:SS[.fraction]` (canonical).
func lexTime(v []byte) bool {
	return lexClock(v, 0) == len(v)
}

// lexDatetime reads an ISO 8601 date and time: `YYYY-MM-DD`, `T` or a space,
// `HH:MM:SS[.fraction]`, and an optional `Z`, `±hh:mm` or `±hhmm` offset.
// Canonical uses `T` and `±hh:mm` (a zero offset stays as written).
func lexDatetime(v []byte) uint8 {
	if len(v) < 19 || (v[10] != 'T' && v[10] != ' ') || !isISODate(v) {
		return reject
	}
	i := lexClock(v, 11)
	if i < 0 {
		return reject
	}
	canon := v[10] == 'T'
	switch rest := v[i:]; {
	case len(rest) == 0:
	case len(rest) == 1 && rest[0] == 'Z':
	case (len(rest) == 6 && rest[3] == ':') || len(rest) == 5:
		if rest[0] != '+' && rest[0] != '-' {
			return reject
		}
		h, m := num2(rest, 1), num2(rest, len(rest)-2)
		if h < 0 || h > 23 || m < 0 || m > 59 {
			return reject
		}
		// ±hhmm gains its colon.
		if len(rest) == 5 {
			canon = false
		}
	default:
		return reject
	}
	return outcome(true, canon)
}
