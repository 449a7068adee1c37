package parquetout

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// checkParseFloat compares parseFloat with strconv.ParseFloat.
func checkParseFloat(t *testing.T, s string) {
	t.Helper()
	want, err := strconv.ParseFloat(s, 64)
	wantOK := err == nil || errors.Is(err, strconv.ErrRange)
	got, ok := parseFloat([]byte(s))
	if ok != wantOK || ok && math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
		t.Errorf("parseFloat(%q) = %v, %v; strconv: %v, %v", s, got, ok, want, err)
	}
}

// checkParseInt compares parseInt with strconv.ParseInt.
func checkParseInt(t *testing.T, s string, bits int) {
	t.Helper()
	want, err := strconv.ParseInt(s, 10, bits)
	got, ok := parseInt([]byte(s), bits)
	if ok != (err == nil) || ok && got != want {
		t.Errorf("parseInt(%q, %d) = %d, %v; strconv: %d, %v", s, bits, got, ok, want, err)
	}
}

func TestParseFloat(t *testing.T) {
	tests := []string{
		"0", "-0", "+0", "0.0", "-0.0", "1", "-1", "+1.5", "3.14", "3.490", "0.1", "0.3", ".5", "-.5", "5.",
		"123456789012345678", "1234567890123456789", "12345678901234567890", "9007199254740991", "9007199254740992",
		"9007199254740993", "0.000000000000000000001", "0.0000000000000000000001", "1.0000000000000000000001",
		"4503599627370496.5", "4503599627370497.5", "179769313486231570000000000000000000000.0",
		"1e3", "1E-3", "-1e-9", "1.7976931348623157e308", "1e309", "-1e309", "4.9e-324", "1e-400",
		"inf", "-inf", "+Inf", "Infinity", "NaN", "nan", "0x1p-2", "1_000", "",
		".", "-", "+", "-.", "1.2.3", "1..2", "1-", "--1", "1e", "abc", " 1", "1 ", "１",
	}
	for _, s := range tests {
		checkParseFloat(t, s)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		// Decimals with up to 20 digits, the point anywhere.
		digits := 1 + r.IntN(20)
		b := make([]byte, 0, digits+2)
		if r.IntN(4) == 0 {
			b = append(b, '-')
		}
		point := r.IntN(digits + 1)
		for i := range digits {
			if i == point {
				b = append(b, '.')
			}
			b = append(b, byte('0'+r.IntN(10)))
		}
		checkParseFloat(t, string(b))
	}
}

func TestParseInt(t *testing.T) {
	tests := []string{
		"0", "-0", "+0", "7", "-7", "+7", "007", "123456789012345678", "-123456789012345678",
		"999999999999999999", "1000000000000000000", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "-9223372036854775809", "99999999999999999999",
		"2147483647", "2147483648", "-2147483648", "-2147483649",
		"", "-", "+", "1.0", "1e3", "0x10", "1_000", " 1", "1 ", "--1", "abc",
	}
	for _, s := range tests {
		checkParseInt(t, s, 64)
		checkParseInt(t, s, 32)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 100_000 {
		s := strconv.FormatInt(int64(r.Uint64())>>r.IntN(64), 10)
		checkParseInt(t, s, 64)
		checkParseInt(t, s, 32)
	}
}

func FuzzParseNumbers(f *testing.F) {
	for _, s := range []string{"3.14", "-0", "1e3", "9007199254740993", "-9223372036854775808", "NaN", "1..2", "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkParseFloat(t, s)
		checkParseInt(t, s, 64)
		checkParseInt(t, s, 32)
	})
}
