package tableschema

import (
	"bytes"
	"strings"
	"testing"
)

// compileOne compiles a schema whose only field is the JSON object fieldJSON.
func compileOne(t testing.TB, fieldJSON string, opts Options) *Field {
	t.Helper()
	s, err := ParseJSON([]byte(`{"fields":[` + fieldJSON + `]}`))
	if err != nil {
		t.Fatalf("ParseJSON(%s): %v", fieldJSON, err)
	}
	c, err := Compile(s, opts)
	if err != nil {
		t.Fatalf("Compile(%s): %v", fieldJSON, err)
	}
	return c.Fields[0]
}

// normCase is one value for one field: want is the canonical text, or, when
// msg is set, the error.
type normCase struct {
	field      string // field JSON
	in         string
	want       string
	errType    string // default type-error when msg is set
	constraint string
	msg        string
}

func runNormCases(t *testing.T, cases []normCase, opts Options) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.field+"/"+tc.in, func(t *testing.T) {
			f := compileOne(t, tc.field, opts)
			prefix := []byte("prefix,")
			got, ve := f.Normalize(append([]byte(nil), prefix...), []byte(tc.in))
			if tc.msg == "" {
				if ve != nil {
					t.Fatalf("Normalize(%q) error %q, want %q", tc.in, ve.Msg, tc.want)
				}
				if string(got) != string(prefix)+tc.want {
					t.Fatalf("Normalize(%q) = %q, want %q", tc.in, got, string(prefix)+tc.want)
				}
				return
			}
			if ve == nil {
				t.Fatalf("Normalize(%q) = %q, want error %q", tc.in, got, tc.msg)
			}
			wantType := tc.errType
			if wantType == "" {
				wantType = ErrTypeTypeError
			}
			if ve.Msg != tc.msg || ve.Type != wantType || ve.Constraint != tc.constraint {
				t.Fatalf("Normalize(%q) error {%q %q %q}, want {%q %q %q}", tc.in, ve.Type, ve.Constraint, ve.Msg, wantType, tc.constraint, tc.msg)
			}
			if ve.Error() != tc.msg {
				t.Fatalf("Error() = %q", ve.Error())
			}
			if string(got) != string(prefix) {
				t.Fatalf("on error dst = %q, want it unchanged %q", got, prefix)
			}
		})
	}
}

func TestNormalizeInteger(t *testing.T) {
	const f = `{"name":"n","type":"integer"}`
	const g = `{"name":"n","type":"integer","groupChar":","}`
	const nb = `{"name":"n","type":"integer","bareNumber":false,"groupChar":","}`
	runNormCases(t, []normCase{
		{field: f, in: "400", want: "400"},
		{field: f, in: "+5", want: "5"},
		{field: f, in: "-12", want: "-12"},
		{field: f, in: "-0", want: "0"},
		{field: f, in: "007", want: "7"},
		{field: f, in: "0", want: "0"},
		{field: f, in: "9223372036854775807", want: "9223372036854775807"},
		{field: f, in: "-9223372036854775808", want: "-9223372036854775808"},
		{field: f, in: "-00009223372036854775808", want: "-9223372036854775808"},
		{field: f, in: "9223372036854775808", msg: `"9223372036854775808" is out of the 64-bit integer range`},
		{field: f, in: "-9223372036854775809", msg: `"-9223372036854775809" is out of the 64-bit integer range`},
		{field: f, in: "99999999999999999999999", msg: `"99999999999999999999999" is out of the 64-bit integer range`},
		{field: f, in: "12x", msg: `"12x" is not an integer`},
		{field: f, in: "", msg: `"" is not an integer`},
		{field: f, in: "-", msg: `"-" is not an integer`},
		{field: f, in: "+", msg: `"+" is not an integer`},
		{field: f, in: "1.0", msg: `"1.0" is not an integer`},
		{field: f, in: "1e3", msg: `"1e3" is not an integer`},
		{field: f, in: " 5", msg: `" 5" is not an integer`},
		{field: f, in: "1,000", msg: `"1,000" is not an integer`},
		{field: f, in: "$5", msg: `"$5" is not an integer`},
		{field: g, in: "1,000", want: "1000"},
		{field: g, in: "-1,000,000", want: "-1000000"},
		{field: g, in: "1,00,000", want: "100000"},
		{field: g, in: "1,,000", msg: `"1,,000" is not an integer`},
		{field: g, in: ",100", msg: `",100" is not an integer`},
		{field: g, in: "-,100", msg: `"-,100" is not an integer`},
		{field: g, in: "100,", msg: `"100," is not an integer`},
		{field: `{"name":"n","type":"integer","groupChar":"\u00a0"}`, in: "1\u00a0000", want: "1000"},
		{field: `{"name":"n","type":"integer","groupChar":"'"}`, in: "1'234'567", want: "1234567"},
		{field: nb, in: "$400", want: "400"},
		{field: nb, in: "-5%", want: "-5"},
		{field: nb, in: "USD -1,000 ", want: "-1000"},
		{field: nb, in: "€5", want: "5"},
		{field: nb, in: "5 EUR", want: "5"},
		{field: nb, in: "abc", msg: `"abc" is not an integer`},
		{field: nb, in: "-$5", msg: `"-$5" is not an integer`},
	}, Options{})
}

