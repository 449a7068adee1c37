package tableschema

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// Options tune Compile.
type Options struct {
	// NeutralizeFormulas prefixes string and any values that start with
	// = + - @ tab or CR with a ', so spreadsheets do not run them.
	NeutralizeFormulas bool
}

// Compiled is a checked schema ready to normalize values. It is read-only
// and safe for concurrent use.
type Compiled struct {
	// Fields are the schema's fields, in order.
	Fields []*Field
	// PrimaryKey holds the indexes of the primary key's fields, in key
	// order; empty when there is none.
	PrimaryKey []int
	// Unique holds the indexes of the fields with constraints.unique.
	Unique []int
	// MissingValues are the texts that mean "no value" ([""] unless the
	// schema says otherwise). Do not modify.
	MissingValues []string

	missingEmptyOnly bool
	missingSet       map[string]struct{}
}

// maxLinearMissing is the most missing values IsMissing compares one by
// one before it uses a map.
const maxLinearMissing = 8

// IsMissing reports whether v is one of the schema's missing values. The
// validator matches missing values on the raw value, before transforms; a
// value that a field's transforms leave empty (such as "  " with trim) is
// written as empty, and is a required-constraint error in a required field.
func (c *Compiled) IsMissing(v []byte) bool {
	if c.missingEmptyOnly {
		return len(v) == 0
	}
	if c.missingSet != nil {
		_, ok := c.missingSet[string(v)]
		return ok
	}
	for _, m := range c.MissingValues {
		if string(v) == m {
			return true
		}
	}
	return false
}

// kind is the compiled type and format of a field; Normalize switches on it.
type kind uint8

const (
	kindString kind = iota
	kindEmail
	kindURI
	kindUUID
	kindAny
	kindInteger
	kindNumber
	kindBoolean
	kindDate       // ISO
	kindTime       // ISO
	kindDatetime   // ISO
	kindDateLayout // patterns, after ISO when layoutISO
	kindTimeLayout // patterns, after ISO when layoutISO
	kindDatetimeLayout
	kindYear
	kindYearmonth
	kindDuration
)

// order is how minimum and maximum compare.
type order uint8

const (
	orderNone order = iota
	orderInt
	orderFloat
	orderTime
	orderDatetime
)

// scalar is a value in its type's order.
type scalar struct {
	i      int64   // integer; year; yearmonth as year*12+month; date as days since 1970; time as second of day; datetime as local seconds since 1970
	ns     int64   // times and datetimes: nanoseconds
	f      float64 // number
	off    int64   // datetimes: offset in seconds, when hasOff
	hasOff bool
}

// bound is a compiled minimum or maximum.
type bound struct {
	v    scalar
	text string // canonical
}

// Field is a compiled field. It is read-only and safe for concurrent use.
type Field struct {
	// Name is the field's name.
	Name string
	// Index is the field's 0-based position in the schema.
	Index int
	// Type is the field's type.
	Type typev1.FieldType
	// Required is constraints.required: a missing value is an error.
	Required bool
	// Unique is constraints.unique: non-missing values must not repeat.
	Unique bool

	kind       kind
	order      order
	plain      bool // no transforms, constraints or neutralization
	transforms []typev1.Transform
	neutralize bool

	// Numbers and integers.
	decimal     []byte
	group       []byte
	bare        bool
	plainNumber bool // bare, '.' decimal mark, no group
	// Booleans: nil means the defaults.
	trueValues, falseValues []string
	// Dates, times and datetimes.
	layouts   []*layout
	layoutISO bool
	format    string

	// Constraints.
	checks         bool // any of the below is set
	min, max       *bound
	minLen, maxLen int64 // -1 when unset
	re             *regexp.Regexp
	pattern        string
	enumList       []string            // canonical
	enumKeys       []string            // ValueKey of enumList
	enumSet        map[string]struct{} // of enumKeys
}

// maxLinearEnum is the most enum values Normalize compares one by one
// before it uses a map.
const maxLinearEnum = 8

// Check checks a schema's meaning and limits. It returns the first problem
// as a *SchemaError.
func Check(s *typev1.Schema) error {
	if _, err := compile(s, Options{}); err != nil {
		return err
	}
	return nil
}

