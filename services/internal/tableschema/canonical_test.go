package tableschema

import (
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"unicode/utf8"
)

// canonicalFields cover every branch of Canonical: the kinds it checks in
// place, with and without constraints, and those it checks by writing.
var canonicalFields = []string{
	`{"name":"a","type":"string"}`,
	`{"name":"a","type":"string","constraints":{"maxLength":4}}`,
	`{"name":"a","type":"string","constraints":{"minLength":2,"maxLength":3}}`,
	`{"name":"a","type":"string","constraints":{"enum":["BUY","SELL"]}}`,
	`{"name":"a","type":"string","constraints":{"pattern":"[A-Z]+"}}`,
	`{"name":"a","type":"string","format":"email"}`,
	`{"name":"a","type":"any"}`,
	`{"name":"a","type":"integer"}`,
	`{"name":"a","type":"integer","constraints":{"minimum":1,"maximum":1000}}`,
	`{"name":"a","type":"integer","groupChar":","}`,
	`{"name":"a","type":"integer","bareNumber":false}`,
	`{"name":"a","type":"number"}`,
	`{"name":"a","type":"number","constraints":{"minimum":0}}`,
	`{"name":"a","type":"number","constraints":{"minimum":-1.5,"maximum":2.25}}`,
	`{"name":"a","type":"number","constraints":{"enum":[1,2.5,"NaN"]}}`,
	`{"name":"a","type":"number","decimalChar":","}`,
	`{"name":"a","type":"boolean"}`,
	`{"name":"a","type":"boolean","trueValues":["Y","true"],"falseValues":["N"]}`,
	`{"name":"a","type":"date"}`,
	`{"name":"a","type":"date","constraints":{"minimum":"2024-01-01"}}`,
	`{"name":"a","type":"date","format":"%d/%m/%Y"}`,
	`{"name":"a","type":"datetime"}`,
	`{"name":"a","type":"datetime","constraints":{"maximum":"2026-03-02T14:30:00Z"}}`,
	`{"name":"a","type":"datetime","format":"any"}`,
	`{"name":"a","type":"time"}`,
	`{"name":"a","type":"year"}`,
	`{"name":"a","type":"yearmonth"}`,
	`{"name":"a","type":"duration"}`,
	`{"name":"a","transforms":["trim"]}`,
	`{"name":"a","transforms":["trim","upper"],"constraints":{"maxLength":5}}`,
	`{"name":"a","type":"integer","transforms":["trim"]}`,
}

// canonicalValues hold canonical and non-canonical forms of every kind.
var canonicalValues = []string{
	"", "0", "-0", "+5", "007", "12", "-12", "1000", "1001", "9223372036854775807", "1,000",
	"3.493", "-1.5", "-1.6", "2.25", "2.26", ".5", "5.", "1e5", "1E+05", "NaN", "inf", "2.5", "1", "1,5",
	"true", "false", "True", "1", "Y", "N",
	"2024-02-29", "2023-02-29", "2023-12-31", "29/02/2024",
	"2026-03-02T14:30:00.000526Z", "2026-03-02 14:30:00Z", "2026-03-02T14:30:00+0100", "2026-03-02T14:30:00+01:00",
	"2026-03-02T14:30:01Z", "2026-03-02T14:30:00", "14:30:00.5", "2024", "2024-03", "P1Y2M", "P",
	"BUY", "SELL", "buy", "ABCD", "ABCDE", "ab", "a", "straße", "strß", "a@b.co", " ab ", "AB", "=1+2", "-x",
}

func TestCanonicalMatchesNormalize(t *testing.T) {
	for _, js := range canonicalFields {
		for _, opts := range []Options{{}, {NeutralizeFormulas: true}} {
			f := compileOne(t, js, opts)
			var scratch []byte
			for _, v := range canonicalValues {
				out, ve := f.Normalize(nil, []byte(v))
				want := ve == nil && string(out) == v
				var got bool
				scratch, got = f.Canonical(scratch, []byte(v))
				if got != want {
					t.Errorf("%s %+v: Canonical(%q) = %v, want %v (Normalize: %q, %v)", js, opts, v, got, want, out, ve)
				}
			}
		}
	}
}

