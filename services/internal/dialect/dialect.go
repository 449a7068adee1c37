// Package dialect finds how a CSV file is written: its text encoding, its
// delimiter, quoting, escaping, comments and line endings.
//
// Check validates the fields of a client's typev1.Dialect; Resolve keeps the
// fields the client gave and detects the others from the first bytes of the
// file. NewDecoder and Encoding.AppendUTF8 turn the file's text into UTF-8 as
// it streams.
package dialect

import (
	"fmt"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// Limits on the fields of a dialect.
const (
	// MaxHeaderRows is the largest header_rows accepted.
	MaxHeaderRows = 10
	// MaxCommentPrefix is the longest comment_prefix accepted, in bytes.
	MaxCommentPrefix = 8
)

// The proto field names of typev1.Dialect, as listed in
// Detected.DetectedFields.
const (
	FieldDelimiter        = "delimiter"
	FieldQuoteChar        = "quote_char"
	FieldDoubleQuote      = "double_quote"
	FieldEscapeChar       = "escape_char"
	FieldHeaderRows       = "header_rows"
	FieldSkipInitialSpace = "skip_initial_space"
	FieldCommentPrefix    = "comment_prefix"
	FieldLineTerminator   = "line_terminator"
	FieldEncoding         = "encoding"
)

// fieldPrefix is the request path of the dialect in request messages.
const fieldPrefix = "dialect."

// FieldError is an invalid field of a client's dialect.
type FieldError struct {
	// Field is the request path of the field, such as "dialect.quote_char".
	Field string
	// Description says what is wrong, in a sentence that reads well alone.
	Description string
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Description)
}

// Detected is a complete dialect: the fields a client gave and those detected
// from the file.
type Detected struct {
	// Comma is the field delimiter.
	Comma byte
	// Quote is the quote character.
	Quote byte
	// Escape escapes a quote or itself inside a quoted field; 0 means none.
	Escape byte
	// DoubleQuote tells that a quote inside a quoted field is written twice.
	DoubleQuote bool
	// HeaderRows is how many rows at the top are the header.
	HeaderRows int
	// SkipInitialSpace tells that spaces after a delimiter are ignored.
	SkipInitialSpace bool
	// Comment is the prefix of comment lines; "" means none.
	Comment string
	// LineTerminator is how the first line ends: "\n", "\r\n" or "\r".
	LineTerminator string
	// Encoding is the text encoding; never UTF16 (a byte order is chosen).
	Encoding Encoding
	// DetectedFields are the proto names of the fields that were detected
	// rather than given, in proto order.
	DetectedFields []string
}

// Proto returns the dialect with every field set.
func (d Detected) Proto() *typev1.Dialect {
	dq := d.DoubleQuote
	hr := int32(d.HeaderRows)
	p := &typev1.Dialect{
		Delimiter:        string(rune(d.Comma)),
		QuoteChar:        string(rune(d.Quote)),
		DoubleQuote:      &dq,
		HeaderRows:       &hr,
		SkipInitialSpace: d.SkipInitialSpace,
		CommentPrefix:    d.Comment,
		LineTerminator:   d.LineTerminator,
		Encoding:         d.Encoding.String(),
	}
	if d.Escape != 0 {
		p.EscapeChar = string(rune(d.Escape))
	}
	return p
}

// given is a checked client dialect in usable form; zero values mean "not
// given".
type given struct {
	comma, quote, escape byte
	doubleQuote          *bool
	headerRows           *int32
	skipInitialSpace     bool
	comment              string
	lineTerminator       string
	encoding             Encoding
	hasEncoding          bool
}

// Check reports the first invalid field of a client's dialect as a
// *FieldError, in proto field order. Empty fields are valid: they are
// detected. A nil dialect is valid.
func Check(d *typev1.Dialect) error {
	_, err := parseGiven(d)
	return err
}

