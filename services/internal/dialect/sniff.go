package dialect

import (
	"bytes"

	typev1 "github.com/csvmesh/csvmesh/gen/csvmesh/type/v1"
)

// delimiterCandidates are the delimiters Resolve chooses from, in order of
// preference on a tie.
const delimiterCandidates = ",\t;|"

// Resolve completes a client's dialect: the fields given win, after Check;
// the others are detected from sample, the first bytes of the file as stored
// (atEOF tells that sample is the whole file).
//
// The encoding comes from DetectEncoding, and the sample is decoded before
// the rest is detected. The quote character is '"' unless the sample clearly
// quotes fields with an apostrophe. The escape character is '\\', and
// double_quote false, when `\"` occurs inside quoted fields and `""` does
// not. The comment prefix is '#' when the first lines start with '#' (a
// single such line with as many fields as the records that follow is a
// header, not a comment). The delimiter is the candidate among ',', '\t', ';'
// and '|' that splits the largest share of records into the same number
// (more than one) of fields, respecting quotes; on a tie the one giving more
// fields, then the earlier in that list (',' when none splits). The line
// terminator is that of the first line; header_rows is 1; skip_initial_space
// is set when every delimiter is followed by a space.
func Resolve(gd *typev1.Dialect, sample []byte, atEOF bool) (Detected, error) {
	g, err := parseGiven(gd)
	if err != nil {
		return Detected{}, err
	}
	var d Detected
	var detected []string

	d.Encoding = g.encoding
	if !g.hasEncoding {
		d.Encoding = DetectEncoding(sample, atEOF)
	}
	if d.Encoding == UTF16 {
		d.Encoding = UTF16LE
		if DetectEncoding(sample, atEOF) == UTF16BE {
			d.Encoding = UTF16BE
		}
	}
	text := decodeSample(sample, d.Encoding, atEOF)

	// Comments: assumed from the first line for now, confirmed below.
	d.Comment = g.comment
	commentGuess := g.comment == "" && firstLineIsComment(text)
	if commentGuess {
		d.Comment = "#"
	}

	// Quote and escape, judged on fields that start with a quote.
	d.Quote = g.quote
	if d.Quote == 0 {
		d.Quote = sniffQuote(text, g.comma, g.escape, d.Comment)
	}
	escCandidate := g.escape
	if escCandidate == 0 && d.Quote != '\\' && g.comma != '\\' {
		escCandidate = '\\'
	}
	var escaped bool
	if escCandidate != 0 {
		ev := quoteEvidence(text, d.Quote, escCandidate, delimiterSet(g.comma), d.Comment)
		escaped = ev.escaped > 0 && ev.doubled == 0
	}
	d.Escape = g.escape
	if d.Escape == 0 && escaped {
		d.Escape = escCandidate
	}
	d.DoubleQuote = !escaped
	if g.doubleQuote != nil {
		d.DoubleQuote = *g.doubleQuote
	}

	// Delimiter.
	d.Comma = g.comma
	if d.Comma == 0 {
		d.Comma = sniffDelimiter(text, atEOF, d)
	}

	if commentGuess && !confirmComment(text, atEOF, d) {
		d.Comment = ""
	}
	st := scan(text, atEOF, d)

	d.SkipInitialSpace = g.skipInitialSpace || (st.delims > 0 && st.spaced == st.delims)
	d.LineTerminator = g.lineTerminator
	if d.LineTerminator == "" {
		d.LineTerminator = st.firstTerm
		if d.LineTerminator == "" {
			d.LineTerminator = "\n"
		}
	}
	d.HeaderRows = 1
	if g.headerRows != nil {
		d.HeaderRows = int(*g.headerRows)
	}

	add := func(isGiven bool, name string) {
		if !isGiven {
			detected = append(detected, name)
		}
	}
	add(g.comma != 0, FieldDelimiter)
	add(g.quote != 0, FieldQuoteChar)
	add(g.doubleQuote != nil, FieldDoubleQuote)
	add(g.escape != 0, FieldEscapeChar)
	add(g.headerRows != nil, FieldHeaderRows)
	add(g.skipInitialSpace, FieldSkipInitialSpace)
	add(g.comment != "", FieldCommentPrefix)
	add(g.lineTerminator != "", FieldLineTerminator)
	add(g.hasEncoding, FieldEncoding)
	d.DetectedFields = detected
	return d, nil
}

// decodeSample returns the sample as the parser sees it: UTF-16 transcoded
// to UTF-8, and byte order marks dropped. A character cut at the end of a
// sample that is not the whole file is dropped.
func decodeSample(sample []byte, e Encoding, atEOF bool) []byte {
	switch e {
	case UTF8, UTF8BOM:
		return bytes.TrimPrefix(sample, []byte{0xEF, 0xBB, 0xBF})
	case UTF16LE, UTF16BE:
		src := bytes.TrimPrefix(sample, e.BOM())
		out, _ := appendUTF16(make([]byte, 0, len(src)*3/2+4), src, e == UTF16BE, atEOF)
		return out
	}
	return sample
}

