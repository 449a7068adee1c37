package tableschema

import (
	"fmt"
	"strings"
	"testing"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

func TestCheckErrors(t *testing.T) {
	one := func(props string) string { return `{"fields":[{"name":"a"` + props + `}]}` }
	cases := []struct {
		name, in, path, msg string
	}{
		{"no fields", `{"fields":[]}`, "fields", `table schema: fields: the schema has no fields`},
		{"duplicate name", `{"fields":[{"name":"a"},{"name":"b"},{"name":"a"}]}`, "fields[2].name", `table schema: fields[2] ("a"): name: "a" is also the name of fields[0]`},
		{"empty name", `{"fields":[{"name":"a"},{"name":""}]}`, "fields[1].name", `table schema: fields[1] (""): name: the name is empty`},
		{"long name", `{"fields":[{"name":"` + strings.Repeat("n", MaxNameBytes+1) + `"}]}`, "fields[0].name",
			`table schema: fields[0] ("` + strings.Repeat("n", 256) + `"): name: the name is 1025 bytes long, more than 1024`},
		{"string format", one(`,"format":"binary"`), "fields[0].format", `table schema: fields[0] ("a"): format: "binary" is not a format of string fields (default, email, uri, uuid)`},
		{"integer format", one(`,"type":"integer","format":"currency"`), "fields[0].format", `table schema: fields[0] ("a"): format: "currency" is not a format of integer fields (only default)`},
		{"any format", one(`,"type":"any","format":"any"`), "fields[0].format", `table schema: fields[0] ("a"): format: "any" is not a format of any fields (only default)`},
		{"date word", one(`,"type":"date","format":"dd/mm/yyyy"`), "fields[0].format", `table schema: fields[0] ("a"): format: "dd/mm/yyyy" is not a date format (default, any, or a pattern such as %d/%m/%Y)`},
		{"unknown directive", one(`,"type":"date","format":"%d/%m/%Q"`), "fields[0].format", `table schema: fields[0] ("a"): format: pattern "%d/%m/%Q": unknown directive %Q`},
		{"day of year", one(`,"type":"date","format":"%Y-%j"`), "fields[0].format", `table schema: fields[0] ("a"): format: pattern "%Y-%j": unknown directive %j`},
		{"hour in date", one(`,"type":"date","format":"%d/%m/%Y %H"`), "fields[0].format", `table schema: fields[0] ("a"): format: pattern "%d/%m/%Y %H": directive %H does not belong in a date pattern`},
		{"date in time", one(`,"type":"time","format":"%Y %H"`), "fields[0].format", `table schema: fields[0] ("a"): format: pattern "%Y %H": directive %Y does not belong in a time pattern`},
		{"offset in time", one(`,"type":"time","format":"%H:%M%z"`), "fields[0].format", `table schema: fields[0] ("a"): format: pattern "%H:%M%z": directive %z does not belong in a time pattern`},
		{"two offsets", one(`,"type":"datetime","format":"%Y-%m-%d %H%z%Z"`), "fields[0].format", `table schema: fields[0] ("a"): format: pattern "%Y-%m-%d %H%z%Z": directives %z and %Z both give the offset`},
		{"two years", one(`,"type":"date","format":"%Y %y-%m-%d"`), "fields[0].format", `table schema: fields[0] ("a"): format: pattern "%Y %y-%m-%d": directives %Y and %y both give the year`},
		{"no year", one(`,"type":"date","format":"%d/%m"`), "fields[0].format", `table schema: fields[0] ("a"): format: pattern "%d/%m": the pattern has no year directive`},
		{"no day", one(`,"type":"datetime","format":"%Y-%m %H"`), "fields[0].format", `table schema: fields[0] ("a"): format: pattern "%Y-%m %H": the pattern has no day directive`},
		{"no hour", one(`,"type":"time","format":"%M:%S"`), "fields[0].format", `table schema: fields[0] ("a"): format: pattern "%M:%S": the pattern has no hour directive (%H or %I)`},
		{"I without p", one(`,"type":"time","format":"%I:%M"`), "fields[0].format", `table schema: fields[0] ("a"): format: pattern "%I:%M": %I and %p go together`},
		{"p without I", one(`,"type":"time","format":"%H:%M %p"`), "fields[0].format", `table schema: fields[0] ("a"): format: pattern "%H:%M %p": %I and %p go together`},
		{"S without M", one(`,"type":"time","format":"%H %S"`), "fields[0].format", `table schema: fields[0] ("a"): format: pattern "%H %S": %S needs %M`},
		{"f without S", one(`,"type":"time","format":"%H:%M.%f"`), "fields[0].format", `table schema: fields[0] ("a"): format: pattern "%H:%M.%f": %f needs %S`},
		{"lone percent", one(`,"type":"date","format":"%Y-%m-%d %"`), "fields[0].format", `table schema: fields[0] ("a"): format: pattern "%Y-%m-%d %": the pattern ends with a lone %`},
		{"pattern syntax", one(`,"constraints":{"pattern":"(["}`), "fields[0].constraints.pattern", "table schema: fields[0] (\"a\"): constraints.pattern: \"([\" does not compile: error parsing regexp: missing closing ]: `[`"},
		{"pattern long", one(`,"constraints":{"pattern":"` + strings.Repeat("a", MaxPatternBytes+1) + `"}`), "fields[0].constraints.pattern", `table schema: fields[0] ("a"): constraints.pattern: the pattern is 4097 bytes long, more than 4096`},
		{"contract example", `{"fields":[{"name":"id"},{"name":"q"},{"name":"price","type":"number","constraints":{"minimum":"abc"}}]}`, "fields[2].constraints.minimum", `table schema: fields[2] ("price"): constraints.minimum: "abc" is not a number`},
		{"integer minimum fraction", one(`,"type":"integer","constraints":{"minimum":5.0}`), "fields[0].constraints.minimum", `table schema: fields[0] ("a"): constraints.minimum: "5.0" is not an integer`},
		{"integer maximum exponent", one(`,"type":"integer","constraints":{"maximum":9e18}`), "fields[0].constraints.maximum", `table schema: fields[0] ("a"): constraints.maximum: "9e18" is not an integer`},
		{"integer maximum range", one(`,"type":"integer","constraints":{"maximum":9223372036854775808}`), "fields[0].constraints.maximum", `table schema: fields[0] ("a"): constraints.maximum: "9223372036854775808" is out of the 64-bit integer range`},
		{"date maximum", one(`,"type":"date","constraints":{"maximum":"2024-02-30"}`), "fields[0].constraints.maximum", `table schema: fields[0] ("a"): constraints.maximum: "2024-02-30" is not a date (YYYY-MM-DD)`},
		{"date pattern minimum", one(`,"type":"date","format":"%d/%m/%Y","constraints":{"minimum":"2024/01/01"}`), "fields[0].constraints.minimum", `table schema: fields[0] ("a"): constraints.minimum: "2024/01/01" is not a date in the format "%d/%m/%Y"`},
		{"minimum above maximum", one(`,"type":"integer","constraints":{"minimum":10,"maximum":"9"}`), "fields[0].constraints.minimum", `table schema: fields[0] ("a"): constraints.minimum: 10 is greater than the maximum 9`},
		{"datetime minimum above maximum", one(`,"type":"datetime","constraints":{"minimum":"2024-01-01T01:00:00+00:00","maximum":"2024-01-01T01:30:00+01:00"}`), "fields[0].constraints.minimum",
			`table schema: fields[0] ("a"): constraints.minimum: 2024-01-01T01:00:00+00:00 is greater than the maximum 2024-01-01T01:30:00+01:00`},
		{"boolean minimum", one(`,"type":"boolean","constraints":{"minimum":true}`), "fields[0].constraints.minimum", `table schema: fields[0] ("a"): constraints.minimum: minimum does not apply to boolean fields`},
		{"string maximum", one(`,"constraints":{"maximum":"z"}`), "fields[0].constraints.maximum", `table schema: fields[0] ("a"): constraints.maximum: maximum does not apply to string fields`},
		{"duration minimum", one(`,"type":"duration","constraints":{"minimum":"P1D"}`), "fields[0].constraints.minimum", `table schema: fields[0] ("a"): constraints.minimum: minimum does not apply to duration fields`},
		{"integer minLength", one(`,"type":"integer","constraints":{"minLength":1}`), "fields[0].constraints.minLength", `table schema: fields[0] ("a"): constraints.minLength: minLength does not apply to integer fields`},
		{"any maxLength", one(`,"type":"any","constraints":{"maxLength":1}`), "fields[0].constraints.maxLength", `table schema: fields[0] ("a"): constraints.maxLength: maxLength does not apply to any fields`},
		{"number pattern", one(`,"type":"number","constraints":{"pattern":"\\d+"}`), "fields[0].constraints.pattern", `table schema: fields[0] ("a"): constraints.pattern: pattern does not apply to number fields`},
		{"negative minLength", one(`,"constraints":{"minLength":-1}`), "fields[0].constraints.minLength", `table schema: fields[0] ("a"): constraints.minLength: -1 is negative`},
		{"negative maxLength", one(`,"constraints":{"maxLength":-2}`), "fields[0].constraints.maxLength", `table schema: fields[0] ("a"): constraints.maxLength: -2 is negative`},
		{"minLength above maxLength", one(`,"constraints":{"minLength":5,"maxLength":2}`), "fields[0].constraints.minLength", `table schema: fields[0] ("a"): constraints.minLength: 5 is greater than the maxLength 2`},
		{"enum value", one(`,"type":"integer","constraints":{"enum":[1,"x"]}`), "fields[0].constraints.enum[1]", `table schema: fields[0] ("a"): constraints.enum[1]: "x" is not an integer`},
		{"enum email", one(`,"format":"email","constraints":{"enum":["a@b.co","nope"]}`), "fields[0].constraints.enum[1]", `table schema: fields[0] ("a"): constraints.enum[1]: "nope" is not an email address`},
		{"enum boolean", one(`,"type":"boolean","trueValues":["Y"],"falseValues":["N"],"constraints":{"enum":["maybe"]}`), "fields[0].constraints.enum[0]", `table schema: fields[0] ("a"): constraints.enum[0]: "maybe" is not a boolean (true: "Y"; false: "N")`},
		{"decimalChar long", one(`,"type":"number","decimalChar":"ab"`), "fields[0].decimalChar", `table schema: fields[0] ("a"): decimalChar: "ab" is not one character`},
		{"decimalChar digit", one(`,"type":"number","decimalChar":"1"`), "fields[0].decimalChar", `table schema: fields[0] ("a"): decimalChar: "1" cannot be a separator: it is a digit or a sign`},
		{"groupChar long", one(`,"type":"number","groupChar":"  "`), "fields[0].groupChar", `table schema: fields[0] ("a"): groupChar: "  " is not one character`},
		{"groupChar sign", one(`,"type":"number","groupChar":"-"`), "fields[0].groupChar", `table schema: fields[0] ("a"): groupChar: "-" cannot be a separator: it is a digit or a sign`},
		{"groupChar is default decimal", one(`,"type":"number","groupChar":"."`), "fields[0].groupChar", `table schema: fields[0] ("a"): groupChar: "." is also the decimal mark (decimalChar)`},
		{"groupChar equals decimalChar", one(`,"type":"number","decimalChar":",","groupChar":","`), "fields[0].groupChar", `table schema: fields[0] ("a"): groupChar: "," is also the decimal mark (decimalChar)`},
		{"true and false overlap", one(`,"type":"boolean","trueValues":["yes","0"]`), "fields[0].falseValues", `table schema: fields[0] ("a"): falseValues: "0" is both a true and a false value`},
		{"true and false overlap custom", one(`,"type":"boolean","trueValues":["y"],"falseValues":["n","y"]`), "fields[0].falseValues", `table schema: fields[0] ("a"): falseValues: "y" is both a true and a false value`},
		{"primaryKey unknown", `{"fields":[{"name":"a"}],"primaryKey":["a","nope"]}`, "primaryKey[1]", `table schema: primaryKey[1]: "nope" is not the name of a field`},
		{"primaryKey twice", `{"fields":[{"name":"a"}],"primaryKey":["a","a"]}`, "primaryKey[1]", `table schema: primaryKey[1]: "a" is in the key twice`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseJSON([]byte(tc.in))
			if err != nil {
				t.Fatalf("parseJSON: %v", err)
			}
			wantSchemaError(t, Check(s), tc.path, tc.msg)
			_, cerr := Compile(s, Options{})
			wantSchemaError(t, cerr, tc.path, tc.msg)
			_, perr := ParseJSON([]byte(tc.in))
			wantSchemaError(t, perr, tc.path, tc.msg)
		})
	}
}

