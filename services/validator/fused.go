package validator

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"unicode/utf8"

	"github.com/csvmesh/csvmesh/services/internal/csvparse"
	"github.com/csvmesh/csvmesh/services/internal/tableschema"
)

// The fused path checks the rows of a block in one pass over its bytes, for
// the common dialect: ',' delimiter, '"' quotes, no escape, no skipped
// spaces, no comments, UTF-8, and a schema whose only missing value is "".
//
// fusedRow reads a record's values column by column, checking each against
// its field as it finds its end (tableschema.Field.Quick says how, in line,
// for text, integers, numbers and datetimes; Field.Canonical does the
// others); when every value is valid and canonical, and every quoted field
// needs its quotes, the record's text is its normalized record and is
// copied as it is (consecutive such lines in one copy).
//
// Only records with a quote can be other than a line of fields between
// commas. prepare finds them first, with where each ends (exactly as a
// csvparse Reader would), tries fusedRow on each, and copies those it
// does not take, in order, into one buffer that a Reader parses. A
// quote-free line that fusedRow does not take is split at its commas. Both
// then go to schemaRow, as a Reader's records on the general path do, so
// every row gets exactly the treatment of the general path.
//
// (While inferring, csvparse's Reader splits records about as fast as a
// split at commas would, and infer.Observe is most of the cost: blocks take
// the general path.)

// quickOp is how fusedRow reads a column.
type quickOp uint8

const (
	opCanonical quickOp = iota // find the end, then Field.Canonical
	opText                     // any text, with optional length and enum limits
	opInteger                  // tableschema.QuickInteger
	opNumber                   // tableschema.QuickNumber
	opDatetime                 // tableschema.QuickDatetime
)

// quickCol is a column as fusedRow reads it.
type quickCol struct {
	op       quickOp
	required bool
	lenCheck bool // minLen or maxLen is set
	bounded  bool // opInteger, opNumber: a bound is set
	zeroMin  bool // opNumber: Min <= 0 and Max is unset, so a value without '-' passes
	minLen   int64
	maxLen   int64
	enum     []string
	imin     int64
	imax     int64
	fmin     float64
	fmax     float64
	field    *tableschema.Field
}

// setupFused decides whether blocks take the fused path and prepares its
// columns.
func (e *engine) setupFused() {
	d := e.d
	maxFields := cmpOr(e.cfg.MaxFields, csvparse.DefaultMaxFields)
	if !e.copyRows || !e.missingEmpty || d.Quote != '"' && d.Quote != 0 || d.Escape != 0 || d.SkipInitialSpace ||
		d.Comment != "" || e.ncols > maxFields {
		return
	}
	e.fused = true
	e.lineLimit = min(cmpOr(e.cfg.MaxRecordBytes, csvparse.DefaultMaxRecordBytes), cmpOr(e.cfg.MaxFieldBytes, csvparse.DefaultMaxFieldBytes))
	e.maxFields = maxFields
	e.quick = make([]quickCol, e.ncols)
	for i := range e.quick {
		c, col := &e.quick[i], &e.cols[i]
		c.field, c.required = col.field, col.required
		q := col.field.Quick()
		switch q.Kind {
		case tableschema.QuickText:
			c.op = opText
			c.minLen, c.maxLen, c.enum = q.MinLen, q.MaxLen, q.Enum
			c.lenCheck = q.MinLen > 0 || q.MaxLen >= 0
		case tableschema.QuickInteger:
			c.op, c.imin, c.imax = opInteger, q.IntMin, q.IntMax
			c.bounded = q.IntMin != math.MinInt64 || q.IntMax != math.MaxInt64
		case tableschema.QuickDatetime:
			c.op = opDatetime
		case tableschema.QuickNumber:
			c.op, c.fmin, c.fmax = opNumber, q.Min, q.Max
			c.bounded = !math.IsInf(q.Min, -1) || !math.IsInf(q.Max, 1)
			c.zeroMin = q.Min <= 0 && math.IsInf(q.Max, 1)
		}
	}
}

// oddRec is a record with a quote: data[start:end] of its block, line
// ending included. fusedRow takes it when fused is set (text is then its
// end before the line ending); otherwise it is copied to the job's oddBuf,
// unless it is the block's unterminated last record (tail).
type oddRec struct {
	start, end int
	text       int
	fused      bool
	tail       bool
}

