// Package tableschema reads, writes, checks and compiles Frictionless Table
// Schemas (https://specs.frictionlessdata.io/table-schema/), and normalizes
// CSV values against a compiled schema on the validator's hot path.
//
// # JSON
//
// ParseJSON reads Table Schema JSON (spec v1, with the v2 field properties
// listed below) into a *typev1.Schema and checks it; MarshalJSON writes one
// back. Supported properties:
//
//   - schema: fields, missingValues (an array of strings), primaryKey (a
//     string or an array of strings);
//   - field: name (required), type (missing means "string"), format, title,
//     description, constraints, trueValues, falseValues, decimalChar,
//     groupChar, bareNumber, and csvmesh's transforms (an array of "trim",
//     "upper", "lower", applied in order; missingValues are matched on the
//     raw value, before transforms, and a value the transforms leave empty
//     is empty in the output and fails required);
//   - constraints: required, unique, minimum, maximum, minLength, maxLength,
//     pattern, enum. minimum, maximum and enum values may be JSON strings,
//     numbers or booleans; they are kept as text (a number as written in the
//     JSON, so 1.50 and 1e3 stay "1.50" and "1e3").
//
// Other properties are ignored, as Frictionless allows custom ones, except
// those csvmesh knows but cannot honour, which are errors rather than silently
// weaker checks: a field's missingValues and categories, the constraints
// exclusiveMinimum, exclusiveMaximum and jsonSchema, and the schema's
// uniqueKeys. A known property of the wrong JSON type (null included) is an
// error. The types object, array, list, geopoint and geojson are not
// supported.
//
// # Check
//
// Check reports the first problem of a schema as a *SchemaError naming the
// field (index and name) and what is wrong. Limits: at most MaxFields fields,
// names of at most MaxNameBytes bytes, patterns of at most MaxPatternBytes
// bytes and at most MaxEnumValues enum values. Constraints apply by type:
//
//	required, unique, enum        every type
//	minLength, maxLength, pattern string
//	minimum, maximum              integer, number, date, time, datetime,
//	                              year, yearmonth
//
// A minimum, maximum or enum value is read first in the type's canonical form
// (below; JSON numbers are canonical numbers) and, failing that, in the
// field's own lexical form (its format, decimalChar, groupChar, bareNumber,
// trueValues and falseValues). Enum values are normalized once, transforms
// included, and values are compared with them in canonical form.
//
// # Formats
//
// Strings: default, email (exactly one @, a non-empty local part, a domain
// with a dot that neither starts nor ends with one, and no white space or
// control characters), uri (an absolute URI with a scheme, as net/url parses
// it, without white space or control characters) and uuid (8-4-4-4-12 hexadecimal digits, either case). Every other type
// takes only default (or no format), except dates, times and datetimes:
//
//   - default: date `2006-01-02`; time `15:04:05` with an optional fraction of
//     1 to 9 digits; datetime `2006-01-02T15:04:05` (a space may replace the
//     T) with an optional fraction of 1 to 9 digits and an optional offset
//     `Z`, `±hh:mm` or `±hhmm`. Seconds are required and 60 is not a second.
//   - any: the default form, then, in order, for dates `%Y/%m/%d`, `%Y%m%d`,
//     `%d %b %Y`, `%d %B %Y`, `%d-%b-%Y`, `%b %d %Y`, `%b %d, %Y`,
//     `%B %d %Y`, `%B %d, %Y`; for times `%H:%M`, `%I:%M %p`, `%I:%M:%S %p`,
//     `%I:%M%p`, `%I:%M:%S%p`; for datetimes `%Y-%m-%dT%H:%M%z`,
//     `%Y-%m-%dT%H:%M`, `%Y-%m-%d %H:%M%z`, `%Y-%m-%d %H:%M`,
//     `%Y/%m/%d %H:%M:%S.%f`, `%Y/%m/%d %H:%M:%S`, `%Y/%m/%d %H:%M`,
//     `%Y%m%dT%H%M%S%z`, `%Y%m%dT%H%M%S`. Day-first and month-first numeric
//     forms such as 01/02/2006 are deliberately absent, being ambiguous: give
//     a pattern for them.
//   - a strftime pattern (the legacy `fmt:` prefix is dropped): %Y (4
//     digits), %y (2 digits: 69-99 are 1969-1999, 00-68 are 2000-2068), %m,
//     %d, %H, %I, %M, %S (1 or 2 digits, read greedily), %e (day, 1 or 2
//     digits after an optional space), %p (AM or PM, any case), %f (1 to 9
//     fraction digits), %z (Z, ±hhmm or ±hh:mm), %Z (UTC or Z), %b and %B
//     (English month abbreviations and names, any case), %a and %A (English
//     weekday abbreviations and names, any case, read but not checked against
//     the date), %% and literal text, matched exactly. Dates take the date
//     directives, times the time ones (%H %I %p %M %S %f), datetimes both and
//     %z %Z. A pattern must give a whole date (year, month, day) and/or an
//     hour, as its type needs; %I needs %p, %f needs %S, %S needs %M.
//
// # Normalization
//
// Compile turns a checked schema into a *Compiled whose Fields normalize
// values: Field.Normalize applies the transforms (trim removes Unicode white
// space; upper and lower map each rune as bytes.ToUpper and bytes.ToLower do),
// checks the type, the format and the constraints minimum, maximum,
// minLength, maxLength (in characters), pattern (RE2, matched against the
// whole value after transforms) and enum, and appends the canonical text:
//
//	integer    -123: no '+', no leading zeros, no group characters, "-0" is
//	           "0"; the value must fit in an int64
//	number     -0.5, 1.25e-7: '.' as decimal mark, no '+', no group
//	           characters, no leading zeros ("0" before a bare fraction), a
//	           bare trailing decimal mark dropped, fraction digits as written,
//	           exponent as 'e', an optional '-' and digits without leading
//	           zeros; NaN, INF, Infinity (any case, infinities signed or not)
//	           are "NaN", "inf", "-inf"
//	boolean    true, false
//	date       2006-01-02
//	time       15:04:05[.fraction as written]
//	datetime   2006-01-02T15:04:05[.fraction as written][Z|±hh:mm]: the
//	           offset is kept as given (UTC is written Z), none stays none
//	year       2024 (exactly four digits)
//	yearmonth  2024-03
//	duration   as given: ISO 8601 [-]PnYnMnDTnHnMnS or PnW, the last
//	           component may have a fraction ('.' or ',')
//	string     as given; with Options.NeutralizeFormulas a value starting
//	any        with = + - @ tab or CR gets a leading '
//
// Numbers and integers with bareNumber false lose leading characters other
// than digits, signs and the decimal mark and trailing characters other than
// digits ("$-1,000.50 USD" is -1000.50 with groupChar ","). Only strings and
// any keep surrounding white space; other types reject it unless the field
// trims it.
//
// Minimum and maximum compare in the type's order: integers as int64,
// numbers as float64 (NaN fails both bounds), dates, times, years and
// yearmonths chronologically. Two datetimes that both have an offset compare
// as instants (in UTC); otherwise they compare as written, their local
// date and time, offsets ignored.
package tableschema

