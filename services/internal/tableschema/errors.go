package tableschema

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// SchemaError is a problem with a schema: its JSON form or its meaning.
type SchemaError struct {
	// Path locates the problem, such as `fields[2]`,
	// `fields[2].constraints.minimum`, `primaryKey[0]` or `fields`; it is
	// empty for a problem with the whole document.
	Path string
	// Msg names the field (index and name) and says what is wrong, such as
	// `fields[2] ("price"): constraints.minimum: "abc" is not a number`.
	Msg string
}

// Error implements error.
func (e *SchemaError) Error() string { return "table schema: " + e.Msg }

// fieldErr builds the SchemaError of field i, named name, at the property
// path prop (relative to the field; empty for the field itself).
func fieldErr(i int, name, prop, format string, args ...any) *SchemaError {
	path := fmt.Sprintf("fields[%d]", i)
	msg := fmt.Sprintf("fields[%d] (%s): ", i, quote([]byte(name)))
	if prop != "" {
		path += "." + prop
		msg += prop + ": "
	}
	return &SchemaError{Path: path, Msg: msg + fmt.Sprintf(format, args...)}
}

// schemaErr builds a SchemaError about a schema-level property.
func schemaErr(path, format string, args ...any) *SchemaError {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	return &SchemaError{Path: path, Msg: msg}
}

// ValueError is a value that Field.Normalize rejects.
type ValueError struct {
	// Type is ErrTypeTypeError or ErrTypeConstraintError.
	Type string
	// Constraint names the broken constraint (`minimum`, `maximum`,
	// `minLength`, `maxLength`, `pattern` or `enum`); empty for a type error.
	Constraint string
	// Msg is the whole message, such as `"12x" is not a number` or
	// `3 is less than the minimum 5`. Values in it are cut to 256 bytes.
	Msg string
}

// Error implements error.
func (e *ValueError) Error() string { return e.Msg }

// maxShownValue is how many bytes of a value a message shows.
const maxShownValue = 256

// cut returns at most maxShownValue bytes of v, ending on a rune boundary.
func cut(v []byte) []byte {
	if len(v) <= maxShownValue {
		return v
	}
	n := maxShownValue
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n]
}

// quote quotes v, cut to maxShownValue bytes, for a message.
func quote(v []byte) string { return strconv.Quote(string(cut(v))) }

func typeError(format string, args ...any) *ValueError {
	return &ValueError{Type: ErrTypeTypeError, Msg: fmt.Sprintf(format, args...)}
}

func constraintError(constraint, format string, args ...any) *ValueError {
	return &ValueError{Type: ErrTypeConstraintError, Constraint: constraint, Msg: fmt.Sprintf(format, args...)}
}
