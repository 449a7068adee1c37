package tableschema

import (
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
)

// fuzzFields are fields whose canonical output is in their own default
// lexical form, so normalizing it again must give it back unchanged.
var fuzzFields = []string{
	`{"name":"a","type":"integer"}`,
	`{"name":"a","type":"number"}`,
	`{"name":"a","type":"boolean"}`,
	`{"name":"a","type":"date"}`,
	`{"name":"a","type":"date","format":"any"}`,
	`{"name":"a","type":"time"}`,
	`{"name":"a","type":"time","format":"any"}`,
	`{"name":"a","type":"datetime"}`,
	`{"name":"a","type":"datetime","format":"any"}`,
	`{"name":"a","type":"year"}`,
	`{"name":"a","type":"yearmonth"}`,
	`{"name":"a","type":"duration"}`,
	`{"name":"a","type":"string","format":"email"}`,
	`{"name":"a","type":"string","format":"uri"}`,
	`{"name":"a","type":"string","format":"uuid"}`,
	`{"name":"a","transforms":["trim","upper"],"constraints":{"maxLength":5,"pattern":"[A-Z ]*"}}`,
}

// lexicalFields exercise the non-default lexical paths; they must not panic.
var lexicalFields = []string{
	`{"name":"a","type":"integer","groupChar":",","bareNumber":false}`,
	`{"name":"a","type":"number","decimalChar":",","groupChar":"\u00a0","bareNumber":false}`,
	`{"name":"a","type":"number","decimalChar":"\u066b","groupChar":"'"}`,
	`{"name":"a","type":"date","format":"%e %b %y"}`,
	`{"name":"a","type":"datetime","format":"%A %d %B %Y %I:%M:%S.%f %p %z"}`,
	`{"name":"a","type":"datetime","format":"%Y%m%d%H%M%S%Z"}`,
	`{"name":"a","type":"time","format":"%H%M"}`,
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"", "0", "-0", "+5", "007", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
		"3.493", ".5", "5.", "1E+05", "1e-0", "NaN", "-Infinity", "1,000.5", "1\u00a0000,5", "$-1,000 USD",
		"true", "FALSE", "2024-02-29", "2024/02/29", "29 Feb 2024", "14:30:00.5", "2:30 PM",
		"2026-03-02T14:30:00.000526Z", "2026-03-02 14:30:00+0100", "2026-03-02T14:30", "20260302T143000Z",
		"2024", "2024-03", "P1Y2M3DT4H5M6.5S", "P2W", "-PT1,5H", "a@b.co", "https://x.y/z", "mailto:a@b",
		"123e4567-e89b-12d3-a456-426614174000", " ab c ", "straße", "\xff\xfe", "Tue 05 Mar 24",
		"Tuesday 05 March 2024 02:03:04.5 pm +05:30", "20240305120000UTC", "0000-01-01 00:00:00-0000",
	} {
		f.Add(s)
	}
	var fields, lexical []*Field
	for _, js := range fuzzFields {
		fields = append(fields, compileOne(f, js, Options{}))
	}
	for _, js := range lexicalFields {
		lexical = append(lexical, compileOne(f, js, Options{NeutralizeFormulas: true}))
	}
	// Canonical is checked on every field of canonical_test.go too.
	var checked []*Field
	for _, js := range canonicalFields {
		checked = append(checked, compileOne(f, js, Options{NeutralizeFormulas: true}))
	}
	checked = append(append(checked, fields...), lexical...)
	f.Fuzz(func(t *testing.T, in string) {
		v := []byte(in)
		for _, fd := range lexical {
			fd.Normalize(nil, v)
		}
		var scratch []byte
		for k, fd := range checked {
			out, ve := fd.Normalize(nil, v)
			var same bool
			scratch, same = fd.Canonical(scratch, v)
			if want := ve == nil && string(out) == in; same != want {
				t.Fatalf("field %d: Canonical(%q) = %v, Normalize gives %q, %v", k, in, same, out, ve)
			}
			checkQuick(t, fd, in)
		}
		for k, fd := range fields {
			out, ve := fd.Normalize([]byte("p"), v)
			if ve != nil {
				if string(out) != "p" {
					t.Fatalf("%s: on error dst = %q", fuzzFields[k], out)
				}
				continue
			}
			canon := out[1:]
			again, ve := fd.Normalize(nil, canon)
			if ve != nil || string(again) != string(canon) {
				t.Fatalf("%s: Normalize(%q) = %q, which normalizes to %q, %v", fuzzFields[k], in, canon, again, ve)
			}
		}
		// The format any reads the default form first, to the same text.
		for _, pair := range [][2]int{{3, 4}, {5, 6}, {7, 8}} {
			def, ve1 := fields[pair[0]].Normalize(nil, v)
			anyOut, ve2 := fields[pair[1]].Normalize(nil, v)
			if ve1 == nil && (ve2 != nil || string(def) != string(anyOut)) {
				t.Fatalf("%s gives %q but %s gives %q, %v", fuzzFields[pair[0]], def, fuzzFields[pair[1]], anyOut, ve2)
			}
		}
		checkIntegerAgainstStrconv(t, fields[0], in)
		checkNumberAgainstStrconv(t, fields[1], in)
		checkDatetimeAgainstTime(t, fields[7], in)
	})
}

