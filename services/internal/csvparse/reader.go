// Package csvparse reads and writes RFC 4180 CSV quickly and in bounded
// memory.
//
// Reader is a streaming tokenizer over an io.Reader. It keeps one reusable
// buffer, returns fields as byte slices into that buffer (valid until the next
// call to Next), and enforces explicit limits on the size of a record, the size
// of a field and the number of fields, so a malformed multi-gigabyte file can
// never make it grow without bound. Problems confined to one record (a stray
// quote, an over-long field, an unterminated quoted field) are reported as a
// *RecordError after the record has been consumed, so the caller can reject
// the row and carry on.
//
// The dialect is RFC 4180 with the relaxations real files need: LF, CRLF or a
// lone CR ends a record, a UTF-8 byte order mark at the start is skipped, the
// last record may lack a line ending, blank lines are skipped (as pandas does)
// while physical line numbers stay exact, and a quote inside an unquoted field
// is taken literally (like encoding/csv's LazyQuotes).
package csvparse

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// Default limits used when an Options field is zero.
const (
	// DefaultMaxRecordBytes bounds the raw size of one record (4 MiB).
	DefaultMaxRecordBytes = 4 << 20
	// DefaultMaxFieldBytes bounds the raw size of one field (1 MiB).
	DefaultMaxFieldBytes = 1 << 20
	// DefaultMaxFields bounds the number of fields in one record.
	DefaultMaxFields = 16384
	// DefaultBufferSize is the initial size of the read buffer (64 KiB).
	DefaultBufferSize = 64 << 10
	// RawPrefixBytes is how much of an over-long record Record.Raw keeps.
	RawPrefixBytes = 1024
)

// Codes of a RecordError. They double as the `code` of a csvmesh row error.
const (
	// CodeQuote is a quoting problem: text after a closing quote, or a
	// quoted field that is never closed.
	CodeQuote = "quote"
	// CodeFieldTooLong is a field larger than Options.MaxFieldBytes.
	CodeFieldTooLong = "field_too_long"
	// CodeRecordTooLong is a record larger than Options.MaxRecordBytes.
	CodeRecordTooLong = "record_too_long"
	// CodeFieldCount is a record with more than Options.MaxFields fields.
	CodeFieldCount = "field_count"
)

// RecordError is a problem confined to one record. The record has been
// consumed when it is returned; the next call to Next reads the following
// record.
type RecordError struct {
	// Line is the 1-based physical line on which the record starts.
	Line int64
	// Record is the 1-based logical record number.
	Record int64
	// Offset is the byte offset of the record's first byte.
	Offset int64
	// Column is the 1-based field the problem is in, 0 for the whole record.
	Column int
	// Code is a short machine-readable reason, one of the Code constants.
	Code string
	// Msg says what is wrong in words a person understands.
	Msg string
}