// scanText returns the offset of the first ',', '\n' or '\r' in data from
// p on, or len(data).
func scanText(data []byte, p int) int {
	for p+8 <= len(data) {
		v := binary.LittleEndian.Uint64(data[p:])
		if m := (hasByte(v, ','*lsb) | hasByte(v, '\n'*lsb) | hasByte(v, '\r'*lsb)) & msb; m != 0 {
			return p + bits.TrailingZeros64(m)/8
		}
		p += 8
	}
	for p < len(data) {
		if c := data[p]; c == ',' || c == '\n' || c == '\r' {
			return p
		}
		p++
	}
	return p
}

// recordEnd returns the end of the record that starts at data[p], its line
// ending included, as a csvparse Reader over data finds it in the fused
// path's dialect (dq: doubled quotes), and whether a line ending ends it.
func recordEnd(data []byte, p int, dq bool) (int, bool) {
	n := len(data)
	for {
		if p < n && data[p] == '"' {
			p++
			for {
				k := bytes.IndexByte(data[p:], '"')
				if k < 0 {
					return n, false
				}
				p += k
				if p+1 == n {
					return n, false
				}
				if dq && data[p+1] == '"' {
					p += 2
					continue
				}
				break
			}
			p++ // past the closing quote; any text up to a delimiter follows
		}
		p = scanText(data, p)
		if p == n {
			return n, false
		}
		switch data[p] {
		case ',':
			p++
		case '\n':
			return p + 1, true
		default: // '\r'
			p++
			if p < n && data[p] == '\n' {
				p++
			}
			return p, true
		}
	}
}

// prepare readies a block for processFused: it checks the block's
// encoding and finds its records that hold a quote (j.odd). Those fusedRow
// takes (valid, canonical and written as the normalized output would write
// them, without duplicate keys) are marked; the others but an unterminated
// last one are copied to j.oddBuf. It needs j.dups; with one worker it
// runs on the pipeline's dispatcher (mainStage.attach).
func (w *mainWorker) prepare(j *blockJob) {
	data := j.blk.Data
	base := w.e.blockOptions(j.blk).FirstOffset
	j.blockValid = w.e.blockValid(data)
	j.odd, j.oddBuf = j.odd[:0], j.oddBuf[:0]
	dq := w.e.d.DoubleQuote
	pos, di := 0, 0
	for pos < len(data) {
		k := bytes.IndexByte(data[pos:], '"')
		if k < 0 {
			return
		}
		q := pos + k
		// Every line before q since pos is a record of its own: the
		// record with the quote starts after the last line break.
		start := q
		for start > pos && data[start-1] != '\n' && data[start-1] != '\r' {
			start--
		}
		// The fields before the one with the quote are unquoted: the record
		// ends where it would from that field on.
		fs := q
		for fs > start && data[fs-1] != ',' {
			fs--
		}
		end, terminated := recordEnd(data, fs, dq)
		o := oddRec{start: start, end: end, tail: !terminated}
		off := base + int64(start)
		for di < len(j.dups) && j.dups[di].offset < off {
			di++
		}
		if di == len(j.dups) || j.dups[di].offset != off {
			if text, ok := w.fusedRow(data, start, true); ok && afterBreak(data, text) == end && text-start <= w.e.lineLimit &&
				(j.blockValid || utf8.Valid(data[start:text])) {
				o.fused, o.text = true, text
			}
		}
		j.odd = append(j.odd, o)
		if terminated && !o.fused {
			j.oddBuf = append(j.oddBuf, data[start:end]...)
		}
		pos = end
	}
}

// digitsEnd returns the end of the run of ASCII digits at data[p:].
func digitsEnd(data []byte, p int) int {
	for p+8 <= len(data) {
		// The first byte that is no digit is the lowest with its high bit
		// set in m: below it no byte borrows or carries.
		x := binary.LittleEndian.Uint64(data[p:]) - '0'*lsb
		if m := (x | (x + 0x76*lsb)) & msb; m != 0 {
			return p + bits.TrailingZeros64(m)/8
		}
		p += 8
	}
	for p < len(data) && data[p]-'0' <= 9 {
		p++
	}
	return p
}

