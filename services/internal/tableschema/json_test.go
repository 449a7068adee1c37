package tableschema

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

func TestParseJSON(t *testing.T) {
	in := `{
	  "fields": [
	    {"name": "id", "type": "integer", "title": "ID", "description": "row id",
	     "constraints": {"required": true, "unique": true, "minimum": 1, "maximum": 9000000000000000000}},
	    {"name": "price", "type": "number", "decimalChar": ",", "groupChar": ".", "bareNumber": false,
	     "constraints": {"minimum": 0.50, "enum": [1.50, "2,5", 3]}},
	    {"name": "ccy", "transforms": ["trim", "upper"],
	     "constraints": {"minLength": 3, "maxLength": 3, "pattern": "[A-Z]{3}"}},
	    {"name": "ok", "type": "boolean", "trueValues": ["Y"], "falseValues": ["N"], "constraints": {"enum": [true]}},
	    {"name": "day", "type": "date", "format": "%d/%m/%Y", "x-custom": {"a": [1]}},
	    {"name": "note", "type": "any", "rdfType": "http://schema.org/Text", "format": "default", "constraints": {}}
	  ],
	  "missingValues": ["", "NA"],
	  "primaryKey": "id",
	  "foreignKeys": [],
	  "custom": 1
	}`
	f := false
	pu := func(s string) *string { return &s }
	pi := func(n int64) *int64 { return &n }
	want := &typev1.Schema{
		Fields: []*typev1.Field{
			{Name: "id", Type: typev1.FieldType_FIELD_TYPE_INTEGER, Title: "ID", Description: "row id",
				Constraints: &typev1.FieldConstraints{Required: true, Unique: true, Minimum: pu("1"), Maximum: pu("9000000000000000000")}},
			{Name: "price", Type: typev1.FieldType_FIELD_TYPE_NUMBER, DecimalChar: ",", GroupChar: ".", BareNumber: &f,
				Constraints: &typev1.FieldConstraints{Minimum: pu("0.50"), EnumValues: []string{"1.50", "2,5", "3"}}},
			{Name: "ccy", Type: typev1.FieldType_FIELD_TYPE_STRING,
				Transforms:  []typev1.Transform{typev1.Transform_TRANSFORM_TRIM, typev1.Transform_TRANSFORM_UPPER},
				Constraints: &typev1.FieldConstraints{MinLength: pi(3), MaxLength: pi(3), Pattern: "[A-Z]{3}"}},
			{Name: "ok", Type: typev1.FieldType_FIELD_TYPE_BOOLEAN, TrueValues: []string{"Y"}, FalseValues: []string{"N"},
				Constraints: &typev1.FieldConstraints{EnumValues: []string{"true"}}},
			{Name: "day", Type: typev1.FieldType_FIELD_TYPE_DATE, Format: "%d/%m/%Y"},
			{Name: "note", Type: typev1.FieldType_FIELD_TYPE_ANY, Format: "default", Constraints: &typev1.FieldConstraints{}},
		},
		MissingValues: &typev1.MissingValues{Values: []string{"", "NA"}},
		PrimaryKey:    []string{"id"},
	}
	got, err := ParseJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Fatalf("ParseJSON =\n%v\nwant\n%v", got, want)
	}
}

