package infer

import (
	"testing"
)

func TestLexers(t *testing.T) {
	lexers := map[string]func([]byte) uint8{
		"int":      func(v []byte) uint8 { return lexInt(v, 0) },
		"intGroup": func(v []byte) uint8 { return lexInt(v, ',') },
		"num":      func(v []byte) uint8 { return lexNumber(v, 0, '.') },
		"numGroup": func(v []byte) uint8 { return lexNumber(v, ',', '.') },
		"numEuro":  func(v []byte) uint8 { return lexNumber(v, '.', ',') },
		"bool":     lexBool,
		"dateISO":  func(v []byte) uint8 { return outcome(lexISODate(v), true) },
		"datetime": lexDatetime,
		"time":     func(v []byte) uint8 { return outcome(lexTime(v), true) },
	}
	tests := []struct {
		lexer string
		v     string
		want  uint8
	}{
		{"int", "0", accept},
		{"int", "7", accept},
		{"int", "-123", accept},
		{"int", "9223372036854775807", accept},
		{"int", "-9223372036854775808", accept},
		{"int", "0009223372036854775807", rewrites},
		{"int", "9223372036854775808", reject},
		{"int", "-9223372036854775809", reject},
		{"int", "99999999999999999999", reject},
		{"int", "+5", rewrites},
		{"int", "007", rewrites},
		{"int", "-0", rewrites},
		{"int", "00", rewrites},
		{"int", "", reject},
		{"int", "-", reject},
		{"int", "+", reject},
		{"int", "1,234", reject},
		{"int", "1.0", reject},
		{"int", "1e3", reject},
		{"int", " 1", reject},
		{"int", "1 ", reject},
		{"int", "--1", reject},
		{"int", "0x10", reject},
		{"int", "１", reject}, // a full-width digit

		{"intGroup", "1,234", rewrites},
		{"intGroup", "-1,234,567", rewrites},
		{"intGroup", "12,345", rewrites},
		{"intGroup", "123,456", rewrites},
		{"intGroup", "1234", accept},
		{"intGroup", "9,223,372,036,854,775,807", rewrites},
		{"intGroup", "9,223,372,036,854,775,808", reject},
		{"intGroup", "1234,567", reject},
		{"intGroup", "1,23", reject},
		{"intGroup", "1,2345", reject},
		{"intGroup", ",123", reject},
		{"intGroup", "1,", reject},
		{"intGroup", "1,,234", reject},
		{"intGroup", "0,123", reject},
		{"intGroup", "-,123", reject},

		{"num", "1.5", accept},
		{"num", "-1.5", accept},
		{"num", "0.25", accept},
		{"num", "42", accept},
		{"num", "1e-9", accept},
		{"num", "1.5e10", accept},
		{"num", "1.5E+10", rewrites},
		{"num", "1.5e+10", rewrites},
		{"num", "1E5", rewrites},
		{"num", "1e05", rewrites},
		{"num", "1e-05", rewrites},
		{"num", "1e0", accept},
		{"num", "1e-0", rewrites},
		{"num", "0", accept},
		{"num", "0.0", accept},
		{"num", "-0", accept},
		{"num", "-0.0", accept},
		{"num", "-0.5", accept},
		{"num", "00.5", rewrites},
		{"num", "Infinity", rewrites},
		{"num", "-infinity", rewrites},
		{"num", "INFINITY", rewrites},
		{"num", "-2.5e3", accept},
		{"num", ".5", rewrites},
		{"num", "-.5", rewrites},
		{"num", "5.", rewrites},
		{"num", "+1.5", rewrites},
		{"num", "01.5", rewrites},
		{"num", "NaN", accept},
		{"num", "inf", accept},
		{"num", "-inf", accept},
		{"num", "+inf", rewrites},
		{"num", "INF", rewrites},
		{"num", "-Inf", rewrites},
		{"num", "1e300", accept},
		{"num", "1e301", reject},
		{"num", "0.001e-297", accept},
		{"num", "0.001e-298", reject},
		{"num", "0e99999", accept},
		{"num", "12345e296", accept},
		{"num", "12345e297", reject},
		{"num", "", reject},
		{"num", ".", reject},
		{"num", "-.", reject},
		{"num", "e5", reject},
		{"num", "1e", reject},
		{"num", "1e+", reject},
		{"num", "1.2.3", reject},
		{"num", "1,5", reject},
		{"num", "1,234.5", reject},
		{"num", "-NaN", reject},
		{"num", "nan", reject},
		{"num", "InFinity", reject},
		{"num", "0x1p3", reject},
		{"num", "1_000", reject},
		{"num", "1.5 ", reject},

		{"numGroup", "1,234.5", rewrites},
		{"numGroup", "-1,234,567.125", rewrites},
		{"numGroup", "1234.5", accept},
		{"numGroup", "1,234", rewrites},
		{"numGroup", "inf", accept},
		{"numGroup", "1,23.5", reject},
		{"numGroup", "1.234,5", reject},
		{"numGroup", "0,123.5", reject},

		{"numEuro", "1,5", rewrites},
		{"numEuro", "1.234,56", rewrites},
		{"numEuro", "-1.234.567,5", rewrites},
		{"numEuro", "1.234", rewrites},
		{"numEuro", "15", accept},
		{"numEuro", "-3", accept},
		{"numEuro", ",5", rewrites},
		{"numEuro", "1,5e3", rewrites},
		{"numEuro", "NaN", accept},
		{"numEuro", "1.5", reject},
		{"numEuro", "1,234.5", reject},
		{"numEuro", "1.23,5", reject},

		{"bool", "true", accept},
		{"bool", "false", accept},
		{"bool", "True", rewrites},
		{"bool", "TRUE", rewrites},
		{"bool", "False", rewrites},
		{"bool", "FALSE", rewrites},
		{"bool", "1", reject},
		{"bool", "0", reject},
		{"bool", "yes", reject},
		{"bool", "tRUE", reject},
		{"bool", "t", reject},

		{"dateISO", "2023-01-31", accept},
		{"dateISO", "2024-02-29", accept},
		{"dateISO", "2000-02-29", accept},
		{"dateISO", "0001-01-01", accept},
		{"dateISO", "9999-12-31", accept},
		{"dateISO", "2023-02-29", reject},
		{"dateISO", "1900-02-29", reject},
		{"dateISO", "2023-04-31", reject},
		{"dateISO", "2023-13-01", reject},
		{"dateISO", "2023-00-10", reject},
		{"dateISO", "2023-01-00", reject},
		{"dateISO", "0000-01-01", reject},
		{"dateISO", "2023-1-01", reject},
		{"dateISO", "2023/01/01", reject},
		{"dateISO", "20230101", reject},
		{"dateISO", "2023-01-01T00:00:00", reject},
		{"dateISO", "2023-0a-01", reject},

		{"datetime", "2023-01-31T10:20:30", accept},
		{"datetime", "2023-01-31T10:20:30Z", accept},
		{"datetime", "2023-01-31T10:20:30.123456789Z", accept},
		{"datetime", "2023-01-31T10:20:30.5+05:30", accept},
		{"datetime", "2023-01-31T23:59:59-08:00", accept},
		{"datetime", "2023-01-31 10:20:30", rewrites},
		{"datetime", "2023-01-31 10:20:30.25Z", rewrites},
		{"datetime", "2023-02-29T10:20:30", reject},
		{"datetime", "2023-01-31T24:00:00", reject},
		{"datetime", "2023-01-31T10:60:00", reject},
		{"datetime", "2023-01-31T10:20:60", reject},
		{"datetime", "2023-01-31T10:20", reject},
		{"datetime", "2023-01-31t10:20:30", reject},
		{"datetime", "2023-01-31T10:20:30z", reject},
		{"datetime", "2023-01-31T10:20:30.", reject},
		{"datetime", "2023-01-31T10:20:30.1234567890", reject},
		{"datetime", "2023-01-31T10:20:30+0530", rewrites},
		{"datetime", "2023-01-31T10:20:30+00:00", accept},
		{"datetime", "2023-01-31T10:20:30-00:00", accept},
		{"datetime", "2023-01-31T10:20:30+00:01", accept},
		{"datetime", "2023-01-31T10:20:30+05:3", reject},
		{"datetime", "2023-01-31T10:20:30 0530", reject},
		{"datetime", "2023-01-31T10:20:30+2400", reject},
		{"datetime", "2023-01-31T10:20:30+05", reject},
		{"datetime", "2023-01-31T10:20:30+24:00", reject},
		{"datetime", "2023-01-31T10:20:30+05:60", reject},
		{"datetime", "2023-01-31T10:20:30 ", reject},
		{"datetime", "2023-01-31", reject},

		{"time", "00:00:00", accept},
		{"time", "23:59:59", accept},
		{"time", "10:20:30.5", accept},
		{"time", "24:00:00", reject},
		{"time", "10:20", reject},
		{"time", "1:20:30", reject},
		{"time", "10:20:30Z", reject},
		{"time", "10-20-30", reject},
	}
	for _, tt := range tests {
		t.Run(tt.lexer+"/"+tt.v, func(t *testing.T) {
			if got := lexers[tt.lexer]([]byte(tt.v)); got != tt.want {
				t.Errorf("%s(%q) = %d, want %d", tt.lexer, tt.v, got, tt.want)
			}
		})
	}
}