// Error implements error.
func (e *RecordError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("csvparse: line %d, column %d: %s", e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("csvparse: line %d: %s", e.Line, e.Msg)
}

// Options configures a Reader. The zero value reads comma-separated input with
// the default limits.
type Options struct {
	// Comma is the field delimiter; 0 means ','. It must not be '"', '\r' or
	// '\n'.
	Comma byte
	// MaxRecordBytes bounds the raw bytes of one record, line ending
	// excluded; 0 means DefaultMaxRecordBytes. It also bounds the buffer.
	MaxRecordBytes int
	// MaxFieldBytes bounds the bytes of one field as written, between its
	// quotes if it has any and before doubled quotes are unescaped; 0 means
	// DefaultMaxFieldBytes.
	MaxFieldBytes int
	// MaxFields bounds the fields of one record; 0 means DefaultMaxFields.
	MaxFields int
	// BufferSize is the initial read buffer size; 0 means DefaultBufferSize.
	// The buffer grows, only for records that need it, up to about
	// MaxRecordBytes.
	BufferSize int
	// FirstLine is the physical line number of the input's first byte; 0
	// means 1. Set it when the input is a shard of a larger file.
	FirstLine int64
	// FirstRecord is the logical number of the input's first record; 0 means
	// 1.
	FirstRecord int64
	// FirstOffset is the byte offset of the input's first byte in the file.
	FirstOffset int64
}

// Record is one record read by Reader.Next. It and the slices it holds are
// only valid until the next call to Next.
type Record struct {
	// Fields are the record's fields, unquoted and unescaped. It is nil when
	// Next returns a *RecordError.
	Fields [][]byte
	// Raw is the record's text as it appears in the input, line ending
	// excluded; for a record over MaxRecordBytes, only its first
	// RawPrefixBytes.
	Raw []byte
	// Line is the 1-based physical line on which the record starts.
	Line int64
	// Offset is the byte offset of the record's first byte.
	Offset int64
	// Number is the 1-based logical record number (blank lines do not count).
	Number int64
}

// ErrInvalidDelimiter is returned by NewReader-created readers whose Comma
// cannot be a delimiter.
var ErrInvalidDelimiter = errors.New(`csvparse: the delimiter must not be '"', '\r' or '\n'`)

var errBufferFull = errors.New("csvparse: buffer full")

type span struct {
	start, end int // relative to the record's start
	escaped    bool
}

// parse states
const (
	stFieldStart = iota
	stUnquoted
	stQuoted
	stAfterQuote
	stCR
)

// Reader reads records from an io.Reader. It is not safe for concurrent use.
type Reader struct {
	src    io.Reader
	buf    []byte
	pos    int   // next unread byte
	end    int   // end of buffered data
	base   int64 // input offset of buf[0]
	eof    bool
	err    error // sticky fatal error
	maxBuf int

	comma               byte
	maxRecord, maxField int
	maxFields           int
	special             [256]bool

	started  bool
	line     int64 // physical line at buf[pos] between records
	nextRec  int64 // number the next record gets
	recStart int   // start of the current record in buf

	recErr  *RecordError
	bounds  []span
	fields  [][]byte
	scratch []byte
	prefix  []byte
	rec     Record
}

// NewReader returns a Reader reading from src with the given options.
func NewReader(src io.Reader, opts Options) *Reader {
	r := &Reader{src: src}
	r.comma = opts.Comma
	if r.comma == 0 {
		r.comma = ','
	}
	if r.comma == '"' || r.comma == '\r' || r.comma == '\n' {
		r.err = ErrInvalidDelimiter
	}
	r.maxRecord = opts.MaxRecordBytes
	if r.maxRecord <= 0 {
		r.maxRecord = DefaultMaxRecordBytes
	}
	r.maxField = opts.MaxFieldBytes
	if r.maxField <= 0 {
		r.maxField = DefaultMaxFieldBytes
	}
	r.maxFields = opts.MaxFields
	if r.maxFields <= 0 {
		r.maxFields = DefaultMaxFields
	}
	size := opts.BufferSize
	if size <= 0 {
		size = DefaultBufferSize
	}
	// A record of maxRecord bytes plus a CRLF and one byte of look-ahead
	// always fits, so a full buffer means an over-long record.
	r.maxBuf = max(size, r.maxRecord+4)
	r.buf = make([]byte, min(size, r.maxBuf))
	r.line = opts.FirstLine
	if r.line <= 0 {
		r.line = 1
	}
	r.nextRec = opts.FirstRecord
	if r.nextRec <= 0 {
		r.nextRec = 1
	}
	r.base = opts.FirstOffset
	r.special[r.comma] = true
	r.special['\n'] = true
	r.special['\r'] = true
	return r
}

// InputOffset returns the offset just past the last byte consumed, counting
// from FirstOffset.
func (r *Reader) InputOffset() int64 { return r.base + int64(r.pos) }

// Line returns the physical line number the next record would start on (or,
// after blank lines, before them).
func (r *Reader) Line() int64 { return r.line }

// more reads more input into the buffer, keeping buf[keep:end]. It returns
// the number of bytes read; 0 with a nil error means end of input.
func (r *Reader) more(keep int) (int, error) {
	if r.eof {
		return 0, nil
	}
	if keep > 0 {
		copy(r.buf, r.buf[keep:r.end])
		r.end -= keep
		r.pos -= keep
		r.recStart -= keep
		r.base += int64(keep)
	}
	if r.end == len(r.buf) {
		if len(r.buf) >= r.maxBuf {
			return 0, errBufferFull
		}
		nb := make([]byte, min(2*len(r.buf), r.maxBuf))
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	for range 100 {
		n, err := r.src.Read(r.buf[r.end:])
		if n < 0 || n > len(r.buf)-r.end {
			return 0, errors.New("csvparse: invalid Read count")
		}
		r.end += n
		if err == io.EOF {
			r.eof = true
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if n > 0 {
			return n, nil
		}
	}
	return 0, io.ErrNoProgress
}

func (r *Reader) fail(err error) error {
	r.err = err
	return err
}

// Next reads the next record. It returns io.EOF at the end of the input, a
// *RecordError (with the record's position filled in) for a problem confined
// to the record, after which reading may continue, and any other error for a
// failure of the underlying reader, after which it may not.
func (r *Reader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	if !r.started {
		r.started = true
		for r.end-r.pos < 3 && !r.eof {
			r.recStart = r.pos
			if _, err := r.more(r.pos); err != nil {
				return nil, r.fail(err)
			}
		}
		if bytes.HasPrefix(r.buf[r.pos:r.end], []byte("\xef\xbb\xbf")) {
			r.pos += 3
		}
	}
	// Skip blank lines.
	for {
		if r.pos == r.end {
			r.recStart = r.pos
			n, err := r.more(r.pos)
			if err != nil {
				return nil, r.fail(err)
			}
			if n == 0 {
				return nil, io.EOF
			}
		}
		c := r.buf[r.pos]
		if c == '\n' {
			r.pos++
			r.line++
			continue
		}
		if c == '\r' {
			if r.pos+1 == r.end {
				r.recStart = r.pos
				if _, err := r.more(r.pos); err != nil {
					return nil, r.fail(err)
				}
			}
			r.pos++
			if r.pos < r.end && r.buf[r.pos] == '\n' {
				r.pos++
			}
			r.line++
			continue
		}
		break
	}
	return r.parseRecord()
}

// setErr records the record's first problem.
func (r *Reader) setErr(col int, code, msg string) {
	if r.recErr == nil {
		r.recErr = &RecordError{Column: col, Code: code, Msg: msg}
	}
}

// checkField records why field n of flen bytes cannot be kept.
func (r *Reader) checkField(n, flen int) {
	if n > r.maxFields {
		r.setErr(0, CodeFieldCount, fmt.Sprintf("the record has more than %d fields", r.maxFields))
	} else if flen > r.maxField {
		r.setErr(n, CodeFieldTooLong, fmt.Sprintf("field %d is longer than %d bytes", n, r.maxField))
	}
}

// countBreaks counts the line breaks (LF, CRLF or lone CR) in quoted text
// seg; prevCR says whether the quoted byte before seg was a CR.
func countBreaks(seg []byte, prevCR bool) (n int64, lastCR bool) {
	if len(seg) == 0 {
		return 0, prevCR
	}
	n = int64(bytes.Count(seg, []byte{'\n'}))
	if bytes.IndexByte(seg, '\r') >= 0 {
		for i, c := range seg {
			if c == '\r' {
				n++
			} else if c == '\n' && (i > 0 && seg[i-1] == '\r' || i == 0 && prevCR) {
				n--
			}
		}
	} else if prevCR && seg[0] == '\n' {
		n--
	}
	return n, seg[len(seg)-1] == '\r'
}

const (
	lsb    = 0x0101010101010101
	msb    = 0x8080808080808080
	lfMask = '\n' * lsb
	crMask = '\r' * lsb
)

func (r *Reader) parseRecord() (*Record, error) {
	r.recStart = r.pos
	r.recErr = nil
	recLine := r.line
	recOff := r.base + int64(r.pos)
	var (
		bounds     = r.bounds[:0]
		discard    bool // record over MaxRecordBytes: stop keeping its bytes
		state      = stFieldStart
		fieldStart int // relative to the record's start
		fieldEnd   int
		escaped    bool
		nfields    int
		breaks     int64 // line breaks inside quoted fields
		prevCR     bool  // the last quoted byte seen was '\r'
		quoteLine  int64
		rawEnd     int // relative end of the record's text
		terminated bool
		p          = r.pos
		rs         = r.recStart
		buf        = r.buf[:r.end]
		tbl        = &r.special
		cmask      = uint64(r.comma) * lsb
		comma      = r.comma
		maxField   = r.maxField
		maxFields  = r.maxFields
	)
loop:
	for {
		if p == len(buf) {
			keep := rs
			if discard {
				keep = p
			}
			r.pos = p
			n, err := r.more(keep)
			p, rs, buf = r.pos, r.recStart, r.buf[:r.end]
			if err == errBufferFull {
				// The record is longer than the buffer can be: keep a
				// prefix for the caller, then drop its bytes as they go.
				r.prefix = append(r.prefix[:0], buf[rs:rs+min(RawPrefixBytes, len(buf)-rs)]...)
				discard = true
				r.setErr(0, CodeRecordTooLong, fmt.Sprintf("the record is longer than %d bytes", r.maxRecord))
				continue
			}
			if err != nil {
				r.bounds = bounds
				return nil, r.fail(err)
			}
			if n > 0 {
				continue
			}
			// End of input.
			switch state {
			case stFieldStart:
				nfields++
				if nfields <= maxFields && r.recErr == nil {
					bounds = append(bounds, span{p - rs, p - rs, false})
				} else {
					r.checkField(nfields, 0)
				}
			case stUnquoted:
				nfields++
				if flen := p - rs - fieldStart; flen <= maxField && nfields <= maxFields && r.recErr == nil {
					bounds = append(bounds, span{fieldStart, p - rs, false})
				} else {
					r.checkField(nfields, flen)
				}
			case stAfterQuote:
				nfields++
				if flen := fieldEnd - fieldStart; flen <= maxField && nfields <= maxFields && r.recErr == nil {
					bounds = append(bounds, span{fieldStart, fieldEnd, escaped})
				} else {
					r.checkField(nfields, flen)
				}
			case stQuoted:
				// An unterminated quote swallowed the rest of the input;
				// that explains the record better than any other error.
				r.recErr = &RecordError{Column: nfields + 1, Code: CodeQuote,
					Msg: fmt.Sprintf("unterminated quoted field starting at line %d", quoteLine)}
			}
			if state != stCR {
				rawEnd = p - rs
			}
			break loop
		}
		switch state {
		case stFieldStart:
			if buf[p] == '"' {
				state = stQuoted
				escaped = false
				prevCR = false
				quoteLine = recLine + breaks
				p++
				fieldStart = p - rs
				continue
			}
			state = stUnquoted
			fieldStart = p - rs
			fallthrough
		case stUnquoted:
			// The hot path: unquoted fields, one after another.
			for {
				// Find the next delimiter, CR or LF eight bytes at a time:
				// a byte of v^mask is zero exactly where v holds the byte
				// the mask repeats, and the lowest bit the has-zero trick
				// sets is always exact. This loop is most of the work.
				for p+8 <= len(buf) {
					v := binary.LittleEndian.Uint64(buf[p:])
					x, y, z := v^cmask, v^lfMask, v^crMask
					if m := (((x - lsb) &^ x) | ((y - lsb) &^ y) | ((z - lsb) &^ z)) & msb; m != 0 {
						p += bits.TrailingZeros64(m) >> 3
						goto found
					}
					p += 8
				}
				for p < len(buf) && !tbl[buf[p]] {
					p++
				}
			found:
				if p == len(buf) {
					continue loop
				}
				nfields++
				if flen := p - rs - fieldStart; flen <= maxField && nfields <= maxFields && r.recErr == nil {
					bounds = append(bounds, span{fieldStart, p - rs, false})
				} else {
					r.checkField(nfields, flen)
				}
				c := buf[p]
				p++
				if c == comma {
					if p < len(buf) && buf[p] != '"' {
						fieldStart = p - rs
						continue
					}
					state = stFieldStart
					continue loop
				}
				rawEnd = p - 1 - rs
				if c == '\n' {
					terminated = true
					break loop
				}
				state = stCR
				continue loop
			}
		case stQuoted:
			k := bytes.IndexByte(buf[p:], '"')
			if k < 0 {
				n, cr := countBreaks(buf[p:], prevCR)
				breaks += n
				prevCR = cr
				p = len(buf)
				continue
			}
			n, cr := countBreaks(buf[p:p+k], prevCR)
			breaks += n
			prevCR = cr
			p += k + 1
			fieldEnd = p - 1 - rs
			state = stAfterQuote
		case stAfterQuote:
			c := buf[p]
			if c == '"' {
				escaped = true
				prevCR = false
				state = stQuoted
				p++
				continue
			}
			if c != comma && c != '\n' && c != '\r' {
				r.setErr(nfields+1, CodeQuote, fmt.Sprintf("unexpected %q after the closing quote of field %d", c, nfields+1))
				// Recover: read the rest of the field as unquoted text.
				state = stUnquoted
				continue
			}
			nfields++
			if flen := fieldEnd - fieldStart; flen <= maxField && nfields <= maxFields && r.recErr == nil {
				bounds = append(bounds, span{fieldStart, fieldEnd, escaped})
			} else {
				r.checkField(nfields, flen)
			}
			p++
			switch c {
			case comma:
				state = stFieldStart
			case '\n':
				rawEnd = p - 1 - rs
				terminated = true
				break loop
			default:
				rawEnd = p - 1 - rs
				state = stCR
			}
		case stCR:
			if buf[p] == '\n' {
				p++
			}
			break loop
		}
	}
	if state == stCR {
		terminated = true
	}
	r.bounds = bounds
	r.pos = p
	r.line = recLine + breaks
	if terminated {
		r.line++
	}
	num := r.nextRec
	r.nextRec++
	if rawEnd > r.maxRecord {
		r.setErr(0, CodeRecordTooLong, fmt.Sprintf("the record is longer than %d bytes", r.maxRecord))
	}
	rec := &r.rec
	*rec = Record{Line: recLine, Offset: recOff, Number: num}
	if discard {
		rec.Raw = r.prefix
	} else {
		rec.Raw = buf[rs : rs+rawEnd]
	}
	if e := r.recErr; e != nil {
		e.Line, e.Record, e.Offset = recLine, num, recOff
		return rec, e
	}
	fields := r.fields[:0]
	if cap(r.scratch) < rawEnd {
		r.scratch = make([]byte, 0, rawEnd)
	}
	scratch := r.scratch[:0]
	raw := buf[rs:]
	for _, b := range bounds {
		f := raw[b.start:b.end:b.end]
		if b.escaped {
			s := len(scratch)
			for {
				i := bytes.IndexByte(f, '"')
				if i < 0 {
					scratch = append(scratch, f...)
					break
				}
				scratch = append(scratch, f[:i+1]...)
				f = f[i+2:]
			}
			f = scratch[s:len(scratch):len(scratch)]
		}
		fields = append(fields, f)
	}
	r.fields, r.scratch = fields, scratch
	rec.Fields = fields
	return rec, nil
}