// firstLineIsComment reports whether the first non-blank line starts with
// '#'.
func firstLineIsComment(text []byte) bool {
	t := bytes.TrimLeft(text, "\r\n")
	return len(t) > 0 && t[0] == '#'
}

// confirmComment decides whether '#' lines at the top are comments: two or
// more are, and so is one unless it splits into as many fields (more than
// one) as most records below it, which makes it a header like "#,name".
func confirmComment(text []byte, atEOF bool, d Detected) bool {
	st := scan(text, atEOF, d)
	if st.leadingComments != 1 {
		return true
	}
	t := bytes.TrimLeft(text, "\r\n")
	line := t
	if i := bytes.IndexAny(t, "\r\n"); i >= 0 {
		line = t[:i]
	}
	d.Comment = ""
	first := scan(line, true, d)
	if len(first.counts) != 1 || first.counts[0] < 2 {
		return true
	}
	freq, mode := consistency(st.counts)
	return freq == 0 || mode != first.counts[0]
}

// sniffQuote returns an apostrophe when the text clearly quotes fields with
// it (at least two such fields, and more than those quoted with '"'), else
// '"'.
func sniffQuote(text []byte, comma, escape byte, comment string) byte {
	if comma == '\'' || escape == '\'' {
		return '"'
	}
	esc := escape
	if esc == 0 {
		esc = '\\'
	}
	delims := delimiterSet(comma)
	single := quoteEvidence(text, '\'', esc, delims, comment)
	if single.fields < 2 {
		return '"'
	}
	double := quoteEvidence(text, '"', esc, delims, comment)
	if single.fields > double.fields {
		return '\''
	}
	return '"'
}

// delimiterSet returns the delimiters a field may follow: comma if known,
// else every candidate.
func delimiterSet(comma byte) *[256]bool {
	var set [256]bool
	if comma != 0 {
		set[comma] = true
		return &set
	}
	for i := 0; i < len(delimiterCandidates); i++ {
		set[delimiterCandidates[i]] = true
	}
	return &set
}

// evidence counts quoted fields and what occurs inside them.
type evidence struct {
	fields  int // fields that start and end with the quote
	escaped int // escape-quote pairs inside them
	doubled int // doubled quotes inside them
}

// quoteEvidence finds fields that start with quote (at a line start or after
// a delimiter, maybe after spaces) and end with it (before a delimiter, a
// line end or the end of the text), reading `esc quote` and `quote quote`
// inside as escaped quotes and counting both.
func quoteEvidence(text []byte, quote, esc byte, delims *[256]bool, comment string) evidence {
	var ev evidence
	fieldStart, lineStart := true, true
	for i := 0; i < len(text); {
		c := text[i]
		if lineStart && comment != "" && bytes.HasPrefix(text[i:], []byte(comment)) {
			i = lineEnd(text, i)
			continue
		}
		lineStart = false
		if fieldStart && c == ' ' {
			i++
			continue
		}
		if fieldStart && c == quote {
			j, escaped, doubled, closed := readQuoted(text, i+1, quote, esc)
			if !closed {
				break
			}
			if j == len(text) || delims[text[j]] || text[j] == '\r' || text[j] == '\n' {
				ev.fields++
				ev.escaped += escaped
				ev.doubled += doubled
			}
			i, fieldStart = j, false
			continue
		}
		fieldStart = delims[c] || c == '\r' || c == '\n'
		lineStart = c == '\r' || c == '\n'
		i++
	}
	return ev
}

// readQuoted reads a quoted field from text[i:], just after its opening
// quote, taking both `esc quote` and `quote quote` as escaped quotes. It
// returns the index after the closing quote and the counts of each.
func readQuoted(text []byte, i int, quote, esc byte) (next, escaped, doubled int, closed bool) {
	for i < len(text) {
		c := text[i]
		switch {
		case c == esc:
			if i+1 < len(text) && text[i+1] == quote {
				escaped++
			}
			i += 2
		case c == quote:
			if i+1 < len(text) && text[i+1] == quote {
				doubled++
				i += 2
				continue
			}
			return i + 1, escaped, doubled, true
		default:
			i++
		}
	}
	return len(text), escaped, doubled, false
}

// lineEnd returns the index after the line ending that ends the line
// holding text[i], or len(text).
func lineEnd(text []byte, i int) int {
	j := bytes.IndexAny(text[i:], "\r\n")
	if j < 0 {
		return len(text)
	}
	i += j
	if text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
		return i + 2
	}
	return i + 1
}