// Compile checks s (as Check does) and compiles it.
func Compile(s *typev1.Schema, opts Options) (*Compiled, error) {
	c, err := compile(s, opts)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func compile(s *typev1.Schema, opts Options) (*Compiled, *SchemaError) {
	if s == nil {
		return nil, &SchemaError{Msg: "no schema"}
	}
	fds := s.GetFields()
	switch {
	case len(fds) == 0:
		return nil, schemaErr("fields", "the schema has no fields")
	case len(fds) > MaxFields:
		return nil, schemaErr("fields", "the schema has %d fields, more than %d", len(fds), MaxFields)
	}
	c := &Compiled{Fields: make([]*Field, len(fds))}
	byName := make(map[string]int, len(fds))
	for i, fd := range fds {
		f, err := compileField(i, fd, opts)
		if err != nil {
			return nil, err
		}
		if j, ok := byName[f.Name]; ok {
			return nil, fieldErr(i, f.Name, "name", "%q is also the name of fields[%d]", f.Name, j)
		}
		byName[f.Name] = i
		c.Fields[i] = f
		if f.Unique {
			c.Unique = append(c.Unique, i)
		}
	}
	inKey := map[string]bool{}
	for k, name := range s.GetPrimaryKey() {
		path := fmt.Sprintf("primaryKey[%d]", k)
		i, ok := byName[name]
		if !ok {
			return nil, schemaErr(path, "%q is not the name of a field", name)
		}
		if inKey[name] {
			return nil, schemaErr(path, "%q is in the key twice", name)
		}
		inKey[name] = true
		c.PrimaryKey = append(c.PrimaryKey, i)
	}
	if mv := s.GetMissingValues(); mv != nil {
		c.MissingValues = append([]string{}, mv.GetValues()...)
	} else {
		c.MissingValues = []string{""}
	}
	c.missingEmptyOnly = len(c.MissingValues) == 1 && c.MissingValues[0] == ""
	if len(c.MissingValues) > maxLinearMissing {
		c.missingSet = make(map[string]struct{}, len(c.MissingValues))
		for _, m := range c.MissingValues {
			c.missingSet[m] = struct{}{}
		}
	}
	return c, nil
}

// typeName returns the Table Schema name of t, or "" when t is not a type.
func typeName(t typev1.FieldType) string {
	switch t {
	case typev1.FieldType_FIELD_TYPE_STRING:
		return "string"
	case typev1.FieldType_FIELD_TYPE_INTEGER:
		return "integer"
	case typev1.FieldType_FIELD_TYPE_NUMBER:
		return "number"
	case typev1.FieldType_FIELD_TYPE_BOOLEAN:
		return "boolean"
	case typev1.FieldType_FIELD_TYPE_DATE:
		return "date"
	case typev1.FieldType_FIELD_TYPE_DATETIME:
		return "datetime"
	case typev1.FieldType_FIELD_TYPE_TIME:
		return "time"
	case typev1.FieldType_FIELD_TYPE_YEAR:
		return "year"
	case typev1.FieldType_FIELD_TYPE_YEARMONTH:
		return "yearmonth"
	case typev1.FieldType_FIELD_TYPE_DURATION:
		return "duration"
	case typev1.FieldType_FIELD_TYPE_ANY:
		return "any"
	}
	return ""
}

// transformName returns the JSON name of t, or "" when t is not a transform.
func transformName(t typev1.Transform) string {
	switch t {
	case typev1.Transform_TRANSFORM_TRIM:
		return "trim"
	case typev1.Transform_TRANSFORM_UPPER:
		return "upper"
	case typev1.Transform_TRANSFORM_LOWER:
		return "lower"
	}
	return ""
}

var (
	defaultTrueValues  = []string{"true", "True", "TRUE", "1"}
	defaultFalseValues = []string{"false", "False", "FALSE", "0"}
)

// oneChar checks a decimalChar or groupChar.
func oneChar(s string) error {
	if utf8.RuneCountInString(s) != 1 || !utf8.ValidString(s) {
		return fmt.Errorf("%q is not one character", s)
	}
	if c := s[0]; c-'0' <= 9 || c == '+' || c == '-' {
		return fmt.Errorf("%q cannot be a separator: it is a digit or a sign", s)
	}
	return nil
}

func compileField(i int, fd *typev1.Field, opts Options) (*Field, *SchemaError) {
	name := fd.GetName()
	errf := func(prop, format string, args ...any) *SchemaError {
		return fieldErr(i, name, prop, format, args...)
	}
	switch {
	case name == "":
		return nil, errf("name", "the name is empty")
	case len(name) > MaxNameBytes:
		return nil, errf("name", "the name is %d bytes long, more than %d", len(name), MaxNameBytes)
	}
	f := &Field{
		Name:   name,
		Index:  i,
		Type:   fd.GetType(),
		minLen: -1,
		maxLen: -1,
		format: fd.GetFormat(),
		bare:   fd.BareNumber == nil || *fd.BareNumber,
	}
	tn := typeName(f.Type)
	format := fd.GetFormat()
	plainFormat := func() *SchemaError {
		if format != "" && format != "default" {
			return errf("format", "%q is not a format of %s fields (only default)", format, tn)
		}
		return nil
	}
	var ferr *SchemaError
	switch f.Type {
	case typev1.FieldType_FIELD_TYPE_UNSPECIFIED:
		return nil, errf("type", "the type is unspecified")
	case typev1.FieldType_FIELD_TYPE_STRING:
		switch format {
		case "", "default":
			f.kind = kindString
		case "email":
			f.kind = kindEmail
		case "uri":
			f.kind = kindURI
		case "uuid":
			f.kind = kindUUID
		default:
			return nil, errf("format", "%q is not a format of string fields (default, email, uri, uuid)", format)
		}
	case typev1.FieldType_FIELD_TYPE_ANY:
		f.kind, ferr = kindAny, plainFormat()
	case typev1.FieldType_FIELD_TYPE_INTEGER:
		f.kind, f.order, ferr = kindInteger, orderInt, plainFormat()
	case typev1.FieldType_FIELD_TYPE_NUMBER:
		f.kind, f.order, ferr = kindNumber, orderFloat, plainFormat()
	case typev1.FieldType_FIELD_TYPE_BOOLEAN:
		f.kind, ferr = kindBoolean, plainFormat()
	case typev1.FieldType_FIELD_TYPE_YEAR:
		f.kind, f.order, ferr = kindYear, orderInt, plainFormat()
	case typev1.FieldType_FIELD_TYPE_YEARMONTH:
		f.kind, f.order, ferr = kindYearmonth, orderInt, plainFormat()
	case typev1.FieldType_FIELD_TYPE_DURATION:
		f.kind, ferr = kindDuration, plainFormat()
	case typev1.FieldType_FIELD_TYPE_DATE, typev1.FieldType_FIELD_TYPE_TIME, typev1.FieldType_FIELD_TYPE_DATETIME:
		tk, iso, layoutKind := tDate, kindDate, kindDateLayout
		f.order = orderInt
		if f.Type == typev1.FieldType_FIELD_TYPE_TIME {
			tk, iso, layoutKind, f.order = tTime, kindTime, kindTimeLayout, orderTime
		} else if f.Type == typev1.FieldType_FIELD_TYPE_DATETIME {
			tk, iso, layoutKind, f.order = tDatetime, kindDatetime, kindDatetimeLayout, orderDatetime
		}
		layouts, useISO, err := temporalFormat(format, tk)
		if err != nil {
			return nil, errf("format", "%v", err)
		}
		f.layouts, f.layoutISO = layouts, useISO
		f.kind = iso
		if len(layouts) > 0 {
			f.kind = layoutKind
		}
	default:
		return nil, errf("type", "type %d is unknown", int32(f.Type))
	}
	if ferr != nil {
		return nil, ferr
	}

	// Options.
	f.decimal = []byte(".")
	if d := fd.GetDecimalChar(); d != "" {
		if err := oneChar(d); err != nil {
			return nil, errf("decimalChar", "%v", err)
		}
		f.decimal = []byte(d)
	}
	if g := fd.GetGroupChar(); g != "" {
		if err := oneChar(g); err != nil {
			return nil, errf("groupChar", "%v", err)
		}
		if g == string(f.decimal) {
			return nil, errf("groupChar", "%q is also the decimal mark (decimalChar)", g)
		}
		f.group = []byte(g)
	}
	if len(fd.GetTrueValues()) > 0 || len(fd.GetFalseValues()) > 0 {
		f.trueValues, f.falseValues = defaultTrueValues, defaultFalseValues
		if len(fd.GetTrueValues()) > 0 {
			f.trueValues = fd.GetTrueValues()
		}
		if len(fd.GetFalseValues()) > 0 {
			f.falseValues = fd.GetFalseValues()
		}
		for _, fv := range f.falseValues {
			for _, tv := range f.trueValues {
				if fv == tv {
					return nil, errf("falseValues", "%q is both a true and a false value", fv)
				}
			}
		}
	}
	for k, t := range fd.GetTransforms() {
		switch {
		case t == typev1.Transform_TRANSFORM_UNSPECIFIED:
			return nil, errf(fmt.Sprintf("transforms[%d]", k), "the transform is unspecified")
		case transformName(t) == "":
			return nil, errf(fmt.Sprintf("transforms[%d]", k), "transform %d is unknown", int32(t))
		}
	}
	f.transforms = fd.GetTransforms()
	f.neutralize = opts.NeutralizeFormulas && (f.kind == kindString || f.kind == kindEmail ||
		f.kind == kindURI || f.kind == kindUUID || f.kind == kindAny)

	f.plainNumber = f.bare && f.group == nil && string(f.decimal) == "."
	f.plain = len(f.transforms) == 0 && !f.neutralize

	// Constraints.
	c := fd.GetConstraints()
	if c == nil {
		return f, nil
	}
	f.Required, f.Unique = c.GetRequired(), c.GetUnique()
	isString := f.Type == typev1.FieldType_FIELD_TYPE_STRING
	notFor := func(prop string) *SchemaError {
		return errf("constraints."+prop, "%s does not apply to %s fields", prop, tn)
	}
	if c.MinLength != nil || c.MaxLength != nil {
		if !isString {
			if c.MinLength != nil {
				return nil, notFor("minLength")
			}
			return nil, notFor("maxLength")
		}
		if c.MinLength != nil {
			if f.minLen = c.GetMinLength(); f.minLen < 0 {
				return nil, errf("constraints.minLength", "%d is negative", f.minLen)
			}
		}
		if c.MaxLength != nil {
			if f.maxLen = c.GetMaxLength(); f.maxLen < 0 {
				return nil, errf("constraints.maxLength", "%d is negative", f.maxLen)
			}
		}
		if f.minLen >= 0 && f.maxLen >= 0 && f.minLen > f.maxLen {
			return nil, errf("constraints.minLength", "%d is greater than the maxLength %d", f.minLen, f.maxLen)
		}
	}
	if p := c.GetPattern(); p != "" {
		if !isString {
			return nil, notFor("pattern")
		}
		if len(p) > MaxPatternBytes {
			return nil, errf("constraints.pattern", "the pattern is %d bytes long, more than %d", len(p), MaxPatternBytes)
		}
		if _, err := regexp.Compile(p); err != nil {
			return nil, errf("constraints.pattern", "%q does not compile: %v", p, err)
		}
		re, err := regexp.Compile(`^(?:` + p + `)$`)
		if err != nil {
			return nil, errf("constraints.pattern", "%q does not compile as a whole-value match: %v", p, err)
		}
		f.re, f.pattern = re, p
	}
	if c.Minimum != nil || c.Maximum != nil {
		if f.order == orderNone {
			if c.Minimum != nil {
				return nil, notFor("minimum")
			}
			return nil, notFor("maximum")
		}
		var err *SchemaError
		if c.Minimum != nil {
			if f.min, err = f.compileBound(c.GetMinimum(), errf, "constraints.minimum"); err != nil {
				return nil, err
			}
		}
		if c.Maximum != nil {
			if f.max, err = f.compileBound(c.GetMaximum(), errf, "constraints.maximum"); err != nil {
				return nil, err
			}
		}
		if f.min != nil && f.max != nil && f.compare(f.min.v, f.max.v) > 0 {
			return nil, errf("constraints.minimum", "%s is greater than the maximum %s", f.min.text, f.max.text)
		}
	}
	if ev := c.GetEnumValues(); len(ev) > 0 {
		if len(ev) > MaxEnumValues {
			return nil, errf("constraints.enum", "%d values, more than %d", len(ev), MaxEnumValues)
		}
		f.enumList = make([]string, len(ev))
		for k, e := range ev {
			canon, ve := f.parseConstant(applyTransforms(nil, []byte(e), f.transforms))
			if ve != nil {
				return nil, errf(fmt.Sprintf("constraints.enum[%d]", k), "%s", ve.Msg)
			}
			f.enumList[k] = string(canon)
		}
		f.enumKeys = f.enumList
		if f.valueKeyed() {
			f.enumKeys = make([]string, len(ev))
			for k, e := range f.enumList {
				f.enumKeys[k] = string(f.ValueKey(nil, []byte(e)))
			}
		}
		if len(ev) > maxLinearEnum {
			f.enumSet = make(map[string]struct{}, len(ev))
			for _, e := range f.enumKeys {
				f.enumSet[e] = struct{}{}
			}
		}
	}
	f.checks = f.min != nil || f.max != nil || f.minLen >= 0 || f.maxLen >= 0 || f.re != nil || f.enumList != nil
	f.plain = f.plain && !f.checks
	return f, nil
}

// compileBound reads a minimum or maximum.
func (f *Field) compileBound(text string, errf func(prop, format string, args ...any) *SchemaError, prop string) (*bound, *SchemaError) {
	canon, ve := f.parseConstant([]byte(text))
	if ve != nil {
		return nil, errf(prop, "%s", ve.Msg)
	}
	var sc scalar
	f.canonicalTwin().appendValue(nil, canon, &sc)
	return &bound{v: sc, text: string(canon)}, nil
}

// canonicalTwin returns a field of f's type and format family that reads
// only canonical forms: '.' decimals, no groups, the default booleans and
// ISO temporal forms.
func (f *Field) canonicalTwin() *Field {
	t := &Field{Name: f.Name, Type: f.Type, kind: f.kind, order: f.order, decimal: []byte("."), bare: true, plainNumber: true}
	switch f.kind {
	case kindDateLayout:
		t.kind = kindDate
	case kindTimeLayout:
		t.kind = kindTime
	case kindDatetimeLayout:
		t.kind = kindDatetime
	}
	return t
}

// parseConstant reads a constraint value: in canonical form first, then in
// the field's lexical form. It returns the canonical form.
func (f *Field) parseConstant(v []byte) ([]byte, *ValueError) {
	if out, code := f.canonicalTwin().appendValue(nil, v, nil); code == valueOK {
		return out, nil
	}
	out, code := f.appendValue(nil, v, nil)
	if code != valueOK {
		return nil, f.typeError(v, code)
	}
	return out, nil
}

// describeFormat is the format part of a type error message.
func (f *Field) describeFormat() string {
	switch f.kind {
	case kindDate:
		return " (YYYY-MM-DD)"
	case kindTime:
		return " (HH:MM:SS[.fraction])"
	case kindDatetime:
		return " (YYYY-MM-DDTHH:MM:SS[.fraction][Z|±hh:mm])"
	case kindDateLayout, kindTimeLayout, kindDatetimeLayout:
		if f.layoutISO {
			return " in any known form"
		}
		return fmt.Sprintf(" in the format %q", f.format)
	}
	return ""
}

// typeError builds the type error of value v.
func (f *Field) typeError(v []byte, code errCode) *ValueError {
	q := quote(v)
	switch f.kind {
	case kindEmail:
		return typeError("%s is not an email address", q)
	case kindURI:
		return typeError("%s is not an absolute URI", q)
	case kindUUID:
		return typeError("%s is not a UUID", q)
	case kindInteger:
		if code == valueRange {
			return typeError("%s is out of the 64-bit integer range", q)
		}
		return typeError("%s is not an integer", q)
	case kindNumber:
		return typeError("%s is not a number", q)
	case kindBoolean:
		tv, fv := f.trueValues, f.falseValues
		if tv == nil {
			tv, fv = defaultTrueValues, defaultFalseValues
		}
		return typeError("%s is not a boolean (true: %s; false: %s)", q, quoteList(tv, 10), quoteList(fv, 10))
	case kindDate, kindDateLayout:
		return typeError("%s is not a date%s", q, f.describeFormat())
	case kindTime, kindTimeLayout:
		return typeError("%s is not a time%s", q, f.describeFormat())
	case kindDatetime, kindDatetimeLayout:
		return typeError("%s is not a datetime%s", q, f.describeFormat())
	case kindYear:
		return typeError("%s is not a year (YYYY)", q)
	case kindYearmonth:
		return typeError("%s is not a year and month (YYYY-MM)", q)
	case kindDuration:
		return typeError("%s is not an ISO 8601 duration (such as P1DT2H30M)", q)
	}
	return typeError("%s is not a %s", q, typeName(f.Type))
}

// quoteList quotes at most max of vs, joined by ", ".
func quoteList(vs []string, max int) string {
	var b strings.Builder
	for k, v := range vs {
		if k == max {
			fmt.Fprintf(&b, ", ... (%d in all)", len(vs))
			break
		}
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote([]byte(v)))
	}
	return b.String()
}
