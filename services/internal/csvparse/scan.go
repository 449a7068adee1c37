package csvparse

import (
	"bytes"
	"errors"
	"strings"
)

// ErrInvalidDialect is returned by readers and splitters whose Options do
// not describe a usable dialect: a quote or escape character that is a line
// break or equal to the delimiter, an escape equal to the quote, a comment
// prefix holding a line break or longer than MaxRecordBytes, or
// SkipInitialSpace with a space as delimiter, quote or escape.
var ErrInvalidDialect = errors.New("csvparse: invalid dialect")

// dialect is the resolved, validated form of the dialect Options.
type dialect struct {
	comma, quote, escape byte
	hasEscape            bool
	doubleQuote          bool
	skipSpace            bool
	blankRows            bool
	comment              []byte
	// special marks the bytes that end a run of unquoted text: the
	// delimiter, CR, LF and the escape character.
	special [256]bool
}

// newDialect resolves the dialect options of o; maxRecord is the resolved
// MaxRecordBytes.
func newDialect(o Options, maxRecord int) (dialect, error) {
	d := dialect{
		comma:       o.Comma,
		quote:       o.Quote,
		escape:      o.Escape,
		hasEscape:   o.Escape != 0,
		doubleQuote: !o.NoDoubleQuote,
		skipSpace:   o.SkipInitialSpace,
		blankRows:   o.BlankRows,
		comment:     []byte(o.Comment),
	}
	if d.comma == 0 {
		d.comma = ','
	}
	if d.quote == 0 {
		d.quote = '"'
	}
	d.special[d.comma] = true
	d.special['\n'] = true
	d.special['\r'] = true
	if d.hasEscape {
		d.special[d.escape] = true
	}
	if d.comma == d.quote || d.comma == '\r' || d.comma == '\n' {
		return d, ErrInvalidDelimiter
	}
	switch {
	case d.quote == '\r' || d.quote == '\n',
		d.hasEscape && (d.escape == d.comma || d.escape == d.quote || d.escape == '\r' || d.escape == '\n'),
		strings.ContainsAny(o.Comment, "\r\n") || len(o.Comment) > maxRecord,
		d.skipSpace && (d.comma == ' ' || d.quote == ' ' || d.hasEscape && d.escape == ' '):
		return d, ErrInvalidDialect
	}
	return d, nil
}

// States of the record scanner. They mirror Reader.parse exactly, which the
// tests check; the scanner only finds where records end.
const (
	scRecStart   = iota // at the start of a record, blank line or comment
	scFieldStart        // at the start of a field
	scUnquoted          // in an unquoted field
	scEscU              // after an escape character in an unquoted field
	scQuoted            // in a quoted field
	scEscQ              // after an escape character in a quoted field
	scAfterQuote        // after a quote in a quoted field: closing or doubled
	scCR                // after a CR that ends a line: an LF may follow
	scComment           // in a comment line
)

// scanner follows the record structure of a byte stream, chunk by chunk,
// without splitting fields.
type scanner struct {
	d  *dialect
	st uint8
	// opened counts the quoted fields opened since the scanner was made.
	opened int
}

// scan advances over data[i:] and returns the offset just past the end of
// the current record, blank line or comment line, with done true (the state
// is then scRecStart), or len(data) with done false when data ends first.
// At a record start whose comment prefix is cut by the end of data, and
// atEOF is false, it returns i and false without consuming anything.
func (s *scanner) scan(data []byte, i int, atEOF bool) (int, bool) {
	d := s.d
	n := len(data)
	for i < n {
		c := data[i]
		switch s.st {
		case scRecStart:
			switch {
			case c == '\n':
				return i + 1, true
			case c == '\r':
				s.st = scCR
				i++
				continue
			case len(d.comment) > 0 && c == d.comment[0]:
				if n-i < len(d.comment) && !atEOF {
					return i, false
				}
				if bytes.HasPrefix(data[i:], d.comment) {
					s.st = scComment
					i += len(d.comment)
					continue
				}
			}
			s.st = scFieldStart
		case scFieldStart:
			switch {
			case c == ' ' && d.skipSpace:
				i++
			case c == d.quote:
				s.st = scQuoted
				s.opened++
				i++
			default:
				s.st = scUnquoted
			}
		case scUnquoted:
			for i < n && !d.special[data[i]] {
				i++
			}
			if i == n {
				return n, false
			}
			switch c = data[i]; {
			case c == d.comma:
				s.st = scFieldStart
			case c == '\n':
				s.st = scRecStart
				return i + 1, true
			case c == '\r':
				s.st = scCR
			default: // the escape character
				s.st = scEscU
			}
			i++
		case scEscU:
			s.st = scUnquoted
			i++
		case scQuoted:
			var k int
			if d.hasEscape {
				k = indexEither(data[i:], d.quote, d.escape)
			} else {
				k = bytes.IndexByte(data[i:], d.quote)
			}
			if k < 0 {
				return n, false
			}
			i += k
			if data[i] == d.quote {
				s.st = scAfterQuote
			} else {
				s.st = scEscQ
			}
			i++
		case scEscQ:
			s.st = scQuoted
			i++
		case scAfterQuote:
			switch {
			case c == d.quote && d.doubleQuote:
				s.st = scQuoted
				i++
			case c == d.comma:
				s.st = scFieldStart
				i++
			case c == '\n':
				s.st = scRecStart
				return i + 1, true
			case c == '\r':
				s.st = scCR
				i++
			default:
				// Text after the closing quote: the parser reports it and
				// reads the rest of the field as unquoted text.
				s.st = scUnquoted
			}
		case scCR:
			s.st = scRecStart
			if c == '\n' {
				return i + 1, true
			}
			return i, true
		case scComment:
			k := indexEither(data[i:], '\n', '\r')
			if k < 0 {
				return n, false
			}
			i += k
			if data[i] == '\n' {
				s.st = scRecStart
				return i + 1, true
			}
			s.st = scCR
			i++
		}
	}
	return n, false
}