func TestCheckTypedErrors(t *testing.T) {
	str := typev1.FieldType_FIELD_TYPE_STRING
	many := &typev1.Schema{}
	for i := 0; i <= MaxFields; i++ {
		many.Fields = append(many.Fields, &typev1.Field{Name: fmt.Sprint("f", i), Type: str})
	}
	manyEnum := make([]string, MaxEnumValues+1)
	for i := range manyEnum {
		manyEnum[i] = fmt.Sprint(i)
	}
	cases := []struct {
		name string
		s    *typev1.Schema
		path string
		msg  string
	}{
		{"nil", nil, "", "table schema: no schema"},
		{"too many fields", many, "fields", "table schema: fields: the schema has 16385 fields, more than 16384"},
		{"unspecified type", &typev1.Schema{Fields: []*typev1.Field{{Name: "a", Type: str}, {Name: "b"}}},
			"fields[1].type", `table schema: fields[1] ("b"): type: the type is unspecified`},
		{"unknown type", &typev1.Schema{Fields: []*typev1.Field{{Name: "a", Type: 99}}},
			"fields[0].type", `table schema: fields[0] ("a"): type: type 99 is unknown`},
		{"unspecified transform", &typev1.Schema{Fields: []*typev1.Field{{Name: "a", Type: str,
			Transforms: []typev1.Transform{typev1.Transform_TRANSFORM_TRIM, typev1.Transform_TRANSFORM_UNSPECIFIED}}}},
			"fields[0].transforms[1]", `table schema: fields[0] ("a"): transforms[1]: the transform is unspecified`},
		{"unknown transform", &typev1.Schema{Fields: []*typev1.Field{{Name: "a", Type: str, Transforms: []typev1.Transform{7}}}},
			"fields[0].transforms[0]", `table schema: fields[0] ("a"): transforms[0]: transform 7 is unknown`},
		{"enum too long", &typev1.Schema{Fields: []*typev1.Field{{Name: "a", Type: str, Constraints: &typev1.FieldConstraints{EnumValues: manyEnum}}}},
			"fields[0].constraints.enum", `table schema: fields[0] ("a"): constraints.enum: 10001 values, more than 10000`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantSchemaError(t, Check(tc.s), tc.path, tc.msg)
		})
	}
}