func TestParseJSONPrimaryKeyArrayAndDefaults(t *testing.T) {
	got, err := ParseJSON([]byte(`{"fields":[{"name":"a"},{"name":"b"}],"primaryKey":["b","a"],"missingValues":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &typev1.Schema{
		Fields: []*typev1.Field{
			{Name: "a", Type: typev1.FieldType_FIELD_TYPE_STRING},
			{Name: "b", Type: typev1.FieldType_FIELD_TYPE_STRING},
		},
		MissingValues: &typev1.MissingValues{},
		PrimaryKey:    []string{"b", "a"},
	}
	if !proto.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// wantSchemaError checks that err is a *SchemaError with the path and the
// whole message.
func wantSchemaError(t *testing.T, err error, path, msg string) {
	t.Helper()
	var se *SchemaError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T), want a *SchemaError", err, err)
	}
	if se.Path != path || se.Error() != msg {
		t.Fatalf("error {Path: %q, Error(): %q}\nwant  {Path: %q, Error(): %q}", se.Path, se.Error(), path, msg)
	}
}

func TestParseJSONErrors(t *testing.T) {
	field := func(props string) string { return `{"fields":[{"name":"a"` + props + `}]}` }
	cases := []struct {
		name, in, path, msg string
	}{
		{"syntax", `{"fields":[}`, "", `table schema: invalid JSON at byte 12: invalid character '}' looking for beginning of value`},
		{"truncated", `{"fields":[`, "", `table schema: invalid JSON at byte 11: unexpected end of JSON input`},
		{"array", `[]`, "", `table schema: the schema must be a JSON object, not an array`},
		{"null", `null`, "", `table schema: the schema must be a JSON object, not null`},
		{"no fields", `{}`, "fields", `table schema: fields: the schema has no fields property`},
		{"fields object", `{"fields":{}}`, "fields", `table schema: fields: must be an array of objects, not an object`},
		{"field number", `{"fields":[{"name":"a"},1]}`, "fields[1]", `table schema: fields[1]: must be an object, not a number`},
		{"no name", `{"fields":[{"type":"string"}]}`, "fields[0].name", `table schema: fields[0]: name: the name is missing`},
		{"name number", `{"fields":[{"name":5}]}`, "fields[0].name", `table schema: fields[0]: name: must be a string, not a number`},
		{"type null", field(`,"type":null`), "fields[0].type", `table schema: fields[0] ("a"): type: must be a string, not null`},
		{"type object", field(`,"type":"object"`), "fields[0].type", `table schema: fields[0] ("a"): type: "object" is not a supported type (string, number, integer, boolean, date, time, datetime, year, yearmonth, duration, any)`},
		{"type case", field(`,"type":"Integer"`), "fields[0].type", `table schema: fields[0] ("a"): type: "Integer" is not a supported type (string, number, integer, boolean, date, time, datetime, year, yearmonth, duration, any)`},
		{"format number", field(`,"format":1`), "fields[0].format", `table schema: fields[0] ("a"): format: must be a string, not a number`},
		{"title bool", field(`,"title":true`), "fields[0].title", `table schema: fields[0] ("a"): title: must be a string, not a boolean`},
		{"description array", field(`,"description":[]`), "fields[0].description", `table schema: fields[0] ("a"): description: must be a string, not an array`},
		{"decimalChar number", field(`,"decimalChar":1`), "fields[0].decimalChar", `table schema: fields[0] ("a"): decimalChar: must be a string, not a number`},
		{"groupChar null", field(`,"groupChar":null`), "fields[0].groupChar", `table schema: fields[0] ("a"): groupChar: must be a string, not null`},
		{"trueValues string", field(`,"trueValues":"yes"`), "fields[0].trueValues", `table schema: fields[0] ("a"): trueValues: must be an array of strings, not a string`},
		{"falseValues item", field(`,"falseValues":["no",0]`), "fields[0].falseValues[1]", `table schema: fields[0] ("a"): falseValues[1]: must be a string, not a number`},
		{"bareNumber string", field(`,"bareNumber":"false"`), "fields[0].bareNumber", `table schema: fields[0] ("a"): bareNumber: must be a boolean, not a string`},
		{"transforms unknown", field(`,"transforms":["trim","reverse"]`), "fields[0].transforms[1]", `table schema: fields[0] ("a"): transforms[1]: "reverse" is not a transform (trim, upper, lower)`},
		{"transforms string", field(`,"transforms":"trim"`), "fields[0].transforms", `table schema: fields[0] ("a"): transforms: must be an array of strings, not a string`},
		{"field missingValues", field(`,"missingValues":["-"]`), "fields[0].missingValues", `table schema: fields[0] ("a"): missingValues: missingValues is not supported by csvmesh`},
		{"categories", field(`,"categories":["x"]`), "fields[0].categories", `table schema: fields[0] ("a"): categories: categories is not supported by csvmesh`},
		{"constraints array", field(`,"constraints":[]`), "fields[0].constraints", `table schema: fields[0] ("a"): constraints: must be an object, not an array`},
		{"required string", field(`,"constraints":{"required":"yes"}`), "fields[0].constraints.required", `table schema: fields[0] ("a"): constraints.required: must be a boolean, not a string`},
		{"unique number", field(`,"constraints":{"unique":1}`), "fields[0].constraints.unique", `table schema: fields[0] ("a"): constraints.unique: must be a boolean, not a number`},
		{"minLength fraction", field(`,"constraints":{"minLength":2.5}`), "fields[0].constraints.minLength", `table schema: fields[0] ("a"): constraints.minLength: must be an integer, not 2.5`},
		{"maxLength string", field(`,"constraints":{"maxLength":"2"}`), "fields[0].constraints.maxLength", `table schema: fields[0] ("a"): constraints.maxLength: must be an integer, not a string`},
		{"pattern number", field(`,"constraints":{"pattern":5}`), "fields[0].constraints.pattern", `table schema: fields[0] ("a"): constraints.pattern: must be a string, not a number`},
		{"minimum object", field(`,"type":"integer","constraints":{"minimum":{}}`), "fields[0].constraints.minimum", `table schema: fields[0] ("a"): constraints.minimum: must be a string, number or boolean, not an object`},
		{"maximum null", field(`,"type":"integer","constraints":{"maximum":null}`), "fields[0].constraints.maximum", `table schema: fields[0] ("a"): constraints.maximum: must be a string, number or boolean, not null`},
		{"enum string", field(`,"constraints":{"enum":"a"}`), "fields[0].constraints.enum", `table schema: fields[0] ("a"): constraints.enum: must be an array, not a string`},
		{"enum null item", field(`,"constraints":{"enum":["a",null]}`), "fields[0].constraints.enum[1]", `table schema: fields[0] ("a"): constraints.enum[1]: must be a string, number or boolean, not null`},
		{"enum too long", field(`,"constraints":{"enum":[` + strings.Repeat(`"x",`, MaxEnumValues) + `"y"]}`), "fields[0].constraints.enum", `table schema: fields[0] ("a"): constraints.enum: 10001 values, more than 10000`},
		{"exclusiveMinimum", field(`,"type":"integer","constraints":{"exclusiveMinimum":1}`), "fields[0].constraints.exclusiveMinimum", `table schema: fields[0] ("a"): constraints.exclusiveMinimum: exclusiveMinimum is not supported by csvmesh`},
		{"jsonSchema", field(`,"constraints":{"jsonSchema":{}}`), "fields[0].constraints.jsonSchema", `table schema: fields[0] ("a"): constraints.jsonSchema: jsonSchema is not supported by csvmesh`},
		{"uniqueKeys", `{"fields":[{"name":"a"}],"uniqueKeys":[["a"]]}`, "uniqueKeys", `table schema: uniqueKeys: uniqueKeys is not supported by csvmesh`},
		{"missingValues string", `{"fields":[{"name":"a"}],"missingValues":""}`, "missingValues", `table schema: missingValues: must be an array of strings, not a string`},
		{"missingValues item", `{"fields":[{"name":"a"}],"missingValues":["",1]}`, "missingValues[1]", `table schema: missingValues[1]: must be a string, not a number`},
		{"primaryKey number", `{"fields":[{"name":"a"}],"primaryKey":5}`, "primaryKey", `table schema: primaryKey: must be a string or an array of strings, not a number`},
		{"primaryKey item", `{"fields":[{"name":"a"}],"primaryKey":["a",5]}`, "primaryKey[1]", `table schema: primaryKey[1]: must be a string, not a number`},
		// ParseJSON runs Check.
		{"checked", field(`,"type":"integer","constraints":{"minimum":"x"}`), "fields[0].constraints.minimum", `table schema: fields[0] ("a"): constraints.minimum: "x" is not an integer`},
		{"too many fields", `{"fields":[` + strings.Repeat(`{},`, MaxFields) + `{}]}`, "fields", `table schema: fields: the schema has 16385 fields, more than 16384`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseJSON([]byte(tc.in))
			if err == nil {
				t.Fatalf("ParseJSON = %v, want an error", s)
			}
			wantSchemaError(t, err, tc.path, tc.msg)
		})
	}
}

func TestMarshalJSONGolden(t *testing.T) {
	in := `{"primaryKey":"id","missingValues":["","NA"],"fields":[
	  {"constraints":{"maximum":100,"minimum":"1","required":true,"unique":true},"type":"integer","name":"id"},
	  {"name":"price","type":"number","bareNumber":false,"groupChar":" ","decimalChar":",","constraints":{"enum":[1.50,"NaN","2,5"]}},
	  {"name":"ccy","transforms":["trim","upper"],"description":"ISO <4217> & co","title":"Currency","constraints":{"pattern":"[A-Z]{3}","maxLength":3,"minLength":3}},
	  {"name":"ok","type":"boolean","falseValues":["N"],"trueValues":["Y"],"constraints":{"enum":[true]}},
	  {"name":"day","type":"date","format":"%d/%m/%Y","constraints":{"minimum":"2024-01-01"}},
	  {"name":"y","type":"year","constraints":{"minimum":"0999"}},
	  {"name":"note","type":"any","constraints":{}}
	]}`
	want := `{
  "fields": [
    {
      "name": "id",
      "type": "integer",
      "constraints": {
        "required": true,
        "unique": true,
        "minimum": 1,
        "maximum": 100
      }
    },
    {
      "name": "price",
      "type": "number",
      "constraints": {
        "enum": [
          1.50,
          "NaN",
          "2,5"
        ]
      },
      "decimalChar": ",",
      "groupChar": " ",
      "bareNumber": false
    },
    {
      "name": "ccy",
      "type": "string",
      "title": "Currency",
      "description": "ISO <4217> & co",
      "constraints": {
        "minLength": 3,
        "maxLength": 3,
        "pattern": "[A-Z]{3}"
      },
      "transforms": [
        "trim",
        "upper"
      ]
    },
    {
      "name": "ok",
      "type": "boolean",
      "constraints": {
        "enum": [
          true
        ]
      },
      "trueValues": [
        "Y"
      ],
      "falseValues": [
        "N"
      ]
    },
    {
      "name": "day",
      "type": "date",
      "format": "%d/%m/%Y",
      "constraints": {
        "minimum": "2024-01-01"
      }
    },
    {
      "name": "y",
      "type": "year",
      "constraints": {
        "minimum": "0999"
      }
    },
    {
      "name": "note",
      "type": "any",
      "constraints": {}
    }
  ],
  "missingValues": [
    "",
    "NA"
  ],
  "primaryKey": [
    "id"
  ]
}`
	s, err := ParseJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	got, err := MarshalJSON(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("MarshalJSON =\n%s\nwant\n%s", got, want)
	}
}

func TestRoundTripFromJSON(t *testing.T) {
	for _, in := range []string{
		`{"fields":[{"name":"a"}]}`,
		`{"fields":[{"name":"a","type":"string","format":"default"}]}`,
		`{"fields":[{"name":"é \"q\" <x>","type":"string","format":"email"}],"missingValues":[]}`,
		`{"fields":[{"name":"n","type":"number","constraints":{"minimum":-1.5e-3,"maximum":1E+10,"enum":[0.10,2,"3"]}}]}`,
		`{"fields":[{"name":"n","type":"integer","groupChar":",","bareNumber":true,"constraints":{"minimum":-9223372036854775808}}]}`,
		`{"fields":[{"name":"b","type":"boolean","constraints":{"enum":[false,"true"]}}]}`,
		`{"fields":[{"name":"d","type":"datetime","format":"any","constraints":{"minimum":"2024-01-01T00:00:00Z"}}]}`,
		`{"fields":[{"name":"t","type":"time","format":"%I:%M %p"},{"name":"y","type":"yearmonth","constraints":{"maximum":"2030-12"}}]}`,
		`{"fields":[{"name":"p","type":"duration","constraints":{"required":true,"unique":true,"enum":["P1D"]}}],"primaryKey":["p"]}`,
		`{"fields":[{"name":"s","transforms":["lower","trim","upper"],"constraints":{"minLength":0,"pattern":"\\d+|x"}}]}`,
	} {
		t.Run(in, func(t *testing.T) {
			s1, err := ParseJSON([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			out1, err := MarshalJSON(s1)
			if err != nil {
				t.Fatal(err)
			}
			s2, err := ParseJSON(out1)
			if err != nil {
				t.Fatalf("ParseJSON(MarshalJSON) = %v\n%s", err, out1)
			}
			if !proto.Equal(s1, s2) {
				t.Fatalf("round trip changed the schema:\n%v\n%v\nvia\n%s", s1, s2, out1)
			}
			out2, err := MarshalJSON(s2)
			if err != nil {
				t.Fatal(err)
			}
			if string(out1) != string(out2) {
				t.Fatalf("MarshalJSON is not stable:\n%s\n%s", out1, out2)
			}
		})
	}
}

func TestRoundTripFromTyped(t *testing.T) {
	tr, fa := true, false
	pu := func(s string) *string { return &s }
	pi := func(n int64) *int64 { return &n }
	schemas := []*typev1.Schema{
		{Fields: []*typev1.Field{{Name: "a", Type: typev1.FieldType_FIELD_TYPE_STRING}}},
		{
			Fields: []*typev1.Field{
				{Name: "n", Type: typev1.FieldType_FIELD_TYPE_NUMBER, BareNumber: &tr, Constraints: &typev1.FieldConstraints{}},
				{Name: "i", Type: typev1.FieldType_FIELD_TYPE_INTEGER, BareNumber: &fa, GroupChar: "'",
					Constraints: &typev1.FieldConstraints{Minimum: pu("007"), Maximum: pu("1e3"), EnumValues: []string{"1", "+2"}}},
				{Name: "s", Type: typev1.FieldType_FIELD_TYPE_STRING, Title: "t", Description: "d",
					Constraints: &typev1.FieldConstraints{MinLength: pi(0), MaxLength: pi(10), EnumValues: []string{"1", "true", ""}}},
				{Name: "b", Type: typev1.FieldType_FIELD_TYPE_BOOLEAN, TrueValues: []string{"t"},
					Constraints: &typev1.FieldConstraints{EnumValues: []string{"t", "false"}}},
				{Name: "x", Type: typev1.FieldType_FIELD_TYPE_NUMBER, Constraints: &typev1.FieldConstraints{Minimum: pu("")}},
			},
			MissingValues: &typev1.MissingValues{},
			PrimaryKey:    []string{"i", "s"},
		},
		{
			Fields:        []*typev1.Field{{Name: "y", Type: typev1.FieldType_FIELD_TYPE_YEAR, Constraints: &typev1.FieldConstraints{Minimum: pu("0999"), Maximum: pu("2024")}}},
			MissingValues: &typev1.MissingValues{Values: []string{""}},
		},
	}
	for i, s := range schemas {
		out, err := MarshalJSON(s)
		if err != nil {
			t.Fatalf("schema %d: %v", i, err)
		}
		back, perr := parseJSON(out) // not ParseJSON: some of these break Check on purpose
		if perr != nil {
			t.Fatalf("schema %d: %v\n%s", i, perr, out)
		}
		if !proto.Equal(s, back) {
			t.Fatalf("schema %d: round trip\n%v\ngave\n%v\nvia\n%s", i, s, back, out)
		}
	}
}

func TestMarshalJSONErrors(t *testing.T) {
	cases := []struct {
		name string
		s    *typev1.Schema
		path string
		msg  string
	}{
		{"nil", nil, "", "table schema: no schema"},
		{"unspecified type", &typev1.Schema{Fields: []*typev1.Field{{Name: "a"}}},
			"fields[0].type", `table schema: fields[0] ("a"): type: type FIELD_TYPE_UNSPECIFIED cannot be written as JSON`},
		{"unknown type", &typev1.Schema{Fields: []*typev1.Field{{Name: "a", Type: 42}}},
			"fields[0].type", `table schema: fields[0] ("a"): type: type 42 cannot be written as JSON`},
		{"unspecified transform", &typev1.Schema{Fields: []*typev1.Field{{Name: "a", Type: typev1.FieldType_FIELD_TYPE_STRING,
			Transforms: []typev1.Transform{typev1.Transform_TRANSFORM_TRIM, typev1.Transform_TRANSFORM_UNSPECIFIED}}}},
			"fields[0].transforms[1]", `table schema: fields[0] ("a"): transforms[1]: transform TRANSFORM_UNSPECIFIED cannot be written as JSON`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MarshalJSON(tc.s)
			wantSchemaError(t, err, tc.path, tc.msg)
		})
	}
}
