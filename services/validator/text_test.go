package validator

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/csvmesh/csvmesh/services/internal/infer"
)

func TestMangleHeader(t *testing.T) {
	// Expected values are pandas.read_csv's (pandas/tests/io/parser/test_mangle_dupes.py).
	tests := []struct{ in, want string }{
		{"a,b,c", "a,b,c"},
		{"a,a,b,b,b", "a,a.1,b,b.1,b.2"},
		{"a,b,a", "a,b,a.1"},
		{"a,a,a.1", "a,a.2,a.1"},
		{"a,a,a.1,a.1.1,a.1.1.1,a.1.1.1.1", "a,a.2,a.1,a.1.1,a.1.1.1,a.1.1.1.1"},
		{"a,a,a.3,a.1,a.2,a,a", "a,a.4,a.3,a.1,a.2,a.5,a.6"},
		{",x,", "Unnamed: 0,x,Unnamed: 2"},
		{"Unnamed: 2,x,", "Unnamed: 2,x,Unnamed: 2.1"},
	}
	for _, tc := range tests {
		got := MangleHeader(strings.Split(tc.in, ","))
		if want := strings.Split(tc.want, ","); !slices.Equal(got, want) {
			t.Errorf("MangleHeader(%q) = %q, want %q", tc.in, got, want)
		}
		if again := MangleHeader(got); !slices.Equal(again, got) {
			t.Errorf("MangleHeader is not idempotent on %q: %q", got, again)
		}
	}
}

func TestJoinHeaderRows(t *testing.T) {
	got := joinHeaderRows([][]string{{"price", "price", "id", ""}, {"USD", "EUR"}, {"", "x"}})
	if want := []string{"price USD", "price EUR x", "id", ""}; !slices.Equal(got, want) {
		t.Errorf("joinHeaderRows = %q, want %q", got, want)
	}
}