func TestNormalizeNumber(t *testing.T) {
	const f = `{"name":"x","type":"number"}`
	const eu = `{"name":"x","type":"number","decimalChar":",","groupChar":"."}`
	const nb = `{"name":"x","type":"number","bareNumber":false,"groupChar":","}`
	runNormCases(t, []normCase{
		{field: f, in: "3.493", want: "3.493"},
		{field: f, in: "400", want: "400"},
		{field: f, in: "+1.5", want: "1.5"},
		{field: f, in: "-0.50", want: "-0.50"},
		{field: f, in: "-0", want: "-0"},
		{field: f, in: ".5", want: "0.5"},
		{field: f, in: "-.5", want: "-0.5"},
		{field: f, in: "5.", want: "5"},
		{field: f, in: "007.10", want: "7.10"},
		{field: f, in: "000", want: "0"},
		{field: f, in: "1E+05", want: "1e5"},
		{field: f, in: "1e-05", want: "1e-5"},
		{field: f, in: "2.5e10", want: "2.5e10"},
		{field: f, in: "1e0", want: "1e0"},
		{field: f, in: "1e-0", want: "1e0"},
		{field: f, in: "1e999", want: "1e999"},
		{field: f, in: "NaN", want: "NaN"},
		{field: f, in: "nan", want: "NaN"},
		{field: f, in: "INF", want: "inf"},
		{field: f, in: "+inf", want: "inf"},
		{field: f, in: "-Infinity", want: "-inf"},
		{field: f, in: "-INF", want: "-inf"},
		{field: f, in: "1.2.3", msg: `"1.2.3" is not a number`},
		{field: f, in: "e5", msg: `"e5" is not a number`},
		{field: f, in: "1e", msg: `"1e" is not a number`},
		{field: f, in: "1e+", msg: `"1e+" is not a number`},
		{field: f, in: ".", msg: `"." is not a number`},
		{field: f, in: "-", msg: `"-" is not a number`},
		{field: f, in: "", msg: `"" is not a number`},
		{field: f, in: "12x", msg: `"12x" is not a number`},
		{field: f, in: "1,000", msg: `"1,000" is not a number`},
		{field: f, in: "-nan", msg: `"-nan" is not a number`},
		{field: f, in: "infinit", msg: `"infinit" is not a number`},
		{field: f, in: " 1", msg: `" 1" is not a number`},
		{field: f, in: "0x10", msg: `"0x10" is not a number`},
		{field: eu, in: "1.234,5", want: "1234.5"},
		{field: eu, in: "1,5", want: "1.5"},
		{field: eu, in: "-0,25", want: "-0.25"},
		{field: eu, in: "1.5", want: "15"},
		{field: eu, in: "1,2,3", msg: `"1,2,3" is not a number`},
		{field: eu, in: "1.234.", msg: `"1.234." is not a number`},
		{field: `{"name":"x","type":"number","groupChar":" "}`, in: "1 000 000.25", want: "1000000.25"},
		{field: `{"name":"x","type":"number","decimalChar":"\u066b"}`, in: "3\u066b14", want: "3.14"},
		{field: nb, in: "$1,000.50 USD", want: "1000.50"},
		{field: nb, in: "12.5%", want: "12.5"},
		{field: nb, in: "-$.5", msg: `"-$.5" is not a number`},
		{field: nb, in: "$.5", want: "0.5"},
		{field: nb, in: "NaN", want: "NaN"},
		{field: `{"name":"x","type":"number","bareNumber":false,"decimalChar":","}`, in: "EUR 3,5", want: "3.5"},
	}, Options{})
}

func TestNormalizeBoolean(t *testing.T) {
	const f = `{"name":"b","type":"boolean"}`
	const custom = `{"name":"b","type":"boolean","trueValues":["yes","Y"],"falseValues":["no"]}`
	const onlyTrue = `{"name":"b","type":"boolean","trueValues":["oui"]}`
	runNormCases(t, []normCase{
		{field: f, in: "true", want: "true"},
		{field: f, in: "True", want: "true"},
		{field: f, in: "TRUE", want: "true"},
		{field: f, in: "1", want: "true"},
		{field: f, in: "false", want: "false"},
		{field: f, in: "False", want: "false"},
		{field: f, in: "FALSE", want: "false"},
		{field: f, in: "0", want: "false"},
		{field: f, in: "yes", msg: `"yes" is not a boolean (true: "true", "True", "TRUE", "1"; false: "false", "False", "FALSE", "0")`},
		{field: f, in: "tRUE", msg: `"tRUE" is not a boolean (true: "true", "True", "TRUE", "1"; false: "false", "False", "FALSE", "0")`},
		{field: custom, in: "yes", want: "true"},
		{field: custom, in: "Y", want: "true"},
		{field: custom, in: "no", want: "false"},
		{field: custom, in: "true", msg: `"true" is not a boolean (true: "yes", "Y"; false: "no")`},
		{field: onlyTrue, in: "oui", want: "true"},
		{field: onlyTrue, in: "0", want: "false"},
		{field: onlyTrue, in: "1", msg: `"1" is not a boolean (true: "oui"; false: "false", "False", "FALSE", "0")`},
	}, Options{})
}