// checkQuick checks that f's Quick form agrees with Canonical on v.
func checkQuick(t *testing.T, f *Field, v string) {
	t.Helper()
	if v == "" {
		return // the engine's missing value
	}
	_, want := f.Canonical(nil, []byte(v))
	q := f.Quick()
	var got bool
	switch q.Kind {
	case QuickNone:
		return
	case QuickText:
		n := int64(utf8.RuneCountInString(v))
		got = (q.MinLen < 0 || n >= q.MinLen) && (q.MaxLen < 0 || n <= q.MaxLen) && (q.Enum == nil || slices.Contains(q.Enum, v))
	case QuickInteger:
		if len(v) > 18 {
			return
		}
		m := quickInteger.FindString(v)
		if m == v {
			n, _ := strconv.ParseInt(v, 10, 64)
			got = n >= q.IntMin && n <= q.IntMax
		}
	case QuickNumber:
		if m := quickNumber.FindString(v); m == v && v != "" {
			x, _ := strconv.ParseFloat(v, 64)
			got = !(x < q.Min) && !(x > q.Max)
		} else {
			return // the engine calls Canonical
		}
	case QuickDatetime:
		got = CanonicalDatetimeLen([]byte(v)) == len(v)
	}
	if got != want {
		t.Errorf("%+v: Quick form gives %v for %q, Canonical %v", q, got, v, want)
	}
}

var (
	quickInteger = regexp.MustCompile(`^(0|-?[1-9][0-9]*)$`)
	quickNumber  = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)
)

func TestQuickMatchesCanonical(t *testing.T) {
	for _, js := range canonicalFields {
		for _, opts := range []Options{{}, {NeutralizeFormulas: true}} {
			f := compileOne(t, js, opts)
			for _, v := range canonicalValues {
				checkQuick(t, f, v)
			}
		}
	}
	for _, js := range []string{`{"name":"a","type":"datetime"}`, `{"name":"a","type":"string","constraints":{"maxLength":3}}`} {
		f := compileOne(t, js, Options{})
		for _, v := range []string{"2026-03-02T14:30:00.000526Z", "2026-03-02T14:30:00.0005261234Z", "2026-03-02T14:30:00.",
			"2026-03-02T14:30:00-00:00", "2026-03-02T14:30:00+24:00", "2026-03-02T14:30:00+01:0", "2026-02-29T00:00:00",
			"2024-02-29T23:59:59.999999999+23:59", "2024-02-29T23:59:60", "2024-02-29t23:59:59", "日本語", "日本語x"} {
			checkQuick(t, f, v)
		}
	}
}

func TestCanonicalAllocs(t *testing.T) {
	f := compileOne(t, `{"name":"a","type":"time"}`, Options{})
	scratch := make([]byte, 0, 64)
	v := []byte("14:30:00.5")
	if n := testing.AllocsPerRun(100, func() { scratch, _ = f.Canonical(scratch, v) }); n != 0 {
		t.Errorf("Canonical allocates %v times", n)
	}
}

func TestExactFloatMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(s string) {
		got, ok := exactFloat([]byte(s))
		want, err := strconv.ParseFloat(s, 64)
		if !ok {
			return
		}
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("exactFloat(%q) = %v, strconv %v, %v", s, got, want, err)
		}
	}
	for _, s := range []string{"0", "-0", "0.0", "-0.0", "3.493", "0.1", "0.3", "123456789012345", "1.23456789012345",
		"999999999999999", "0.000000000000001", "-419.63", "7", "1."} {
		check(s)
	}
	for _, s := range []string{"1.", ".", "-", "", "1e5", "1234567890123456", "1.2.3", "12a"} {
		if _, ok := exactFloat([]byte(s)); ok {
			t.Errorf("exactFloat(%q) ok", s)
		}
	}
	for range 200000 {
		digits := 1 + r.IntN(15)
		b := make([]byte, 0, 20)
		if r.IntN(2) == 0 {
			b = append(b, '-')
		}
		point := r.IntN(digits + 1)
		for k := range digits {
			if k == point && k > 0 {
				b = append(b, '.')
			}
			b = append(b, byte('0'+r.IntN(10)))
		}
		check(string(b))
	}
}

// TestCanonicalDatetimeLenMutations checks CanonicalDatetimeLen against
// Canonical on datetimes with one or two bytes changed.
func TestCanonicalDatetimeLenMutations(t *testing.T) {
	f := compileOne(t, `{"name":"a","type":"datetime"}`, Options{})
	r := rand.New(rand.NewPCG(3, 4))
	bases := []string{"2026-03-02T14:30:00.000526Z", "2024-02-29T23:59:59", "1999-12-31T00:00:00+05:30", "2023-02-28T12:00:00.5-00:00"}
	alphabet := []byte("0123456789-:T tZz+.,\x00\x7f\x80\xff/")
	for range 200000 {
		v := []byte(bases[r.IntN(len(bases))])
		for range 1 + r.IntN(2) {
			v[r.IntN(len(v))] = alphabet[r.IntN(len(alphabet))]
		}
		if r.IntN(4) == 0 {
			v = v[:r.IntN(len(v)+1)]
		}
		checkQuick(t, f, string(v))
		if t.Failed() {
			return
		}
	}
}
