package validator

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

func TestIsMissing(t *testing.T) {
	for _, v := range []string{"", "NA", "N/A", "n/a", "null", "NULL", "NaN", "nan", "None", "#N/A", "<NA>", "-NaN", "1.#IND", "-1.#QNAN", "#N/A N/A"} {
		if !IsMissing([]byte(v)) {
			t.Errorf("IsMissing(%q) = false, want true", v)
		}
	}
	for _, v := range []string{"-", " ", "na", "Null", "none", "0", "N/A ", "NaNa", "missing"} {
		if IsMissing([]byte(v)) {
			t.Errorf("IsMissing(%q) = true, want false", v)
		}
	}
}

func TestAppendInteger(t *testing.T) {
	tests := []struct {
		in, want     string
		ok, overflow bool
	}{
		{"42", "42", true, false},
		{"+007", "7", true, false},
		{"-0", "0", true, false},
		{"-00120", "-120", true, false},
		{"9223372036854775807", "9223372036854775807", true, false},
		{"-9223372036854775808", "-9223372036854775808", true, false},
		{"9223372036854775808", "", true, true},
		{"00000000000000000000001", "1", true, false},
		{"123456789012345678901", "", true, true},
		{"1.0", "", false, false},
		{"", "", false, false},
		{"-", "", false, false},
		{"1e3", "", false, false},
		{" 1", "", false, false},
	}
	for _, tc := range tests {
		got, ok, overflow := appendInteger(nil, []byte(tc.in))
		if ok != tc.ok || overflow != tc.overflow || (ok && !overflow && string(got) != tc.want) {
			t.Errorf("appendInteger(%q) = %q, %v, %v; want %q, %v, %v", tc.in, got, ok, overflow, tc.want, tc.ok, tc.overflow)
		}
	}
}