func TestNormalizeDate(t *testing.T) {
	const f = `{"name":"d","type":"date"}`
	const dmy = `{"name":"d","type":"date","format":"%d/%m/%Y"}`
	const any = `{"name":"d","type":"date","format":"any"}`
	iso := func(in string) string { return `"` + in + `" is not a date (YYYY-MM-DD)` }
	anyMsg := func(in string) string { return `"` + in + `" is not a date in any known form` }
	runNormCases(t, []normCase{
		{field: f, in: "2024-02-29", want: "2024-02-29"},
		{field: f, in: "2000-02-29", want: "2000-02-29"},
		{field: f, in: "0000-01-01", want: "0000-01-01"},
		{field: f, in: "9999-12-31", want: "9999-12-31"},
		{field: f, in: "2023-02-29", msg: iso("2023-02-29")},
		{field: f, in: "1900-02-29", msg: iso("1900-02-29")},
		{field: f, in: "2024-04-31", msg: iso("2024-04-31")},
		{field: f, in: "2024-13-01", msg: iso("2024-13-01")},
		{field: f, in: "2024-00-10", msg: iso("2024-00-10")},
		{field: f, in: "2024-01-00", msg: iso("2024-01-00")},
		{field: f, in: "2024-01-32", msg: iso("2024-01-32")},
		{field: f, in: "2024-1-01", msg: iso("2024-1-01")},
		{field: f, in: "2024/01/01", msg: iso("2024/01/01")},
		{field: f, in: "2024-01-01T00:00:00", msg: iso("2024-01-01T00:00:00")},
		{field: f, in: "2O24-01-01", msg: iso("2O24-01-01")},
		{field: f, in: "", msg: iso("")},
		{field: dmy, in: "31/01/2024", want: "2024-01-31"},
		{field: dmy, in: "1/2/2024", want: "2024-02-01"},
		{field: dmy, in: "31/02/2024", msg: `"31/02/2024" is not a date in the format "%d/%m/%Y"`},
		{field: dmy, in: "31/01/24", msg: `"31/01/24" is not a date in the format "%d/%m/%Y"`},
		{field: dmy, in: "31/01/2024 ", msg: `"31/01/2024 " is not a date in the format "%d/%m/%Y"`},
		{field: dmy, in: "2024-01-31", msg: `"2024-01-31" is not a date in the format "%d/%m/%Y"`},
		{field: `{"name":"d","type":"date","format":"%d %B %Y"}`, in: "5 march 2024", want: "2024-03-05"},
		{field: `{"name":"d","type":"date","format":"%d %B %Y"}`, in: "5 Mar 2024", msg: `"5 Mar 2024" is not a date in the format "%d %B %Y"`},
		{field: `{"name":"d","type":"date","format":"%y%m%d"}`, in: "240131", want: "2024-01-31"},
		{field: `{"name":"d","type":"date","format":"%y%m%d"}`, in: "690101", want: "1969-01-01"},
		{field: `{"name":"d","type":"date","format":"%y%m%d"}`, in: "680101", want: "2068-01-01"},
		{field: `{"name":"d","type":"date","format":"%e.%m.%Y"}`, in: " 5.03.2024", want: "2024-03-05"},
		{field: `{"name":"d","type":"date","format":"%e.%m.%Y"}`, in: "15.03.2024", want: "2024-03-15"},
		{field: `{"name":"d","type":"date","format":"%a %d %b %Y"}`, in: "Tue 05 Mar 2024", want: "2024-03-05"},
		{field: `{"name":"d","type":"date","format":"%A, %B %d, %Y"}`, in: "TUESDAY, MARCH 05, 2024", want: "2024-03-05"},
		{field: `{"name":"d","type":"date","format":"fmt:%Y.%m.%d"}`, in: "2024.03.05", want: "2024-03-05"},
		{field: `{"name":"d","type":"date","format":"%Y-%m-%d (%%)"}`, in: "2024-03-05 (%)", want: "2024-03-05"},
		{field: any, in: "2024-01-31", want: "2024-01-31"},
		{field: any, in: "2024/01/31", want: "2024-01-31"},
		{field: any, in: "20240131", want: "2024-01-31"},
		{field: any, in: "31 Jan 2024", want: "2024-01-31"},
		{field: any, in: "31 January 2024", want: "2024-01-31"},
		{field: any, in: "31-Jan-2024", want: "2024-01-31"},
		{field: any, in: "Jan 31 2024", want: "2024-01-31"},
		{field: any, in: "Jan 31, 2024", want: "2024-01-31"},
		{field: any, in: "January 31 2024", want: "2024-01-31"},
		{field: any, in: "January 31, 2024", want: "2024-01-31"},
		{field: any, in: "01/31/2024", msg: anyMsg("01/31/2024")},
		{field: any, in: "2024-02-30", msg: anyMsg("2024-02-30")},
	}, Options{})
}

func TestNormalizeTime(t *testing.T) {
	const f = `{"name":"t","type":"time"}`
	const h12 = `{"name":"t","type":"time","format":"%I:%M %p"}`
	const any = `{"name":"t","type":"time","format":"any"}`
	iso := func(in string) string { return `"` + in + `" is not a time (HH:MM:SS[.fraction])` }
	runNormCases(t, []normCase{
		{field: f, in: "14:30:00", want: "14:30:00"},
		{field: f, in: "00:00:00", want: "00:00:00"},
		{field: f, in: "23:59:59.5", want: "23:59:59.5"},
		{field: f, in: "14:30:00.123456789", want: "14:30:00.123456789"},
		{field: f, in: "14:30", msg: iso("14:30")},
		{field: f, in: "24:00:00", msg: iso("24:00:00")},
		{field: f, in: "14:60:00", msg: iso("14:60:00")},
		{field: f, in: "14:30:60", msg: iso("14:30:60")},
		{field: f, in: "14:30:00.", msg: iso("14:30:00.")},
		{field: f, in: "14:30:00.1234567890", msg: iso("14:30:00.1234567890")},
		{field: f, in: "14:30:00Z", msg: iso("14:30:00Z")},
		{field: f, in: "4:30:00", msg: iso("4:30:00")},
		{field: h12, in: "2:05 PM", want: "14:05:00"},
		{field: h12, in: "12:00 AM", want: "00:00:00"},
		{field: h12, in: "12:30 pm", want: "12:30:00"},
		{field: h12, in: "13:00 PM", msg: `"13:00 PM" is not a time in the format "%I:%M %p"`},
		{field: h12, in: "0:00 AM", msg: `"0:00 AM" is not a time in the format "%I:%M %p"`},
		{field: h12, in: "1:00 XM", msg: `"1:00 XM" is not a time in the format "%I:%M %p"`},
		{field: `{"name":"t","type":"time","format":"%H%M%S.%f"}`, in: "143000.25", want: "14:30:00.25"},
		{field: `{"name":"t","type":"time","format":"%Hh"}`, in: "9h", want: "09:00:00"},
		{field: any, in: "14:30:00.5", want: "14:30:00.5"},
		{field: any, in: "14:30", want: "14:30:00"},
		{field: any, in: "2:30 PM", want: "14:30:00"},
		{field: any, in: "02:30:15PM", want: "14:30:15"},
		{field: any, in: "2:30:15 am", want: "02:30:15"},
		{field: any, in: "2 PM", msg: `"2 PM" is not a time in any known form`},
	}, Options{})
}