// afterBreak returns the offset after the line break at data[p] (if any).
func afterBreak(data []byte, p int) int {
	if p == len(data) {
		return p
	}
	if data[p] == '\r' && p+1 < len(data) && data[p+1] == '\n' {
		return p + 2
	}
	return p + 1
}

// processFused is process for a block on the fused path.
func (w *mainWorker) processFused(j *blockJob) error {
	e := w.e
	data := j.blk.Data
	n := len(data)
	opts := e.blockOptions(j.blk)
	base, line := opts.FirstOffset, opts.FirstLine
	w.blockValid = j.blockValid
	// fusedRow takes nearly every row copyRow would.
	w.tryCopy = false
	var ord *csvparse.Reader
	if len(j.oddBuf) > 0 {
		oo := opts
		// Records keep their own line and offset: the Reader's are not used
		// (a FirstOffset > 0 also keeps it from looking for a byte order
		// mark).
		oo.FirstLine, oo.FirstOffset = 1, 1
		ord = csvparse.NewBytesReader(j.oddBuf, oo)
	}
	if w.blank == nil {
		w.blank = make([][]byte, 1)
	}
	pos, k, di := 0, 0, 0
	nextOdd := n
	if len(j.odd) > 0 {
		nextOdd = j.odd[0].start
	}
	runStart, runEnd := 0, 0 // lines copied as they are, not yet appended
	for pos < n {
		off := base + int64(pos)
		for di < len(j.dups) && j.dups[di].offset < off {
			di++
		}
		d0 := di
		for di < len(j.dups) && j.dups[di].offset == off {
			di++
		}
		dups := j.dups[d0:di]
		j.rows++
		if pos == nextOdd {
			o := j.odd[k]
			k++
			nextOdd = n
			if k < len(j.odd) {
				nextOdd = j.odd[k].start
			}
			if o.fused {
				// Its quoted fields need their quotes: the record's text is
				// its normalized form.
				j.valid++
				line += countBreaks(data[pos:o.end])
				if o.end == o.text+1 && data[o.text] == '\n' {
					if pos != runEnd {
						j.norm = append(j.norm, data[runStart:runEnd]...)
						runStart = pos
					}
					pos = o.end
					runEnd = pos
					continue
				}
				j.norm = append(j.norm, data[runStart:runEnd]...)
				runStart, runEnd = 0, 0
				j.norm = append(j.norm, data[pos:o.text]...)
				j.norm = append(j.norm, '\n')
				pos = o.end
				continue
			}
			j.norm = append(j.norm, data[runStart:runEnd]...)
			runStart, runEnd = 0, 0
			var rec *csvparse.Record
			var err error
			if o.tail {
				to := opts
				to.FirstOffset, to.FirstLine = off, line
				rec, err = csvparse.NewBytesReader(data[pos:], to).Next()
			} else {
				l0 := ord.Line()
				rec, err = ord.Next()
				if rec != nil {
					rec.Line, rec.Offset = line, off
				}
				if re, ok := err.(*csvparse.RecordError); ok {
					re.Line, re.Offset = line, off
				}
				line += ord.Line() - l0
			}
			if err == io.EOF {
				return fmt.Errorf("validator: fused path lost the record at offset %d", off)
			}
			if err := w.record(j, rec, err, dups); err != nil {
				return err
			}
			pos = o.end
			continue
		}
		if pos > nextOdd {
			return fmt.Errorf("validator: fused path passed the record at offset %d", base+int64(nextOdd))
		}
		if c := data[pos]; c == '\n' || c == '\r' {
			j.norm = append(j.norm, data[runStart:runEnd]...)
			runStart, runEnd = 0, 0
			w.rec = csvparse.Record{Fields: w.blank, Raw: data[pos:pos:pos], Line: line, Offset: off}
			w.blank[0] = w.rec.Raw
			w.schemaRow(j, &w.rec, dups)
			pos = afterBreak(data, pos)
			line++
			continue
		}
		if len(dups) == 0 {
			if end, ok := w.fusedRow(data, pos, false); ok && end-pos <= e.lineLimit && (w.blockValid || utf8.Valid(data[pos:end])) {
				j.valid++
				line++
				if end < n && data[end] == '\n' {
					// The line and its '\n' are the normalized record.
					if pos != runEnd {
						j.norm = append(j.norm, data[runStart:runEnd]...)
						runStart = pos
					}
					pos = end + 1
					runEnd = pos
					continue
				}
				j.norm = append(j.norm, data[runStart:runEnd]...)
				runStart, runEnd = 0, 0
				j.norm = append(j.norm, data[pos:end]...)
				j.norm = append(j.norm, '\n')
				pos = afterBreak(data, end)
				continue
			}
		}
		j.norm = append(j.norm, data[runStart:runEnd]...)
		runStart, runEnd = 0, 0
		var end int
		w.fields, end = splitLine(w.fields[:0], data, pos)
		next := afterBreak(data, end)
		if err := w.plainLine(j, data, pos, end, next, off, line, opts, dups); err != nil {
			return err
		}
		pos = next
		line++
	}
	j.norm = append(j.norm, data[runStart:runEnd]...)
	return nil
}

