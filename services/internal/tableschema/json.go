package tableschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// ParseJSON reads Table Schema JSON into a typed schema and checks it (see
// Check), so a schema it returns compiles. Every error is a *SchemaError.
func ParseJSON(data []byte) (*typev1.Schema, error) {
	s, err := parseJSON(data)
	if err != nil {
		return nil, err
	}
	if err := Check(s); err != nil {
		return nil, err
	}
	return s, nil
}

type jsonObject map[string]json.RawMessage

// jsonKind names the JSON type of raw for a message.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func isJSON(raw json.RawMessage, first byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == first
}

// reader reads the properties of one JSON object, reporting problems with
// errf(prop, ...).
type reader struct {
	obj  jsonObject
	errf func(prop, format string, args ...any) *SchemaError
	// prefix goes before every property name in an error, such as
	// "constraints.".
	prefix string
}

func (r *reader) wrongType(key, want string, raw json.RawMessage) *SchemaError {
	return r.errf(r.prefix+key, "must be %s, not %s", want, jsonKind(raw))
}

func (r *reader) str(key string) (string, bool, *SchemaError) {
	raw, ok := r.obj[key]
	if !ok {
		return "", false, nil
	}
	var s string
	if !isJSON(raw, '"') || json.Unmarshal(raw, &s) != nil {
		return "", false, r.wrongType(key, "a string", raw)
	}
	return s, true, nil
}

func (r *reader) boolean(key string) (bool, bool, *SchemaError) {
	raw, ok := r.obj[key]
	if !ok {
		return false, false, nil
	}
	switch string(bytes.TrimSpace(raw)) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, r.wrongType(key, "a boolean", raw)
}

func (r *reader) integer(key string) (*int64, *SchemaError) {
	raw, ok := r.obj[key]
	if !ok {
		return nil, nil
	}
	t := string(bytes.TrimSpace(raw))
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		if jsonKind(raw) == "a number" {
			return nil, r.errf(r.prefix+key, "must be an integer, not %s", t)
		}
		return nil, r.wrongType(key, "an integer", raw)
	}
	return &n, nil
}

func (r *reader) strings(key string) ([]string, bool, *SchemaError) {
	raw, ok := r.obj[key]
	if !ok {
		return nil, false, nil
	}
	var items []json.RawMessage
	if !isJSON(raw, '[') || json.Unmarshal(raw, &items) != nil {
		return nil, false, r.wrongType(key, "an array of strings", raw)
	}
	out := make([]string, len(items))
	for k, it := range items {
		if !isJSON(it, '"') || json.Unmarshal(it, &out[k]) != nil {
			return nil, false, r.errf(fmt.Sprintf("%s%s[%d]", r.prefix, key, k), "must be a string, not %s", jsonKind(it))
		}
	}
	return out, true, nil
}

// constant reads a string, number or boolean as text; prop names it in
// errors.
func (r *reader) constant(prop string, raw json.RawMessage) (string, *SchemaError) {
	raw = bytes.TrimSpace(raw)
	switch jsonKind(raw) {
	case "a string":
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, nil
		}
	case "a number", "a boolean":
		return string(raw), nil
	}
	return "", r.errf(r.prefix+prop, "must be a string, number or boolean, not %s", jsonKind(raw))
}

// unsupported rejects properties csvmesh knows but cannot honour.
func (r *reader) unsupported(keys ...string) *SchemaError {
	for _, k := range keys {
		if _, ok := r.obj[k]; ok {
			return r.errf(r.prefix+k, "%s is not supported by csvmesh", k)
		}
	}
	return nil
}

