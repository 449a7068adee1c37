package validator

import (
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