func checkIntegerAgainstStrconv(t *testing.T, f *Field, in string) {
	out, ve := f.Normalize(nil, []byte(in))
	want, err := strconv.ParseInt(in, 10, 64)
	// strconv also takes an underscore form with a base prefix only; for
	// plain decimal text the two must agree.
	if err != nil {
		if ve == nil {
			t.Fatalf("integer %q accepted as %q, strconv: %v", in, out, err)
		}
		return
	}
	if ve != nil || string(out) != strconv.FormatInt(want, 10) {
		t.Fatalf("integer %q = %q, %v; strconv %d", in, out, ve, want)
	}
}

func checkNumberAgainstStrconv(t *testing.T, f *Field, in string) {
	out, ve := f.Normalize(nil, []byte(in))
	if ve != nil {
		return
	}
	got, err := strconv.ParseFloat(string(out), 64)
	if err != nil && !isRangeErr(err) {
		t.Fatalf("number %q normalized to %q, which strconv rejects: %v", in, out, err)
	}
	want, err := strconv.ParseFloat(in, 64)
	if err != nil && !isRangeErr(err) {
		t.Fatalf("number %q accepted as %q, strconv: %v", in, out, err)
	}
	if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
		t.Fatalf("number %q = %q = %v, strconv %v", in, out, got, want)
	}
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func checkDatetimeAgainstTime(t *testing.T, f *Field, in string) {
	out, ve := f.Normalize(nil, []byte(in))
	if ve != nil {
		return
	}
	s := string(out)
	layout := "2006-01-02T15:04:05.999999999"
	if len(s) > 19 && (s[len(s)-1] == 'Z' || s[len(s)-6] == '+' || s[len(s)-6] == '-') {
		layout += "Z07:00"
	}
	if _, err := time.Parse(layout, s); err != nil {
		t.Fatalf("datetime %q normalized to %q, which time.Parse rejects: %v", in, s, err)
	}
}

func TestNormalizeConcurrent(t *testing.T) {
	f := compileOne(t, `{"name":"s","transforms":["trim","upper"],"constraints":{"enum":["A","B"],"pattern":"[AB]"}}`, Options{NeutralizeFormulas: true})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []byte
			for i := 0; i < 1000; i++ {
				var ve *ValueError
				dst, ve = f.Normalize(dst[:0], []byte(" a "))
				if ve != nil || string(dst) != "A" {
					t.Errorf("Normalize = %q, %v", dst, ve)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"fields":[{"name":"a"}]}`,
		`{"fields":[{"name":"n","type":"number","decimalChar":",","groupChar":".","bareNumber":false,"constraints":{"minimum":1.50,"enum":[1,"2,5"]}}],"primaryKey":"n"}`,
		`{"fields":[{"name":"d","type":"date","format":"%d/%m/%Y","constraints":{"maximum":"2024-12-31"}},{"name":"b","type":"boolean","trueValues":["Y"],"constraints":{"enum":[true]}}],"missingValues":["","NA"]}`,
		`{"fields":[{"name":"s","transforms":["trim","upper"],"constraints":{"required":true,"unique":true,"minLength":1,"maxLength":3,"pattern":"[A-Z]+"}}]}`,
		`{"fields":[{"name":"t","type":"time","format":"any","constraints":{}}],"primaryKey":["t"],"x":null}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseJSON([]byte(in))
		if err != nil {
			if _, ok := err.(*SchemaError); !ok {
				t.Fatalf("ParseJSON error %T %v, want *SchemaError", err, err)
			}
			return
		}
		out, err := MarshalJSON(s)
		if err != nil {
			t.Fatalf("MarshalJSON of a parsed schema: %v", err)
		}
		back, err := ParseJSON(out)
		if err != nil {
			t.Fatalf("ParseJSON(MarshalJSON(s)): %v\n%s", err, out)
		}
		if !proto.Equal(s, back) {
			t.Fatalf("round trip changed\n%v\n%v", s, back)
		}
	})
}