func TestNormalizeDatetime(t *testing.T) {
	const f = `{"name":"dt","type":"datetime"}`
	const any = `{"name":"dt","type":"datetime","format":"any"}`
	iso := func(in string) string {
		return `"` + in + `" is not a datetime (YYYY-MM-DDTHH:MM:SS[.fraction][Z|±hh:mm])`
	}
	runNormCases(t, []normCase{
		{field: f, in: "2026-03-02T14:30:00.000526Z", want: "2026-03-02T14:30:00.000526Z"},
		{field: f, in: "2026-03-02T14:30:00", want: "2026-03-02T14:30:00"},
		{field: f, in: "2026-03-02 14:30:00", want: "2026-03-02T14:30:00"},
		{field: f, in: "2026-03-02T14:30:00+0100", want: "2026-03-02T14:30:00+01:00"},
		{field: f, in: "2026-03-02T14:30:00-05:30", want: "2026-03-02T14:30:00-05:30"},
		{field: f, in: "2026-03-02T14:30:00+00:00", want: "2026-03-02T14:30:00+00:00"},
		{field: f, in: "2026-03-02T14:30:00-0000", want: "2026-03-02T14:30:00-00:00"},
		{field: any, in: "2026-03-02T14:30:00-0000", want: "2026-03-02T14:30:00-00:00"},
		{field: any, in: "2026-03-02T14:30-00:00", want: "2026-03-02T14:30:00-00:00"},
		{field: f, in: "2026-03-02 14:30:00.5-0800", want: "2026-03-02T14:30:00.5-08:00"},
		{field: f, in: "2026-03-02T14:30:00.123456789Z", want: "2026-03-02T14:30:00.123456789Z"},
		{field: f, in: "2026-03-02T14:30", msg: iso("2026-03-02T14:30")},
		{field: f, in: "2026-03-02T14:30:00.1234567891", msg: iso("2026-03-02T14:30:00.1234567891")},
		{field: f, in: "2026-03-02T14:30:00.", msg: iso("2026-03-02T14:30:00.")},
		{field: f, in: "2026-03-02T14:30:00+1", msg: iso("2026-03-02T14:30:00+1")},
		{field: f, in: "2026-03-02T14:30:00+24:00", msg: iso("2026-03-02T14:30:00+24:00")},
		{field: f, in: "2026-03-02T14:30:00+01:60", msg: iso("2026-03-02T14:30:00+01:60")},
		{field: f, in: "2026-03-02T14:30:00+01-00", msg: iso("2026-03-02T14:30:00+01-00")},
		{field: f, in: "2026-03-02t14:30:00", msg: iso("2026-03-02t14:30:00")},
		{field: f, in: "2026-03-02T14:30:00z", msg: iso("2026-03-02T14:30:00z")},
		{field: f, in: "2026-03-02T14:30:00ZZ", msg: iso("2026-03-02T14:30:00ZZ")},
		{field: f, in: "2026-02-30T00:00:00", msg: iso("2026-02-30T00:00:00")},
		{field: f, in: "2026-03-02T24:00:00", msg: iso("2026-03-02T24:00:00")},
		{field: f, in: "2026-03-02", msg: iso("2026-03-02")},
		{field: `{"name":"dt","type":"datetime","format":"%d/%m/%Y %H:%M"}`, in: "02/03/2026 14:30", want: "2026-03-02T14:30:00"},
		{field: `{"name":"dt","type":"datetime","format":"%Y-%m-%d %H:%M:%S %Z"}`, in: "2026-03-02 14:30:00 UTC", want: "2026-03-02T14:30:00Z"},
		{field: `{"name":"dt","type":"datetime","format":"%Y-%m-%d %H:%M:%S %Z"}`, in: "2026-03-02 14:30:00 GMT", msg: `"2026-03-02 14:30:00 GMT" is not a datetime in the format "%Y-%m-%d %H:%M:%S %Z"`},
		{field: `{"name":"dt","type":"datetime","format":"%Y%m%d%H%M%S%z"}`, in: "20260302143000+0530", want: "2026-03-02T14:30:00+05:30"},
		{field: `{"name":"dt","type":"datetime","format":"%Y%m%d%H%M%S%z"}`, in: "20260302143000-05:30", want: "2026-03-02T14:30:00-05:30"},
		{field: `{"name":"dt","type":"datetime","format":"%Y%m%d%H%M%S%z"}`, in: "20260302143000Z", want: "2026-03-02T14:30:00Z"},
		{field: `{"name":"dt","type":"datetime","format":"%m/%d/%Y %I:%M:%S.%f %p"}`, in: "3/2/2026 2:30:05.25 pm", want: "2026-03-02T14:30:05.25"},
		{field: any, in: "2026-03-02T14:30:00Z", want: "2026-03-02T14:30:00Z"},
		{field: any, in: "2026-03-02T14:30", want: "2026-03-02T14:30:00"},
		{field: any, in: "2026-03-02 14:30+01:00", want: "2026-03-02T14:30:00+01:00"},
		{field: any, in: "2026/03/02 14:30:00.5", want: "2026-03-02T14:30:00.5"},
		{field: any, in: "2026/03/02 14:30", want: "2026-03-02T14:30:00"},
		{field: any, in: "20260302T143000Z", want: "2026-03-02T14:30:00Z"},
		{field: any, in: "20260302T143000", want: "2026-03-02T14:30:00"},
		{field: any, in: "02/03/2026 14:30", msg: `"02/03/2026 14:30" is not a datetime in any known form`},
	}, Options{})
}

func TestNormalizeYearYearmonthDuration(t *testing.T) {
	const y = `{"name":"y","type":"year"}`
	const ym = `{"name":"ym","type":"yearmonth"}`
	const d = `{"name":"d","type":"duration"}`
	dur := func(in string) string { return `"` + in + `" is not an ISO 8601 duration (such as P1DT2H30M)` }
	runNormCases(t, []normCase{
		{field: y, in: "2024", want: "2024"},
		{field: y, in: "0999", want: "0999"},
		{field: y, in: "24", msg: `"24" is not a year (YYYY)`},
		{field: y, in: "20245", msg: `"20245" is not a year (YYYY)`},
		{field: y, in: "-2024", msg: `"-2024" is not a year (YYYY)`},
		{field: y, in: "2o24", msg: `"2o24" is not a year (YYYY)`},
		{field: ym, in: "2024-03", want: "2024-03"},
		{field: ym, in: "2024-12", want: "2024-12"},
		{field: ym, in: "2024-3", msg: `"2024-3" is not a year and month (YYYY-MM)`},
		{field: ym, in: "2024-13", msg: `"2024-13" is not a year and month (YYYY-MM)`},
		{field: ym, in: "2024-00", msg: `"2024-00" is not a year and month (YYYY-MM)`},
		{field: ym, in: "202403", msg: `"202403" is not a year and month (YYYY-MM)`},
		{field: ym, in: "2024/03", msg: `"2024/03" is not a year and month (YYYY-MM)`},
		{field: d, in: "P1Y2M3DT4H5M6S", want: "P1Y2M3DT4H5M6S"},
		{field: d, in: "P1D", want: "P1D"},
		{field: d, in: "PT0.5S", want: "PT0.5S"},
		{field: d, in: "PT1,5H", want: "PT1,5H"},
		{field: d, in: "P2W", want: "P2W"},
		{field: d, in: "-P1D", want: "-P1D"},
		{field: d, in: "P0D", want: "P0D"},
		{field: d, in: "PT36H", want: "PT36H"},
		{field: d, in: "P1Y0.5M", want: "P1Y0.5M"},
		{field: d, in: "P1MT1M", want: "P1MT1M"},
		{field: d, in: "P", msg: dur("P")},
		{field: d, in: "PT", msg: dur("PT")},
		{field: d, in: "P1DT", msg: dur("P1DT")},
		{field: d, in: "1D", msg: dur("1D")},
		{field: d, in: "P1H", msg: dur("P1H")},
		{field: d, in: "PT1D", msg: dur("PT1D")},
		{field: d, in: "P1M1Y", msg: dur("P1M1Y")},
		{field: d, in: "P1.5DT1H", msg: dur("P1.5DT1H")},
		{field: d, in: "P1W1D", msg: dur("P1W1D")},
		{field: d, in: "P1D1W", msg: dur("P1D1W")},
		{field: d, in: "P1DT1H1H", msg: dur("P1DT1H1H")},
		{field: d, in: "P1.D", msg: dur("P1.D")},
		{field: d, in: "P.5D", msg: dur("P.5D")},
		{field: d, in: "p1d", msg: dur("p1d")},
		{field: d, in: "P1", msg: dur("P1")},
		{field: d, in: "P1DTT1H", msg: dur("P1DTT1H")},
		{field: d, in: "", msg: dur("")},
	}, Options{})
}