// plainLine checks the quote-free record data[pos:end] (next is past its
// line ending), whose fields are w.fields, with schemaRow, or, when a
// csvparse limit may apply, reads it with a Reader of its own.
func (w *mainWorker) plainLine(j *blockJob, data []byte, pos, end, next int, off, line int64, opts csvparse.Options, dups []taggedDup) error {
	if end-pos > w.e.lineLimit || len(w.fields) > w.e.maxFields {
		opts.FirstOffset, opts.FirstLine = off, line
		rec, err := csvparse.NewBytesReader(data[pos:next], opts).Next()
		return w.record(j, rec, err, dups)
	}
	w.rec = csvparse.Record{Fields: w.fields, Raw: data[pos:end:end], Line: line, Offset: off}
	w.schemaRow(j, &w.rec, dups)
	return nil
}

// splitLine appends the ','-separated fields of the quote-free line at
// data[p:] to fields, and returns the offset of the line's end: its first
// '\n' or '\r', or len(data).
func splitLine(fields [][]byte, data []byte, p int) ([][]byte, int) {
	s := p
	for ; p+8 <= len(data); p += 8 {
		v := binary.LittleEndian.Uint64(data[p:])
		// Exactly the bytes that are ',' get their high bit set in c; the
		// first line break, if any, in b.
		x := v ^ ','*lsb
		c := ^((x&lo7 + lo7) | x | lo7)
		b := (hasByte(v, '\n'*lsb) | hasByte(v, '\r'*lsb)) & msb
		if b != 0 {
			e := bits.TrailingZeros64(b)
			c &= 1<<e - 1
			for ; c != 0; c &= c - 1 {
				k := p + bits.TrailingZeros64(c)/8
				fields = append(fields, data[s:k:k])
				s = k + 1
			}
			p += e / 8
			return append(fields, data[s:p:p]), p
		}
		for ; c != 0; c &= c - 1 {
			k := p + bits.TrailingZeros64(c)/8
			fields = append(fields, data[s:k:k])
			s = k + 1
		}
	}
	for ; p < len(data); p++ {
		switch data[p] {
		case ',':
			fields = append(fields, data[s:p:p])
			s = p + 1
		case '\n', '\r':
			return append(fields, data[s:p:p]), p
		}
	}
	return append(fields, data[s:p:p]), p
}

// lo7 repeats 0x7f over a word.
const lo7 = 0x7f7f7f7f7f7f7f7f

// record handles a record from a Reader as process does.
func (w *mainWorker) record(j *blockJob, rec *csvparse.Record, err error, dups []taggedDup) error {
	if err != nil {
		re, ok := err.(*csvparse.RecordError)
		if !ok {
			return err
		}
		w.malformed(j, rec, re)
		return nil
	}
	w.schemaRow(j, rec, dups)
	return nil
}