func TestAppendNumber(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"3.14", "3.14", true},
		{"+1.50", "1.5", true},
		{"007.100", "7.1", true},
		{".5", "0.5", true},
		{"5.", "5", true},
		{"-0.0", "0", true},
		{"0", "0", true},
		{"1e3", "1000", true},
		{"1.5E-3", "0.0015", true},
		{"-1e-9", "-1e-9", true},
		{"12345e-2", "123.45", true},
		{"0.000001", "0.000001", true},
		{"0.0000001", "1e-7", true},
		{"1e20", "100000000000000000000", true},
		{"1e21", "1e+21", true},
		{"1e22", "1e+22", true},
		{"123.456e30", "1.23456e+32", true},
		{"0.1000000000000000000000000001", "0.1000000000000000000000000001", true},
		{"99999999999999999999", "99999999999999999999", true},
		{"1e99999999999999999", "1e+99999999999999999", true},
		{"-12.5e-100000000000000000000", "-1.25e-99999999999999999999", true},
		{"0.00123e1000000000000", "1.23e+999999999997", true},
		{"1e999999999999", "1e+999999999999", true},
		{".", "", false},
		{"e5", "", false},
		{"1e", "", false},
		{"1.2.3", "", false},
		{"inf", "", false},
		{"1,000", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := appendNumber(nil, []byte(tc.in))
		if ok != tc.ok || ok && string(got) != tc.want {
			t.Errorf("appendNumber(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if isNumber([]byte(tc.in)) != tc.ok {
			t.Errorf("isNumber(%q) = %v, want %v", tc.in, !tc.ok, tc.ok)
		}
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "TRUE": true, "Yes": true, "t": true, "Y": true, "1": true,
		"false": false, "False": false, "NO": false, "f": false, "n": false, "0": false} {
		got, ok := parseBool([]byte(in))
		if !ok || got != want {
			t.Errorf("parseBool(%q) = %v, %v; want %v, true", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "2", "truee", "yess", "on", "off"} {
		if _, ok := parseBool([]byte(in)); ok {
			t.Errorf("parseBool(%q) ok, want not ok", in)
		}
	}
}

func TestAppendDatetime(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z", true},
		{"2024-01-02 03:04:05", "2024-01-02T03:04:05Z", true},
		{"2024-01-02 03:04:05.120", "2024-01-02T03:04:05.12Z", true},
		{"2024-01-02t03:04:05.000z", "2024-01-02T03:04:05Z", true},
		{"2024-01-02T03:04:05+02:00", "2024-01-02T01:04:05Z", true},
		{"2024-01-01T23:30:00.5-0100", "2024-01-02T00:30:00.5Z", true},
		{"2024-01-02T03:04:05+00:00", "2024-01-02T03:04:05Z", true},
		{"2024-02-29", "2024-02-29T00:00:00Z", true},
		{"2023-02-29T00:00:00Z", "", false},
		{"2024-01-02T24:00:00Z", "", false},
		{"2024-01-02T03:04Z", "", false},
		{"2024-01-02T03:04:05.Z", "", false},
		{"2024-01-02T03:04:05+2", "", false},
		{"2024-13-01T00:00:00", "", false},
		{"02/01/2024", "", false},
	}
	for _, tc := range tests {
		got, ok := appendDatetime(nil, []byte(tc.in))
		if ok != tc.ok || ok && string(got) != tc.want {
			t.Errorf("appendDatetime(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	for in, want := range map[string]bool{"2024-02-29": true, "2000-02-29": true, "1900-02-29": false, "2024-04-31": false, "2024-1-02": false, "2024-01-02T00:00:00": false} {
		if isDate([]byte(in)) != want {
			t.Errorf("isDate(%q) = %v, want %v", in, !want, want)
		}
	}
}

func TestInference(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   typev1.FieldType
	}{
		{"integers", []string{"1", "-2", "+3", "007"}, typev1.FieldType_FIELD_TYPE_INTEGER},
		{"integer overflow is a number", []string{"1", "99999999999999999999"}, typev1.FieldType_FIELD_TYPE_NUMBER},
		{"numbers", []string{"1", "2.5", "1e3"}, typev1.FieldType_FIELD_TYPE_NUMBER},
		{"boolean words", []string{"true", "FALSE", "True"}, typev1.FieldType_FIELD_TYPE_BOOLEAN},
		{"0 and 1 are integers", []string{"0", "1"}, typev1.FieldType_FIELD_TYPE_INTEGER},
		{"booleans mixed with numbers", []string{"true", "1"}, typev1.FieldType_FIELD_TYPE_STRING},
		{"yes/no is a string", []string{"yes", "no"}, typev1.FieldType_FIELD_TYPE_STRING},
		{"dates", []string{"2024-01-02", "2024-12-31"}, typev1.FieldType_FIELD_TYPE_DATE},
		{"datetimes", []string{"2024-01-02T03:04:05Z", "2024-01-02 03:04:05.1"}, typev1.FieldType_FIELD_TYPE_DATETIME},
		{"dates and datetimes", []string{"2024-01-02", "2024-01-02T03:04:05Z"}, typev1.FieldType_FIELD_TYPE_DATETIME},
		{"a dash is a string", []string{"1", "-"}, typev1.FieldType_FIELD_TYPE_STRING},
		{"text", []string{"abc", "1"}, typev1.FieldType_FIELD_TYPE_STRING},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			alive := candAll
			for _, v := range tc.values {
				alive = candidates([]byte(v), alive)
			}
			if got := inferredType(alive, true); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if got := inferredType(candAll, false); got != typev1.FieldType_FIELD_TYPE_STRING {
		t.Errorf("all-missing column: got %v, want string", got)
	}
}

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
		if want := strings.Split(tc.want, ","); !reflect.DeepEqual(got, want) {
			t.Errorf("MangleHeader(%q) = %q, want %q", tc.in, got, want)
		}
		if again := MangleHeader(got); !reflect.DeepEqual(again, got) {
			t.Errorf("MangleHeader is not idempotent on %q: %q", got, again)
		}
	}
}

// TestMissingMarkersHaveNoType checks what the engine relies on to skip
// IsMissing for values that parse: no missing marker is a value of any other
// type, in a schema or in inference. It also checks that IsMissing takes
// exactly the markers (and the empty string) among values close to them.
func TestMissingMarkersHaveNoType(t *testing.T) {
	for _, m := range missingMarkers {
		v := []byte(m)
		if !IsMissing(v) {
			t.Errorf("IsMissing(%q) = false, want true", m)
		}
		if c := candidates(v, candAll); c != 0 {
			t.Errorf("candidates(%q) = %b, want none", m, c)
		}
		if _, ok, _ := appendInteger(nil, v); ok {
			t.Errorf("appendInteger(%q) ok", m)
		}
		if _, ok := appendNumber(nil, v); ok {
			t.Errorf("appendNumber(%q) ok", m)
		}
		if _, ok := parseBool(v); ok {
			t.Errorf("parseBool(%q) ok", m)
		}
		if isDate(v) {
			t.Errorf("isDate(%q) = true", m)
		}
		if _, ok := appendDatetime(nil, v); ok {
			t.Errorf("appendDatetime(%q) ok", m)
		}
	}
	// Every one-byte change, deletion and extension of a marker is missing
	// exactly when it is itself a marker.
	markers := map[string]bool{"": true}
	for _, m := range missingMarkers {
		markers[m] = true
	}
	check := func(v string) {
		if got := IsMissing([]byte(v)); got != markers[v] {
			t.Errorf("IsMissing(%q) = %v, want %v", v, got, markers[v])
		}
	}
	for _, m := range missingMarkers {
		for i := range len(m) + 1 {
			check(m[:i])
			if i < len(m) {
				check(m[:i] + m[i+1:])
			}
			for _, c := range []byte("NnAa/#<>.-1IDQx ") {
				check(m[:i] + string(c) + m[i:])
				if i < len(m) {
					check(m[:i] + string(c) + m[i+1:])
				}
			}
		}
	}
}

func TestAllDigits(t *testing.T) {
	for k := range 8 {
		for c := range 256 {
			w := []byte("55555555")
			w[k] = byte(c)
			x := uint64(0)
			for i := 7; i >= 0; i-- {
				x = x<<8 | uint64(w[i])
			}
			if got, want := allDigits(x), c >= '0' && c <= '9'; got != want {
				t.Errorf("allDigits(%q) = %v, want %v", w, got, want)
			}
		}
	}
}

// TestScanRecord checks the word-at-a-time record scan against byte loops
// for every position of a quote, a comma, a high byte and their neighbours
// in records of lengths around the word size, with ',' and ';' delimiters.
func TestScanRecord(t *testing.T) {
	for n := range 40 {
		base := []byte(strings.Repeat("a", n))
		cases := [][]byte{base}
		for i := range n {
			for _, c := range []byte{'"', ',', ';', '#', '-', '!', 0x7f, 0x80, 0xc3, 0xff, 0} {
				f := append([]byte(nil), base...)
				f[i] = c
				cases = append(cases, f)
			}
		}
		for _, raw := range cases {
			for _, comma := range []byte{',', ';'} {
				wantASCII, wantPlain := true, true
				for _, c := range raw {
					wantASCII = wantASCII && c < 0x80
					wantPlain = wantPlain && c != '"' && (comma == ',' || c != ',')
				}
				if ascii, plain := scanRecord(raw, comma); ascii != wantASCII || plain != wantPlain {
					t.Errorf("scanRecord(%q, %q) = %v, %v; want %v, %v", raw, comma, ascii, plain, wantASCII, wantPlain)
				}
			}
		}
	}
}

// TestScanDecimal checks the class-table scan against a byte loop on
// random values up to 20 bytes, with bytes that differ from digits and '.'
// only in their high bit or lowest bits.
func TestScanDecimal(t *testing.T) {
	ref := func(d []byte) (hasDot, plain bool) {
		digits, dots := 0, 0
		for _, c := range d {
			switch {
			case c >= '0' && c <= '9':
				digits++
			case c == '.':
				dots++
			default:
				return false, false
			}
		}
		return dots > 0, digits > 0 && dots <= 1
	}
	r := rand.New(rand.NewPCG(11, 12))
	alphabet := []byte("0123456789012345678901234567890123456789...../:\x00\xae\xb0\xb5\xb9\xba\xff")
	for range 200000 {
		d := make([]byte, r.IntN(21))
		for i := range d {
			d[i] = alphabet[r.IntN(len(alphabet))]
		}
		gotDot, gotPlain := scanDecimal(d)
		wantDot, wantPlain := ref(d)
		if gotPlain != wantPlain || gotPlain && gotDot != wantDot {
			t.Fatalf("scanDecimal(%q) = %v, %v; want %v, %v", d, gotDot, gotPlain, wantDot, wantPlain)
		}
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