func TestNormalizeStringFormats(t *testing.T) {
	const s = `{"name":"s"}`
	const email = `{"name":"s","type":"string","format":"email"}`
	const uri = `{"name":"s","type":"string","format":"uri"}`
	const uuid = `{"name":"s","type":"string","format":"uuid"}`
	const any = `{"name":"s","type":"any"}`
	runNormCases(t, []normCase{
		{field: s, in: "hello", want: "hello"},
		{field: s, in: " spaced ", want: " spaced "},
		{field: s, in: "", want: ""},
		{field: s, in: "=1+1", want: "=1+1"},
		{field: any, in: "anything at all", want: "anything at all"},
		{field: email, in: "a@b.co", want: "a@b.co"},
		{field: email, in: "first.last+tag@example.org", want: "first.last+tag@example.org"},
		{field: email, in: "ünï@exämple.de", want: "ünï@exämple.de"},
		{field: email, in: "a@b", msg: `"a@b" is not an email address`},
		{field: email, in: "@b.co", msg: `"@b.co" is not an email address`},
		{field: email, in: "a@@b.co", msg: `"a@@b.co" is not an email address`},
		{field: email, in: "a@b@c.co", msg: `"a@b@c.co" is not an email address`},
		{field: email, in: "a b@c.de", msg: `"a b@c.de" is not an email address`},
		{field: email, in: "a@c.de\u00a0", msg: `"a@c.de\u00a0" is not an email address`},
		{field: email, in: "a@.co", msg: `"a@.co" is not an email address`},
		{field: email, in: "a@co.", msg: `"a@co." is not an email address`},
		{field: email, in: "ab.co", msg: `"ab.co" is not an email address`},
		{field: uri, in: "https://example.com/x?y=1#z", want: "https://example.com/x?y=1#z"},
		{field: uri, in: "mailto:x@y.z", want: "mailto:x@y.z"},
		{field: uri, in: "urn:isbn:0451450523", want: "urn:isbn:0451450523"},
		{field: uri, in: "example.com", msg: `"example.com" is not an absolute URI`},
		{field: uri, in: "/rel/path", msg: `"/rel/path" is not an absolute URI`},
		{field: uri, in: "http://exa mple.com", msg: `"http://exa mple.com" is not an absolute URI`},
		{field: uri, in: "1http://x", msg: `"1http://x" is not an absolute URI`},
		{field: uri, in: ":foo", msg: `":foo" is not an absolute URI`},
		{field: uri, in: "http://[::1", msg: `"http://[::1" is not an absolute URI`},
		{field: uuid, in: "123e4567-e89b-12d3-a456-426614174000", want: "123e4567-e89b-12d3-a456-426614174000"},
		{field: uuid, in: "123E4567-E89B-12D3-A456-426614174000", want: "123E4567-E89B-12D3-A456-426614174000"},
		{field: uuid, in: "123e4567e89b12d3a456426614174000", msg: `"123e4567e89b12d3a456426614174000" is not a UUID`},
		{field: uuid, in: "123e4567-e89b-12d3-a456-42661417400g", msg: `"123e4567-e89b-12d3-a456-42661417400g" is not a UUID`},
		{field: uuid, in: "123e4567-e89b-12d3-a456_426614174000", msg: `"123e4567-e89b-12d3-a456_426614174000" is not a UUID`},
	}, Options{})
}

func TestNormalizeTransforms(t *testing.T) {
	runNormCases(t, []normCase{
		{field: `{"name":"s","transforms":["trim"]}`, in: "  x y \t", want: "x y"},
		{field: `{"name":"s","transforms":["trim"]}`, in: "\u00a0x\u3000", want: "x"},
		{field: `{"name":"s","transforms":["upper"]}`, in: "straße àb", want: "STRAßE ÀB"},
		{field: `{"name":"s","transforms":["lower"]}`, in: "ÀÉ ÎX", want: "àé îx"},
		{field: `{"name":"s","transforms":["upper","trim"]}`, in: " abc ", want: "ABC"},
		{field: `{"name":"s","transforms":["trim","lower","upper"]}`, in: " aBc ", want: "ABC"},
		{field: `{"name":"n","type":"number","transforms":["trim"]}`, in: " 1e5 ", want: "1e5"},
		{field: `{"name":"n","type":"number","transforms":["lower"]}`, in: "1E5", want: "1e5"},
		{field: `{"name":"n","type":"number","transforms":["upper"]}`, in: "1x", msg: `"1X" is not a number`},
		{field: `{"name":"b","type":"boolean","transforms":["upper"]}`, in: "true", want: "true"},
		{field: `{"name":"b","type":"boolean","transforms":["upper"],"trueValues":["Y"],"falseValues":["N"]}`, in: "y", want: "true"},
		{field: `{"name":"d","type":"date","transforms":["upper"],"format":"%d %b %Y"}`, in: "05 mar 2024", want: "2024-03-05"},
		{field: `{"name":"s","transforms":["upper"],"constraints":{"enum":["usd","eur"]}}`, in: "usd", want: "USD"},
		{field: `{"name":"s","transforms":["upper"],"constraints":{"enum":["usd","eur"]}}`, in: "gbp",
			errType: ErrTypeConstraintError, constraint: "enum", msg: `"GBP" is not one of the allowed values "USD", "EUR"`},
		{field: `{"name":"s","transforms":["trim"],"constraints":{"maxLength":2}}`, in: "  ab  ", want: "ab"},
	}, Options{})
}