func parseJSON(data []byte) (*typev1.Schema, *SchemaError) {
	var top jsonObject
	if err := json.Unmarshal(data, &top); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, &SchemaError{Msg: fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, err)}
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return nil, &SchemaError{Msg: fmt.Sprintf("the schema must be a JSON object, not %s", jsonKind(data))}
		}
		return nil, &SchemaError{Msg: fmt.Sprintf("invalid JSON: %v", err)}
	}
	if top == nil {
		return nil, &SchemaError{Msg: "the schema must be a JSON object, not null"}
	}
	r := &reader{obj: top, errf: func(prop, format string, args ...any) *SchemaError {
		return schemaErr(prop, format, args...)
	}}
	if err := r.unsupported("uniqueKeys"); err != nil {
		return nil, err
	}
	s := &typev1.Schema{}
	raw, ok := top["fields"]
	if !ok {
		return nil, schemaErr("fields", "the schema has no fields property")
	}
	var items []json.RawMessage
	if !isJSON(raw, '[') || json.Unmarshal(raw, &items) != nil {
		return nil, r.wrongType("fields", "an array of objects", raw)
	}
	if len(items) > MaxFields {
		return nil, schemaErr("fields", "the schema has %d fields, more than %d", len(items), MaxFields)
	}
	for i, it := range items {
		f, err := parseField(i, it)
		if err != nil {
			return nil, err
		}
		s.Fields = append(s.Fields, f)
	}
	if mv, ok, err := r.strings("missingValues"); err != nil {
		return nil, err
	} else if ok {
		s.MissingValues = &typev1.MissingValues{Values: mv}
	}
	if raw, ok := top["primaryKey"]; ok {
		if isJSON(raw, '"') {
			pk, _, err := r.str("primaryKey")
			if err != nil {
				return nil, err
			}
			s.PrimaryKey = []string{pk}
		} else {
			pk, _, err := r.strings("primaryKey")
			if err != nil {
				if !isJSON(raw, '[') {
					return nil, r.wrongType("primaryKey", "a string or an array of strings", raw)
				}
				return nil, err
			}
			s.PrimaryKey = pk
		}
	}
	return s, nil
}

// typesByName maps Table Schema type names to types.
func typeByName(name string) (typev1.FieldType, bool) {
	for t := typev1.FieldType_FIELD_TYPE_STRING; t <= typev1.FieldType_FIELD_TYPE_ANY; t++ {
		if typeName(t) == name {
			return t, true
		}
	}
	return 0, false
}