func TestAppendValidUTF8(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	pieces := []string{"a", "é", "€", "𝄞", "\xff", "\xc3", "\xe2\x82", "\xf0\x9d\x84", "\uFFFD", "\xed\xa0\x80", "\xc0\xaf"}
	for range 20000 {
		var b []byte
		for range r.IntN(8) {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		if got, want := string(appendValidUTF8([]byte("x"), b)), "x"+strings.ToValidUTF8(string(b), "\uFFFD"); got != want {
			t.Fatalf("appendValidUTF8(%q) = %q, want %q", b, got, want)
		}
	}
}

func TestCutUTF8(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"},
		{"a€", 3, "a"},
		{"a𝄞b", 4, "a"},
		{"a𝄞b", 5, "a𝄞"},
		{"a\xff\xff", 2, "a\xff"},
	}
	for _, tc := range tests {
		if got := cutUTF8(tc.in, tc.n); got != tc.want {
			t.Errorf("cutUTF8(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// TestScans checks the word-at-a-time scans against byte loops on random
// text of every length around the word size.
func TestScans(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const alphabet = "abc ,;\"'\\\r\n\x80é"
	for range 20000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		quote := "\"'"[r.IntN(2)]
		escape := "\x00\\"[r.IntN(2)]
		var ascii, quoting, plain = true, false, true
		for _, c := range b {
			ascii = ascii && c < utf8.RuneSelf
			quoting = quoting || c == ',' || c == '"' || c == '\r' || c == '\n'
			plain = plain && c != '"' && c != quote && (escape == 0 || c != escape)
		}
		if got := isASCII(b); got != ascii {
			t.Fatalf("isASCII(%q) = %v", b, got)
		}
		if got := needsQuoting(b); got != quoting {
			t.Fatalf("needsQuoting(%q) = %v", b, got)
		}
		line := append(slices.Grow([]byte("x,\"\n"), len(b)+r.IntN(16)), b...)
		line = append(line, ",\"\r\n,\"\r\n,\"\r\n"[:r.IntN(12)]...)[:len(line)] // junk past the end
		if got := tailNeedsQuoting(line, 4); got != quoting {
			t.Fatalf("tailNeedsQuoting(%q) = %v", b, got)
		}
		if got := plainRecord(b, quote, escape); got != plain {
			t.Fatalf("plainRecord(%q, %q, %q) = %v", b, quote, escape, got)
		}
	}
}

func TestInferMissing(t *testing.T) {
	values := append(slices.Clone(valuePool), infer.DefaultMissingValues...)
	for _, m := range infer.DefaultMissingValues {
		values = append(values, m+"x", "x"+m, strings.ToLower(m), strings.ToUpper(m))
	}
	for _, v := range values {
		if got, want := inferMissing([]byte(v)), infer.IsMissing([]byte(v)); got != want {
			t.Errorf("inferMissing(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestValidUTF8(t *testing.T) {
	for _, s := range []string{
		"", "abc", "café", "0123456789abcdef", "0123456789abcdefé", "é0123456789abcdef0123456789abcdef",
		"0123456789abcde\xff", "0123456789abcdef\xff", "0123456789abcdef\xc3", "0123456789abcdef\xc3\xa9", "0123456789abcde\xc3\xa9xxxxxxxxxxxxxxxxx",
		"0123456789abcdef\xed\xa0\x80", "0123456789abcdef\xef\xbf\xbd", "交易交易交易交易交易交易", "交易交易交易交易交易交\xe4",
		"0123456789abcdef\xf4\x90\x80\x80", "xxxxxxxxxxxxxxxxxxxxxxx\xe2\x82",
	} {
		if got, want := validUTF8([]byte(s)), utf8.ValidString(s); got != want {
			t.Errorf("validUTF8(%q) = %v, want %v", s, got, want)
		}
	}
	// Random mixes of ASCII, characters and broken sequences.
	r := rand.New(rand.NewPCG(1, 1))
	parts := []string{"a", "0123456789", "é", "交", "€", "\U0001F600", "\xff", "\xc3", "\xe4\xba", "\xed\xa0\x80", "\xf4\x90\x80\x80"}
	for range 20000 {
		var b []byte
		for range r.IntN(30) {
			p := parts[r.IntN(len(parts))]
			if r.IntN(8) != 0 {
				p = parts[r.IntN(6)]
			}
			b = append(b, p...)
		}
		if got, want := validUTF8(b), utf8.Valid(b); got != want {
			t.Fatalf("validUTF8(%q) = %v, want %v", b, got, want)
		}
	}
}

func TestSplitLine(t *testing.T) {
	for _, s := range []string{"", ",", "a", "a,b", ",-,-,", "abcdefgh,ijklmnop,q", "12345678,", ",,,,,,,,,,,,,,,,,,",
		"a,-b,+c,,d-e,,f,g,h,i,j", "ñ,€,交易,x\xff,y"} {
		for _, tail := range []string{"", "\n", "\r\n", "\r", "\nx,y\n", "\rx,y", ",\n"} {
			in := "z," + s + tail
			line, _, _ := strings.Cut(strings.ReplaceAll(in, "\r", "\n"), "\n")
			for _, p := range []int{0, 2} {
				var got []string
				fields, end := splitLine(nil, []byte(in), p)
				for _, f := range fields {
					got = append(got, string(f))
				}
				if want := strings.Split(line[p:], ","); !slices.Equal(got, want) || end != len(line) {
					t.Errorf("splitLine(%q, %d) = %q, %d; want %q, %d", in, p, got, end, want, len(line))
				}
			}
		}
	}
}

func TestDigitsEnd(t *testing.T) {
	for _, s := range []string{"", "1", "12345678", "123456789", "1234567890123456x", "12/", "1:", "0x", "9\x80", "\xb9", "12345678.", "1234567,9"} {
		for _, p := range []int{0, 1} {
			if p > len(s) {
				continue
			}
			want := p
			for want < len(s) && s[want] >= '0' && s[want] <= '9' {
				want++
			}
			if got := digitsEnd([]byte(s), p); got != want {
				t.Errorf("digitsEnd(%q, %d) = %d, want %d", s, p, got, want)
			}
		}
	}
}