func TestAppendCaseMatchesBytes(t *testing.T) {
	for _, s := range []string{"", "abc XYZ 123", "straße", "ǅǆǄ", "İıi", "ΣΑΣ σας", "Ω\u212a", "\xff\xfeab", "日本語", "ﬃ"} {
		if got, want := appendCase([]byte("p"), []byte(s), true), append([]byte("p"), bytes.ToUpper([]byte(s))...); !bytes.Equal(got, want) {
			t.Errorf("upper(%q) = %q, want %q", s, got, want)
		}
		if got, want := appendCase(nil, []byte(s), false), bytes.ToLower([]byte(s)); !bytes.Equal(got, want) {
			t.Errorf("lower(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestNormalizeNeutralizeFormulas(t *testing.T) {
	on := Options{NeutralizeFormulas: true}
	runNormCases(t, []normCase{
		{field: `{"name":"s"}`, in: "=SUM(A1)", want: "'=SUM(A1)"},
		{field: `{"name":"s"}`, in: "+1", want: "'+1"},
		{field: `{"name":"s"}`, in: "-x", want: "'-x"},
		{field: `{"name":"s"}`, in: "@x", want: "'@x"},
		{field: `{"name":"s"}`, in: "\tx", want: "'\tx"},
		{field: `{"name":"s"}`, in: "\rx", want: "'\rx"},
		{field: `{"name":"s"}`, in: "a=b", want: "a=b"},
		{field: `{"name":"s"}`, in: "", want: ""},
		{field: `{"name":"s","type":"any"}`, in: "=1", want: "'=1"},
		{field: `{"name":"s","format":"email"}`, in: "-a@b.co", want: "'-a@b.co"},
		{field: `{"name":"s","transforms":["upper"]}`, in: "=abc", want: "'=ABC"},
		{field: `{"name":"s","constraints":{"maxLength":2}}`, in: "=a", want: "'=a"},
		{field: `{"name":"s","constraints":{"enum":["=a"]}}`, in: "=a", want: "'=a"},
		{field: `{"name":"n","type":"integer"}`, in: "-5", want: "-5"},
		{field: `{"name":"n","type":"number"}`, in: "-5", want: "-5"},
	}, on)
}

func TestNormalizeConstraints(t *testing.T) {
	ce := ErrTypeConstraintError
	const pat = `{"name":"s","constraints":{"pattern":"[A-Z]{3}"}}`
	const alt = `{"name":"s","constraints":{"pattern":"a|b"}}`
	const lens = `{"name":"s","constraints":{"minLength":2,"maxLength":4}}`
	const ienum = `{"name":"n","type":"integer","constraints":{"enum":[1,2,"03"]}}`
	const bigEnum = `{"name":"s","constraints":{"enum":["a","b","c","d","e","f","g","h","i","j","k","l"]}}`
	const imm = `{"name":"n","type":"integer","constraints":{"minimum":5,"maximum":"10"}}`
	const num = `{"name":"x","type":"number","constraints":{"minimum":1.5,"maximum":1e3}}`
	const eu = `{"name":"x","type":"number","decimalChar":",","groupChar":".","constraints":{"minimum":"1,5","maximum":1234.5}}`
	const dmin = `{"name":"d","type":"date","format":"%d/%m/%Y","constraints":{"minimum":"2024-01-01","maximum":"31/12/2024"}}`
	const tmin = `{"name":"t","type":"time","constraints":{"minimum":"09:00:00.5"}}`
	const dtZ = `{"name":"dt","type":"datetime","constraints":{"minimum":"2024-01-01T00:00:00Z"}}`
	const dtLocal = `{"name":"dt","type":"datetime","constraints":{"maximum":"2024-01-01T12:00:00"}}`
	const ymin = `{"name":"y","type":"year","constraints":{"minimum":2000,"maximum":2030}}`
	const ymm = `{"name":"ym","type":"yearmonth","constraints":{"minimum":"2024-02","maximum":"2024-11"}}`
	const benum = `{"name":"b","type":"boolean","trueValues":["yes"],"falseValues":["no"],"constraints":{"enum":[true]}}`
	const denum = `{"name":"d","type":"date","format":"any","constraints":{"enum":["2024-01-31","1 Feb 2024"]}}`
	const long = `{"name":"s","constraints":{"maxLength":1}}`
	longIn := strings.Repeat("é", 200)
	runNormCases(t, []normCase{
		{field: pat, in: "USD", want: "USD"},
		{field: pat, in: "USDX", errType: ce, constraint: "pattern", msg: `"USDX" does not match the pattern "[A-Z]{3}"`},
		{field: pat, in: "xUSD", errType: ce, constraint: "pattern", msg: `"xUSD" does not match the pattern "[A-Z]{3}"`},
		{field: alt, in: "a", want: "a"},
		{field: alt, in: "ab", errType: ce, constraint: "pattern", msg: `"ab" does not match the pattern "a|b"`},
		{field: lens, in: "héllo", errType: ce, constraint: "maxLength", msg: `"héllo" has 5 characters, more than the maximum length 4`},
		{field: lens, in: "héll", want: "héll"},
		{field: lens, in: "é", errType: ce, constraint: "minLength", msg: `"é" has 1 character, fewer than the minimum length 2`},
		{field: long, in: longIn, errType: ce, constraint: "maxLength", msg: `"` + strings.Repeat("é", 128) + `" has 200 characters, more than the maximum length 1`},
		{field: ienum, in: "2", want: "2"},
		{field: ienum, in: "+2", want: "2"},
		{field: ienum, in: "003", want: "3"},
		{field: ienum, in: "4", errType: ce, constraint: "enum", msg: `"4" is not one of the allowed values "1", "2", "3"`},
		{field: bigEnum, in: "k", want: "k"},
		{field: bigEnum, in: "z", errType: ce, constraint: "enum", msg: `"z" is not one of the allowed values "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", ... (12 in all)`},
		{field: imm, in: "5", want: "5"},
		{field: imm, in: "10", want: "10"},
		{field: imm, in: "3", errType: ce, constraint: "minimum", msg: `3 is less than the minimum 5`},
		{field: imm, in: "011", errType: ce, constraint: "maximum", msg: `11 is greater than the maximum 10`},
		{field: num, in: "1.5", want: "1.5"},
		{field: num, in: "1.49", errType: ce, constraint: "minimum", msg: `1.49 is less than the minimum 1.5`},
		{field: num, in: "1000.0001", errType: ce, constraint: "maximum", msg: `1000.0001 is greater than the maximum 1e3`},
		{field: num, in: "NaN", errType: ce, constraint: "minimum", msg: `NaN is not comparable with the minimum 1.5`},
		{field: num, in: "inf", errType: ce, constraint: "maximum", msg: `inf is greater than the maximum 1e3`},
		{field: num, in: "1e999", errType: ce, constraint: "maximum", msg: `1e999 is greater than the maximum 1e3`},
		{field: eu, in: "1,5", want: "1.5"},
		{field: eu, in: "1,4", errType: ce, constraint: "minimum", msg: `1.4 is less than the minimum 1.5`},
		{field: eu, in: "1.234,6", errType: ce, constraint: "maximum", msg: `1234.6 is greater than the maximum 1234.5`},
		{field: eu, in: "1.234,5", want: "1234.5"},
		{field: dmin, in: "01/01/2024", want: "2024-01-01"},
		{field: dmin, in: "31/12/2023", errType: ce, constraint: "minimum", msg: `2023-12-31 is less than the minimum 2024-01-01`},
		{field: dmin, in: "1/1/2025", errType: ce, constraint: "maximum", msg: `2025-01-01 is greater than the maximum 2024-12-31`},
		{field: tmin, in: "09:00:00.50", want: "09:00:00.50"},
		{field: tmin, in: "09:00:00.49", errType: ce, constraint: "minimum", msg: `09:00:00.49 is less than the minimum 09:00:00.5`},
		{field: tmin, in: "08:59:59", errType: ce, constraint: "minimum", msg: `08:59:59 is less than the minimum 09:00:00.5`},
		{field: dtZ, in: "2024-01-01T00:30:00+01:00", errType: ce, constraint: "minimum", msg: `2024-01-01T00:30:00+01:00 is less than the minimum 2024-01-01T00:00:00Z`},
		{field: dtZ, in: "2024-01-01T00:30:00-01:00", want: "2024-01-01T00:30:00-01:00"},
		{field: dtZ, in: "2024-01-01T00:30:00", want: "2024-01-01T00:30:00"},
		{field: dtZ, in: "2023-12-31T23:59:59.999999999Z", errType: ce, constraint: "minimum", msg: `2023-12-31T23:59:59.999999999Z is less than the minimum 2024-01-01T00:00:00Z`},
		{field: dtLocal, in: "2024-01-01T12:00:00+05:00", want: "2024-01-01T12:00:00+05:00"},
		{field: dtLocal, in: "2024-01-01T12:00:00.1-05:00", errType: ce, constraint: "maximum", msg: `2024-01-01T12:00:00.1-05:00 is greater than the maximum 2024-01-01T12:00:00`},
		{field: ymin, in: "1999", errType: ce, constraint: "minimum", msg: `1999 is less than the minimum 2000`},
		{field: ymin, in: "2030", want: "2030"},
		{field: ymm, in: "2024-01", errType: ce, constraint: "minimum", msg: `2024-01 is less than the minimum 2024-02`},
		{field: ymm, in: "2024-12", errType: ce, constraint: "maximum", msg: `2024-12 is greater than the maximum 2024-11`},
		{field: ymm, in: "2024-11", want: "2024-11"},
		{field: benum, in: "yes", want: "true"},
		{field: benum, in: "no", errType: ce, constraint: "enum", msg: `"false" is not one of the allowed values "true"`},
		{field: denum, in: "Feb 1, 2024", want: "2024-02-01"},
		{field: denum, in: "2024/01/31", want: "2024-01-31"},
		{field: denum, in: "2024-01-30", errType: ce, constraint: "enum", msg: `"2024-01-30" is not one of the allowed values "2024-01-31", "2024-02-01"`},
		{field: `{"name":"dt","type":"datetime","format":"%d/%m/%Y %H:%M %z","constraints":{"minimum":"2024-01-01T00:00:00Z"}}`, in: "01/01/2024 00:30 +0100",
			errType: ce, constraint: "minimum", msg: `2024-01-01T00:30:00+01:00 is less than the minimum 2024-01-01T00:00:00Z`},
		{field: `{"name":"dt","type":"datetime","format":"%d/%m/%Y %H:%M %z","constraints":{"minimum":"01/01/2024 00:00 Z"}}`, in: "01/01/2024 00:30 -0100",
			want: "2024-01-01T00:30:00-01:00"},
		{field: `{"name":"dt","type":"datetime","format":"any","constraints":{"maximum":"2024-01-01T12:00"}}`, in: "2024-01-01 12:00:00.000000001",
			errType: ce, constraint: "maximum", msg: `2024-01-01T12:00:00.000000001 is greater than the maximum 2024-01-01T12:00:00`},
		{field: `{"name":"t","type":"time","format":"any","constraints":{"maximum":"12:00:00"}}`, in: "1:00 PM",
			errType: ce, constraint: "maximum", msg: `13:00:00 is greater than the maximum 12:00:00`},
		{field: `{"name":"t","type":"time","format":"any","constraints":{"maximum":"12:00:00"}}`, in: "12:00 PM", want: "12:00:00"},
		// Enum values compare as values (ValueKey): an instant in any
		// offset, a number in any form; the offset is kept as given.
		{field: `{"name":"dt","type":"datetime","constraints":{"enum":["2024-01-01T00:00:00Z"]}}`, in: "2024-01-01 00:00:00Z", want: "2024-01-01T00:00:00Z"},
		{field: `{"name":"dt","type":"datetime","constraints":{"enum":["2024-01-01T00:00:00Z"]}}`, in: "2024-01-01T02:00:00+02:00", want: "2024-01-01T02:00:00+02:00"},
		{field: `{"name":"dt","type":"datetime","constraints":{"enum":["2024-01-01T00:00:00Z"]}}`, in: "2024-01-01T00:00:00",
			errType: ce, constraint: "enum", msg: `"2024-01-01T00:00:00" is not one of the allowed values "2024-01-01T00:00:00Z"`},
		{field: `{"name":"n","type":"number","constraints":{"enum":["1","2.5"]}}`, in: "1.0", want: "1.0"},
		{field: `{"name":"n","type":"number","constraints":{"enum":["1","2.5"]}}`, in: "25e-1", want: "25e-1"},
		{field: `{"name":"n","type":"number","constraints":{"enum":["1","2.5"]}}`, in: "1.01",
			errType: ce, constraint: "enum", msg: `"1.01" is not one of the allowed values "1", "2.5"`},
		{field: `{"name":"n","type":"number","constraints":{"enum":["0","NaN","3","4","5","6","7","8","9"]}}`, in: "-0.0", want: "-0.0"},
		// A type error comes before any constraint.
		{field: imm, in: "x", msg: `"x" is not an integer`},
	}, Options{})
}

func TestValueCutInMessages(t *testing.T) {
	f := compileOne(t, `{"name":"n","type":"integer"}`, Options{})
	in := strings.Repeat("x", 300)
	_, ve := f.Normalize(nil, []byte(in))
	want := `"` + strings.Repeat("x", 256) + `" is not an integer`
	if ve == nil || ve.Msg != want {
		t.Fatalf("got %v, want %q", ve, want)
	}
}

func TestNormalizeAllocs(t *testing.T) {
	cases := []struct {
		field, in string
	}{
		{`{"name":"dt","type":"datetime"}`, "2026-03-02T14:30:00.000526Z"},
		{`{"name":"dt","type":"datetime"}`, "2026-03-02 14:30:00+0100"},
		{`{"name":"x","type":"number"}`, "3.493"},
		{`{"name":"x","type":"number","constraints":{"minimum":0,"maximum":1e6}}`, "3.493"},
		{`{"name":"x","type":"number","decimalChar":",","groupChar":".","bareNumber":false}`, "€1.234,5"},
		{`{"name":"n","type":"integer"}`, "400"},
		{`{"name":"n","type":"integer","constraints":{"minimum":0,"maximum":1000,"enum":[400,500]}}`, "400"},
		{`{"name":"s"}`, "ACME Corp"},
		{`{"name":"s","constraints":{"maxLength":20,"enum":["ACME Corp","Other"]}}`, "ACME Corp"},
		{`{"name":"s","constraints":{"enum":["a","b","c","d","e","f","g","h","i","ACME Corp"]}}`, "ACME Corp"},
		{`{"name":"s","constraints":{"pattern":"[A-Z]+ [A-Za-z]+"}}`, "ACME Corp"},
		{`{"name":"s","transforms":["trim","upper"]}`, " acme corp "},
		{`{"name":"d","type":"date","constraints":{"minimum":"2000-01-01"}}`, "2026-03-02"},
		{`{"name":"d","type":"date","format":"%d/%m/%Y"}`, "02/03/2026"},
		{`{"name":"t","type":"time"}`, "14:30:00.5"},
		{`{"name":"b","type":"boolean"}`, "true"},
		{`{"name":"y","type":"year"}`, "2024"},
		{`{"name":"ym","type":"yearmonth"}`, "2024-03"},
		{`{"name":"d","type":"duration"}`, "P1DT2H"},
		{`{"name":"s","format":"email"}`, "a@b.co"},
		{`{"name":"s","format":"uuid"}`, "123e4567-e89b-12d3-a456-426614174000"},
	}
	for _, tc := range cases {
		t.Run(tc.field, func(t *testing.T) {
			f := compileOne(t, tc.field, Options{NeutralizeFormulas: true})
			dst := make([]byte, 0, 256)
			v := []byte(tc.in)
			allocs := testing.AllocsPerRun(100, func() {
				out, ve := f.Normalize(dst[:0], v)
				if ve != nil || len(out) == 0 {
					t.Fatalf("Normalize(%q) = %q, %v", tc.in, out, ve)
				}
			})
			if allocs != 0 {
				t.Fatalf("Normalize(%q) allocates %v times per run, want 0", tc.in, allocs)
			}
		})
	}
}

func TestNormalizeIntoSharedBufferAfterGrowth(t *testing.T) {
	// The case transforms write to dst's tail; a dst that must grow on the
	// way keeps earlier content.
	f := compileOne(t, `{"name":"s","transforms":["lower","upper"]}`, Options{})
	dst := []byte("a,b,")
	out, ve := f.Normalize(dst[:len(dst):len(dst)], []byte(strings.Repeat("xy", 100)))
	if ve != nil {
		t.Fatal(ve)
	}
	if want := "a,b," + strings.Repeat("XY", 100); string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

func BenchmarkNormalize(b *testing.B) {
	cases := []struct {
		name, field, in string
	}{
		{"datetime", `{"name":"dt","type":"datetime"}`, "2026-03-02T14:30:00.000526Z"},
		{"datetime-minmax", `{"name":"dt","type":"datetime","constraints":{"minimum":"2000-01-01T00:00:00Z"}}`, "2026-03-02T14:30:00.000526Z"},
		{"datetime-pattern", `{"name":"dt","type":"datetime","format":"%d/%m/%Y %H:%M:%S"}`, "02/03/2026 14:30:00"},
		{"date", `{"name":"d","type":"date"}`, "2026-03-02"},
		{"time", `{"name":"t","type":"time"}`, "14:30:00"},
		{"number", `{"name":"x","type":"number"}`, "3.493"},
		{"number-minmax", `{"name":"x","type":"number","constraints":{"minimum":0}}`, "3.493"},
		{"number-eu-group", `{"name":"x","type":"number","decimalChar":",","groupChar":"."}`, "1.234,5"},
		{"integer", `{"name":"n","type":"integer"}`, "400"},
		{"integer-minmax", `{"name":"n","type":"integer","constraints":{"minimum":0,"maximum":1000}}`, "400"},
		{"boolean", `{"name":"b","type":"boolean"}`, "false"},
		{"string", `{"name":"s"}`, "ACME Corp"},
		{"string-enum", `{"name":"s","constraints":{"enum":["USD","EUR","GBP"]}}`, "GBP"},
		{"string-trim-upper", `{"name":"s","transforms":["trim","upper"]}`, " acme corp "},
		{"year", `{"name":"y","type":"year"}`, "2024"},
		{"duration", `{"name":"d","type":"duration"}`, "P1DT2H30M"},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			f := compileOne(b, tc.field, Options{})
			dst := make([]byte, 0, 256)
			v := []byte(tc.in)
			b.SetBytes(int64(len(v)))
			b.ReportAllocs()
			for b.Loop() {
				if _, ve := f.Normalize(dst[:0], v); ve != nil {
					b.Fatal(ve)
				}
			}
		})
	}
}