// inQuotes reports whether the scanner is inside a quoted field.
func (s *scanner) inQuotes() bool { return s.st == scQuoted || s.st == scEscQ }

// indexEither returns the index of the first a or b in s, or -1.
func indexEither(s []byte, a, b byte) int {
	i := bytes.IndexByte(s, a)
	lim := s
	if i >= 0 {
		lim = s[:i]
	}
	if j := bytes.IndexByte(lim, b); j >= 0 {
		return j
	}
	return i
}

// countBreaks counts the line breaks (LF, CRLF or lone CR, each once) in
// seg; prevCR says whether the byte before seg was a CR. It also reports
// whether seg ends in a CR.
func countBreaks(seg []byte, prevCR bool) (n int64, lastCR bool) {
	if len(seg) == 0 {
		return 0, prevCR
	}
	n = int64(bytes.Count(seg, []byte{'\n'}))
	if prevCR && seg[0] == '\n' {
		n--
	}
	// Add the CRs not followed by an LF.
	for i := 0; ; {
		k := bytes.IndexByte(seg[i:], '\r')
		if k < 0 {
			break
		}
		i += k + 1
		if i == len(seg) || seg[i] != '\n' {
			n++
		}
	}
	return n, seg[len(seg)-1] == '\r'
}

// lastBoundary returns the offset just past the last complete record, blank
// line or comment line in data[start:], where data[start] begins a record,
// and more input follows data; it returns start if there is none. A CR at
// the very end of data is no boundary: an LF may follow it. regions is
// scratch space, returned for reuse.
func (d *dialect) lastBoundary(data []byte, start int, regions []int) (int, []int) {
	if d.hasEscape || len(d.comment) > 0 {
		return d.lastBoundaryScan(data, start), regions
	}
	return d.lastBoundaryQuotes(data, start, regions)
}

// lastBoundaryScan is lastBoundary for any dialect: it follows every record.
func (d *dialect) lastBoundaryScan(data []byte, start int) int {
	sc := scanner{d: d}
	last, i := start, start
	for {
		j, done := sc.scan(data, i, false)
		if !done {
			return last
		}
		last, i = j, j
	}
}

// lastBoundaryQuotes is lastBoundary for dialects without an escape
// character or comments. Outside quoted fields every CR and LF ends a line,
// so it only visits quote characters: a quote opens a quoted field exactly
// when it starts a field, that is when the byte before it (before any
// skipped spaces) is the delimiter, a line break or the record start; the
// next quote that is not doubled closes the field. It notes the stretches
// outside quotes and then looks for the last line break in them from the
// end, so it costs little more than finding the quotes.
func (d *dialect) lastBoundaryQuotes(data []byte, start int, regions []int) (int, []int) {
	var (
		n     = len(data)
		quote = d.quote
		a     = start // start of the current stretch outside quotes
		i     = start
	)
	regions = regions[:0]
	for {
		k := bytes.IndexByte(data[i:], quote)
		if k < 0 {
			regions = append(regions, a, n)
			break
		}
		q := i + k
		if !d.fieldStartAt(data, start, q) {
			i = q + 1 // a literal quote inside an unquoted field
			continue
		}
		regions = append(regions, a, q)
		// Find the closing quote.
		j := q + 1
		for {
			k := bytes.IndexByte(data[j:], quote)
			if k < 0 || j+k+1 == n {
				// Open (or undecided) at the end of data.
				goto last
			}
			c := j + k
			if d.doubleQuote && data[c+1] == quote {
				j = c + 2
				continue
			}
			a, i = c+1, c+1
			break
		}
	}
last:
	for k := len(regions) - 2; k >= 0; k -= 2 {
		if b := lastBreak(data, regions[k], regions[k+1]); b > 0 {
			return b, regions
		}
	}
	return start, regions
}

// fieldStartAt reports whether the quote at data[q] starts a field, given
// that data[start] starts a record and no quoted field is open before q.
func (d *dialect) fieldStartAt(data []byte, start, q int) bool {
	k := q - 1
	if d.skipSpace {
		for k >= start && data[k] == ' ' {
			k--
		}
	}
	if k < start {
		return true
	}
	c := data[k]
	return c == d.comma || c == '\n' || c == '\r'
}

// lastBreak returns the offset just past the last line break in data[a:b]
// that is known to be complete (a CR at the very end of data may be the
// first half of a CRLF), or 0 if there is none.
func lastBreak(data []byte, a, b int) int {
	seg := data[a:b]
	m := bytes.LastIndexByte(seg, '\n')
	// A CR after the last LF is a lone CR, unless it ends data.
	tail := seg[m+1:]
	r := bytes.LastIndexByte(tail, '\r')
	if r >= 0 && a+m+1+r+1 == len(data) {
		r = bytes.LastIndexByte(tail[:r], '\r')
	}
	if r >= 0 {
		m += 1 + r
	}
	if m < 0 {
		return 0
	}
	return a + m + 1
}