func TestSplitDate(t *testing.T) {
	tests := []struct {
		v       string
		sep     byte
		a, b, y int
		ok      bool
	}{
		{"31/12/2023", '/', 31, 12, 2023, true},
		{"02.03.1999", '.', 2, 3, 1999, true},
		{"02.03.1999", '/', 0, 0, 0, false},
		{"2/3/1999", '/', 2, 3, 1999, true},
		{"2/03/1999", '/', 2, 3, 1999, true},
		{"12/3/1999", '/', 12, 3, 1999, true},
		{"123/3/1999", '/', 0, 0, 0, false},
		{"1/123/1999", '/', 0, 0, 0, false},
		{"//1999", '/', 0, 0, 0, false},
		{"1//19999", '/', 0, 0, 0, false},
		{"1/2/199", '/', 0, 0, 0, false},
		{"1/2/19999", '/', 0, 0, 0, false},
		{"1/2-1999", '/', 0, 0, 0, false},
		{"02/03/99", '/', 0, 0, 0, false},
		{"0a/03/1999", '/', 0, 0, 0, false},
		{"02/03/19x9", '/', 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.v, func(t *testing.T) {
			a, b, y, ok := splitDate([]byte(tt.v), tt.sep)
			if ok != tt.ok || (ok && (a != tt.a || b != tt.b || y != tt.y)) {
				t.Errorf("splitDate(%q, %q) = %d, %d, %d, %t; want %d, %d, %d, %t",
					tt.v, tt.sep, a, b, y, ok, tt.a, tt.b, tt.y, tt.ok)
			}
		})
	}
}