func TestCheckAcceptsLimits(t *testing.T) {
	s := &typev1.Schema{}
	for i := 0; i < MaxFields; i++ {
		s.Fields = append(s.Fields, &typev1.Field{Name: fmt.Sprint("f", i), Type: typev1.FieldType_FIELD_TYPE_STRING})
	}
	s.Fields[0].Name = strings.Repeat("n", MaxNameBytes)
	s.Fields[1].Constraints = &typev1.FieldConstraints{Pattern: strings.Repeat("a", MaxPatternBytes)}
	enum := make([]string, MaxEnumValues)
	for i := range enum {
		enum[i] = fmt.Sprint(i)
	}
	s.Fields[2].Constraints = &typev1.FieldConstraints{EnumValues: enum}
	if err := Check(s); err != nil {
		t.Fatal(err)
	}
}

func TestCompile(t *testing.T) {
	s, err := ParseJSON([]byte(`{"fields":[
	  {"name":"id","type":"integer","constraints":{"required":true,"unique":true}},
	  {"name":"day","type":"date"},
	  {"name":"ccy","constraints":{"unique":true}}
	],"primaryKey":["ccy","id"]}`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.PrimaryKey, c.Unique, c.MissingValues); got != "[2 0] [0 2] []" {
		t.Fatalf("PrimaryKey, Unique, MissingValues = %s", got)
	}
	if len(c.MissingValues) != 1 || c.MissingValues[0] != "" {
		t.Fatalf("MissingValues = %q, want [\"\"]", c.MissingValues)
	}
	var got []string
	for _, f := range c.Fields {
		got = append(got, fmt.Sprint(f.Name, " ", f.Index, " ", f.Type, " ", f.Required, " ", f.Unique))
	}
	want := []string{"id 0 FIELD_TYPE_INTEGER true true", "day 1 FIELD_TYPE_DATE false false", "ccy 2 FIELD_TYPE_STRING false true"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("fields = %q, want %q", got, want)
	}
}

func TestIsMissing(t *testing.T) {
	many := `["NA","N/A","null","NULL","nan","-","--","?","none","None"]`
	cases := []struct {
		missing string // JSON, or "" for none given
		in      string
		want    bool
	}{
		{"", "", true},
		{"", "NA", false},
		{"", " ", false},
		{`[]`, "", false},
		{`["NA"]`, "", false},
		{`["NA"]`, "NA", true},
		{`["","NA"]`, "", true},
		{`["","NA"]`, "na", false},
		{many, "None", true},
		{many, "--", true},
		{many, "", false},
		{many, "NaN", false},
	}
	for _, tc := range cases {
		t.Run(tc.missing+"/"+tc.in, func(t *testing.T) {
			in := `{"fields":[{"name":"a"}]`
			if tc.missing != "" {
				in += `,"missingValues":` + tc.missing
			}
			s, err := ParseJSON([]byte(in + "}"))
			if err != nil {
				t.Fatal(err)
			}
			c, err := Compile(s, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.IsMissing([]byte(tc.in)); got != tc.want {
				t.Fatalf("IsMissing(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