// parseGiven checks d and converts it.
func parseGiven(d *typev1.Dialect) (given, error) {
	var g given
	if d == nil {
		return g, nil
	}
	g.quote = '"'
	if d.QuoteChar != "" {
		c, desc := oneChar("quote_char", d.QuoteChar, `'"' or '\''`)
		if desc != "" {
			return g, fieldErr(FieldQuoteChar, desc)
		}
		g.quote = c
	}
	if d.Delimiter != "" {
		c, desc := oneChar("delimiter", d.Delimiter, `',', ';', '|' or "\t" (a tab)`)
		if desc == "" && c == g.quote {
			desc = fmt.Sprintf("delimiter must differ from the quote character %q", rune(c))
		}
		if desc != "" {
			return g, fieldErr(FieldDelimiter, desc)
		}
		g.comma = c
	}
	if d.QuoteChar == "" {
		g.quote = 0
	}
	g.doubleQuote = d.DoubleQuote
	if d.EscapeChar != "" {
		c, desc := oneChar("escape_char", d.EscapeChar, `'\\'`)
		switch {
		case desc != "":
		case c == g.comma:
			desc = fmt.Sprintf("escape_char must differ from the delimiter %q", rune(c))
		case c == orDefault(g.quote, '"'):
			desc = fmt.Sprintf("escape_char must differ from the quote character %q; set double_quote for quotes written twice", rune(c))
		}
		if desc != "" {
			return g, fieldErr(FieldEscapeChar, desc)
		}
		g.escape = c
	}
	if d.HeaderRows != nil {
		if n := *d.HeaderRows; n < 0 || n > MaxHeaderRows {
			return g, fieldErr(FieldHeaderRows, fmt.Sprintf("header_rows must be between 0 and %d, got %d", MaxHeaderRows, n))
		}
		g.headerRows = d.HeaderRows
	}
	g.skipInitialSpace = d.SkipInitialSpace
	if p := d.CommentPrefix; p != "" {
		switch {
		case len(p) > MaxCommentPrefix:
			return g, fieldErr(FieldCommentPrefix, fmt.Sprintf("comment_prefix must be 1 to %d bytes long, got %d bytes", MaxCommentPrefix, len(p)))
		case containsLineBreak(p):
			return g, fieldErr(FieldCommentPrefix, fmt.Sprintf("comment_prefix cannot contain a line break, got %q", p))
		}
		g.comment = p
	}
	if t := d.LineTerminator; t != "" {
		switch t {
		case "\n", `\n`:
			g.lineTerminator = "\n"
		case "\r\n", `\r\n`:
			g.lineTerminator = "\r\n"
		case "\r", `\r`:
			g.lineTerminator = "\r"
		default:
			return g, fieldErr(FieldLineTerminator, fmt.Sprintf(`line_terminator must be "\n", "\r\n" or "\r", got %q`, t))
		}
	}
	if d.Encoding != "" {
		e, err := ParseEncoding(d.Encoding)
		if err != nil {
			return g, fieldErr(FieldEncoding, fmt.Sprintf("encoding %q is not supported; use one of %s", d.Encoding, validEncodingNames))
		}
		g.encoding, g.hasEncoding = e, true
	}
	return g, nil
}

// oneChar parses a field that holds one ASCII character other than a line
// break; `\t` stands for a tab. It returns a description of the problem, or
// "".
func oneChar(name, s, examples string) (byte, string) {
	if s == `\t` {
		return '\t', ""
	}
	if len(s) != 1 || s[0] >= 0x80 || s[0] == 0 {
		return 0, fmt.Sprintf("%s must be one ASCII character, such as %s; got %q", name, examples, s)
	}
	if s[0] == '\r' || s[0] == '\n' {
		return 0, fmt.Sprintf("%s cannot be a line break, got %q", name, s)
	}
	return s[0], ""
}

func fieldErr(field, desc string) *FieldError {
	return &FieldError{Field: fieldPrefix + field, Description: desc}
}

func orDefault(c, def byte) byte {
	if c == 0 {
		return def
	}
	return c
}

func containsLineBreak(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			return true
		}
	}
	return false
}