func parseField(i int, raw json.RawMessage) (*typev1.Field, *SchemaError) {
	path := fmt.Sprintf("fields[%d]", i)
	var obj jsonObject
	if !isJSON(raw, '{') || json.Unmarshal(raw, &obj) != nil {
		return nil, &SchemaError{Path: path, Msg: fmt.Sprintf("%s: must be an object, not %s", path, jsonKind(raw))}
	}
	nameRaw, ok := obj["name"]
	if !ok {
		return nil, &SchemaError{Path: path + ".name", Msg: path + ": name: the name is missing"}
	}
	var name string
	if !isJSON(nameRaw, '"') || json.Unmarshal(nameRaw, &name) != nil {
		return nil, &SchemaError{Path: path + ".name", Msg: fmt.Sprintf("%s: name: must be a string, not %s", path, jsonKind(nameRaw))}
	}
	r := &reader{obj: obj, errf: func(prop, format string, args ...any) *SchemaError {
		return fieldErr(i, name, prop, format, args...)
	}}
	if err := r.unsupported("missingValues", "categories"); err != nil {
		return nil, err
	}
	f := &typev1.Field{Name: name, Type: typev1.FieldType_FIELD_TYPE_STRING}
	var err *SchemaError
	if tn, ok, err := r.str("type"); err != nil {
		return nil, err
	} else if ok {
		t, known := typeByName(tn)
		if !known {
			return nil, r.errf("type", "%q is not a supported type (string, number, integer, boolean, date, time, datetime, year, yearmonth, duration, any)", tn)
		}
		f.Type = t
	}
	for _, p := range []struct {
		key string
		dst *string
	}{{"format", &f.Format}, {"title", &f.Title}, {"description", &f.Description}, {"decimalChar", &f.DecimalChar}, {"groupChar", &f.GroupChar}} {
		if *p.dst, _, err = r.str(p.key); err != nil {
			return nil, err
		}
	}
	if f.TrueValues, _, err = r.strings("trueValues"); err != nil {
		return nil, err
	}
	if f.FalseValues, _, err = r.strings("falseValues"); err != nil {
		return nil, err
	}
	if b, ok, err := r.boolean("bareNumber"); err != nil {
		return nil, err
	} else if ok {
		f.BareNumber = &b
	}
	ts, _, err := r.strings("transforms")
	if err != nil {
		return nil, err
	}
	for k, t := range ts {
		var tr typev1.Transform
		switch t {
		case "trim":
			tr = typev1.Transform_TRANSFORM_TRIM
		case "upper":
			tr = typev1.Transform_TRANSFORM_UPPER
		case "lower":
			tr = typev1.Transform_TRANSFORM_LOWER
		default:
			return nil, r.errf(fmt.Sprintf("transforms[%d]", k), "%q is not a transform (trim, upper, lower)", t)
		}
		f.Transforms = append(f.Transforms, tr)
	}
	if raw, ok := obj["constraints"]; ok {
		if f.Constraints, err = parseConstraints(r, raw); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func parseConstraints(fr *reader, raw json.RawMessage) (*typev1.FieldConstraints, *SchemaError) {
	var obj jsonObject
	if !isJSON(raw, '{') || json.Unmarshal(raw, &obj) != nil {
		return nil, fr.wrongType("constraints", "an object", raw)
	}
	r := &reader{obj: obj, errf: fr.errf, prefix: "constraints."}
	if err := r.unsupported("exclusiveMinimum", "exclusiveMaximum", "jsonSchema"); err != nil {
		return nil, err
	}
	c := &typev1.FieldConstraints{}
	var err *SchemaError
	if c.Required, _, err = r.boolean("required"); err != nil {
		return nil, err
	}
	if c.Unique, _, err = r.boolean("unique"); err != nil {
		return nil, err
	}
	if c.MinLength, err = r.integer("minLength"); err != nil {
		return nil, err
	}
	if c.MaxLength, err = r.integer("maxLength"); err != nil {
		return nil, err
	}
	if c.Pattern, _, err = r.str("pattern"); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		key string
		dst **string
	}{{"minimum", &c.Minimum}, {"maximum", &c.Maximum}} {
		raw, ok := obj[p.key]
		if !ok {
			continue
		}
		s, err := r.constant(p.key, raw)
		if err != nil {
			return nil, err
		}
		*p.dst = &s
	}
	if raw, ok := obj["enum"]; ok {
		var items []json.RawMessage
		if !isJSON(raw, '[') || json.Unmarshal(raw, &items) != nil {
			return nil, r.wrongType("enum", "an array", raw)
		}
		if len(items) > MaxEnumValues {
			return nil, r.errf("constraints.enum", "%d values, more than %d", len(items), MaxEnumValues)
		}
		c.EnumValues = make([]string, len(items))
		for k, it := range items {
			if c.EnumValues[k], err = r.constant(fmt.Sprintf("enum[%d]", k), it); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// The JSON shapes MarshalJSON writes, in key order.
type (
	jsonSchemaOut struct {
		Fields        []jsonFieldOut `json:"fields"`
		MissingValues *[]string      `json:"missingValues,omitempty"`
		PrimaryKey    []string       `json:"primaryKey,omitempty"`
	}
	jsonFieldOut struct {
		Name        string              `json:"name"`
		Type        string              `json:"type"`
		Format      string              `json:"format,omitempty"`
		Title       string              `json:"title,omitempty"`
		Description string              `json:"description,omitempty"`
		Constraints *jsonConstraintsOut `json:"constraints,omitempty"`
		TrueValues  []string            `json:"trueValues,omitempty"`
		FalseValues []string            `json:"falseValues,omitempty"`
		DecimalChar string              `json:"decimalChar,omitempty"`
		GroupChar   string              `json:"groupChar,omitempty"`
		BareNumber  *bool               `json:"bareNumber,omitempty"`
		Transforms  []string            `json:"transforms,omitempty"`
	}
	jsonConstraintsOut struct {
		Required  bool              `json:"required,omitempty"`
		Unique    bool              `json:"unique,omitempty"`
		MinLength *int64            `json:"minLength,omitempty"`
		MaxLength *int64            `json:"maxLength,omitempty"`
		Minimum   json.RawMessage   `json:"minimum,omitempty"`
		Maximum   json.RawMessage   `json:"maximum,omitempty"`
		Pattern   string            `json:"pattern,omitempty"`
		Enum      []json.RawMessage `json:"enum,omitempty"`
	}
)

// isJSONNumber reports whether s is a JSON number literal.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && s[i]-'0' <= 9 {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i]-'0' <= 9 {
			i++
		}
		if i == fs {
			return false
		}
	}
	if i < len(s) && s[i]|0x20 == 'e' {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		es := i
		for i < len(s) && s[i]-'0' <= 9 {
			i++
		}
		if i == es {
			return false
		}
	}
	return i == len(s)
}

// constantJSON writes a constraint value: a JSON number for numeric types
// when it is one, a JSON boolean for booleans when it is true or false, and
// a JSON string otherwise. ParseJSON reads any of them back as s.
func constantJSON(t typev1.FieldType, s string) json.RawMessage {
	switch t {
	case typev1.FieldType_FIELD_TYPE_INTEGER, typev1.FieldType_FIELD_TYPE_NUMBER, typev1.FieldType_FIELD_TYPE_YEAR:
		if isJSONNumber(s) {
			return json.RawMessage(s)
		}
	case typev1.FieldType_FIELD_TYPE_BOOLEAN:
		if s == "true" || s == "false" {
			return json.RawMessage(s)
		}
	}
	b, _ := marshalNoEscape(s)
	return b
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// MarshalJSON writes s as Table Schema JSON: indented by two spaces, keys in
// a fixed order, properties at their defaults left out (a set but empty
// constraints object, an explicit bareNumber and a set missingValues are
// kept, so ParseJSON gives back an equal schema). It fails only for what
// JSON cannot express: an unspecified or unknown type or transform.
func MarshalJSON(s *typev1.Schema) ([]byte, error) {
	if s == nil {
		return nil, &SchemaError{Msg: "no schema"}
	}
	out := jsonSchemaOut{Fields: make([]jsonFieldOut, len(s.GetFields())), PrimaryKey: s.GetPrimaryKey()}
	if mv := s.GetMissingValues(); mv != nil {
		vals := append([]string{}, mv.GetValues()...)
		out.MissingValues = &vals
	}
	for i, fd := range s.GetFields() {
		tn := typeName(fd.GetType())
		if tn == "" {
			return nil, fieldErr(i, fd.GetName(), "type", "type %s cannot be written as JSON", fd.GetType())
		}
		jf := jsonFieldOut{
			Name: fd.GetName(), Type: tn, Format: fd.GetFormat(), Title: fd.GetTitle(), Description: fd.GetDescription(),
			TrueValues: fd.GetTrueValues(), FalseValues: fd.GetFalseValues(),
			DecimalChar: fd.GetDecimalChar(), GroupChar: fd.GetGroupChar(), BareNumber: fd.BareNumber,
		}
		for k, t := range fd.GetTransforms() {
			name := transformName(t)
			if name == "" {
				return nil, fieldErr(i, fd.GetName(), fmt.Sprintf("transforms[%d]", k), "transform %s cannot be written as JSON", t)
			}
			jf.Transforms = append(jf.Transforms, name)
		}
		if c := fd.GetConstraints(); c != nil {
			jc := &jsonConstraintsOut{
				Required: c.GetRequired(), Unique: c.GetUnique(),
				MinLength: c.MinLength, MaxLength: c.MaxLength, Pattern: c.GetPattern(),
			}
			if c.Minimum != nil {
				jc.Minimum = constantJSON(fd.GetType(), c.GetMinimum())
			}
			if c.Maximum != nil {
				jc.Maximum = constantJSON(fd.GetType(), c.GetMaximum())
			}
			for _, e := range c.GetEnumValues() {
				jc.Enum = append(jc.Enum, constantJSON(fd.GetType(), e))
			}
			jf.Constraints = jc
		}
		out.Fields[i] = jf
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("table schema: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