// Error types of a validation report, as Frictionless names them, plus
// csvmesh's malformed-row.
const (
	// ErrTypeBlankRow is a row whose cells are all empty.
	ErrTypeBlankRow = "blank-row"
	// ErrTypeExtraCell is a cell beyond the schema's fields.
	ErrTypeExtraCell = "extra-cell"
	// ErrTypeMissingCell is a row with fewer cells than the schema has fields.
	ErrTypeMissingCell = "missing-cell"
	// ErrTypeTypeError is a value that is not of its field's type or format.
	ErrTypeTypeError = "type-error"
	// ErrTypeConstraintError is a value that breaks a field constraint.
	ErrTypeConstraintError = "constraint-error"
	// ErrTypeUniqueError is a value repeated in a unique field.
	ErrTypeUniqueError = "unique-error"
	// ErrTypePrimaryKey is a repeated or missing primary key.
	ErrTypePrimaryKey = "primary-key"
	// ErrTypeEncodingError is a value that is not valid in the file's
	// encoding.
	ErrTypeEncodingError = "encoding-error"
	// ErrTypeMalformedRow is a row that cannot be split into cells: bad
	// quoting, an over-long field or record.
	ErrTypeMalformedRow = "malformed-row"
)

// Limits on a schema.
const (
	// MaxFields is the largest number of fields a schema may have.
	MaxFields = 16384
	// MaxNameBytes is the longest field name, in bytes.
	MaxNameBytes = 1024
	// MaxPatternBytes is the longest constraints.pattern, in bytes.
	MaxPatternBytes = 4096
	// MaxEnumValues is the largest number of constraints.enum values.
	MaxEnumValues = 10000
)