// fusedRow reads the record at data[p:] column by column and reports
// whether it is a row of the schema whose values are all valid and
// canonical, none missing in a required field and not all missing, with
// nothing after the last, and whose text is its normalized form; end is
// then the offset of the record's end (before its line ending). quotes
// says the record may hold quotes: a quoted text value is then read (it
// must need its quotes), and an unquoted value with a quote fails.
func (w *mainWorker) fusedRow(data []byte, p int, quotes bool) (end int, ok bool) {
	cols := w.e.quick
	n := len(data)
	filled := false
	for i := range cols {
		c := &cols[i]
		s := p
		switch c.op {
		case opText:
			if quotes {
				if p < n && data[p] == '"' {
					if c.lenCheck || c.enum != nil {
						return 0, false
					}
					if p, ok = quotedText(data, p); !ok {
						return 0, false
					}
					break
				}
				p = scanText(data, p)
				if bytes.IndexByte(data[s:p], '"') >= 0 {
					return 0, false
				}
			} else if p+8 <= n {
				// Most values end within a word.
				v := binary.LittleEndian.Uint64(data[p:])
				if m := (hasByte(v, ','*lsb) | hasByte(v, '\n'*lsb) | hasByte(v, '\r'*lsb)) & msb; m != 0 {
					p += bits.TrailingZeros64(m) / 8
				} else {
					p = scanText(data, p+8)
				}
			} else {
				p = scanText(data, p)
			}
			if c.lenCheck && p > s {
				chars := int64(p - s)
				if c.minLen > 0 || c.maxLen >= 0 && chars > c.maxLen {
					chars = int64(utf8.RuneCount(data[s:p]))
				}
				if c.minLen >= 0 && chars < c.minLen || c.maxLen >= 0 && chars > c.maxLen {
					return 0, false
				}
			}
			if c.enum != nil && p > s && !inList(data[s:p], c.enum) {
				return 0, false
			}
		case opInteger:
			if p < n && data[p] == '-' {
				p++
			}
			d := p
			p = digitsEnd(data, p)
			if p == d {
				if p > s {
					return 0, false // a lone '-'
				}
				break // empty
			}
			if p-s > 18 || data[d] == '0' && p-s > 1 {
				return 0, false
			}
			if c.bounded {
				var u uint64
				for _, x := range data[d:p] {
					u = u*10 + uint64(x-'0')
				}
				v := int64(u)
				if d > s {
					v = -v
				}
				if v < c.imin || v > c.imax {
					return 0, false
				}
			}
		case opNumber:
			if p < n && data[p] == '-' {
				p++
			}
			d := p
			p = digitsEnd(data, p)
			if p == d {
				if p > s {
					return 0, false // a lone '-'
				}
				break // empty
			}
			if data[d] == '0' && p-d > 1 {
				return 0, false
			}
			if p < n && data[p] == '.' {
				f := p + 1
				if p = digitsEnd(data, f); p == f {
					return 0, false
				}
			}
			if c.bounded && (d > s || !c.zeroMin) {
				x := tableschema.ParseCanonicalNumber(data[s:p])
				if x < c.fmin || x > c.fmax {
					return 0, false
				}
			}
		case opDatetime:
			if p < n && data[p] != ',' && data[p] != '\n' && data[p] != '\r' {
				k := tableschema.CanonicalDatetimeLen(data[p:])
				if k == 0 {
					return 0, false
				}
				p += k
			}
		default:
			p = scanText(data, p)
			if quotes && bytes.IndexByte(data[s:p], '"') >= 0 {
				return 0, false
			}
			if p > s {
				var same bool
				if w.scratch, same = c.field.Canonical(w.scratch, data[s:p]); !same {
					return 0, false
				}
			}
		}
		if p == s {
			if c.required {
				return 0, false
			}
		} else {
			filled = true
		}
		if i < len(cols)-1 {
			if p >= n || data[p] != ',' {
				return 0, false
			}
			p++
		}
	}
	if p < n && data[p] != '\n' && data[p] != '\r' || !filled {
		return 0, false
	}
	return p, true
}

// quotedText reads the quoted field at data[p] (a '"') as fusedRow's
// dialect does, with doubled quotes, and returns the offset after its
// closing quote. ok is false unless the field is well formed and its value
// needs the quotes in the normalized output (it holds a ',', a '"', CR or
// LF), so that the field is written as it is.
func quotedText(data []byte, p int) (int, bool) {
	q := p + 1
	needs := false
	for {
		k := bytes.IndexByte(data[q:], '"')
		if k < 0 {
			return 0, false
		}
		if !needs && scanText(data[:q+k], q) < q+k {
			needs = true
		}
		q += k + 1
		if q < len(data) && data[q] == '"' {
			needs = true
			q++
			continue
		}
		return q, needs
	}
}

// inList reports whether v is one of list.
func inList(v []byte, list []string) bool {
	for _, s := range list {
		if string(v) == s {
			return true
		}
	}
	return false
}