// sniffDelimiter returns the candidate delimiter that splits records most
// consistently; d gives the quoting and comments.
func sniffDelimiter(text []byte, atEOF bool, d Detected) byte {
	best, bestFreq, bestTotal, bestMode := byte(','), 0, 1, 0
	for i := 0; i < len(delimiterCandidates); i++ {
		c := delimiterCandidates[i]
		if c == d.Quote || c == d.Escape {
			continue
		}
		d.Comma = c
		st := scan(text, atEOF, d)
		freq, mode := consistency(st.counts)
		if freq == 0 {
			continue
		}
		total := len(st.counts)
		// freq/total > bestFreq/bestTotal, or equal with more fields.
		l, r := freq*bestTotal, bestFreq*total
		if l > r || (l == r && mode > bestMode) {
			best, bestFreq, bestTotal, bestMode = c, freq, total, mode
		}
	}
	return best
}

// consistency returns the most frequent field count above 1 (the larger on
// a tie) and how many records have it; 0, 0 when no record has more than one
// field.
func consistency(counts []int) (freq, mode int) {
	seen := make(map[int]int)
	for _, n := range counts {
		if n < 2 {
			continue
		}
		seen[n]++
		f := seen[n]
		if f > freq || (f == freq && n > mode) {
			freq, mode = f, n
		}
	}
	return freq, mode
}

// scanStats is what scan finds.
type scanStats struct {
	counts          []int  // fields of each record (blank lines and comments excluded)
	delims          int    // delimiters outside quotes
	spaced          int    // of which followed by a space
	firstTerm       string // the first line ending, "" if none
	leadingComments int    // comment lines before the first record
	atEOF           bool   // the text is the whole file
}

// scan splits text into records with the dialect d as csvparse would,
// leniently. Unless atEOF, a last record without a line ending is left out (it
// may be cut), except when it is the only one.
func scan(text []byte, atEOF bool, d Detected) scanStats {
	st := scanStats{atEOF: atEOF}
	comment := []byte(d.Comment)
	for i := 0; i < len(text); {
		c := text[i]
		if c == '\r' || c == '\n' {
			i = st.term(text, i)
			continue
		}
		if len(comment) > 0 && bytes.HasPrefix(text[i:], comment) {
			if len(st.counts) == 0 {
				st.leadingComments++
			}
			j := bytes.IndexAny(text[i:], "\r\n")
			if j < 0 {
				break
			}
			i = st.term(text, i+j)
			continue
		}
		fields, delims, spaced := 1, 0, 0
		closed := true
	record:
		for i < len(text) {
			// A field: maybe spaces, then a quoted part, then plain text.
			k := i
			for k < len(text) && text[k] == ' ' {
				k++
			}
			if k < len(text) && text[k] == d.Quote {
				i, closed = skipQuoted(text, k+1, d)
				if !closed {
					break record
				}
			}
			for i < len(text) && text[i] != d.Comma && text[i] != '\r' && text[i] != '\n' {
				if text[i] == d.Escape && d.Escape != 0 {
					i = min(i+2, len(text))
					continue
				}
				i++
			}
			if i < len(text) && text[i] == d.Comma {
				fields++
				delims++
				if i+1 < len(text) && text[i+1] == ' ' {
					spaced++
				}
				i++
				continue
			}
			break
		}
		terminated := closed && i < len(text)
		if !terminated && !atEOF && len(st.counts) > 0 {
			break
		}
		st.counts = append(st.counts, fields)
		st.delims += delims
		st.spaced += spaced
		if terminated {
			i = st.term(text, i)
		}
	}
	return st
}

// term consumes the line ending at text[i] and notes it if it is the first.
func (st *scanStats) term(text []byte, i int) int {
	t := "\n"
	next := i + 1
	if text[i] == '\r' {
		t = "\r"
		if i+1 < len(text) && text[i+1] == '\n' {
			t, next = "\r\n", i+2
		} else if i+1 == len(text) && !st.atEOF {
			t = "\r\n" // cut before its '\n', most likely
		}
	}
	if st.firstTerm == "" {
		st.firstTerm = t
	}
	return next
}

// skipQuoted skips a quoted field from text[i:], just after its opening
// quote, and returns the index after its closing quote.
func skipQuoted(text []byte, i int, d Detected) (int, bool) {
	for i < len(text) {
		c := text[i]
		switch {
		case c == d.Escape && d.Escape != 0:
			i = min(i+2, len(text))
		case c == d.Quote:
			if d.DoubleQuote && i+1 < len(text) && text[i+1] == d.Quote {
				i += 2
				continue
			}
			return i + 1, true
		default:
			i++
		}
	}
	return len(text), false
}
